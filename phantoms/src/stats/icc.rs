//! Intraclass correlation: the two-way ANOVA of an n targets × k raters table and the six
//! Shrout–Fleiss / McGraw–Wong forms with F tests and 95 % confidence intervals, computed
//! exactly as pingouin 0.7 does (without its two-decimal rounding of the CIs), plus the
//! degenerate cases (zero total variance → undefined; zero error → ICC 1 with CI [1, 1]).

use serde::{Deserialize, Serialize};

use super::dist;
use super::reml::RemlFit;

/// Why an ICC block has no (or only limiting) estimates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IccStatus {
    /// Estimated normally.
    Ok,
    /// Not defined (see the reason).
    Undefined,
    /// A limiting case (zero error variance): ICC = 1 with CI [1, 1].
    Degenerate,
}

/// The two-way ANOVA table behind the ICCs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Anova {
    /// Targets used (rows).
    pub n: usize,
    /// Raters (columns).
    pub k: usize,
    /// Between-target sum of squares, k Σ (R_i − M)².
    pub ss_rows: f64,
    /// Between-rater sum of squares, n Σ (C_j − M)².
    pub ss_cols: f64,
    /// Residual sum of squares, SS_total − SS_rows − SS_cols.
    pub ss_error: f64,
    /// Total sum of squares, Σ (x_ij − M)².
    pub ss_total: f64,
    /// SS_rows / (n − 1).
    pub ms_rows: f64,
    /// SS_cols / (k − 1).
    pub ms_cols: f64,
    /// SS_error / ((n − 1)(k − 1)).
    pub ms_error: f64,
    /// (SS_cols + SS_error) / (n (k − 1)).
    pub ms_within: f64,
}

/// One ICC form with its F test and CI.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IccForm {
    /// Shrout–Fleiss name, e.g. `ICC(2,1)`.
    pub form: String,
    /// McGraw–Wong name as pingouin 0.7 prints it, e.g. `ICC(A,1)`.
    pub mcgraw_wong: String,
    /// The estimate (null when undefined).
    pub icc: Option<f64>,
    /// F statistic (null when undefined or infinite).
    pub f: Option<f64>,
    /// Numerator degrees of freedom.
    pub df1: usize,
    /// Denominator degrees of freedom.
    pub df2: usize,
    /// Upper-tail p-value of the F test of ICC = 0.
    pub pval: Option<f64>,
    /// 95 % confidence interval [lower, upper].
    pub ci95: [Option<f64>; 2],
    /// Set when F is infinite (zero error variance): `f` is then null and p = 0.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub f_infinite: bool,
}

impl IccForm {
    /// The Shrout–Fleiss form index (1, 2 or 3) and whether it is the average-measure form.
    pub fn kind(&self) -> (u8, bool) {
        let b = self.form.as_bytes();
        (b.get(4).map_or(0, |c| c - b'0'), self.form.ends_with("k)"))
    }
}

/// Estimates present when the ANOVA could be computed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IccEstimates {
    /// The ANOVA table.
    pub anova: Anova,
    /// The six forms, in the order ICC(1,1), ICC(2,1), ICC(3,1), ICC(1,k), ICC(2,k), ICC(3,k).
    pub forms: Vec<IccForm>,
    /// Standard error of measurement, sqrt(MS_E).
    pub sem: f64,
    /// Minimal detectable change, 1.96 √2 SEM.
    pub mdc95: f64,
}

/// An ICC analysis: design, status and, when defined, the estimates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IccBlock {
    /// What the targets (rows) are: `subject` or `subject+roi`.
    pub targets: String,
    /// What the raters (columns) are: `site` or `session`.
    pub raters: String,
    /// Targets with at least one value.
    pub n_targets_total: usize,
    /// Targets with every rater present (listwise deletion).
    pub n_targets_used: usize,
    /// Number of raters.
    pub k_raters: usize,
    /// Targets dropped for a missing cell, sorted.
    pub dropped_targets: Vec<String>,
    /// Whether estimates exist.
    pub status: IccStatus,
    /// Why not `ok`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// ANOVA, forms, SEM and MDC (absent when too few targets or raters).
    #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
    pub estimates: Option<IccEstimates>,
    /// Crossed random-effects REML fit on all cells; only when targets were dropped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reml_all_cells: Option<RemlFit>,
}

impl IccBlock {
    /// The form named `form` (`ICC(2,1)`…), if estimated.
    pub fn form(&self, form: &str) -> Option<&IccForm> {
        self.estimates
            .as_ref()?
            .forms
            .iter()
            .find(|f| f.form == form)
    }
}

/// A target × rater table with possibly missing cells, ready for [`icc_block`].
#[derive(Debug, Clone)]
pub struct RatingTable {
    /// Target names (rows).
    pub targets: Vec<String>,
    /// Number of raters (columns).
    pub k: usize,
    /// Row-major `targets.len() × k` cell values; `None` = missing.
    pub cells: Vec<Option<f64>>,
}

const NAMES: [(&str, &str); 6] = [
    ("ICC(1,1)", "ICC(1,1)"),
    ("ICC(2,1)", "ICC(A,1)"),
    ("ICC(3,1)", "ICC(C,1)"),
    ("ICC(1,k)", "ICC(1,k)"),
    ("ICC(2,k)", "ICC(A,k)"),
    ("ICC(3,k)", "ICC(C,k)"),
];

/// 1.96 √2: the factor from an SD to a 95 % repeatability coefficient / MDC.
pub fn rc_factor() -> f64 {
    1.96 * std::f64::consts::SQRT_2
}

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// Computes the ICC block of a rating table: listwise deletion, ANOVA, six forms, statuses.
pub fn icc_block(table: &RatingTable, targets: &str, raters: &str) -> IccBlock {
    let k = table.k;
    let mut used = Vec::new();
    let mut dropped = Vec::new();
    let mut n_total = 0;
    for (i, name) in table.targets.iter().enumerate() {
        let row = &table.cells[i * k..(i + 1) * k];
        if row.iter().all(Option::is_none) {
            continue;
        }
        n_total += 1;
        if row.iter().all(Option::is_some) {
            used.push(i);
        } else {
            dropped.push(name.clone());
        }
    }
    dropped.sort();
    let mut block = IccBlock {
        targets: targets.into(),
        raters: raters.into(),
        n_targets_total: n_total,
        n_targets_used: used.len(),
        k_raters: k,
        dropped_targets: dropped,
        status: IccStatus::Ok,
        reason: None,
        estimates: None,
        reml_all_cells: None,
    };
    if !block.dropped_targets.is_empty() {
        block.reml_all_cells = super::reml::fit_crossed(table);
    }
    let undefined = |b: &mut IccBlock, reason: &str| {
        b.status = IccStatus::Undefined;
        b.reason = Some(reason.into());
    };
    if k < 2 {
        undefined(&mut block, "fewer_than_2_raters");
        return block;
    }
    if used.len() < 2 {
        undefined(&mut block, "fewer_than_2_complete_targets");
        return block;
    }
    let rows: Vec<&[Option<f64>]> = used
        .iter()
        .map(|&i| &table.cells[i * k..(i + 1) * k])
        .collect();
    let x = |i: usize, j: usize| rows[i][j].unwrap_or(f64::NAN);
    let n = rows.len();
    let (nf, kf) = (n as f64, k as f64);
    let first = x(0, 0);
    let all_equal = (0..n).all(|i| (0..k).all(|j| x(i, j) == first));
    let rows_constant = (0..n).all(|i| (0..k).all(|j| x(i, j) == x(i, 0)));

    let grand = (0..n)
        .flat_map(|i| (0..k).map(move |j| (i, j)))
        .map(|(i, j)| x(i, j))
        .sum::<f64>()
        / (nf * kf);
    let row_means: Vec<f64> = (0..n)
        .map(|i| (0..k).map(|j| x(i, j)).sum::<f64>() / kf)
        .collect();
    let col_means: Vec<f64> = (0..k)
        .map(|j| (0..n).map(|i| x(i, j)).sum::<f64>() / nf)
        .collect();
    let mut ss_total = 0.0;
    for i in 0..n {
        for j in 0..k {
            ss_total += (x(i, j) - grand).powi(2);
        }
    }
    let mut ss_rows = kf * row_means.iter().map(|r| (r - grand).powi(2)).sum::<f64>();
    let mut ss_cols = nf * col_means.iter().map(|c| (c - grand).powi(2)).sum::<f64>();
    let mut ss_error = ss_total - ss_rows - ss_cols;
    if all_equal {
        // Every value identical: all sums of squares are exactly zero (rounding aside).
        (ss_total, ss_rows, ss_cols, ss_error) = (0.0, 0.0, 0.0, 0.0);
    } else if rows_constant {
        // Every target rated identically by all raters: no within-target variation at all.
        (ss_rows, ss_cols, ss_error) = (ss_total, 0.0, 0.0);
    }
    let df_r = n - 1;
    let df_c = k - 1;
    let df_e = (n - 1) * (k - 1);
    let df_w = n * (k - 1);
    let ms_r = ss_rows / df_r as f64;
    let ms_c = ss_cols / df_c as f64;
    let ms_e = ss_error / df_e as f64;
    let ms_w = (ss_cols + ss_error) / df_w as f64;
    let anova = Anova {
        n,
        k,
        ss_rows,
        ss_cols,
        ss_error,
        ss_total,
        ms_rows: ms_r,
        ms_cols: ms_c,
        ms_error: ms_e,
        ms_within: ms_w,
    };
    let sem = ms_e.max(0.0).sqrt();
    let mdc95 = rc_factor() * sem;

    // The limiting cases: every form gets the same value (none, or 1 with CI [1, 1]).
    let limit =
        |icc: Option<f64>, pval: Option<f64>, ci: Option<f64>, f_infinite: bool| -> Vec<IccForm> {
            NAMES
                .iter()
                .enumerate()
                .map(|(idx, (form, mw))| IccForm {
                    form: (*form).into(),
                    mcgraw_wong: (*mw).into(),
                    icc,
                    f: None,
                    df1: df_r,
                    df2: if idx % 3 == 0 { df_w } else { df_e },
                    pval,
                    ci95: [ci, ci],
                    f_infinite,
                })
                .collect()
        };
    let forms = if all_equal {
        block.status = IccStatus::Undefined;
        block.reason = Some("zero_total_variance".into());
        limit(None, None, None, false)
    } else if rows_constant {
        block.status = IccStatus::Degenerate;
        block.reason = Some("zero_error_variance".into());
        limit(Some(1.0), Some(0.0), Some(1.0), true)
    } else {
        six_forms(&anova)
    };
    block.estimates = Some(IccEstimates {
        anova,
        forms,
        sem,
        mdc95,
    });
    block
}

/// The six forms from a (non-degenerate) ANOVA, with pingouin 0.7's F tests and CIs.
fn six_forms(a: &Anova) -> Vec<IccForm> {
    let (n, k) = (a.n as f64, a.k as f64);
    let (msr, msc, mse, msw) = (a.ms_rows, a.ms_cols, a.ms_error, a.ms_within);
    let df_r = a.n - 1;
    let df_e = (a.n - 1) * (a.k - 1);
    let df_w = a.n * (a.k - 1);
    let q = 1.0 - 0.05 / 2.0;

    let icc1 = (msr - msw) / (msr + (k - 1.0) * msw);
    let icc2 = (msr - mse) / (msr + (k - 1.0) * mse + k * (msc - mse) / n);
    let icc3 = (msr - mse) / (msr + (k - 1.0) * mse);
    let icc1k = (msr - msw) / msr;
    let icc2k = (msr - mse) / (msr + (msc - mse) / n);
    let icc3k = (msr - mse) / msr;

    let f1 = msr / msw;
    let f3 = msr / mse;
    let p1 = dist::f_sf(f1, df_r as f64, df_w as f64);
    let p3 = dist::f_sf(f3, df_r as f64, df_e as f64);

    // One-way and consistency CIs from the F ratio.
    let f_bounds = |f: f64, d2: usize| -> (f64, f64) {
        let fl = f / dist::f_quantile(q, df_r as f64, d2 as f64);
        let fu = f * dist::f_quantile(q, d2 as f64, df_r as f64);
        (fl, fu)
    };
    let (fl1, fu1) = f_bounds(f1, df_w);
    let (fl3, fu3) = f_bounds(f3, df_e);
    let single = |fl: f64, fu: f64| [(fl - 1.0) / (fl + k - 1.0), (fu - 1.0) / (fu + k - 1.0)];
    let average = |fl: f64, fu: f64| [1.0 - 1.0 / fl, 1.0 - 1.0 / fu];

    // Absolute agreement (McGraw & Wong 1996, case 2A) with Satterthwaite's non-integer df.
    let rho = icc2;
    let fj = msc / mse;
    let num = k * rho * fj + n * (1.0 + (k - 1.0) * rho) - k * rho;
    let den =
        (n - 1.0) * k * k * rho * rho * fj * fj + (n * (1.0 + (k - 1.0) * rho) - k * rho).powi(2);
    let v = (k - 1.0) * (n - 1.0) * num * num / den;
    let (lo2, hi2) = if v.is_finite() && v > 0.0 {
        let f_star = dist::f_quantile(q, n - 1.0, v);
        let f_2star = dist::f_quantile(q, v, n - 1.0);
        let c = k * msc + (k * n - k - n) * mse;
        let lo = n * (msr - f_star * mse) / (f_star * c + n * msr);
        let hi = n * (f_2star * msr - mse) / (c + n * f_2star * msr);
        (lo, hi)
    } else {
        (f64::NAN, f64::NAN)
    };
    let step_up = |r: f64| k * r / (1.0 + (k - 1.0) * r);

    let entries: [(f64, f64, f64, usize, [f64; 2]); 6] = [
        (icc1, f1, p1, df_w, single(fl1, fu1)),
        (icc2, f3, p3, df_e, [lo2, hi2]),
        (icc3, f3, p3, df_e, single(fl3, fu3)),
        (icc1k, f1, p1, df_w, average(fl1, fu1)),
        (icc2k, f3, p3, df_e, [step_up(lo2), step_up(hi2)]),
        (icc3k, f3, p3, df_e, average(fl3, fu3)),
    ];
    NAMES
        .iter()
        .zip(entries)
        .map(|((form, mw), (icc, f, p, df2, ci))| {
            let f_infinite = f.is_infinite() && f > 0.0;
            IccForm {
                form: (*form).into(),
                mcgraw_wong: (*mw).into(),
                icc: finite(icc),
                f: finite(f),
                df1: df_r,
                df2,
                pval: if f_infinite { Some(0.0) } else { finite(p) },
                ci95: [finite(ci[0]), finite(ci[1])],
                f_infinite,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(rows: &[&[f64]]) -> RatingTable {
        RatingTable {
            targets: (0..rows.len()).map(|i| format!("t{i}")).collect(),
            k: rows[0].len(),
            cells: rows
                .iter()
                .flat_map(|r| r.iter().map(|&v| Some(v)))
                .collect(),
        }
    }

    /// Shrout & Fleiss (1979), Table 2 data; Table 4 gives the two-decimal ICCs.
    #[test]
    fn shrout_fleiss_textbook_values() {
        let t = table(&[
            &[9.0, 2.0, 5.0, 8.0],
            &[6.0, 1.0, 3.0, 2.0],
            &[8.0, 4.0, 6.0, 8.0],
            &[7.0, 1.0, 2.0, 6.0],
            &[10.0, 5.0, 6.0, 9.0],
            &[6.0, 2.0, 4.0, 7.0],
        ]);
        let b = icc_block(&t, "subject", "site");
        let got: Vec<f64> = b
            .estimates
            .unwrap()
            .forms
            .iter()
            .map(|f| (f.icc.unwrap() * 100.0).round() / 100.0)
            .collect();
        assert_eq!(got, vec![0.17, 0.29, 0.71, 0.44, 0.62, 0.91]);
    }

    #[test]
    fn statuses() {
        let flat = icc_block(&table(&[&[1.0, 1.0], &[1.0, 1.0]]), "subject", "site");
        assert_eq!(
            (flat.status, flat.reason.as_deref()),
            (IccStatus::Undefined, Some("zero_total_variance"))
        );
        let perfect = icc_block(
            &table(&[&[1.0, 1.0], &[2.0, 2.0], &[4.0, 4.0]]),
            "subject",
            "site",
        );
        assert_eq!(perfect.status, IccStatus::Degenerate);
        assert!(
            perfect
                .estimates
                .unwrap()
                .forms
                .iter()
                .all(|f| f.icc == Some(1.0) && f.ci95 == [Some(1.0), Some(1.0)])
        );
        let one = icc_block(&table(&[&[1.0], &[2.0]]), "subject", "site");
        assert_eq!(one.reason.as_deref(), Some("fewer_than_2_raters"));
        let mut holes = table(&[&[1.0, 2.0], &[2.0, 3.0], &[5.0, 4.0]]);
        holes.cells[1] = None;
        holes.cells[2] = None;
        let h = icc_block(&holes, "subject", "site");
        assert_eq!(
            (h.reason.as_deref(), h.dropped_targets.clone()),
            (
                Some("fewer_than_2_complete_targets"),
                vec!["t0".to_string(), "t1".to_string()]
            )
        );
    }
}
