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
//! Speed: the Gram matrix `AᴴA` of all (offset, coil) columns over the calibration windows is
//! computed once (`faer`, blocked); each pattern's `SᴴS` and `SᴴT` are sub-blocks of it, so a
//! new pattern costs one small Cholesky solve. Weights are cached per pattern in [`Grappa`]
//! (shared by every frame of an acquisition, e.g. the shifted frames of interleaved data) and
//! applied to all holes in parallel (rayon) on a coil-last copy of the data. The inner code
//! runs on the host; the backend buffers are downloaded and uploaded around it.
//!
//! # References
//! - Griswold MA, Jakob PM, Heidemann RM, Nittka M, Jellus V, Wang J, Kiefer B, Haase A.
//!   Generalized autocalibrating partially parallel acquisitions (GRAPPA). Magn Reson Med
//!   2002;47:1202–1210.
//! - McKibben N. pygrappa (`pygrappa/grappa.py`), <https://github.com/mckib2/pygrappa>.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rayon::prelude::*;

use crate::backend::{Backend, C32, C64};
use crate::coils::{gram_of_rows, split_shape};
use crate::error::{ReconError, Result};

const STAGE: &str = "grappa";

/// Most kernel offsets a pattern key holds (`5×5×5 = 125` fits; `7×7×7` does not).
const MAX_OFFSETS: usize = 256;

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

/// Weights of one pattern.
#[derive(Debug)]
struct PatternWeights {
    /// Source offsets relative to the target, `[dz, dy, dx]`.
    offsets: Vec<[isize; 3]>,
    /// Weights, `[source offset · nc + source coil][target coil]`.
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
    gram: faer::Mat<C64>,
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
        let cpix: usize = cdims.iter().product();
        let half: [usize; 3] = std::array::from_fn(|i| kdims[i] / 2);
        // Target ranges per axis.
        let (lo, cnt): ([usize; 3], [usize; 3]) = match opts.calib_windows {
            CalibWindows::ZeroPadded => ([0; 3], cdims),
            CalibWindows::Inside => (half, std::array::from_fn(|i| cdims[i] - kdims[i] + 1)),
        };
        let nrows: usize = cnt.iter().product();
        let ncols = kk * nc;
        let gram = gram_of_rows(nrows, ncols, |r, row| {
            let t = unravel(r, cnt);
            for o in 0..kk {
                let oo = unravel(o, kdims);
                let pos: [isize; 3] = std::array::from_fn(|a| {
                    (lo[a] + t[a]) as isize + oo[a] as isize - half[a] as isize
                });
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
        });
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
        let kk: usize = self.kdims.iter().product();
        let centre = {
            let h: [usize; 3] = std::array::from_fn(|i| self.kdims[i] / 2);
            (h[0] * self.kdims[1] + h[1]) * self.kdims[2] + h[2]
        };
        let src: Vec<usize> = (0..kk)
            .filter(|&o| key[o / 64] >> (o % 64) & 1 == 1)
            .collect();
        let cols: Vec<usize> = src
            .iter()
            .flat_map(|&o| (0..nc).map(move |c| o * nc + c))
            .collect();
        let ns = cols.len();
        let g = &self.gram;
        let mut shs = faer::Mat::<C64>::from_fn(ns, ns, |i, j| g[(cols[i], cols[j])]);
        let sht = faer::Mat::<C64>::from_fn(ns, nc, |i, c| g[(cols[i], centre * nc + c)]);
        let fro = (0..ns)
            .flat_map(|j| (0..ns).map(move |i| (i, j)))
            .map(|(i, j)| shs[(i, j)].norm_sqr())
            .sum::<f64>()
            .sqrt();
        let lamda0 = self.lamda * fro / ns as f64;
        for i in 0..ns {
            shs[(i, i)] += C64::new(lamda0, 0.0);
        }
        use faer::linalg::solvers::Solve;
        let w = match shs.llt(faer::Side::Lower) {
            Ok(llt) => llt.solve(&sht),
            Err(_) => shs.partial_piv_lu().solve(&sht),
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
        let offsets = src
            .iter()
            .map(|&o| {
                let oo = unravel(o, self.kdims);
                std::array::from_fn(|a| oo[a] as isize - (self.kdims[a] / 2) as isize)
            })
            .collect();
        Ok(PatternWeights { offsets, w: out })
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
        // Coil-last copy and the sampling mask.
        let mut pm = vec![zero; nc * npix];
        pm.par_chunks_mut(nc).enumerate().for_each(|(i, px)| {
            for (c, v) in px.iter_mut().enumerate() {
                *v = kspace[c * npix + i];
            }
        });
        let mask: Vec<bool> = pm
            .par_chunks(nc)
            .map(|px| px.iter().any(|v| *v != zero))
            .collect();
        let kdims = self.kdims;
        let kk: usize = kdims.iter().product();
        let half: [isize; 3] = std::array::from_fn(|i| (kdims[i] / 2) as isize);
        let sampled = |p: [isize; 3]| {
            (0..3).all(|a| p[a] >= 0 && (p[a] as usize) < dims[a])
                && mask[(p[0] as usize * dims[1] + p[1] as usize) * dims[2] + p[2] as usize]
        };
        // Holes and their patterns.
        let holes: Vec<(usize, PatternKey)> = (0..npix)
            .into_par_iter()
            .filter(|&i| !mask[i])
            .filter_map(|i| {
                let t = unravel(i, dims);
                let mut key = [0u64; MAX_OFFSETS / 64];
                let mut any = false;
                for o in 0..kk {
                    let oo = unravel(o, kdims);
                    let p: [isize; 3] =
                        std::array::from_fn(|a| t[a] as isize + oo[a] as isize - half[a]);
                    if sampled(p) {
                        key[o / 64] |= 1 << (o % 64);
                        any = true;
                    }
                }
                any.then_some((i, key))
            })
            .collect();
        // Weights of the patterns not seen yet, solved in parallel.
        let mut ids: HashMap<PatternKey, usize> = HashMap::new();
        let mut keys: Vec<PatternKey> = Vec::new();
        let hole_pattern: Vec<usize> = holes
            .iter()
            .map(|(_, k)| {
                *ids.entry(*k).or_insert_with(|| {
                    keys.push(*k);
                    keys.len() - 1
                })
            })
            .collect();
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
        // Apply.
        let mut vals = vec![zero; holes.len() * nc];
        vals.par_chunks_mut(nc)
            .zip(holes.par_iter().zip(hole_pattern.par_iter()))
            .for_each(|(out, (&(i, _), &pid))| {
                let pw = &weights[pid];
                let t = unravel(i, dims);
                for (s, off) in pw.offsets.iter().enumerate() {
                    let p = ((t[0] as isize + off[0]) as usize * dims[1]
                        + (t[1] as isize + off[1]) as usize)
                        * dims[2]
                        + (t[2] as isize + off[2]) as usize;
                    let src = &pm[p * nc..(p + 1) * nc];
                    for (cs, &x) in src.iter().enumerate() {
                        let row = &pw.w[(s * nc + cs) * nc..(s * nc + cs + 1) * nc];
                        for (o, &wv) in out.iter_mut().zip(row) {
                            *o += x * wv;
                        }
                    }
                }
            });
        for ((i, _), v) in holes.iter().zip(vals.chunks_exact(nc)) {
            for (c, &x) in v.iter().enumerate() {
                kspace[c * npix + i] = x;
            }
        }
        Ok(holes.len())
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
    let (nc, dims) = split_shape(STAGE, shape)?;
    let npix: usize = dims.iter().product();
    if be.len(kspace) != nc * npix {
        return Err(ReconError::shape(
            STAGE,
            format!("{} samples for shape {shape:?}", be.len(kspace)),
        ));
    }
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
