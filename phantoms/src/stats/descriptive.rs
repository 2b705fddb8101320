//! Small descriptive statistics used everywhere: mean, sample SD (n − 1), coefficient of
//! variation, and the root mean square of per-unit CVs.

/// Arithmetic mean (NaN for an empty slice).
pub fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

/// Sample standard deviation with n − 1 (two-pass); exactly 0 when all values are equal.
pub fn sample_sd(x: &[f64]) -> f64 {
    if x.len() < 2 {
        return f64::NAN;
    }
    if x.iter().all(|&v| v == x[0]) {
        return 0.0;
    }
    let m = mean(x);
    (x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (x.len() - 1) as f64).sqrt()
}

/// Sample variance with n − 1 (exactly 0 when all values are equal).
pub fn sample_var(x: &[f64]) -> f64 {
    let s = sample_sd(x);
    s * s
}

/// Coefficient of variation SD/mean of at least two values; `None` when the mean is zero.
pub fn cv(x: &[f64]) -> Option<f64> {
    if x.len() < 2 {
        return None;
    }
    let m = mean(x);
    (m != 0.0).then(|| sample_sd(x) / m)
}

/// 100 × √(mean of CV²) over the units that have a CV; `None` when none has.
pub fn rms_cv_pct(cvs: &[f64]) -> Option<f64> {
    (!cvs.is_empty())
        .then(|| 100.0 * (cvs.iter().map(|c| c * c).sum::<f64>() / cvs.len() as f64).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basics() {
        assert_eq!(mean(&[1.0, 2.0, 3.0]), 2.0);
        assert_eq!(sample_sd(&[1.0, 2.0, 3.0]), 1.0);
        assert_eq!(sample_sd(&[0.1, 0.1, 0.1]), 0.0);
        assert_eq!(cv(&[0.0, 0.0]), None);
        assert_eq!(cv(&[2.0]), None);
        assert!((rms_cv_pct(&[0.03, 0.04]).unwrap() - 100.0 * 0.00125f64.sqrt()).abs() < 1e-12);
        assert_eq!(rms_cv_pct(&[]), None);
    }
}
