//! Daubechies wavelet transform with half-sample symmetric boundary extension, the transform
//! of BART's `W` (l1-wavelet) regulariser, so that `cs` with `regulariser = "wavelet"` solves
//! the same problem as `bart pics -R W:<flags>:0:λ`.
//!
//! Unlike the periodic, orthonormal [`super::WaveletOp`], this transform does not wrap around
//! the edges of the field of view:
//!
//! - **Analysis** along one axis of length `n` gives `⌈(n + L − 1)/2⌉`-long low- and high-pass
//!   bands (`L` taps): band sample `j` filters input samples `2j + 2 − L … 2j + 1`, mirrored at
//!   the edges (`−1 → 0`, `n → n − 1`). More coefficients than samples, so it is a frame.
//! - **Synthesis** is the transposed filter bank truncated to `n` samples; it inverts the
//!   analysis exactly (perfect reconstruction), and is what the threshold step uses:
//!   `x ← S(soft(A x, τ))`.
//! - **Levels** (Mallat): every level splits all active axes of the current low-pass block at
//!   once; the next level works on the all-low-pass block, and an axis stays active while its
//!   band length is at least `min_band` (16 by default, or the axis length when shorter: BART's
//!   `minsize`). A 64 × 64 × 32 volume gets 3, 3 and 2 levels (64 → 33 → 18 → 10, 32 → 17 → 10).
//! - **Threshold**: all coefficients, the final low-pass block included, as BART does.
//!
//! The transform runs on the host in `f32` (rayon over lines).

use rayon::prelude::*;

use super::Daubechies;
use crate::backend::{Backend, C32};
use crate::error::{ReconError, Result};
use crate::solve::Prox;

/// BART's shortest band: an axis is not split further once its band is shorter.
pub const DEFAULT_MIN_BAND: usize = 16;

/// One level of the decomposition: the block shape it splits and which axes it splits.
#[derive(Debug, Clone)]
struct Level {
    /// Shape of the low-pass block this level splits (the image at level 0).
    input: Vec<usize>,
    /// Axes split at this level, in analysis order.
    axes: Vec<usize>,
    /// Shape of every band of this level.
    band: Vec<usize>,
}

/// Multi-level Daubechies wavelet frame with symmetric boundaries (BART's wavelet).
#[derive(Debug, Clone)]
pub struct SymmetricWavelet {
    shape: Vec<usize>,
    levels: Vec<Level>,
    lo: Vec<f32>,
    hi: Vec<f32>,
    n_coeffs: usize,
}

fn numel(s: &[usize]) -> usize {
    s.iter().product()
}

impl SymmetricWavelet {
    /// The transform of an image of `shape` along `axes`, each split while its band is at
    /// least `min(min_band, axis length)` long (axes shorter than 3 samples are not split).
    pub fn new(
        shape: &[usize],
        axes: &[usize],
        wavelet: Daubechies,
        min_band: usize,
    ) -> Result<Self> {
        if let Some(&a) = axes.iter().find(|&&a| a >= shape.len()) {
            return Err(ReconError::shape(
                "SymmetricWavelet",
                format!("axis {a} of a {}-D image {shape:?}", shape.len()),
            ));
        }
        let h = wavelet.scaling_filter();
        let taps = h.len();
        let lo: Vec<f32> = h.iter().map(|&v| v as f32).collect();
        // Quadrature mirror: g[k] = (−1)^k h[L−1−k].
        let hi: Vec<f32> = (0..taps)
            .map(|k| {
                let v = h[taps - 1 - k] as f32;
                if k % 2 == 0 { v } else { -v }
            })
            .collect();
        let min: Vec<usize> = shape.iter().map(|&n| n.min(min_band.max(3))).collect();
        let mut active: Vec<usize> = axes.iter().copied().filter(|&a| shape[a] >= 3).collect();
        active.dedup();
        let mut levels = Vec::new();
        let mut input = shape.to_vec();
        let mut n_coeffs = 0;
        while !active.is_empty() {
            let mut band = input.clone();
            for &a in &active {
                band[a] = (input[a] + taps - 1) / 2;
            }
            n_coeffs += ((1usize << active.len()) - 1) * numel(&band);
            let next: Vec<usize> = active
                .iter()
                .copied()
                .filter(|&a| band[a] >= min[a])
                .collect();
            levels.push(Level {
                input: input.clone(),
                axes: active,
                band: band.clone(),
            });
            input = band;
            active = next;
        }
        n_coeffs += numel(&input);
        Ok(SymmetricWavelet {
            shape: shape.to_vec(),
            levels,
            lo,
            hi,
            n_coeffs,
        })
    }

    /// The image shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Number of coefficients (more than image samples: the bands overlap the edges).
    pub fn n_coeffs(&self) -> usize {
        self.n_coeffs
    }

    /// Levels applied along every axis of the image (0 for axes never split).
    pub fn levels_per_axis(&self) -> Vec<usize> {
        (0..self.shape.len())
            .map(|a| self.levels.iter().filter(|l| l.axes.contains(&a)).count())
            .collect()
    }

    /// Analysis: the coefficients of `x` (the image shape, C order): for every level its
    /// detail bands, then the final low-pass block.
    pub fn analysis(&self, x: &[C32]) -> Vec<C32> {
        let mut out = Vec::with_capacity(self.n_coeffs);
        let mut low = x.to_vec();
        for level in &self.levels {
            let mut blocks = vec![low];
            let mut shape = level.input.clone();
            for &a in &level.axes {
                let m = level.band[a];
                blocks = blocks
                    .into_iter()
                    .flat_map(|b| {
                        let l = filter_down(&b, &shape, a, m, &self.lo);
                        let h = filter_down(&b, &shape, a, m, &self.hi);
                        [l, h]
                    })
                    .collect();
                shape[a] = m;
            }
            let mut it = blocks.into_iter();
            low = it.next().unwrap_or_default();
            for b in it {
                out.extend_from_slice(&b);
            }
        }
        out.extend_from_slice(&low);
        out
    }

    /// Synthesis: the image from coefficients laid out as [`Self::analysis`] writes them; the
    /// exact inverse of the analysis.
    pub fn synthesis(&self, c: &[C32]) -> Vec<C32> {
        // Offsets of every level's detail bands.
        let mut offsets = Vec::with_capacity(self.levels.len());
        let mut at = 0;
        for level in &self.levels {
            offsets.push(at);
            at += ((1usize << level.axes.len()) - 1) * numel(&level.band);
        }
        let mut low = c[at..].to_vec();
        for (level, &off) in self.levels.iter().zip(&offsets).rev() {
            let nb = numel(&level.band);
            let mut blocks = vec![low];
            blocks.extend(
                c[off..off + ((1usize << level.axes.len()) - 1) * nb]
                    .chunks_exact(nb)
                    .map(<[C32]>::to_vec),
            );
            let mut shape = level.band.clone();
            for &a in level.axes.iter().rev() {
                let n = level.input[a];
                let mut merged = Vec::with_capacity(blocks.len() / 2);
                let mut it = blocks.into_iter();
                while let (Some(l), Some(h)) = (it.next(), it.next()) {
                    let mut y = filter_up(&l, &shape, a, n, &self.lo);
                    let yh = filter_up(&h, &shape, a, n, &self.hi);
                    y.iter_mut().zip(&yh).for_each(|(u, v)| *u += v);
                    merged.push(y);
                }
                blocks = merged;
                shape[a] = n;
            }
            low = blocks.into_iter().next().unwrap_or_default();
        }
        low
    }
}

/// Mirrors index `k` into `0..n` (half-sample symmetric: `−1 → 0`, `n → n − 1`).
fn reflect(k: isize, n: isize) -> usize {
    let k = if k < 0 { -k - 1 } else { k };
    let k = if k >= n { 2 * n - 1 - k } else { k };
    k.clamp(0, n - 1) as usize
}

/// Analysis filter along `axis` of `x` (`shape`): `m` outputs, output `j` is
/// `Σ_l f[l] x[reflect(2j + 2 − L + l)]`.
fn filter_down(x: &[C32], shape: &[usize], axis: usize, m: usize, f: &[f32]) -> Vec<C32> {
    let n = shape[axis];
    let inner: usize = shape[axis + 1..].iter().product();
    let outer: usize = shape[..axis].iter().product();
    let taps = f.len() as isize;
    let mut y = vec![C32::new(0.0, 0.0); outer * m * inner];
    // Source index of every (output, tap).
    let src: Vec<usize> = (0..m as isize)
        .flat_map(|j| (0..taps).map(move |l| reflect(2 * j + 2 - taps + l, n as isize)))
        .collect();
    let taps = f.len();
    // Output row `j` (`inner` samples) of outer index `o`.
    let row = |o: usize, j: usize, row: &mut [C32]| {
        let xo = &x[o * n * inner..(o + 1) * n * inner];
        for (l, &fl) in f.iter().enumerate() {
            let s = &xo[src[j * taps + l] * inner..][..inner];
            row.iter_mut().zip(s).for_each(|(r, v)| *r += v * fl);
        }
    };
    // Along the last axis, one output sample per row: a plain sum per sample.
    let line = |o: usize, yo: &mut [C32]| {
        let xo = &x[o * n..(o + 1) * n];
        for (j, out) in yo.iter_mut().enumerate() {
            let s = &src[j * taps..(j + 1) * taps];
            *out = f.iter().zip(s).map(|(&fl, &k)| xo[k] * fl).sum();
        }
    };
    for_each_row(&mut y, outer, m, inner, row, line);
    y
}

/// Synthesis filter along `axis` of a band `c` (`shape`, band length `m`): `n` outputs,
/// the transpose of [`filter_down`] restricted to in-range samples.
fn filter_up(c: &[C32], shape: &[usize], axis: usize, n: usize, f: &[f32]) -> Vec<C32> {
    let m = shape[axis];
    let inner: usize = shape[axis + 1..].iter().product();
    let outer: usize = shape[..axis].iter().product();
    let taps = f.len() as isize;
    let mut y = vec![C32::new(0.0, 0.0); outer * n * inner];
    // Output `t` receives band sample `j` through tap `l` where `t = 2j + 2 − L + l`: the
    // in-range `(j, f[l])` of every output, in tap order.
    let sources: Vec<Vec<(usize, f32)>> = (0..n as isize)
        .map(|t| {
            (0..taps)
                .filter_map(|l| {
                    let twice_j = t - 2 + taps - l;
                    (twice_j % 2 == 0 && twice_j >= 0 && twice_j / 2 < m as isize)
                        .then(|| ((twice_j / 2) as usize, f[l as usize]))
                })
                .collect()
        })
        .collect();
    let row = |o: usize, t: usize, row: &mut [C32]| {
        let co = &c[o * m * inner..(o + 1) * m * inner];
        for &(j, fl) in &sources[t] {
            let s = &co[j * inner..][..inner];
            row.iter_mut().zip(s).for_each(|(r, v)| *r += v * fl);
        }
    };
    let line = |o: usize, yo: &mut [C32]| {
        let co = &c[o * m..(o + 1) * m];
        for (out, src) in yo.iter_mut().zip(&sources) {
            *out = src.iter().map(|&(j, fl)| co[j] * fl).sum();
        }
    };
    for_each_row(&mut y, outer, n, inner, row, line);
    y
}

/// Fills `y` (`[outer, rows, inner]`) by rows: `row(o, r, y[o, r, ..])` when `inner > 1`,
/// else `line(o, y[o, ..])` (the filtered axis is the last one, one sample per row). Rows (or
/// lines) run in parallel when `y` is large enough to pay for it, so that an axis with a
/// single outer index (the first axis) is parallel too.
fn for_each_row<R, L>(y: &mut [C32], outer: usize, rows: usize, inner: usize, row: R, line: L)
where
    R: Fn(usize, usize, &mut [C32]) + Sync + Send,
    L: Fn(usize, &mut [C32]) + Sync + Send,
{
    let parallel = y.len() >= 1 << 14;
    if inner == 1 {
        let each = |(o, yo): (usize, &mut [C32])| line(o, yo);
        if parallel {
            y.par_chunks_mut(rows).enumerate().for_each(each);
        } else {
            y.chunks_mut(rows).enumerate().for_each(each);
        }
    } else {
        let each = |(i, yr): (usize, &mut [C32])| row(i / rows, i % rows, yr);
        if parallel {
            y.par_chunks_mut(inner).enumerate().for_each(each);
        } else {
            y.chunks_mut(inner).enumerate().for_each(each);
        }
    }
    debug_assert_eq!(y.len(), outer * rows * inner);
}

/// `λ‖W x‖₁` with `W` the [`SymmetricWavelet`] frame, applied as BART applies it: synthesis of
/// the soft-thresholded analysis, `x ← S(soft(W x, λ·step))` (for this non-orthogonal frame an
/// approximation of the proximal operator, the one BART's `pics` uses).
#[derive(Debug)]
pub struct WaveletThreshold {
    wavelet: SymmetricWavelet,
    lambda: f32,
    /// State of the generator of the random shifts (BART's cycle spinning), when on.
    shifts: Option<std::sync::Mutex<u32>>,
}

impl WaveletThreshold {
    /// The threshold step of `λ‖W x‖₁`.
    pub fn new(wavelet: SymmetricWavelet, lambda: f32) -> Result<Self> {
        if !(lambda.is_finite() && lambda >= 0.0) {
            return Err(ReconError::config(
                "WaveletThreshold",
                format!("lambda {lambda} must be finite and ≥ 0"),
            ));
        }
        Ok(WaveletThreshold {
            wavelet,
            lambda,
            shifts: None,
        })
    }

    /// Random cycle spinning, as BART's `-R W` does: every threshold step circularly shifts
    /// the image by a random amount in `[0, 2^levels]` along each transformed axis, thresholds
    /// and shifts back, so the wavelet grid's block edges do not stay in one place. The shifts
    /// come from a fixed-seed generator: the same run gives the same image.
    pub fn with_random_shifts(mut self) -> Self {
        self.shifts = Some(std::sync::Mutex::new(1));
        self
    }

    /// The next shifts per axis (zero for untransformed axes), or `None` without cycle spinning.
    fn next_shifts(&self) -> Option<Vec<usize>> {
        let state = self.shifts.as_ref()?;
        let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
        let shape = self.wavelet.shape();
        Some(
            self.wavelet
                .levels_per_axis()
                .iter()
                .zip(shape)
                .map(|(&levels, &n)| {
                    if levels == 0 {
                        return 0;
                    }
                    // xorshift32
                    *s ^= *s << 13;
                    *s ^= *s >> 17;
                    *s ^= *s << 5;
                    (*s as usize % ((1usize << levels) + 1)) % n
                })
                .collect(),
        )
    }

    /// The transform.
    pub fn wavelet(&self) -> &SymmetricWavelet {
        &self.wavelet
    }
}

impl<B: Backend> Prox<B> for WaveletThreshold {
    fn prox(&self, be: &B, x: &mut B::Buf, step: f32) {
        let shifts = self.next_shifts();
        let mut host = be.download(x);
        if let Some(s) = &shifts {
            roll(&mut host, self.wavelet.shape(), s, true);
        }
        let mut c = be.upload(&self.wavelet.analysis(&host));
        be.soft_threshold(&mut c, self.lambda * step);
        let mut y = self.wavelet.synthesis(&be.download(&c));
        if let Some(s) = &shifts {
            roll(&mut y, self.wavelet.shape(), s, false);
        }
        *x = be.upload_vec(y);
    }
}

/// Circular shift of a C-order array of `shape` by `shifts` per axis (forward: towards higher
/// indices; backward undoes it).
fn roll(x: &mut [C32], shape: &[usize], shifts: &[usize], forward: bool) {
    for (a, &s) in shifts.iter().enumerate() {
        if s == 0 {
            continue;
        }
        let inner: usize = shape[a + 1..].iter().product();
        let block = shape[a] * inner;
        x.par_chunks_mut(block).for_each(|b| {
            if forward {
                b.rotate_right(s * inner);
            } else {
                b.rotate_left(s * inner);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noise(n: usize, seed: u32) -> Vec<C32> {
        let mut s = seed.wrapping_mul(2_654_435_761).max(1);
        let mut next = || {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            (s as f32 / u32::MAX as f32) - 0.5
        };
        (0..n).map(|_| C32::new(next(), next())).collect()
    }

    #[test]
    fn roll_shifts_along_each_axis_and_back() {
        let shape = [3usize, 4];
        let x: Vec<C32> = (0..12).map(|i| C32::new(i as f32, 0.0)).collect();
        let mut y = x.clone();
        roll(&mut y, &shape, &[1, 2], true);
        // y[i, j] = x[i − 1, j − 2] (mod the shape).
        for i in 0..3 {
            for j in 0..4 {
                assert_eq!(y[i * 4 + j], x[((i + 2) % 3) * 4 + (j + 2) % 4]);
            }
        }
        roll(&mut y, &shape, &[1, 2], false);
        assert_eq!(y, x);
    }

    #[test]
    fn cycle_spinning_keeps_the_zero_threshold_an_identity() {
        let be = crate::backend::CpuBackend::new();
        let shape = [16usize, 24];
        let w = SymmetricWavelet::new(&shape, &[0, 1], Daubechies::Db2, 4).unwrap();
        let t = WaveletThreshold::new(w, 0.0).unwrap().with_random_shifts();
        let x = noise(numel(&shape), 3);
        let mut shifts_seen = std::collections::HashSet::new();
        let mut b = x.clone();
        for _ in 0..5 {
            shifts_seen.insert(t.next_shifts().unwrap());
            t.prox(&be, &mut b, 1.0);
        }
        let err = crate::metrics::max_abs_diff(&x, &b).unwrap();
        assert!(err < 1e-5, "{err}");
        assert!(shifts_seen.len() > 1, "the shifts change: {shifts_seen:?}");
        for s in &shifts_seen {
            assert!(s.iter().zip(&shape).all(|(&s, &n)| s < n), "{s:?}");
        }
    }

    #[test]
    fn bart_level_plan_and_coefficient_count() {
        // BART: 64² with min 16 → bands 33, 18, 10 → 33²·3 + 18²·3 + 10²·4 = 4639.
        let w = SymmetricWavelet::new(&[64, 64], &[0, 1], Daubechies::Db2, 16).unwrap();
        assert_eq!(w.n_coeffs(), 4639);
        assert_eq!(w.levels_per_axis(), vec![3, 3]);
        let w = SymmetricWavelet::new(&[32, 64, 64], &[0, 1, 2], Daubechies::Db2, 16).unwrap();
        assert_eq!(w.levels_per_axis(), vec![2, 3, 3]);
        let w = SymmetricWavelet::new(&[1, 320, 320], &[0, 1, 2], Daubechies::Db2, 16).unwrap();
        assert_eq!(w.levels_per_axis(), vec![0, 5, 5]);
    }

    #[test]
    fn synthesis_inverts_analysis() {
        for shape in [vec![64, 64], vec![37, 50], vec![12, 20, 18], vec![7]] {
            let axes: Vec<usize> = (0..shape.len()).collect();
            let w = SymmetricWavelet::new(&shape, &axes, Daubechies::Db2, 4).unwrap();
            let x = noise(numel(&shape), 7);
            let c = w.analysis(&x);
            assert_eq!(c.len(), w.n_coeffs());
            let y = w.synthesis(&c);
            let err = crate::metrics::max_abs_diff(&x, &y).unwrap();
            assert!(err < 1e-5, "{shape:?}: max error {err}");
        }
    }

    #[test]
    fn interior_coefficients_are_orthonormal() {
        // Away from the edges the frame is the orthonormal DWT: a smooth bump in the middle of
        // a long line keeps its energy.
        let n = 256;
        let x: Vec<C32> = (0..n)
            .map(|i| {
                let t = (i as f32 - 128.0) / 12.0;
                C32::new((-t * t).exp(), 0.0)
            })
            .collect();
        let w = SymmetricWavelet::new(&[n], &[0], Daubechies::Db2, 16).unwrap();
        let c = w.analysis(&x);
        let ex: f32 = x.iter().map(|v| v.norm_sqr()).sum();
        let ec: f32 = c.iter().map(|v| v.norm_sqr()).sum();
        assert!((ex - ec).abs() < 1e-4 * ex, "{ex} vs {ec}");
    }

    #[test]
    fn threshold_zero_is_identity_and_large_threshold_zeroes() {
        let be = crate::backend::CpuBackend::new();
        let w = SymmetricWavelet::new(&[40, 24], &[0, 1], Daubechies::Db2, 16).unwrap();
        let x = noise(40 * 24, 3);
        let mut b = be.upload(&x);
        WaveletThreshold::new(w.clone(), 0.0)
            .unwrap()
            .prox(&be, &mut b, 1.0);
        let y = be.download(&b);
        let err = crate::metrics::max_abs_diff(&x, &y).unwrap();
        assert!(err < 1e-5, "{err}");
        WaveletThreshold::new(w, 1e3)
            .unwrap()
            .prox(&be, &mut b, 1.0);
        assert!(be.download(&b).iter().all(|v| v.norm() == 0.0));
    }
}
