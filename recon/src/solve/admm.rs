//! ADMM (alternating direction method of multipliers, scaled form) for
//! `min_x ½‖Ax − y‖² + h(Gx)` with `G` a linear operator (finite differences for total
//! variation, a wavelet) and `h` given by its proximal operator (`λ‖·‖₁`: [`super::L1`]).
//! Splitting `z = Gx` with penalty `ρ`:
//!
//! - `x ← argmin ½‖Ax − y‖² + ρ/2 ‖Gx − z + u‖²`, i.e. `(AᴴA + ρGᴴG) x = Aᴴy + ρGᴴ(z − u)`,
//!   solved by warm-started conjugate gradient ([`super::Cg`]);
//! - `z ← prox_{h/ρ}(Gx + u)`;
//! - `u ← u + Gx − z`.
//!
//! # References
//! - S. Boyd, N. Parikh, E. Chu, B. Peleato, J. Eckstein, "Distributed optimization and
//!   statistical learning via the alternating direction method of multipliers", Found. Trends
//!   Mach. Learn. 3 (2011) 1–122, §3 and §6.
//! - T. Goldstein, S. Osher, "The split Bregman method for L1-regularized problems", SIAM J.
//!   Imaging Sci. 2 (2009) 323–343.

use crate::backend::{Backend, C32};
use crate::error::{ReconError, Result};
use crate::linop::{LinOp, numel};

use super::{Callback, Cg, CgOptions, Prox, SolveReport, check_len, rel_change};

/// Settings of [`admm()`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdmmOptions {
    /// The penalty `ρ > 0`.
    pub rho: f32,
    /// Most outer iterations.
    pub max_iter: usize,
    /// The inner conjugate gradient of the x-update (warm-started).
    pub cg: CgOptions,
    /// Stop when the relative change `‖x_k − x_{k−1}‖ / ‖x_k‖` falls below this (0: never).
    pub tol: f64,
}

impl Default for AdmmOptions {
    fn default() -> Self {
        AdmmOptions {
            rho: 1.0,
            max_iter: 50,
            cg: CgOptions {
                max_iter: 5,
                tol: 1e-6,
            },
            tol: 0.0,
        }
    }
}

/// ADMM for `min ½‖Ax − y‖² + h(Gx)` (`prox` is that of `h`) from the initial guess in `x`
/// (overwritten). The callback gets the relative change of `x` per outer iteration.
#[allow(clippy::too_many_arguments)]
pub fn admm<B, A, G, P>(
    be: &B,
    a: &A,
    g: &G,
    prox: &P,
    y: &B::Buf,
    x: &mut B::Buf,
    opts: &AdmmOptions,
    mut callback: Option<Callback<'_>>,
) -> Result<SolveReport>
where
    B: Backend,
    A: LinOp<B> + ?Sized,
    G: LinOp<B> + ?Sized,
    P: Prox<B> + ?Sized,
{
    let n = numel(a.ishape());
    if g.ishape() != a.ishape() {
        return Err(ReconError::shape(
            "admm",
            format!(
                "{} takes {:?} but {} takes {:?}",
                a.name(),
                a.ishape(),
                g.name(),
                g.ishape()
            ),
        ));
    }
    check_len(be, "admm", "the data y", y, numel(a.oshape()))?;
    check_len(be, "admm", "the image x", x, n)?;
    if !(opts.rho.is_finite() && opts.rho > 0.0) {
        return Err(ReconError::numerical(
            "admm",
            format!("penalty ρ = {}", opts.rho),
        ));
    }
    let m = numel(g.oshape());
    let rho = opts.rho;
    let mut aty = be.zeros(n);
    a.adjoint(be, y, &mut aty);
    let mut rhs = be.zeros(n);
    let mut tmp_n = be.zeros(n);
    let mut x_prev = be.zeros(n);
    let mut gx = be.zeros(m);
    let mut z = be.zeros(m);
    let mut u = be.zeros(m);
    let mut tmp_m = be.zeros(m);
    let mut work = Cg::new(be, n);
    g.forward(be, x, &mut z);
    let mut report = SolveReport::with_capacity(opts.max_iter);
    while report.iterations < opts.max_iter {
        // rhs = Aᴴy + ρ Gᴴ(z − u).
        be.copy(&mut tmp_m, &z);
        be.axpy(&mut tmp_m, C32::new(-1.0, 0.0), &u);
        g.adjoint(be, &tmp_m, &mut rhs);
        be.xpay(&mut rhs, C32::new(rho, 0.0), &aty);
        be.copy(&mut x_prev, x);
        {
            let tmp = &mut tmp_n;
            let mut apply = |v: &B::Buf, out: &mut B::Buf| {
                a.normal(be, v, out);
                g.normal(be, v, tmp);
                be.axpy(out, C32::new(rho, 0.0), tmp);
            };
            work.solve(be, &mut apply, &rhs, x, &opts.cg, None)?;
        }
        // z = prox(Gx + u, 1/ρ); u = u + Gx − z.
        g.forward(be, x, &mut gx);
        be.copy(&mut z, &gx);
        be.axpy(&mut z, C32::new(1.0, 0.0), &u);
        prox.prox(be, &mut z, 1.0 / rho);
        be.axpy(&mut u, C32::new(1.0, 0.0), &gx);
        be.axpy(&mut u, C32::new(-1.0, 0.0), &z);
        let change = rel_change(be, x, &x_prev, &mut tmp_n);
        if report.record("admm", change, opts.tol, &mut callback)? {
            break;
        }
    }
    Ok(report)
}
