//! Orthonormal multi-level Daubechies wavelet transform over chosen axes with periodic
//! boundaries (the sparsifying transform of l1-wavelet reconstructions, BART's `-R W`).
//!
//! - **Filters**: Daubechies with `p` vanishing moments, `2p` taps; the default is db4
//!   (8 taps); [`Daubechies::Db2`] (4 taps) and Haar are available for small grids.
//! - **Layout**: separable (Mallat) decomposition in place: at each level every transformed
//!   axis of the current approximation block is split into `[approximation, detail]` halves;
//!   the next level works on the all-approximation corner. The output has the input's shape.
//! - **Levels**: at most the requested number; an axis takes part in level `l` only while its
//!   block length `n >> l` is even and at least the filter length, so sizes not divisible by
//!   `2^levels` get fewer levels on that axis (odd sizes none). [`WaveletOp::levels`] reports
//!   the levels per axis.
//! - **Orthonormal**: every level is an orthogonal transform of its block (periodic
//!   convolution with the quadrature-mirror pair, downsampled by two), so the adjoint is the
//!   inverse and the normal operator the identity.
//!
//! The transform runs on host data (`be.download`, filter in `f64`, `be.upload`), which costs
//! a transfer and an allocation per application on a device backend; a backend kernel can
//! replace it behind the same operator later.
//!
//! # References
//! - I. Daubechies, *Ten Lectures on Wavelets*, SIAM 1992 (filter coefficients, Table 6.1).
//! - S. Mallat, "A theory for multiresolution signal decomposition: the wavelet
//!   representation", IEEE Trans. PAMI 11 (1989) 674–693.
//! - M. Lustig, D. Donoho, J. M. Pauly, "Sparse MRI: the application of compressed sensing for
//!   rapid MR imaging", Magn. Reson. Med. 58 (2007) 1182–1195.

use num_complex::Complex64;

use crate::backend::{Backend, C32};
use crate::error::{ReconError, Result};

use super::fft::check_axes;
use super::{LinOp, numel};

/// A Daubechies orthonormal wavelet (scaling filter `h`, the synthesis low-pass).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Daubechies {
    /// db1 = Haar, 2 taps.
    Haar,
    /// db2, 4 taps.
    Db2,
    /// db4, 8 taps (the default).
    #[default]
    Db4,
}

impl Daubechies {
    /// The scaling (low-pass) filter, normalised to `Σ h² = 1`, `Σ h = √2`.
    pub fn scaling_filter(self) -> &'static [f64] {
        match self {
            Daubechies::Haar => &[
                std::f64::consts::FRAC_1_SQRT_2,
                std::f64::consts::FRAC_1_SQRT_2,
            ],
            Daubechies::Db2 => &[
                0.482_962_913_144_690_25,
                0.836_516_303_737_469,
                0.224_143_868_041_857_35,
                -0.129_409_522_550_921_45,
            ],
            Daubechies::Db4 => &[
                0.230_377_813_308_855_23,
                0.714_846_570_552_541_5,
                0.630_880_767_929_590_4,
                -0.027_983_769_416_983_85,
                -0.187_034_811_718_881_14,
                0.030_841_381_835_986_965,
                0.032_883_011_666_982_945,
                -0.010_597_401_784_997_278,
            ],
        }
    }
}

/// Orthonormal multi-level Daubechies wavelet transform over `axes` of `shape` (periodic).
#[derive(Debug, Clone)]
pub struct WaveletOp {
    shape: Vec<usize>,
    axes: Vec<usize>,
    /// Levels per entry of `axes`.
    levels: Vec<usize>,
    lo: Vec<f64>,
    hi: Vec<f64>,
}

impl WaveletOp {
    /// db4 over `axes` of `shape` with up to `levels` levels.
    pub fn new(shape: &[usize], axes: &[usize], levels: usize) -> Result<Self> {
        Self::with_wavelet(shape, axes, levels, Daubechies::Db4)
    }

    /// A chosen Daubechies wavelet over `axes` of `shape` with up to `levels` levels.
    pub fn with_wavelet(
        shape: &[usize],
        axes: &[usize],
        levels: usize,
        wavelet: Daubechies,
    ) -> Result<Self> {
        check_axes("WaveletOp", shape.len(), axes)?;
        if numel(shape) == 0 {
            return Err(ReconError::shape(
                "WaveletOp",
                format!("empty shape {shape:?}"),
            ));
        }
        let lo = wavelet.scaling_filter().to_vec();
        let taps = lo.len();
        let hi: Vec<f64> = (0..taps)
            .map(|k| {
                let s = if k % 2 == 0 { 1.0 } else { -1.0 };
                s * lo[taps - 1 - k]
            })
            .collect();
        let levels = axes
            .iter()
            .map(|&a| {
                let n = shape[a];
                (0..levels)
                    .take_while(|&l| {
                        let m = n >> l;
                        (n % (1 << (l + 1))) == 0 && m >= taps
                    })
                    .count()
            })
            .collect();
        Ok(WaveletOp {
            shape: shape.to_vec(),
            axes: axes.to_vec(),
            levels,
            lo,
            hi,
        })
    }

    /// Stops decomposing an axis before its bands would get shorter than `min_band` samples
    /// (BART's wavelet regulariser stops at 16).
    pub fn with_min_band(mut self, min_band: usize) -> Self {
        for (l, &a) in self.levels.iter_mut().zip(&self.axes) {
            let n = self.shape[a];
            while *l > 0 && (n >> *l) < min_band {
                *l -= 1;
            }
        }
        self
    }

    /// The levels applied along each axis of `axes` (0 where the size allows none).
    pub fn levels(&self) -> &[usize] {
        &self.levels
    }

    /// A 0/1 mask over the coefficients (C order, the operator's shape): 0 on the coarsest
    /// approximation block (low-pass along every transformed axis after all its levels), 1 on
    /// the detail coefficients. With [`crate::solve::L1Transform::with_mask`] it penalises the
    /// details only, as in Lustig et al. 2007.
    pub fn detail_mask(&self) -> Vec<f32> {
        let nd = self.shape.len();
        let corner: Vec<usize> = (0..nd)
            .map(|d| match self.axes.iter().position(|&a| a == d) {
                Some(i) => self.shape[d] >> self.levels[i],
                None => self.shape[d],
            })
            .collect();
        let mut mask = vec![0f32; numel(&self.shape)];
        for (i, m) in mask.iter_mut().enumerate() {
            let mut rest = i;
            let mut inside = true;
            for d in (0..nd).rev() {
                if rest % self.shape[d] >= corner[d] {
                    inside = false;
                }
                rest /= self.shape[d];
            }
            *m = if inside { 0.0 } else { 1.0 };
        }
        mask
    }

    /// The block shape at level `l`.
    fn region(&self, l: usize) -> Vec<usize> {
        let mut r = self.shape.clone();
        for (&a, &la) in self.axes.iter().zip(&self.levels) {
            r[a] = self.shape[a] >> l.min(la);
        }
        r
    }

    /// In-place forward transform of host data.
    pub fn forward_host(&self, data: &mut [C32]) {
        let top = self.levels.iter().copied().max().unwrap_or(0);
        let mut line = Vec::new();
        let mut out = Vec::new();
        for l in 0..top {
            let region = self.region(l);
            for (&a, &la) in self.axes.iter().zip(&self.levels) {
                if l < la {
                    self.along_axis(data, &region, a, &mut line, &mut out, true);
                }
            }
        }
    }

    /// In-place inverse (= adjoint) transform of host data.
    pub fn inverse_host(&self, data: &mut [C32]) {
        let top = self.levels.iter().copied().max().unwrap_or(0);
        let mut line = Vec::new();
        let mut out = Vec::new();
        for l in (0..top).rev() {
            let region = self.region(l);
            for (&a, &la) in self.axes.iter().zip(&self.levels).rev() {
                if l < la {
                    self.along_axis(data, &region, a, &mut line, &mut out, false);
                }
            }
        }
    }

    /// One analysis (or synthesis) step along `axis` of every line of the block `region`.
    fn along_axis(
        &self,
        data: &mut [C32],
        region: &[usize],
        axis: usize,
        line: &mut Vec<Complex64>,
        out: &mut Vec<Complex64>,
        analysis: bool,
    ) {
        let nd = self.shape.len();
        let mut strides = vec![1usize; nd];
        for d in (0..nd.saturating_sub(1)).rev() {
            strides[d] = strides[d + 1] * self.shape[d + 1];
        }
        let m = region[axis];
        let step = strides[axis];
        let n_lines: usize = (0..nd).filter(|&d| d != axis).map(|d| region[d]).product();
        line.resize(m, Complex64::new(0.0, 0.0));
        out.resize(m, Complex64::new(0.0, 0.0));
        let mut idx = vec![0usize; nd];
        for _ in 0..n_lines {
            let base: usize = idx.iter().zip(&strides).map(|(i, s)| i * s).sum();
            for (j, v) in line.iter_mut().enumerate() {
                let c = data[base + j * step];
                *v = Complex64::new(f64::from(c.re), f64::from(c.im));
            }
            if analysis {
                self.analyse(line, out);
            } else {
                self.synthesise(line, out);
            }
            for (j, v) in out.iter().enumerate() {
                data[base + j * step] = C32::new(v.re as f32, v.im as f32);
            }
            // Next line: odometer over the block's other axes (last fastest).
            for d in (0..nd).rev() {
                if d == axis {
                    continue;
                }
                idx[d] += 1;
                if idx[d] < region[d] {
                    break;
                }
                idx[d] = 0;
            }
        }
    }

    /// `out = [a, d]` with `a[i] = Σ_k lo[k] x[2i+k]`, `d[i] = Σ_k hi[k] x[2i+k]` (periodic).
    fn analyse(&self, x: &[Complex64], out: &mut [Complex64]) {
        let m = x.len();
        let half = m / 2;
        for i in 0..half {
            let mut a = Complex64::new(0.0, 0.0);
            let mut d = Complex64::new(0.0, 0.0);
            for (k, (&h, &g)) in self.lo.iter().zip(&self.hi).enumerate() {
                let v = x[(2 * i + k) % m];
                a += v * h;
                d += v * g;
            }
            out[i] = a;
            out[half + i] = d;
        }
    }

    /// The transpose of [`Self::analyse`]: `x[2i+k] += lo[k] a[i] + hi[k] d[i]`.
    fn synthesise(&self, c: &[Complex64], out: &mut [Complex64]) {
        let m = c.len();
        let half = m / 2;
        out.fill(Complex64::new(0.0, 0.0));
        for i in 0..half {
            let (a, d) = (c[i], c[half + i]);
            for (k, (&h, &g)) in self.lo.iter().zip(&self.hi).enumerate() {
                out[(2 * i + k) % m] += a * h + d * g;
            }
        }
    }
}

impl<B: Backend> LinOp<B> for WaveletOp {
    fn name(&self) -> String {
        format!("Wavelet({:?} levels on axes {:?})", self.levels, self.axes)
    }

    fn ishape(&self) -> &[usize] {
        &self.shape
    }

    fn oshape(&self) -> &[usize] {
        &self.shape
    }

    fn forward(&self, be: &B, x: &B::Buf, y: &mut B::Buf) {
        let mut host = be.download(x);
        self.forward_host(&mut host);
        *y = be.upload(&host);
    }

    fn adjoint(&self, be: &B, y: &B::Buf, x: &mut B::Buf) {
        let mut host = be.download(y);
        self.inverse_host(&mut host);
        *x = be.upload(&host);
    }

    fn normal(&self, be: &B, x: &B::Buf, out: &mut B::Buf) {
        be.copy(out, x);
    }
}
