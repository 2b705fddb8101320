//! Proximal operators `prox_{s·g}(x) = argmin_z ½‖z − x‖² + s·g(z)` of the regularisers `g`
//! used by [`super::fista()`] and [`super::admm()`]. Each regulariser carries its own weight
//! `λ`, so the solvers only pass the step `s`.
//!
//! - [`Zero`]: `g = 0` (plain gradient descent / least squares).
//! - [`L1`]: `g = λ‖x‖₁`, the complex soft threshold at `λ·s` (also the z-update of ADMM with
//!   total variation: anisotropic TV is `λ‖Gx‖₁` with `G` the finite differences).
//! - [`L1Transform`]: `g = λ‖Wx‖₁` for a unitary `W` (an orthonormal wavelet):
//!   `Wᴴ soft(Wx, λ·s)`, exact because `W` is unitary; optionally only a masked set of
//!   coefficients is penalised (the wavelet details, not the coarse approximation).
//!
//! # References
//! - N. Parikh, S. Boyd, "Proximal algorithms", Found. Trends Optim. 1 (2014) 127–239.
//! - P. L. Combettes, V. R. Wajs, "Signal recovery by proximal forward-backward splitting",
//!   Multiscale Model. Simul. 4 (2005) 1168–1200.

use crate::backend::{Backend, C32};
use crate::error::{ReconError, Result};
use crate::linop::sampling::real_buf;
use crate::linop::{LinOp, Scratch, numel};

/// A proximal operator: `x ← argmin_z ½‖z − x‖² + step·g(z)` in place.
pub trait Prox<B: Backend>: Send + Sync {
    /// Applies the proximal operator of `step · g` to `x` in place.
    fn prox(&self, be: &B, x: &mut B::Buf, step: f32);
}

/// The zero regulariser (its proximal operator is the identity).
#[derive(Debug, Clone, Copy, Default)]
pub struct Zero;

impl<B: Backend> Prox<B> for Zero {
    fn prox(&self, _be: &B, _x: &mut B::Buf, _step: f32) {}
}

/// `λ‖x‖₁` (complex modulus), whose proximal operator is the soft threshold at `λ·step`.
#[derive(Debug, Clone, Copy)]
pub struct L1 {
    /// The weight `λ ≥ 0`.
    pub lambda: f32,
}

impl L1 {
    /// `λ‖x‖₁`.
    pub fn new(lambda: f32) -> Self {
        L1 { lambda }
    }
}

impl<B: Backend> Prox<B> for L1 {
    fn prox(&self, be: &B, x: &mut B::Buf, step: f32) {
        be.soft_threshold(x, self.lambda * step);
    }
}

/// `λ‖M W x‖₁` for a unitary `W` (`WᴴW = WWᴴ = I`, e.g. [`crate::linop::WaveletOp`]) and an
/// optional 0/1 mask `M` of penalised coefficients: `x ← Wᴴ soft(W x, λ·step)`, coefficients
/// outside the mask kept as they are. For a `W` that is not unitary this is not the proximal
/// operator.
#[derive(Debug)]
pub struct L1Transform<B: Backend, W> {
    op: W,
    lambda: f32,
    /// The penalised mask `M` and its complement `1 − M` (as real-valued complex buffers).
    mask: Option<(B::Buf, B::Buf)>,
    scratch: Scratch<B>,
}

impl<B: Backend, W: LinOp<B>> L1Transform<B, W> {
    /// `λ‖W x‖₁` for a unitary `op` (input and output shapes must agree).
    pub fn new(op: W, lambda: f32) -> Result<Self> {
        if op.ishape() != op.oshape() {
            return Err(ReconError::shape(
                "L1Transform",
                format!(
                    "{} maps {:?} to {:?}; a unitary transform keeps the shape",
                    op.name(),
                    op.ishape(),
                    op.oshape()
                ),
            ));
        }
        Ok(L1Transform {
            op,
            lambda,
            mask: None,
            scratch: Scratch::new(),
        })
    }

    /// `λ‖M W x‖₁` penalising only the coefficients where `penalised` (0/1, C order over the
    /// output of `op`) is 1, e.g. [`crate::linop::WaveletOp::detail_mask`] to leave the coarsest
    /// approximation unpenalised (Lustig 2007).
    pub fn with_mask(be: &B, op: W, lambda: f32, penalised: &[f32]) -> Result<Self> {
        let mut p = Self::new(op, lambda)?;
        let n = numel(p.op.oshape());
        if penalised.len() != n {
            return Err(ReconError::shape(
                "L1Transform",
                format!("a mask of {} for {n} coefficients", penalised.len()),
            ));
        }
        let keep: Vec<f32> = penalised.iter().map(|&m| 1.0 - m).collect();
        p.mask = Some((real_buf(be, penalised), real_buf(be, &keep)));
        Ok(p)
    }
}

impl<B: Backend, W: LinOp<B>> Prox<B> for L1Transform<B, W> {
    fn prox(&self, be: &B, x: &mut B::Buf, step: f32) {
        let mut c = self.scratch.take(be, numel(self.op.oshape()));
        self.op.forward(be, x, &mut c);
        match &self.mask {
            None => be.soft_threshold(&mut c, self.lambda * step),
            Some((penalised, keep)) => {
                // c = soft(c)·M + c·(1 − M).
                let mut kept = self.scratch.take(be, be.len(&c));
                be.copy(&mut kept, &c);
                be.mul(&mut kept, keep);
                be.soft_threshold(&mut c, self.lambda * step);
                be.mul(&mut c, penalised);
                be.axpy(&mut c, C32::new(1.0, 0.0), &kept);
                self.scratch.put(kept);
            }
        }
        self.op.adjoint(be, &c, x);
        self.scratch.put(c);
    }
}
