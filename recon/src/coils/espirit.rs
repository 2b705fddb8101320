//! ESPIRiT coil sensitivity calibration (Uecker et al. 2014), like `bart ecalib -m1`.
//!
//! 1. The calibration region (the central `calib` samples along every spatial axis) gives the
//!    calibration matrix: one row per kernel position fully inside the region, one column per
//!    (kernel offset, coil); kernel `6` (BART `-k`) along every axis longer than one sample.
//! 2. Its right singular vectors come from the eigendecomposition of the patch covariance
//!    `Σ a aᴴ` (as BART does: singular values are the square roots of its eigenvalues); the
//!    ones with `σᵢ/σ₀ > sqrt(threshold)` (BART `-t 0.001`, i.e. eigenvalue ratio above
//!    `threshold`) span the signal subspace, with projector `P = V∥ V∥ᴴ`.
//! 3. The image-domain operator at every pixel is the coil × coil matrix
//!    `G(r) = (1/K) Σ_{p,p'} P[(p,c),(p',c')] e^{+2πi (p−p')·r/N}` (`K` kernel offsets). Its
//!    k-space support is the `(2k−1)`-wide difference of offsets, so each coil pair needs one
//!    zero-padded inverse FFT of a small kernel at the target grid (BART's `compute_imgcov` +
//!    `sinc_zeropad`).
//! 4. Per pixel, the dominant eigenvector of `G(r)` is the map where its eigenvalue is above
//!    `crop` (BART `-c 0.8`, hard crop: smaller eigenvalues give zero maps); the maps have unit
//!    norm over coils, and their phase is fixed by a [`PhaseReference`].
//!
//! The per-pixel eigenproblems run on the host (rayon over pixels, repeated squaring + power
//! iteration); the FFTs go through the backend.
//!
//! # References
//! - Uecker M, Lai P, Murphy MJ, Virtue P, Elad M, Pauly JM, Vasanawala SS, Lustig M.
//!   ESPIRiT — an eigenvalue approach to autocalibrating parallel MRI: where SENSE meets
//!   GRAPPA. Magn Reson Med 2014;71:990–1001.
//! - BART `ecalib` (`src/calib/calib.c`): defaults `-k 6 -r 24 -t 0.001 -c 0.8`.

use rayon::prelude::*;

use super::{
    CoilMaps, PhaseReference, dominant_per_pixel, gram_of_rows, inverse_fft_spatial,
    normalise_phase, pixel_major_to_coil_major, split_shape,
};
use crate::backend::{Backend, C32, C64};
use crate::conventions::crop_start;
use crate::error::{ReconError, Result};

/// ESPIRiT parameters (BART `ecalib` defaults).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EspiritOptions {
    /// Calibration region size along every spatial axis longer than one (BART `-r`, 24).
    pub calib: usize,
    /// Kernel size along every spatial axis longer than one (BART `-k`, 6).
    pub kernel: usize,
    /// Keep singular vectors with `(σᵢ/σ₀)² > threshold` (BART `-t`, 0.001).
    pub threshold: f64,
    /// Pixels whose dominant eigenvalue is `≤ crop` get zero maps (BART `-c`, 0.8).
    pub crop: f32,
    /// How the per-pixel phase is fixed.
    pub phase: PhaseReference,
}

impl Default for EspiritOptions {
    fn default() -> Self {
        EspiritOptions {
            calib: 24,
            kernel: 6,
            threshold: 0.001,
            crop: 0.8,
            phase: PhaseReference::default(),
        }
    }
}

const STAGE: &str = "espirit";

fn fmt_dims(d: &[usize]) -> String {
    d.iter()
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join("×")
}

/// ESPIRiT maps from fully sampled (in the centre) k-space `[coil, (z,) y, x]`: the central
/// `opts.calib` samples of every spatial axis longer than one are the calibration region and
/// the maps have the k-space grid.
pub fn espirit<B: Backend>(
    be: &B,
    kspace: &B::Buf,
    shape: &[usize],
    opts: &EspiritOptions,
) -> Result<CoilMaps<B>> {
    let (nc, dims) = split_shape(STAGE, shape)?;
    let npix: usize = dims.iter().product();
    if be.len(kspace) != nc * npix {
        return Err(ReconError::shape(
            STAGE,
            format!("{} samples for shape {shape:?}", be.len(kspace)),
        ));
    }
    let cal: Vec<usize> = dims
        .iter()
        .map(|&n| if n == 1 { 1 } else { opts.calib })
        .collect();
    let spatial = &shape[1..];
    let cal_sp = &cal[3 - spatial.len()..];
    if cal.iter().zip(&dims).any(|(c, n)| c > n) || opts.calib == 0 {
        return Err(ReconError::stage(
            STAGE,
            format!(
                "calibration region {} does not fit the grid {}",
                fmt_dims(cal_sp),
                fmt_dims(spatial)
            ),
        ));
    }
    let host = be.download(kspace);
    let start: Vec<usize> = (0..3).map(|i| crop_start(dims[i], cal[i])).collect();
    let cpix = cal[0] * cal[1] * cal[2];
    let mut block = Vec::with_capacity(nc * cpix);
    for c in 0..nc {
        for z in 0..cal[0] {
            for y in 0..cal[1] {
                let row = ((c * dims[0] + start[0] + z) * dims[1] + start[1] + y) * dims[2];
                block.extend_from_slice(&host[row + start[2]..row + start[2] + cal[2]]);
            }
        }
    }
    let mut cshape = vec![nc];
    cshape.extend_from_slice(cal_sp);
    espirit_from_calibration(be, &be.upload(&block), &cshape, spatial, opts)
}

/// ESPIRiT maps on the grid `grid` (`[y, x]` or `[z, y, x]`) from calibration data
/// `[coil, (z,) y, x]` (a fully sampled k-space centre block; `opts.calib` is not used).
pub fn espirit_from_calibration<B: Backend>(
    be: &B,
    calib: &B::Buf,
    calib_shape: &[usize],
    grid: &[usize],
    opts: &EspiritOptions,
) -> Result<CoilMaps<B>> {
    let (nc, cdims) = split_shape(STAGE, calib_shape)?;
    if grid.len() + 1 != calib_shape.len() {
        return Err(ReconError::shape(
            STAGE,
            format!("calibration {calib_shape:?} and grid {grid:?} differ in rank"),
        ));
    }
    let mut gshape = vec![nc];
    gshape.extend_from_slice(grid);
    let (_, gdims) = split_shape(STAGE, &gshape)?;
    if be.len(calib) != nc * cdims.iter().product::<usize>() {
        return Err(ReconError::shape(
            STAGE,
            format!(
                "{} samples for calibration shape {calib_shape:?}",
                be.len(calib)
            ),
        ));
    }
    if opts.kernel == 0 || !(0.0..1.0).contains(&opts.threshold) || !opts.crop.is_finite() {
        return Err(ReconError::config(
            STAGE,
            format!(
                "kernel {} must be ≥ 1, threshold {} in [0, 1), crop {} finite",
                opts.kernel, opts.threshold, opts.crop
            ),
        ));
    }
    let cal_sp = &calib_shape[1..];
    if cdims.iter().zip(&gdims).any(|(c, g)| c > g) {
        return Err(ReconError::stage(
            STAGE,
            format!(
                "calibration region {} is larger than the grid {}",
                fmt_dims(cal_sp),
                fmt_dims(grid)
            ),
        ));
    }
    let kdims: [usize; 3] = std::array::from_fn(|i| if gdims[i] == 1 { 1 } else { opts.kernel });
    if cdims.iter().zip(&kdims).any(|(c, k)| c < k) {
        return Err(ReconError::stage(
            STAGE,
            format!(
                "calibration region {} is smaller than the kernel {}",
                fmt_dims(cal_sp),
                fmt_dims(&kdims[3 - grid.len()..])
            ),
        ));
    }

    // 1. Calibration matrix (conjugated rows, so that AᴴA = Σ a aᴴ over patches a).
    let data = be.download(calib);
    let cpix: usize = cdims.iter().product();
    let kk: usize = kdims.iter().product();
    let ncols = kk * nc;
    let pos: [usize; 3] = std::array::from_fn(|i| cdims[i] - kdims[i] + 1);
    let nrows: usize = pos.iter().product();
    let cov = gram_of_rows(nrows, ncols, |r, row| {
        let (qz, qy, qx) = (r / (pos[1] * pos[2]), (r / pos[2]) % pos[1], r % pos[2]);
        for p in 0..kk {
            let (pz, py, px) = (
                p / (kdims[1] * kdims[2]),
                (p / kdims[2]) % kdims[1],
                p % kdims[2],
            );
            let base = ((qz + pz) * cdims[1] + qy + py) * cdims[2] + qx + px;
            for c in 0..nc {
                let v = data[c * cpix + base];
                row[p * nc + c] = C64::new(f64::from(v.re), -f64::from(v.im));
            }
        }
    });

    // 2. Signal subspace.
    let evd = cov.self_adjoint_eigen(faer::Side::Lower).map_err(|e| {
        ReconError::numerical(STAGE, format!("calibration eigendecomposition: {e:?}"))
    })?;
    let vals = evd.S().column_vector();
    let lmax = vals[ncols - 1].re;
    if !(lmax > 0.0 && lmax.is_finite()) {
        return Err(ReconError::stage(
            STAGE,
            "no signal in the calibration region",
        ));
    }
    let nk = (0..ncols)
        .filter(|&i| vals[i].re > opts.threshold * lmax)
        .count();
    let v = evd.U().subcols(ncols - nk, nk);
    let proj = v * v.adjoint();

    // 3. Image-domain Gram matrices: small k-space kernels per coil pair, zero padded to the
    //    grid and inverse transformed.
    let hd: [usize; 3] = std::array::from_fn(|i| 2 * kdims[i] - 1);
    let nh: usize = hd.iter().product();
    let pairs: Vec<(usize, usize)> = (0..nc).flat_map(|c| (c..nc).map(move |d| (c, d))).collect();
    let npix: usize = gdims.iter().product();
    let mut grids = vec![C32::new(0.0, 0.0); pairs.len() * npix];
    let inv_k = 1.0 / kk as f64;
    grids
        .par_chunks_mut(npix)
        .zip(&pairs)
        .for_each(|(plane, &(c, d))| {
            let mut h = vec![C64::new(0.0, 0.0); nh];
            for p in 0..kk {
                let pp = [
                    p / (kdims[1] * kdims[2]),
                    (p / kdims[2]) % kdims[1],
                    p % kdims[2],
                ];
                for q in 0..kk {
                    let qq = [
                        q / (kdims[1] * kdims[2]),
                        (q / kdims[2]) % kdims[1],
                        q % kdims[2],
                    ];
                    let di: [usize; 3] = std::array::from_fn(|i| pp[i] + kdims[i] - 1 - qq[i]);
                    h[(di[0] * hd[1] + di[1]) * hd[2] + di[2]] +=
                        proj[(p * nc + c, q * nc + d)] * inv_k;
                }
            }
            for (i, &hv) in h.iter().enumerate() {
                let di = [i / (hd[1] * hd[2]), (i / hd[2]) % hd[1], i % hd[2]];
                let g: [usize; 3] = std::array::from_fn(|a| {
                    let off = di[a] as isize - (kdims[a] as isize - 1);
                    (gdims[a] as isize / 2 + off).rem_euclid(gdims[a] as isize) as usize
                });
                plane[(g[0] * gdims[1] + g[1]) * gdims[2] + g[2]] +=
                    C32::new(hv.re as f32, hv.im as f32);
            }
        });
    let grids = inverse_fft_spatial(be, &grids, pairs.len(), gdims, (npix as f32).sqrt());

    // 4. Per-pixel dominant eigenvector, crop.
    let (mut maps, eigenvalues) = dominant_per_pixel(&grids, &pairs, nc, npix, opts.crop);
    normalise_phase(&mut maps, nc, opts.phase)?;
    Ok(CoilMaps {
        maps: be.upload(&pixel_major_to_coil_major(&maps, nc)),
        shape: gshape,
        eigenvalues,
    })
}
