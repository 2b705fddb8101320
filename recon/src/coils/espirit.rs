//! ESPIRiT coil sensitivity calibration (Uecker et al. 2014), like `bart ecalib -m1`.
//!
//! 1. The calibration region (the central `calib` samples along every spatial axis) gives the
//!    calibration matrix: one row per kernel position fully inside the region, one column per
//!    (kernel offset, coil); kernel `6` (BART `-k`) along every axis longer than one sample.
//! 2. Its right singular vectors come from the eigendecomposition of the patch covariance
//!    `Σ a aᴴ` (as BART does: singular values are the square roots of its eigenvalues), or of
//!    the smaller `A Aᴴ` when there are fewer patches than columns (2-D); the ones with
//!    `σᵢ/σ₀ > sqrt(threshold)` (BART `-t 0.001`, i.e. eigenvalue ratio above `threshold`) span
//!    the signal subspace `V∥`, with projector `P = V∥ V∥ᴴ`.
//! 3. The image-domain operator at every pixel is the coil × coil matrix
//!    `G(r) = (1/K) Σ_{p,p'} P[(p,c),(p',c')] e^{+2πi (p−p')·(r − N/2)/N}` (`K` kernel
//!    offsets), what BART's `compute_imgcov` + `sinc_zeropad` compute by zero-padded FFTs. Its
//!    k-space support is the `(2k−1)`-wide difference of offsets, so `G` is evaluated directly
//!    as a separable sum, one image row at a time for all coil pairs `c ≤ d` (no full-grid
//!    plane per pair).
//! 4. Per pixel, the dominant eigenvector of `G(r)` is the map where its eigenvalue is above
//!    `crop` (BART `-c 0.8`, hard crop: smaller eigenvalues give zero maps); the maps have unit
//!    norm over coils, and their phase is fixed by a [`PhaseReference`].
//!
//! Everything runs on the host: rayon over rows of pixels, `faer` for the calibration. Along a
//! row the eigenvectors come from power iteration warm-started from the neighbours
//! (`coils::DominantSolver`), with a proven error bound of 1e-6 where the map is kept.
//! Memory: the kernels and one row's workspace per thread besides the maps.
//!
//! # References
//! - Uecker M, Lai P, Murphy MJ, Virtue P, Elad M, Pauly JM, Vasanawala SS, Lustig M.
//!   ESPIRiT — an eigenvalue approach to autocalibrating parallel MRI: where SENSE meets
//!   GRAPPA. Magn Reson Med 2014;71:990–1001.
//! - BART `ecalib` (`src/calib/calib.c`): defaults `-k 6 -r 24 -t 0.001 -c 0.8`.

use rayon::prelude::*;

use super::{
    CoilMaps, DominantSolver, PhaseReference, RowMatrices, dominant_per_row, gram_of_rows,
    normalise_phase, split_coil_buffer, split_shape,
};
use crate::backend::{Backend, C64};
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
    let (nc, dims, npix) = split_coil_buffer(STAGE, be, kspace, shape)?;
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
    // The centre block, gathered on the backend (no host copy of the whole k-space).
    let start: Vec<usize> = (0..3).map(|i| crop_start(dims[i], cal[i])).collect();
    let cpix = cal[0] * cal[1] * cal[2];
    let index = |i: usize| {
        u32::try_from(i).map_err(|_| {
            ReconError::shape(
                STAGE,
                format!("k-space of {} samples: beyond 32-bit indices", nc * npix),
            )
        })
    };
    let mut idx = Vec::with_capacity(nc * cpix);
    for c in 0..nc {
        for z in 0..cal[0] {
            for y in 0..cal[1] {
                let row = ((c * dims[0] + start[0] + z) * dims[1] + start[1] + y) * dims[2];
                for x in start[2]..start[2] + cal[2] {
                    idx.push(index(row + x)?);
                }
            }
        }
    }
    let mut block = be.zeros(nc * cpix);
    be.gather(&mut block, kspace, &be.upload_idx(&idx));
    let mut cshape = vec![nc];
    cshape.extend_from_slice(cal_sp);
    espirit_from_calibration(be, &block, &cshape, spatial, opts)
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
    let fill_row = |r: usize, row: &mut [C64]| {
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
    };

    // 2. Signal subspace.
    let v = signal_subspace(nrows, ncols, fill_row, opts.threshold)?;
    drop(data);

    // 3 + 4. Row by row: the image-domain matrices by a separable direct DFT of their small
    //    k-space kernels, and per pixel the dominant eigenvector, crop.
    let gram = ImageGram::new(v.as_ref(), kdims, nc, gdims);
    drop(v);
    let (mut maps, eigenvalues) =
        dominant_per_row(&gram, nc, gdims[0] * gdims[1], gdims[2], opts.crop);
    drop(gram);
    normalise_phase(&mut maps, nc, opts.phase)?;
    Ok(CoilMaps {
        maps: be.upload_vec(maps),
        shape: gshape,
        eigenvalues,
    })
}

/// Eigenvalues of `AᴴA` below this fraction of the largest are numerically zero in the
/// `A Aᴴ` route of [`signal_subspace`] (`σ/σ₀ < 1e-6`) and never part of the subspace.
const RANK_FLOOR: f64 = 1e-12;

/// Step 2: the right singular vectors `V∥` (`ncols × nk`) of the `nrows × ncols` calibration
/// matrix `A` (rows from `fill`) whose `σ²` exceed `threshold · σ₀²`, from the
/// eigendecomposition of the smaller of `AᴴA` and `A Aᴴ`. With fewer rows than columns (2-D
/// calibration: 361 patches × 1152 columns for 32 coils) `A Aᴴ = U Σ² Uᴴ` is decomposed and
/// `V∥ = Aᴴ U∥ Σ∥⁻¹`, the same vectors at a fraction of the cost.
fn signal_subspace<F>(nrows: usize, ncols: usize, fill: F, threshold: f64) -> Result<faer::Mat<C64>>
where
    F: Fn(usize, &mut [C64]) + Sync,
{
    let evd_err =
        |e| ReconError::numerical(STAGE, format!("calibration eigendecomposition: {e:?}"));
    let no_signal = || ReconError::stage(STAGE, "no signal in the calibration region");
    if nrows >= ncols {
        let cov = gram_of_rows(nrows, ncols, fill);
        let evd = cov.self_adjoint_eigen(faer::Side::Lower).map_err(evd_err)?;
        let vals = evd.S().column_vector();
        let lmax = vals[ncols - 1].re;
        if !(lmax > 0.0 && lmax.is_finite()) {
            return Err(no_signal());
        }
        let nk = (0..ncols)
            .filter(|&i| vals[i].re > threshold * lmax)
            .count();
        return Ok(evd.U().subcols(ncols - nk, nk).to_owned());
    }
    let mut rows = vec![C64::new(0.0, 0.0); nrows * ncols];
    rows.par_chunks_mut(ncols)
        .enumerate()
        .for_each(|(r, row)| fill(r, row));
    let a = faer::MatRef::from_row_major_slice(&rows, nrows, ncols);
    let mut small = faer::Mat::<C64>::zeros(nrows, nrows);
    faer::linalg::matmul::matmul(
        small.as_mut(),
        faer::Accum::Replace,
        a,
        a.adjoint(),
        C64::new(1.0, 0.0),
        faer::Par::rayon(0),
    );
    let evd = small
        .self_adjoint_eigen(faer::Side::Lower)
        .map_err(evd_err)?;
    let vals = evd.S().column_vector();
    let lmax = vals[nrows - 1].re;
    if !(lmax > 0.0 && lmax.is_finite()) {
        return Err(no_signal());
    }
    let floor = threshold.max(RANK_FLOOR) * lmax;
    let nk = (0..nrows).filter(|&i| vals[i].re > floor).count();
    let u = evd.U().subcols(nrows - nk, nk);
    let mut v = faer::Mat::<C64>::zeros(ncols, nk);
    faer::linalg::matmul::matmul(
        v.as_mut(),
        faer::Accum::Replace,
        a.adjoint(),
        u,
        C64::new(1.0, 0.0),
        faer::Par::rayon(0),
    );
    for j in 0..nk {
        let inv = 1.0 / vals[nrows - nk + j].re.sqrt();
        for i in 0..ncols {
            v[(i, j)] *= inv;
        }
    }
    Ok(v)
}

/// Step 3: the image-domain coil × coil matrices
/// `G_cd(r) = Σ_δ h_cd(δ) e^{+2πi δ·(r − N/2)/N}` (what the zero-padded kernels' centred inverse
/// FFT scaled by `sqrt(N)` gives), evaluated one image row at a time as a separable direct DFT
/// of the kernels `h_cd` (`2k−1` wide per axis, `δ` from `−(k−1)` to `k−1`), upper triangle
/// `c ≤ d` only.
///
/// Per row `(z, y)` the sums over `δz, δy` are done once (`load_row`): `T[δx][pair]`, folded
/// into `M = [T(0), T(1) + T(−1), i(T(1) − T(−1)), T(2) + T(−2), …]`, so that per pixel
/// (`pixel`) `G = Σ_j w_j(x) M_j` with real weights `[1, cos φ, sin φ, cos 2φ, sin 2φ, …]`,
/// `φ = 2π (x − Nx/2)/Nx`. The kernels and `M` are split into real and imaginary parts so that
/// the sums vectorise. Memory: the kernels and phase tables, never a full-grid plane.
struct ImageGram {
    /// The coil pairs `(c, d)`, `c ≤ d`.
    pairs: Vec<(usize, usize)>,
    /// Kernel half widths `k − 1` per axis `[z, y, x]`.
    half: [usize; 3],
    /// `h_cd(δ)`, `[(δz, δy), δx, pair]`, real parts.
    h_re: Vec<f64>,
    /// Imaginary parts of `h_re`'s entries.
    h_im: Vec<f64>,
    /// For `z` and `y`, `e^{+2πi δ (r − N/2)/N}` as `[r, δ + k − 1]`.
    phase: [Vec<C64>; 2],
    /// The real weights of `M` per column `x`, `[x, j]`.
    wx: Vec<f64>,
    /// The grid `[z, y, x]`.
    gdims: [usize; 3],
}

/// Most kernel offsets whose rows of the projector are computed at once in
/// [`ImageGram::new`] (one per rayon thread, at most this many: each block is `nc × ncols`).
const KERNEL_BLOCKS: usize = 16;

/// Per-row workspace of [`ImageGram`].
#[derive(Debug, Default)]
struct GramRow {
    /// Phase weights of `(δz, δy)` for the row.
    w: Vec<C64>,
    /// `T[δx][pair]`, real parts.
    t_re: Vec<f64>,
    /// `T[δx][pair]`, imaginary parts.
    t_im: Vec<f64>,
    /// `M[j][pair]`, real parts.
    m_re: Vec<f64>,
    /// `M[j][pair]`, imaginary parts.
    m_im: Vec<f64>,
    /// `G(r)` of the last pixel, `[pair]`, real parts.
    g_re: Vec<f64>,
    /// `G(r)` of the last pixel, imaginary parts.
    g_im: Vec<f64>,
}

/// `e^{+2πi δ (r − N/2)/N}` for `r < n`, `δ = −half ..= half`, as `[r, δ + half]` (exact
/// integer phase modulo `N`, one rounding).
fn phase_table(n: usize, half: usize) -> Vec<C64> {
    let (n, h) = (n as i64, half as i64);
    let mut t = Vec::with_capacity((n * (2 * h + 1)) as usize);
    for r in 0..n {
        for off in -h..=h {
            let m = (off * (r - n / 2)).rem_euclid(n);
            t.push(C64::from_polar(
                1.0,
                2.0 * std::f64::consts::PI * m as f64 / n as f64,
            ));
        }
    }
    t
}

impl ImageGram {
    /// Kernels from the signal subspace `v` (`ncols × nk`, rows `(offset, coil)`, kernel
    /// `kdims`) for the grid `gdims`: `h_cd(p − q) += P[(p,c),(q,d)] / K` with the projector
    /// `P = V Vᴴ`, one block of rows `P[(p,·),·] = V_p Vᴴ` at a time (`P` itself, `ncols²`, is
    /// never held).
    fn new(v: faer::MatRef<'_, C64>, kdims: [usize; 3], nc: usize, gdims: [usize; 3]) -> Self {
        let half: [usize; 3] = std::array::from_fn(|i| kdims[i] - 1);
        let hd: [usize; 3] = std::array::from_fn(|i| 2 * half[i] + 1);
        let nh: usize = hd.iter().product();
        let kk: usize = kdims.iter().product();
        let pairs: Vec<(usize, usize)> =
            (0..nc).flat_map(|c| (c..nc).map(move |d| (c, d))).collect();
        let np = pairs.len();
        let inv_k = 1.0 / kk as f64;
        let offset = |p: usize| {
            [
                p / (kdims[1] * kdims[2]),
                (p / kdims[2]) % kdims[1],
                p % kdims[2],
            ]
        };
        let mut h_re = vec![0.0; nh * np];
        let mut h_im = vec![0.0; nh * np];
        let offsets: Vec<usize> = (0..kk).collect();
        // Blocks are computed in parallel, a few offsets at a time, and added in order (the
        // sums do not depend on the scheduling).
        let per_chunk = rayon::current_num_threads().clamp(1, KERNEL_BLOCKS);
        for chunk in offsets.chunks(per_chunk) {
            let blocks: Vec<faer::Mat<C64>> = chunk
                .par_iter()
                .map(|&p| {
                    let mut b = faer::Mat::<C64>::zeros(nc, v.nrows());
                    faer::linalg::matmul::matmul(
                        b.as_mut(),
                        faer::Accum::Replace,
                        v.subrows(p * nc, nc),
                        v.adjoint(),
                        C64::new(inv_k, 0.0),
                        faer::Par::Seq,
                    );
                    b
                })
                .collect();
            for (&p, b) in chunk.iter().zip(&blocks) {
                let pp = offset(p);
                for q in 0..kk {
                    let qq = offset(q);
                    let di: [usize; 3] = std::array::from_fn(|i| pp[i] + half[i] - qq[i]);
                    let base = ((di[0] * hd[1] + di[1]) * hd[2] + di[2]) * np;
                    for (k, &(c, d)) in pairs.iter().enumerate() {
                        let x = b[(c, q * nc + d)];
                        h_re[base + k] += x.re;
                        h_im[base + k] += x.im;
                    }
                }
            }
        }
        let ex = phase_table(gdims[2], half[2]);
        let mut wx = Vec::with_capacity(gdims[2] * hd[2]);
        for e in ex.chunks_exact(hd[2]) {
            wx.push(1.0);
            for d in 1..=half[2] {
                let w = e[half[2] + d];
                wx.push(w.re);
                wx.push(w.im);
            }
        }
        ImageGram {
            pairs,
            half,
            h_re,
            h_im,
            phase: [
                phase_table(gdims[0], half[0]),
                phase_table(gdims[1], half[1]),
            ],
            wx,
            gdims,
        }
    }

    /// `T[δx][pair] = Σ_{δz,δy} h(δ) e^{+2πi (δz (z − Nz/2)/Nz + δy (y − Ny/2)/Ny)}` for image
    /// row `row = z · Ny + y`, folded into `M`.
    #[inline(always)]
    fn load_row(&self, row: usize, s: &mut GramRow) {
        let hd: [usize; 3] = std::array::from_fn(|i| 2 * self.half[i] + 1);
        let np = self.pairs.len();
        let (z, y) = (row / self.gdims[1], row % self.gdims[1]);
        let ez = &self.phase[0][z * hd[0]..(z + 1) * hd[0]];
        let ey = &self.phase[1][y * hd[1]..(y + 1) * hd[1]];
        s.w.clear();
        s.w.extend(ez.iter().flat_map(|&a| ey.iter().map(move |&b| a * b)));
        let block = hd[2] * np;
        s.t_re.clear();
        s.t_re.resize(block, 0.0);
        s.t_im.clear();
        s.t_im.resize(block, 0.0);
        for (j, w) in s.w.iter().enumerate() {
            let hr = &self.h_re[j * block..(j + 1) * block];
            let hi = &self.h_im[j * block..(j + 1) * block];
            for (((tr, ti), &xr), &xi) in s.t_re.iter_mut().zip(s.t_im.iter_mut()).zip(hr).zip(hi) {
                *tr += w.re * xr - w.im * xi;
                *ti += w.re * xi + w.im * xr;
            }
        }
        let hx = self.half[2];
        s.m_re.clear();
        s.m_re.resize(block, 0.0);
        s.m_im.clear();
        s.m_im.resize(block, 0.0);
        let t = |i: usize| (&s.t_re[i * np..(i + 1) * np], &s.t_im[i * np..(i + 1) * np]);
        let (t0r, t0i) = t(hx);
        s.m_re[..np].copy_from_slice(t0r);
        s.m_im[..np].copy_from_slice(t0i);
        for d in 1..=hx {
            // T(δ) + T(−δ) and i (T(δ) − T(−δ)), rows 2δ − 1 and 2δ of M.
            let ((pr, pi), (nr, ni)) = (t(hx + d), t(hx - d));
            let (sum_re, diff_re) = s.m_re[(2 * d - 1) * np..(2 * d + 1) * np].split_at_mut(np);
            let (sum_im, diff_im) = s.m_im[(2 * d - 1) * np..(2 * d + 1) * np].split_at_mut(np);
            for k in 0..np {
                sum_re[k] = pr[k] + nr[k];
                sum_im[k] = pi[k] + ni[k];
                diff_re[k] = ni[k] - pi[k];
                diff_im[k] = pr[k] - nr[k];
            }
        }
    }

    /// `G(r)` at column `x` of the row last loaded, into `s.g_re` / `s.g_im` (`[pair]`).
    #[inline(always)]
    fn pixel(&self, x: usize, s: &mut GramRow) {
        let nw = 2 * self.half[2] + 1;
        let np = self.pairs.len();
        s.g_re.resize(np, 0.0);
        s.g_im.resize(np, 0.0);
        super::combine_rows_real(
            &self.wx[x * nw..(x + 1) * nw],
            &s.m_re,
            &s.m_im,
            np,
            &mut s.g_re,
            &mut s.g_im,
        );
    }
}

impl RowMatrices for ImageGram {
    type Workspace = GramRow;

    #[inline(always)]
    fn workspace(&self) -> GramRow {
        GramRow::default()
    }

    #[inline(always)]
    fn load_row(&self, ws: &mut GramRow, row: usize) {
        ImageGram::load_row(self, row, ws);
    }

    #[inline(always)]
    fn fill(&self, ws: &mut GramRow, _row: usize, x: usize, solver: &mut DominantSolver) {
        self.pixel(x, ws);
        solver.set_packed(&ws.g_re, &ws.g_im);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::{C32, CpuBackend, FftDirection};
    use crate::coils::inverse_fft_spatial;

    /// Deterministic pseudo-random numbers in [-1, 1) (xorshift).
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> f64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 >> 11) as f64 / (1u64 << 52) as f64 - 1.0
        }

        fn c64(&mut self) -> C64 {
            C64::new(self.next(), self.next())
        }
    }

    /// The kernels and `G(r)` planes as the FFT implementation computed them: per pair
    /// `h_cd(p − q) = Σ P[(p,c),(q,d)] / K` zero padded around the grid centre, centred inverse
    /// FFT, times `sqrt(N)`; `[pair, pixel]`.
    fn fft_planes(
        proj: faer::MatRef<'_, C64>,
        kdims: [usize; 3],
        nc: usize,
        gdims: [usize; 3],
    ) -> Vec<C32> {
        let kk: usize = kdims.iter().product();
        let npix: usize = gdims.iter().product();
        let pairs: Vec<(usize, usize)> =
            (0..nc).flat_map(|c| (c..nc).map(move |d| (c, d))).collect();
        let offset = |p: usize| {
            [
                p / (kdims[1] * kdims[2]),
                (p / kdims[2]) % kdims[1],
                p % kdims[2],
            ]
        };
        let mut planes = vec![C32::new(0.0, 0.0); pairs.len() * npix];
        for (k, &(c, d)) in pairs.iter().enumerate() {
            for p in 0..kk {
                for q in 0..kk {
                    let (pp, qq) = (offset(p), offset(q));
                    let g: [usize; 3] = std::array::from_fn(|a| {
                        let off = pp[a] as isize - qq[a] as isize;
                        (gdims[a] as isize / 2 + off).rem_euclid(gdims[a] as isize) as usize
                    });
                    let x = proj[(p * nc + c, q * nc + d)] / kk as f64;
                    planes[k * npix + (g[0] * gdims[1] + g[1]) * gdims[2] + g[2]] +=
                        C32::new(x.re as f32, x.im as f32);
                }
            }
        }
        inverse_fft_spatial(
            &CpuBackend::new(),
            &planes,
            pairs.len(),
            gdims,
            (npix as f32).sqrt(),
        )
    }

    #[test]
    fn image_gram_matches_the_zero_padded_fft() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        // 2-D even, 2-D odd with the kernel support wider than the grid (wrap-around), 3-D odd.
        for (kdims, gdims, nc) in [
            ([1, 4, 4], [1, 16, 12], 3),
            ([1, 6, 6], [1, 9, 10], 2),
            ([2, 3, 3], [5, 8, 7], 3),
        ] {
            let ncols = kdims.iter().product::<usize>() * nc;
            let v = faer::Mat::<C64>::from_fn(ncols, 5, |_, _| rng.c64());
            let proj = &v * v.adjoint();
            let planes = fft_planes(proj.as_ref(), kdims, nc, gdims);
            let gram = ImageGram::new(v.as_ref(), kdims, nc, gdims);
            let npix: usize = gdims.iter().product();
            let np = gram.pairs.len();
            let mut ws = GramRow::default();
            let (mut err, mut top) = (0.0f64, 0.0f64);
            for row in 0..gdims[0] * gdims[1] {
                gram.load_row(row, &mut ws);
                for x in 0..gdims[2] {
                    gram.pixel(x, &mut ws);
                    for k in 0..np {
                        let old = planes[k * npix + row * gdims[2] + x];
                        let new = C64::new(ws.g_re[k], ws.g_im[k]);
                        let old = C64::new(f64::from(old.re), f64::from(old.im));
                        err = err.max((new - old).norm());
                        top = top.max(old.norm());
                    }
                }
            }
            // The FFT path is single precision.
            assert!(
                err <= 1e-5 * top,
                "kernel {kdims:?} grid {gdims:?}: max |ΔG| {err:e} of {top:e}"
            );
        }
    }

    #[test]
    fn signal_subspace_from_the_small_gram_matches_the_covariance() {
        // A rank-6 signal plus small noise, 30 patches × 48 columns (fewer rows than columns).
        let mut rng = Rng(12345);
        let (nrows, ncols, rank) = (30, 48, 6);
        let left = faer::Mat::<C64>::from_fn(nrows, rank, |_, _| rng.c64());
        let right = faer::Mat::<C64>::from_fn(rank, ncols, |_, _| rng.c64());
        let noise = faer::Mat::<C64>::from_fn(nrows, ncols, |_, _| rng.c64() * 1e-3);
        let a = &left * &right + noise;
        let threshold = 0.001;
        let v = signal_subspace(
            nrows,
            ncols,
            |r, row: &mut [C64]| {
                for (j, x) in row.iter_mut().enumerate() {
                    *x = a[(r, j)];
                }
            },
            threshold,
        )
        .unwrap();
        // Reference: the eigenvectors of AᴴA (the covariance route).
        let cov = a.adjoint() * &a;
        let evd = cov.self_adjoint_eigen(faer::Side::Lower).unwrap();
        let vals = evd.S().column_vector();
        let lmax = vals[ncols - 1].re;
        let nk = (0..ncols)
            .filter(|&i| vals[i].re > threshold * lmax)
            .count();
        assert_eq!(nk, rank);
        assert_eq!(v.ncols(), nk);
        let u = evd.U().subcols(ncols - nk, nk);
        let diff = &v * v.adjoint() - u * u.adjoint();
        let err = (0..ncols)
            .flat_map(|i| (0..ncols).map(move |j| (i, j)))
            .map(|(i, j)| diff[(i, j)].norm())
            .fold(0.0f64, f64::max);
        assert!(err < 1e-10, "projectors differ by {err:e}");
    }

    /// Small synthetic multi-coil k-space `[coil, z, y, x]`: an ellipse times smooth complex
    /// coil maps, plus a little noise.
    fn synthetic_kspace(nc: usize, dims: [usize; 3]) -> Vec<C32> {
        let be = CpuBackend::new();
        let npix: usize = dims.iter().product();
        let mut rng = Rng(777);
        let mut img = vec![C32::new(0.0, 0.0); nc * npix];
        for c in 0..nc {
            let t = 2.0 * std::f64::consts::PI * c as f64 / nc as f64;
            for i in 0..npix {
                let (z, y, x) = (
                    i / (dims[1] * dims[2]),
                    (i / dims[2]) % dims[1],
                    i % dims[2],
                );
                let u: [f64; 3] = std::array::from_fn(|a| {
                    let p = [z, y, x][a] as f64;
                    (p - (dims[a] / 2) as f64) / (dims[a] as f64 / 2.0).max(1.0)
                });
                let inside = (u[1] / 0.7).powi(2) + (u[2] / 0.8).powi(2) + u[0].powi(2) < 1.0;
                let rho = if inside { 1.0 + 0.3 * u[2] } else { 0.0 };
                let d2 = (u[2] - 1.2 * t.cos()).powi(2) + (u[1] - 1.2 * t.sin()).powi(2);
                let s = C64::from_polar((-d2 / 1.2).exp(), t + 0.5 * u[2] - 0.3 * u[1]);
                let v = s * rho + rng.c64() * 1e-3;
                img[c * npix + i] = C32::new(v.re as f32, v.im as f32);
            }
        }
        let mut k = be.upload(&img);
        be.fft(
            &mut k,
            &[nc, dims[0], dims[1], dims[2]],
            &[1, 2, 3],
            FftDirection::Forward,
        );
        be.download(&k)
    }

    /// ESPIRiT the way the FFT implementation did it, with a direct eigendecomposition per
    /// pixel: coil-major maps (before phase normalisation) and eigenvalues.
    fn reference_maps(
        k: &[C32],
        nc: usize,
        dims: [usize; 3],
        opts: &EspiritOptions,
    ) -> (Vec<C32>, Vec<f32>) {
        let cal: [usize; 3] = std::array::from_fn(|i| if dims[i] == 1 { 1 } else { opts.calib });
        let kdims: [usize; 3] = std::array::from_fn(|i| if dims[i] == 1 { 1 } else { opts.kernel });
        let start: [usize; 3] = std::array::from_fn(|i| crop_start(dims[i], cal[i]));
        let kk: usize = kdims.iter().product();
        let pos: [usize; 3] = std::array::from_fn(|i| cal[i] - kdims[i] + 1);
        let nrows: usize = pos.iter().product();
        let ncols = kk * nc;
        let npix: usize = dims.iter().product();
        let a = faer::Mat::<C64>::from_fn(nrows, ncols, |r, j| {
            let (p, c) = (j / nc, j % nc);
            let q = [r / (pos[1] * pos[2]), (r / pos[2]) % pos[1], r % pos[2]];
            let o = [
                p / (kdims[1] * kdims[2]),
                (p / kdims[2]) % kdims[1],
                p % kdims[2],
            ];
            let g: [usize; 3] = std::array::from_fn(|i| start[i] + q[i] + o[i]);
            let v = k[c * npix + (g[0] * dims[1] + g[1]) * dims[2] + g[2]];
            C64::new(f64::from(v.re), -f64::from(v.im))
        });
        let cov = a.adjoint() * &a;
        let evd = cov.self_adjoint_eigen(faer::Side::Lower).unwrap();
        let vals = evd.S().column_vector();
        let lmax = vals[ncols - 1].re;
        let nk = (0..ncols)
            .filter(|&i| vals[i].re > opts.threshold * lmax)
            .count();
        let u = evd.U().subcols(ncols - nk, nk);
        let proj = u * u.adjoint();
        let planes = fft_planes(proj.as_ref(), kdims, nc, dims);
        let pairs: Vec<(usize, usize)> =
            (0..nc).flat_map(|c| (c..nc).map(move |d| (c, d))).collect();
        let mut maps = vec![C32::new(0.0, 0.0); npix * nc];
        let mut eig = vec![0.0f32; npix];
        for i in 0..npix {
            let mut g = faer::Mat::<C64>::zeros(nc, nc);
            for (k, &(c, d)) in pairs.iter().enumerate() {
                let x = planes[k * npix + i];
                let x = C64::new(f64::from(x.re), if c == d { 0.0 } else { f64::from(x.im) });
                g[(c, d)] = x;
                g[(d, c)] = x.conj();
            }
            let e = g.self_adjoint_eigen(faer::Side::Lower).unwrap();
            let lambda = e.S().column_vector()[nc - 1].re as f32;
            eig[i] = lambda;
            if lambda > opts.crop {
                for c in 0..nc {
                    let x = e.U()[(c, nc - 1)];
                    maps[c * npix + i] = C32::new(x.re as f32, x.im as f32);
                }
            }
        }
        (maps, eig)
    }

    #[test]
    fn espirit_maps_match_a_direct_eigendecomposition() {
        let be = CpuBackend::new();
        for (nc, dims, calib, kernel) in [(6, [1, 40, 36], 16, 5), (4, [10, 16, 14], 10, 3)] {
            let k = synthetic_kspace(nc, dims);
            let opts = EspiritOptions {
                calib,
                kernel,
                ..EspiritOptions::default()
            };
            let mut shape = vec![nc];
            shape.extend(dims.iter().skip(usize::from(dims[0] == 1)));
            let est = espirit(&be, &be.upload(&k), &shape, &opts).unwrap();
            let (mut reference, ref_eig) = reference_maps(&k, nc, dims, &opts);
            normalise_phase(&mut reference, nc, opts.phase).unwrap();
            let maps = be.download(&est.maps);
            let npix: usize = dims.iter().product();
            let (mut inside, mut worst, mut worst_ev) = (0, 0.0f32, 0.0f32);
            for i in 0..npix {
                worst_ev = worst_ev.max((est.eigenvalues[i] - ref_eig[i]).abs());
                let (a, b) = (est.eigenvalues[i] > opts.crop, ref_eig[i] > opts.crop);
                // Crop decisions agree except within rounding of the threshold.
                if a != b {
                    assert!(
                        (ref_eig[i] - opts.crop).abs() < 1e-5,
                        "pixel {i} cropped differently"
                    );
                    continue;
                }
                if a {
                    inside += 1;
                    // Distance up to a global phase (the phase reference is checked elsewhere).
                    let ov: C32 = (0..nc)
                        .map(|c| maps[c * npix + i].conj() * reference[c * npix + i])
                        .sum();
                    let rot = ov.conj() / ov.norm();
                    let d: f32 = (0..nc)
                        .map(|c| (maps[c * npix + i] - rot * reference[c * npix + i]).norm_sqr())
                        .sum::<f32>()
                        .sqrt();
                    worst = worst.max(d);
                } else {
                    assert!((0..nc).all(|c| maps[c * npix + i] == C32::new(0.0, 0.0)));
                }
            }
            println!("{dims:?}: {inside} px inside, max ‖Δs‖ {worst:e}, max |Δλ| {worst_ev:e}");
            assert!(
                inside > npix / 4,
                "{dims:?}: only {inside} pixels inside the crop"
            );
            // Eigenvectors: the solver's bound is 1e-6, the FFT path single precision.
            assert!(worst < 2e-5, "{dims:?}: maps differ by up to {worst:e}");
            assert!(
                worst_ev < 1e-5,
                "{dims:?}: eigenvalues differ by up to {worst_ev:e}"
            );
        }
    }
}
