//! Conjugate gradient for Hermitian positive (semi-)definite systems, and CG-SENSE: the
//! regularised least-squares problem `min ‖Ax − y‖² + λ‖x‖²` through its normal equations
//! `(AᴴA + λI) x = Aᴴ y`.
//!
//! [`Cg`] holds the three work vectors (residual, direction, operator image) and solves
//! `M x = b` for any Hermitian `M` given as a closure, so other solvers (the x-update of
//! [`super::admm()`]) reuse it; [`cg()`] is the CG-SENSE entry point on a [`LinOp`].
//!
//! # References
//! - M. R. Hestenes, E. Stiefel, "Methods of conjugate gradients for solving linear systems",
//!   J. Res. Natl. Bur. Stand. 49 (1952) 409–436.
//! - K. P. Pruessmann, M. Weiger, P. Börnert, P. Boesiger, "Advances in sensitivity encoding
//!   with arbitrary k-space trajectories", Magn. Reson. Med. 46 (2001) 638–651.

use crate::backend::{Backend, C32};
use crate::error::{ReconError, Result};
use crate::linop::{LinOp, numel};

use super::{Callback, SolveReport, check_len};

/// Stopping rules of conjugate gradient.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CgOptions {
    /// Most iterations.
    pub max_iter: usize,
    /// Stop when the relative residual `‖b − Mx‖ / ‖b‖` falls below this.
    pub tol: f64,
}

impl Default for CgOptions {
    fn default() -> Self {
        CgOptions {
            max_iter: 30,
            tol: 1e-6,
        }
    }
}

/// Conjugate-gradient workspace for systems of `n` unknowns (allocated once, reused).
#[derive(Debug)]
pub struct Cg<B: Backend> {
    r: B::Buf,
    p: B::Buf,
    q: B::Buf,
}

impl<B: Backend> Cg<B> {
    /// Work vectors for `n` unknowns.
    pub fn new(be: &B, n: usize) -> Self {
        Cg {
            r: be.zeros(n),
            p: be.zeros(n),
            q: be.zeros(n),
        }
    }

    /// Solves `M x = b` from the initial guess in `x` (overwritten with the solution), with
    /// `apply(v, out)` computing `out = M v` for a Hermitian positive (semi-)definite `M`.
    /// Stops at the iteration limit, at the tolerance, or when the curvature `pᴴMp` is no
    /// longer positive (then the current `x` is returned, `converged` false).
    pub fn solve(
        &mut self,
        be: &B,
        apply: &mut dyn FnMut(&B::Buf, &mut B::Buf),
        b: &B::Buf,
        x: &mut B::Buf,
        opts: &CgOptions,
        mut callback: Option<Callback<'_>>,
    ) -> Result<SolveReport> {
        let n = be.len(&self.r);
        check_len(be, "cg", "the right-hand side", b, n)?;
        check_len(be, "cg", "the initial guess", x, n)?;
        let mut history = Vec::with_capacity(opts.max_iter + 1);
        let b_norm = be.norm_sq(b).sqrt();
        if b_norm == 0.0 {
            be.fill(x, C32::new(0.0, 0.0));
            history.push(0.0);
            return Ok(SolveReport {
                iterations: 0,
                history,
                converged: true,
            });
        }
        // r = b − M x, p = r.
        apply(x, &mut self.q);
        be.copy(&mut self.r, b);
        be.axpy(&mut self.r, C32::new(-1.0, 0.0), &self.q);
        be.copy(&mut self.p, &self.r);
        let mut rs = be.norm_sq(&self.r);
        history.push(rs.sqrt() / b_norm);
        if !rs.is_finite() {
            return Err(ReconError::numerical("cg", "non-finite initial residual"));
        }
        let mut iterations = 0;
        let mut converged = rs.sqrt() / b_norm < opts.tol;
        while !converged && iterations < opts.max_iter {
            apply(&self.p, &mut self.q);
            let curvature = be.dot(&self.p, &self.q).re;
            if !curvature.is_finite() {
                return Err(ReconError::numerical(
                    "cg",
                    format!("non-finite curvature at iteration {}", iterations + 1),
                ));
            }
            if curvature <= 0.0 {
                break;
            }
            let alpha = (rs / curvature) as f32;
            be.axpy(x, C32::new(alpha, 0.0), &self.p);
            be.axpy(&mut self.r, C32::new(-alpha, 0.0), &self.q);
            let rs_new = be.norm_sq(&self.r);
            iterations += 1;
            let rel = rs_new.sqrt() / b_norm;
            history.push(rel);
            if let Some(cb) = callback.as_mut() {
                cb(iterations, rel);
            }
            converged = rel < opts.tol;
            // p = r + (rs_new / rs) p.
            be.xpay(&mut self.p, C32::new((rs_new / rs) as f32, 0.0), &self.r);
            rs = rs_new;
        }
        Ok(SolveReport {
            iterations,
            history,
            converged,
        })
    }
}

/// CG-SENSE: solves `(AᴴA + λI) x = Aᴴ y` by conjugate gradient, from the initial guess in `x`
/// (use zeros for none), overwriting `x`. The callback gets the relative residual per
/// iteration.
pub fn cg<B: Backend, A: LinOp<B> + ?Sized>(
    be: &B,
    op: &A,
    y: &B::Buf,
    lambda: f32,
    x: &mut B::Buf,
    opts: &CgOptions,
    callback: Option<Callback<'_>>,
) -> Result<SolveReport> {
    let n = numel(op.ishape());
    check_len(be, "cg", "the data y", y, numel(op.oshape()))?;
    check_len(be, "cg", "the image x", x, n)?;
    let mut aty = be.zeros(n);
    op.adjoint(be, y, &mut aty);
    let mut work = Cg::new(be, n);
    let mut apply = |v: &B::Buf, out: &mut B::Buf| {
        op.normal(be, v, out);
        if lambda != 0.0 {
            be.axpy(out, C32::new(lambda, 0.0), v);
        }
    };
    work.solve(be, &mut apply, &aty, x, opts, callback)
}
