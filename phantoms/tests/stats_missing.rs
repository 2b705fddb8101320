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

/// Edge cases beyond the reference set: no panic, no NaN, statuses instead of numbers.
mod edge_cases {
    use accord_phantoms::stats::{IccStatus, analyze, parse_table};

    fn no_nan_anywhere(name: &str, csv: &str) -> accord_phantoms::stats::Analysis {
        let a = analyze(name, &parse_table(csv));
        // serde_json writes a NaN f64 as null; the Debug form shows it.
        assert!(!format!("{a:?}").contains("NaN"), "{name}: NaN in {a:#?}");
        a
    }

    /// Sites differ by exact offsets: MS_E = 0 but MS_W > 0. Consistency is perfect (F
    /// infinite), agreement is not.
    #[test]
    fn exact_rater_offsets() {
        let csv = "subject,site,session,roi,value\n\
                   a,X,1,r,1\na,Y,1,r,3\nb,X,1,r,2\nb,Y,1,r,4\nc,X,1,r,6\nc,Y,1,r,8\n";
        let a = no_nan_anywhere("offsets", csv);
        let block = &a.results.unwrap().per_roi[0].icc_between_sites;
        assert_eq!(block.status, IccStatus::Ok);
        let c1 = block.form("ICC(3,1)").unwrap();
        assert_eq!(
            (c1.icc, c1.f, c1.f_infinite, c1.pval),
            (Some(1.0), None, true, Some(0.0))
        );
        let a1 = block.form("ICC(2,1)").unwrap().icc.unwrap();
        assert!(a1 > 0.0 && a1 < 1.0, "{a1}");
    }

    #[test]
    fn zero_reference_value_and_zero_means() {
        let csv = "subject,site,session,roi,value,ref_value\n\
                   a,X,1,r,0,0\na,Y,1,r,0,0\nb,X,1,r,1,0\nb,Y,1,r,-1,0\n";
        let a = no_nan_anywhere("zeros", csv);
        let r = a.results.unwrap();
        let cmp = r.reference_comparison.unwrap();
        assert!(cmp.per_site_roi.iter().all(|d| d.deviation_pct.is_none()));
        assert_eq!(
            r.per_roi[0].variability.cov_between_pct, None,
            "every unit's mean is 0"
        );
    }

    /// Random garbage never panics and always yields either results or errors with lines.
    #[test]
    fn garbage_never_panics() {
        let pieces = [
            "subject", "site", "session", "roi", "value", ",", "\n", "\"", "1", "-2.5e3", "nan",
            "x", " ", "\r\n", "é", "",
        ];
        let mut state = 12345u64;
        for _ in 0..2000 {
            let mut text = String::from("subject,site,session,roi,value\n");
            for _ in 0..(state % 60) {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                text.push_str(pieces[(state >> 33) as usize % pieces.len()]);
            }
            let a = analyze("garbage", &parse_table(&text));
            assert_eq!(a.expect_error, !a.validation.errors.is_empty());
            assert!(
                a.validation.errors.iter().all(|e| e.line >= 1),
                "{text:?}: {:?}",
                a.validation.errors
            );
        }
    }
}
