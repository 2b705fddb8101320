//! Partial-Fourier reconstruction: k-space sampled asymmetrically about its centre (some lines
//! on one side of `ky = 0`, `kz = 0`, or an asymmetric echo in `kx`, never acquired) completed
//! per coil by zero filling, homodyne detection (Noll 1991) or POCS (Haacke 1991).
//!
//! Both homodyne and POCS rest on the image having a smooth phase: with the phase removed it
//! is real, its k-space Hermitian symmetric, `M(−k) = M(k)*`, so the missing half follows from
//! the measured one. The phase is estimated per coil from the **symmetric centre** (the part
//! of every asymmetric axis that is sampled on both sides of the centre, `±a`), windowed by a
//! Hann window of half-width `a/2`: a smoother phase than the whole centre gives, less noisy
//! (on sl_full with 3/8 of the lines dropped, homodyne NRMSE on the object 0.107 instead of
//! 0.110 with the window over `±a`, the same without noise).
//!
//! # Geometry
//! An axis of length `n` has its centre at `n/2` ([`crate::conventions`]) and a sampled extent
//! `[lo, hi)` ([`AxisExtent`]): for `ky`/`kz` the acquired lines of the volume, for `kx` the
//! readout samples the assembly filled ([`readout_extent`], scaled to the grid after readout
//! oversampling removal). An axis is partial-Fourier when the numbers of missing samples below
//! and above the centre differ by more than the largest gap between acquired lines (so that
//! regular undersampling is not mistaken for it), at least 2. Its symmetric half-width is
//! `a = min(n/2 − lo, hi − 1 − n/2)`.
//!
//! # Methods (every coil, all asymmetric axes at once)
//! - **Zero filling**: the unsampled k-space is zero (anything there, e.g. lines GRAPPA
//!   extrapolated beyond the acquired extent, is cleared).
//! - **Homodyne** (Noll): per asymmetric axis a ramp `r(d) ∈ [0, 1]` (`d = k − n/2`): 0 where
//!   not sampled, 1 where only `k` (not `−k`) is sampled, `½ + ½·d/(a+1)` across the symmetric
//!   centre (towards the longer side), so `r(d) + r(−d) = 1`. Several asymmetric axes combine
//!   as `R = Πr / (Πr + Π(1−r))` (0 where neither `k` nor `−k` is sampled), which keeps
//!   `R(k) + R(−k) = 1`; the pre-weighting is `W = 2R`. Image: `Re(e^{−iφ} · F⁻¹[W·M]) · e^{iφ}`
//!   with φ the low-resolution phase: the real part after phase demodulation, re-modulated by
//!   the smooth phase so that the coil images can still be combined with sensitivity maps
//!   (RSS is unaffected).
//! - **POCS** (Haacke): start from the zero-filled image; `iterations` times: impose the
//!   low-resolution phase (`ρ ← |ρ|·e^{iφ}`, Haacke's constraint), Fourier transform, re-insert
//!   the measured samples, transform back. The result is data-consistent. (The linear
//!   projection `Re(ρ·e^{−iφ})·e^{iφ}` does as well without noise but keeps more noise: on
//!   sl_full with 3/8 dropped, NRMSE on the object 0.108 against 0.097 for `|ρ|`.)
//!
//! The completed k-space is returned (same shape), so the stages after it (maps, coil
//! combination) run unchanged. The pointwise steps run on the host (rayon), the FFTs on the
//! backend.
//!
//! # References
//! - Noll DC, Nishimura DG, Macovski A. Homodyne detection in magnetic resonance imaging.
//!   IEEE Trans Med Imaging 1991;10:154–163.
//! - Haacke EM, Lindskog ED, Lin W. A fast, iterative, partial-Fourier technique capable of
//!   local phase recovery. J Magn Reson 1991;92:126–145.

use rayon::prelude::*;

use crate::backend::{Backend, C32, FftDirection};
use crate::config::PartialFourierMethod;
use crate::error::{ReconError, Result};
use crate::kspace::CoilKspace;

const STAGE: &str = "partial_fourier";

/// Pixels per parallel block of the pointwise steps.
const BLOCK: usize = 4096;

/// The sampled extent `[lo, hi)` of one k-space axis of length `n` (centre `n/2`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AxisExtent {
    /// Axis length.
    pub n: usize,
    /// First sampled index.
    pub lo: usize,
    /// One past the last sampled index.
    pub hi: usize,
    /// Largest distance between consecutive sampled indices (1 when fully sampled).
    pub gap: usize,
}

impl AxisExtent {
    /// The extent of the `true` entries of `sampled` (one flag per index); `None` when none is.
    pub fn from_flags(sampled: &[bool]) -> Option<Self> {
        let lo = sampled.iter().position(|&s| s)?;
        let hi = sampled.iter().rposition(|&s| s)? + 1;
        let mut gap = 1;
        let mut last = lo;
        for (i, &s) in sampled.iter().enumerate().take(hi).skip(lo + 1) {
            if s {
                gap = gap.max(i - last);
                last = i;
            }
        }
        Some(AxisExtent {
            n: sampled.len(),
            lo,
            hi,
            gap,
        })
    }

    /// The k-space centre `n/2`.
    pub fn centre(&self) -> usize {
        self.n / 2
    }

    /// Samples missing below / above the extent.
    pub fn missing(&self) -> (usize, usize) {
        (self.lo, self.n - self.hi)
    }

    /// Whether the sampling is asymmetric enough to be partial Fourier (see the
    /// [module docs](self)).
    pub fn is_partial(&self) -> bool {
        let (below, above) = self.missing();
        below.abs_diff(above) > self.gap.max(2)
    }

    /// Half-width `a` of the symmetric centre `[n/2 − a, n/2 + a]`.
    pub fn symmetric_half_width(&self) -> usize {
        let c = self.centre();
        (c - self.lo).min(self.hi - 1 - c)
    }

    /// Whether the longer side is above the centre.
    fn long_side_high(&self) -> bool {
        let c = self.centre();
        self.hi - 1 - c >= c - self.lo
    }

    /// Fraction of the axis inside the extent.
    pub fn fraction(&self) -> f64 {
        (self.hi - self.lo) as f64 / self.n as f64
    }

    /// The same extent on an axis resampled to `n` samples (readout oversampling removal: the
    /// distances from the centre scale by `n / self.n`, rounded towards the centre so that no
    /// partly filled sample counts as sampled).
    pub fn rescaled(&self, n: usize) -> Self {
        if n == self.n || self.n == 0 {
            return *self;
        }
        let ratio = n as f64 / self.n as f64;
        let c_old = self.centre() as f64;
        let c = n / 2;
        let below = ((c_old - self.lo as f64) * ratio).floor() as usize;
        let above = ((self.hi as f64 - 1.0 - c_old) * ratio).floor() as usize;
        AxisExtent {
            n,
            lo: c.saturating_sub(below),
            hi: (c + above + 1).min(n),
            gap: 1,
        }
    }

    /// Per index: the homodyne ramp `r` (see the [module docs](self)).
    fn ramp(&self) -> Vec<f32> {
        let c = self.centre() as isize;
        let a = self.symmetric_half_width() as isize;
        let sign = if self.long_side_high() { 1.0 } else { -1.0 };
        (0..self.n)
            .map(|k| {
                if k < self.lo || k >= self.hi {
                    return 0.0;
                }
                let d = k as isize - c;
                if d.abs() <= a {
                    0.5 + 0.5 * sign * d as f32 / (a + 1) as f32
                } else {
                    1.0
                }
            })
            .collect()
    }

    /// Per index: the Hann window of half-width `a/2` over the symmetric centre (zero
    /// outside), for the low-resolution phase.
    fn centre_window(&self) -> Vec<f32> {
        let c = self.centre() as isize;
        let a = (self.symmetric_half_width() / 2) as isize;
        (0..self.n as isize)
            .map(|k| {
                let d = k - c;
                if d.abs() <= a {
                    0.5 * (1.0 + (std::f32::consts::PI * d as f32 / (a + 1) as f32).cos())
                } else {
                    0.0
                }
            })
            .collect()
    }

    /// Per index: 1 inside the extent, 0 outside.
    fn inside(&self) -> Vec<f32> {
        (0..self.n)
            .map(|k| {
                if (self.lo..self.hi).contains(&k) {
                    1.0
                } else {
                    0.0
                }
            })
            .collect()
    }

    fn describe(&self, axis: &str) -> String {
        format!(
            "{axis} {}..{} of {} ({:.1} %), symmetric centre ±{}",
            self.lo,
            self.hi,
            self.n,
            100.0 * self.fraction(),
            self.symmetric_half_width()
        )
    }
}

/// The readout extent of assembled k-space: the `kx` samples that any readout filled (the
/// assembly leaves the others exactly zero: asymmetric echoes, `discard_pre/post`). `None`
/// when the data are all zero.
pub fn readout_extent(ks: &CoilKspace) -> Option<AxisExtent> {
    let nx = ks.matrix[2];
    if nx == 0 {
        return None;
    }
    let filled = ks
        .data
        .par_chunks(nx * 64)
        .map(|block| {
            let mut f = vec![false; nx];
            for line in block.chunks_exact(nx) {
                for (x, v) in line.iter().enumerate() {
                    f[x] |= v.re != 0.0 || v.im != 0.0;
                }
            }
            f
        })
        .reduce(
            || vec![false; nx],
            |mut a, b| {
                a.iter_mut().zip(b).for_each(|(x, y)| *x |= y);
                a
            },
        );
    AxisExtent::from_flags(&filled).map(|e| AxisExtent { gap: 1, ..e })
}

/// Where one k-space volume is partial-Fourier: the asymmetric axes (`None` for symmetric
/// ones) and the lines missing inside the sampled extent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartialFourierAxes {
    /// `kz` (3-D only).
    pub z: Option<AxisExtent>,
    /// `ky`.
    pub y: Option<AxisExtent>,
    /// `kx` (asymmetric echo).
    pub x: Option<AxisExtent>,
    /// `(kz, ky)` lines inside the sampled extent that were not acquired (undersampling).
    pub missing_lines: usize,
}

impl PartialFourierAxes {
    /// Detects the asymmetric axes of a volume from its `[kz, ky]` sampling `mask` and the
    /// readout extent (already on the current `kx` grid). Errors when the k-space centre of an
    /// axis was not sampled or nothing was.
    pub fn detect(
        mask: &[bool],
        nz: usize,
        ny: usize,
        readout: Option<AxisExtent>,
    ) -> Result<Self> {
        if mask.len() != nz * ny || mask.is_empty() {
            return Err(ReconError::shape(
                STAGE,
                format!("mask of {} lines for {nz} × {ny}", mask.len()),
            ));
        }
        let ys: Vec<bool> = (0..ny).map(|y| (0..nz).any(|z| mask[z * ny + y])).collect();
        let zs: Vec<bool> = (0..nz)
            .map(|z| mask[z * ny..(z + 1) * ny].iter().any(|&m| m))
            .collect();
        let (Some(ey), Some(ez)) = (AxisExtent::from_flags(&ys), AxisExtent::from_flags(&zs))
        else {
            return Err(ReconError::stage(STAGE, "no k-space line was sampled"));
        };
        for (e, name) in [(ey, "ky"), (ez, "kz")]
            .into_iter()
            .chain(readout.map(|e| (e, "kx")))
        {
            let c = e.centre();
            if e.n > 1 && !(e.lo..e.hi).contains(&c) {
                return Err(ReconError::stage(
                    STAGE,
                    format!(
                        "the k-space centre ({name} = {c}) is outside the sampled extent {}..{} \
                         of {}: partial Fourier needs the centre sampled",
                        e.lo, e.hi, e.n
                    ),
                ));
            }
        }
        let missing_lines = (ez.lo..ez.hi)
            .flat_map(|z| (ey.lo..ey.hi).map(move |y| (z, y)))
            .filter(|&(z, y)| !mask[z * ny + y])
            .count();
        let keep = |e: AxisExtent| (e.n > 1 && e.is_partial()).then_some(e);
        Ok(PartialFourierAxes {
            z: keep(ez),
            y: keep(ey),
            x: readout.and_then(keep),
            missing_lines,
        })
    }

    /// Whether any axis is asymmetric.
    pub fn is_partial(&self) -> bool {
        self.z.is_some() || self.y.is_some() || self.x.is_some()
    }

    /// The asymmetric axes as `(grid axis, extent)` for a grid of `rank` spatial axes
    /// (`[ky, kx]` or `[kz, ky, kx]`).
    fn grid_axes(&self, rank: usize) -> Vec<(usize, AxisExtent)> {
        let mut out = Vec::new();
        if rank == 3
            && let Some(e) = self.z
        {
            out.push((0, e));
        }
        if let Some(e) = self.y {
            out.push((rank - 2, e));
        }
        if let Some(e) = self.x {
            out.push((rank - 1, e));
        }
        out
    }

    /// A one-line account of the asymmetric axes.
    pub fn describe(&self) -> String {
        let parts: Vec<String> = [(self.z, "kz"), (self.y, "ky"), (self.x, "kx")]
            .iter()
            .filter_map(|(e, n)| e.map(|e| e.describe(n)))
            .collect();
        if parts.is_empty() {
            "symmetric sampling".into()
        } else {
            parts.join("; ")
        }
    }
}

/// A function of the grid position that is a product of per-axis factors: the per-axis
/// vectors `(grid axis, values)`; axes without an entry contribute 1.
fn separable(
    grid: &[usize],
    factors: &[(usize, Vec<f32>)],
    combine: impl Fn(&[f32]) -> f32 + Sync,
) -> Vec<f32> {
    let npix: usize = grid.iter().product();
    let strides: Vec<usize> = (0..grid.len())
        .map(|a| grid[a + 1..].iter().product())
        .collect();
    let mut out = vec![0f32; npix];
    out.par_chunks_mut(BLOCK).enumerate().for_each(|(b, seg)| {
        let mut vals = vec![0f32; factors.len()];
        for (j, o) in seg.iter_mut().enumerate() {
            let i = b * BLOCK + j;
            for (v, (axis, f)) in vals.iter_mut().zip(factors) {
                *v = f[(i / strides[*axis]) % grid[*axis]];
            }
            *o = combine(&vals);
        }
    });
    out
}

/// The homodyne pre-weighting `W = 2R` over the grid (see the [module docs](self)).
fn homodyne_weights(grid: &[usize], axes: &[(usize, AxisExtent)]) -> Vec<f32> {
    let ramps: Vec<(usize, Vec<f32>)> = axes.iter().map(|(a, e)| (*a, e.ramp())).collect();
    separable(grid, &ramps, |r| {
        let p: f32 = r.iter().product();
        let q: f32 = r.iter().map(|v| 1.0 - v).product();
        if p + q > 0.0 { 2.0 * p / (p + q) } else { 0.0 }
    })
}

/// `w` repeated for every coil.
fn per_coil(w: &[f32], nc: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(w.len() * nc);
    for _ in 0..nc {
        out.extend_from_slice(w);
    }
    out
}

/// The unit low-resolution phase `e^{iφ}` of every coil image `[coil, grid]` from the
/// Hann-windowed symmetric centre of `k`.
fn lowres_phase<B: Backend>(
    be: &B,
    k: &B::Buf,
    cshape: &[usize],
    axes: &[(usize, AxisExtent)],
) -> Vec<C32> {
    let grid = &cshape[1..];
    let windows: Vec<(usize, Vec<f32>)> =
        axes.iter().map(|(a, e)| (*a, e.centre_window())).collect();
    let h = separable(grid, &windows, |w| w.iter().product());
    let mut low = be.zeros(be.len(k));
    be.copy(&mut low, k);
    be.mul_real(&mut low, &per_coil(&h, cshape[0]));
    let spatial: Vec<usize> = (1..cshape.len()).collect();
    be.fft(&mut low, cshape, &spatial, FftDirection::Inverse);
    let mut u = be.download(&low);
    u.par_chunks_mut(BLOCK).for_each(|seg| {
        for v in seg {
            let m = v.norm();
            *v = if m > 0.0 && m.is_finite() {
                *v / m
            } else {
                C32::new(1.0, 0.0)
            };
        }
    });
    u
}

/// `x ← Re(x · conj(u)) · u` pointwise (homodyne: the real part after phase demodulation,
/// re-modulated).
fn project_phase(x: &mut [C32], u: &[C32]) {
    x.par_chunks_mut(BLOCK)
        .zip(u.par_chunks(BLOCK))
        .for_each(|(xs, us)| {
            for (v, &p) in xs.iter_mut().zip(us) {
                *v = p * (*v * p.conj()).re;
            }
        });
}

/// `x ← |x| · u` pointwise (POCS: the magnitude with the low-resolution phase).
fn impose_phase(x: &mut [C32], u: &[C32]) {
    x.par_chunks_mut(BLOCK)
        .zip(u.par_chunks(BLOCK))
        .for_each(|(xs, us)| {
            for (v, &p) in xs.iter_mut().zip(us) {
                *v = p * v.norm();
            }
        });
}

/// Completes the k-space `k` (`[coil, (kz,) ky, kx]`, centred) of one volume whose asymmetric
/// axes are `axes`, by `method` (`iterations` for POCS). Returns the completed k-space (same
/// shape) and a line for the provenance. Symmetric sampling is returned unchanged.
pub fn complete<B: Backend>(
    be: &B,
    k: &B::Buf,
    cshape: &[usize],
    axes: &PartialFourierAxes,
    method: PartialFourierMethod,
    iterations: usize,
) -> Result<(B::Buf, String)> {
    let rank = cshape.len().saturating_sub(1);
    let total: usize = cshape.iter().product();
    if !(2..=3).contains(&rank) || be.len(k) != total || total == 0 {
        return Err(ReconError::shape(
            STAGE,
            format!(
                "expected [coil, (kz,) ky, kx] k-space, got shape {cshape:?} for {} samples",
                be.len(k)
            ),
        ));
    }
    let grid = &cshape[1..];
    let nc = cshape[0];
    let pf = axes.grid_axes(rank);
    for (a, e) in &pf {
        if e.n != grid[*a] {
            return Err(ReconError::shape(
                STAGE,
                format!("extent of {} samples on grid axis {a} of {}", e.n, grid[*a]),
            ));
        }
    }
    let mut out = be.zeros(total);
    be.copy(&mut out, k);
    if pf.is_empty() {
        return Ok((
            out,
            "symmetric sampling (no partial-Fourier asymmetry): nothing to do".into(),
        ));
    }
    let spatial: Vec<usize> = (1..cshape.len()).collect();
    let inside: Vec<(usize, Vec<f32>)> = pf.iter().map(|(a, e)| (*a, e.inside())).collect();
    let measured = per_coil(&separable(grid, &inside, |v| v.iter().product()), nc);
    let what = axes.describe();
    let note = match method {
        PartialFourierMethod::ZeroFill => {
            be.mul_real(&mut out, &measured);
            format!("zero filling; {what}")
        }
        PartialFourierMethod::Homodyne => {
            let u = lowres_phase(be, k, cshape, &pf);
            be.mul_real(&mut out, &per_coil(&homodyne_weights(grid, &pf), nc));
            be.fft(&mut out, cshape, &spatial, FftDirection::Inverse);
            let mut img = be.download(&out);
            project_phase(&mut img, &u);
            out = be.upload(&img);
            be.fft(&mut out, cshape, &spatial, FftDirection::Forward);
            format!(
                "homodyne detection (ramp pre-weighting, Hann-windowed low-resolution phase, per coil); {what}"
            )
        }
        PartialFourierMethod::Pocs => {
            let u = lowres_phase(be, k, cshape, &pf);
            // The measured samples, kept for re-insertion.
            be.mul_real(&mut out, &measured);
            let mut data = be.zeros(total);
            be.copy(&mut data, &out);
            let unmeasured: Vec<f32> = measured.iter().map(|m| 1.0 - m).collect();
            let mut change = 0.0;
            for _ in 0..iterations {
                let mut img = be.zeros(total);
                be.copy(&mut img, &out);
                be.fft(&mut img, cshape, &spatial, FftDirection::Inverse);
                let mut img = be.download(&img);
                impose_phase(&mut img, &u);
                let mut next = be.upload(&img);
                be.fft(&mut next, cshape, &spatial, FftDirection::Forward);
                be.mul_real(&mut next, &unmeasured);
                be.axpy(&mut next, C32::new(1.0, 0.0), &data);
                // Relative change of the k-space in this iteration.
                let n = be.norm_sq(&next);
                be.axpy(&mut out, C32::new(-1.0, 0.0), &next);
                change = if n > 0.0 {
                    (be.norm_sq(&out) / n).sqrt()
                } else {
                    0.0
                };
                out = next;
            }
            format!(
                "POCS, {iterations} iterations (last relative change {change:.2e}), Hann-windowed low-resolution phase, per coil; {what}"
            )
        }
    };
    if !be.all_finite(&out) {
        return Err(ReconError::numerical(
            STAGE,
            "the partial-Fourier reconstruction produced non-finite values",
        ));
    }
    Ok((out, note))
}

/// Refusal when a partial-Fourier reconstruction would run on k-space with lines missing
/// inside the sampled extent and nothing filled them.
pub fn check_filled(
    axes: &PartialFourierAxes,
    method: PartialFourierMethod,
    filled: bool,
) -> Result<()> {
    if axes.is_partial()
        && axes.missing_lines > 0
        && !filled
        && method != PartialFourierMethod::ZeroFill
    {
        return Err(ReconError::stage(
            STAGE,
            format!(
                "{} k-space line(s) inside the sampled extent were not acquired; homodyne and \
                 POCS need them: add a 'grappa' stage before partial_fourier",
                axes.missing_lines
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CpuBackend;

    fn extent(n: usize, lo: usize, hi: usize) -> AxisExtent {
        AxisExtent { n, lo, hi, gap: 1 }
    }

    #[test]
    fn extents_ramps_and_windows() {
        let mut flags = vec![false; 16];
        for f in flags.iter_mut().skip(5) {
            *f = true;
        }
        let e = AxisExtent::from_flags(&flags).unwrap();
        assert_eq!((e.lo, e.hi, e.gap, e.centre()), (5, 16, 1, 8));
        assert!(e.is_partial());
        assert_eq!(e.symmetric_half_width(), 3);
        // r(d) + r(−d) = 1 wherever both are in the grid; 0 outside, 1 on the long side.
        let r = e.ramp();
        for d in 1..8 {
            let (p, m) = (r[8 + d], r[8 - d]);
            assert!((p + m - 1.0).abs() < 1e-6, "d {d}: {p} + {m}");
        }
        assert_eq!(&r[..5], &[0.0; 5]);
        assert_eq!(&r[12..], &[1.0; 4]);
        assert!((r[8] - 0.5).abs() < 1e-6);
        let w = e.centre_window();
        // Hann of half-width a/2 = 1.
        assert!((w[8] - 1.0).abs() < 1e-6 && w[6] == 0.0 && w[10] == 0.0 && w[7] > 0.0);
        // Regular undersampling (every 4th line, last line missing) is not partial Fourier.
        let under: Vec<bool> = (0..192).map(|y| y % 4 == 0).collect();
        let u = AxisExtent::from_flags(&under).unwrap();
        assert_eq!((u.lo, u.hi, u.gap), (0, 189, 4));
        assert!(!u.is_partial());
        // The mirror image (long side low).
        let mirror: Vec<bool> = (0..16).map(|y| y < 11).collect();
        let m = AxisExtent::from_flags(&mirror).unwrap();
        assert!(m.is_partial() && !m.long_side_high());
        let r = m.ramp();
        for d in 1..8 {
            assert!((r[8 + d] + r[8 - d] - 1.0).abs() < 1e-6);
        }
        // Rescaling for oversampling removal: the distances from the centre halve.
        let e = extent(512, 204, 512).rescaled(256);
        assert_eq!((e.lo, e.hi), (102, 256));
        assert!(!extent(512, 0, 512).rescaled(256).is_partial());
    }

    #[test]
    fn homodyne_weights_sum_to_two_with_the_mirror() {
        // Asymmetric in y (long side high) and in x (long side low).
        let grid = [12, 10];
        let axes = [(0, extent(12, 4, 12)), (1, extent(10, 0, 8))];
        let w = homodyne_weights(&grid, &axes);
        let inside = |y: usize, x: usize| (4..12).contains(&y) && x < 8;
        for y in 1..12 {
            for x in 1..10 {
                let (my, mx) = (12 - y, 10 - x);
                let (a, b) = (w[y * 10 + x], w[my * 10 + mx]);
                if inside(y, x) || inside(my, mx) {
                    assert!((a + b - 2.0).abs() < 1e-5, "({y},{x}): {a} + {b}");
                } else {
                    assert_eq!((a, b), (0.0, 0.0), "({y},{x})");
                }
                if !inside(y, x) {
                    assert_eq!(a, 0.0, "({y},{x}) is not sampled");
                }
            }
        }
    }

    /// Dots of the test object: centre (fractions of the field of view) and amplitude.
    const DOTS: [(f32, f32, f32); 5] = [
        (-0.2, 0.1, 0.8),
        (0.1, 0.25, 0.6),
        (0.0, -0.2, 0.7),
        (0.25, -0.25, 0.5),
        (-0.1, -0.05, 0.9),
    ];

    /// A complex test object `[y, x]` with a smooth phase: Gaussian blobs and dots.
    fn smooth_object(ny: usize, nx: usize) -> Vec<C32> {
        let mut out = Vec::with_capacity(ny * nx);
        for y in 0..ny {
            for x in 0..nx {
                let (fy, fx) = (
                    (y as f32 - ny as f32 / 2.0) / ny as f32,
                    (x as f32 - nx as f32 / 2.0) / nx as f32,
                );
                let mut mag = (-(fy * fy + fx * fx) / 0.03).exp()
                    + 0.6 * (-((fy - 0.15).powi(2) + (fx + 0.1).powi(2)) / 0.004).exp();
                // Small dots (σ = 1 pixel): detail in the high spatial frequencies.
                for (cy, cx, a) in DOTS {
                    let (dy, dx) = (
                        y as f32 - ny as f32 / 2.0 - cy * ny as f32,
                        x as f32 - nx as f32 / 2.0 - cx * nx as f32,
                    );
                    mag += a * (-(dy * dy + dx * dx) / 2.0).exp();
                }
                let phase = 0.7 + 1.2 * fx - 0.8 * fy + 0.5 * (fx * fy * 6.0);
                out.push(C32::from_polar(mag, phase));
            }
        }
        out
    }

    fn relative_error(a: &[C32], b: &[C32], magnitude: bool) -> f32 {
        let (mut e, mut n) = (0f64, 0f64);
        for (x, y) in a.iter().zip(b) {
            let d = if magnitude {
                f64::from(x.norm() - y.norm())
            } else {
                f64::from((x - y).norm())
            };
            e += d * d;
            n += f64::from(y.norm_sqr());
        }
        (e / n).sqrt() as f32
    }

    /// The image of k-space completed by `method` from the lines `lo..` of the object's k-space.
    fn reconstruct(
        method: PartialFourierMethod,
        lo: usize,
        iterations: usize,
    ) -> (Vec<C32>, Vec<C32>) {
        let be = CpuBackend::new();
        let (ny, nx) = (64, 48);
        let obj = smooth_object(ny, nx);
        let shape = [1, ny, nx];
        let mut k = be.upload(&obj);
        be.fft(&mut k, &shape, &[1, 2], FftDirection::Forward);
        let mut kh = be.download(&k);
        kh[..lo * nx].fill(C32::new(0.0, 0.0));
        let mask: Vec<bool> = (0..ny).map(|y| y >= lo).collect();
        let axes = PartialFourierAxes::detect(&mask, 1, ny, Some(extent(nx, 0, nx))).unwrap();
        assert!(axes.y.is_some() && axes.x.is_none() && axes.missing_lines == 0);
        let (mut out, note) =
            complete(&be, &be.upload(&kh), &shape, &axes, method, iterations).unwrap();
        assert!(note.contains("ky"), "{note}");
        be.fft(&mut out, &shape, &[1, 2], FftDirection::Inverse);
        (be.download(&out), obj)
    }

    #[test]
    fn pocs_and_homodyne_recover_a_smooth_phase_object() {
        // 5/8 partial Fourier: 24 of 64 lines missing.
        let (zf, obj) = reconstruct(PartialFourierMethod::ZeroFill, 24, 0);
        let (hd, _) = reconstruct(PartialFourierMethod::Homodyne, 24, 0);
        let (pocs, _) = reconstruct(PartialFourierMethod::Pocs, 24, 30);
        let e_zf = relative_error(&zf, &obj, true);
        let e_hd = relative_error(&hd, &obj, true);
        let e_pocs = relative_error(&pocs, &obj, false);
        eprintln!(
            "smooth object, 5/8: zero fill {e_zf:.2e}, homodyne {e_hd:.2e}, POCS (complex) {e_pocs:.2e}"
        );
        // Python prototype of the same steps: zero fill 5.2e-2, homodyne 1.4e-2, POCS 2.8e-3.
        assert!(e_zf > 0.04, "zero filling loses the missing lines: {e_zf}");
        assert!(e_hd < 0.35 * e_zf, "homodyne {e_hd} vs zero fill {e_zf}");
        assert!(e_pocs < 5e-3, "POCS recovers the complex object: {e_pocs}");
    }

    #[test]
    fn symmetric_sampling_is_left_alone_and_holes_are_refused() {
        let be = CpuBackend::new();
        let k: Vec<C32> = (0..2 * 8 * 6).map(|i| C32::new(i as f32, 1.0)).collect();
        let mask = vec![true; 8];
        let axes = PartialFourierAxes::detect(&mask, 1, 8, Some(extent(6, 0, 6))).unwrap();
        assert!(!axes.is_partial());
        let (out, note) = complete(
            &be,
            &be.upload(&k),
            &[2, 8, 6],
            &axes,
            PartialFourierMethod::Pocs,
            5,
        )
        .unwrap();
        assert_eq!(be.download(&out), k);
        assert!(note.contains("nothing to do"), "{note}");
        // Lines 5.. of 16 with every other one missing: POCS needs them filled first.
        let mask: Vec<bool> = (0..16).map(|y| y >= 5 && y % 2 == 0).collect();
        let axes = PartialFourierAxes::detect(&mask, 1, 16, None).unwrap();
        assert!(axes.y.is_some() && axes.missing_lines > 0);
        let e = check_filled(&axes, PartialFourierMethod::Pocs, false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("grappa"), "{e}");
        assert!(check_filled(&axes, PartialFourierMethod::Pocs, true).is_ok());
        assert!(check_filled(&axes, PartialFourierMethod::ZeroFill, false).is_ok());
        // The centre not sampled.
        let mask: Vec<bool> = (0..16).map(|y| y >= 10).collect();
        assert!(PartialFourierAxes::detect(&mask, 1, 16, None).is_err());
    }

    #[test]
    fn asymmetric_echo_is_completed_along_x() {
        let be = CpuBackend::new();
        let (ny, nx) = (32, 64);
        let obj = smooth_object(ny, nx);
        let shape = [1, ny, nx];
        let mut k = be.upload(&obj);
        be.fft(&mut k, &shape, &[1, 2], FftDirection::Forward);
        let mut kh = be.download(&k);
        for line in kh.chunks_exact_mut(nx) {
            line[..20].fill(C32::new(0.0, 0.0));
        }
        let axes =
            PartialFourierAxes::detect(&vec![true; ny], 1, ny, Some(extent(nx, 20, nx))).unwrap();
        assert!(axes.x.is_some() && axes.y.is_none());
        let run = |m, it| {
            let (mut out, _) = complete(&be, &be.upload(&kh), &shape, &axes, m, it).unwrap();
            be.fft(&mut out, &shape, &[1, 2], FftDirection::Inverse);
            be.download(&out)
        };
        let e_zf = relative_error(&run(PartialFourierMethod::ZeroFill, 0), &obj, true);
        let e_pocs = relative_error(&run(PartialFourierMethod::Pocs, 30), &obj, false);
        eprintln!("asymmetric echo: zero fill {e_zf:.2e}, POCS {e_pocs:.2e}");
        assert!(
            e_pocs < 5e-3 && e_zf > 10.0 * e_pocs,
            "zf {e_zf}, POCS {e_pocs}"
        );
    }
}
