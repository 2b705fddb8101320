//! Coil maps (ESPIRiT, Walsh) and GRAPPA on synthetic multi-coil data with known maps.
//!
//! The object is a few ellipses on a 128×128 grid, the 8 coil maps smooth Gaussians around a
//! ring with a smooth phase, normalised so that `Σ_c |S_c|² = 1` everywhere; k-space is the
//! centred orthonormal FFT of `S·x`.

use accord_recon::ReconError;
use accord_recon::backend::{Backend, C32, CpuBackend, FftDirection};
use accord_recon::coils::{
    EspiritOptions, PhaseReference, WalshOptions, espirit, lowres_coil_images, walsh,
};
use accord_recon::grappa::{CalibWindows, Grappa, GrappaOptions, extract_acs, grappa};

const N: usize = 128;
const NC: usize = 8;

/// Ellipses `(cx, cy, a, b, angle_deg, value)` in coordinates `[-1, 1)`; values add.
const ELLIPSES: [(f32, f32, f32, f32, f32, f32); 6] = [
    (0.0, 0.0, 0.69, 0.92, 0.0, 1.0),
    (0.0, -0.02, 0.66, 0.87, 0.0, -0.6),
    (0.22, 0.0, 0.11, 0.31, -18.0, -0.2),
    (-0.22, 0.0, 0.16, 0.41, 18.0, -0.2),
    (0.0, 0.35, 0.21, 0.25, 0.0, 0.3),
    (-0.08, -0.6, 0.05, 0.03, 0.0, 0.4),
];

/// Normalised coordinate of index `i` on an axis of length `n` (`n/2` → 0).
fn coord(i: usize, n: usize) -> f32 {
    (i as f32 - (n / 2) as f32) / (n / 2) as f32
}

fn phantom(ny: usize, nx: usize) -> Vec<f32> {
    let mut img = vec![0.0f32; ny * nx];
    for y in 0..ny {
        for x in 0..nx {
            let (py, px) = (coord(y, ny), coord(x, nx));
            for &(cx, cy, a, b, ang, v) in &ELLIPSES {
                let (s, c) = ang.to_radians().sin_cos();
                let (dx, dy) = (px - cx, py - cy);
                let (u, w) = (c * dx + s * dy, -s * dx + c * dy);
                if (u / a).powi(2) + (w / b).powi(2) <= 1.0 {
                    img[y * nx + x] += v;
                }
            }
        }
    }
    img
}

/// Coil maps `[coil, z, y, x]` (z = 1 in 2-D): Gaussians centred on a ring of radius 1.1
/// (coils alternate between z = ±0.7 in 3-D) with a smooth linear phase, normalised to
/// `Σ|S|² = 1`.
fn coil_maps(nz: usize, ny: usize, nx: usize) -> Vec<C32> {
    let npix = nz * ny * nx;
    let mut s = vec![C32::new(0.0, 0.0); NC * npix];
    for c in 0..NC {
        let t = 2.0 * std::f32::consts::PI * c as f32 / NC as f32;
        let (cy, cx) = (1.1 * t.sin(), 1.1 * t.cos());
        let cz = if nz > 1 {
            if c % 2 == 0 { 0.7 } else { -0.7 }
        } else {
            0.0
        };
        for z in 0..nz {
            let pz = if nz > 1 { coord(z, nz) } else { 0.0 };
            for y in 0..ny {
                for x in 0..nx {
                    let (py, px) = (coord(y, ny), coord(x, nx));
                    let d2 = (px - cx).powi(2) + (py - cy).powi(2) + (pz - cz).powi(2);
                    let mag = (-d2 / (2.0 * 0.6f32.powi(2))).exp();
                    let ph = t + 0.8 * (px * t.cos() - py * t.sin()) + 0.3 * pz;
                    s[c * npix + (z * ny + y) * nx + x] = C32::from_polar(mag, ph);
                }
            }
        }
    }
    for i in 0..npix {
        let n: f32 = (0..NC)
            .map(|c| s[c * npix + i].norm_sqr())
            .sum::<f32>()
            .sqrt();
        for c in 0..NC {
            s[c * npix + i] /= n;
        }
    }
    s
}

/// Fully sampled k-space `[coil, (z,) y, x]` of `S·x`.
fn kspace(be: &CpuBackend, maps: &[C32], img: &[f32], shape: &[usize]) -> Vec<C32> {
    let img: Vec<C32> = img.iter().map(|&v| C32::new(v, 0.0)).collect();
    let mut k = be.zeros(maps.len());
    be.expand_coils(&mut k, &be.upload(&img), &be.upload(maps));
    let axes: Vec<usize> = (1..shape.len()).collect();
    be.fft(&mut k, shape, &axes, FftDirection::Forward);
    be.download(&k)
}

/// Mean over object pixels of `‖(I − ŝŝᴴ) s‖ / ‖s‖` (`ŝ` normalised where non-zero).
fn projection_error(truth: &[C32], est: &[C32], object: &[bool]) -> f64 {
    let npix = object.len();
    let (mut sum, mut n) = (0.0f64, 0usize);
    for i in (0..npix).filter(|&i| object[i]) {
        let s: Vec<C32> = (0..NC).map(|c| truth[c * npix + i]).collect();
        let mut e: Vec<C32> = (0..NC).map(|c| est[c * npix + i]).collect();
        let en = e.iter().map(|v| v.norm_sqr()).sum::<f32>().sqrt();
        if en > 0.0 {
            e.iter_mut().for_each(|v| *v /= en);
        }
        let p: C32 = e.iter().zip(&s).map(|(a, b)| a.conj() * b).sum();
        let r: f32 = s
            .iter()
            .zip(&e)
            .map(|(sv, ev)| (sv - ev * p).norm_sqr())
            .sum::<f32>()
            .sqrt();
        let sn = s.iter().map(|v| v.norm_sqr()).sum::<f32>().sqrt();
        sum += f64::from(r / sn);
        n += 1;
    }
    sum / n as f64
}

fn object_mask(img: &[f32]) -> Vec<bool> {
    img.iter().map(|&v| v > 0.05).collect()
}

#[test]
fn espirit_recovers_the_true_maps_up_to_phase() {
    let be = CpuBackend::new();
    let img = phantom(N, N);
    let maps = coil_maps(1, N, N);
    let shape = [NC, N, N];
    let k = be.upload(&kspace(&be, &maps, &img, &shape));
    let opts = EspiritOptions {
        calib: 24,
        ..EspiritOptions::default()
    };
    let est = espirit(&be, &k, &shape, &opts).unwrap();
    assert_eq!(est.shape, shape.to_vec());
    let object = object_mask(&img);
    let err = projection_error(&maps, &be.download(&est.maps), &object);
    println!("ESPIRiT projection error over the object: {err:.4}");
    // Measured 0.0072 (the task's bound is 0.05).
    assert!(err < 0.02, "ESPIRiT projection error {err}");
    // Eigenvalues ≈ 1 inside the object; maps unit norm there, zero where cropped.
    let npix = N * N;
    let inside: Vec<f32> = (0..npix)
        .filter(|&i| object[i])
        .map(|i| est.eigenvalues[i])
        .collect();
    let mean_ev = inside.iter().sum::<f32>() / inside.len() as f32;
    println!("mean eigenvalue over the object: {mean_ev:.4}");
    assert!((mean_ev - 1.0).abs() < 0.05, "mean eigenvalue {mean_ev}");
    let m = be.download(&est.maps);
    for i in 0..npix {
        let n: f32 = (0..NC).map(|c| m[c * npix + i].norm_sqr()).sum();
        if est.eigenvalues[i] > opts.crop {
            assert!((n - 1.0).abs() < 1e-3, "pixel {i}: Σ|S|² = {n}");
        } else {
            assert_eq!(n, 0.0, "pixel {i} below the crop threshold has a map");
        }
    }
}

#[test]
fn espirit_phase_reference_coil_is_real() {
    let be = CpuBackend::new();
    let img = phantom(64, 64);
    let maps = coil_maps(1, 64, 64);
    let shape = [NC, 64, 64];
    let k = be.upload(&kspace(&be, &maps, &img, &shape));
    let opts = EspiritOptions {
        calib: 20,
        phase: PhaseReference::Coil(3),
        ..EspiritOptions::default()
    };
    let est = espirit(&be, &k, &shape, &opts).unwrap();
    let m = be.download(&est.maps);
    let npix = 64 * 64;
    let worst = (0..npix)
        .map(|i| m[3 * npix + i])
        .filter(|v| v.norm() > 1e-3)
        .map(|v| v.arg().abs())
        .fold(0.0f32, f32::max);
    assert!(worst < 1e-4, "reference coil phase up to {worst} rad");
}

#[test]
fn espirit_calibration_larger_than_the_grid_is_an_error() {
    let be = CpuBackend::new();
    let shape = [NC, 32, 32];
    let k = be.upload(&vec![C32::new(1.0, 0.0); NC * 32 * 32]);
    let opts = EspiritOptions {
        calib: 40,
        ..EspiritOptions::default()
    };
    match espirit(&be, &k, &shape, &opts) {
        Err(ReconError::Stage { stage, what }) => {
            assert_eq!(stage, "espirit");
            assert!(what.contains("40×40") && what.contains("32×32"), "{what}");
        }
        other => panic!("expected a stage error, got {other:?}"),
    }
    // A calibration region smaller than the kernel is an error as well.
    let opts = EspiritOptions {
        calib: 4,
        ..EspiritOptions::default()
    };
    assert!(matches!(
        espirit(&be, &k, &shape, &opts),
        Err(ReconError::Stage { .. })
    ));
}

#[test]
fn walsh_maps_match_the_true_maps_up_to_phase() {
    let be = CpuBackend::new();
    let img = phantom(N, N);
    let maps = coil_maps(1, N, N);
    let shape = [NC, N, N];
    let k = be.upload(&kspace(&be, &maps, &img, &shape));
    let low = lowres_coil_images(&be, &k, &shape, 32).unwrap();
    let est = walsh(&be, &low, &shape, &WalshOptions::default()).unwrap();
    let err = projection_error(&maps, &be.download(&est.maps), &object_mask(&img));
    println!("Walsh projection error over the object: {err:.4}");
    // Measured 0.0137 (the task's bound is 0.1).
    assert!(err < 0.04, "Walsh projection error {err}");
}

/// Root sum of squares of the inverse FFT of k-space `[coil, (z,) y, x]`.
fn rss_image(be: &CpuBackend, k: &[C32], shape: &[usize]) -> Vec<f32> {
    let mut buf = be.upload(k);
    let axes: Vec<usize> = (1..shape.len()).collect();
    be.fft(&mut buf, shape, &axes, FftDirection::Inverse);
    be.rss(&buf, shape[0])
}

fn nrmse(a: &[f32], b: &[f32]) -> f64 {
    let num: f64 = a.iter().zip(b).map(|(x, y)| f64::from(x - y).powi(2)).sum();
    let den: f64 = b.iter().map(|y| f64::from(*y).powi(2)).sum();
    (num / den).sqrt()
}

/// Undersamples `[coil, ny, nx]` k-space along ky: every `r`-th line starting at `shift`,
/// plus `acs` lines around the centre.
fn undersample_2d(k: &[C32], ny: usize, nx: usize, r: usize, shift: usize, acs: usize) -> Vec<C32> {
    let mut out = k.to_vec();
    let a0 = ny / 2 - acs / 2;
    for c in 0..NC {
        for y in 0..ny {
            let keep = y % r == shift || (a0..a0 + acs).contains(&y);
            if !keep {
                out[(c * ny + y) * nx..(c * ny + y + 1) * nx].fill(C32::new(0.0, 0.0));
            }
        }
    }
    out
}

fn grappa_2d_nrmse(r: usize, acs: usize) -> (f64, f64, usize) {
    let be = CpuBackend::new();
    let img = phantom(N, N);
    let maps = coil_maps(1, N, N);
    let shape = [NC, N, N];
    let full = kspace(&be, &maps, &img, &shape);
    let under = undersample_2d(&full, N, N, r, 0, acs);
    let under_buf = be.upload(&under);
    let (calib, cshape) = extract_acs(&be, &under_buf, &shape).unwrap();
    // The ACS block plus, at most, the undersampled line next to each side.
    assert!(cshape[0] == NC && (acs..=acs + 2).contains(&cshape[1]) && cshape[2] == N);
    let filled = be.download(
        &grappa(
            &be,
            &under_buf,
            &shape,
            &calib,
            &cshape,
            &GrappaOptions::default(),
        )
        .unwrap(),
    );
    // Acquired samples are kept bit for bit.
    for (f, u) in filled.iter().zip(&under) {
        if *u != C32::new(0.0, 0.0) {
            assert_eq!(f, u);
        }
    }
    let truth = rss_image(&be, &full, &shape);
    let g = nrmse(&rss_image(&be, &filled, &shape), &truth);
    let zf = nrmse(&rss_image(&be, &under, &shape), &truth);
    let patterns = Grappa::calibrate(&be, &calib, &cshape, &GrappaOptions::default())
        .map(|gr| {
            gr.fill_host(&mut under.clone(), &shape).unwrap();
            gr.patterns()
        })
        .unwrap();
    (g, zf, patterns)
}

#[test]
fn grappa_r2_24_acs_lines() {
    let (g, zf, patterns) = grappa_2d_nrmse(2, 24);
    println!("R=2, 24 ACS: GRAPPA RSS NRMSE {g:.4}, zero-filled {zf:.4}, {patterns} patterns");
    // Measured 0.0034 vs zero-filled 0.155.
    assert!(g < 0.01, "GRAPPA NRMSE {g}");
    assert!(g < 0.1 * zf, "GRAPPA {g} vs zero-filled {zf}");
}

#[test]
fn grappa_r4_32_acs_lines() {
    let (g, zf, patterns) = grappa_2d_nrmse(4, 32);
    println!("R=4, 32 ACS: GRAPPA RSS NRMSE {g:.4}, zero-filled {zf:.4}, {patterns} patterns");
    // Measured 0.039 vs zero-filled 0.184.
    assert!(g < 0.06, "GRAPPA NRMSE {g}");
    assert!(g < 0.4 * zf, "GRAPPA {g} vs zero-filled {zf}");
}

#[test]
fn grappa_weights_are_shared_by_shifted_frames() {
    // Interleaved acquisition (like the reference sl_r2): frame 1 samples the other lines;
    // one calibration fills both, and the second frame adds only its own patterns.
    let be = CpuBackend::new();
    let (ny, nx) = (64, 64);
    let img = phantom(ny, nx);
    let maps = coil_maps(1, ny, nx);
    let shape = [NC, ny, nx];
    let full = kspace(&be, &maps, &img, &shape);
    let f0 = undersample_2d(&full, ny, nx, 2, 0, 20);
    let (calib, cshape) = extract_acs(&be, &be.upload(&f0), &shape).unwrap();
    let opts = GrappaOptions {
        calib_windows: CalibWindows::Inside,
        ..GrappaOptions::default()
    };
    let gr = Grappa::calibrate(&be, &calib, &cshape, &opts).unwrap();
    let truth = rss_image(&be, &full, &shape);
    let mut errs = Vec::new();
    let mut counts = Vec::new();
    for shift in 0..2 {
        let mut f = undersample_2d(&full, ny, nx, 2, shift, 20);
        let holes = gr.fill_host(&mut f, &shape).unwrap();
        assert_eq!(holes, (ny - 20) / 2 * nx);
        errs.push(nrmse(&rss_image(&be, &f, &shape), &truth));
        counts.push(gr.patterns());
    }
    println!("shifted frames: NRMSE {errs:?}, patterns after each {counts:?}");
    assert!(errs.iter().all(|&e| e < 0.05), "{errs:?}");
    assert!(counts[1] >= counts[0]);
}

#[test]
fn grappa_3d_ry2_rz2() {
    let be = CpuBackend::new();
    let (nz, ny, nx) = (24, 24, 24);
    let npix = nz * ny * nx;
    // A 3-D ellipsoid phantom with an inner structure.
    let mut img = vec![0.0f32; npix];
    for z in 0..nz {
        for y in 0..ny {
            for x in 0..nx {
                let (pz, py, px) = (coord(z, nz), coord(y, ny), coord(x, nx));
                let r = (px / 0.7).powi(2) + (py / 0.85).powi(2) + (pz / 0.75).powi(2);
                let inner = ((px - 0.2) / 0.2).powi(2) + (py / 0.3).powi(2) + (pz / 0.3).powi(2);
                img[(z * ny + y) * nx + x] =
                    if r <= 1.0 { 1.0 } else { 0.0 } + if inner <= 1.0 { 0.5 } else { 0.0 };
            }
        }
    }
    let maps = coil_maps(nz, ny, nx);
    let shape = [NC, nz, ny, nx];
    let full = kspace(&be, &maps, &img, &shape);
    let acs = 10;
    let a0 = (ny / 2 - acs / 2, nz / 2 - acs / 2);
    let mut under = full.clone();
    for c in 0..NC {
        for z in 0..nz {
            for y in 0..ny {
                let in_acs = (a0.0..a0.0 + acs).contains(&y) && (a0.1..a0.1 + acs).contains(&z);
                if !(in_acs || (y % 2 == 0 && z % 2 == 0)) {
                    let b = ((c * nz + z) * ny + y) * nx;
                    under[b..b + nx].fill(C32::new(0.0, 0.0));
                }
            }
        }
    }
    let ub = be.upload(&under);
    let (calib, cshape) = extract_acs(&be, &ub, &shape).unwrap();
    assert_eq!(cshape, vec![NC, acs, acs, nx], "ACS block");
    let opts = GrappaOptions {
        kernel: vec![3, 3, 3],
        ..GrappaOptions::default()
    };
    let filled = be.download(&grappa(&be, &ub, &shape, &calib, &cshape, &opts).unwrap());
    let truth = rss_image(&be, &full, &shape);
    let g = nrmse(&rss_image(&be, &filled, &shape), &truth);
    let zf = nrmse(&rss_image(&be, &under, &shape), &truth);
    println!("3-D Ry=2 x Rz=2, 10x10 ACS: GRAPPA RSS NRMSE {g:.4}, zero-filled {zf:.4}");
    // Measured 0.047 vs zero-filled 0.181.
    assert!(g < 0.4 * zf, "GRAPPA {g} vs zero-filled {zf}");
    assert!(g < 0.07, "GRAPPA NRMSE {g}");
}

#[test]
fn grappa_with_too_few_acs_lines_is_a_stage_error() {
    let be = CpuBackend::new();
    let cshape = [NC, 4, 64];
    let calib = be.upload(&vec![C32::new(1.0, 0.5); NC * 4 * 64]);
    match Grappa::calibrate(&be, &calib, &cshape, &GrappaOptions::default()) {
        Err(ReconError::Stage { stage, what }) => {
            assert_eq!(stage, "grappa");
            assert!(what.contains("4×64") && what.contains("5×5"), "{what}");
        }
        other => panic!("expected a stage error, got {other:?}"),
    }
    // A kernel of the wrong rank is a configuration error.
    let opts = GrappaOptions {
        kernel: vec![3, 3, 3],
        ..GrappaOptions::default()
    };
    assert!(matches!(
        Grappa::calibrate(&be, &calib, &cshape, &opts),
        Err(ReconError::Config { .. })
    ));
    // No centre line: extract_acs reports it.
    let k = be.zeros(NC * 16 * 16);
    assert!(matches!(
        extract_acs(&be, &k, &[NC, 16, 16]),
        Err(ReconError::Stage { .. })
    ));
}

/// Direct maps against `bart caldir 10` on the same k-space (tests/data/recon/direct_k.npy,
/// 4 coils × [16, 24, 20], fully sampled, noise σ = 0.002; tests/data/README.md).
#[test]
fn direct_maps_equal_bart_caldir() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/recon");
    let (shape, k) = accord_recon::io::npy::read_npy_c64(root.join("direct_k.npy")).unwrap();
    let (bshape, bart) =
        accord_recon::io::npy::read_npy_c64(root.join("direct_caldir10.npy")).unwrap();
    assert_eq!(shape, vec![4, 16, 24, 20]);
    assert_eq!(bshape, shape);
    let be = CpuBackend::new();
    let maps = accord_recon::coils::direct_maps(&be, &be.upload(&k), &shape, 10).unwrap();
    let ours = be.download(&maps.maps);
    let diff: Vec<f32> = ours
        .iter()
        .zip(&bart)
        .map(|(a, b)| (a - b).norm())
        .collect();
    let worst = diff.iter().copied().fold(0.0f32, f32::max);
    let mean = diff.iter().map(|&d| f64::from(d)).sum::<f64>() / diff.len() as f64;
    eprintln!("direct maps vs bart caldir: |difference| mean {mean:.1e}, max {worst:.1e}");
    // Single-precision FFTs on both sides; the largest differences sit where the RSS that
    // divides the maps is smallest (the edge of the field of view).
    assert!(mean < 2e-5, "mean |difference| {mean}");
    assert!(worst < 1e-3, "max |difference| {worst}");
}
