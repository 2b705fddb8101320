//! k-space sampling operators: [`SamplingOp`] keeps the samples at a list of flat indices
//! (gather; its adjoint scatters them back into a zero-filled grid), and [`MaskOp`] multiplies
//! by real weights on the full grid (a 0/1 Cartesian mask, or density weights), which is
//! self-adjoint.

use crate::backend::{Backend, C32};
use crate::error::{ReconError, Result};

use super::{LinOp, numel};

/// A complex backend buffer holding real values `w`.
pub(crate) fn real_buf<B: Backend>(be: &B, w: &[f32]) -> B::Buf {
    let host: Vec<C32> = w.iter().map(|&v| C32::new(v, 0.0)).collect();
    be.upload(&host)
}

/// How often each grid point occurs in `idx` (the diagonal of `PᴴP`), after checking every
/// index is `< n`.
pub(crate) fn index_counts(op: &'static str, idx: &[u32], n: usize) -> Result<Vec<f32>> {
    let mut counts = vec![0f32; n];
    for &i in idx {
        match counts.get_mut(i as usize) {
            Some(c) => *c += 1.0,
            None => {
                return Err(ReconError::shape(
                    op,
                    format!("sample index {i} outside a grid of {n} points"),
                ));
            }
        }
    }
    Ok(counts)
}

/// Keeps the grid points at flat indices `idx` (C order) of a grid of shape `shape`:
/// `y[k] = x[idx[k]]`; the adjoint adds each sample back at its index (zero-filled, repeats
/// summed). Output shape `[idx.len()]`.
#[derive(Debug)]
pub struct SamplingOp<B: Backend> {
    ishape: Vec<usize>,
    oshape: Vec<usize>,
    idx: B::Idx,
    counts: B::Buf,
}

impl<B: Backend> SamplingOp<B> {
    /// Sampling of the points `idx` (each `< numel(shape)`, repeats allowed) of `shape`.
    pub fn new(be: &B, shape: &[usize], idx: &[u32]) -> Result<Self> {
        let counts = index_counts("SamplingOp", idx, numel(shape))?;
        Ok(SamplingOp {
            ishape: shape.to_vec(),
            oshape: vec![idx.len()],
            idx: be.upload_idx(idx),
            counts: real_buf(be, &counts),
        })
    }
}

impl<B: Backend> LinOp<B> for SamplingOp<B> {
    fn name(&self) -> String {
        format!("Sampling({} of {:?})", self.oshape[0], self.ishape)
    }

    fn ishape(&self) -> &[usize] {
        &self.ishape
    }

    fn oshape(&self) -> &[usize] {
        &self.oshape
    }

    fn forward(&self, be: &B, x: &B::Buf, y: &mut B::Buf) {
        be.gather(y, x, &self.idx);
    }

    fn adjoint(&self, be: &B, y: &B::Buf, x: &mut B::Buf) {
        be.fill(x, C32::new(0.0, 0.0));
        be.scatter_add(x, y, &self.idx);
    }

    fn normal(&self, be: &B, x: &B::Buf, out: &mut B::Buf) {
        be.copy(out, x);
        be.mul(out, &self.counts);
    }
}

/// Multiplication by real weights `w` on a grid of shape `shape` (a 0/1 sampling mask, or any
/// real weighting); self-adjoint.
#[derive(Debug)]
pub struct MaskOp<B: Backend> {
    shape: Vec<usize>,
    w: B::Buf,
    w2: B::Buf,
}

impl<B: Backend> MaskOp<B> {
    /// The mask `w` (`numel(shape)` real weights, C order) on `shape`.
    pub fn new(be: &B, shape: &[usize], w: &[f32]) -> Result<Self> {
        if w.len() != numel(shape) {
            return Err(ReconError::shape(
                "MaskOp",
                format!("{} weights for a grid {shape:?}", w.len()),
            ));
        }
        let w2: Vec<f32> = w.iter().map(|v| v * v).collect();
        Ok(MaskOp {
            shape: shape.to_vec(),
            w: real_buf(be, w),
            w2: real_buf(be, &w2),
        })
    }
}

impl<B: Backend> LinOp<B> for MaskOp<B> {
    fn name(&self) -> String {
        format!("Mask{:?}", self.shape)
    }

    fn ishape(&self) -> &[usize] {
        &self.shape
    }

    fn oshape(&self) -> &[usize] {
        &self.shape
    }

    fn forward(&self, be: &B, x: &B::Buf, y: &mut B::Buf) {
        be.copy(y, x);
        be.mul(y, &self.w);
    }

    fn adjoint(&self, be: &B, y: &B::Buf, x: &mut B::Buf) {
        self.forward(be, y, x);
    }

    fn normal(&self, be: &B, x: &B::Buf, out: &mut B::Buf) {
        be.copy(out, x);
        be.mul(out, &self.w2);
    }
}
