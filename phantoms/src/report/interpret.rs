//! Wording shared by every report: number formatting that never prints `NaN`, the
//! "undefined (reason)" texts for statistics that are not defined, and the Koo & Li (2016)
//! interpretation of an ICC, judged on its 95 % confidence interval as they advise.

use crate::stats::IccBlock;
use crate::stats::analysis::Variability;
use crate::stats::bland_altman::BlandAltman;
use crate::stats::icc::{IccForm, IccStatus};

/// Koo & Li's (2016) reliability bands for an ICC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum KooLiBand {
    /// Below 0.5.
    Poor,
    /// From 0.5 to below 0.75.
    Moderate,
    /// From 0.75 to 0.9 inclusive.
    Good,
    /// Above 0.9.
    Excellent,
}

impl KooLiBand {
    /// The band a value falls in (poor < 0.5 ≤ moderate < 0.75 ≤ good ≤ 0.9 < excellent).
    pub fn of(icc: f64) -> KooLiBand {
        if icc < 0.5 {
            KooLiBand::Poor
        } else if icc < 0.75 {
            KooLiBand::Moderate
        } else if icc <= 0.9 {
            KooLiBand::Good
        } else {
            KooLiBand::Excellent
        }
    }

    /// Lower-case name, as used in reports and `summary.csv`.
    pub fn name(self) -> &'static str {
        match self {
            KooLiBand::Poor => "poor",
            KooLiBand::Moderate => "moderate",
            KooLiBand::Good => "good",
            KooLiBand::Excellent => "excellent",
        }
    }
}

/// Koo & Li interpretation of an estimate and its 95 % CI: the band of the CI ("good", or
/// "moderate to excellent" when the CI spans bands); the point estimate's band, flagged, when
/// the CI is not defined; `None` when there is no estimate.
pub fn koo_li(icc: Option<f64>, ci95: [Option<f64>; 2]) -> Option<String> {
    let finite = |x: Option<f64>| x.filter(|v| v.is_finite());
    match (finite(ci95[0]), finite(ci95[1])) {
        (Some(lo), Some(hi)) => {
            let (a, b) = (KooLiBand::of(lo.min(hi)), KooLiBand::of(lo.max(hi)));
            Some(if a == b {
                a.name().to_string()
            } else {
                format!("{} to {}", a.name(), b.name())
            })
        }
        _ => finite(icc)
            .map(|v| format!("{} (point estimate; CI undefined)", KooLiBand::of(v).name())),
    }
}

/// [`koo_li`] of one ICC form.
pub fn koo_li_form(form: &IccForm) -> Option<String> {
    koo_li(form.icc, form.ci95)
}

/// Human wording of a machine reason code from the statistics (`fewer_than_2_raters`…);
/// `raters` and `targets` name what the ICC's columns and rows are.
pub fn reason_text(code: &str, raters: &str, targets: &str) -> String {
    let raters = match raters {
        "site" => "sites",
        "session" => "sessions",
        other => other,
    };
    let targets = match targets {
        "subject" => "subjects",
        "subject+roi" => "subject × ROI units",
        other => other,
    };
    match code {
        "fewer_than_2_raters" => format!("fewer than 2 {raters}"),
        "fewer_than_2_complete_targets" => {
            format!("fewer than 2 {targets} measured at all {raters}")
        }
        "zero_total_variance" => "all values are equal, every ICC is 0/0".into(),
        "zero_error_variance" => {
            "zero error variance: every rater agrees exactly, ICC = 1 as a limit".into()
        }
        "fewer_than_2_pairs" => "fewer than 2 subjects measured at both sites".into(),
        other => other.replace('_', " "),
    }
}

/// Why an ICC block (or one of its forms) has no estimate, in words; for an `ok` block whose
/// form is still missing, the estimate was not a finite number (e.g. overflow).
pub fn icc_reason(block: &IccBlock) -> String {
    match (&block.status, &block.reason) {
        (IccStatus::Ok, _) => "not a finite number".into(),
        (_, Some(code)) => reason_text(code, &block.raters, &block.targets),
        (_, None) => "not estimable".into(),
    }
}

/// Why a Bland–Altman block is undefined, in words.
pub fn ba_reason(ba: &BlandAltman) -> String {
    match &ba.reason {
        Some(code) => reason_text(code, "site", "subject"),
        None if ba.n < 2 => reason_text("fewer_than_2_pairs", "site", "subject"),
        None => "not estimable".into(),
    }
}

/// Why the percent Bland–Altman of a pair is undefined, in words: pairs whose mean is 0 have
/// no percent difference.
pub fn ba_percent_reason(pair: &crate::stats::BaPair) -> String {
    if pair.percent.n < pair.absolute.n && pair.percent.n < 2 {
        "fewer than 2 pairs with a non-zero mean".into()
    } else {
        ba_reason(&pair.percent)
    }
}

/// `x` with `decimals` decimals, or `undefined (not finite)`.
fn fixed(x: f64, decimals: usize) -> String {
    if x.is_finite() {
        format!("{x:.decimals$}")
    } else {
        "undefined (not finite)".into()
    }
}

/// A percentage number with two decimals (no unit), or `undefined (not finite)`.
pub fn pct_num(x: f64) -> String {
    fixed(x, 2)
}

/// A number with about four significant digits (one decimal at least from 1000 up), or
/// `undefined (not finite)`; never `NaN`.
pub fn num(x: f64) -> String {
    if !x.is_finite() {
        return "undefined (not finite)".into();
    }
    if x == 0.0 {
        return "0".into();
    }
    let a = x.abs();
    if !(1e-4..1e7).contains(&a) {
        return format!("{x:.3e}");
    }
    let magnitude = a.log10().floor() as i32;
    let decimals = (3 - magnitude).clamp(1, 7) as usize;
    format!("{x:.decimals$}")
}

/// An ICC or another unit-free coefficient with three decimals, or `undefined (not finite)`.
pub fn coef(x: f64) -> String {
    fixed(x, 3)
}

/// A p-value: `< 0.001` or three decimals.
pub fn pval(p: f64) -> String {
    if !p.is_finite() {
        "undefined (not finite)".into()
    } else if p < 0.001 {
        "< 0.001".into()
    } else {
        format!("{p:.3}")
    }
}

/// `num(x)` when defined and finite, else `undefined (reason)`.
pub fn opt(x: Option<f64>, reason: &str) -> String {
    match x {
        Some(v) if v.is_finite() => num(v),
        _ => format!("undefined ({reason})"),
    }
}

/// Percent with two decimals (`1.23 %`) when defined, else `undefined (reason)`.
pub fn opt_pct(x: Option<f64>, reason: &str) -> String {
    match x {
        Some(v) if v.is_finite() => format!("{v:.2} %"),
        _ => format!("undefined ({reason})"),
    }
}

/// A 95 % CI `[lo, hi]` formatted with `f`, or `CI undefined`.
pub fn ci(ci95: [Option<f64>; 2], f: fn(f64) -> String) -> String {
    match ci95 {
        [Some(lo), Some(hi)] if lo.is_finite() && hi.is_finite() => {
            format!("[{}, {}]", f(lo), f(hi))
        }
        _ => "CI undefined".into(),
    }
}

/// One ICC form as `0.912 [0.700, 0.980]`, or `undefined (reason)`.
pub fn icc_with_ci(block: &IccBlock, form: &str) -> String {
    match block.form(form) {
        Some(f) if f.icc.is_some_and(f64::is_finite) => {
            format!("{} {}", coef(f.icc.unwrap_or_default()), ci(f.ci95, coef))
        }
        _ => format!("undefined ({})", icc_reason(block)),
    }
}

/// Why the within-site CoV (or wSD/RC) is undefined, given the number of repeated cells.
pub fn within_reason(n_cells_with_repeats: usize) -> &'static str {
    if n_cells_with_repeats == 0 {
        "no repeated sessions"
    } else {
        "zero mean"
    }
}

/// Why the between-site CoV is undefined, given the number of units seen at 2+ sites.
pub fn between_reason(n_units_with_2plus_sites: usize) -> &'static str {
    if n_units_with_2plus_sites == 0 {
        "no subject measured at 2 or more sites"
    } else {
        "zero mean"
    }
}

/// The within-site, between-site and total CoV of a block as percentages, each
/// `undefined (reason)` when not defined.
pub fn cov_texts(v: &Variability) -> [String; 3] {
    [
        opt_pct(v.cov_within_pct, within_reason(v.n_cells_with_repeats)),
        opt_pct(
            v.cov_between_pct,
            between_reason(v.n_units_with_2plus_sites),
        ),
        opt_pct(v.cov_total_pct, "zero mean"),
    ]
}

/// `n thing(s)`.
pub fn plural(n: usize, thing: &str) -> String {
    if n == 1 {
        format!("1 {thing}")
    } else {
        format!("{n} {thing}s")
    }
}

/// A formatted value followed by the display form of `unit` (none for an undefined value).
pub fn with_unit(value: String, unit: &str) -> String {
    let u = unit_label(unit);
    if u.is_empty() || value.starts_with("undefined") {
        value
    } else {
        format!("{value} {u}")
    }
}

/// Display form of a unit label: empty for none or the dimensionless `1`.
pub fn unit_label(unit: &str) -> &str {
    match unit.trim() {
        "1" => "",
        u => u,
    }
}

/// The unit label in parentheses after a space (` (ms)`), for axis titles; empty without one.
pub fn unit_suffix(unit: &str) -> String {
    match unit_label(unit) {
        "" => String::new(),
        u => format!(" ({u})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn koo_li_bands_and_ci_spans() {
        assert_eq!(KooLiBand::of(0.49), KooLiBand::Poor);
        assert_eq!(KooLiBand::of(0.5), KooLiBand::Moderate);
        assert_eq!(KooLiBand::of(0.75), KooLiBand::Good);
        assert_eq!(KooLiBand::of(0.9), KooLiBand::Good);
        assert_eq!(KooLiBand::of(0.91), KooLiBand::Excellent);
        assert_eq!(
            koo_li(Some(0.8), [Some(0.6), Some(0.95)]).unwrap(),
            "moderate to excellent"
        );
        assert_eq!(
            koo_li(Some(0.95), [Some(0.92), Some(0.99)]).unwrap(),
            "excellent"
        );
        assert_eq!(
            koo_li(Some(0.8), [None, None]).unwrap(),
            "good (point estimate; CI undefined)"
        );
        assert_eq!(koo_li(None, [None, None]), None);
        assert_eq!(koo_li(Some(-0.1), [Some(-0.6), Some(0.4)]).unwrap(), "poor");
    }

    #[test]
    fn numbers_never_print_nan() {
        assert_eq!(num(f64::NAN), "undefined (not finite)");
        assert_eq!(num(1916.6), "1916.6");
        assert_eq!(num(707.83), "707.8");
        assert_eq!(num(0.0045123), "0.004512");
        assert_eq!(num(-12.345), "-12.35");
        assert_eq!(
            opt(None, "no repeated sessions"),
            "undefined (no repeated sessions)"
        );
        assert_eq!(opt(Some(f64::INFINITY), "x"), "undefined (x)");
        assert_eq!(pval(0.0001), "< 0.001");
        assert_eq!(ci([Some(0.1), None], coef), "CI undefined");
    }

    #[test]
    fn reasons_read_well() {
        assert_eq!(
            reason_text("fewer_than_2_complete_targets", "site", "subject+roi"),
            "fewer than 2 subject × ROI units measured at all sites"
        );
        assert_eq!(
            reason_text("fewer_than_2_raters", "session", "subject"),
            "fewer than 2 sessions"
        );
    }
}
