//! Coil sensitivity maps: ESPIRiT calibration ([`espirit()`], like `bart ecalib -m1`), the
//! adaptive Walsh / Inati combination weights ([`walsh()`]) and direct maps from the
//! calibration region ([`direct_maps()`], like `bart caldir`), plus the pieces they share: the
//! per-pixel dominant eigenvector of a small Hermitian coil × coil matrix, phase normalisation
//! and low-resolution coil images from the k-space centre.
//!
//! Layouts follow [`crate::conventions`]: k-space and maps are `[coil, y, x]` (2-D) or
//! `[coil, z, y, x]` (3-D), C order. Maps come back as a backend buffer in a [`CoilMaps`].
//!
//! The numerical inner loops (calibration matrix, per-pixel eigenproblems) run on the host
//! (rayon over rows of pixels, `faer` for the dense linear algebra); only the FFTs go through
//! the [`Backend`]. The per-pixel eigenproblems (`dominant_per_row`) are solved by a
//! warm-started power iteration with a proven error bound (`DominantSolver`), compiled for
//! AVX2 where the CPU has it (`pulp`'s run-time dispatch). A device implementation of the
//! per-pixel step is a later issue.
//!
//! # References
//! - Uecker M, Lai P, Murphy MJ, Virtue P, Elad M, Pauly JM, Vasanawala SS, Lustig M.
//!   ESPIRiT — an eigenvalue approach to autocalibrating parallel MRI: where SENSE meets
//!   GRAPPA. Magn Reson Med 2014;71:990–1001.
//! - Walsh DO, Gmitro AF, Marcellin MW. Adaptive reconstruction of phased array MR imagery.
//!   Magn Reson Med 2000;43:682–690.
//! - Inati SJ, Hansen MS, Kellman P. A fast optimal method for coil sensitivity estimation and
//!   adaptive coil combination for complex images. ISMRM 2014, p. 4407.
//! - McKenzie CA, Yeh EN, Ohliger MA, Price MD, Sodickson DK. Self-calibrating parallel imaging
//!   with automatic coil sensitivity extraction. Magn Reson Med 2002;47:529–538.

pub mod direct;
pub mod espirit;
pub mod walsh;

pub use direct::direct_maps;
pub use espirit::{EspiritOptions, espirit, espirit_from_calibration};
pub use walsh::{WalshOptions, lowres_coil_images, walsh};

use rayon::prelude::*;

use crate::backend::{Backend, C32, C64, FftDirection};
use crate::error::{ReconError, Result};

/// Coil sensitivity maps on a backend, with the per-pixel dominant eigenvalue.
#[derive(Debug)]
pub struct CoilMaps<B: Backend> {
    /// The maps, `[coil, (z,) y, x]` (unit norm over coils where not cropped).
    pub maps: B::Buf,
    /// The shape of `maps`.
    pub shape: Vec<usize>,
    /// Per pixel `[(z,) y, x]`: the dominant eigenvalue (ESPIRiT: ≈1 inside the object; Walsh:
    /// the signal energy in the smoothing window).
    pub eigenvalues: Vec<f32>,
}

/// How the global phase of the maps is fixed at every pixel (an eigenvector has an arbitrary
/// phase per pixel).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PhaseReference {
    /// Coil `i` gets phase zero.
    Coil(usize),
    /// The coil with the most energy in the maps gets phase zero (Inati's choice).
    Strongest,
    /// The projection onto the first principal component of the maps over all pixels gets
    /// phase zero (like BART's default `rotphase`, which uses the calibration data's first
    /// principal component).
    #[default]
    PrincipalComponent,
}

/// Splits a coil array shape `[coil, y, x]` or `[coil, z, y, x]` into the coil count and the
/// spatial dims `[z, y, x]` (`z = 1` in 2-D).
pub(crate) fn split_shape(op: &'static str, shape: &[usize]) -> Result<(usize, [usize; 3])> {
    let (nc, dims) = match *shape {
        [c, y, x] => (c, [1, y, x]),
        [c, z, y, x] => (c, [z, y, x]),
        _ => {
            return Err(ReconError::shape(
                op,
                format!("expected [coil, y, x] or [coil, z, y, x], got {shape:?}"),
            ));
        }
    };
    if nc == 0 || dims.contains(&0) {
        return Err(ReconError::shape(op, format!("empty array {shape:?}")));
    }
    Ok((nc, dims))
}

/// [`split_shape`] of a coil buffer, checking that `buf` holds `shape`'s samples; returns the
/// coil count, the spatial dims and the pixels per coil.
pub(crate) fn split_coil_buffer<B: Backend>(
    op: &'static str,
    be: &B,
    buf: &B::Buf,
    shape: &[usize],
) -> Result<(usize, [usize; 3], usize)> {
    let (nc, dims) = split_shape(op, shape)?;
    let npix: usize = dims.iter().product();
    if be.len(buf) != nc * npix {
        return Err(ReconError::shape(
            op,
            format!("{} samples for shape {shape:?}", be.len(buf)),
        ));
    }
    Ok((nc, dims, npix))
}

/// Workspace of [`dominant_eigen`].
#[derive(Debug, Default, Clone)]
pub(crate) struct EigenWork {
    a: Vec<C64>,
    b: Vec<C64>,
    t: Vec<C64>,
}

/// Most repeated squarings in [`dominant_eigen`] (the power iteration then runs on up to
/// `G^(2^SQUARINGS)`); squaring stops early once the normalised power is rank one to 1e-12.
const SQUARINGS: usize = 8;
/// Power iterations on the squared matrix.
const POWER_STEPS: usize = 4;

/// The dominant eigenpair of the Hermitian positive semi-definite `n × n` matrix `g` (row
/// major): returns the eigenvalue and writes the unit eigenvector to `v`.
///
/// Repeated squaring (`G → G²`, normalised by the trace, up to [`SQUARINGS`] times, stopping
/// when `trace(A²) ≈ 1`, i.e. the normalised power is rank one) followed by a few power steps
/// from the column with the largest diagonal: the error decays like
/// `(λ₂/λ₁)^(2^squarings · (POWER_STEPS + 1))`, robust where plain power iteration is slow.
/// A zero matrix gives eigenvalue 0 and a zero vector.
pub(crate) fn dominant_eigen(g: &[C64], n: usize, v: &mut [C64], w: &mut EigenWork) -> f64 {
    let nn = n * n;
    let tr: f64 = (0..n).map(|i| g[i * n + i].re).sum();
    if !(tr > 0.0 && tr.is_finite()) {
        v.fill(C64::new(0.0, 0.0));
        return 0.0;
    }
    w.a.clear();
    w.a.extend(g.iter().map(|&x| x / tr));
    w.b.resize(nn, C64::new(0.0, 0.0));
    for _ in 0..SQUARINGS {
        // b = a · a (a Hermitian, so b is Hermitian PSD).
        for i in 0..n {
            for j in i..n {
                let mut s = C64::new(0.0, 0.0);
                for k in 0..n {
                    s += w.a[i * n + k] * w.a[k * n + j];
                }
                w.b[i * n + j] = s;
                w.b[j * n + i] = s.conj();
            }
        }
        let t: f64 = (0..n).map(|i| w.b[i * n + i].re).sum();
        if t.is_nan() || t <= 1e-300 {
            break;
        }
        for (a, b) in w.a.iter_mut().zip(&w.b) {
            *a = b / t;
        }
        // trace(A²) of the trace-normalised A is Σλ²/(Σλ)²: 1 exactly when A is rank one.
        let purity: f64 = w.a.iter().map(|x| x.norm_sqr()).sum();
        if purity > 1.0 - 1e-12 {
            break;
        }
    }
    let j = (0..n)
        .max_by(|&p, &q| w.a[p * n + p].re.total_cmp(&w.a[q * n + q].re))
        .unwrap_or(0);
    for (i, vi) in v.iter_mut().enumerate().take(n) {
        *vi = w.a[i * n + j];
    }
    w.t.resize(n, C64::new(0.0, 0.0));
    for _ in 0..POWER_STEPS {
        normalise(v);
        for i in 0..n {
            w.t[i] = (0..n).map(|k| w.a[i * n + k] * v[k]).sum();
        }
        v.copy_from_slice(&w.t[..n]);
    }
    if normalise(v) == 0.0 {
        return 0.0;
    }
    // Rayleigh quotient with the original matrix.
    let mut lambda = 0.0;
    for i in 0..n {
        let gv: C64 = (0..n).map(|k| g[i * n + k] * v[k]).sum();
        lambda += (v[i].conj() * gv).re;
    }
    lambda
}

/// Scales `v` to unit norm; returns the norm before (0 leaves `v` alone).
fn normalise(v: &mut [C64]) -> f64 {
    let nrm = v.iter().map(|x| x.norm_sqr()).sum::<f64>().sqrt();
    if nrm > 0.0 {
        v.iter_mut().for_each(|x| *x /= nrm);
    }
    nrm
}

/// Fixes the phase of coil-major maps `[coil, pixel]` (`nc` planes) per `reference`: every
/// pixel is multiplied by `conj(p)/|p|` with its reference projection `p = wᴴ s`; pixels with
/// a zero reference projection are left as they are.
pub(crate) fn normalise_phase(
    maps: &mut [C32],
    nc: usize,
    reference: PhaseReference,
) -> Result<()> {
    if let PhaseReference::Coil(i) = reference
        && i >= nc
    {
        return Err(ReconError::config(
            "phase_reference",
            format!("reference coil {i} does not exist ({nc} coils)"),
        ));
    }
    let npix = maps.len().checked_div(nc).unwrap_or(0);
    if npix == 0 {
        return Ok(());
    }
    let unit = |i: usize| {
        let mut w = vec![C32::new(0.0, 0.0); nc];
        w[i] = C32::new(1.0, 0.0);
        w
    };
    let weights: Vec<C32> = match reference {
        PhaseReference::Coil(i) => unit(i),
        PhaseReference::Strongest => {
            let energy: Vec<f64> = maps
                .par_chunks(npix)
                .map(|plane| plane.iter().map(|s| f64::from(s.norm_sqr())).sum())
                .collect();
            unit(
                (0..nc)
                    .max_by(|&p, &q| energy[p].total_cmp(&energy[q]))
                    .unwrap_or(0),
            )
        }
        PhaseReference::PrincipalComponent => {
            // C = Σ_r s(r) s(r)ᴴ = AᴴA for the rows a_r = conj(s(r)) (one matrix product per
            // block of pixels); its dominant eigenvector u; the phase reference is uᴴ s.
            let cov = gram_of_rows(npix, nc, |r, row| {
                for (c, o) in row.iter_mut().enumerate() {
                    let s = maps[c * npix + r];
                    *o = C64::new(f64::from(s.re), -f64::from(s.im));
                }
            });
            let cov: Vec<C64> = (0..nc * nc).map(|k| cov[(k / nc, k % nc)]).collect();
            let mut u = vec![C64::new(0.0, 0.0); nc];
            dominant_eigen(&cov, nc, &mut u, &mut EigenWork::default());
            u.iter()
                .map(|x| C32::new(x.re as f32, x.im as f32))
                .collect()
        }
    };
    // Per pixel conj(p)/|p| (1 where p is zero), then every plane times it.
    let mut rot = vec![C32::new(0.0, 0.0); npix];
    let maps_ref: &[C32] = maps;
    rot.par_chunks_mut(PHASE_BLOCK)
        .enumerate()
        .for_each(|(b, block)| {
            let i0 = b * PHASE_BLOCK;
            for (w, plane) in weights.iter().zip(maps_ref.chunks_exact(npix)) {
                let w = w.conj();
                for (p, s) in block.iter_mut().zip(&plane[i0..]) {
                    *p += w * s;
                }
            }
            for p in block.iter_mut() {
                let m = p.norm();
                *p = if m > 0.0 && m.is_finite() {
                    p.conj() / m
                } else {
                    C32::new(1.0, 0.0)
                };
            }
        });
    maps.par_chunks_mut(npix).for_each(|plane| {
        for (s, r) in plane.iter_mut().zip(&rot) {
            *s *= r;
        }
    });
    Ok(())
}

/// Pixels per block of the phase references in [`normalise_phase`].
const PHASE_BLOCK: usize = 4096;

/// Error bound (2-norm) of the eigenvectors of [`DominantSolver`].
const EIGVEC_TOL: f64 = 1e-6;
/// Error bound of the eigenvectors of [`DominantSolver`] at pixels whose eigenvalue is at or
/// below the crop threshold (only the eigenvalue is kept; its error is of the order of the
/// squared vector error).
const CROPPED_TOL: f64 = 1e-4;
/// A power step that moves the vector by less than this has stalled (the rounding floor of
/// f64 for unit vectors of a few dozen entries).
const STEP_FLOOR: f64 = 1e-13;
/// Most power steps of [`DominantSolver::solve`] before it falls back to [`dominant_eigen`].
const MAX_POWER_STEPS: usize = 300;

/// The dominant eigenpair of one Hermitian positive semi-definite `n × n` matrix after
/// another (the per-pixel matrices of a map), by power iteration warm-started from the
/// neighbouring pixels' eigenvectors.
///
/// The matrix `G` is set with [`set`](Self::set) or [`set_packed`](Self::set_packed) and held
/// as split real and imaginary parts, row major, so that the products vectorise. A power step
/// is `v ← A v / ‖A v‖` with `A = G / trace(G)`. It starts from the quadratic extrapolation
/// `3 v₁ − 3 v₂ + v₃` of the last three eigenvectors (fewer: linear, or the last one), or cold
/// from the largest column of `G`; along a row of pixels the extrapolated start is typically
/// within 1e-5 of the answer, and a few steps suffice.
///
/// Convergence is proven, not estimated: `A` has trace one, so with `ρ = vᴴ A v ≤ λ₁` the
/// second eigenvalue is at most `min(1 − ρ, sqrt(‖A‖²_F − ρ²))`; where that is below `ρ`, the
/// angle between `v` and the dominant eigenvector is at most `‖A v − ρ v‖ / (ρ − λ₂)`
/// (Davis–Kahan), and iteration stops when that is below [`EIGVEC_TOL`] — or below
/// [`CROPPED_TOL`] at pixels whose eigenvalue is at or below the crop threshold (zero maps:
/// only the eigenvalue is kept, and its error is of the order of the squared angle). A proof
/// is needed even there: a start taken over from a neighbour can follow the second
/// eigenvector across an eigenvalue crossing while looking converged.
///
/// Where the contraction rate `q` of the last steps is so close to one (small eigengap) that
/// the steps still needed cost more than squaring `A` (`n` products), or where the steps have
/// converged without a proven gap, `A` is squared (`A ← A² / trace`, at most [`SQUARINGS`]
/// times): that squares `q` and separates the top eigenvalues; the vector is kept. Matrices
/// that stall without a proven gap or do not converge in [`MAX_POWER_STEPS`] steps go to
/// [`dominant_eigen`]. The eigenvalue is the Rayleigh quotient with `G`; a zero (or
/// non-finite) matrix gives eigenvalue 0 and a zero vector.
#[derive(Debug, Clone)]
pub(crate) struct DominantSolver {
    /// The matrix size.
    n: usize,
    /// Maps at or below this eigenvalue are not used (only the eigenvalue).
    crop: f64,
    /// `G`, real parts (row major).
    g_re: Vec<f64>,
    /// `G`, imaginary parts.
    g_im: Vec<f64>,
    /// The iterated matrix `A` once squared (a power of `G`, trace one), real parts.
    a_re: Vec<f64>,
    /// `A`, imaginary parts.
    a_im: Vec<f64>,
    /// Workspace of [`square`](Self::square), real parts.
    b_re: Vec<f64>,
    /// Workspace of [`square`](Self::square), imaginary parts.
    b_im: Vec<f64>,
    /// The current vector, real parts.
    v_re: Vec<f64>,
    /// The current vector, imaginary parts.
    v_im: Vec<f64>,
    /// Workspace vector, real parts.
    y_re: Vec<f64>,
    /// Workspace vector, imaginary parts.
    y_im: Vec<f64>,
    /// The eigenvector before `v` (for the extrapolated start), real parts.
    p_re: Vec<f64>,
    /// The eigenvector before `v`, imaginary parts.
    p_im: Vec<f64>,
    /// The eigenvector before `p`, real parts.
    pp_re: Vec<f64>,
    /// The eigenvector before `p`, imaginary parts.
    pp_im: Vec<f64>,
    /// The vector kept by [`save`](Self::save), real parts.
    saved_re: Vec<f64>,
    /// The vector kept by [`save`](Self::save), imaginary parts.
    saved_im: Vec<f64>,
    /// Previous eigenvectors held: 0 (none), 1 (`v`), 2 (`v`, `p`), 3 (`v`, `p`, `pp`).
    warm: u8,
    /// `saved_*` holds a vector.
    saved: bool,
    /// `G` interleaved, for [`dominant_eigen`].
    full: Vec<C64>,
    /// The eigenvector of [`dominant_eigen`].
    vec: Vec<C64>,
    /// Workspace of [`dominant_eigen`].
    work: EigenWork,
}

impl DominantSolver {
    /// A solver for `n × n` matrices whose eigenvectors are needed where the eigenvalue is
    /// above `crop` (`f64::NEG_INFINITY`: everywhere).
    pub(crate) fn new(n: usize, crop: f64) -> Self {
        let z = vec![0.0; n * n];
        let v = vec![0.0; n];
        DominantSolver {
            n,
            crop,
            g_re: z.clone(),
            g_im: z.clone(),
            a_re: z.clone(),
            a_im: z.clone(),
            b_re: z.clone(),
            b_im: z,
            v_re: v.clone(),
            v_im: v.clone(),
            y_re: v.clone(),
            y_im: v.clone(),
            p_re: v.clone(),
            p_im: v.clone(),
            pp_re: v.clone(),
            pp_im: v.clone(),
            saved_re: v.clone(),
            saved_im: v,
            warm: 0,
            saved: false,
            full: Vec::new(),
            vec: Vec::new(),
            work: EigenWork::default(),
        }
    }

    /// Sets `G[c][d] = x` and `G[d][c] = conj(x)` (the imaginary part of a diagonal entry is
    /// dropped).
    #[inline(always)]
    pub(crate) fn set(&mut self, c: usize, d: usize, re: f64, im: f64) {
        let n = self.n;
        let im = if c == d { 0.0 } else { im };
        self.g_re[c * n + d] = re;
        self.g_im[c * n + d] = im;
        self.g_re[d * n + c] = re;
        self.g_im[d * n + c] = -im;
    }

    /// Sets the whole matrix from its upper triangle packed row by row (`(0,0), (0,1), …,
    /// (0,n−1), (1,1), …`, the order of the `(c, d ≥ c)` pairs; `n(n+1)/2` values), real and
    /// imaginary parts.
    #[inline(always)]
    pub(crate) fn set_packed(&mut self, re: &[f64], im: &[f64]) {
        let n = self.n;
        let mut k = 0;
        for c in 0..n {
            let len = n - c;
            self.g_re[c * n + c..(c + 1) * n].copy_from_slice(&re[k..k + len]);
            self.g_im[c * n + c..(c + 1) * n].copy_from_slice(&im[k..k + len]);
            self.g_im[c * n + c] = 0.0;
            k += len;
        }
        for c in 0..n {
            for d in c + 1..n {
                self.g_re[d * n + c] = self.g_re[c * n + d];
                self.g_im[d * n + c] = -self.g_im[c * n + d];
            }
        }
    }

    /// Drops the warm start and the saved vector (the next solve starts cold).
    pub(crate) fn forget(&mut self) {
        self.warm = 0;
        self.saved = false;
    }

    /// Saves the current eigenvector (when there is one) for [`restore`](Self::restore).
    pub(crate) fn save(&mut self) {
        self.saved = self.warm > 0;
        if self.saved {
            self.saved_re.copy_from_slice(&self.v_re);
            self.saved_im.copy_from_slice(&self.v_im);
        }
    }

    /// Makes the saved vector the warm start (a cold start when none was saved).
    pub(crate) fn restore(&mut self) {
        self.warm = u8::from(self.saved);
        if self.saved {
            self.v_re.copy_from_slice(&self.saved_re);
            self.v_im.copy_from_slice(&self.saved_im);
        }
    }

    /// Writes the unit eigenvector of the last [`solve`](Self::solve) to `out` (`n` values).
    pub(crate) fn write(&self, out: &mut [C32]) {
        for ((o, &re), &im) in out.iter_mut().zip(&self.v_re).zip(&self.v_im) {
            *o = C32::new(re as f32, im as f32);
        }
    }

    /// The dominant eigenvalue of the matrix set; the unit eigenvector stays in the solver
    /// (see [`write`](Self::write)) and is the next call's warm start.
    #[inline(always)]
    pub(crate) fn solve(&mut self) -> f64 {
        let n = self.n;
        let tr: f64 = (0..n).map(|i| self.g_re[i * n + i]).sum();
        if !(tr > 0.0 && tr.is_finite()) {
            self.v_re.fill(0.0);
            self.v_im.fill(0.0);
            self.warm = 0;
            return 0.0;
        }
        // Until the first squaring A = G / tr is not formed: the products use G and `scale`.
        let mut scale = 1.0 / tr;
        // ‖A‖²_F = Σ λᵢ² of A.
        let mut frob2 =
            (dot_lanes(&self.g_re, &self.g_re) + dot_lanes(&self.g_im, &self.g_im)) * scale * scale;
        let mut restarted_once = self.start();
        let (mut level_steps, mut squarings) = (0usize, 0usize);
        let (mut prev, mut prev2) = (f64::INFINITY, f64::INFINITY);
        let mut converged = false;
        // vᴴ A v of the vector before the last step.
        let mut rayleigh = 0.0;
        for _ in 0..MAX_POWER_STEPS {
            level_steps += 1;
            let (m_re, m_im) = if squarings == 0 {
                (&self.g_re, &self.g_im)
            } else {
                (&self.a_re, &self.a_im)
            };
            hermitian_matvec(
                n,
                m_re,
                m_im,
                &self.v_re,
                &self.v_im,
                &mut self.y_re,
                &mut self.y_im,
            );
            let raw =
                (dot_lanes(&self.y_re, &self.y_re) + dot_lanes(&self.y_im, &self.y_im)).sqrt();
            let nrm = raw * scale;
            if !(nrm > 0.0 && nrm.is_finite()) {
                // The start is orthogonal to the range: once more from the largest column.
                if restarted_once {
                    break;
                }
                restarted_once = true;
                self.cold_start(squarings == 0);
                (prev, prev2, level_steps) = (f64::INFINITY, f64::INFINITY, 0);
                continue;
            }
            rayleigh =
                (dot_lanes(&self.v_re, &self.y_re) + dot_lanes(&self.v_im, &self.y_im)) * scale;
            let inv = 1.0 / raw;
            let delta = (scale_distance(&mut self.y_re, inv, &self.v_re)
                + scale_distance(&mut self.y_im, inv, &self.v_im))
            .sqrt();
            std::mem::swap(&mut self.v_re, &mut self.y_re);
            std::mem::swap(&mut self.v_im, &mut self.y_im);
            // The proven bound: ‖A v − ρ v‖ ≤ δ ‖A v‖, and λ₂ ≤ min(1 − ρ, sqrt(‖A‖²_F − ρ²)).
            let lambda2 = (1.0 - rayleigh).min((frob2 - rayleigh * rayleigh).max(0.0).sqrt());
            let gap = rayleigh - lambda2;
            if gap > 0.0 {
                let angle = delta * nrm / gap;
                if angle < EIGVEC_TOL
                    || (angle < CROPPED_TOL && self.cropped(rayleigh, tr, squarings))
                {
                    converged = true;
                    break;
                }
            } else if delta < STEP_FLOOR {
                // Stalled without a proven gap: (nearly) equal top eigenvalues, or a start with
                // next to no component along the dominant eigenvector. The robust path decides.
                break;
            }
            if level_steps >= 3 && prev2.is_finite() {
                // The slower of the last two contraction rates.
                let q = (delta / prev).max(prev / prev2);
                let slow = if q < 1.0 {
                    let err = delta * q / (1.0 - q);
                    // Steps still needed at this rate, against squaring (n products) that
                    // halves them; or converged as far as the rate tells while the gap is not
                    // proven (squaring separates the top eigenvalues).
                    (EIGVEC_TOL / err).ln() / q.ln() > (2 * n + 8) as f64
                        || (gap <= 0.0 && err < EIGVEC_TOL)
                } else {
                    level_steps >= 8
                };
                if slow && squarings < SQUARINGS {
                    if let Some(f) = self.square(squarings == 0) {
                        frob2 = f;
                        scale = 1.0;
                        squarings += 1;
                        (prev, prev2, level_steps) = (f64::INFINITY, f64::INFINITY, 0);
                        continue;
                    }
                }
            }
            prev2 = prev;
            prev = delta;
        }
        if !converged {
            return self.fallback();
        }
        // A cold start (or a restart) breaks the phase continuity the extrapolation needs.
        self.warm = if restarted_once {
            1
        } else {
            (self.warm + 1).min(3)
        };
        if squarings == 0 {
            // The Rayleigh quotient of the previous iterate: its error is of the order of the
            // squared eigenvector error.
            return rayleigh * tr;
        }
        self.rayleigh_g()
    }

    /// Sets up the start vector from the previous eigenvectors `v`, `p`, `pp` (most recent
    /// first): the quadratic extrapolation `3v − 3p + pp`, the linear one `2v − p`, `v`
    /// itself, or cold the largest column; shifts the history (`pp ← p ← v`). True when cold.
    #[inline(always)]
    fn start(&mut self) -> bool {
        if self.warm == 0 {
            self.cold_start(true);
            return true;
        }
        // The eigenvectors vary smoothly from pixel to pixel (G(r) is a trigonometric
        // polynomial of low degree), and the power steps keep their phases consistent.
        let (a, b, c) = match self.warm {
            1 => (1.0, 0.0, 0.0),
            2 => (2.0, -1.0, 0.0),
            _ => (3.0, -3.0, 1.0),
        };
        let mut nrm = 0.0;
        for ((v, p), pp) in self
            .v_re
            .iter_mut()
            .zip(self.p_re.iter_mut())
            .zip(self.pp_re.iter_mut())
            .chain(
                self.v_im
                    .iter_mut()
                    .zip(self.p_im.iter_mut())
                    .zip(self.pp_im.iter_mut()),
            )
        {
            let x = a * *v + b * *p + c * *pp;
            *pp = *p;
            *p = *v;
            *v = x;
            nrm += x * x;
        }
        let inv = 1.0 / nrm.sqrt();
        self.v_re.iter_mut().for_each(|x| *x *= inv);
        self.v_im.iter_mut().for_each(|x| *x *= inv);
        false
    }

    /// Whether the dominant eigenvalue is at or below the crop threshold, given a vector within
    /// [`CROPPED_TOL`] of its eigenvector (`rayleigh`: `vᴴ A v` of the previous vector,
    /// `A = G / tr` while not squared; `λ₁ ≤ vᴴ G v / (1 − θ²)` at angle `θ`).
    #[inline(always)]
    fn cropped(&mut self, rayleigh: f64, tr: f64, squarings: usize) -> bool {
        if self.crop == f64::NEG_INFINITY {
            return false;
        }
        let lambda = if squarings == 0 {
            rayleigh * tr
        } else {
            self.rayleigh_g()
        };
        lambda <= self.crop * (1.0 - CROPPED_TOL * CROPPED_TOL)
    }

    /// `vᴴ G v` of the current vector.
    #[inline(always)]
    fn rayleigh_g(&mut self) -> f64 {
        hermitian_matvec(
            self.n,
            &self.g_re,
            &self.g_im,
            &self.v_re,
            &self.v_im,
            &mut self.y_re,
            &mut self.y_im,
        );
        dot_lanes(&self.v_re, &self.y_re) + dot_lanes(&self.v_im, &self.y_im)
    }

    /// `v` = the column with the largest diagonal of `G` (`from_g`) or `A`, normalised.
    #[inline(always)]
    fn cold_start(&mut self, from_g: bool) {
        let n = self.n;
        let (m_re, m_im) = if from_g {
            (&self.g_re, &self.g_im)
        } else {
            (&self.a_re, &self.a_im)
        };
        let j = (0..n)
            .max_by(|&p, &q| m_re[p * n + p].total_cmp(&m_re[q * n + q]))
            .unwrap_or(0);
        // Column j of a Hermitian matrix is the conjugate of row j.
        let mut nrm = 0.0;
        for i in 0..n {
            self.v_re[i] = m_re[j * n + i];
            self.v_im[i] = -m_im[j * n + i];
            nrm += self.v_re[i] * self.v_re[i] + self.v_im[i] * self.v_im[i];
        }
        let nrm = nrm.sqrt();
        if nrm > 0.0 {
            self.v_re.iter_mut().for_each(|x| *x /= nrm);
            self.v_im.iter_mut().for_each(|x| *x /= nrm);
        }
    }

    /// `A ← A² / trace(A²)` (from `G` when `from_g`: `A` is then `G`'s multiple), returning
    /// `‖A‖²_F` of the new `A`; `None` (A unchanged) when the trace is not positive.
    #[inline(always)]
    fn square(&mut self, from_g: bool) -> Option<f64> {
        let n = self.n;
        let (a_re, a_im) = if from_g {
            (&self.g_re, &self.g_im)
        } else {
            (&self.a_re, &self.a_im)
        };
        for i in 0..n {
            // Row i of A² = Σ_k A[i][k] A[k][:], with A[i][k] = conj(A[k][i]) (column i).
            for k in 0..n {
                self.y_re[k] = a_re[k * n + i];
                self.y_im[k] = a_im[k * n + i];
            }
            combine_rows(
                &self.y_re,
                &self.y_im,
                true,
                a_re,
                a_im,
                n,
                &mut self.b_re[i * n..(i + 1) * n],
                &mut self.b_im[i * n..(i + 1) * n],
            );
        }
        let t: f64 = (0..n).map(|i| self.b_re[i * n + i]).sum();
        if !(t > 1e-300 && t.is_finite()) {
            return None;
        }
        let s = 1.0 / t;
        for (a, b) in self.a_re.iter_mut().zip(&self.b_re) {
            *a = b * s;
        }
        for (a, b) in self.a_im.iter_mut().zip(&self.b_im) {
            *a = b * s;
        }
        Some(dot_lanes(&self.a_re, &self.a_re) + dot_lanes(&self.a_im, &self.a_im))
    }

    /// [`dominant_eigen`] on `G` (the robust path for matrices where the power iteration does
    /// not converge).
    fn fallback(&mut self) -> f64 {
        let n = self.n;
        self.full.clear();
        self.full.extend(
            self.g_re
                .iter()
                .zip(&self.g_im)
                .map(|(&re, &im)| C64::new(re, im)),
        );
        self.vec.resize(n, C64::new(0.0, 0.0));
        let lambda = dominant_eigen(&self.full, n, &mut self.vec, &mut self.work);
        for (i, x) in self.vec.iter().enumerate() {
            self.v_re[i] = x.re;
            self.v_im[i] = x.im;
        }
        self.warm = u8::from(lambda > 0.0);
        lambda
    }
}

/// `y = A v` for a Hermitian `n × n` matrix `A` held as split row-major parts: column `k` of
/// `A` is the conjugate of row `k`, so `conj(y) = Σ_k conj(v[k]) A[k][:]` (rows, contiguous).
#[inline(always)]
fn hermitian_matvec(
    n: usize,
    a_re: &[f64],
    a_im: &[f64],
    v_re: &[f64],
    v_im: &[f64],
    y_re: &mut [f64],
    y_im: &mut [f64],
) {
    combine_rows(
        v_re,
        v_im,
        true,
        a_re,
        a_im,
        n,
        &mut y_re[..n],
        &mut y_im[..n],
    );
    y_im.iter_mut().for_each(|x| *x = -*x);
}

/// `Σ a[i] b[i]` with four independent partial sums.
#[inline(always)]
fn dot_lanes(a: &[f64], b: &[f64]) -> f64 {
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let mut tail = 0.0;
    for (x, y) in ca.remainder().iter().zip(cb.remainder()) {
        tail += x * y;
    }
    let mut acc = [0.0f64; 4];
    for (x, y) in ca.zip(cb) {
        for l in 0..4 {
            acc[l] += x[l] * y[l];
        }
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// `y ← s · y`, returning `Σ (y[i] − v[i])²` (four independent partial sums).
#[inline(always)]
fn scale_distance(y: &mut [f64], s: f64, v: &[f64]) -> f64 {
    let mut acc = [0.0f64; 4];
    let mut cy = y.chunks_exact_mut(4);
    let mut cv = v.chunks_exact(4);
    for (a, b) in (&mut cy).zip(&mut cv) {
        for l in 0..4 {
            a[l] *= s;
            let d = a[l] - b[l];
            acc[l] += d * d;
        }
    }
    let mut tail = 0.0;
    for (a, b) in cy.into_remainder().iter_mut().zip(cv.remainder()) {
        *a *= s;
        tail += (*a - b) * (*a - b);
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// Register block width of [`combine_rows`] and [`combine_rows_real`].
const LANES: usize = 8;

/// `out[j] = Σ_k c[k] · R[k][j]` for `j < out.len()`, the rows `R[k]` starting at `k · stride` of
/// split parts `r_re` / `r_im`, `c` conjugated when `conj_c`. Accumulates blocks of [`LANES`]
/// outputs in registers over all `k` (no store-to-load chains; vectorises).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn combine_rows(
    c_re: &[f64],
    c_im: &[f64],
    conj_c: bool,
    r_re: &[f64],
    r_im: &[f64],
    stride: usize,
    out_re: &mut [f64],
    out_im: &mut [f64],
) {
    let m = out_re.len().min(out_im.len());
    let sign = if conj_c { -1.0 } else { 1.0 };
    let mut j0 = 0;
    while j0 + LANES <= m {
        let mut acc_re = [0.0f64; LANES];
        let mut acc_im = [0.0f64; LANES];
        for (k, (&cr, &ci)) in c_re.iter().zip(c_im).enumerate() {
            let ci = sign * ci;
            let rr = &r_re[k * stride + j0..][..LANES];
            let ri = &r_im[k * stride + j0..][..LANES];
            for l in 0..LANES {
                acc_re[l] += cr * rr[l] - ci * ri[l];
                acc_im[l] += cr * ri[l] + ci * rr[l];
            }
        }
        out_re[j0..j0 + LANES].copy_from_slice(&acc_re);
        out_im[j0..j0 + LANES].copy_from_slice(&acc_im);
        j0 += LANES;
    }
    for j in j0..m {
        let (mut yr, mut yi) = (0.0, 0.0);
        for (k, (&cr, &ci)) in c_re.iter().zip(c_im).enumerate() {
            let ci = sign * ci;
            let (ar, ai) = (r_re[k * stride + j], r_im[k * stride + j]);
            yr += cr * ar - ci * ai;
            yi += cr * ai + ci * ar;
        }
        out_re[j] = yr;
        out_im[j] = yi;
    }
}

/// `out[j] = Σ_k w[k] · R[k][j]` with real weights `w` (see [`combine_rows`]).
#[inline(always)]
pub(crate) fn combine_rows_real(
    w: &[f64],
    r_re: &[f64],
    r_im: &[f64],
    stride: usize,
    out_re: &mut [f64],
    out_im: &mut [f64],
) {
    let m = out_re.len().min(out_im.len());
    let mut j0 = 0;
    while j0 + LANES <= m {
        let mut acc_re = [0.0f64; LANES];
        let mut acc_im = [0.0f64; LANES];
        for (k, &wk) in w.iter().enumerate() {
            let rr = &r_re[k * stride + j0..][..LANES];
            let ri = &r_im[k * stride + j0..][..LANES];
            for l in 0..LANES {
                acc_re[l] += wk * rr[l];
                acc_im[l] += wk * ri[l];
            }
        }
        out_re[j0..j0 + LANES].copy_from_slice(&acc_re);
        out_im[j0..j0 + LANES].copy_from_slice(&acc_im);
        j0 += LANES;
    }
    for j in j0..m {
        let (mut yr, mut yi) = (0.0, 0.0);
        for (k, &wk) in w.iter().enumerate() {
            yr += wk * r_re[k * stride + j];
            yi += wk * r_im[k * stride + j];
        }
        out_re[j] = yr;
        out_im[j] = yi;
    }
}

/// Rows per rayon task in [`dominant_per_row`] (the centre pixel of a row is warm-started
/// from the previous row's centre within a task).
const ROWS_PER_TASK: usize = 4;

/// Hermitian PSD `nc × nc` matrices, one per pixel of a grid of rows, for
/// [`dominant_per_row`]. Implementations mark the methods `#[inline(always)]`: they are
/// compiled into the per-row loop, for the instruction set it dispatches to.
pub(crate) trait RowMatrices: Sync {
    /// Per-worker workspace.
    type Workspace: Send;
    /// A fresh workspace.
    fn workspace(&self) -> Self::Workspace;
    /// Prepares row `row` (called before the row's pixels).
    fn load_row(&self, ws: &mut Self::Workspace, row: usize);
    /// Sets the matrix of pixel `x` of row `row` (the row last loaded) in `solver`.
    fn fill(&self, ws: &mut Self::Workspace, row: usize, x: usize, solver: &mut DominantSolver);
}

/// One task of [`dominant_per_row`]: consecutive rows starting at `first_row`, their maps (one
/// slice of the task's pixels per coil plane) and eigenvalues.
struct RowTask<'a, 'm, M: RowMatrices> {
    /// The matrices.
    matrices: &'a M,
    /// The worker's workspace.
    ws: &'a mut M::Workspace,
    /// The worker's solver.
    solver: &'a mut DominantSolver,
    /// The first row of the task.
    first_row: usize,
    /// Pixels per row.
    row_len: usize,
    /// Maps are kept where the eigenvalue is above this.
    crop: f32,
    /// The task's maps, per coil.
    maps: Vec<&'m mut [C32]>,
    /// The task's eigenvalues.
    eigenvalues: &'a mut [f32],
}

impl<M: RowMatrices> pulp::WithSimd for RowTask<'_, '_, M> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        let RowTask {
            matrices,
            ws,
            solver,
            first_row,
            row_len,
            crop,
            mut maps,
            eigenvalues,
        } = self;
        let nc = solver.n;
        let centre = row_len / 2;
        let mut v = vec![C32::new(0.0, 0.0); nc];
        solver.forget();
        for (r, erow) in eigenvalues.chunks_mut(row_len).enumerate() {
            let row = first_row + r;
            matrices.load_row(ws, row);
            solver.restore();
            for x in (centre..row_len).chain((0..centre).rev()) {
                if x + 1 == centre {
                    solver.restore();
                }
                matrices.fill(ws, row, x, solver);
                let lambda = solver.solve() as f32;
                if x == centre {
                    solver.save();
                }
                erow[x] = lambda;
                if lambda > crop {
                    solver.write(&mut v);
                    for (plane, &s) in maps.iter_mut().zip(&v) {
                        plane[r * row_len + x] = s;
                    }
                }
            }
        }
    }
}

/// Per pixel of a `nrows × row_len` grid (pixel `row · row_len + x`), the dominant eigenpair of
/// the Hermitian PSD `nc × nc` matrix `matrices` sets: coil-major maps `[coil, pixel]` and the
/// eigenvalues. Pixels whose eigenvalue is not above `crop` get a zero map (ESPIRiT);
/// `f32::NEG_INFINITY` keeps every pixel (Walsh).
///
/// Rows run in parallel in tasks of [`ROWS_PER_TASK`]; along a row the pixels go from the
/// centre outwards, each warm-started from its neighbours' eigenvectors ([`DominantSolver`]).
/// Every task starts cold, so the result does not depend on the scheduling. A task runs
/// compiled for the best instruction set available (AVX2 + FMA by `pulp`'s run-time dispatch,
/// everything it calls inlined): besides the wider vectors, VEX-encoded code keeps its speed on
/// threads where other code (faer's AVX-512 kernels) left the upper vector registers dirty,
/// where legacy SSE code was measured 2× slower. Memory: the maps and eigenvalues, and one
/// workspace per thread.
pub(crate) fn dominant_per_row<M: RowMatrices>(
    matrices: &M,
    nc: usize,
    nrows: usize,
    row_len: usize,
    crop: f32,
) -> (Vec<C32>, Vec<f32>) {
    let npix = nrows * row_len;
    let mut maps = vec![C32::new(0.0, 0.0); npix * nc];
    let mut eigenvalues = vec![0.0f32; npix];
    if npix == 0 || nc == 0 {
        return (maps, eigenvalues);
    }
    let task_px = row_len * ROWS_PER_TASK;
    // Per task, its pixels' slice of every coil plane.
    let mut views: Vec<Vec<&mut [C32]>> = (0..npix.div_ceil(task_px))
        .map(|_| Vec::with_capacity(nc))
        .collect();
    for plane in maps.chunks_mut(npix) {
        for (view, part) in views.iter_mut().zip(plane.chunks_mut(task_px)) {
            view.push(part);
        }
    }
    let arch = pulp::Arch::new();
    views
        .into_par_iter()
        .zip(eigenvalues.par_chunks_mut(task_px))
        .enumerate()
        .for_each_init(
            || {
                (
                    matrices.workspace(),
                    DominantSolver::new(nc, f64::from(crop)),
                )
            },
            |(ws, solver), (task, (view, eblock))| {
                arch.dispatch(RowTask {
                    matrices,
                    ws,
                    solver,
                    first_row: task * ROWS_PER_TASK,
                    row_len,
                    crop,
                    maps: view,
                    eigenvalues: eblock,
                });
            },
        );
    (maps, eigenvalues)
}

/// Matrices whose upper triangle `(c, d)` in `pairs` is held as full-grid planes
/// (`planes[k * npix + i]`, rows of `row_len` pixels).
struct PlaneMatrices<'a> {
    /// The planes, `[pair, pixel]`.
    planes: &'a [C32],
    /// The coil pairs of the planes.
    pairs: &'a [(usize, usize)],
    /// Pixels per plane.
    npix: usize,
    /// Pixels per row.
    row_len: usize,
}

impl RowMatrices for PlaneMatrices<'_> {
    type Workspace = ();

    #[inline(always)]
    fn workspace(&self) {}

    #[inline(always)]
    fn load_row(&self, _: &mut (), _: usize) {}

    #[inline(always)]
    fn fill(&self, _: &mut (), row: usize, x: usize, solver: &mut DominantSolver) {
        let i = row * self.row_len + x;
        for (k, &(c, d)) in self.pairs.iter().enumerate() {
            let v = self.planes[k * self.npix + i];
            solver.set(c, d, f64::from(v.re), f64::from(v.im));
        }
    }
}

/// Per pixel, the dominant eigenvector of the Hermitian coil × coil matrix whose upper
/// triangle `(c, d)` in `pairs` is held as full-grid planes (`planes[k * npix + i]`, rows of
/// `row_len` pixels): coil-major maps `[coil, pixel]` and the eigenvalues, by
/// [`dominant_per_row`] (see there for `crop`).
pub(crate) fn dominant_per_pixel(
    planes: &[C32],
    pairs: &[(usize, usize)],
    nc: usize,
    npix: usize,
    row_len: usize,
    crop: f32,
) -> (Vec<C32>, Vec<f32>) {
    let row_len = row_len.max(1);
    let matrices = PlaneMatrices {
        planes,
        pairs,
        npix,
        row_len,
    };
    dominant_per_row(&matrices, nc, npix / row_len, row_len, crop)
}

/// Rows per block when accumulating a Gram matrix (bounds the memory of the row block).
const GRAM_BLOCK_ROWS: usize = 2048;

/// `G = Aᴴ A` (`ncols × ncols`, f64) of an `nrows × ncols` matrix whose rows `fill(row, out)`
/// writes, accumulated over blocks of [`GRAM_BLOCK_ROWS`] rows (rows filled in parallel, the
/// product by `faer` on rayon).
pub(crate) fn gram_of_rows<F>(nrows: usize, ncols: usize, fill: F) -> faer::Mat<C64>
where
    F: Fn(usize, &mut [C64]) + Sync,
{
    let mut g = faer::Mat::<C64>::zeros(ncols, ncols);
    let mut block = Vec::new();
    let mut start = 0;
    while start < nrows {
        let rows = GRAM_BLOCK_ROWS.min(nrows - start);
        block.clear();
        block.resize(rows * ncols, C64::new(0.0, 0.0));
        block
            .par_chunks_mut(ncols)
            .enumerate()
            .for_each(|(r, row)| fill(start + r, row));
        let a = faer::MatRef::from_row_major_slice(&block, rows, ncols);
        faer::linalg::matmul::matmul(
            g.as_mut(),
            faer::Accum::Add,
            a.adjoint(),
            a,
            C64::new(1.0, 0.0),
            faer::Par::rayon(0),
        );
        start += rows;
    }
    g
}

/// Inverse centred FFT over the spatial axes of a `[batch, z, y, x]` host array via the
/// backend, scaled by `scale`.
pub(crate) fn inverse_fft_spatial<B: Backend>(
    be: &B,
    host: &[C32],
    batch: usize,
    dims: [usize; 3],
    scale: f32,
) -> Vec<C32> {
    let mut buf = be.upload(host);
    be.fft(
        &mut buf,
        &[batch, dims[0], dims[1], dims[2]],
        &[1, 2, 3],
        FftDirection::Inverse,
    );
    if scale != 1.0 {
        be.scale(&mut buf, C32::new(scale, 0.0));
    }
    be.download(&buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dominant_eigen_of_a_known_matrix() {
        // G = 2·u uᴴ + 0.9·w wᴴ with orthonormal u, w in C³: close eigenvalues on purpose.
        let s = 1.0 / 2f64.sqrt();
        let u = [C64::new(s, 0.0), C64::new(0.0, s), C64::new(0.0, 0.0)];
        let w = [C64::new(0.0, 0.0), C64::new(0.0, 0.0), C64::new(0.6, 0.8)];
        let mut g = vec![C64::new(0.0, 0.0); 9];
        for i in 0..3 {
            for j in 0..3 {
                g[i * 3 + j] = 2.0 * u[i] * u[j].conj() + 1.9 * w[i] * w[j].conj();
            }
        }
        let mut v = vec![C64::new(0.0, 0.0); 3];
        let lambda = dominant_eigen(&g, 3, &mut v, &mut EigenWork::default());
        assert!((lambda - 2.0).abs() < 1e-9, "lambda {lambda}");
        let overlap: C64 = u.iter().zip(&v).map(|(a, b)| a.conj() * b).sum();
        assert!((overlap.norm() - 1.0).abs() < 1e-6, "overlap {overlap}");
        let zero = vec![C64::new(0.0, 0.0); 9];
        assert_eq!(
            dominant_eigen(&zero, 3, &mut v, &mut EigenWork::default()),
            0.0
        );
    }

    /// Deterministic pseudo-random numbers in [-1, 1) (xorshift).
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> f64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 >> 11) as f64 / (1u64 << 52) as f64 - 1.0
        }
    }

    /// A random unitary `n × n` matrix (Gram–Schmidt on random columns), column major.
    fn unitary(n: usize, rng: &mut Rng) -> Vec<Vec<C64>> {
        let mut q: Vec<Vec<C64>> = Vec::new();
        while q.len() < n {
            let mut v: Vec<C64> = (0..n).map(|_| C64::new(rng.next(), rng.next())).collect();
            for u in &q {
                let p: C64 = u.iter().zip(&v).map(|(a, b)| a.conj() * b).sum();
                v.iter_mut().zip(u).for_each(|(x, y)| *x -= p * y);
            }
            if normalise(&mut v) > 1e-3 {
                q.push(v);
            }
        }
        q
    }

    /// `Σ λᵢ uᵢ uᵢᴴ` (row major).
    fn hermitian(u: &[Vec<C64>], lambda: &[f64]) -> Vec<C64> {
        let n = u[0].len();
        let mut g = vec![C64::new(0.0, 0.0); n * n];
        for (ui, &l) in u.iter().zip(lambda) {
            for i in 0..n {
                for j in 0..n {
                    g[i * n + j] += l * ui[i] * ui[j].conj();
                }
            }
        }
        g
    }

    fn load(solver: &mut DominantSolver, g: &[C64], n: usize) {
        for c in 0..n {
            for d in c..n {
                let x = g[c * n + d];
                solver.set(c, d, x.re, x.im);
            }
        }
    }

    /// `‖a − e^{iα} b‖` minimised over α.
    fn distance(a: &[C64], b: &[C64]) -> f64 {
        let ov: C64 = a.iter().zip(b).map(|(x, y)| x.conj() * y).sum();
        let rot = if ov.norm() > 0.0 {
            ov.conj() / ov.norm()
        } else {
            C64::new(1.0, 0.0)
        };
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - rot * y).norm_sqr())
            .sum::<f64>()
            .sqrt()
    }

    fn solver_vector(solver: &DominantSolver, n: usize) -> Vec<C64> {
        let mut out = vec![C32::new(0.0, 0.0); n];
        solver.write(&mut out);
        out.iter()
            .map(|x| C64::new(f64::from(x.re), f64::from(x.im)))
            .collect()
    }

    #[test]
    fn dominant_solver_matches_a_direct_eigendecomposition() {
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        // Eigengaps λ₂/λ₁ from easy to nearly degenerate (squarings, then the bound is tight).
        for n in [5, 16, 32] {
            for ratio in [0.2, 0.7, 0.95, 0.995] {
                let u = unitary(n, &mut rng);
                let lambda: Vec<f64> = (0..n)
                    .map(|i| match i {
                        0 => 1.3,
                        1 => 1.3 * ratio,
                        _ => 0.4 * rng.next().abs() * ratio,
                    })
                    .collect();
                let g = hermitian(&u, &lambda);
                // Reference: faer's eigendecomposition.
                let m = faer::Mat::<C64>::from_fn(n, n, |i, j| g[i * n + j]);
                let evd = m.self_adjoint_eigen(faer::Side::Lower).unwrap();
                let top = evd.S().column_vector()[n - 1].re;
                let v_ref: Vec<C64> = (0..n).map(|i| evd.U()[(i, n - 1)]).collect();
                let mut solver = DominantSolver::new(n, f64::NEG_INFINITY);
                load(&mut solver, &g, n);
                // Cold, then warm from a perturbed eigenvector.
                for warm in [false, true] {
                    if warm {
                        solver.forget();
                        for ((re, im), r) in solver
                            .v_re
                            .iter_mut()
                            .zip(solver.v_im.iter_mut())
                            .zip(&v_ref)
                        {
                            *re = r.re + 0.01 * rng.next();
                            *im = r.im + 0.01 * rng.next();
                        }
                        let nrm = (dot_lanes(&solver.v_re, &solver.v_re)
                            + dot_lanes(&solver.v_im, &solver.v_im))
                        .sqrt();
                        solver.v_re.iter_mut().for_each(|x| *x /= nrm);
                        solver.v_im.iter_mut().for_each(|x| *x /= nrm);
                        solver.warm = 1;
                    } else {
                        solver.forget();
                    }
                    let l = solver.solve();
                    let d = distance(&solver_vector(&solver, n), &v_ref);
                    assert!(
                        (l - top).abs() < 1e-9 * top,
                        "n {n} ratio {ratio} warm {warm}: λ {l} vs {top}"
                    );
                    // The bound is 1e-6; the vector is written in single precision.
                    assert!(d < 1.2e-6, "n {n} ratio {ratio} warm {warm}: ‖Δv‖ {d:e}");
                }
            }
        }
    }

    #[test]
    fn dominant_solver_edge_cases() {
        let n = 4;
        let mut solver = DominantSolver::new(n, 0.5);
        // Zero and non-finite matrices: eigenvalue 0, zero vector.
        assert_eq!(solver.solve(), 0.0);
        assert!(solver_vector(&solver, n).iter().all(|x| x.norm() == 0.0));
        solver.set(1, 1, f64::NAN, 0.0);
        assert_eq!(solver.solve(), 0.0);
        // Rank one, warm start orthogonal to it: restarted from the largest column.
        let u = [
            C64::new(0.0, 0.0),
            C64::new(0.6, 0.0),
            C64::new(0.0, 0.8),
            C64::new(0.0, 0.0),
        ];
        let g = hermitian(&[u.to_vec()], &[2.0]);
        load(&mut solver, &g, n);
        solver.v_re.fill(0.0);
        solver.v_im.fill(0.0);
        solver.v_re[0] = 1.0;
        solver.warm = 1;
        let l = solver.solve();
        assert!((l - 2.0).abs() < 1e-12, "λ {l}");
        assert!(distance(&solver_vector(&solver, n), &u) < 1e-6);
        // Below the crop threshold only the eigenvalue matters; it is still accurate.
        let mut rng = Rng(99);
        let q = unitary(n, &mut rng);
        let g = hermitian(&q, &[0.3, 0.29, 0.1, 0.05]);
        load(&mut solver, &g, n);
        solver.forget();
        let l = solver.solve();
        assert!((l - 0.3).abs() < 1e-8, "λ {l}");
    }

    #[test]
    fn dominant_per_row_follows_a_smooth_field() {
        // G(x) = R(x) diag(1, 0.6, 0.3, 0.1) R(x)ᴴ with a rotation R(x) varying along the row,
        // against faer per pixel; crop 0.9 between the two halves of the row.
        let n = 4;
        let mut rng = Rng(4242);
        let base = unitary(n, &mut rng);
        let (nrows, row_len) = (3, 40);
        let field = |row: usize, x: usize| {
            let t = 0.05 * x as f64 + 0.3 * row as f64;
            let (c, s) = (t.cos(), t.sin());
            // Rotate the first two eigenvectors into each other, with a phase.
            let mut u = base.clone();
            for i in 0..n {
                let (a, b) = (base[0][i], base[1][i]);
                u[0][i] = c * a + s * b * C64::from_polar(1.0, t);
                u[1][i] = -s * a * C64::from_polar(1.0, -t) + c * b;
            }
            let top = if x < row_len / 2 { 1.0 } else { 0.85 };
            hermitian(&u, &[top, 0.6, 0.3, 0.1])
        };
        /// The field as [`RowMatrices`].
        struct Field<F>(F, usize);
        impl<F: Fn(usize, usize) -> Vec<C64> + Sync> RowMatrices for Field<F> {
            type Workspace = ();
            fn workspace(&self) {}
            fn load_row(&self, _: &mut (), _: usize) {}
            fn fill(&self, _: &mut (), row: usize, x: usize, solver: &mut DominantSolver) {
                load(solver, &(self.0)(row, x), self.1);
            }
        }
        let (maps, eig) = dominant_per_row(&Field(field, n), n, nrows, row_len, 0.9);
        for row in 0..nrows {
            for x in 0..row_len {
                let i = row * row_len + x;
                let g = field(row, x);
                let m = faer::Mat::<C64>::from_fn(n, n, |a, b| g[a * n + b]);
                let evd = m.self_adjoint_eigen(faer::Side::Lower).unwrap();
                let top = evd.S().column_vector()[n - 1].re;
                assert!(
                    (f64::from(eig[i]) - top).abs() < 1e-6,
                    "pixel {i}: λ {}",
                    eig[i]
                );
                let got: Vec<C64> = (0..n)
                    .map(|c| maps[c * nrows * row_len + i])
                    .map(|x| C64::new(f64::from(x.re), f64::from(x.im)))
                    .collect();
                if top > 0.9 {
                    let v_ref: Vec<C64> = (0..n).map(|a| evd.U()[(a, n - 1)]).collect();
                    assert!(distance(&got, &v_ref) < 1.2e-6, "pixel {i}");
                } else {
                    assert!(got.iter().all(|x| x.norm() == 0.0), "pixel {i} not cropped");
                }
            }
        }
    }

    #[test]
    fn phase_reference_coil_gets_zero_phase() {
        // Coil-major: coil 0 = [i, 1], coil 1 = [−1, −i].
        let mut maps = vec![
            C32::new(0.0, 1.0),
            C32::new(1.0, 0.0),
            C32::new(-1.0, 0.0),
            C32::new(0.0, -1.0),
        ];
        normalise_phase(&mut maps, 2, PhaseReference::Coil(0)).unwrap();
        for s in &maps[..2] {
            assert!(s.im.abs() < 1e-6 && s.re > 0.0);
        }
        // Pixel 0 turned by −i, pixel 1 unchanged.
        assert!((maps[2] - C32::new(0.0, 1.0)).norm() < 1e-6, "{}", maps[2]);
        assert!((maps[3] - C32::new(0.0, -1.0)).norm() < 1e-6, "{}", maps[3]);
        assert!(normalise_phase(&mut maps, 2, PhaseReference::Coil(2)).is_err());
    }
}
