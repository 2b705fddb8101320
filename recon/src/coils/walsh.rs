//! Adaptive coil maps after Walsh et al. (2000) in the form of Inati et al. (2014): from
//! (low-resolution) coil images `m(r)`, the coil covariance `R(r) = Σ_{r' ∈ window(r)} m(r')
//! m(r')ᴴ` over a smoothing window, whose dominant eigenvector is the map at `r` (unit norm
//! over coils), phase fixed by a [`PhaseReference`] (default: the strongest coil, Inati's
//! choice). [`lowres_coil_images`] makes the input from the k-space centre.
//!
//! The window sums are separable box filters of the `nc(nc+1)/2` covariance planes (held in
//! single precision: `nc(nc+1)/2 · pixels` complex values); the per-pixel eigenproblems run on
//! the host (rayon), the FFTs on the backend.
//!
//! # References
//! - Walsh DO, Gmitro AF, Marcellin MW. Adaptive reconstruction of phased array MR imagery.
//!   Magn Reson Med 2000;43:682–690.
//! - Inati SJ, Hansen MS, Kellman P. A fast optimal method for coil sensitivity estimation and
//!   adaptive coil combination for complex images. ISMRM 2014, p. 4407.

use rayon::prelude::*;

use super::{
    CoilMaps, PhaseReference, dominant_per_pixel, inverse_fft_spatial, normalise_phase, split_shape,
};
use crate::backend::{Backend, C32, C64};
use crate::conventions::crop_start;
use crate::error::{ReconError, Result};

/// Walsh / Inati parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WalshOptions {
    /// Smoothing window size along every spatial axis longer than one (pixels; window
    /// `[i − w/2, i − w/2 + w)`, clipped at the edges).
    pub window: usize,
    /// How the per-pixel phase is fixed.
    pub phase: PhaseReference,
}

impl Default for WalshOptions {
    fn default() -> Self {
        WalshOptions {
            window: 7,
            phase: PhaseReference::Strongest,
        }
    }
}

const STAGE: &str = "walsh";

/// Low-resolution coil images `[coil, (z,) y, x]` from k-space of the same shape: the
/// central `calib` samples of every spatial axis longer than one, tapered by a Hann window,
/// zero padded and inverse transformed (centred orthonormal FFT).
pub fn lowres_coil_images<B: Backend>(
    be: &B,
    kspace: &B::Buf,
    shape: &[usize],
    calib: usize,
) -> Result<B::Buf> {
    let (nc, dims) = split_shape(STAGE, shape)?;
    let npix: usize = dims.iter().product();
    if be.len(kspace) != nc * npix {
        return Err(ReconError::shape(
            STAGE,
            format!("{} samples for shape {shape:?}", be.len(kspace)),
        ));
    }
    if calib == 0 || dims.iter().any(|&n| n > 1 && calib > n) {
        return Err(ReconError::stage(
            STAGE,
            format!(
                "low-resolution region {calib} does not fit the grid {:?}",
                &shape[1..]
            ),
        ));
    }
    // Separable Hann taper over the central block, zero outside.
    let taper: Vec<Vec<f32>> = dims
        .iter()
        .map(|&n| {
            let mut w = vec![0.0f32; n];
            if n == 1 {
                w[0] = 1.0;
            } else {
                let s = crop_start(n, calib);
                for (i, wi) in w[s..s + calib].iter_mut().enumerate() {
                    let t = 2.0 * std::f32::consts::PI * (i + 1) as f32 / (calib + 1) as f32;
                    *wi = 0.5 * (1.0 - t.cos());
                }
            }
            w
        })
        .collect();
    let mut weights = vec![0.0f32; nc * npix];
    weights
        .par_chunks_mut(dims[2])
        .enumerate()
        .for_each(|(row, line)| {
            let (z, y) = ((row / dims[1]) % dims[0], row % dims[1]);
            let wzy = taper[0][z] * taper[1][y];
            for (x, v) in line.iter_mut().enumerate() {
                *v = wzy * taper[2][x];
            }
        });
    let mut host = be.download(kspace);
    host.par_iter_mut()
        .zip(weights.par_iter())
        .for_each(|(v, &w)| *v *= w);
    Ok(be.upload(&inverse_fft_spatial(be, &host, nc, dims, 1.0)))
}

/// Separable box sum of window `w` along `axis` of a `[z, y, x]` plane.
fn box_sum(plane: &mut [C32], dims: [usize; 3], axis: usize, w: usize) {
    let n = dims[axis];
    if n == 1 || w <= 1 {
        return;
    }
    let stride: usize = dims[axis + 1..].iter().product();
    let outer: usize = dims[..axis].iter().product();
    let half = w / 2;
    let mut prefix = vec![C64::new(0.0, 0.0); n + 1];
    for o in 0..outer {
        for j in 0..stride {
            let base = o * n * stride + j;
            for i in 0..n {
                let v = plane[base + i * stride];
                prefix[i + 1] = prefix[i] + C64::new(f64::from(v.re), f64::from(v.im));
            }
            for i in 0..n {
                let lo = i.saturating_sub(half);
                let hi = (i + w - half).min(n);
                let s = prefix[hi] - prefix[lo];
                plane[base + i * stride] = C32::new(s.re as f32, s.im as f32);
            }
        }
    }
}

/// Walsh / Inati maps from coil images `[coil, (z,) y, x]` (typically low resolution, see
/// [`lowres_coil_images`]); the eigenvalues are the dominant eigenvalues of the windowed
/// covariance.
pub fn walsh<B: Backend>(
    be: &B,
    images: &B::Buf,
    shape: &[usize],
    opts: &WalshOptions,
) -> Result<CoilMaps<B>> {
    let (nc, dims) = split_shape(STAGE, shape)?;
    let npix: usize = dims.iter().product();
    if be.len(images) != nc * npix {
        return Err(ReconError::shape(
            STAGE,
            format!("{} samples for shape {shape:?}", be.len(images)),
        ));
    }
    if opts.window == 0 {
        return Err(ReconError::config(STAGE, "window must be at least 1"));
    }
    let img = be.download(images);
    let pairs: Vec<(usize, usize)> = (0..nc).flat_map(|c| (c..nc).map(move |d| (c, d))).collect();
    let mut cov = vec![C32::new(0.0, 0.0); pairs.len() * npix];
    cov.par_chunks_mut(npix)
        .zip(&pairs)
        .for_each(|(plane, &(c, d))| {
            let (mc, md) = (
                &img[c * npix..(c + 1) * npix],
                &img[d * npix..(d + 1) * npix],
            );
            for ((v, a), b) in plane.iter_mut().zip(mc).zip(md) {
                *v = a * b.conj();
            }
            for axis in 0..3 {
                box_sum(plane, dims, axis, opts.window);
            }
        });
    drop(img);
    let (mut maps, eigenvalues) =
        dominant_per_pixel(&cov, &pairs, nc, npix, dims[2], f32::NEG_INFINITY);
    drop(cov);
    normalise_phase(&mut maps, nc, opts.phase)?;
    let mut out_shape = vec![nc];
    out_shape.extend_from_slice(&shape[1..]);
    Ok(CoilMaps {
        maps: be.upload_vec(maps),
        shape: out_shape,
        eigenvalues,
    })
}
