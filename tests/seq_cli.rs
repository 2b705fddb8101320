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

/// `|a - b| <= 1e-9 + 1e-6 · scale` (absolute 1e-9, relative 1e-6 of `scale`).
fn close(a: f64, b: f64, scale: f64) -> bool {
    (a - b).abs() <= 1e-9 + 1e-6 * scale.abs()
}

fn num(v: &Value, what: &str) -> f64 {
    v.as_f64()
        .unwrap_or_else(|| panic!("{what}: not a number: {v}"))
}

fn nums(v: &Value, what: &str) -> Vec<f64> {
    v.as_array()
        .unwrap_or_else(|| panic!("{what}: not an array: {v}"))
        .iter()
        .map(|x| num(x, what))
        .collect()
}

/// Compares two number lists element-wise; `scale` gives each element's relative scale.
fn assert_close_list(ours: &Value, refv: &Value, scale: f64, what: &str) {
    let (a, b) = (nums(ours, what), nums(refv, what));
    assert_eq!(a.len(), b.len(), "{what}: length");
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        assert!(close(*x, *y, scale.max(y.abs())), "{what}[{i}]: {x} vs {y}");
    }
}

/// `accord seq info --json` prints `check_timing`, `kspace` and `waveforms` with the corpus
/// JSON's key names and pypulseq's values (timing exact; k, moments and gradients to 1e-6
/// relative of the axis' largest |k| or the value, 1e-9 absolute; times to 1e-9 s). The files
/// cover a refocused EPI, timing errors (JEMRIS dwell off the ADC raster), a spiral with
/// arbitrary gradients and a 1.4.1 GRE with RF spoiling.
#[test]
fn info_json_has_timing_kspace_and_waveforms_of_the_corpus() {
    for name in [
        "pypulseq150_write_epi_se",
        "jemris121_koma_epi",
        "matlab140_koma_spiral",
        "pypulseq141_write_gre",
    ] {
        let path = format!("tests/data/pulseq/{name}.seq");
        let ours = info_json(&path);
        let reference: Value = serde_json::from_str(
            &std::fs::read_to_string(root().join(format!("tests/data/pulseq/{name}.json")))
                .unwrap(),
        )
        .unwrap();

        let (ct, rt) = (&ours["check_timing"], &reference["check_timing"]);
        assert_eq!(ct["timing_ok"], rt["timing_ok"], "{name}: timing_ok");
        assert_eq!(ct["n_errors"], rt["n_errors"], "{name}: n_errors");
        assert_eq!(ct["errors_by_type"], rt["errors_by_type"], "{name}");
        let (oe, re) = (
            ct["errors"].as_array().unwrap(),
            rt["errors"].as_array().unwrap(),
        );
        assert_eq!(oe.len(), re.len(), "{name}: listed errors");
        for (o, r) in oe.iter().zip(re) {
            for key in ["block", "event", "field", "error_type"] {
                assert_eq!(o[key], r[key], "{name}: error {key}");
            }
            let (a, b) = (num(&o["value"], name), num(&r["value"], name));
            assert!(close(a, b, 0.0), "{name}: error value {a} vs {b}");
        }

        let (k, rk) = (&ours["kspace"], &reference["kspace"]);
        assert_eq!(k["n_adc_samples"], rk["n_adc_samples"], "{name}");
        for (ax, a) in ["x", "y", "z"].into_iter().enumerate() {
            let (p, rp) = (&k["per_axis"][a], &rk["per_axis"][a]);
            // The axis' scale: its largest |k| over the ADC samples.
            let scale = num(&rp["min"], name).abs().max(num(&rp["max"], name).abs());
            let n = num(&rk["n_adc_samples"], name);
            for (key, s) in [
                ("sum", scale * n),
                ("l2", scale * n.sqrt()),
                ("min", scale),
                ("max", scale),
            ] {
                let (x, y) = (num(&p[key], name), num(&rp[key], name));
                assert!(
                    close(x, y, s),
                    "{name}: kspace.per_axis.{a}.{key}: {x} vs {y}"
                );
            }
            for key in ["k_adc_first64", "k_adc_last64"] {
                let what = format!("{name}: kspace.{key}[{a}]");
                assert_close_list(&k[key][ax], &rk[key][ax], scale, &what);
            }
        }
        for key in ["t_excitation", "t_refocusing"] {
            let (t, rt) = (&k[key], &rk[key]);
            assert_eq!(t["count"], rt["count"], "{name}: {key}.count");
            if rt["all"].is_array() {
                assert_close_list(&t["all"], &rt["all"], 0.0, &format!("{name}: {key}"));
            }
            assert_close_list(&t["first"], &rt["first"], 0.0, &format!("{name}: {key}"));
        }

        for a in ["x", "y", "z"] {
            let (w, rw) = (
                &ours["waveforms"]["axes"][a],
                &reference["waveforms"]["axes"][a],
            );
            let (x, y) = (num(&w["integral"], name), num(&rw["integral"], name));
            let kscale = num(&rk["per_axis"][a]["min"], name)
                .abs()
                .max(num(&rk["per_axis"][a]["max"], name).abs())
                .max(y.abs());
            assert!(close(x, y, kscale), "{name}: integral {a}: {x} vs {y}");
            let (x, y) = (num(&w["max_abs"], name), num(&rw["max_abs"], name));
            assert!(close(x, y, y), "{name}: max_abs {a}: {x} vs {y}");
        }
    }
}
