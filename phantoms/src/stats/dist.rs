//! Distribution functions with real degrees of freedom (statrs), wrapped so that invalid
//! parameters give NaN (mapped to `null` upstream) instead of a panic.

use statrs::distribution::{ContinuousCDF, FisherSnedecor, StudentsT};

/// Upper-tail probability P(F > x) of an F(d1, d2) distribution.
pub fn f_sf(x: f64, d1: f64, d2: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x == f64::INFINITY {
        return 0.0;
    }
    match FisherSnedecor::new(d1, d2) {
        Ok(d) if x >= 0.0 => d.sf(x),
        Ok(_) => 1.0,
        Err(_) => f64::NAN,
    }
}

/// Quantile of an F(d1, d2) distribution at probability `p` in (0, 1); real df accepted.
pub fn f_quantile(p: f64, d1: f64, d2: f64) -> f64 {
    if !(p > 0.0 && p < 1.0) {
        return f64::NAN;
    }
    match FisherSnedecor::new(d1, d2) {
        Ok(d) => d.inverse_cdf(p),
        Err(_) => f64::NAN,
    }
}

/// Quantile of Student's t with `df` degrees of freedom at probability `p` in (0, 1).
pub fn t_quantile(p: f64, df: f64) -> f64 {
    if !(p > 0.0 && p < 1.0) {
        return f64::NAN;
    }
    match StudentsT::new(0.0, 1.0, df) {
        Ok(d) => d.inverse_cdf(p),
        Err(_) => f64::NAN,
    }
}

/// Two-sided p-value of a t statistic with `df` degrees of freedom.
pub fn t_two_sided_p(t: f64, df: f64) -> f64 {
    if t.is_nan() {
        return f64::NAN;
    }
    match StudentsT::new(0.0, 1.0, df) {
        Ok(d) => (2.0 * d.sf(t.abs())).min(1.0),
        Err(_) => f64::NAN,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values from scipy.stats 1.17 (`f.ppf`, `f.sf`, `t.ppf`, `t.sf`).
    #[test]
    fn against_scipy() {
        assert!((f_quantile(0.975, 5.0, 24.0) - 3.1548163425331124).abs() < 1e-9);
        assert!((t_quantile(0.975, 5.0) - 2.5705818356363146).abs() < 1e-9);
        assert!((t_two_sided_p(2.0, 10.0) - 0.07338803477074037).abs() < 1e-12);
        assert!((f_sf(3.0, 4.0, 12.5) - 0.06054197026018436).abs() < 1e-10);
        assert!(f_quantile(0.975, 0.0, 3.0).is_nan());
        assert_eq!(f_sf(f64::INFINITY, 2.0, 3.0), 0.0);
    }
}
