//! Automatic data scaling before an iterative solve, as BART's `pics` does it, so that a
//! regularisation weight `λ` means the same in Accord as in `bart pics -R …:λ`.
//!
//! BART divides the k-space by a scale `s` read off a low-resolution image of the data
//! (`estimate_scaling` / `estimate_scaling_norm` in BART's `misc/mri.c`):
//!
//! 1. **Cartesian** ([`cartesian_calibration_scale`]): the largest centred, fully sampled
//!    block of at most 32 samples along every phase-encoding axis (grown one sample per axis in
//!    turn, like BART's `calib_geom`; 32 samples along the readout, slid to the position of
//!    highest energy), its centred inverse FFT and root sum of squares over coils, multiplied
//!    by `1 / sqrt(Π Nᵢ/cᵢ)` (grid over block size) so that it has the full image's intensity.
//! 2. **Non-Cartesian**: the magnitudes of the adjoint (gridded, coil-combined) image.
//!
//! From those magnitudes ([`scale_from_magnitudes`]): the median, the 90th percentile and the
//! maximum; `s` is the 90th percentile unless the maximum is an outlier
//! (`max − p90 ≥ 2 (p90 − median)`), then the maximum. The solver sees `y / s` and the image is
//! multiplied by `s` at the end.

use crate::backend::{Backend, C32, FftDirection};

/// Largest calibration block BART considers for its scaling, per axis.
const CALIB_MAX: usize = 32;

/// BART's scale `s` from image magnitudes (sorted in place): the 90th percentile, or the
/// maximum when it is far above it; 1 for empty or all-zero input.
pub fn scale_from_magnitudes(magnitudes: &mut [f32]) -> f32 {
    if magnitudes.is_empty() {
        return 1.0;
    }
    magnitudes.sort_by(f32::total_cmp);
    let n = magnitudes.len();
    let (median, p90, max) = (
        magnitudes[n / 2],
        magnitudes[(n * 9) / 10],
        magnitudes[n - 1],
    );
    let s = if (max - p90) < 2.0 * (p90 - median) {
        p90
    } else {
        max
    };
    if s > 0.0 && s.is_finite() { s } else { 1.0 }
}

/// The extent of the centred, fully sampled block inside `t` (`[z, y, x]`, x always sampled)
/// where `sampled(z, y)` says whether a line was acquired: grown from one sample, one axis at a
/// time in the order x, y, z, up to [`CALIB_MAX`] (BART's `calib_geom`).
fn calibration_extent(t: [usize; 3], sampled: &dyn Fn(usize, usize) -> bool) -> [usize; 3] {
    let mut c = [1usize; 3];
    let mut stop = [false; 3];
    let full = |c: &[usize; 3]| {
        let (pz, py) = ((t[0] - c[0]) / 2, (t[1] - c[1]) / 2);
        (pz..pz + c[0]).all(|z| (py..py + c[1]).all(|y| sampled(z, y)))
    };
    while !stop.iter().all(|&s| s) {
        // BART's axis order: readout, phase 1, phase 2.
        for axis in [2, 1, 0] {
            if c[axis] == t[axis] || c[axis] >= CALIB_MAX {
                stop[axis] = true;
            }
            if stop[axis] {
                continue;
            }
            c[axis] += 1;
            if !full(&c) {
                c[axis] -= 1;
                stop[axis] = true;
            }
        }
    }
    c
}

/// BART's Cartesian data scale `s` for k-space `k` `[coil, z, y, x]` (`dims` = `[z, y, x]`,
/// 1 for a missing z) whose lines `(z, y)` are acquired where `sampled[z * ny + y]`.
pub fn cartesian_calibration_scale<B: Backend>(
    be: &B,
    k: &[C32],
    n_coils: usize,
    dims: [usize; 3],
    sampled: &[bool],
) -> f32 {
    let [nz, ny, nx] = dims;
    if n_coils == 0 || k.len() != n_coils * nz * ny * nx || sampled.len() != nz * ny {
        return 1.0;
    }
    // 1. The centre of at most 32 lines along z and y (the whole readout).
    let t = [nz.min(CALIB_MAX), ny.min(CALIB_MAX), nx];
    let tpos = [(nz - t[0]) / 2, (ny - t[1]) / 2];
    let is_sampled = |z: usize, y: usize| sampled[(tpos[0] + z) * ny + tpos[1] + y];
    // 2. The fully sampled block inside it, placed along the readout where it has most energy.
    let c = calibration_extent(t, &is_sampled);
    let pos = [tpos[0] + (t[0] - c[0]) / 2, tpos[1] + (t[1] - c[1]) / 2];
    let at = |coil: usize, z: usize, y: usize, x: usize| {
        k[((coil * nz + pos[0] + z) * ny + pos[1] + y) * nx + x]
    };
    let mut column_energy = vec![0.0f64; nx];
    for coil in 0..n_coils {
        for z in 0..c[0] {
            for y in 0..c[1] {
                for (x, e) in column_energy.iter_mut().enumerate() {
                    *e += f64::from(at(coil, z, y, x).norm_sqr());
                }
            }
        }
    }
    let mut best = (0usize, 0.0f64);
    let mut window: f64 = column_energy[..c[2]].iter().sum();
    for r in 0..=nx - c[2] {
        if r > 0 {
            window += column_energy[r + c[2] - 1] - column_energy[r - 1];
        }
        if window > best.1 {
            best = (r, window);
        }
    }
    // 3. Low-resolution coil images of the block, root sum of squares, full-image intensity.
    let mut block = Vec::with_capacity(n_coils * c[0] * c[1] * c[2]);
    for coil in 0..n_coils {
        for z in 0..c[0] {
            for y in 0..c[1] {
                block.extend((0..c[2]).map(|x| at(coil, z, y, best.0 + x)));
            }
        }
    }
    let mut buf = be.upload(&block);
    be.fft(
        &mut buf,
        &[n_coils, c[0], c[1], c[2]],
        &[1, 2, 3],
        FftDirection::Inverse,
    );
    let rescale = ((nz * ny * nx) as f64 / (c[0] * c[1] * c[2]) as f64).sqrt() as f32;
    let mut mags: Vec<f32> = be
        .rss(&buf, n_coils)
        .into_iter()
        .map(|m| m / rescale)
        .collect();
    scale_from_magnitudes(&mut mags)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::CpuBackend;

    #[test]
    fn p90_unless_the_maximum_is_an_outlier() {
        // median 50, p90 90, max 99: max − p90 = 9 < 2·40 → p90.
        let mut v: Vec<f32> = (0..100).map(|i| i as f32).collect();
        assert_eq!(scale_from_magnitudes(&mut v), 90.0);
        // One huge value: max − p90 ≥ 2 (p90 − median) → max.
        let mut v: Vec<f32> = (0..100).map(|i| i as f32).collect();
        v[3] = 1000.0;
        assert_eq!(scale_from_magnitudes(&mut v), 1000.0);
        assert_eq!(scale_from_magnitudes(&mut []), 1.0);
        assert_eq!(scale_from_magnitudes(&mut [0.0, 0.0]), 1.0);
    }

    #[test]
    fn calibration_block_is_the_centred_fully_sampled_region() {
        // 64 lines, every 4th sampled plus the central 24 (20..44): block 24 lines, x 32.
        let sampled = |_z: usize, y: usize| y % 4 == 0 || (20..44).contains(&y);
        let t = [1, 32, 128];
        let c = calibration_extent(t, &|z, y| sampled(z, y + 16));
        assert_eq!(c, [1, 24, 32]);
        // Fully sampled: limited to 32 along every axis.
        assert_eq!(calibration_extent([40, 40, 40], &|_, _| true), [32, 32, 32]);
    }

    #[test]
    fn constant_image_scales_to_its_intensity() {
        // A constant image of value 2 in one coil: k-space is a single centred sample of
        // 2·sqrt(N); the low-resolution image of the block, rescaled, is 2 everywhere.
        let be = CpuBackend::new();
        let (ny, nx) = (64, 48);
        let mut k = vec![C32::new(0.0, 0.0); ny * nx];
        k[(ny / 2) * nx + nx / 2] = C32::new(2.0 * ((ny * nx) as f32).sqrt(), 0.0);
        let s = cartesian_calibration_scale(&be, &k, 1, [1, ny, nx], &vec![true; ny]);
        assert!((s - 2.0).abs() < 1e-4, "scale {s}");
    }
}
