//! End-to-end tests of `accord qa` on real phantom images from GE, Philips and Siemens scanners
//! (`tests/data/phantom-images/`, from hazen's test data): every ACR dataset and every MagNET SNR
//! pair against hazen 2.0.0's own results read from its JSON files, with 2 % tolerance or a
//! documented wider one (see `phantoms/README.md`); bad input gives a clear error naming the
//! file, a non-zero exit and no output file; figures are valid PNGs and are not clobbered.

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

#[path = "common/mod.rs"]
mod accord_cli;
use accord_cli::{accord, root, stderr};

fn data() -> PathBuf {
    root().join("tests/data/phantom-images")
}

/// Runs `accord qa <args> --json` and returns the JSON (whatever the exit status).
fn qa_json(args: &[&str]) -> (Output, Value) {
    let mut a = vec!["qa"];
    a.extend_from_slice(args);
    a.push("--json");
    let out = accord(&a);
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "accord {a:?}: stdout is not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            stderr(&out)
        )
    });
    (out, v)
}

const ACR: [&str; 6] = [
    "GE_Artist_1.5T_T1",
    "GE_Signa_3T_T1",
    "Philips3TdStream",
    "PhilipsAchieva",
    "Siemens_Aera_1.5T_T1",
    "Siemens_MagnetomSkyra_3T_T1",
];

/// hazen's JSON result; a bare `NaN` token (which hazen writes for a failed value) is read as
/// `null`, since it is not JSON.
fn hazen(task: &str, dataset: &str) -> Value {
    let p = data().join(format!("hazen-results/{task}__{dataset}.json"));
    let text = std::fs::read_to_string(&p).unwrap();
    let text = text.replace(": NaN", ": null");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The value of hazen's measurement with the given type, subtype and description.
fn hazen_value(v: &Value, kind: &str, subtype: &str, description: &str) -> Option<f64> {
    v["measurements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["type"] == kind && m["subtype"] == subtype && m["description"] == description)
        .and_then(|m| m["value"].as_f64())
}

fn assert_rel(what: &str, ours: f64, theirs: f64, tol: f64) {
    let rel = (ours - theirs).abs() / theirs.abs();
    assert!(
        rel <= tol,
        "{what}: accord {ours:.4} vs hazen {theirs:.4}: {:.2} % apart (tolerance {:.1} %)",
        100.0 * rel,
        100.0 * tol
    );
}

fn acr_dir(dataset: &str) -> String {
    data().join("acr").join(dataset).display().to_string()
}

#[test]
fn acr_snr_smoothing_agrees_with_hazen_within_2_percent() {
    for d in ACR {
        let (out, v) = qa_json(&["snr", &acr_dir(d)]);
        assert!(out.status.success(), "{d}: {}", stderr(&out));
        assert_eq!(v["phantom"], "acr");
        assert_eq!(v["inputs"][0]["acr_slice"], 7, "{d}");
        assert_eq!(v["results"]["smoothing_kernel_px"], 25);
        let s = &v["results"]["smoothing"][0];
        let h = hazen("acr_snr", &format!("acr_{d}"));
        let measured = hazen_value(&h, "measured", "smoothing", "").unwrap();
        let normalised = hazen_value(&h, "normalised", "smoothing", "").unwrap();
        assert_rel(
            &format!("{d} SNR"),
            s["snr"]["value"].as_f64().unwrap(),
            measured,
            0.02,
        );
        assert_rel(
            &format!("{d} normalised SNR"),
            s["normalised_snr"]["value"].as_f64().unwrap(),
            normalised,
            0.02,
        );
    }
}

/// GE SIGNA Premier 3 T: hazen's 1 cm^2 minimum ROI sits on the bottom of the filling stem
/// (8 of its 113 pixels are plastic, ~100 against ~2600 for water), which drags its minimum down
/// to a PIU of 81.97 % (a fail at 3 T); Accord skips positions holding non-water pixels and
/// finds 85.4 %. The documented tolerance there is +5 % (Accord higher, never lower).
#[test]
fn acr_uniformity_agrees_with_hazen() {
    for d in ACR {
        let (out, v) = qa_json(&["uniformity", &acr_dir(d)]);
        assert!(out.status.success(), "{d}: {}", stderr(&out));
        let ours = v["results"]["piu"]["value"].as_f64().unwrap();
        assert_eq!(v["results"]["piu"]["unit"], "%");
        let theirs = hazen_value(
            &hazen("acr_uniformity", &format!("acr_{d}")),
            "measured",
            "Integral uniformity",
            "",
        )
        .unwrap();
        if d == "GE_Signa_3T_T1" {
            assert!(
                ours > theirs && ours < theirs * 1.05,
                "{d}: {ours} vs {theirs}"
            );
            assert!(
                v["results"]["positions_skipped_below_half_signal"]
                    .as_u64()
                    .unwrap()
                    > 0
            );
        } else {
            assert_rel(&format!("{d} PIU"), ours, theirs, 0.02);
        }
        // Verdict against the ACR limit for the scanner's field strength.
        let field = v["scanner"]["field_strength"]["value"].as_f64().unwrap();
        let limit = if field >= 2.5 { 82.0 } else { 87.5 };
        assert_eq!(
            v["results"]["limit"]["min"]["value"].as_f64().unwrap(),
            limit
        );
        let want = if ours >= limit { "pass" } else { "fail" };
        assert_eq!(v["status"], want, "{d}");
    }
}

/// PSG values here are 0.02-0.13 %, 20-100 times below the 2.5 % limit: the ghost signal is a
/// difference of background means of about one grey level, so a one-pixel shift of an ROI, or
/// hazen's ROIs reaching into the zero-filled frame that Accord leaves out, changes it by tens of
/// percent. The tolerance is absolute: 0.05 percentage points (2 % of the ACR limit).
#[test]
fn acr_ghosting_agrees_with_hazen_within_0_05_points_or_fails_clearly() {
    for d in ACR {
        let (out, v) = qa_json(&["ghosting", &acr_dir(d)]);
        let theirs = hazen_value(
            &hazen("acr_ghosting", &format!("acr_{d}")),
            "measured",
            "signal ghosting",
            "",
        );
        if d == "GE_Signa_3T_T1" {
            // hazen writes NaN (an empty ROI); Accord fails with a reason.
            assert_eq!(theirs, None);
            assert!(!out.status.success());
            assert_eq!(v["status"], "failed");
            assert_eq!(v["results"], Value::Null);
            let e = v["error"].as_str().unwrap();
            assert!(e.starts_with("top ghosting ROI: only"), "{e}");
            assert!(
                stderr(&out).contains("could not be made"),
                "{}",
                stderr(&out)
            );
            continue;
        }
        assert!(out.status.success(), "{d}: {}", stderr(&out));
        let ours = v["results"]["psg"]["value"].as_f64().unwrap();
        let theirs = theirs.unwrap();
        assert!(
            (ours - theirs).abs() <= 0.05,
            "{d}: PSG {ours} vs hazen {theirs}"
        );
        assert_eq!(v["status"], "pass");
    }
}

/// Accord's name of each geometry length and hazen's subtype for it.
const GEOMETRY_NAMES: [(&str, &str); 6] = [
    ("slice 1 horizontal", "Slice 1 Horizontal distance"),
    ("slice 1 vertical", "Slice 1 Vertical distance"),
    ("slice 5 horizontal", "Slice 5 Horizontal distance"),
    ("slice 5 vertical", "Slice 5 Vertical distance"),
    ("slice 5 diagonal_nw_se", "Slice 5 Diagonal SE distance"),
    ("slice 5 diagonal_ne_sw", "Slice 5 Diagonal SW distance"),
];

/// The value of hazen's geometric accuracy measurement `subtype`.
fn hazen_length(h: &Value, subtype: &str) -> Option<f64> {
    h["measurements"]
        .as_array()?
        .iter()
        .find(|x| x["subtype"] == subtype)
        .and_then(|x| x["value"].as_f64())
}

#[test]
fn acr_geometry_agrees_with_hazen_within_2_percent() {
    for d in ACR {
        let (out, v) = qa_json(&["geometry", &acr_dir(d)]);
        assert!(out.status.success(), "{d}: {}", stderr(&out));
        let slices: Vec<i64> = v["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["acr_slice"].as_i64().unwrap())
            .collect();
        assert_eq!(slices, vec![1, 5], "{d}");
        let h = hazen("acr_geometric_accuracy", &format!("acr_{d}"));
        let lengths = v["results"]["lengths"].as_array().unwrap();
        assert_eq!(lengths.len(), 6);
        for (ours_name, hazen_name) in GEOMETRY_NAMES {
            let m = lengths.iter().find(|l| l["name"] == ours_name).unwrap();
            assert_eq!(m["length"]["unit"], "mm");
            let ours = m["length"]["value"].as_f64().unwrap();
            let theirs = hazen_length(&h, hazen_name).unwrap();
            assert_rel(&format!("{d} {ours_name}"), ours, theirs, 0.02);
            // hazen's lengths are whole pixels (0.98 mm); Accord's sub-pixel ones stay within 2 mm.
            assert!(
                (ours - theirs).abs() < 2.0,
                "{d} {ours_name}: {ours} vs {theirs}"
            );
        }
        assert_eq!(v["status"], "pass", "{d}");
    }
}

fn snr_pair(vendor: &str, extra: &[&str]) -> Value {
    let dir = data().join("snr").join(vendor).display().to_string();
    let mut args = vec!["snr", dir.as_str()];
    args.extend_from_slice(extra);
    let (out, v) = qa_json(&args);
    assert!(out.status.success(), "{vendor}: {}", stderr(&out));
    assert_eq!(v["phantom"], "flood");
    v
}

fn check_pair_against_hazen(vendor: &str, v: &Value, tol: f64) {
    let h = hazen("snr", &format!("snr_{vendor}"));
    let files = h["files"].as_array().unwrap();
    let r = &v["results"];
    for kind in ["measured", "normalised"] {
        let key = if kind == "measured" {
            "snr"
        } else {
            "normalised_snr"
        };
        assert_rel(
            &format!("{vendor} subtraction {kind}"),
            r["subtraction"][key]["value"].as_f64().unwrap(),
            hazen_value(&h, kind, "subtraction", "").unwrap(),
            tol,
        );
        for (i, f) in files.iter().enumerate() {
            assert_rel(
                &format!("{vendor} smoothing {kind} image {}", i + 1),
                r["smoothing"][i][key]["value"].as_f64().unwrap(),
                hazen_value(&h, kind, "smoothing", f.as_str().unwrap()).unwrap(),
                tol,
            );
        }
    }
}

#[test]
fn magnet_snr_pairs_agree_with_hazen_within_2_percent() {
    for vendor in ["GE", "Siemens"] {
        let v = snr_pair(vendor, &[]);
        assert_eq!(v["results"]["smoothing_kernel_px"], 9);
        check_pair_against_hazen(vendor, &v, 0.02);
    }
}

/// The Philips pair stores pixels with an offset of 2047.5 (Rescale Intercept -5053 at slope
/// 2.468): background reads 2048 stored, 0 rescaled. hazen ignores the rescale, so its signal
/// includes the offset and its SNR is about 3.7 times too high. On stored values Accord agrees
/// with hazen within 2 %; on rescaled values each ROI's signal and noise are exactly the stored
/// ones rescaled.
#[test]
fn philips_snr_pair_differs_from_hazen_only_by_the_rescale_hazen_ignores() {
    let stored = snr_pair("Philips", &["--stored-values"]);
    assert_eq!(stored["inputs"][0]["pixel_values"], "stored");
    check_pair_against_hazen("Philips", &stored, 0.02);
    let rescaled = snr_pair("Philips", &[]);
    let input = &rescaled["inputs"][0];
    assert_eq!(input["pixel_values"], "rescaled");
    let (slope, intercept) = (
        input["rescale_slope"].as_f64().unwrap(),
        input["rescale_intercept"].as_f64().unwrap(),
    );
    assert_eq!(intercept, -5053.0);
    let rois = |v: &Value| {
        v["results"]["subtraction"]["rois"]
            .as_array()
            .unwrap()
            .clone()
    };
    for (a, b) in rois(&rescaled).iter().zip(rois(&stored).iter()) {
        let s = b["signal_mean"].as_f64().unwrap() * slope + intercept;
        let n = b["noise_sd"].as_f64().unwrap() * slope;
        assert!((a["signal_mean"].as_f64().unwrap() - s).abs() < 1e-6 * s.abs());
        assert!((a["noise_sd"].as_f64().unwrap() - n).abs() < 1e-6 * n);
    }
    let h = hazen("snr", "snr_Philips");
    let ours = rescaled["results"]["subtraction"]["snr"]["value"]
        .as_f64()
        .unwrap();
    let theirs = hazen_value(&h, "measured", "subtraction", "").unwrap();
    assert!(ours < 0.3 * theirs, "{ours} vs {theirs}");
}

#[test]
fn single_image_snr_uses_smoothing_only_and_text_output_is_readable() {
    let f = data().join("snr/GE/IM-0003-0001.dcm").display().to_string();
    let (out, v) = qa_json(&["snr", &f]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(v["results"]["subtraction"], Value::Null);
    assert_eq!(v["results"]["smoothing"].as_array().unwrap().len(), 1);
    let text = accord(&["qa", "snr", &f]);
    assert!(text.status.success());
    let s = String::from_utf8_lossy(&text.stdout);
    assert!(
        s.contains("Signal-to-noise ratio") && s.contains("smoothing"),
        "{s}"
    );
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// Runs a failing command and checks exit code, message and that `png` was not written.
fn assert_fails(args: &[&str], png: &Path, needles: &[&str]) {
    let out = accord(args);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
    assert!(!err.contains("panicked"), "{err}");
    for n in needles {
        assert!(err.contains(n), "{args:?}: '{n}' not in: {err}");
    }
    assert!(!png.exists(), "{} was written", png.display());
}

#[test]
fn a_non_dicom_file_is_refused_by_name_and_nothing_is_written() {
    let t = tmp();
    let png = t.path().join("out.png");
    let jfif = data().join("resolution/philips/non_dicom_test.jfif");
    let (j, p) = (jfif.display().to_string(), png.display().to_string());
    for m in ["snr", "uniformity", "ghosting", "geometry"] {
        assert_fails(
            &["qa", m, &j, "--png", &p],
            &png,
            &["non_dicom_test.jfif", "not a DICOM file"],
        );
    }
    // A folder holding only that file has no usable image.
    let dir = data().join("resolution/philips").display().to_string();
    assert_fails(
        &["qa", "uniformity", &dir, "--png", &p],
        &png,
        &[
            "no usable DICOM image in this folder",
            "non_dicom_test.jfif",
        ],
    );
}

#[test]
fn dicom_without_pixel_data_and_missing_files_are_clear_errors() {
    let t = tmp();
    let png = t.path().join("out.png");
    let p = png.display().to_string();
    // Cut a real image just before its Pixel Data element (7FE0,0010).
    let src = std::fs::read(data().join("snr/GE/IM-0003-0001.dcm")).unwrap();
    let at = src
        .windows(4)
        .rposition(|w| w == [0xE0, 0x7F, 0x10, 0x00])
        .unwrap();
    let nopix = t.path().join("no_pixels.dcm");
    std::fs::write(&nopix, &src[..at]).unwrap();
    let n = nopix.display().to_string();
    assert_fails(
        &["qa", "snr", &n, "--png", &p],
        &png,
        &["no_pixels.dcm", "no pixel data"],
    );
    let missing = t.path().join("missing.dcm").display().to_string();
    assert_fails(
        &["qa", "geometry", &missing, "--png", &p],
        &png,
        &["missing.dcm"],
    );
    // An empty folder.
    let empty = t.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let e = empty.display().to_string();
    assert_fails(
        &["qa", "ghosting", &e, "--png", &p],
        &png,
        &["empty", "no usable DICOM image"],
    );
    // Two series where one is expected.
    let a = acr_dir("GE_Artist_1.5T_T1");
    let b = acr_dir("PhilipsAchieva");
    assert_fails(
        &["qa", "uniformity", &a, &b, "--png", &p],
        &png,
        &["takes one ACR series"],
    );
}

fn assert_png(path: &Path) {
    let b = std::fs::read(path).unwrap();
    assert_eq!(
        &b[..8],
        b"\x89PNG\r\n\x1a\n",
        "{} is not a PNG",
        path.display()
    );
    assert_eq!(&b[12..16], b"IHDR");
    let w = u32::from_be_bytes([b[16], b[17], b[18], b[19]]);
    let h = u32::from_be_bytes([b[20], b[21], b[22], b[23]]);
    assert!(w >= 256 && h >= 256, "{w} x {h}");
    assert_eq!(&b[b.len() - 8..b.len() - 4], b"IEND");
}

#[test]
fn figures_are_valid_pngs_and_are_not_clobbered_without_force() {
    let t = tmp();
    let ge = acr_dir("GE_Artist_1.5T_T1");
    let pair = data().join("snr/Siemens").display().to_string();
    for (m, input) in [
        ("snr", pair.as_str()),
        ("uniformity", ge.as_str()),
        ("ghosting", ge.as_str()),
        ("geometry", ge.as_str()),
    ] {
        let png = t.path().join(format!("{m}.png"));
        let p = png.display().to_string();
        let out = accord(&["qa", m, input, "--png", &p]);
        assert!(out.status.success(), "{m}: {}", stderr(&out));
        assert_png(&png);
        let before = std::fs::read(&png).unwrap();
        std::fs::write(&png, b"keep me").unwrap();
        let again = accord(&["qa", m, input, "--png", &p]);
        assert_eq!(again.status.code(), Some(1));
        assert!(
            stderr(&again).contains("already exists"),
            "{}",
            stderr(&again)
        );
        assert_eq!(std::fs::read(&png).unwrap(), b"keep me");
        let forced = accord(&["qa", m, input, "--png", &p, "--force"]);
        assert!(forced.status.success(), "{}", stderr(&forced));
        assert_eq!(std::fs::read(&png).unwrap(), before);
    }
    // A failed measurement still draws what it found, for diagnosis.
    let png = t.path().join("failed.png");
    let out = accord(&[
        "qa",
        "ghosting",
        &acr_dir("GE_Signa_3T_T1"),
        "--png",
        &png.display().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_png(&png);
}

#[test]
fn json_output_has_values_with_units_and_no_nan() {
    let d = acr_dir("Siemens_Aera_1.5T_T1");
    for m in ["snr", "uniformity", "ghosting", "geometry"] {
        let out = accord(&["qa", m, &d, "--json"]);
        assert!(out.status.success(), "{m}: {}", stderr(&out));
        let s = String::from_utf8_lossy(&out.stdout);
        assert!(!s.contains("NaN") && !s.contains("inf"), "{s}");
        let v: Value = serde_json::from_str(&s).unwrap();
        assert_eq!(v["measurement"], m);
        assert!(v["inputs"].as_array().is_some_and(|a| !a.is_empty()));
        assert!(v["scanner"]["field_strength"]["unit"] == "T");
    }
}

/// Prints the Accord vs hazen table of `phantoms/README.md`:
/// `cargo test --release --test qa -- --ignored --nocapture comparison_table`.
#[test]
#[ignore = "prints the README table; run by hand"]
fn comparison_table() {
    let mut rows: Vec<(String, String, Option<f64>, Option<f64>)> = Vec::new();
    let value = |v: &Value| v["value"].as_f64();
    for d in ACR {
        let dir = acr_dir(d);
        let (_, s) = qa_json(&["snr", &dir]);
        let h = hazen("acr_snr", &format!("acr_{d}"));
        let sm = &s["results"]["smoothing"][0];
        rows.push((
            d.into(),
            "SNR (smoothing)".into(),
            value(&sm["snr"]),
            hazen_value(&h, "measured", "smoothing", ""),
        ));
        rows.push((
            d.into(),
            "normalised SNR (smoothing)".into(),
            value(&sm["normalised_snr"]),
            hazen_value(&h, "normalised", "smoothing", ""),
        ));
        for (task, label, key, subtype) in [
            ("uniformity", "PIU %", "piu", "Integral uniformity"),
            ("ghosting", "PSG %", "psg", "signal ghosting"),
        ] {
            let (_, v) = qa_json(&[task, &dir]);
            rows.push((
                d.into(),
                label.into(),
                value(&v["results"][key]),
                hazen_value(
                    &hazen(&format!("acr_{task}"), &format!("acr_{d}")),
                    "measured",
                    subtype,
                    "",
                ),
            ));
        }
        let (_, geo) = qa_json(&["geometry", &dir]);
        let h = hazen("acr_geometric_accuracy", &format!("acr_{d}"));
        for (ours, theirs) in GEOMETRY_NAMES {
            let a = geo["results"]["lengths"]
                .as_array()
                .and_then(|l| l.iter().find(|x| x["name"] == ours))
                .and_then(|x| value(&x["length"]));
            rows.push((d.into(), format!("{ours} mm"), a, hazen_length(&h, theirs)));
        }
    }
    for vendor in ["GE", "Philips", "Siemens"] {
        for (label, extra) in [
            ("", &[][..]),
            (" (stored values)", &["--stored-values"][..]),
        ] {
            if vendor != "Philips" && !label.is_empty() {
                continue;
            }
            let v = snr_pair(vendor, extra);
            let h = hazen("snr", &format!("snr_{vendor}"));
            let files = h["files"].as_array().unwrap().clone();
            for (key, kind) in [("snr", "measured"), ("normalised_snr", "normalised")] {
                let name = if kind == "measured" {
                    "SNR"
                } else {
                    "normalised SNR"
                };
                rows.push((
                    format!("MagNET {vendor}{label}"),
                    format!("{name} (subtraction)"),
                    value(&v["results"]["subtraction"][key]),
                    hazen_value(&h, kind, "subtraction", ""),
                ));
                for (i, f) in files.iter().enumerate() {
                    rows.push((
                        format!("MagNET {vendor}{label}"),
                        format!("{name} (smoothing, image {})", i + 1),
                        value(&v["results"]["smoothing"][i][key]),
                        hazen_value(&h, kind, "smoothing", f.as_str().unwrap()),
                    ));
                }
            }
        }
    }
    println!("| dataset | measurement | Accord | hazen 2.0.0 | difference |");
    println!("|---|---|---|---|---|");
    for (d, m, a, b) in rows {
        let f = |x: Option<f64>| x.map_or("failed (no value)".to_string(), |v| format!("{v:.3}"));
        let diff = match (a, b) {
            (Some(a), Some(b)) if b != 0.0 => format!("{:+.2} %", 100.0 * (a - b) / b),
            _ => "-".into(),
        };
        let hz = b.map_or("NaN".to_string(), |v| format!("{v}"));
        println!("| {d} | {m} | {} | {hz} | {diff} |", f(a));
    }
}
