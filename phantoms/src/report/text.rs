//! The human-readable summary `accord analyze` prints without `--json`: design, then per ROI
//! the CoVs, wSD/RC, the headline ICC(A,1) with its CI next to ICC(C,1) and the Koo & Li band
//! of the CI, Bland–Altman bias and limits per site pair, then the pooled block and the
//! deviations from the reference values when present.

use std::fmt::Write;

use crate::stats::analysis::Variability;
use crate::stats::{Analysis, BaPair, IccBlock};

use super::Units;
use super::interpret::{
    ba_percent_reason, ba_reason, ci, coef, cov_texts, icc_with_ci, koo_li_form, num, opt, opt_pct,
    plural, pval, with_unit, within_reason,
};

/// A percentage with two decimals, or `undefined (not finite)`.
fn pct2(x: f64) -> String {
    opt_pct(Some(x), "not finite")
}

fn cov_line(out: &mut String, v: &Variability) {
    let [within, between, total] = cov_texts(v);
    let _ = writeln!(
        out,
        "  CoV within-site {within}, between-site {between}, total {total}"
    );
}

fn icc_line(out: &mut String, indent: &str, block: &IccBlock) {
    let a = icc_with_ci(block, "ICC(2,1)");
    let c = icc_with_ci(block, "ICC(3,1)");
    if a.starts_with("undefined") && c.starts_with("undefined") {
        let _ = writeln!(out, "{indent}ICC between {}s: {a}", block.raters);
        return;
    }
    let band = block
        .form("ICC(2,1)")
        .and_then(koo_li_form)
        .map(|b| format!("; Koo & Li: {b}"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "{indent}ICC(A,1) {a}   next to ICC(C,1) {c}{band}   ({} of {} {} at {} {}s)",
        block.n_targets_used,
        block.n_targets_total,
        if block.targets == "subject" {
            "subjects"
        } else {
            "units"
        },
        block.k_raters,
        block.raters
    );
    if !block.dropped_targets.is_empty() {
        let _ = write!(
            out,
            "{indent}  dropped for a missing {} (listwise deletion): {}",
            block.raters,
            block.dropped_targets.join(", ")
        );
        if let Some(r) = &block.reml_all_cells {
            let _ = write!(
                out,
                "; REML on all cells: ICC(A,1) {}, ICC(C,1) {}",
                coef(r.icc_a1),
                coef(r.icc_c1)
            );
        }
        out.push('\n');
    }
}

fn ba_lines(out: &mut String, indent: &str, pairs: &[BaPair], unit: &str) {
    if pairs.is_empty() {
        let _ = writeln!(out, "{indent}Bland-Altman: undefined (fewer than 2 sites)");
        return;
    }
    let _ = writeln!(
        out,
        "{indent}Bland-Altman (cell means, site_a - site_b): bias [95% CI], limits of agreement"
    );
    for p in pairs {
        let abs = &p.absolute;
        let pct = &p.percent;
        let head = format!("{indent}  {} - {} (n {}):", p.site_a, p.site_b, abs.n);
        let a = match &abs.spread {
            Some(s) => format!(
                "bias {} {}, LoA {} to {}",
                with_unit(opt(abs.bias, "not finite"), unit),
                ci(s.bias_ci95, num),
                num(s.loa_lower),
                num(s.loa_upper)
            ),
            None => format!("undefined ({})", ba_reason(abs)),
        };
        let b = match &pct.spread {
            Some(s) => format!(
                "bias {} {}, LoA {} to {}{}",
                opt_pct(pct.bias, "not finite"),
                ci(s.bias_ci95, |v| format!("{v:.2}")),
                pct2(s.loa_lower),
                pct2(s.loa_upper),
                s.pval_bias
                    .map(|p| format!(", p {}", pval(p)))
                    .unwrap_or_default()
            ),
            None => format!("undefined ({})", ba_percent_reason(p)),
        };
        let _ = writeln!(out, "{head} {a} | percent: {b}");
    }
}

/// The human summary of an analysis (`units`: unit label per ROI, see [`super::roi_units`]).
pub fn summary(analysis: &Analysis, units: &Units) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "table: {}", analysis.table);
    let Some(results) = &analysis.results else {
        let _ = writeln!(
            out,
            "invalid table: {} error(s), no statistics",
            analysis.validation.errors.len()
        );
        for e in &analysis.validation.errors {
            let _ = writeln!(out, "  {e}");
        }
        return out;
    };
    let d = &results.design;
    let sessions = match (d.sessions.first(), d.sessions.last()) {
        (Some(a), Some(b)) if a != b => format!("sessions {a}-{b}"),
        (Some(a), _) => format!("session {a}"),
        _ => "no sessions".into(),
    };
    let _ = writeln!(
        out,
        "design: {} x {} x {sessions} x {}; {} rows, {} values, {} missing",
        plural(d.subjects.len(), "subject"),
        plural(d.sites.len(), "site"),
        plural(d.rois.len(), "ROI"),
        d.n_rows,
        d.n_values,
        d.n_missing_values
    );
    let _ = writeln!(out, "sites: {}", d.sites.join(", "));
    for r in &results.per_roi {
        let unit = units.get(&r.roi).map(String::as_str).unwrap_or("");
        let v = &r.variability;
        let _ = writeln!(
            out,
            "\nROI {} ({}, {}, {} values, mean {})",
            r.roi,
            plural(r.n_subjects, "subject"),
            plural(r.n_sites, "site"),
            r.n_values,
            with_unit(num(r.grand_mean), unit)
        );
        cov_line(&mut out, v);
        if r.wsd.is_some_and(f64::is_finite) {
            let _ = writeln!(
                out,
                "  wSD {} (df {}), RC {}",
                with_unit(opt(r.wsd, "not finite"), unit),
                r.wsd_df,
                with_unit(opt(r.rc, "not finite"), unit)
            );
        } else {
            let _ = writeln!(
                out,
                "  wSD and RC: undefined ({})",
                within_reason(v.n_cells_with_repeats)
            );
        }
        icc_line(&mut out, "  ", &r.icc_between_sites);
        if !r.icc_test_retest_by_site.is_empty() {
            let parts: Vec<String> = r
                .icc_test_retest_by_site
                .iter()
                .map(|(site, b)| format!("{site} {}", icc_with_ci(b, "ICC(2,1)")))
                .collect();
            let texts: Vec<String> = r
                .icc_test_retest_by_site
                .values()
                .map(|b| icc_with_ci(b, "ICC(2,1)"))
                .collect();
            if texts[0].starts_with("undefined") && texts.iter().all(|t| *t == texts[0]) {
                let _ = writeln!(out, "  test-retest ICC by site: {} at every site", texts[0]);
            } else {
                let _ = writeln!(out, "  test-retest ICC(A,1) by site: {}", parts.join("; "));
            }
        }
        if r.bland_altman.iter().all(|p| p.absolute.spread.is_none()) && !r.bland_altman.is_empty()
        {
            let _ = writeln!(
                out,
                "  Bland-Altman: undefined for every site pair ({})",
                ba_reason(&r.bland_altman[0].absolute)
            );
        } else {
            ba_lines(&mut out, "  ", &r.bland_altman, unit);
        }
    }
    if let Some(p) = &results.pooled_subject_x_roi {
        let _ = writeln!(
            out,
            "\nPooled over ROIs (subject x ROI units, unit {}):",
            p.unit
        );
        cov_line(&mut out, &p.variability);
        icc_line(&mut out, "  ", &p.icc_between_sites);
        let _ = writeln!(
            out,
            "  note: ROIs spanning a wide range inflate a pooled ICC; read the percent Bland-Altman, the CoVs and the deviations from reference"
        );
        ba_lines(&mut out, "  ", &p.bland_altman, &p.unit);
    }
    if let Some(rc) = &results.reference_comparison {
        let _ = writeln!(
            out,
            "\nDeviation from reference (site mean over subjects vs ref_value):"
        );
        for (site, s) in &rc.per_site_summary {
            let _ = writeln!(
                out,
                "  {site}: mean {}, mean |dev| {}, RMS {}, max |dev| {} over {} ROIs",
                pct2(s.mean_deviation_pct),
                pct2(s.mean_abs_deviation_pct),
                pct2(s.rms_deviation_pct),
                pct2(s.max_abs_deviation_pct),
                s.n_rois
            );
        }
    }
    out
}
