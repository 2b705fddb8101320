//! Linear operators (sigpy's `Linop`, BART's `linop`): the pieces of every reconstruction
//! model, each with a forward, an adjoint and a normal operator on a [`Backend`], and a generic
//! dot-product test ([`adjoint_mismatch`]) that every operator's tests apply.
//!
//! Operators: [`FftOp`] (centred orthonormal FFT), [`SamplingOp`] and [`MaskOp`] (k-space
//! sampling), [`SenseOp`] and [`CoilExpand`] (SENSE encoding), [`FiniteDifference`] (total
//! variation), [`WaveletOp`] (orthonormal Daubechies wavelets), and [`Identity`], [`Scaled`],
//! [`Compose`] to combine them. Operators that need intermediate buffers keep them in a
//! [`Scratch`] pool, so applying them in a solver loop does not allocate.

pub mod compose;
pub mod fft;
pub mod finite_diff;
pub mod sampling;
pub mod scratch;
pub mod sense;
pub mod wavelet;
pub mod wavelet_frame;

pub use compose::{Compose, Identity, Scaled};
pub use fft::FftOp;
pub use finite_diff::FiniteDifference;
pub use sampling::{MaskOp, SamplingOp};
pub use scratch::Scratch;
pub use sense::{CoilExpand, SenseOp, SenseSampling};
pub use wavelet::{Daubechies, WaveletOp};
pub use wavelet_frame::{SymmetricWavelet, WaveletThreshold};

use crate::backend::{Backend, C32};

/// A linear operator `A: C^ishape → C^oshape` on backend `B`.
pub trait LinOp<B: Backend>: Send + Sync {
    /// Short name for messages (`FFT[y,x]`, `Sense(8 coils)`).
    fn name(&self) -> String;
    /// Shape of the input (C order).
    fn ishape(&self) -> &[usize];
    /// Shape of the output (C order).
    fn oshape(&self) -> &[usize];
    /// `y = A x` (`y` is overwritten).
    fn forward(&self, be: &B, x: &B::Buf, y: &mut B::Buf);
    /// `x = Aᴴ y` (`x` is overwritten).
    fn adjoint(&self, be: &B, y: &B::Buf, x: &mut B::Buf);
    /// `out = Aᴴ A x`; the default goes through a scratch output buffer.
    fn normal(&self, be: &B, x: &B::Buf, out: &mut B::Buf) {
        let mut y = be.zeros(numel(self.oshape()));
        self.forward(be, x, &mut y);
        self.adjoint(be, &y, out);
    }
    /// An upper bound of `‖AᴴA‖` known without iterating (`None`, the default: unknown);
    /// gradient methods take their step from it instead of a power iteration.
    fn normal_bound(&self, _be: &B) -> Option<f64> {
        None
    }
}

/// Number of elements of a shape.
pub fn numel(shape: &[usize]) -> usize {
    shape.iter().product()
}

/// A reproducible pseudo-random complex vector (for operator tests and power iterations).
pub fn pseudo_random(n: usize, seed: u64) -> Vec<C32> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = || {
        // xorshift64*
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        let v = s.wrapping_mul(0x2545_F491_4F6C_DD1D);
        (v >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    };
    (0..n).map(|_| C32::new(next(), next())).collect()
}

/// The dot-product test: `|<A x, y> − <x, Aᴴ y>| / max(|<A x, y>|, tiny)` for pseudo-random
/// `x` and `y`. An adjoint that is right gives a float round-off value (≈1e-6 in single
/// precision); a wrong one gives order 1.
pub fn adjoint_mismatch<B: Backend>(be: &B, op: &dyn LinOp<B>, seed: u64) -> f64 {
    let x = be.upload(&pseudo_random(numel(op.ishape()), seed));
    let y = be.upload(&pseudo_random(numel(op.oshape()), seed + 1));
    let mut ax = be.zeros(numel(op.oshape()));
    op.forward(be, &x, &mut ax);
    let mut ahy = be.zeros(numel(op.ishape()));
    op.adjoint(be, &y, &mut ahy);
    let lhs = be.dot(&ax, &y);
    let rhs = be.dot(&x, &ahy);
    (lhs - rhs).norm() / lhs.norm().max(1e-30)
}

/// `|Aᴴ A x − normal(x)| / |Aᴴ A x|`: checks an operator's own `normal` against forward then
/// adjoint.
pub fn normal_mismatch<B: Backend>(be: &B, op: &dyn LinOp<B>, seed: u64) -> f64 {
    let x = be.upload(&pseudo_random(numel(op.ishape()), seed));
    let mut y = be.zeros(numel(op.oshape()));
    op.forward(be, &x, &mut y);
    let mut want = be.zeros(numel(op.ishape()));
    op.adjoint(be, &y, &mut want);
    let mut got = be.zeros(numel(op.ishape()));
    op.normal(be, &x, &mut got);
    let norm = be.norm_sq(&want).sqrt();
    be.axpy(&mut got, C32::new(-1.0, 0.0), &want);
    be.norm_sq(&got).sqrt() / norm.max(1e-30)
}
