//! GRAPPA (Griswold et al. 2002): missing Cartesian k-space samples as linear combinations of
//! the acquired neighbours of all coils, with weights fitted on a fully sampled calibration
//! (ACS) block.
//!
//! Semantics follow `pygrappa.grappa(kspace, calib, kernel_size=(5, 5), lamda=0.01)` (the
//! reference reconstructions in `shared/ref/ismrmrd` use it), generalised to 3-D:
//! - A sample is acquired when any coil is non-zero there; holes are the other samples.
//! - The kernel is a box of `kernel` samples per axis around the target: offsets
//!   `o − k/2` for `o ∈ [0, k)` (odd kernels are centred, even ones reach one further left).
//! - Every hole's *sampling pattern* (which offsets of its box are acquired; outside the grid
//!   counts as not acquired) selects the sources; holes whose box holds no sample stay zero.
//! - Weights per pattern solve the Tikhonov-regularised normal equations
//!   `(SᴴS + λ₀ I) W = SᴴT` with `λ₀ = lamda · ‖SᴴS‖_F / n_sources` (pygrappa's scaling),
//!   `S` the sources and `T` the targets of every calibration window. With
//!   [`CalibWindows::ZeroPadded`] (pygrappa) every calibration sample is a target and the
//!   block is zero padded; [`CalibWindows::Inside`] uses only windows inside the block.
//!
//! Speed:
//! - Calibration: the Gram matrix `AᴴA` of all (offset, coil) columns over the calibration
//!   windows is built once, in `f64`, from the block's auto- and cross-correlations at the
//!   kernel's lags `o₂ − o₁` (half of them: the rest by Hermitian symmetry; only the upper
//!   block triangle is stored), not from the window matrix `A`, which repeats every sample
//!   once per kernel offset. Entry `(o₁, c₁; o₂, c₂)` is `Σ_u conj(x_c₁(u)) x_c₂(u + o₂ − o₁)`
//!   over the samples `u` whose window position `u − o₁` is a target: a box that differs from
//!   the whole block only in the first and last `k − 1` samples per axis. So the sums are
//!   kept per *edge category* (a sample's capped distance to either end of an axis): per
//!   group of rows along z and y, and along x as whole rows minus the edge columns. The
//!   whole-row sums come from the FFT along x (`conj(X̂₁)·X̂₂` summed over a group's rows, one
//!   small `faer` product per frequency, then the inverse DFT at the `2k − 1` x lags as one
//!   product), the edge columns from direct `faer` products; every entry adds the categories
//!   its box includes.
//! - Weights: each pattern's `SᴴS` and `SᴴT` are sub-blocks of the Gram matrix, so a new
//!   pattern costs one Cholesky solve (patterns in parallel); weights are cached per pattern
//!   in [`Grappa`] (shared by every frame of an acquisition, e.g. the shifted frames of
//!   interleaved data).
//! - Filling: the holes of a k-space row that share a pattern form runs along `kx`. The
//!   sources of a run, for one source row and a run of consecutive `kx` offsets, are a
//!   strided (Hankel) view of a coil-last copy of the acquired rows, so each run is filled by
//!   a few `faer` products (`holes × sources` by `sources × coils`) without gathering the
//!   sources; rows are filled in parallel (rayon) and written straight into the k-space.
//!
//! The inner code runs on the host: [`Grappa::fill`] downloads and uploads the backend
//! buffer, [`Grappa::fill_host`] works in place on host memory.
//!
//! # References
//! - Griswold MA, Jakob PM, Heidemann RM, Nittka M, Jellus V, Wang J, Kiefer B, Haase A.
//!   Generalized autocalibrating partially parallel acquisitions (GRAPPA). Magn Reson Med
//!   2002;47:1202–1210.
//! - McKibben N. pygrappa (`pygrappa/grappa.py`), <https://github.com/mckib2/pygrappa>.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::matmul::matmul;
use faer::{Accum, Conj, Mat, MatMut, MatRef, Par};
use rayon::prelude::*;

use crate::backend::{Backend, C32, C64};
use crate::coils::{split_coil_buffer, split_shape};
use crate::error::{ReconError, Result};

const STAGE: &str = "grappa";

/// Most kernel offsets a pattern key holds (`5×5×5 = 125` fits; `7×7×7` does not).
const MAX_OFFSETS: usize = 256;

/// Frequencies per task of the calibration correlations.
const FREQ_CHUNK: usize = 32;

/// Frequencies per task of the calibration spectra's transposition.
const SPECTRA_TILE: usize = 16;

/// Which calibration windows fit the weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CalibWindows {
    /// Every calibration sample is a target, the block zero padded (pygrappa).
    #[default]
    ZeroPadded,
    /// Only windows entirely inside the calibration block.
    Inside,
}

/// GRAPPA parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct GrappaOptions {
    /// Kernel size per spatial axis: `[ky, kx]` (2-D) or `[kz, ky, kx]` (3-D).
    pub kernel: Vec<usize>,
    /// Tikhonov regularisation, relative to `‖SᴴS‖_F / n_sources` (pygrappa `lamda`).
    pub lamda: f64,
    /// Which calibration windows fit the weights.
    pub calib_windows: CalibWindows,
}

impl Default for GrappaOptions {
    fn default() -> Self {
        GrappaOptions {
            kernel: vec![5, 5],
            lamda: 0.01,
            calib_windows: CalibWindows::ZeroPadded,
        }
    }
}

/// A sampling pattern of the kernel box, one bit per offset.
type PatternKey = [u64; MAX_OFFSETS / 64];

/// Sources of a pattern that lie on one source row at consecutive `kx` offsets.
#[derive(Debug, Clone, Copy)]
struct Segment {
    /// Row offset `[dz, dy]` of the sources relative to the target.
    drow: [isize; 2],
    /// `kx` offset of the first source.
    dx0: isize,
    /// Number of consecutive `kx` offsets.
    len: usize,
    /// Index of the first source in the pattern's source list.
    first: usize,
}

/// Weights of one pattern.
#[derive(Debug)]
struct PatternWeights {
    /// The sources, grouped in runs along `kx`.
    segments: Vec<Segment>,
    /// Weights, `[source · nc + source coil][target coil]`.
    w: Vec<C32>,
}

/// A calibrated GRAPPA operator: the calibration Gram matrix and the weights of every
/// sampling pattern met so far.
#[derive(Debug)]
pub struct Grappa {
    nc: usize,
    rank: usize,
    kdims: [usize; 3],
    lamda: f64,
    gram: Gram,
    cache: Mutex<HashMap<PatternKey, Arc<PatternWeights>>>,
}

fn fmt_dims(d: &[usize]) -> String {
    d.iter()
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join("×")
}

fn unravel(i: usize, d: [usize; 3]) -> [usize; 3] {
    [i / (d[1] * d[2]), (i / d[2]) % d[1], i % d[2]]
}

/// Samples of one axis of the calibration block that enter the same sums: `u` is in the
/// target box of kernel offset `o` iff `min(u, amax) ≥ a(o)` and `min(C−1−u, bmax) ≥ b(o)`.
#[derive(Debug, Clone, Copy)]
struct Category {
    /// First sample.
    start: usize,
    /// One past the last sample.
    end: usize,
    /// `min(u, amax)`.
    p: usize,
    /// `min(C − 1 − u, bmax)`.
    q: usize,
}

/// The calibration windows along one axis.
#[derive(Debug, Clone)]
struct AxisWindows {
    /// Samples excluded at the start / end of the block for each kernel offset `o ∈ [0, k)`.
    excl: Vec<(usize, usize)>,
    /// The edge categories, in order along the axis.
    cats: Vec<Category>,
}

impl AxisWindows {
    /// Axis of `c` calibration samples, kernel `k`, targets `[lo, lo + cnt)`.
    fn new(c: usize, k: usize, lo: usize, cnt: usize) -> AxisWindows {
        let h = k / 2;
        // Offset o reads sample t + o − h for targets t ∈ [lo, lo + cnt): the samples
        // [lo + o − h, lo + cnt + o − h) ∩ [0, c).
        let excl: Vec<(usize, usize)> = (0..k)
            .map(|o| {
                let a = (lo + o).saturating_sub(h);
                let b = c.saturating_sub((lo + cnt + o).saturating_sub(h));
                (a, b)
            })
            .collect();
        let amax = excl.iter().map(|e| e.0).max().unwrap_or(0);
        let bmax = excl.iter().map(|e| e.1).max().unwrap_or(0);
        let mut cats: Vec<Category> = Vec::new();
        for u in 0..c {
            let (p, q) = (u.min(amax), (c - 1 - u).min(bmax));
            match cats.last_mut() {
                Some(last) if last.p == p && last.q == q => last.end = u + 1,
                _ => cats.push(Category {
                    start: u,
                    end: u + 1,
                    p,
                    q,
                }),
            }
        }
        AxisWindows { excl, cats }
    }

    /// Whether category `g` lies in the target box of kernel offset `o`.
    fn includes(&self, g: usize, o: usize) -> bool {
        let (a, b) = self.excl[o];
        self.cats[g].p >= a && self.cats[g].q >= b
    }
}

/// The calibration block around the columns `[xs, xe)`, coil last, in `f64`: the columns
/// `[xs − (k−1), xe + (k−1))` (zero outside the block), z and y zero padded by `k − 1`.
struct EdgeStrip {
    data: Vec<C64>,
    nc: usize,
    /// Padding of z and y.
    pad: [usize; 2],
    /// Padded sizes: z, y, and the strip width.
    dims: [usize; 3],
    /// The block column held in the strip's first column.
    first: isize,
}

impl EdgeStrip {
    fn new(
        data: &[C32],
        nc: usize,
        cdims: [usize; 3],
        kdims: [usize; 3],
        xs: usize,
        xe: usize,
    ) -> Self {
        let [cz, cy, cx] = cdims;
        let pad = [kdims[0] - 1, kdims[1] - 1];
        let mx = kdims[2] - 1;
        let dims = [cz + 2 * pad[0], cy + 2 * pad[1], xe - xs + 2 * mx];
        let first = xs as isize - mx as isize;
        let mut out = vec![C64::new(0.0, 0.0); dims.iter().product::<usize>() * nc];
        let cpix = cz * cy * cx;
        out.par_chunks_mut(dims[2] * nc)
            .enumerate()
            .for_each(|(r, dst)| {
                let (z, y) = (r / dims[1], r % dims[1]);
                if z < pad[0] || z >= pad[0] + cz || y < pad[1] || y >= pad[1] + cy {
                    return;
                }
                let row = ((z - pad[0]) * cy + (y - pad[1])) * cx;
                for (j, px) in dst.chunks_mut(nc).enumerate() {
                    let x = first + j as isize;
                    if x < 0 || x >= cx as isize {
                        continue;
                    }
                    for (c, v) in px.iter_mut().enumerate() {
                        let s = data[c * cpix + row + x as usize];
                        *v = C64::new(f64::from(s.re), f64::from(s.im));
                    }
                }
            });
        EdgeStrip {
            data: out,
            nc,
            pad,
            dims,
            first,
        }
    }

    /// Point index of block sample `(z, y, x)` shifted by `d`.
    fn point(&self, u: [usize; 3], d: [isize; 3]) -> usize {
        let pz = (u[0] + self.pad[0]) as isize + d[0];
        let py = (u[1] + self.pad[1]) as isize + d[1];
        let px = u[2] as isize - self.first + d[2];
        ((pz * self.dims[1] as isize + py) * self.dims[2] as isize + px) as usize
    }

    /// `rows × cols` view starting at point `p`, consecutive rows one padded row apart
    /// (columns run over the coils of consecutive points: overlapping rows when
    /// `cols > nc`).
    fn view(&self, p: usize, rows: usize, cols: usize) -> MatRef<'_, C64> {
        MatRef::from_row_major_slice_with_stride(
            &self.data[p * self.nc..],
            rows,
            cols,
            self.dims[2] * self.nc,
        )
    }
}

/// Smallest length `≥ n` whose only prime factors are 2, 3 and 5 (fast FFTs).
fn smooth_len(n: usize) -> usize {
    (n.max(1)..)
        .find(|&m| {
            let mut r = m;
            for p in [2, 3, 5] {
                while r % p == 0 {
                    r /= p;
                }
            }
            r == 1
        })
        .unwrap_or(n)
}

/// The calibration rows Fourier transformed along x (zero padded to `len`), laid out
/// `[z][k][y][coil]` with `k − 1` zero planes / rows on both sides of z and y, so that the
/// rows of one frequency, all coils, are consecutive: the sources at every y lag of a group of
/// rows are one strided view.
struct RowSpectra {
    data: Vec<C64>,
    nc: usize,
    /// FFT length.
    len: usize,
    /// Padding of z and y.
    pad: [usize; 2],
    /// Padded sizes of z and y.
    dims: [usize; 2],
}

impl RowSpectra {
    fn new(data: &[C32], nc: usize, cdims: [usize; 3], kdims: [usize; 3], len: usize) -> Self {
        let [cz, cy, cx] = cdims;
        let pad = [kdims[0] - 1, kdims[1] - 1];
        let dims = [cz + 2 * pad[0], cy + 2 * pad[1]];
        let zero = C64::new(0.0, 0.0);
        let fft = rustfft::FftPlanner::<f64>::new().plan_fft_forward(len);
        // Every (z, y, coil) row, transformed: [z][y][coil][k].
        let mut lines = vec![zero; cz * cy * nc * len];
        lines.par_chunks_mut(len).enumerate().for_each_init(
            || vec![zero; fft.get_inplace_scratch_len()],
            |scratch, (i, line)| {
                let (zy, c) = (i / nc, i % nc);
                let src = &data[c * cz * cy * cx + zy * cx..][..cx];
                for (d, s) in line.iter_mut().zip(src) {
                    *d = C64::new(f64::from(s.re), f64::from(s.im));
                }
                fft.process_with_scratch(line, scratch);
            },
        );
        // Transposed into [z][k][y][coil], SPECTRA_TILE frequencies per task (reads of whole
        // cache lines).
        let mut out = vec![zero; dims[0] * len * dims[1] * nc];
        out.par_chunks_mut(len * dims[1] * nc)
            .enumerate()
            .for_each(|(z, slab)| {
                if z < pad[0] || z >= pad[0] + cz {
                    return;
                }
                slab.par_chunks_mut(SPECTRA_TILE * dims[1] * nc)
                    .enumerate()
                    .for_each(|(t, planes)| {
                        let k0 = t * SPECTRA_TILE;
                        let nk = planes.len() / (dims[1] * nc);
                        for y in 0..cy {
                            for c in 0..nc {
                                let line = (((z - pad[0]) * cy + y) * nc + c) * len + k0;
                                for (j, &v) in lines[line..line + nk].iter().enumerate() {
                                    planes[(j * dims[1] + pad[1] + y) * nc + c] = v;
                                }
                            }
                        }
                    });
            });
        RowSpectra {
            data: out,
            nc,
            len,
            pad,
            dims,
        }
    }

    /// `rows × cols` view of frequency `k` from calibration row `(z, y)` on (consecutive
    /// rows, columns over the coils of consecutive rows).
    fn view(&self, z: isize, k: usize, y: isize, rows: usize, cols: usize) -> MatRef<'_, C64> {
        let zp = (z + self.pad[0] as isize) as usize;
        let yp = (y + self.pad[1] as isize) as usize;
        let p = ((zp * self.len + k) * self.dims[1] + yp) * self.nc;
        MatRef::from_row_major_slice_with_stride(&self.data[p..], rows, cols, self.nc)
    }
}

/// Groups of calibration rows summed together: every (z, y) row of one z category and one y
/// category, per z plane.
#[derive(Debug, Clone, Copy)]
struct RowGroup {
    /// Index of the (z, y) category pair.
    gzy: usize,
    /// The plane.
    z: usize,
    /// The rows `[y0, y1)`.
    y0: usize,
    y1: usize,
}

/// The Hermitian calibration Gram matrix, `kk·nc` square: its upper block triangle (blocks of
/// `nc × nc` per pair of kernel offsets `o₁ ≤ o₂`), packed by block rows.
#[derive(Debug)]
struct Gram {
    /// Size (`kk · nc`).
    n: usize,
    nc: usize,
    data: Vec<C64>,
    /// Start of every block row in `data`.
    offsets: Vec<usize>,
}

impl Gram {
    fn zeros(kk: usize, nc: usize) -> Gram {
        let n = kk * nc;
        let offsets: Vec<usize> = (0..kk)
            .scan(0, |acc, o| {
                let start = *acc;
                *acc += nc * (n - o * nc);
                Some(start)
            })
            .collect();
        let total = offsets.last().map_or(0, |&s| s + nc * nc);
        Gram {
            n,
            nc,
            data: vec![C64::new(0.0, 0.0); total],
            offsets,
        }
    }

    /// Entry `(i, j)`.
    #[cfg(test)]
    fn get(&self, i: usize, j: usize) -> C64 {
        let (bi, bj) = (i / self.nc, j / self.nc);
        if bi > bj {
            return self.get(j, i).conj();
        }
        let w = self.n - bi * self.nc;
        self.data[self.offsets[bi] + (i - bi * self.nc) * w + (j - bi * self.nc)]
    }

    /// The rows of the kernel offsets `rows` and the columns of `cols` (all coils of each),
    /// column major; read a block row at a time.
    fn gather(&self, rows: &[usize], cols: &[usize]) -> Vec<C64> {
        let nc = self.nc;
        let nr = rows.len() * nc;
        let mut m = vec![C64::new(0.0, 0.0); nr * cols.len() * nc];
        for (bj, &oj) in cols.iter().enumerate() {
            for (bi, &oi) in rows.iter().enumerate() {
                let (lo, hi) = (oi.min(oj), oi.max(oj));
                let w = self.n - lo * nc;
                let block = &self.data[self.offsets[lo] + (hi - lo) * nc..];
                for a in 0..nc {
                    let src = &block[a * w..a * w + nc];
                    if oi <= oj {
                        // Row c1 = a of block (oi, oj) into row bi·nc + a.
                        for (c2, &v) in src.iter().enumerate() {
                            m[bi * nc + a + (bj * nc + c2) * nr] = v;
                        }
                    } else {
                        // Row c2 = a of block (oj, oi), conjugated, into column bj·nc + a.
                        let col = (bj * nc + a) * nr + bi * nc;
                        for (d, &v) in m[col..col + nc].iter_mut().zip(src) {
                            *d = v.conj();
                        }
                    }
                }
            }
        }
        m
    }

    /// The block rows, mutable: row-major `nc × (n − o·nc)`, columns from `o·nc`.
    fn block_rows_mut(&mut self) -> Vec<&mut [C64]> {
        let mut rest: &mut [C64] = &mut self.data;
        let mut out = Vec::with_capacity(self.offsets.len());
        for o in 0..self.offsets.len() {
            let (head, tail) = rest.split_at_mut(self.nc * (self.n - o * self.nc));
            out.push(head);
            rest = tail;
        }
        out
    }
}

/// The calibration Gram matrix `AᴴA` from the correlations of the calibration block `data`
/// `[coil, z, y, x]` at every kernel lag (see the module docs).
///
/// Per row lag `(dz, dy)`, group of rows (one z and one y category) and x category `g` of the
/// first sample, the sums `S[c₁, (dx, c₂)] = Σ conj(x_c₁(u)) x_c₂(u + (dz, dy, dx))` over the
/// samples `u` of the group and category: whole rows through the FFT along x (`conj(X̂₁)·X̂₂`
/// summed over the rows of the group per frequency, then the inverse DFT at the `2k − 1`
/// lags), the first and last columns directly. The block of offsets `o₁ ≤ o₂` adds the
/// groups its target box includes: whole rows minus the edge categories it excludes.
fn calibration_gram(
    data: &[C32],
    nc: usize,
    cdims: [usize; 3],
    kdims: [usize; 3],
    windows: CalibWindows,
) -> Gram {
    let half: [usize; 3] = std::array::from_fn(|a| kdims[a] / 2);
    let axes: [AxisWindows; 3] = std::array::from_fn(|a| match windows {
        CalibWindows::ZeroPadded => AxisWindows::new(cdims[a], kdims[a], 0, cdims[a]),
        CalibWindows::Inside => {
            AxisWindows::new(cdims[a], kdims[a], half[a], cdims[a] - kdims[a] + 1)
        }
    });
    let kk: usize = kdims.iter().product();
    let n = kk * nc;
    let (mz, my, mx) = (
        kdims[0] as isize - 1,
        kdims[1] as isize - 1,
        kdims[2] as isize - 1,
    );
    let lx = 2 * kdims[2] - 1;
    let (ngz, ngy, ngx) = (axes[0].cats.len(), axes[1].cats.len(), axes[2].cats.len());
    let ngzy = ngz * ngy;
    // The x category whose sums are whole rows minus the others: the widest (it is in every
    // offset's box).
    let xmid = (0..ngx)
        .max_by_key(|&g| axes[2].cats[g].end - axes[2].cats[g].start)
        .unwrap_or(0);
    let edge_x: Vec<usize> = (0..ngx).filter(|&g| g != xmid).collect();
    let strips: Vec<EdgeStrip> = edge_x
        .iter()
        .map(|&g| {
            let c = axes[2].cats[g];
            EdgeStrip::new(data, nc, cdims, kdims, c.start, c.end)
        })
        .collect();
    let len = smooth_len(cdims[2] + kdims[2] - 1);
    let spec = RowSpectra::new(data, nc, cdims, kdims, len);
    // Inverse DFT at the x lags: e[k, j] = exp(2πi k (j − mx) / len) / len.
    let idft = Mat::<C64>::from_fn(len, lx, |k, j| {
        let t = (k as isize * (j as isize - mx)).rem_euclid(len as isize) as f64 / len as f64;
        C64::from_polar(1.0 / len as f64, 2.0 * std::f64::consts::PI * t)
    });
    let groups: Vec<RowGroup> = (0..ngz)
        .flat_map(|gz| (0..ngy).map(move |gy| (gz, gy)))
        .flat_map(|(gz, gy)| {
            let (cz, cy) = (axes[0].cats[gz], axes[1].cats[gy]);
            (cz.start..cz.end).map(move |z| RowGroup {
                gzy: gz * ngy + gy,
                z,
                y0: cy.start,
                y1: cy.end,
            })
        })
        .collect();
    let batch = 2 * rayon::current_num_threads();
    let (zero, one) = (C64::new(0.0, 0.0), C64::new(1.0, 0.0));
    let mut gram = Gram::zeros(kk, nc);
    // Edge-column sums of one row lag: [(z, y) categories][edge x category],
    // [(dx, c2), c1] = Σ conj(x_c1(u)) x_c2(u + (dz, dy, dx)).
    let mut edges: Vec<Mat<C64>> = (0..ngzy * edge_x.len())
        .map(|_| Mat::zeros(lx * nc, nc))
        .collect();
    // Row lags, half of them: dz > 0 (every dy), or dz = 0 and dy ≥ 0.
    for dz in 0..=mz {
        let dlo = if dz == 0 { 0 } else { -my };
        let ndy = (my - dlo + 1) as usize;
        let ncol = nc * ndy * nc;
        // Whole rows through the FFT, per (z, y) category pair: whole[(c1, dy, c2), dx] (c2
        // fastest) =
        // Σ_k e[k, dx] Σ_y conj(X̂(z, y, k))_c1 X̂(z + dz, y + dy, k)_c2, one task per group of
        // rows, FREQ_CHUNK frequencies at a time.
        let mut whole: Vec<Mat<C64>> = (0..ngzy).map(|_| Mat::zeros(ncol, lx)).collect();
        for chunk in groups.chunks(batch) {
            let parts: Vec<(usize, Mat<C64>)> = chunk
                .par_iter()
                .map_init(
                    || vec![zero; ncol * FREQ_CHUNK],
                    |q, g| {
                        let (z, y0, rows) = (g.z as isize, g.y0 as isize, g.y1 - g.y0);
                        let mut r = Mat::<C64>::zeros(ncol, lx);
                        for k0 in (0..len).step_by(FREQ_CHUNK) {
                            let nk = FREQ_CHUNK.min(len - k0);
                            for (i, col) in q.chunks_mut(ncol).take(nk).enumerate() {
                                matmul(
                                    MatMut::from_column_major_slice_mut(col, ndy * nc, nc),
                                    Accum::Replace,
                                    spec.view(z + dz, k0 + i, y0 + dlo, rows, ndy * nc)
                                        .transpose(),
                                    spec.view(z, k0 + i, y0, rows, nc).conjugate(),
                                    one,
                                    Par::Seq,
                                );
                            }
                            matmul(
                                r.as_mut(),
                                Accum::Add,
                                MatRef::from_column_major_slice(&q[..ncol * nk], ncol, nk),
                                idft.subrows(k0, nk),
                                one,
                                Par::Seq,
                            );
                        }
                        (g.gzy, r)
                    },
                )
                .collect();
            for (gzy, r) in parts {
                whole[gzy] += &r;
            }
        }
        for dyi in 0..ndy {
            let dy = dlo + dyi as isize;
            // The edge columns directly.
            edges.par_iter_mut().enumerate().for_each(|(i, m)| {
                let (gzy, e) = (i / edge_x.len(), i % edge_x.len());
                let (gx, blk) = (edge_x[e], &strips[e]);
                let (gz, gy) = (gzy / ngy, gzy % ngy);
                let (cz, cy, cx) = (axes[0].cats[gz], axes[1].cats[gy], axes[2].cats[gx]);
                let rows = cy.end - cy.start;
                m.as_mut().fill(zero);
                for z in cz.start..cz.end {
                    for x in cx.start..cx.end {
                        let p = blk.point([z, cy.start, x], [0, 0, 0]);
                        let q = blk.point([z, cy.start, x], [dz, dy, -mx]);
                        matmul(
                            m.as_mut(),
                            Accum::Add,
                            blk.view(q, rows, lx * nc).transpose(),
                            blk.view(p, rows, nc).conjugate(),
                            one,
                            Par::Seq,
                        );
                    }
                }
            });
            // Blocks (o1, o2 = o1 + lag), o2 after o1 in the flattened order.
            let (whole, edges, axes) = (&whole, &edges, &axes);
            gram.block_rows_mut()
                .into_par_iter()
                .enumerate()
                .for_each(|(o1, dst)| {
                    let [oz, oy, ox] = unravel(o1, kdims);
                    let (tz, ty) = (oz as isize + dz, oy as isize + dy);
                    if tz >= kdims[0] as isize || ty < 0 || ty >= kdims[1] as isize {
                        return;
                    }
                    let w = n - o1 * nc;
                    let incl: Vec<usize> = (0..ngzy)
                        .filter(|&g| axes[0].includes(g / ngy, oz) && axes[1].includes(g % ngy, oy))
                        .collect();
                    // Whole rows minus the excluded edge columns or, when the middle
                    // category is excluded too (small inside-window blocks), the included
                    // edge columns alone.
                    let mid_in = axes[2].includes(xmid, ox);
                    let sel_x: Vec<usize> = (0..edge_x.len())
                        .filter(|&e| axes[2].includes(edge_x[e], ox) != mid_in)
                        .collect();
                    for dx in -mx..=mx {
                        let tx = ox as isize + dx;
                        if tx < 0 || tx >= kdims[2] as isize || (dz == 0 && dy == 0 && dx < 0) {
                            continue;
                        }
                        let o2 = ((tz as usize) * kdims[1] + ty as usize) * kdims[2] + tx as usize;
                        let col0 = (o2 - o1) * nc;
                        let dxi = (dx + mx) as usize;
                        for c1 in 0..nc {
                            let row = &mut dst[c1 * w + col0..c1 * w + col0 + nc];
                            for &g in &incl {
                                if mid_in {
                                    let wc = &whole[g].col_as_slice(dxi)
                                        [(c1 * ndy + dyi) * nc..(c1 * ndy + dyi + 1) * nc];
                                    for (v, &a) in row.iter_mut().zip(wc) {
                                        *v += a;
                                    }
                                }
                                for &e in &sel_x {
                                    let ec = &edges[g * edge_x.len() + e].col_as_slice(c1)
                                        [dxi * nc..(dxi + 1) * nc];
                                    if mid_in {
                                        for (v, &a) in row.iter_mut().zip(ec) {
                                            *v -= a;
                                        }
                                    } else {
                                        for (v, &a) in row.iter_mut().zip(ec) {
                                            *v += a;
                                        }
                                    }
                                }
                            }
                        }
                    }
                });
        }
    }
    gram
}

/// Solves the Hermitian positive definite system `a x = b` in place (`b` becomes `x`) by
/// Cholesky, single-threaded (the patterns are solved in parallel); `false` when `a` is not
/// positive definite.
fn cholesky_solve(mut a: MatMut<'_, C64>, b: MatMut<'_, C64>) -> bool {
    let n = a.nrows();
    let mut mem = MemBuffer::new(
        faer::linalg::cholesky::llt::factor::cholesky_in_place_scratch::<C64>(
            n,
            Par::Seq,
            Default::default(),
        ),
    );
    let stack = MemStack::new(&mut mem);
    if faer::linalg::cholesky::llt::factor::cholesky_in_place(
        a.as_mut(),
        Default::default(),
        Par::Seq,
        stack,
        Default::default(),
    )
    .is_err()
    {
        return false;
    }
    faer::linalg::cholesky::llt::solve::solve_in_place_with_conj(
        a.as_ref(),
        Conj::No,
        b,
        Par::Seq,
        stack,
    );
    true
}

/// The slot (index among the acquired rows) of the row `drow` from row `[z, y]`.
fn source_slot(
    slot: &[usize],
    dims: [usize; 2],
    row: [isize; 2],
    drow: [isize; 2],
) -> Result<usize> {
    let (sz, sy) = (row[0] + drow[0], row[1] + drow[1]);
    if sz < 0 || sz >= dims[0] as isize || sy < 0 || sy >= dims[1] as isize {
        return Err(internal_source_error());
    }
    match slot[sz as usize * dims[1] + sy as usize] {
        usize::MAX => Err(internal_source_error()),
        s => Ok(s),
    }
}

/// A pattern's source outside the acquired samples: a bug, reported rather than a panic.
fn internal_source_error() -> ReconError {
    ReconError::stage(
        STAGE,
        "internal: a pattern's source lies outside the acquired rows",
    )
}

/// A run of holes along `kx` in one k-space row that share a pattern.
#[derive(Debug, Clone)]
struct Run {
    /// First hole's `kx`.
    x0: usize,
    /// Number of holes.
    len: usize,
    /// Their pattern.
    key: PatternKey,
    /// Index of the pattern's weights (set once every run is known).
    pid: usize,
}

impl Grappa {
    /// Fits the calibration Gram matrix on `calib` `[coil, (kz,) ky, kx]` (fully sampled).
    pub fn calibrate<B: Backend>(
        be: &B,
        calib: &B::Buf,
        calib_shape: &[usize],
        opts: &GrappaOptions,
    ) -> Result<Grappa> {
        let (nc, cdims) = split_shape(STAGE, calib_shape)?;
        let rank = calib_shape.len() - 1;
        if opts.kernel.len() != rank {
            return Err(ReconError::config(
                "grappa.kernel",
                format!(
                    "kernel {:?} has {} axes, the calibration data {}",
                    opts.kernel,
                    opts.kernel.len(),
                    rank
                ),
            ));
        }
        let mut kdims = [1usize; 3];
        kdims[3 - rank..].copy_from_slice(&opts.kernel);
        let kk: usize = kdims.iter().product();
        if kk == 0 || kk > MAX_OFFSETS {
            return Err(ReconError::config(
                "grappa.kernel",
                format!(
                    "kernel {:?} must have 1 to {MAX_OFFSETS} offsets",
                    opts.kernel
                ),
            ));
        }
        if !(opts.lamda >= 0.0 && opts.lamda.is_finite()) {
            return Err(ReconError::config(
                "grappa.lamda",
                format!("lamda {} must be finite and ≥ 0", opts.lamda),
            ));
        }
        if be.len(calib) != nc * cdims.iter().product::<usize>() {
            return Err(ReconError::shape(
                STAGE,
                format!(
                    "{} samples for calibration shape {calib_shape:?}",
                    be.len(calib)
                ),
            ));
        }
        if cdims.iter().zip(&kdims).any(|(c, k)| c < k) {
            return Err(ReconError::stage(
                STAGE,
                format!(
                    "calibration block {} is smaller than the kernel {}: too few calibration \
                     lines for the kernel",
                    fmt_dims(&calib_shape[1..]),
                    fmt_dims(&opts.kernel)
                ),
            ));
        }
        let data = be.download(calib);
        let gram = calibration_gram(&data, nc, cdims, kdims, opts.calib_windows);
        Ok(Grappa {
            nc,
            rank,
            kdims,
            lamda: opts.lamda,
            gram,
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// Number of sampling patterns whose weights have been computed so far.
    pub fn patterns(&self) -> usize {
        self.cache.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Weights for the pattern `key` (sources = its set offsets).
    fn solve(&self, key: &PatternKey) -> Result<PatternWeights> {
        let nc = self.nc;
        let kd = self.kdims;
        let kk: usize = kd.iter().product();
        let centre = {
            let h: [usize; 3] = std::array::from_fn(|i| kd[i] / 2);
            (h[0] * kd[1] + h[1]) * kd[2] + h[2]
        };
        let src: Vec<usize> = (0..kk)
            .filter(|&o| key[o / 64] >> (o % 64) & 1 == 1)
            .collect();
        let ns = src.len() * nc;
        let mut shs = self.gram.gather(&src, &src);
        let sht = self.gram.gather(&src, &[centre]);
        let fro = shs.iter().map(|v| v.norm_sqr()).sum::<f64>().sqrt();
        let lamda0 = self.lamda * fro / ns as f64;
        for i in 0..ns {
            shs[i * ns + i] += C64::new(lamda0, 0.0);
        }
        let mut w = sht.clone();
        let solved = cholesky_solve(
            MatMut::from_column_major_slice_mut(&mut shs, ns, ns),
            MatMut::from_column_major_slice_mut(&mut w, ns, nc),
        );
        let w = if solved {
            MatRef::from_column_major_slice(&w, ns, nc).to_owned()
        } else {
            // Not positive definite (lamda = 0 and a singular calibration): LU.
            use faer::linalg::solvers::Solve;
            let mut a = self.gram.gather(&src, &src);
            for i in 0..ns {
                a[i * ns + i] += C64::new(lamda0, 0.0);
            }
            MatRef::from_column_major_slice(&a, ns, ns)
                .partial_piv_lu()
                .solve(MatRef::from_column_major_slice(&sht, ns, nc))
        };
        let mut out = Vec::with_capacity(ns * nc);
        for i in 0..ns {
            for c in 0..nc {
                let v = w[(i, c)];
                if !(v.re.is_finite() && v.im.is_finite()) {
                    return Err(ReconError::numerical(
                        "grappa weights",
                        format!(
                            "non-finite weights for a pattern with {} sources (singular \
                             calibration; use lamda > 0)",
                            src.len()
                        ),
                    ));
                }
                out.push(C32::new(v.re as f32, v.im as f32));
            }
        }
        // Sources in runs of consecutive kx offsets on one source row.
        let mut segments: Vec<Segment> = Vec::new();
        for (i, &o) in src.iter().enumerate() {
            let oo = unravel(o, kd);
            let d: [isize; 3] = std::array::from_fn(|a| oo[a] as isize - (kd[a] / 2) as isize);
            match segments.last_mut() {
                Some(s) if s.drow == [d[0], d[1]] && s.dx0 + s.len as isize == d[2] => s.len += 1,
                _ => segments.push(Segment {
                    drow: [d[0], d[1]],
                    dx0: d[2],
                    len: 1,
                    first: i,
                }),
            }
        }
        Ok(PatternWeights { segments, w: out })
    }

    /// Fills the holes of k-space `[coil, (kz,) ky, kx]` (zeros at missing samples) and returns
    /// the filled k-space; acquired samples are kept.
    pub fn fill<B: Backend>(&self, be: &B, kspace: &B::Buf, shape: &[usize]) -> Result<B::Buf> {
        let mut host = be.download(kspace);
        self.fill_host(&mut host, shape)?;
        Ok(be.upload(&host))
    }

    /// [`Grappa::fill`] on a host array, in place; returns the number of holes filled.
    pub fn fill_host(&self, kspace: &mut [C32], shape: &[usize]) -> Result<usize> {
        let (nc, dims) = split_shape(STAGE, shape)?;
        if nc != self.nc || shape.len() - 1 != self.rank {
            return Err(ReconError::shape(
                STAGE,
                format!(
                    "k-space {shape:?} does not match the calibration ({} coils, {}-D)",
                    self.nc, self.rank
                ),
            ));
        }
        let npix: usize = dims.iter().product();
        if kspace.len() != nc * npix {
            return Err(ReconError::shape(
                STAGE,
                format!("{} samples for shape {shape:?}", kspace.len()),
            ));
        }
        let zero = C32::new(0.0, 0.0);
        let [nz, ny, nx] = dims;
        let nrows = nz * ny;
        // The sampling mask, [row][x].
        let mut mask = vec![false; npix];
        {
            let k: &[C32] = kspace;
            mask.par_chunks_mut(nx).enumerate().for_each(|(r, m)| {
                for c in 0..nc {
                    let src = &k[c * npix + r * nx..c * npix + (r + 1) * nx];
                    for (mv, v) in m.iter_mut().zip(src) {
                        *mv |= (v.re != 0.0) | (v.im != 0.0);
                    }
                    if m.iter().all(|&v| v) {
                        break;
                    }
                }
            });
        }
        // Coil-last copy of the rows holding any acquired sample (the only sources).
        let mut slot = vec![usize::MAX; nrows];
        let mut acquired_rows = Vec::new();
        for (r, m) in mask.chunks(nx).enumerate() {
            if m.iter().any(|&v| v) {
                slot[r] = acquired_rows.len();
                acquired_rows.push(r);
            }
        }
        let mut pm = vec![zero; acquired_rows.len() * nx * nc];
        {
            let k: &[C32] = kspace;
            pm.par_chunks_mut(nx * nc)
                .zip(acquired_rows.par_iter())
                .for_each(|(dst, &r)| {
                    for c in 0..nc {
                        let src = &k[c * npix + r * nx..c * npix + (r + 1) * nx];
                        for (x, &v) in src.iter().enumerate() {
                            dst[x * nc + c] = v;
                        }
                    }
                });
        }
        // Runs of holes with one pattern, per row.
        let kdims = self.kdims;
        let kk: usize = kdims.iter().product();
        let half: [isize; 3] = std::array::from_fn(|i| (kdims[i] / 2) as isize);
        let mut runs: Vec<Vec<Run>> = (0..nrows)
            .into_par_iter()
            .map(|r| {
                let m = &mask[r * nx..(r + 1) * nx];
                if m.iter().all(|&v| v) {
                    return Vec::new();
                }
                let (z, y) = ((r / ny) as isize, (r % ny) as isize);
                // Mask rows of the kernel's source rows (None outside the grid).
                let src_rows: Vec<Option<&[bool]>> = (0..kdims[0] * kdims[1])
                    .map(|i| {
                        let sz = z + (i / kdims[1]) as isize - half[0];
                        let sy = y + (i % kdims[1]) as isize - half[1];
                        (sz >= 0 && sz < nz as isize && sy >= 0 && sy < ny as isize).then(|| {
                            let rr = sz as usize * ny + sy as usize;
                            &mask[rr * nx..(rr + 1) * nx]
                        })
                    })
                    .collect();
                let mut out: Vec<Run> = Vec::new();
                for (x, _) in m.iter().enumerate().filter(|(_, acquired)| !**acquired) {
                    let mut key = [0u64; MAX_OFFSETS / 64];
                    let mut any = false;
                    for o in 0..kk {
                        let Some(row) = src_rows[o / kdims[2]] else {
                            continue;
                        };
                        let sx = x as isize + (o % kdims[2]) as isize - half[2];
                        if sx >= 0 && sx < nx as isize && row[sx as usize] {
                            key[o / 64] |= 1 << (o % 64);
                            any = true;
                        }
                    }
                    if !any {
                        continue;
                    }
                    match out.last_mut() {
                        Some(run) if run.x0 + run.len == x && run.key == key => run.len += 1,
                        _ => out.push(Run {
                            x0: x,
                            len: 1,
                            key,
                            pid: 0,
                        }),
                    }
                }
                out
            })
            .collect();
        // Pattern ids; weights of the patterns not seen yet, solved in parallel.
        let mut ids: HashMap<PatternKey, usize> = HashMap::new();
        let mut keys: Vec<PatternKey> = Vec::new();
        let mut holes = 0;
        for run in runs.iter_mut().flatten() {
            run.pid = *ids.entry(run.key).or_insert_with(|| {
                keys.push(run.key);
                keys.len() - 1
            });
            holes += run.len;
        }
        let known: Vec<Option<Arc<PatternWeights>>> = {
            let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            keys.iter().map(|k| cache.get(k).cloned()).collect()
        };
        let weights: Vec<Arc<PatternWeights>> = keys
            .par_iter()
            .zip(known.into_par_iter())
            .map(|(k, w)| match w {
                Some(w) => Ok(w),
                None => self.solve(k).map(Arc::new),
            })
            .collect::<Result<_>>()?;
        {
            let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            for (k, w) in keys.iter().zip(&weights) {
                cache.entry(*k).or_insert_with(|| w.clone());
            }
        }
        // Apply, row by row, straight into the k-space rows of every coil.
        let mut rows: Vec<Vec<&mut [C32]>> = (0..nrows).map(|_| Vec::with_capacity(nc)).collect();
        for plane in kspace.chunks_mut(npix) {
            for (r, row) in plane.chunks_mut(nx).enumerate() {
                rows[r].push(row);
            }
        }
        rows.par_iter_mut()
            .zip(runs.par_iter())
            .enumerate()
            .filter(|(_, (_, rr))| !rr.is_empty())
            .try_for_each(|(r, (dst, rr))| {
                let (z, y) = ((r / ny) as isize, (r % ny) as isize);
                let longest = rr.iter().map(|run| run.len).max().unwrap_or(0);
                let mut out = vec![zero; longest * nc];
                for run in rr {
                    let pw = &weights[run.pid];
                    let o = &mut out[..run.len * nc];
                    for (i, seg) in pw.segments.iter().enumerate() {
                        let s = source_slot(&slot, [nz, ny], [z, y], seg.drow)?;
                        let sx = run.x0 as isize + seg.dx0;
                        if sx < 0 {
                            return Err(internal_source_error());
                        }
                        let base = (s * nx + sx as usize) * nc;
                        let a = MatRef::from_row_major_slice_with_stride(
                            &pm[base..],
                            run.len,
                            seg.len * nc,
                            nc,
                        );
                        let w = MatRef::from_row_major_slice(
                            &pw.w[seg.first * nc * nc..(seg.first + seg.len) * nc * nc],
                            seg.len * nc,
                            nc,
                        );
                        let acc = if i == 0 { Accum::Replace } else { Accum::Add };
                        matmul(
                            MatMut::from_row_major_slice_mut(o, run.len, nc),
                            acc,
                            a,
                            w,
                            C32::new(1.0, 0.0),
                            Par::Seq,
                        );
                    }
                    for (c, row) in dst.iter_mut().enumerate() {
                        for (i, v) in row[run.x0..run.x0 + run.len].iter_mut().enumerate() {
                            *v = o[i * nc + c];
                        }
                    }
                }
                Ok(())
            })?;
        Ok(holes)
    }
}

/// One-shot GRAPPA: calibrates on `calib` `[coil, (kz,) ky, kx]` and fills `kspace` (same
/// rank, zeros at missing samples); see [`Grappa`] to reuse the weights across frames.
pub fn grappa<B: Backend>(
    be: &B,
    kspace: &B::Buf,
    shape: &[usize],
    calib: &B::Buf,
    calib_shape: &[usize],
    opts: &GrappaOptions,
) -> Result<B::Buf> {
    Grappa::calibrate(be, calib, calib_shape, opts)?.fill(be, kspace, shape)
}

/// The fully sampled calibration block around the k-space centre of `kspace`
/// `[coil, (kz,) ky, kx]` (embedded ACS): the box of acquired `(kz, ky)` lines grown from the
/// centre line one line per side and round while the new edge is fully acquired; every `kx`. A line is acquired when any of its samples is non-zero in any coil.
/// Returns the block and its shape `[coil, (kz,) ky, kx]`.
pub fn extract_acs<B: Backend>(
    be: &B,
    kspace: &B::Buf,
    shape: &[usize],
) -> Result<(B::Buf, Vec<usize>)> {
    let (nc, dims, npix) = split_coil_buffer(STAGE, be, kspace, shape)?;
    let host = be.download(kspace);
    let zero = C32::new(0.0, 0.0);
    let [nz, ny, nx] = dims;
    let line = |z: usize, y: usize| {
        (0..nc).any(|c| {
            let b = c * npix + (z * ny + y) * nx;
            host[b..b + nx].iter().any(|v| *v != zero)
        })
    };
    let (cz, cy) = (nz / 2, ny / 2);
    if !line(cz, cy) {
        return Err(ReconError::stage(
            STAGE,
            "no calibration data: the k-space centre line is not acquired",
        ));
    }
    // Grow a box of lines around the centre line, one step per side and round, while every
    // line of the new edge is acquired.
    let (mut y0, mut y1, mut z0, mut z1) = (cy, cy + 1, cz, cz + 1);
    loop {
        let mut grown = false;
        if y0 > 0 && (z0..z1).all(|z| line(z, y0 - 1)) {
            y0 -= 1;
            grown = true;
        }
        if y1 < ny && (z0..z1).all(|z| line(z, y1)) {
            y1 += 1;
            grown = true;
        }
        if z0 > 0 && (y0..y1).all(|y| line(z0 - 1, y)) {
            z0 -= 1;
            grown = true;
        }
        if z1 < nz && (y0..y1).all(|y| line(z1, y)) {
            z1 += 1;
            grown = true;
        }
        if !grown {
            break;
        }
    }
    let mut block = Vec::with_capacity(nc * (z1 - z0) * (y1 - y0) * nx);
    for c in 0..nc {
        for z in z0..z1 {
            let b = c * npix + (z * ny + y0) * nx;
            block.extend_from_slice(&host[b..b + (y1 - y0) * nx]);
        }
    }
    let mut cshape = vec![nc];
    if shape.len() == 4 {
        cshape.push(z1 - z0);
    }
    cshape.extend_from_slice(&[y1 - y0, nx]);
    Ok((be.upload(&block), cshape))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::CpuBackend;

    /// Deterministic pseudo-random complex samples in the unit square.
    fn noise(n: usize, seed: u64) -> Vec<C32> {
        let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        let mut next = move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            ((s >> 40) as f32 / (1u64 << 24) as f32) - 0.5
        };
        (0..n).map(|_| C32::new(next(), next())).collect()
    }

    /// `AᴴA` from the explicit window matrix (the definition).
    fn direct_gram(
        data: &[C32],
        nc: usize,
        cdims: [usize; 3],
        kdims: [usize; 3],
        windows: CalibWindows,
    ) -> Vec<C64> {
        let half: [usize; 3] = std::array::from_fn(|i| kdims[i] / 2);
        let (lo, cnt): ([usize; 3], [usize; 3]) = match windows {
            CalibWindows::ZeroPadded => ([0; 3], cdims),
            CalibWindows::Inside => (half, std::array::from_fn(|i| cdims[i] - kdims[i] + 1)),
        };
        let kk: usize = kdims.iter().product();
        let n = kk * nc;
        let cpix: usize = cdims.iter().product();
        let mut g = vec![C64::new(0.0, 0.0); n * n];
        let mut row = vec![C64::new(0.0, 0.0); n];
        for t in 0..cnt.iter().product::<usize>() {
            let t = unravel(t, cnt);
            for o in 0..kk {
                let oo = unravel(o, kdims);
                let pos: [isize; 3] =
                    std::array::from_fn(|a| (lo[a] + t[a] + oo[a]) as isize - half[a] as isize);
                let inside = (0..3).all(|a| pos[a] >= 0 && (pos[a] as usize) < cdims[a]);
                for c in 0..nc {
                    row[o * nc + c] = if inside {
                        let i = (pos[0] as usize * cdims[1] + pos[1] as usize) * cdims[2]
                            + pos[2] as usize;
                        let v = data[c * cpix + i];
                        C64::new(f64::from(v.re), f64::from(v.im))
                    } else {
                        C64::new(0.0, 0.0)
                    };
                }
            }
            for i in 0..n {
                for j in 0..n {
                    g[i * n + j] += row[i].conj() * row[j];
                }
            }
        }
        g
    }

    #[test]
    fn gram_from_correlations_equals_the_window_product() {
        let cases: [([usize; 3], [usize; 3]); 8] = [
            ([1, 7, 9], [1, 5, 5]),
            ([1, 6, 70], [1, 3, 5]),
            ([3, 9, 40], [3, 5, 3]),
            ([1, 12, 10], [1, 3, 5]),
            ([1, 6, 11], [1, 4, 2]),
            ([1, 5, 5], [1, 5, 5]),
            ([4, 5, 6], [3, 3, 3]),
            ([5, 4, 7], [2, 3, 4]),
        ];
        let nc = 3;
        for (i, &(cdims, kdims)) in cases.iter().enumerate() {
            let data = noise(nc * cdims.iter().product::<usize>(), i as u64 + 1);
            for windows in [CalibWindows::ZeroPadded, CalibWindows::Inside] {
                let fast = calibration_gram(&data, nc, cdims, kdims, windows);
                let slow = direct_gram(&data, nc, cdims, kdims, windows);
                let n = fast.n;
                let scale = slow.iter().map(|v| v.norm()).fold(0.0, f64::max);
                let err = (0..n * n)
                    .map(|k| (fast.get(k / n, k % n) - slow[k]).norm())
                    .fold(0.0, f64::max);
                assert!(
                    err <= 1e-12 * scale,
                    "{cdims:?} kernel {kdims:?} {windows:?}: max error {err} (scale {scale})"
                );
            }
        }
    }

    /// Fills every hole one at a time with the pattern's weights (the definition).
    fn fill_direct(gr: &Grappa, k: &mut [C32], nc: usize, dims: [usize; 3]) -> usize {
        let npix: usize = dims.iter().product();
        let zero = C32::new(0.0, 0.0);
        let mask: Vec<bool> = (0..npix)
            .map(|i| (0..nc).any(|c| k[c * npix + i] != zero))
            .collect();
        let kd = gr.kdims;
        let kk: usize = kd.iter().product();
        let half: [isize; 3] = std::array::from_fn(|a| (kd[a] / 2) as isize);
        let mut filled = Vec::new();
        for i in (0..npix).filter(|&i| !mask[i]) {
            let t = unravel(i, dims);
            let mut key = [0u64; MAX_OFFSETS / 64];
            let mut src = Vec::new();
            for o in 0..kk {
                let oo = unravel(o, kd);
                let p: [isize; 3] =
                    std::array::from_fn(|a| t[a] as isize + oo[a] as isize - half[a]);
                if (0..3).all(|a| p[a] >= 0 && (p[a] as usize) < dims[a]) {
                    let j = (p[0] as usize * dims[1] + p[1] as usize) * dims[2] + p[2] as usize;
                    if mask[j] {
                        key[o / 64] |= 1 << (o % 64);
                        src.push(j);
                    }
                }
            }
            if src.is_empty() {
                continue;
            }
            let pw = gr.solve(&key).unwrap();
            let mut out = vec![zero; nc];
            for (s, &j) in src.iter().enumerate() {
                for cs in 0..nc {
                    let x = k[cs * npix + j];
                    for (ct, o) in out.iter_mut().enumerate() {
                        *o += x * pw.w[(s * nc + cs) * nc + ct];
                    }
                }
            }
            filled.push((i, out));
        }
        for (i, out) in &filled {
            for (c, &v) in out.iter().enumerate() {
                k[c * npix + i] = v;
            }
        }
        filled.len()
    }

    #[test]
    fn fill_by_runs_equals_hole_by_hole() {
        let be = CpuBackend::new();
        let nc = 3;
        // (dims, kernel, calibration dims, fraction of the samples off every third line that
        // are acquired, at random): 2-D and 3-D, lines only (long runs) and lines plus random
        // samples (short runs, many patterns).
        type Case = ([usize; 3], Vec<usize>, [usize; 3], f32);
        let cases: [Case; 6] = [
            ([1, 20, 17], vec![5, 5], [1, 8, 17], 0.3),
            ([1, 16, 12], vec![4, 3], [1, 6, 12], 0.3),
            ([6, 7, 9], vec![3, 3, 3], [4, 4, 9], 0.3),
            ([1, 24, 40], vec![5, 5], [1, 10, 40], 0.0),
            ([1, 18, 36], vec![4, 6], [1, 8, 36], 0.02),
            ([5, 9, 30], vec![3, 3, 5], [4, 5, 30], 0.0),
        ];
        for (i, (dims, kernel, cdims, holes)) in cases.iter().enumerate() {
            let npix: usize = dims.iter().product();
            let full = noise(nc * npix, 10 + i as u64);
            let rnd = noise(npix, 20 + i as u64);
            let mut k = full.clone();
            for (p, r) in rnd.iter().enumerate() {
                let [_, y, _] = unravel(p, *dims);
                // Every third line, samples of the others at random (`r.re` is uniform in ±0.5).
                if y % 3 != 0 && r.re + 0.5 >= *holes {
                    for c in 0..nc {
                        k[c * npix + p] = C32::new(0.0, 0.0);
                    }
                }
            }
            let calib = noise(nc * cdims.iter().product::<usize>(), 30 + i as u64);
            let mut cshape = vec![nc];
            cshape.extend_from_slice(&cdims[3 - kernel.len()..]);
            let mut shape = vec![nc];
            shape.extend_from_slice(&dims[3 - kernel.len()..]);
            let opts = GrappaOptions {
                kernel: kernel.clone(),
                ..GrappaOptions::default()
            };
            let gr = Grappa::calibrate(&be, &be.upload(&calib), &cshape, &opts).unwrap();
            let mut fast = k.clone();
            let n_fast = gr.fill_host(&mut fast, &shape).unwrap();
            let mut slow = k.clone();
            let n_slow = fill_direct(&gr, &mut slow, nc, *dims);
            assert_eq!(n_fast, n_slow, "case {i}");
            assert!(n_fast > 0);
            let scale = slow.iter().map(|v| v.norm()).fold(0.0, f32::max);
            let err = crate::metrics::max_abs_diff(&fast, &slow).unwrap();
            assert!(
                err <= 1e-5 * scale,
                "case {i}: max error {err} (scale {scale})"
            );
        }
    }
}
