//! Missing data: a travelling-subject table with holes (three subject × site cells absent for
//! one ROI each, one session absent), given once with the rows omitted and once with empty
//! values. Expected values (`tests/data/stats-missing/missing_expected.json`) come from
//! pingouin 0.7.0 `intraclass_corr(nan_policy="omit")` on the cell means and statsmodels 0.15
//! `MixedLM` (REML, crossed subject and site variance components) on every available cell;
//! regenerate with `tests/python/stats_missing_reference.py` (run from the repository root).

use std::path::{Path, PathBuf};

use accord_phantoms::stats::{analyze, parse_table};
use serde_json::Value;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/stats-missing")
}

fn analysis(name: &str) -> accord_phantoms::stats::Analysis {
    let text = std::fs::read_to_string(dir().join(format!("{name}.csv"))).unwrap();
    analyze(name, &parse_table(&text))
}

#[test]
fn omitted_rows_and_empty_values_give_identical_results() {
    let implicit = analysis("missing_implicit");
    let explicit = analysis("missing_explicit");
    let (mut a, mut b) = (implicit.results.unwrap(), explicit.results.unwrap());
    assert_eq!(
        b.design.n_missing_values,
        3 * 2 + 1,
        "three cells of two sessions, and one session"
    );
    assert_eq!(a.design.n_missing_values, 0);
    for r in [&mut a, &mut b] {
        r.design.n_rows = 0;
        r.design.n_missing_values = 0;
    }
    assert_eq!(
        serde_json::to_value(&a).unwrap(),
        serde_json::to_value(&b).unwrap()
    );
}

#[test]
fn listwise_icc_matches_pingouin_and_reml_matches_statsmodels() {
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(dir().join("missing_expected.json")).unwrap(),
    )
    .unwrap();
    let results = analysis("missing_implicit").results.unwrap();
    let mut checked = 0;
    for roi in &results.per_roi {
        let e = &expected[&roi.roi];
        let block = &roi.icc_between_sites;
        let forms = &block.estimates.as_ref().unwrap().forms;
        for (name, want) in e["icc"].as_object().unwrap() {
            let f = forms.iter().find(|f| &f.mcgraw_wong == name).unwrap();
            let w: Vec<f64> = [&want[0], &want[1], &want[2], &want[3][0], &want[3][1]]
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect();
            let rel = |x: f64, y: f64| ((x - y) / y).abs();
            assert!(
                rel(f.icc.unwrap(), w[0]) < 1e-9,
                "{} {name}: icc {:?} vs {}",
                roi.roi,
                f.icc,
                w[0]
            );
            assert!(rel(f.f.unwrap(), w[1]) < 1e-9, "{} {name}: F", roi.roi);
            assert!(
                (f.pval.unwrap() - w[2]).abs() < 1e-7,
                "{} {name}: p",
                roi.roi
            );
            assert!(
                (f.ci95[0].unwrap() - w[3]).abs() < 1e-7
                    && (f.ci95[1].unwrap() - w[4]).abs() < 1e-7,
                "{} {name}: CI {:?} vs {:?}",
                roi.roi,
                f.ci95,
                &w[3..]
            );
        }
        let dropped = !block.dropped_targets.is_empty();
        assert_eq!(
            dropped,
            block.reml_all_cells.is_some(),
            "{}: REML only when targets were dropped",
            roi.roi
        );
        if let Some(fit) = &block.reml_all_cells {
            let r = &e["reml"];
            for (key, ours) in [
                ("var_target", fit.var_target),
                ("var_rater", fit.var_rater),
                ("var_error", fit.var_error),
                ("icc_a1", fit.icc_a1),
                ("icc_c1", fit.icc_c1),
            ] {
                let want = r[key].as_f64().unwrap();
                assert!(
                    ((ours - want) / want).abs() < 1e-3,
                    "{} REML {key}: Accord {ours}, statsmodels {want}",
                    roi.roi
                );
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 2, "two ROIs have dropped subjects");
    let t1 = results.per_roi.iter().find(|r| r.roi == "wm_T1").unwrap();
    assert_eq!(t1.icc_between_sites.dropped_targets, ["ts-03", "ts-06"]);
}
