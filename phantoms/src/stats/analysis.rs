//! The full inter-scanner analysis of a validated table, in the reference schema's layout:
//! design summary, per-ROI variability (CoV within/between/total, wSD, RC, reproducibility),
//! ICC between sites and test–retest per site, Bland–Altman for every site pair, the pooled
//! subject × ROI block when units allow, and the comparison with reference values.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::bland_altman::{BaPair, site_pair};
use super::descriptive::{cv, mean, rms_cv_pct, sample_var};
use super::icc::{IccBlock, RatingTable, icc_block, rc_factor};
use super::table::{MeasurementTable, ParsedTable, ValidationError};

/// Fixed conventions, echoed in every output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conventions {
    /// Normal quantile used for LoA, RC and MDC.
    pub z: f64,
    /// 1.96 √2.
    pub rc_factor: f64,
    /// Significance level of CIs and tests.
    pub alpha: f64,
    /// CoVs are in percent.
    pub cov_unit: String,
    /// Sign convention of the Bland–Altman differences.
    pub ba_difference: String,
}

impl Default for Conventions {
    fn default() -> Self {
        Conventions {
            z: 1.96,
            rc_factor: rc_factor(),
            alpha: 0.05,
            cov_unit: "percent".into(),
            ba_difference: "site_a - site_b with site_a < site_b (byte-wise sort)".into(),
        }
    }
}

/// Validation outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Validation {
    /// No errors.
    pub valid: bool,
    /// Non-blank data rows.
    pub n_rows: usize,
    /// Every error, in file order.
    pub errors: Vec<ValidationError>,
}

/// What was measured, where, how often.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Design {
    /// Subjects, sorted byte-wise.
    pub subjects: Vec<String>,
    /// Sites, sorted byte-wise.
    pub sites: Vec<String>,
    /// Session indices, sorted.
    pub sessions: Vec<u32>,
    /// ROIs in order of first appearance.
    pub rois: Vec<String>,
    /// Unit labels, sorted (`[""]` without a unit column).
    pub units: Vec<String>,
    /// Data rows.
    pub n_rows: usize,
    /// Rows with a value.
    pub n_values: usize,
    /// Rows with an empty value.
    pub n_missing_values: usize,
}

/// ISO 5725-style variance components between and within sites.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reproducibility {
    /// Subjects that contributed (>= 2 sites and N − p >= 1).
    pub n_units: usize,
    /// Mean within-site (repeatability) variance.
    pub var_within: f64,
    /// Mean between-site variance component, max(0, (MSB − MSW)/n0).
    pub var_site: f64,
    /// √(var_within + var_site).
    pub sd_reproducibility: f64,
    /// 1.96 √2 sd_reproducibility.
    pub rdc: f64,
}

/// CoVs and repeatability shared by the per-ROI and pooled blocks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Variability {
    /// Cells (unit × site) with >= 2 sessions.
    pub n_cells_with_repeats: usize,
    /// RMS within-cell CV, percent.
    pub cov_within_pct: Option<f64>,
    /// The same per site (sites with repeated cells only).
    pub cov_within_by_site_pct: BTreeMap<String, f64>,
    /// Units with >= 2 site cells.
    pub n_units_with_2plus_sites: usize,
    /// RMS between-site CV of cell means, percent.
    pub cov_between_pct: Option<f64>,
    /// RMS CV of all of a unit's values, percent.
    pub cov_total_pct: Option<f64>,
}

/// Everything computed for one ROI.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoiResult {
    /// ROI name.
    pub roi: String,
    /// Subjects with a value.
    pub n_subjects: usize,
    /// Sites with a value.
    pub n_sites: usize,
    /// Values.
    pub n_values: usize,
    /// Mean of all values.
    pub grand_mean: f64,
    /// CoVs.
    #[serde(flatten)]
    pub variability: Variability,
    /// Pooled within-cell SD.
    pub wsd: Option<f64>,
    /// Its degrees of freedom, Σ (n_c − 1).
    pub wsd_df: usize,
    /// Repeatability coefficient, 1.96 √2 wSD.
    pub rc: Option<f64>,
    /// Variance components (null when no subject qualifies).
    pub reproducibility: Option<Reproducibility>,
    /// ICC with subjects as targets and sites as raters (cell means).
    pub icc_between_sites: IccBlock,
    /// ICC with sessions as raters, per site with >= 2 sessions.
    pub icc_test_retest_by_site: BTreeMap<String, IccBlock>,
    /// Every site pair.
    pub bland_altman: Vec<BaPair>,
}

/// The subject × ROI pooled block (one unit over >= 2 ROIs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PooledResult {
    /// The common unit.
    pub unit: String,
    /// CoVs with subject × ROI as the unit.
    #[serde(flatten)]
    pub variability: Variability,
    /// ICC with subject × ROI targets.
    pub icc_between_sites: IccBlock,
    /// Every site pair over subject × ROI.
    pub bland_altman: Vec<BaPair>,
}

/// Mean of one site for one ROI against its reference value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteRoiDeviation {
    /// Site.
    pub site: String,
    /// ROI.
    pub roi: String,
    /// Mean over subjects of the subject's session mean.
    pub mean: f64,
    /// The reference value.
    pub ref_value: f64,
    /// 100 (mean − ref)/ref; null when the reference value is 0.
    pub deviation_pct: Option<f64>,
}

/// Per-site summary of the deviations over ROIs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteDeviationSummary {
    /// ROIs with a reference value.
    pub n_rois: usize,
    /// Mean deviation, percent.
    pub mean_deviation_pct: f64,
    /// Mean absolute deviation, percent.
    pub mean_abs_deviation_pct: f64,
    /// RMS deviation, percent.
    pub rms_deviation_pct: f64,
    /// Largest absolute deviation, percent.
    pub max_abs_deviation_pct: f64,
}

/// Comparison with `ref_value`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferenceComparison {
    /// Sites sorted, ROIs in order of appearance.
    pub per_site_roi: Vec<SiteRoiDeviation>,
    /// Per site.
    pub per_site_summary: BTreeMap<String, SiteDeviationSummary>,
}

/// All statistics of a valid table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Results {
    /// Design summary.
    pub design: Design,
    /// Per ROI, in order of appearance.
    pub per_roi: Vec<RoiResult>,
    /// Pooled block (only when the units allow).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pooled_subject_x_roi: Option<PooledResult>,
    /// Reference comparison (only with ref_value).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_comparison: Option<ReferenceComparison>,
}

/// The whole analysis document (`accord analyze --json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    /// Table name (file stem).
    pub table: String,
    /// Layout version, 1.
    pub schema_version: u32,
    /// Validation outcome.
    pub validation: Validation,
    /// Conventions.
    pub conventions: Conventions,
    /// True when the table was rejected (then there are no results).
    pub expect_error: bool,
    /// Statistics (absent for invalid tables).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub results: Option<Results>,
}

/// One observation reduced to (unit, site, session, value).
struct Obs<'a> {
    unit: std::borrow::Cow<'a, str>,
    site: &'a str,
    session: u32,
    value: f64,
}

/// The distinct strings of `items`, sorted byte-wise (hash first: far fewer comparisons).
fn sorted_unique<'s>(items: impl Iterator<Item = &'s str>) -> Vec<&'s str> {
    let set: std::collections::HashSet<&str> = items.collect();
    let mut v: Vec<&str> = set.into_iter().collect();
    v.sort_unstable();
    v
}

/// Observations grouped into cells (unit × site): dense `units × sites` storage, units and
/// sites sorted byte-wise, cell means computed once.
struct Cells<'a> {
    units: Vec<String>,
    sites: Vec<&'a str>,
    /// `units.len() × sites.len()`, row-major: the cell's (session, value) in file order.
    cells: Vec<Vec<(u32, f64)>>,
    /// Cell means (None for empty cells).
    means: Vec<Option<f64>>,
}

impl<'a> Cells<'a> {
    fn new(obs: &[Obs<'a>]) -> Self {
        let units: Vec<String> = sorted_unique(obs.iter().map(|o| o.unit.as_ref()))
            .into_iter()
            .map(String::from)
            .collect();
        let sites: Vec<&str> = sorted_unique(obs.iter().map(|o| o.site))
            .into_iter()
            .collect();
        let unit_index: HashMap<&str, usize> = units
            .iter()
            .enumerate()
            .map(|(i, u)| (u.as_str(), i))
            .collect();
        let site_index: HashMap<&str, usize> =
            sites.iter().enumerate().map(|(i, s)| (*s, i)).collect();
        let k = sites.len();
        let mut cells = vec![Vec::new(); units.len() * k];
        for o in obs {
            cells[unit_index[o.unit.as_ref()] * k + site_index[o.site]].push((o.session, o.value));
        }
        let means = cells
            .iter()
            .map(|c| (!c.is_empty()).then(|| mean(&Self::values(c))))
            .collect();
        Cells {
            units,
            sites,
            cells,
            means,
        }
    }

    fn values(cell: &[(u32, f64)]) -> Vec<f64> {
        cell.iter().map(|c| c.1).collect()
    }

    fn cell(&self, unit: usize, site: usize) -> &[(u32, f64)] {
        &self.cells[unit * self.sites.len() + site]
    }

    fn cell_mean(&self, unit: usize, site: usize) -> Option<f64> {
        self.means[unit * self.sites.len() + site]
    }

    fn variability(&self) -> Variability {
        let k = self.sites.len();
        let mut within = Vec::new();
        let mut by_site: Vec<Vec<f64>> = vec![Vec::new(); k];
        let mut n_rep = 0;
        for (idx, cell) in self.cells.iter().enumerate() {
            if cell.len() >= 2 {
                n_rep += 1;
                if let Some(c) = cv(&Self::values(cell)) {
                    within.push(c);
                    by_site[idx % k].push(c);
                }
            }
        }
        let mut between = Vec::new();
        let mut total = Vec::new();
        let mut n2 = 0;
        for u in 0..self.units.len() {
            let means: Vec<f64> = (0..k).filter_map(|j| self.cell_mean(u, j)).collect();
            if means.len() >= 2 {
                n2 += 1;
                if let Some(c) = cv(&means) {
                    between.push(c);
                }
            }
            let all: Vec<f64> = (0..k)
                .flat_map(|j| self.cell(u, j).iter().map(|c| c.1))
                .collect();
            if let Some(c) = cv(&all) {
                total.push(c);
            }
        }
        Variability {
            n_cells_with_repeats: n_rep,
            cov_within_pct: rms_cv_pct(&within),
            cov_within_by_site_pct: self
                .sites
                .iter()
                .zip(&by_site)
                .filter_map(|(s, v)| rms_cv_pct(v).map(|p| (s.to_string(), p)))
                .collect(),
            n_units_with_2plus_sites: n2,
            cov_between_pct: rms_cv_pct(&between),
            cov_total_pct: rms_cv_pct(&total),
        }
    }

    /// Pooled within-cell SD and its degrees of freedom.
    fn wsd(&self) -> (Option<f64>, usize) {
        let mut num = 0.0;
        let mut df = 0;
        for cell in &self.cells {
            if cell.len() >= 2 {
                let n = cell.len();
                num += (n - 1) as f64 * sample_var(&Self::values(cell));
                df += n - 1;
            }
        }
        ((df > 0).then(|| (num / df as f64).sqrt()), df)
    }

    fn reproducibility(&self) -> Option<Reproducibility> {
        let mut vw = Vec::new();
        let mut vs = Vec::new();
        for u in 0..self.units.len() {
            let groups: Vec<Vec<f64>> = (0..self.sites.len())
                .map(|j| self.cell(u, j))
                .filter(|c| !c.is_empty())
                .map(Self::values)
                .collect();
            let p = groups.len();
            let big_n: usize = groups.iter().map(Vec::len).sum();
            if p < 2 || big_n < p + 1 {
                continue;
            }
            let all: Vec<f64> = groups.iter().flatten().copied().collect();
            let gm = mean(&all);
            let msb = groups
                .iter()
                .map(|g| g.len() as f64 * (mean(g) - gm).powi(2))
                .sum::<f64>()
                / (p - 1) as f64;
            let msw = groups
                .iter()
                .map(|g| {
                    let m = mean(g);
                    g.iter().map(|v| (v - m).powi(2)).sum::<f64>()
                })
                .sum::<f64>()
                / (big_n - p) as f64;
            let nf = big_n as f64;
            let n0 = (nf - groups.iter().map(|g| (g.len() as f64).powi(2)).sum::<f64>() / nf)
                / (p - 1) as f64;
            vw.push(msw);
            vs.push(((msb - msw) / n0).max(0.0));
        }
        if vw.is_empty() {
            return None;
        }
        let var_within = mean(&vw);
        let var_site = mean(&vs);
        let sd = (var_within + var_site).sqrt();
        Some(Reproducibility {
            n_units: vw.len(),
            var_within,
            var_site,
            sd_reproducibility: sd,
            rdc: rc_factor() * sd,
        })
    }

    /// ICC with units as targets and sites as raters, on cell means.
    fn icc_between_sites(&self, targets: &str) -> IccBlock {
        let table = RatingTable {
            targets: self.units.clone(),
            k: self.sites.len(),
            cells: self.means.clone(),
        };
        icc_block(&table, targets, "site")
    }

    /// Test–retest ICC per site with >= 2 distinct sessions (sessions as raters).
    fn icc_test_retest(&self, targets: &str) -> BTreeMap<String, IccBlock> {
        let mut out = BTreeMap::new();
        for (j, site) in self.sites.iter().enumerate() {
            let sessions: Vec<u32> = (0..self.units.len())
                .flat_map(|u| self.cell(u, j).iter().map(|x| x.0))
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            if sessions.len() < 2 {
                continue;
            }
            let mut targets_here = Vec::new();
            let mut cells = Vec::new();
            for (u, unit) in self.units.iter().enumerate() {
                let c = self.cell(u, j);
                if !c.is_empty() {
                    targets_here.push(unit.clone());
                    cells.extend(
                        sessions
                            .iter()
                            .map(|s| c.iter().find(|x| x.0 == *s).map(|x| x.1)),
                    );
                }
            }
            let table = RatingTable {
                targets: targets_here,
                k: sessions.len(),
                cells,
            };
            out.insert(site.to_string(), icc_block(&table, targets, "session"));
        }
        out
    }

    /// Bland–Altman for every pair of sites over the units present at both.
    fn bland_altman(&self) -> Vec<BaPair> {
        let k = self.sites.len();
        let mut out = Vec::new();
        for a in 0..k {
            for b in a + 1..k {
                let pairs: Vec<(f64, f64)> = (0..self.units.len())
                    .filter_map(|u| Some((self.cell_mean(u, a)?, self.cell_mean(u, b)?)))
                    .collect();
                out.push(site_pair(self.sites[a], self.sites[b], pairs));
            }
        }
        out
    }
}

/// Builds the analysis document of a parsed table (`name` is the table's name, e.g. the file
/// stem). Invalid tables give `expect_error: true` and no results.
pub fn analyze(name: &str, parsed: &ParsedTable) -> Analysis {
    let validation = Validation {
        valid: parsed.is_valid(),
        n_rows: parsed.n_rows,
        errors: parsed.errors.clone(),
    };
    let results = parsed
        .is_valid()
        .then(|| results(&parsed.table, parsed.n_rows));
    Analysis {
        table: name.into(),
        schema_version: 1,
        validation,
        conventions: Conventions::default(),
        expect_error: !parsed.is_valid(),
        results,
    }
}

fn results(table: &MeasurementTable, n_rows: usize) -> Results {
    let present: Vec<_> = table.rows.iter().filter(|r| r.value.is_some()).collect();
    let mut rois: Vec<String> = Vec::new();
    let mut roi_index: HashMap<&str, usize> = HashMap::new();
    for r in &present {
        if !roi_index.contains_key(r.roi.as_str()) {
            roi_index.insert(&r.roi, rois.len());
            rois.push(r.roi.clone());
        }
    }
    let sorted = |f: &dyn Fn(&super::table::Measurement) -> &str| -> Vec<String> {
        sorted_unique(present.iter().map(|r| f(r)))
            .into_iter()
            .map(String::from)
            .collect()
    };
    let units = if table.has_unit_column {
        sorted(&|r| &r.unit)
    } else {
        vec![String::new()]
    };
    let design = Design {
        subjects: sorted(&|r| &r.subject),
        sites: sorted(&|r| &r.site),
        sessions: present
            .iter()
            .map(|r| r.session)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
        rois: rois.clone(),
        units: units.clone(),
        n_rows,
        n_values: present.len(),
        n_missing_values: table.rows.len() - present.len(),
    };

    let mut by_roi: Vec<Vec<Obs>> = (0..rois.len()).map(|_| Vec::new()).collect();
    for r in &present {
        if let (Some(&i), Some(v)) = (roi_index.get(r.roi.as_str()), r.value) {
            by_roi[i].push(Obs {
                unit: std::borrow::Cow::Borrowed(&r.subject),
                site: &r.site,
                session: r.session,
                value: v,
            });
        }
    }
    // Cells are built once per ROI and shared by the per-ROI statistics and the reference
    // comparison.
    let roi_cells: Vec<Cells> = by_roi.par_iter().map(|obs| Cells::new(obs)).collect();
    let per_roi = rois
        .par_iter()
        .zip(&by_roi)
        .zip(&roi_cells)
        .map(|((roi, obs), cells)| {
            let values: Vec<f64> = obs.iter().map(|o| o.value).collect();
            let (wsd, wsd_df) = cells.wsd();
            RoiResult {
                roi: roi.clone(),
                n_subjects: cells.units.len(),
                n_sites: cells.sites.len(),
                n_values: values.len(),
                grand_mean: mean(&values),
                variability: cells.variability(),
                wsd,
                wsd_df,
                rc: wsd.map(|w| rc_factor() * w),
                reproducibility: cells.reproducibility(),
                icc_between_sites: cells.icc_between_sites("subject"),
                icc_test_retest_by_site: cells.icc_test_retest("subject"),
                bland_altman: cells.bland_altman(),
            }
        })
        .collect();

    let non_empty_units: Vec<&String> = units.iter().filter(|u| !u.is_empty()).collect();
    let pooled_subject_x_roi =
        (table.has_unit_column && rois.len() >= 2 && non_empty_units.len() == 1).then(|| {
            let obs: Vec<Obs> = present
                .iter()
                .filter_map(|r| {
                    Some(Obs {
                        unit: std::borrow::Cow::Owned(format!("{}|{}", r.subject, r.roi)),
                        site: &r.site,
                        session: r.session,
                        value: r.value?,
                    })
                })
                .collect();
            let cells = Cells::new(&obs);
            PooledResult {
                unit: non_empty_units[0].clone(),
                variability: cells.variability(),
                icc_between_sites: cells.icc_between_sites("subject+roi"),
                bland_altman: cells.bland_altman(),
            }
        });

    let reference_comparison = reference_comparison(table, &rois, &roi_cells);
    Results {
        design,
        per_roi,
        pooled_subject_x_roi,
        reference_comparison,
    }
}

fn reference_comparison(
    table: &MeasurementTable,
    rois: &[String],
    cells: &[Cells],
) -> Option<ReferenceComparison> {
    let mut refs: HashMap<(&str, &str), f64> = HashMap::new();
    for r in &table.rows {
        if let Some(v) = r.ref_value {
            refs.insert((&r.site, &r.roi), v);
        }
    }
    if refs.is_empty() {
        return None;
    }
    let sites: BTreeSet<&str> = cells.iter().flat_map(|c| c.sites.iter().copied()).collect();
    let mut per_site_roi = Vec::new();
    let mut per_site_summary = BTreeMap::new();
    for site in sites {
        let mut devs = Vec::new();
        for (roi, c) in rois.iter().zip(cells) {
            let Some(&ref_value) = refs.get(&(site, roi.as_str())) else {
                continue;
            };
            let Some(j) = c.sites.iter().position(|s| *s == site) else {
                continue;
            };
            let subject_means: Vec<f64> = (0..c.units.len())
                .filter_map(|u| c.cell_mean(u, j))
                .collect();
            if subject_means.is_empty() {
                continue;
            }
            let m = mean(&subject_means);
            let deviation_pct = (ref_value != 0.0).then(|| 100.0 * (m - ref_value) / ref_value);
            devs.extend(deviation_pct);
            per_site_roi.push(SiteRoiDeviation {
                site: site.into(),
                roi: roi.clone(),
                mean: m,
                ref_value,
                deviation_pct,
            });
        }
        if devs.is_empty() {
            continue;
        }
        let abs: Vec<f64> = devs.iter().map(|d| d.abs()).collect();
        per_site_summary.insert(
            site.to_string(),
            SiteDeviationSummary {
                n_rois: devs.len(),
                mean_deviation_pct: mean(&devs),
                mean_abs_deviation_pct: mean(&abs),
                rms_deviation_pct: (devs.iter().map(|d| d * d).sum::<f64>() / devs.len() as f64)
                    .sqrt(),
                max_abs_deviation_pct: abs.iter().copied().fold(0.0, f64::max),
            },
        );
    }
    Some(ReferenceComparison {
        per_site_roi,
        per_site_summary,
    })
}
