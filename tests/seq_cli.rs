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

/// Reads a `.seq` file with the library (the CLI's reader).
fn read_seq(path: &std::path::Path) -> accord_seq::Sequence {
    accord_seq::read_file(path).unwrap_or_else(|e| panic!("{e}"))
}

/// Same blocks (durations and event ids' presence) and the same k-space (1e-6 of each axis'
/// largest |k|, 1e-9 absolute; times 1e-9 s).
fn assert_same_sequence(a: &accord_seq::Sequence, b: &accord_seq::Sequence, what: &str) {
    assert_eq!(a.blocks.len(), b.blocks.len(), "{what}: blocks");
    for (x, y) in a.blocks.iter().zip(&b.blocks) {
        assert_eq!(x.duration, y.duration, "{what}: block {} duration", x.id);
        let present = |b: &accord_seq::Block| [b.rf, b.gx, b.gy, b.gz, b.adc].map(|id| id != 0);
        assert_eq!(present(x), present(y), "{what}: block {} events", x.id);
    }
    assert_eq!(a.total_duration(), b.total_duration(), "{what}");
    let (ka, kb) = (
        accord_seq::kspace::calculate_kspace(a),
        accord_seq::kspace::calculate_kspace(b),
    );
    assert_eq!(ka.k_adc.len(), kb.k_adc.len(), "{what}: ADC samples");
    assert!(!ka.k_adc.is_empty(), "{what}: a file with ADC samples");
    for ax in 0..3 {
        let scale = ka.k_max_abs[ax];
        for (i, (x, y)) in ka.k_adc.iter().zip(&kb.k_adc).enumerate() {
            assert!(
                close(x[ax], y[ax], scale),
                "{what}: k sample {i} axis {ax}: {} vs {}",
                x[ax],
                y[ax]
            );
        }
    }
    for (x, y) in ka.t_adc.iter().zip(&kb.t_adc) {
        assert!(close(*x, *y, 0.0), "{what}: t_adc {x} vs {y}");
    }
    assert_eq!(ka.t_excitation.len(), kb.t_excitation.len(), "{what}");
    assert_eq!(ka.t_refocusing.len(), kb.t_refocusing.len(), "{what}");
}

/// `seq convert` 1.4.1 -> 1.5 -> 1.4: the version lines are the requested ones and the
/// sequence (blocks, durations, k-space) survives both steps.
#[test]
fn convert_round_trips_a_corpus_file_through_both_versions() {
    let dir = tempfile::tempdir().unwrap();
    let input = root().join("tests/data/pulseq/pypulseq141_write_epi_se.seq");
    let (v15, v14) = (dir.path().join("a15.seq"), dir.path().join("b14.seq"));
    let out = accord(&[
        "seq",
        "convert",
        input.to_str().unwrap(),
        v15.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = accord(&[
        "seq",
        "convert",
        v15.to_str().unwrap(),
        v14.to_str().unwrap(),
        "--version",
        "1.4",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (orig, a, b) = (read_seq(&input), read_seq(&v15), read_seq(&v14));
    let major_minor = |s: &accord_seq::Sequence| {
        let v = s.version.as_ref().unwrap();
        (v.major, v.minor)
    };
    assert_eq!(major_minor(&orig), (1, 4));
    assert_eq!(major_minor(&a), (1, 5));
    assert_eq!(major_minor(&b), (1, 4));
    assert_same_sequence(&orig, &a, "1.4 -> 1.5");
    assert_same_sequence(&orig, &b, "1.4 -> 1.5 -> 1.4");
    // The input is untouched.
    assert_eq!(
        std::fs::read(&input).unwrap(),
        std::fs::read(root().join("tests/data/pulseq/pypulseq141_write_epi_se.seq")).unwrap()
    );
}

#[test]
fn convert_refuses_to_clobber_and_to_replace_its_input() {
    let dir = tempfile::tempdir().unwrap();
    let input = root().join("tests/data/pulseq/pypulseq150_write_gre.seq");
    let out_path = dir.path().join("out.seq");
    std::fs::write(&out_path, "keep me").unwrap();
    let (i, o) = (input.to_str().unwrap(), out_path.to_str().unwrap());
    let out = accord(&["seq", "convert", i, o]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("out.seq") && err.contains("--force"), "{err}");
    assert_eq!(std::fs::read_to_string(&out_path).unwrap(), "keep me");
    let out = accord(&["seq", "convert", i, o, "--force"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        std::fs::read_to_string(&out_path)
            .unwrap()
            .contains("minor 5")
    );

    // The same file under another spelling, even with --force.
    let copy = dir.path().join("in.seq");
    std::fs::copy(&input, &copy).unwrap();
    let before = std::fs::read(&copy).unwrap();
    let other = dir.path().join(".").join("in.seq");
    let out = accord(&[
        "seq",
        "convert",
        copy.to_str().unwrap(),
        other.to_str().unwrap(),
        "--force",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("in.seq") && err.contains("is the input"),
        "{err}"
    );
    assert_eq!(std::fs::read(&copy).unwrap(), before);
}

#[test]
fn convert_of_garbage_names_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("garbage.seq");
    std::fs::write(
        &bad,
        "[VERSION]\nmajor 1\nminor 5\nrevision 0\n\n[BLOCKS]\n1 x y\n",
    )
    .unwrap();
    let out_path = dir.path().join("out.seq");
    let out = accord(&[
        "seq",
        "convert",
        bad.to_str().unwrap(),
        out_path.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("garbage.seq") && err.contains("line 7"),
        "{err}"
    );
    assert!(!out_path.exists());
}

/// Width and height from a PNG's IHDR chunk.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
    assert_eq!(&bytes[12..16], b"IHDR");
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    (be(&bytes[16..20]), be(&bytes[20..24]))
}

/// `seq plot` writes a PNG (the panels' contents are checked in `accord_seq::plot`'s tests)
/// and an SVG with the panel labels; refuses to clobber without --force.
#[test]
fn plot_writes_png_and_svg() {
    let dir = tempfile::tempdir().unwrap();
    let input = "tests/data/pulseq/pypulseq150_write_gre.seq";
    let png = dir.path().join("gre.png");
    let p = png.to_str().unwrap();
    let out = accord(&["seq", "plot", input, "-o", p, "--blocks", "1..12"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(png_size(&std::fs::read(&png).unwrap()), (1400, 1300));

    let before = std::fs::read(&png).unwrap();
    let out = accord(&["seq", "plot", input, "-o", p, "--time", "0..20ms"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--force"), "{}", stderr(&out));
    assert_eq!(std::fs::read(&png).unwrap(), before);
    let out = accord(&[
        "seq", "plot", input, "-o", p, "--time", "0..20e-3", "--force",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_ne!(std::fs::read(&png).unwrap(), before);

    let svg = dir.path().join("gre.svg");
    let out = accord(&["seq", "plot", input, "-o", svg.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(&svg).unwrap();
    for label in [
        "ADC",
        "RF |B1| (Hz)",
        "RF phase (rad)",
        "Gx (mT/m)",
        "Gy (mT/m)",
        "Gz (mT/m)",
        "time (ms)",
        "42.576 MHz/T",
    ] {
        assert!(text.contains(label), "{label}");
    }
}

#[test]
fn plot_rejects_bad_ranges_and_formats() {
    let dir = tempfile::tempdir().unwrap();
    let input = "tests/data/pulseq/pypulseq150_write_gre.seq";
    let png = dir.path().join("x.png");
    let p = png.to_str().unwrap();
    let n_blocks = read_seq(&root().join(input)).blocks.len();
    let beyond = format!("1..{}", n_blocks + 1);
    for (args, needle) in [
        (vec!["--blocks", "0..3"], "start at 1".to_string()),
        (vec!["--blocks", &beyond], format!("has {n_blocks} blocks")),
        (vec!["--blocks", "3"], "FIRST..LAST".to_string()),
        (vec!["--time", "5..1"], "T0 < T1".to_string()),
    ] {
        let mut a = vec!["seq", "plot", input, "-o", p];
        a.extend(&args);
        let out = accord(&a);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = stderr(&out);
        assert!(err.contains(&needle), "{args:?}: {err}");
        assert!(!png.exists(), "{args:?}");
    }
    let out = accord(&["seq", "plot", input, "-o", "x.jpg"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains(".png or .svg"), "{}", stderr(&out));
}
