//! Image-quality metrics exactly as the reference data define them
//! (`shared/ref/ismrmrd/README.md`, "NRMSE"):
//!
//! ```text
//! a = |recon|, b = gt (magnitudes, f64)
//! s = <a, b> / <a, a>                      (least-squares optimal real scale)
//! NRMSE         = ‖s·a − b‖₂ / ‖b‖₂        over the whole image / stack / volume
//! NRMSE_support = the same error with both norms restricted to gt > 0.05·max(gt)
//! ```
//!
//! `s` is always computed over the whole array, also for the support variant.

use crate::backend::C32;
use crate::error::{ReconError, Result};

/// Fraction of `max(gt)` above which a pixel belongs to the object support.
pub const SUPPORT_THRESHOLD: f64 = 0.05;

fn check(a: &[f32], b: &[f32]) -> Result<()> {
    if a.len() != b.len() || a.is_empty() {
        return Err(ReconError::shape(
            "nrmse",
            format!("recon has {} pixels, ground truth {}", a.len(), b.len()),
        ));
    }
    Ok(())
}

/// The optimal real scale `s = <|a|, b> / <|a|, |a|>` of `recon` onto `gt`.
pub fn optimal_scale(recon: &[f32], gt: &[f32]) -> Result<f64> {
    check(recon, gt)?;
    let (mut ab, mut aa) = (0f64, 0f64);
    for (&a, &b) in recon.iter().zip(gt) {
        let a = f64::from(a.abs());
        ab += a * f64::from(b);
        aa += a * a;
    }
    if aa.is_nan() || aa <= 0.0 || !aa.is_finite() || !ab.is_finite() {
        return Err(ReconError::numerical(
            "nrmse",
            format!("the reconstruction is zero or not finite (<a,a> = {aa})"),
        ));
    }
    Ok(ab / aa)
}

/// `‖s·|recon| − gt‖₂ / ‖gt‖₂` over the pixels where `keep(gt)`, with `s` from all pixels.
fn nrmse_where(recon: &[f32], gt: &[f32], keep: impl Fn(f64) -> bool) -> Result<f64> {
    let s = optimal_scale(recon, gt)?;
    let (mut err, mut norm) = (0f64, 0f64);
    for (&a, &b) in recon.iter().zip(gt) {
        let b = f64::from(b);
        if keep(b) {
            let d = s * f64::from(a.abs()) - b;
            err += d * d;
            norm += b * b;
        }
    }
    if norm.is_nan() || norm <= 0.0 {
        return Err(ReconError::numerical(
            "nrmse",
            "the ground truth is zero on the compared pixels",
        ));
    }
    Ok((err / norm).sqrt())
}

/// NRMSE of `recon` (magnitude taken) against `gt` over the whole array.
pub fn nrmse(recon: &[f32], gt: &[f32]) -> Result<f64> {
    nrmse_where(recon, gt, |_| true)
}

/// NRMSE on the object support `gt > 0.05·max(gt)` (scale `s` from the whole array).
pub fn nrmse_support(recon: &[f32], gt: &[f32]) -> Result<f64> {
    check(recon, gt)?;
    let max = gt
        .iter()
        .fold(f64::NEG_INFINITY, |m, &v| m.max(f64::from(v)));
    let t = SUPPORT_THRESHOLD * max;
    nrmse_where(recon, gt, |b| b > t)
}

/// The largest complex difference `max |a[i] − b[i]|` of two arrays of the same length (e.g. a
/// backend path against a host path).
pub fn max_abs_diff(a: &[C32], b: &[C32]) -> Result<f32> {
    if a.len() != b.len() {
        return Err(ReconError::shape(
            "max_abs_diff",
            format!("{} against {} samples", a.len(), b.len()),
        ));
    }
    Ok(a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).norm())
        .fold(0.0, f32::max))
}

/// Repeats `gt` `times` times, to score a stack of images (e.g. one per repetition) against a
/// single ground truth over the whole stack, as the reference does for `sl_reps`.
pub fn tile(gt: &[f32], times: usize) -> Vec<f32> {
    gt.repeat(times)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nrmse_is_scale_invariant_and_zero_for_a_scaled_copy() {
        let gt = [0.0f32, 1.0, 2.0, 3.0];
        let rec: Vec<f32> = gt.iter().map(|v| -5.0 * v).collect(); // |.| is taken
        assert!(nrmse(&rec, &gt).unwrap() < 1e-12);
        assert!(nrmse_support(&rec, &gt).unwrap() < 1e-12);
    }

    #[test]
    fn nrmse_matches_a_hand_computation() {
        let gt = [1.0f32, 0.0, 0.0, 0.01];
        let rec = [1.0f32, 1.0, 0.0, 0.0];
        // s = 1/2; error = [-0.5, 0.5, 0, -0.01]
        let want = ((0.25 + 0.25 + 0.0001) / (1.0 + 0.0001f64)).sqrt();
        assert!((nrmse(&rec, &gt).unwrap() - want).abs() < 1e-6);
        // Support: only pixel 0 (0.01 ≤ 0.05): error 0.5 / 1.
        assert!((nrmse_support(&rec, &gt).unwrap() - 0.5).abs() < 1e-6);
        assert!(nrmse(&[0.0; 4], &gt).is_err());
        assert!(nrmse(&rec[..3], &gt).is_err());
    }

    #[test]
    fn max_abs_diff_is_the_largest_complex_difference_and_checks_lengths() {
        let a = [C32::new(1.0, 0.0), C32::new(0.0, 2.0)];
        let b = [C32::new(1.0, 0.5), C32::new(0.0, -1.0)];
        assert_eq!(max_abs_diff(&a, &b).unwrap(), 3.0);
        let e = max_abs_diff(&a, &b[..1]).unwrap_err().to_string();
        assert!(e.contains("2 against 1"), "{e}");
    }
}
