//! FISTA (fast iterative shrinkage-thresholding) for `min_x ½‖Ax − y‖² + g(x)` with `g` given
//! by its proximal operator ([`super::Prox`], which carries the weight `λ`): a gradient step on
//! the data term with step `1/L`, `L ≥ ‖AᴴA‖` the operator's bound (for SENSE
//! `max Σ|S|² · max PᴴP`, 1 for normalised maps, as BART's fixed step assumes) or else a power
//! iteration ([`super::max_eig`]), the proximal step, and Nesterov momentum.
//!
//! Two orders of the same iteration ([`FistaOrder`]): Beck and Teboulle's (gradient step,
//! proximal step, momentum: the result is the last proximal step) and BART's `fista` (proximal
//! step, momentum, gradient step: the result is the last gradient step, which `bart pics`
//! returns). BART's first iteration thresholds the initial guess, so its momentum runs one
//! iteration ahead; at the minimiser `x*` its result converges to the gradient step from `x*`,
//! whose proximal step is `x*` (for an l1 regulariser: `x*` before the final threshold).
//!
//! # References
//! - A. Beck, M. Teboulle, "A fast iterative shrinkage-thresholding algorithm for linear
//!   inverse problems", SIAM J. Imaging Sci. 2 (2009) 183–202.

use crate::backend::{Backend, C32};
use crate::error::{ReconError, Result};
use crate::linop::{LinOp, numel};

use super::{Callback, Prox, SolveReport, check_len, max_eig, rel_change};

/// Where an iteration of [`fista()`] starts, and so what it returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FistaOrder {
    /// Gradient step, proximal step, momentum (Beck & Teboulle 2009): the result is a proximal
    /// step (for l1 regularisers exactly sparse).
    #[default]
    BeckTeboulle,
    /// Proximal step, momentum, gradient step, as BART's `fista` (`bart pics`): the result is
    /// the last gradient step.
    Bart,
}

impl std::fmt::Display for FistaOrder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FistaOrder::BeckTeboulle => "Beck–Teboulle order",
            FistaOrder::Bart => "BART's order",
        })
    }
}

/// Nesterov's momentum sequence of both orders: `t₀ = 1`, `t_{k+1} = (1 + √(1 + 4t_k²)) / 2`,
/// extrapolation weight `β_k = (t_k − 1) / t_{k+1}`.
struct Momentum {
    t: f64,
}

impl Default for Momentum {
    fn default() -> Self {
        Momentum { t: 1.0 }
    }
}

impl Momentum {
    /// The next extrapolation weight `β_k`, advancing `t`.
    fn next_beta(&mut self) -> f32 {
        let t_next = 0.5 * (1.0 + (1.0 + 4.0 * self.t * self.t).sqrt());
        let beta = ((self.t - 1.0) / t_next) as f32;
        self.t = t_next;
        beta
    }
}

/// Settings of [`fista()`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FistaOptions {
    /// Most iterations.
    pub max_iter: usize,
    /// The gradient step; `None` uses `1/L` with `L` the operator's own bound of `‖AᴴA‖`
    /// ([`LinOp::normal_bound`]) or, where it has none, the power-iteration estimate.
    pub step: Option<f32>,
    /// Power iterations for `L` when `step` is `None` and the operator knows no bound.
    pub power_iters: usize,
    /// Stop when the relative change `‖x_k − x_{k−1}‖ / ‖x_k‖` falls below this (0: never).
    pub tol: f64,
    /// The order of the steps within an iteration.
    pub order: FistaOrder,
}

impl Default for FistaOptions {
    fn default() -> Self {
        FistaOptions {
            max_iter: 100,
            step: None,
            power_iters: 30,
            tol: 0.0,
            order: FistaOrder::default(),
        }
    }
}

/// FISTA for `min ½‖Ax − y‖² + g(x)` from the initial guess in `x` (overwritten). The callback
/// gets the relative change of `x` per iteration.
pub fn fista<B: Backend, A: LinOp<B> + ?Sized, P: Prox<B> + ?Sized>(
    be: &B,
    op: &A,
    y: &B::Buf,
    prox: &P,
    x: &mut B::Buf,
    opts: &FistaOptions,
    mut callback: Option<Callback<'_>>,
) -> Result<SolveReport> {
    let n = numel(op.ishape());
    check_len(be, "fista", "the data y", y, numel(op.oshape()))?;
    check_len(be, "fista", "the image x", x, n)?;
    let step = match opts.step {
        Some(s) => s,
        None => {
            let l = match op.normal_bound(be) {
                Some(b) if b.is_finite() && b > 0.0 => b,
                _ => max_eig(be, op, opts.power_iters),
            };
            if !(l.is_finite() && l > 0.0) {
                return Err(ReconError::numerical(
                    "fista",
                    format!("the largest eigenvalue of AᴴA is {l}; no step size"),
                ));
            }
            (1.0 / l) as f32
        }
    };
    if !(step.is_finite() && step > 0.0) {
        return Err(ReconError::numerical("fista", format!("step {step}")));
    }
    let mut aty = be.zeros(n);
    op.adjoint(be, y, &mut aty);
    if opts.order == FistaOrder::Bart {
        return fista_bart_order(be, op, &aty, prox, x, step, opts, callback);
    }
    let mut z = be.zeros(n);
    be.copy(&mut z, x);
    let mut x_prev = be.zeros(n);
    let mut g = be.zeros(n);
    let mut momentum = Momentum::default();
    let mut report = SolveReport::with_capacity(opts.max_iter);
    while report.iterations < opts.max_iter {
        // g = Aᴴ(A z − y) = AᴴA z − Aᴴy.
        op.normal(be, &z, &mut g);
        be.axpy(&mut g, C32::new(-1.0, 0.0), &aty);
        be.copy(&mut x_prev, x);
        be.copy(x, &z);
        be.axpy(x, C32::new(-step, 0.0), &g);
        prox.prox(be, x, step);
        let beta = momentum.next_beta();
        // z = x + β (x − x_prev) = (1 + β) x − β x_prev.
        be.copy(&mut z, &x_prev);
        be.xpay(&mut z, C32::new(-beta, 0.0), x);
        be.axpy(&mut z, C32::new(beta, 0.0), x);
        let change = rel_change(be, x, &x_prev, &mut g);
        if report.record("fista", change, opts.tol, &mut callback)? {
            break;
        }
    }
    Ok(report)
}

/// FISTA in BART's order: every iteration thresholds `x`, extrapolates it with the momentum
/// from the previous thresholded iterate `o`, and takes the gradient step from there; the
/// result is the last gradient step. The change reported per iteration is that between
/// consecutive thresholded iterates.
#[allow(clippy::too_many_arguments)]
fn fista_bart_order<B: Backend, A: LinOp<B> + ?Sized, P: Prox<B> + ?Sized>(
    be: &B,
    op: &A,
    aty: &B::Buf,
    prox: &P,
    x: &mut B::Buf,
    step: f32,
    opts: &FistaOptions,
    mut callback: Option<Callback<'_>>,
) -> Result<SolveReport> {
    let n = numel(op.ishape());
    let mut o = be.zeros(n);
    be.copy(&mut o, x);
    let mut g = be.zeros(n);
    let mut momentum = Momentum::default();
    let mut report = SolveReport::with_capacity(opts.max_iter);
    while report.iterations < opts.max_iter {
        prox.prox(be, x, step);
        let change = rel_change(be, x, &o, &mut g);
        let beta = momentum.next_beta();
        // o ← x (the thresholded iterate); x ← x + β (x − o_previous).
        be.copy(&mut g, x);
        be.axpy(x, C32::new(beta, 0.0), &g);
        be.axpy(x, C32::new(-beta, 0.0), &o);
        std::mem::swap(&mut o, &mut g);
        // x ← x − step · (AᴴA x − Aᴴy).
        op.normal(be, x, &mut g);
        be.axpy(&mut g, C32::new(-1.0, 0.0), aty);
        be.axpy(x, C32::new(-step, 0.0), &g);
        if report.record("fista", change, opts.tol, &mut callback)? {
            break;
        }
    }
    Ok(report)
}
