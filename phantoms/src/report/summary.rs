//! The headline numbers, one row per ROI plus the pooled block: shared by the HTML report's
//! headline table and `summary.csv` (full precision, empty cells for undefined values).

use crate::stats::analysis::Variability;
use crate::stats::icc::IccStatus;
use crate::stats::{Analysis, BaPair, IccBlock, Results};
use crate::{Error, Result};

use super::interpret::koo_li_form;

/// The headline numbers of one ROI or of the pooled block.
#[derive(Debug, Clone, PartialEq)]
pub struct HeadlineRow {
    /// ROI name, or `pooled` for the pooled block.
    pub roi: String,
    /// `roi` or `pooled` (subject × ROI units).
    pub scope: &'static str,
    /// Subjects with a value.
    pub n_subjects: usize,
    /// Sites with a value.
    pub n_sites: usize,
    /// Within-site (repeatability) CoV, percent.
    pub cov_within_pct: Option<f64>,
    /// Between-site (reproducibility) CoV, percent.
    pub cov_between_pct: Option<f64>,
    /// Total CoV, percent.
    pub cov_total_pct: Option<f64>,
    /// Within-subject SD (per ROI only).
    pub wsd: Option<f64>,
    /// Repeatability coefficient (per ROI only).
    pub rc: Option<f64>,
    /// ICC(A,1) = ICC(2,1) between sites.
    pub icc_a1: Option<f64>,
    /// Its 95 % CI.
    pub icc_a1_ci: [Option<f64>; 2],
    /// ICC(C,1) = ICC(3,1) between sites.
    pub icc_c1: Option<f64>,
    /// Its 95 % CI.
    pub icc_c1_ci: [Option<f64>; 2],
    /// Targets the ICC used (after listwise deletion).
    pub icc_n_targets_used: usize,
    /// `ok`, `undefined` or `degenerate`.
    pub icc_status: &'static str,
    /// The statistics' reason code when not `ok` (empty otherwise).
    pub icc_reason: String,
    /// Largest absolute percent Bland–Altman bias over the site pairs with 2+ paired units.
    pub ba_max_abs_bias_pct: Option<f64>,
    /// Largest absolute deviation from the reference value over the sites (per ROI only).
    pub ref_max_abs_deviation_pct: Option<f64>,
    /// Koo & Li band of the ICC(A,1) CI (e.g. `moderate to excellent`).
    pub koo_li_band: Option<String>,
}

/// The column names of `summary.csv`, in order.
pub const SUMMARY_COLUMNS: [&str; 21] = [
    "roi",
    "scope",
    "n_subjects",
    "n_sites",
    "cov_within_pct",
    "cov_between_pct",
    "cov_total_pct",
    "wsd",
    "rc",
    "icc_a1",
    "icc_a1_ci_lower",
    "icc_a1_ci_upper",
    "icc_c1",
    "icc_c1_ci_lower",
    "icc_c1_ci_upper",
    "icc_n_targets_used",
    "icc_status",
    "icc_reason",
    "ba_max_abs_bias_pct",
    "ref_max_abs_deviation_pct",
    "koo_li_band",
];

fn status_name(s: IccStatus) -> &'static str {
    match s {
        IccStatus::Ok => "ok",
        IccStatus::Undefined => "undefined",
        IccStatus::Degenerate => "degenerate",
    }
}

fn finite(x: Option<f64>) -> Option<f64> {
    x.filter(|v| v.is_finite())
}

fn max_abs(values: impl Iterator<Item = f64>) -> Option<f64> {
    values
        .filter(|v| v.is_finite())
        .map(f64::abs)
        .fold(None, |m, v| Some(m.map_or(v, |m: f64| m.max(v))))
}

/// ICC(A,1) with its CI, then ICC(C,1) with its CI.
type IccFields = (Option<f64>, [Option<f64>; 2], Option<f64>, [Option<f64>; 2]);

fn icc_fields(block: &IccBlock) -> IccFields {
    let get = |name: &str| {
        block.form(name).map_or((None, [None, None]), |f| {
            (finite(f.icc), [finite(f.ci95[0]), finite(f.ci95[1])])
        })
    };
    let (a, a_ci) = get("ICC(2,1)");
    let (c, c_ci) = get("ICC(3,1)");
    (a, a_ci, c, c_ci)
}

fn ba_max_bias(pairs: &[BaPair]) -> Option<f64> {
    max_abs(
        pairs
            .iter()
            .filter(|p| p.percent.spread.is_some())
            .filter_map(|p| p.percent.bias),
    )
}

/// The fields a per-ROI row and the pooled row compute alike, from the block's variability,
/// between-site ICCs and Bland–Altman pairs; `wsd`, `rc` and the reference deviation empty.
fn block_row(
    roi: String,
    scope: &'static str,
    n_subjects: usize,
    n_sites: usize,
    v: &Variability,
    b: &IccBlock,
    bland_altman: &[BaPair],
) -> HeadlineRow {
    let (icc_a1, icc_a1_ci, icc_c1, icc_c1_ci) = icc_fields(b);
    HeadlineRow {
        roi,
        scope,
        n_subjects,
        n_sites,
        cov_within_pct: finite(v.cov_within_pct),
        cov_between_pct: finite(v.cov_between_pct),
        cov_total_pct: finite(v.cov_total_pct),
        wsd: None,
        rc: None,
        icc_a1,
        icc_a1_ci,
        icc_c1,
        icc_c1_ci,
        icc_n_targets_used: b.n_targets_used,
        icc_status: status_name(b.status),
        icc_reason: b.reason.clone().unwrap_or_default(),
        ba_max_abs_bias_pct: ba_max_bias(bland_altman),
        ref_max_abs_deviation_pct: None,
        koo_li_band: b.form("ICC(2,1)").and_then(koo_li_form),
    }
}

/// One row per ROI (in table order) and, when present, the pooled block last.
pub fn headline_rows(results: &Results) -> Vec<HeadlineRow> {
    let mut rows = Vec::new();
    for r in &results.per_roi {
        let ref_dev = results.reference_comparison.as_ref().and_then(|rc| {
            max_abs(
                rc.per_site_roi
                    .iter()
                    .filter(|d| d.roi == r.roi)
                    .filter_map(|d| d.deviation_pct),
            )
        });
        rows.push(HeadlineRow {
            wsd: finite(r.wsd),
            rc: finite(r.rc),
            ref_max_abs_deviation_pct: ref_dev,
            ..block_row(
                r.roi.clone(),
                "roi",
                r.n_subjects,
                r.n_sites,
                &r.variability,
                &r.icc_between_sites,
                &r.bland_altman,
            )
        });
    }
    if let Some(p) = &results.pooled_subject_x_roi {
        rows.push(block_row(
            "pooled".into(),
            "pooled",
            results.design.subjects.len(),
            results.design.sites.len(),
            &p.variability,
            &p.icc_between_sites,
            &p.bland_altman,
        ));
    }
    rows
}

fn cell(x: Option<f64>) -> String {
    match x {
        Some(v) if v.is_finite() => format!("{v}"),
        _ => String::new(),
    }
}

/// `summary.csv`: a header ([`SUMMARY_COLUMNS`]) and one row per [`HeadlineRow`]; numbers at
/// full precision, undefined values as empty cells (never `NaN`).
///
/// # Errors
/// [`Error::Invalid`] when the analysis has no results (an invalid table).
pub fn summary_csv(analysis: &Analysis) -> Result<Vec<u8>> {
    let results = analysis.results.as_ref().ok_or_else(|| Error::Invalid {
        what: analysis.table.clone(),
        message: "the table is invalid: no statistics to summarise".into(),
    })?;
    let mut w = csv::Writer::from_writer(Vec::new());
    let csv_err = |e: csv::Error| Error::Invalid {
        what: "summary.csv".into(),
        message: e.to_string(),
    };
    w.write_record(SUMMARY_COLUMNS).map_err(csv_err)?;
    for r in headline_rows(results) {
        let record = [
            r.roi.clone(),
            r.scope.to_string(),
            r.n_subjects.to_string(),
            r.n_sites.to_string(),
            cell(r.cov_within_pct),
            cell(r.cov_between_pct),
            cell(r.cov_total_pct),
            cell(r.wsd),
            cell(r.rc),
            cell(r.icc_a1),
            cell(r.icc_a1_ci[0]),
            cell(r.icc_a1_ci[1]),
            cell(r.icc_c1),
            cell(r.icc_c1_ci[0]),
            cell(r.icc_c1_ci[1]),
            r.icc_n_targets_used.to_string(),
            r.icc_status.to_string(),
            r.icc_reason.clone(),
            cell(r.ba_max_abs_bias_pct),
            cell(r.ref_max_abs_deviation_pct),
            r.koo_li_band.clone().unwrap_or_default(),
        ];
        w.write_record(&record).map_err(csv_err)?;
    }
    w.into_inner().map_err(|e| Error::Invalid {
        what: "summary.csv".into(),
        message: e.to_string(),
    })
}
