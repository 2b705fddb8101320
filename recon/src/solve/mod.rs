//! Iterative solvers on [`crate::linop::LinOp`]s, written once against [`crate::Backend`]:
//! conjugate gradient for regularised least squares (CG-SENSE, [`cg()`]), FISTA for a smooth
//! data term plus a proximable regulariser ([`fista()`]), ADMM for a data term plus a
//! regulariser of a transform of the image ([`admm()`]), the proximal operators they use
//! ([`prox`]) and a power iteration for step sizes ([`max_eig`]).
//!
//! Every solver allocates its working buffers once, before the first iteration; what runs per
//! iteration is operator applications and in-place backend kernels (operators reuse their own
//! scratch, see [`crate::linop::Scratch`]). Progress goes to an optional callback
//! `(iteration, metric)`; each solver returns a [`SolveReport`].
//!
//! # References
//! - K. P. Pruessmann et al., "Advances in sensitivity encoding with arbitrary k-space
//!   trajectories", Magn. Reson. Med. 46 (2001) 638–651 (CG-SENSE).
//! - A. Beck, M. Teboulle, "A fast iterative shrinkage-thresholding algorithm for linear
//!   inverse problems", SIAM J. Imaging Sci. 2 (2009) 183–202 (FISTA).
//! - S. Boyd, N. Parikh, E. Chu, B. Peleato, J. Eckstein, "Distributed optimization and
//!   statistical learning via the alternating direction method of multipliers", Found. Trends
//!   Mach. Learn. 3 (2011) 1–122 (ADMM).

pub mod admm;
pub mod cg;
pub mod fista;
pub mod power;
pub mod prox;

pub use admm::{AdmmOptions, admm};
pub use cg::{Cg, CgOptions, cg};
pub use fista::{FistaOptions, FistaOrder, fista};
pub use power::max_eig;
pub use prox::{L1, L1Transform, Prox, Zero};

use crate::backend::Backend;
use crate::error::{ReconError, Result};

/// A per-iteration progress callback: `(iteration counted from 1, the solver's metric)`.
pub type Callback<'a> = &'a mut dyn FnMut(usize, f64);

/// What a solver did.
#[derive(Debug, Clone, PartialEq)]
pub struct SolveReport {
    /// Iterations run.
    pub iterations: usize,
    /// The solver's metric per iteration (CG: relative residual `‖r‖/‖b‖`, entry 0 the
    /// initial one; FISTA and ADMM: relative change `‖x_k − x_{k−1}‖ / ‖x_k‖`).
    pub history: Vec<f64>,
    /// Whether the tolerance was reached before the iteration limit.
    pub converged: bool,
}

impl SolveReport {
    /// An empty report with room for `max_iter` entries.
    pub(crate) fn with_capacity(max_iter: usize) -> Self {
        SolveReport {
            iterations: 0,
            history: Vec::with_capacity(max_iter),
            converged: false,
        }
    }

    /// Records one more iteration of `solver` with relative change `change`: errors on a
    /// non-finite iterate, reports to `callback`, and returns whether `tol` is reached (then
    /// marks the report converged).
    pub(crate) fn record(
        &mut self,
        solver: &'static str,
        change: f64,
        tol: f64,
        callback: &mut Option<Callback<'_>>,
    ) -> Result<bool> {
        self.iterations += 1;
        if !change.is_finite() {
            return Err(ReconError::numerical(
                solver,
                format!("non-finite iterate at iteration {}", self.iterations),
            ));
        }
        self.history.push(change);
        if let Some(cb) = callback.as_mut() {
            cb(self.iterations, change);
        }
        self.converged = change < tol;
        Ok(self.converged)
    }
}

/// Checks that `buf` holds `n` elements (`what` names it in the error).
pub(crate) fn check_len<B: Backend>(
    be: &B,
    op: &'static str,
    what: &str,
    buf: &B::Buf,
    n: usize,
) -> Result<()> {
    let got = be.len(buf);
    if got == n {
        Ok(())
    } else {
        Err(ReconError::shape(
            op,
            format!("{what} has {got} elements, the operator wants {n}"),
        ))
    }
}

/// `‖a − b‖ / ‖a‖` using `tmp` as scratch (0 when both are zero).
pub(crate) fn rel_change<B: Backend>(be: &B, a: &B::Buf, b: &B::Buf, tmp: &mut B::Buf) -> f64 {
    be.copy(tmp, a);
    be.axpy(tmp, crate::C32::new(-1.0, 0.0), b);
    let d = be.norm_sq(tmp).sqrt();
    let n = be.norm_sq(a).sqrt();
    if n > 0.0 { d / n } else { d }
}
