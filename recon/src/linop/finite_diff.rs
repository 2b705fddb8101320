//! Finite differences for total variation: `(G x)[a, i] = x[i + e_a] − x[i]` along each chosen
//! axis `a`, with **periodic** boundaries (the last sample is differenced with the first, as in
//! BART's `linop_grad` and sigpy's `FiniteDifference`), so `GᴴG` is the circulant (periodic)
//! negative Laplacian. Output shape `[axes.len(), ...shape]`.
//!
//! Written against the backend's gather and coil kernels: the shifted copies come from a
//! precomputed index buffer, the sum over axes of the adjoint from `combine_coils` with unit
//! weights.
//!
//! # References
//! - L. I. Rudin, S. Osher, E. Fatemi, "Nonlinear total variation based noise removal
//!   algorithms", Physica D 60 (1992) 259–268.

use crate::backend::{Backend, C32};
use crate::error::{ReconError, Result};

use super::fft::check_axes;
use super::scratch::Scratch;
use super::{LinOp, numel};

/// Periodic forward differences along `axes` of arrays of `shape`; output `[n_axes, ...shape]`.
#[derive(Debug)]
pub struct FiniteDifference<B: Backend> {
    ishape: Vec<usize>,
    oshape: Vec<usize>,
    /// `fwd[a·N + i]`: the flat index of the neighbour `i + e_a` (periodic).
    fwd: B::Idx,
    /// `back[a·N + i] = a·N + (i − e_a)` (periodic), an index into the output.
    back: B::Idx,
    /// `n_axes · N` ones (the weights of the sum over axes).
    ones: B::Buf,
    scratch: Scratch<B>,
}

impl<B: Backend> FiniteDifference<B> {
    /// Differences along `axes` (distinct, each `< shape.len()`) of `shape`.
    pub fn new(be: &B, shape: &[usize], axes: &[usize]) -> Result<Self> {
        check_axes("FiniteDifference", shape.len(), axes)?;
        let n = numel(shape);
        let total = n * axes.len();
        if total == 0 || total > u32::MAX as usize {
            return Err(ReconError::shape(
                "FiniteDifference",
                format!("{} axes of {shape:?}: empty or too large", axes.len()),
            ));
        }
        let mut fwd = Vec::with_capacity(total);
        let mut back = Vec::with_capacity(total);
        for (a, &ax) in axes.iter().enumerate() {
            let len = shape[ax];
            let stride: usize = shape[ax + 1..].iter().product();
            for i in 0..n {
                let c = (i / stride) % len;
                let next = if c + 1 < len {
                    i + stride
                } else {
                    i - c * stride
                };
                let prev = if c > 0 {
                    i - stride
                } else {
                    i + (len - 1) * stride
                };
                fwd.push(next as u32);
                back.push((a * n + prev) as u32);
            }
        }
        let mut oshape = vec![axes.len()];
        oshape.extend_from_slice(shape);
        Ok(FiniteDifference {
            ishape: shape.to_vec(),
            oshape,
            fwd: be.upload_idx(&fwd),
            back: be.upload_idx(&back),
            ones: be.upload(&vec![C32::new(1.0, 0.0); total]),
            scratch: Scratch::new(),
        })
    }
}

impl<B: Backend> LinOp<B> for FiniteDifference<B> {
    fn name(&self) -> String {
        format!(
            "FiniteDifference({} axes of {:?})",
            self.oshape[0], self.ishape
        )
    }

    fn ishape(&self) -> &[usize] {
        &self.ishape
    }

    fn oshape(&self) -> &[usize] {
        &self.oshape
    }

    fn forward(&self, be: &B, x: &B::Buf, y: &mut B::Buf) {
        be.gather(y, x, &self.fwd);
        let mut rep = self.scratch.take(be, numel(&self.oshape));
        be.expand_coils(&mut rep, x, &self.ones);
        be.axpy(y, C32::new(-1.0, 0.0), &rep);
        self.scratch.put(rep);
    }

    fn adjoint(&self, be: &B, y: &B::Buf, x: &mut B::Buf) {
        // x[i] = Σ_a (y[a, i − e_a] − y[a, i]).
        let mut t = self.scratch.take(be, numel(&self.oshape));
        be.gather(&mut t, y, &self.back);
        be.axpy(&mut t, C32::new(-1.0, 0.0), y);
        be.combine_coils(x, &t, &self.ones);
        self.scratch.put(t);
    }

    fn normal(&self, be: &B, x: &B::Buf, out: &mut B::Buf) {
        let mut g = self.scratch.take(be, numel(&self.oshape));
        self.forward(be, x, &mut g);
        self.adjoint(be, &g, out);
        self.scratch.put(g);
    }
}
