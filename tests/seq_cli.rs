//! End-to-end tests of `accord seq info`: the JSON uses the reference corpus' key names and
//! agrees with pypulseq 1.5.0's values (`tests/data/pulseq/*.json`) on every file pypulseq
//! reads; files pypulseq cannot read are read too; bad input names the file and line.

#[path = "common/mod.rs"]
mod accord_cli;

use accord_cli::{accord, files_with_extension, root, stderr};
use serde_json::Value;

fn info_json(file: &str) -> Value {
    let out = accord(&["seq", "info", file, "--json"]);
    assert!(out.status.success(), "{file}: {}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn info_json_matches_pypulseq_on_the_corpus() {
    let dir = root().join("tests/data/pulseq");
    let mut checked = 0;
    for seq in files_with_extension(&dir, "seq") {
        let reference: Value =
            serde_json::from_str(&std::fs::read_to_string(seq.with_extension("json")).unwrap())
                .unwrap();
        let ours = info_json(seq.to_str().unwrap());
        let name = seq.file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!(
            ours["signature"]["present"], reference["signature"]["present"],
            "{name}"
        );
        if reference["read"]["ok"] != Value::Bool(true) {
            continue;
        }
        assert_eq!(
            ours["version_parsed"], reference["version_parsed"],
            "{name}"
        );
        assert_eq!(ours["n_blocks"], reference["n_blocks"], "{name}");
        for key in [
            "n_rf",
            "n_gx",
            "n_gy",
            "n_gz",
            "n_adc",
            "n_ext",
            "n_adc_samples",
        ] {
            assert_eq!(
                ours["events"][key], reference["events"][key],
                "{name}: events.{key}"
            );
        }
        let (a, b) = (
            ours["total_duration_s"].as_f64().unwrap(),
            reference["total_duration_s"].as_f64().unwrap(),
        );
        let n = reference["n_blocks"].as_f64().unwrap();
        assert!(
            (a - b).abs() <= 1e-9 * n.max(1.0),
            "{name}: duration {a} vs {b}"
        );
        checked += 1;
    }
    assert_eq!(checked, 74, "files pypulseq reads");
}

#[test]
fn files_pypulseq_cannot_read_are_read() {
    for name in [
        "matlab151_pulseq_make_radial_rotations.seq",
        "pypulseq150_koma_unknown_ext.seq",
        "koma141_koma_gr_time_shaped.seq",
    ] {
        let v = info_json(&format!("tests/data/pulseq/{name}"));
        assert!(v["n_blocks"].as_u64().unwrap() > 0, "{name}");
    }
}

#[test]
fn bad_input_names_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(root().join("tests/data/pulseq/pypulseq150_write_gre.seq"))
        .unwrap();
    let broken = text.replacen("[BLOCKS]\n", "[BLOCKS]\n1 2 3\n", 1);
    let path = dir.path().join("broken.seq");
    std::fs::write(&path, broken).unwrap();
    let out = accord(&["seq", "info", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("broken.seq") && err.contains("line "), "{err}");
    let out = accord(&["seq", "info", "tests/data/pulseq/nonexistent.seq"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("nonexistent.seq"));
}
