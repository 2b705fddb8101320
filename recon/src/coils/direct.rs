//! Direct coil maps after McKenzie et al. (2002), as `bart caldir`: the calibration region of
//! every coil, tapered by a separable Kaiser–Bessel window (β = 4, BART's), zero padded and
//! inverse transformed, divided by the root sum of squares of those low-resolution images
//! (zero where it is zero). One FFT of the coil stack: the cheapest maps, and in 3-D the ones
//! BART's reference runs use.
//!
//! BART's window on `M` calibration samples `n = 0..M` is
//! `I0(β·sqrt(1 − (2n/M − 1)²)) / I0(β)`, zero at `n = 0` (`|n/M − ½| ≥ ½`), one for `M = 1`.
//!
//! # References
//! - McKenzie CA, Yeh EN, Ohliger MA, Price MD, Sodickson DK. Self-calibrating parallel imaging
//!   with automatic coil sensitivity extraction. Magn Reson Med 2002;47:529–538.

use rayon::prelude::*;

use super::{CoilMaps, split_coil_buffer};
use crate::backend::{Backend, C32, FftDirection};
use crate::conventions::crop_start;
use crate::error::{ReconError, Result};
use crate::nufft::bessel_i0;

const STAGE: &str = "direct maps";

/// BART's Kaiser–Bessel shape parameter of the calibration window.
const BETA: f64 = 4.0;

/// The calibration window over `m` samples (see the module docs).
fn kaiser_window(m: usize) -> Vec<f32> {
    if m == 1 {
        return vec![1.0];
    }
    let norm = bessel_i0(BETA);
    (0..m)
        .map(|n| {
            let u = n as f64 / m as f64;
            if (u - 0.5).abs() >= 0.5 {
                0.0
            } else {
                let t = 2.0 * u - 1.0;
                (bessel_i0(BETA * (1.0 - t * t).sqrt()) / norm) as f32
            }
        })
        .collect()
}

/// BART's readout position of the calibration block (`calib_readout_pos`): the first start
/// along x whose `m[2]` samples, over all coils and the central `m[0] × m[1]` phase encodes,
/// hold the most energy.
fn readout_of_most_energy(k: &[C32], nc: usize, dims: [usize; 3], m: [usize; 3]) -> usize {
    let [nz, ny, nx] = dims;
    let (z0, y0) = ((nz - m[0]) / 2, (ny - m[1]) / 2);
    let mut column = vec![0f64; nx];
    for c in 0..nc {
        for z in z0..z0 + m[0] {
            for y in y0..y0 + m[1] {
                let row = &k[((c * nz + z) * ny + y) * nx..][..nx];
                for (e, v) in column.iter_mut().zip(row) {
                    *e += f64::from(v.norm_sqr());
                }
            }
        }
    }
    let mut best = (0, f64::NEG_INFINITY);
    for r in 0..=nx - m[2] {
        let energy: f64 = column[r..r + m[2]].iter().sum();
        if energy > best.1 {
            best = (r, energy);
        }
    }
    best.0
}

/// Direct coil maps `[coil, (z,) y, x]` from k-space of the same shape: `calib` samples
/// of every spatial axis (the whole axis when it is shorter) are the calibration region, read
/// where BART's `caldir` reads it and written back at the k-space centre.
pub fn direct_maps<B: Backend>(
    be: &B,
    kspace: &B::Buf,
    shape: &[usize],
    calib: usize,
) -> Result<CoilMaps<B>> {
    let (nc, dims, npix) = split_coil_buffer(STAGE, be, kspace, shape)?;
    if calib == 0 {
        return Err(ReconError::stage(STAGE, "calibration region of size 0"));
    }
    let k = be.download(kspace);
    let [nz, ny, nx] = dims;
    let m = dims.map(|n| calib.min(n));
    // Where the block is read: BART's (n − m)/2 across, the window of most energy along the
    // readout; where it is written: the centre, n/2 − m/2.
    let read = [
        (nz - m[0]) / 2,
        (ny - m[1]) / 2,
        readout_of_most_energy(&k, nc, dims, m),
    ];
    let write = [0, 1, 2].map(|a| crop_start(dims[a], m[a]));
    let window = m.map(kaiser_window);
    let mut lowres = vec![C32::new(0.0, 0.0); nc * npix];
    lowres
        .par_chunks_mut(ny * nx)
        .enumerate()
        .for_each(|(plane, out)| {
            let (c, z) = (plane / nz, plane % nz);
            let Some(i) = z.checked_sub(write[0]).filter(|&i| i < m[0]) else {
                return;
            };
            let src_plane = (c * nz + read[0] + i) * ny * nx;
            for j in 0..m[1] {
                let wzy = window[0][i] * window[1][j];
                let src = src_plane + (read[1] + j) * nx + read[2];
                let dst = (write[1] + j) * nx + write[2];
                for ((o, &v), &wx) in out[dst..dst + m[2]]
                    .iter_mut()
                    .zip(&k[src..src + m[2]])
                    .zip(&window[2])
                {
                    *o = v * (wzy * wx);
                }
            }
        });
    drop(k);
    let mut maps = be.upload_vec(lowres);
    be.fft(
        &mut maps,
        &[nc, dims[0], dims[1], dims[2]],
        &[1, 2, 3],
        FftDirection::Inverse,
    );
    let rss = be.rss(&maps, nc);
    if !rss.iter().all(|r| r.is_finite()) || rss.iter().all(|&r| r == 0.0) {
        return Err(ReconError::stage(
            STAGE,
            "no finite signal in the calibration region",
        ));
    }
    let inverse: Vec<C32> = rss
        .iter()
        .map(|&r| C32::new(if r > 0.0 { 1.0 / r } else { 0.0 }, 0.0))
        .collect();
    be.mul_broadcast(&mut maps, &be.upload(&inverse));
    Ok(CoilMaps {
        maps,
        shape: shape.to_vec(),
        eigenvalues: rss.iter().map(|r| r * r).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::CpuBackend;

    #[test]
    fn window_is_barts_kaiser_bessel() {
        let w = kaiser_window(24);
        assert_eq!(w[0], 0.0);
        assert!((w[12] - 1.0).abs() < 1e-7, "centre {}", w[12]);
        // n = 6: I0(4·sqrt(1 − 0.25)) / I0(4) = I0(3.4641) / I0(4).
        let expected = bessel_i0(4.0 * 0.75f64.sqrt()) / bessel_i0(4.0);
        assert!((f64::from(w[6]) - expected).abs() < 1e-6);
        assert!((w[6] - w[18]).abs() < 1e-6, "symmetric about M/2");
        assert_eq!(kaiser_window(1), vec![1.0]);
    }

    #[test]
    fn maps_of_smooth_coils_have_unit_rss_and_the_coil_ratios() {
        let be = CpuBackend::new();
        // Two coils whose images are constant multiples of one smooth image: the maps are those
        // constants normalised, wherever the image is not zero.
        let (ny, nx) = (32, 24);
        let img: Vec<C32> = (0..ny * nx)
            .map(|i| {
                let (y, x) = (
                    (i / nx) as f32 / ny as f32 - 0.5,
                    (i % nx) as f32 / nx as f32 - 0.5,
                );
                C32::new((-(x * x + y * y) * 8.0).exp(), 0.0)
            })
            .collect();
        let (a, b) = (C32::new(0.6, 0.0), C32::new(0.0, 0.8));
        let mut coils: Vec<C32> = img.iter().map(|&v| v * a).collect();
        coils.extend(img.iter().map(|&v| v * b));
        let mut k = be.upload(&coils);
        be.fft(&mut k, &[2, ny, nx], &[1, 2], FftDirection::Forward);
        let maps = direct_maps(&be, &k, &[2, ny, nx], 12).unwrap();
        let m = be.download(&maps.maps);
        // The low-resolution image's own phase multiplies both maps alike.
        for i in 0..ny * nx {
            if maps.eigenvalues[i] > 1e-6 {
                let (ma, mb) = (m[i], m[ny * nx + i]);
                assert!((ma.norm() - 0.6).abs() < 1e-4, "pixel {i}: {ma}");
                assert!((mb.norm() - 0.8).abs() < 1e-4, "pixel {i}: {mb}");
                assert!((mb * ma.conj() - b * a.conj()).norm() < 1e-4, "pixel {i}");
            }
        }
        assert!(direct_maps(&be, &k, &[2, ny, nx + 1], 12).is_err());
        assert!(direct_maps(&be, &be.zeros(2 * ny * nx), &[2, ny, nx], 12).is_err());
    }
}
