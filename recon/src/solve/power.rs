//! Power iteration for the largest eigenvalue of a normal operator `AᴴA` (`‖A‖²`), which sets
//! the step size `1/L` of gradient methods such as FISTA.
//!
//! # References
//! - G. H. Golub, C. F. Van Loan, *Matrix Computations*, 4th ed., §8.2 (the power method).

use crate::backend::{Backend, C32};
use crate::linop::{LinOp, numel, pseudo_random};

/// Estimate of the largest eigenvalue of `AᴴA` after `iters` power iterations from a fixed
/// pseudo-random start (`‖AᴴA x‖` for the last unit-norm iterate `x`; a lower bound that
/// converges from below). Returns 0 for a zero operator.
pub fn max_eig<B: Backend, A: LinOp<B> + ?Sized>(be: &B, op: &A, iters: usize) -> f64 {
    let n = numel(op.ishape());
    let mut x = be.upload(&pseudo_random(n, 0x5eed));
    let mut y = be.zeros(n);
    let nx = be.norm_sq(&x).sqrt();
    if nx == 0.0 {
        return 0.0;
    }
    be.scale(&mut x, C32::new((1.0 / nx) as f32, 0.0));
    let mut eig = 0.0;
    for _ in 0..iters.max(1) {
        op.normal(be, &x, &mut y);
        eig = be.norm_sq(&y).sqrt();
        if eig == 0.0 || !eig.is_finite() {
            return eig;
        }
        std::mem::swap(&mut x, &mut y);
        be.scale(&mut x, C32::new((1.0 / eig) as f32, 0.0));
    }
    eig
}
