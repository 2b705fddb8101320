//! Adaptive coil maps after Walsh et al. (2000) in the form of Inati et al. (2014): from
//! (low-resolution) coil images `m(r)`, the coil covariance `R(r) = Σ_{r' ∈ window(r)} m(r')
//! m(r')ᴴ` over a smoothing window, whose dominant eigenvector is the map at `r` (unit norm
//! over coils), phase fixed by a [`PhaseReference`] (default: the strongest coil, Inati's
//! choice). [`lowres_coil_images`] makes the input from the k-space centre.
//!
//! The window sums are separable box filters of the `nc(nc+1)/2` covariance planes (held in
//! single precision, one slab of z planes at a time for volumes); the per-pixel eigenproblems
//! run on the host (rayon), the FFTs on the backend.
//!
//! # References
//! - Walsh DO, Gmitro AF, Marcellin MW. Adaptive reconstruction of phased array MR imagery.
//!   Magn Reson Med 2000;43:682–690.
//! - Inati SJ, Hansen MS, Kellman P. A fast optimal method for coil sensitivity estimation and
//!   adaptive coil combination for complex images. ISMRM 2014, p. 4407.

use rayon::prelude::*;

use super::{
    CoilMaps, PhaseReference, dominant_per_pixel, inverse_fft_spatial, normalise_phase,
    split_coil_buffer,
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

/// Pixels per z slab of the covariance planes in [`walsh`] (at least the window's planes):
/// bounds their memory to about `nc(nc+1)/2 · (SLAB_PIXELS + halo) · 8` bytes.
const SLAB_PIXELS: usize = 1 << 16;

/// Low-resolution coil images `[coil, (z,) y, x]` from k-space of the same shape: the
/// central `calib` samples of every spatial axis longer than one, tapered by a Hann window,
/// zero padded and inverse transformed (centred orthonormal FFT).
pub fn lowres_coil_images<B: Backend>(
    be: &B,
    kspace: &B::Buf,
    shape: &[usize],
    calib: usize,
) -> Result<B::Buf> {
    let (nc, dims, npix) = split_coil_buffer(STAGE, be, kspace, shape)?;
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

/// Separable box sum of window `w` along `axis` of a `[z, y, x]` plane. Along `x` by prefix
/// sums per line; along `y` and `z` by a running sum of whole rows (contiguous, so it
/// vectorises and walks memory in order), with the block's original rows kept in `rows`.
/// Sums accumulate in double precision in `acc`.
fn box_sum(
    plane: &mut [C32],
    dims: [usize; 3],
    axis: usize,
    w: usize,
    rows: &mut Vec<C32>,
    acc: &mut Vec<C64>,
) {
    let n = dims[axis];
    if n == 1 || w <= 1 {
        return;
    }
    let stride: usize = dims[axis + 1..].iter().product();
    let half = w / 2;
    // Window of output `i`: `[i − half, i − half + w)`, clipped.
    let lo = |i: usize| i.saturating_sub(half);
    let hi = |i: usize| (i + w - half).min(n);
    if stride == 1 {
        acc.resize(n + 1, C64::new(0.0, 0.0));
        for line in plane.chunks_exact_mut(n) {
            for (i, v) in line.iter().enumerate() {
                acc[i + 1] = acc[i] + C64::new(f64::from(v.re), f64::from(v.im));
            }
            for (i, v) in line.iter_mut().enumerate() {
                let s = acc[hi(i)] - acc[lo(i)];
                *v = C32::new(s.re as f32, s.im as f32);
            }
        }
        return;
    }
    for block in plane.chunks_exact_mut(n * stride) {
        rows.clear();
        rows.extend_from_slice(block);
        acc.clear();
        acc.resize(stride, C64::new(0.0, 0.0));
        let (mut a, mut b) = (0, 0);
        for (i, out) in block.chunks_exact_mut(stride).enumerate() {
            while b < hi(i) {
                for (s, v) in acc.iter_mut().zip(&rows[b * stride..(b + 1) * stride]) {
                    *s += C64::new(f64::from(v.re), f64::from(v.im));
                }
                b += 1;
            }
            while a < lo(i) {
                for (s, v) in acc.iter_mut().zip(&rows[a * stride..(a + 1) * stride]) {
                    *s -= C64::new(f64::from(v.re), f64::from(v.im));
                }
                a += 1;
            }
            for (o, s) in out.iter_mut().zip(acc.iter()) {
                *o = C32::new(s.re as f32, s.im as f32);
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
    walsh_in_slabs(be, images, shape, opts, SLAB_PIXELS)
}

/// [`walsh`] with the covariance planes held for slabs of about `slab_pixels` pixels.
fn walsh_in_slabs<B: Backend>(
    be: &B,
    images: &B::Buf,
    shape: &[usize],
    opts: &WalshOptions,
    slab_pixels: usize,
) -> Result<CoilMaps<B>> {
    let (nc, dims, npix) = split_coil_buffer(STAGE, be, images, shape)?;
    if opts.window == 0 {
        return Err(ReconError::config(STAGE, "window must be at least 1"));
    }
    let img = be.download(images);
    let pairs: Vec<(usize, usize)> = (0..nc).flat_map(|c| (c..nc).map(move |d| (c, d))).collect();
    // Slabs of z planes, each with the planes its z window reaches (clipped at the volume),
    // so that the covariance planes are held for a slab at a time; 2-D is one slab.
    let (w, half) = (opts.window, opts.window / 2);
    let plane_len = dims[1] * dims[2];
    let slab = if dims[0] == 1 {
        1
    } else {
        (slab_pixels / plane_len).max(w).min(dims[0])
    };
    let mut maps = vec![C32::new(0.0, 0.0); nc * npix];
    let mut eigenvalues = vec![0.0f32; npix];
    for z0 in (0..dims[0]).step_by(slab) {
        let z1 = (z0 + slab).min(dims[0]);
        let (a, b) = if w > 1 {
            (z0.saturating_sub(half), (z1 + w - half).min(dims[0]))
        } else {
            (z0, z1)
        };
        let sdims = [b - a, dims[1], dims[2]];
        let spix = (b - a) * plane_len;
        let (keep, kpix) = ((z0 - a) * plane_len, (z1 - z0) * plane_len);
        let mut cov = vec![C32::new(0.0, 0.0); pairs.len() * kpix];
        cov.par_chunks_mut(kpix).zip(&pairs).for_each_init(
            || (Vec::new(), Vec::new(), Vec::new()),
            |(plane, rows, acc), (out, &(c, d))| {
                let (mc, md) = (
                    &img[c * npix + a * plane_len..][..spix],
                    &img[d * npix + a * plane_len..][..spix],
                );
                plane.clear();
                plane.extend(mc.iter().zip(md).map(|(x, y)| x * y.conj()));
                for axis in 0..3 {
                    box_sum(plane, sdims, axis, w, rows, acc);
                }
                out.copy_from_slice(&plane[keep..keep + kpix]);
            },
        );
        let (m, e) = dominant_per_pixel(&cov, &pairs, nc, kpix, dims[2], f32::NEG_INFINITY);
        for c in 0..nc {
            maps[c * npix + z0 * plane_len..][..kpix].copy_from_slice(&m[c * kpix..][..kpix]);
        }
        eigenvalues[z0 * plane_len..][..kpix].copy_from_slice(&e);
    }
    drop(img);
    normalise_phase(&mut maps, nc, opts.phase)?;
    let mut out_shape = vec![nc];
    out_shape.extend_from_slice(&shape[1..]);
    Ok(CoilMaps {
        maps: be.upload_vec(maps),
        shape: out_shape,
        eigenvalues,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::CpuBackend;

    /// Smooth coil images `[coil, z, y, x]` with a deterministic pseudo-random texture.
    fn images(nc: usize, dims: [usize; 3]) -> Vec<C32> {
        let npix: usize = dims.iter().product();
        let mut state = 0x2545_f491_u32;
        (0..nc * npix)
            .map(|i| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                let (c, p) = (i / npix, i % npix);
                let z = (p / (dims[1] * dims[2])) as f32;
                let smooth = C32::from_polar(1.0 + 0.1 * c as f32, 0.3 * c as f32 + 0.05 * z);
                smooth + C32::new((state % 1000) as f32 / 4000.0, 0.0)
            })
            .collect()
    }

    #[test]
    fn slabs_give_the_maps_of_the_whole_volume() {
        let be = CpuBackend::new();
        let (nc, dims) = (3, [23, 6, 5]);
        let shape = [nc, dims[0], dims[1], dims[2]];
        let img = be.upload(&images(nc, dims));
        for window in [1, 4, 7] {
            let opts = WalshOptions {
                window,
                ..WalshOptions::default()
            };
            let whole = walsh_in_slabs(&be, &img, &shape, &opts, usize::MAX).unwrap();
            // One pixel per slab: slabs of `window` planes (4 slabs for window 7).
            let slabs = walsh_in_slabs(&be, &img, &shape, &opts, 1).unwrap();
            let (a, b) = (be.download(&whole.maps), be.download(&slabs.maps));
            let diff = crate::metrics::max_abs_diff(&a, &b).unwrap();
            assert!(diff < 1e-5, "window {window}: maps differ by {diff}");
            let ediff = whole
                .eigenvalues
                .iter()
                .zip(&slabs.eigenvalues)
                .map(|(x, y)| (x - y).abs() / x.abs().max(1e-6))
                .fold(0.0, f32::max);
            assert!(
                ediff < 1e-5,
                "window {window}: eigenvalues differ by {ediff}"
            );
        }
    }
}
