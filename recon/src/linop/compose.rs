//! Combining operators: the identity, a real multiple of an operator, and the composition of
//! two operators (sigpy's `Identity`, `*` and `Compose`).

use crate::backend::{Backend, C32};
use crate::error::{ReconError, Result};

use super::scratch::Scratch;
use super::{LinOp, numel};

/// The identity on arrays of a shape.
#[derive(Debug, Clone)]
pub struct Identity {
    shape: Vec<usize>,
}

impl Identity {
    /// The identity on `shape`.
    pub fn new(shape: &[usize]) -> Self {
        Identity {
            shape: shape.to_vec(),
        }
    }
}

impl<B: Backend> LinOp<B> for Identity {
    fn name(&self) -> String {
        format!("Identity{:?}", self.shape)
    }

    fn ishape(&self) -> &[usize] {
        &self.shape
    }

    fn oshape(&self) -> &[usize] {
        &self.shape
    }

    fn forward(&self, be: &B, x: &B::Buf, y: &mut B::Buf) {
        be.copy(y, x);
    }

    fn adjoint(&self, be: &B, y: &B::Buf, x: &mut B::Buf) {
        be.copy(x, y);
    }

    fn normal(&self, be: &B, x: &B::Buf, out: &mut B::Buf) {
        be.copy(out, x);
    }
}

/// `a · A` for a real `a`.
#[derive(Debug, Clone)]
pub struct Scaled<L> {
    op: L,
    a: f32,
}

impl<L> Scaled<L> {
    /// The operator `a · op`.
    pub fn new(op: L, a: f32) -> Self {
        Scaled { op, a }
    }
}

impl<B: Backend, L: LinOp<B>> LinOp<B> for Scaled<L> {
    fn name(&self) -> String {
        format!("{}·{}", self.a, self.op.name())
    }

    fn ishape(&self) -> &[usize] {
        self.op.ishape()
    }

    fn oshape(&self) -> &[usize] {
        self.op.oshape()
    }

    fn forward(&self, be: &B, x: &B::Buf, y: &mut B::Buf) {
        self.op.forward(be, x, y);
        be.scale(y, C32::new(self.a, 0.0));
    }

    fn adjoint(&self, be: &B, y: &B::Buf, x: &mut B::Buf) {
        self.op.adjoint(be, y, x);
        be.scale(x, C32::new(self.a, 0.0));
    }

    fn normal(&self, be: &B, x: &B::Buf, out: &mut B::Buf) {
        self.op.normal(be, x, out);
        be.scale(out, C32::new(self.a * self.a, 0.0));
    }
}

/// The composition `outer ∘ inner` (`inner` applied first).
#[derive(Debug)]
pub struct Compose<B: Backend, O, I> {
    outer: O,
    inner: I,
    scratch: Scratch<B>,
}

impl<B: Backend, O: LinOp<B>, I: LinOp<B>> Compose<B, O, I> {
    /// `outer ∘ inner`; the output shape of `inner` must be the input shape of `outer`.
    pub fn new(outer: O, inner: I) -> Result<Self> {
        if outer.ishape() != inner.oshape() {
            return Err(ReconError::shape(
                "Compose",
                format!(
                    "{} gives {:?} but {} takes {:?}",
                    inner.name(),
                    inner.oshape(),
                    outer.name(),
                    outer.ishape()
                ),
            ));
        }
        Ok(Compose {
            outer,
            inner,
            scratch: Scratch::new(),
        })
    }
}

impl<B: Backend, O: LinOp<B>, I: LinOp<B>> LinOp<B> for Compose<B, O, I> {
    fn name(&self) -> String {
        format!("{} ∘ {}", self.outer.name(), self.inner.name())
    }

    fn ishape(&self) -> &[usize] {
        self.inner.ishape()
    }

    fn oshape(&self) -> &[usize] {
        self.outer.oshape()
    }

    fn forward(&self, be: &B, x: &B::Buf, y: &mut B::Buf) {
        let mut t = self.scratch.take(be, numel(self.inner.oshape()));
        self.inner.forward(be, x, &mut t);
        self.outer.forward(be, &t, y);
        self.scratch.put(t);
    }

    fn adjoint(&self, be: &B, y: &B::Buf, x: &mut B::Buf) {
        let mut t = self.scratch.take(be, numel(self.inner.oshape()));
        self.outer.adjoint(be, y, &mut t);
        self.inner.adjoint(be, &t, x);
        self.scratch.put(t);
    }

    fn normal(&self, be: &B, x: &B::Buf, out: &mut B::Buf) {
        // Iᴴ (Oᴴ O) I x, using the outer operator's own normal.
        let n = numel(self.inner.oshape());
        let mut t = self.scratch.take(be, n);
        let mut u = self.scratch.take(be, n);
        self.inner.forward(be, x, &mut t);
        self.outer.normal(be, &t, &mut u);
        self.inner.adjoint(be, &u, out);
        self.scratch.put(t);
        self.scratch.put(u);
    }
}
