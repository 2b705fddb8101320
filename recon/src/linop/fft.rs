//! The centred orthonormal FFT as a linear operator: image → k-space over chosen axes, in the
//! convention of [`crate::conventions`]. Being unitary, its adjoint is the inverse FFT and its
//! normal operator the identity.

use crate::backend::{Backend, FftDirection};
use crate::error::{ReconError, Result};

use super::LinOp;

/// Checks that `axes` are distinct axes of an array with `ndim` dimensions.
pub(crate) fn check_axes(op: &'static str, ndim: usize, axes: &[usize]) -> Result<()> {
    for (i, &a) in axes.iter().enumerate() {
        if a >= ndim {
            return Err(ReconError::shape(
                op,
                format!("axis {a} of a {ndim}-D shape"),
            ));
        }
        if axes[..i].contains(&a) {
            return Err(ReconError::shape(op, format!("axis {a} given twice")));
        }
    }
    Ok(())
}

/// Centred orthonormal FFT over `axes` of `shape` (forward: image → k-space).
#[derive(Debug, Clone)]
pub struct FftOp {
    shape: Vec<usize>,
    axes: Vec<usize>,
}

impl FftOp {
    /// The FFT over `axes` (distinct, each `< shape.len()`) of arrays of `shape`.
    pub fn new(shape: &[usize], axes: &[usize]) -> Result<Self> {
        check_axes("FftOp", shape.len(), axes)?;
        Ok(FftOp {
            shape: shape.to_vec(),
            axes: axes.to_vec(),
        })
    }

    /// The transformed axes.
    pub fn axes(&self) -> &[usize] {
        &self.axes
    }
}

impl<B: Backend> LinOp<B> for FftOp {
    fn name(&self) -> String {
        format!("FFT{:?}", self.axes)
    }

    fn ishape(&self) -> &[usize] {
        &self.shape
    }

    fn oshape(&self) -> &[usize] {
        &self.shape
    }

    fn forward(&self, be: &B, x: &B::Buf, y: &mut B::Buf) {
        be.copy(y, x);
        be.fft(y, &self.shape, &self.axes, FftDirection::Forward);
    }

    fn adjoint(&self, be: &B, y: &B::Buf, x: &mut B::Buf) {
        be.copy(x, y);
        be.fft(x, &self.shape, &self.axes, FftDirection::Inverse);
    }

    fn normal(&self, be: &B, x: &B::Buf, out: &mut B::Buf) {
        be.copy(out, x);
    }
}
