//! Every reference table of `tests/data/stats/` (copied from the shared reference set; values
//! from pingouin 0.7.0 and numpy/scipy, see its README) is analysed and compared with the
//! reference JSON, key by key:
//! - plain statistics (ANOVA, ICC, CoV, wSD, RC, BA bias/LoA, …): relative 1e-9, absolute
//!   1e-12 near zero;
//! - anything that needs an F or t quantile (CIs, p-values): absolute 1e-7;
//! - `reml_all_cells` (iterative fit): relative 1e-3;
//! - `null` exactly where the reference has `null`;
//! - validation errors: at least the reference's (line, kind) pairs.
//!
//! Two keys record the reference generator's own cross-checks, not statistics, and are not
//! produced by Accord: `pingouin_agrees` (pingouin's output matched the generator's independent
//! ANOVA) and `literature_check` (Shrout & Fleiss's published values); the latter is asserted
//! here directly instead.

use std::path::{Path, PathBuf};

use accord_phantoms::stats::{analyze, parse_table};
use serde_json::Value;

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/stats")
}

const REFERENCE_ONLY: [&str; 2] = ["pingouin_agrees", "literature_check"];

fn is_quantile_based(path: &str) -> bool {
    path.contains("ci95") || path.contains("pval")
}

/// Compares `ours` with `reference` recursively; pushes one line per difference.
pub fn compare(path: &str, ours: &Value, reference: &Value, problems: &mut Vec<String>) {
    match (ours, reference) {
        (Value::Object(o), Value::Object(r)) => {
            for (k, rv) in r {
                if REFERENCE_ONLY.contains(&k.as_str()) {
                    continue;
                }
                match o.get(k) {
                    Some(ov) => compare(&format!("{path}.{k}"), ov, rv, problems),
                    None => problems.push(format!("{path}.{k}: missing in Accord's output")),
                }
            }
            for k in o.keys() {
                let error_extra =
                    path.contains("validation.errors") && (k == "message" || k == "first_line");
                if !r.contains_key(k) && !error_extra {
                    problems.push(format!("{path}.{k}: not in the reference"));
                }
            }
        }
        (Value::Array(o), Value::Array(r)) => {
            if o.len() != r.len() {
                problems.push(format!(
                    "{path}: {} entries, reference has {}",
                    o.len(),
                    r.len()
                ));
                return;
            }
            for (i, (ov, rv)) in o.iter().zip(r).enumerate() {
                compare(&format!("{path}[{i}]"), ov, rv, problems);
            }
        }
        (Value::Number(o), Value::Number(r)) => {
            let (x, y) = (
                o.as_f64().unwrap_or(f64::NAN),
                r.as_f64().unwrap_or(f64::NAN),
            );
            let ok = if path.contains("reml_all_cells") {
                (x - y).abs() <= 1e-3 * y.abs().max(1e-9)
            } else if is_quantile_based(path) {
                (x - y).abs() <= 1e-7
            } else {
                (x - y).abs() <= 1e-9 * y.abs() || (x - y).abs() <= 1e-12
            };
            if !ok {
                problems.push(format!(
                    "{path}: Accord {x:e}, reference {y:e} (diff {:e})",
                    x - y
                ));
            }
        }
        _ if ours == reference => {}
        _ => problems.push(format!("{path}: Accord {ours}, reference {reference}")),
    }
}

fn check_table(name: &str) {
    let dir = data_dir();
    let csv = std::fs::read_to_string(dir.join(format!("{name}.csv"))).unwrap();
    let reference: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join(format!("{name}.json"))).unwrap())
            .unwrap();
    let analysis = analyze(name, &parse_table(&csv));
    let ours = serde_json::to_value(&analysis).unwrap();
    let mut problems = Vec::new();
    if reference["expect_error"] == Value::Bool(true) {
        assert!(
            analysis.expect_error,
            "{name}: Accord accepted a table the reference rejects"
        );
        let got: Vec<(u64, String)> = analysis
            .validation
            .errors
            .iter()
            .map(|e| (e.line as u64, e.kind.name().to_string()))
            .collect();
        for e in reference["validation"]["errors"].as_array().unwrap() {
            let want = (
                e["line"].as_u64().unwrap(),
                e["kind"].as_str().unwrap().to_string(),
            );
            assert!(
                got.contains(&want),
                "{name}: error {want:?} not reported; Accord reported {got:?}"
            );
        }
        let mut rest = reference.clone();
        rest["validation"]["errors"] = Value::Null;
        let mut mine = ours.clone();
        mine["validation"]["errors"] = Value::Null;
        compare("", &mine, &rest, &mut problems);
    } else {
        compare("", &ours, &reference, &mut problems);
    }
    assert!(
        problems.is_empty(),
        "{name}: {} differences:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

macro_rules! reference_tests {
    ($($name:ident),* $(,)?) => { $( #[test] fn $name() { check_table(stringify!($name)); } )* };
}

reference_tests!(
    balanced_multi_roi,
    degenerate_perfect_agreement,
    degenerate_single_site,
    degenerate_zero_variance,
    garbage_non_numeric,
    negative_icc,
    nist_t1_4scanners_2sessions,
    real_hazen_t1_plate5_5sites,
    shrout_fleiss_1979,
    traveling_5sites_2sessions,
    two_sites_bland_altman,
);

#[test]
fn every_reference_table_is_covered() {
    let mut names: Vec<String> = std::fs::read_dir(data_dir())
        .unwrap()
        .filter_map(|e| {
            e.ok()?
                .file_name()
                .into_string()
                .ok()?
                .strip_suffix(".json")
                .map(String::from)
        })
        .collect();
    names.sort();
    assert_eq!(
        names.len(),
        11,
        "new reference tables appeared: add them to reference_tests!: {names:?}"
    );
}

/// Shrout & Fleiss (1979) Table 4, two decimals (the reference JSON's `literature_check`).
#[test]
fn shrout_fleiss_literature_values() {
    let dir = data_dir();
    let reference: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("shrout_fleiss_1979.json")).unwrap(),
    )
    .unwrap();
    let csv = std::fs::read_to_string(dir.join("shrout_fleiss_1979.csv")).unwrap();
    let analysis = analyze("shrout_fleiss_1979", &parse_table(&csv));
    let block = &analysis.results.unwrap().per_roi[0].icc_between_sites;
    for (form, value) in reference["literature_check"]["icc"].as_object().unwrap() {
        let ours = block.form(form).unwrap().icc.unwrap();
        assert_eq!(
            (ours * 100.0).round() / 100.0,
            value.as_f64().unwrap(),
            "{form}"
        );
    }
}

/// The comparison itself can fail: a 1e-8 relative change, a null, a missing key are caught.
#[test]
fn comparison_detects_differences() {
    let reference = serde_json::json!({"a": {"icc": 0.5, "ci95": [0.1, null], "n": 3}});
    let mut problems = Vec::new();
    compare(
        "",
        &serde_json::json!({"a": {"icc": 0.5 * (1.0 + 1e-8), "ci95": [0.1, null], "n": 3}}),
        &reference,
        &mut problems,
    );
    compare(
        "",
        &serde_json::json!({"a": {"icc": 0.5, "ci95": [0.1, 0.2], "n": 3}}),
        &reference,
        &mut problems,
    );
    compare(
        "",
        &serde_json::json!({"a": {"icc": 0.5, "ci95": [0.1, null]}}),
        &reference,
        &mut problems,
    );
    compare(
        "",
        &serde_json::json!({"a": {"icc": 0.5, "ci95": [0.1 + 2e-7, null], "n": 3}}),
        &reference,
        &mut problems,
    );
    assert_eq!(problems.len(), 4, "{problems:#?}");
}
