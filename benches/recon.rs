//! Criterion benches of the reconstruction kernels (`accord-recon`, CPU backend) on synthetic
//! data: the modified Shepp–Logan phantom with smooth complex coil maps (Gaussians on a ring,
//! as `examples/recon_bench.rs gen` makes them). The side-by-side comparison with BART and
//! pygrappa is `benches/recon_compare.sh`.
//!
//! | group / id | one iteration |
//! |---|---|
//! | `fft2c/320x320x32` | in-place centred orthonormal 2-D FFT of 32 coil images of 320² |
//! | `sense_normal/320x320x32_R4` | `SenseOp::normal` (AᴴA: expand, FFT, mask, iFFT, combine), 32 coils, 320², R=4 + 24 ACS |
//! | `espirit/calib24_8c_192` | `espirit_from_calibration`: 24² calibration block, 8 coils, maps on 192² |
//! | `grappa/fill_R4_192x192x8` | `Grappa::fill` of R=4 k-space (32 ACS lines), weights calibrated and cached before |
//! | `grappa/calibrate_fill_R4_192x192x8` | `grappa()`: calibration + weights + fill, as the pipeline runs it per volume |

use std::f32::consts::PI;
use std::hint::black_box;

use accord_phantoms::digital::{SheppLogan2d, SheppLoganVariant};
use accord_recon::backend::{Backend, C32, CpuBackend, FftDirection};
use accord_recon::coils::{EspiritOptions, espirit_from_calibration};
use accord_recon::grappa::{Grappa, GrappaOptions, grappa};
use accord_recon::linop::{LinOp, SenseOp, SenseSampling};
use criterion::Criterion;

/// Normalised coordinate of index `i` on an axis of length `n` (`n/2` → 0).
fn coord(i: usize, n: usize) -> f32 {
    (i as f32 - (n / 2) as f32) / (n / 2) as f32
}

/// The phantom `[y, x]` and coil maps `[coil, y, x]` (the generator of `examples/recon_bench.rs`).
fn problem(n: usize, nc: usize) -> (Vec<C32>, Vec<C32>) {
    let sl = SheppLogan2d::new(SheppLoganVariant::Modified);
    let rho = sl
        .intensity(&sl.normalised_grid(&[n, n]).unwrap(), 1)
        .unwrap();
    let mut s = vec![C32::new(0.0, 0.0); nc * n * n];
    for c in 0..nc {
        let t = 2.0 * PI * c as f32 / nc as f32;
        let (cy, cx) = (1.3 * t.sin(), 1.3 * t.cos());
        for y in 0..n {
            for x in 0..n {
                let (py, px) = (coord(y, n), coord(x, n));
                let d2 = (px - cx).powi(2) + (py - cy).powi(2);
                let ph = t + 0.8 * (px * t.cos() - py * t.sin());
                s[(c * n + y) * n + x] = C32::from_polar((-d2 / 1.28).exp(), ph);
            }
        }
    }
    (rho.iter().map(|&v| C32::new(v, 0.0)).collect(), s)
}

/// Fully sampled coil k-space `[coil, y, x]`.
fn kspace(be: &CpuBackend, img: &[C32], maps: &[C32], nc: usize, n: usize) -> Vec<C32> {
    let mut k = be.zeros(maps.len());
    be.expand_coils(&mut k, &be.upload(img), &be.upload(maps));
    be.fft(&mut k, &[nc, n, n], &[1, 2], FftDirection::Forward);
    be.download(&k)
}

/// Lines kept: `y % r == 0` or inside the `acs` central lines.
fn line_mask(n: usize, r: usize, acs: usize) -> Vec<bool> {
    let lo = n / 2 - acs / 2;
    (0..n)
        .map(|y| y % r == 0 || (lo..lo + acs).contains(&y))
        .collect()
}

fn fft(c: &mut Criterion) {
    let be = CpuBackend::new();
    let (n, nc) = (320, 32);
    let (img, maps) = problem(n, nc);
    let mut x = be.zeros(maps.len());
    be.expand_coils(&mut x, &be.upload(&img), &be.upload(&maps));
    let mut g = c.benchmark_group("fft2c");
    g.sample_size(20);
    g.bench_function("320x320x32", |b| {
        b.iter(|| {
            be.fft(
                black_box(&mut x),
                &[nc, n, n],
                &[1, 2],
                FftDirection::Forward,
            )
        })
    });
    g.finish();
}

fn sense_normal(c: &mut Criterion) {
    let be = CpuBackend::new();
    let (n, nc) = (320, 32);
    let (img, maps) = problem(n, nc);
    let weights: Vec<f32> = line_mask(n, 4, 24)
        .iter()
        .flat_map(|&m| std::iter::repeat_n(if m { 1.0 } else { 0.0 }, n))
        .collect();
    let op = SenseOp::new(&be, &maps, &[nc, n, n], SenseSampling::Mask(weights)).unwrap();
    let x = be.upload(&img);
    let mut out = be.zeros(n * n);
    let mut g = c.benchmark_group("sense_normal");
    g.sample_size(10);
    g.bench_function("320x320x32_R4", |b| {
        b.iter(|| op.normal(&be, black_box(&x), &mut out))
    });
    g.finish();
}

fn espirit(c: &mut Criterion) {
    let be = CpuBackend::new();
    let (n, nc, cal) = (192, 8, 24);
    let (img, maps) = problem(n, nc);
    let k = kspace(&be, &img, &maps, nc, n);
    let lo = n / 2 - cal / 2;
    let block: Vec<C32> = (0..nc)
        .flat_map(|c| (lo..lo + cal).map(move |y| (c, y)))
        .flat_map(|(c, y)| {
            let row = (c * n + y) * n + lo;
            k[row..row + cal].to_vec()
        })
        .collect();
    let calib = be.upload(&block);
    let opts = EspiritOptions::default();
    let mut g = c.benchmark_group("espirit");
    g.sample_size(10);
    g.bench_function("calib24_8c_192", |b| {
        b.iter(|| {
            espirit_from_calibration(&be, black_box(&calib), &[nc, cal, cal], &[n, n], &opts)
                .unwrap()
        })
    });
    g.finish();
}

fn grappa_fill(c: &mut Criterion) {
    let be = CpuBackend::new();
    let (n, nc, acs) = (192, 8, 32);
    let (img, maps) = problem(n, nc);
    let full = kspace(&be, &img, &maps, nc, n);
    let mask = line_mask(n, 4, acs);
    let mut under = full.clone();
    for c in 0..nc {
        for y in (0..n).filter(|&y| !mask[y]) {
            under[(c * n + y) * n..(c * n + y + 1) * n].fill(C32::new(0.0, 0.0));
        }
    }
    let lo = n / 2 - acs / 2;
    let block: Vec<C32> = (0..nc)
        .flat_map(|c| {
            let s = (c * n + lo) * n;
            full[s..s + acs * n].to_vec()
        })
        .collect();
    let shape = [nc, n, n];
    let cshape = [nc, acs, n];
    let (k, calib) = (be.upload(&under), be.upload(&block));
    let opts = GrappaOptions::default();
    let op = Grappa::calibrate(&be, &calib, &cshape, &opts).unwrap();
    op.fill(&be, &k, &shape).unwrap(); // computes and caches the weights of every pattern
    let mut g = c.benchmark_group("grappa");
    g.sample_size(10);
    g.bench_function("fill_R4_192x192x8", |b| {
        b.iter(|| op.fill(&be, black_box(&k), &shape).unwrap())
    });
    g.bench_function("calibrate_fill_R4_192x192x8", |b| {
        b.iter(|| grappa(&be, black_box(&k), &shape, &calib, &cshape, &opts).unwrap())
    });
    g.finish();
}

/// Runs the benches with criterion's command-line configuration.
fn main() {
    let mut c = Criterion::default().configure_from_args();
    fft(&mut c);
    sense_normal(&mut c);
    espirit(&mut c);
    grappa_fill(&mut c);
    c.final_summary();
}
