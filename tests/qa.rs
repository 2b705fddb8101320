//! End-to-end tests of `accord qa` on real phantom images from GE, Philips and Siemens scanners
//! (`tests/data/phantom-images/`, from hazen's test data): every ACR dataset and every MagNET SNR
//! pair against hazen 2.0.0's own results read from its JSON files, with 2 % tolerance or a
//! documented wider one (see `phantoms/README.md`); bad input gives a clear error naming the
//! file, a non-zero exit and no output file; figures are valid PNGs and are not clobbered.

use std::path::{Path, PathBuf};
use std::process::Output;

use accord_phantoms::qa::dicom::{DicomImage, LoadOptions, load_image};
use accord_phantoms::qa::phantom::detect_phantom;
use accord_phantoms::qa::snr;
use accord_phantoms::qa::{Image, Roi};
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

// ---------------------------------------------------------------------------------------------
// NEMA single-image (background noise) SNR: hazen has no such method, so it is checked against
// the subtraction SNR of the same pair, and the pair itself explains every disagreement.

/// A rectangle ROI from its JSON geometry.
fn rect_roi(v: &Value) -> Roi {
    let i = |k: &str| v[k].as_i64().unwrap();
    assert_eq!(v["shape"], "rect");
    Roi::Rect {
        x0: i("x0"),
        y0: i("y0"),
        width: i("width"),
        height: i("height"),
    }
}

/// The two images of the pair `v` describes (rescaled, as measured).
fn pair_images(v: &Value) -> (DicomImage, DicomImage) {
    let load = |i: usize| {
        let f = v["inputs"][i]["file"].as_str().unwrap();
        load_image(Path::new(f), LoadOptions::default()).unwrap()
    };
    (load(0), load(1))
}

/// The Gaussian noise SD that the pair's difference image shows in `rois`:
/// `SD(I1 - I2) / sqrt 2`, mean over the ROIs, divided by `rayleigh` (0.655 in air, where a
/// magnitude image holds Rayleigh noise; 1 in the phantom or for a real-valued image).
fn pair_noise(i1: &Image, i2: &Image, rois: &[Roi], rayleigh: f64) -> f64 {
    let m = snr::snr_subtraction(i1, i2, rois).unwrap();
    m.rois.iter().map(|r| r.noise_sd).sum::<f64>() / m.rois.len() as f64 / rayleigh
}

/// What `accord qa snr` reported for a pair: subtraction SNR, mean signal and mean noise SD of
/// its five ROIs, and the five ROIs.
fn subtraction_of(v: &Value) -> (f64, f64, f64, Vec<Roi>) {
    let sub = &v["results"]["subtraction"];
    let rois = sub["rois"].as_array().unwrap();
    let mean = |k: &str| rois.iter().map(|r| r[k].as_f64().unwrap()).sum::<f64>() / 5.0;
    (
        sub["snr"]["value"].as_f64().unwrap(),
        mean("signal_mean"),
        mean("noise_sd"),
        rois.iter().map(|r| rect_roi(&r["roi"])).collect(),
    )
}

/// The background SNR of image 1 of a pair against its subtraction SNR, and the two factors
/// that make up their ratio, measured independently on the pair: `(ratio, signal factor,
/// noise factor, predicted ratio)`. Signal factor: NEMA's 75 % ROI mean over the mean of the five
/// central ROIs. Noise factor: noise in the phantom (difference image, five ROIs) over noise in
/// the air ROIs (difference image there, / 0.655). With both images' air holding pure noise,
/// the ratio is their product (the single image's SD in air and the pair's agree).
fn background_vs_subtraction(v: &Value) -> (f64, f64, f64, f64) {
    let (sub_snr, sub_signal, sub_noise, _) = subtraction_of(v);
    let bg = &v["results"]["background"][0];
    assert_eq!(bg["status"], "measured", "{bg}");
    let air: Vec<Roi> = bg["background_rois"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| rect_roi(&r["roi"]))
        .collect();
    let (i1, i2) = pair_images(v);
    let air_noise = pair_noise(&i1.image, &i2.image, &air, snr::RAYLEIGH_SD_FACTOR);
    let signal_factor = bg["signal_roi"]["mean"].as_f64().unwrap() / sub_signal;
    let noise_factor = sub_noise / air_noise;
    (
        bg["snr"]["value"].as_f64().unwrap() / sub_snr,
        signal_factor,
        noise_factor,
        signal_factor * noise_factor,
    )
}

/// GE SIGNA Explorer, MagNET pair: a transmit/receive head coil (Transmit and Receive Coil Name
/// both `HEAD`: one receive channel), ASSET factor 1 (no parallel imaging), magnitude images; the
/// air shows Rayleigh noise (mean/SD 1.93 against 1.913). The method's assumptions hold and its
/// SNR agrees with the subtraction SNR within 10 % (measured +5.1 % and +6.7 %). The 10 % is the
/// sum of what separates the two on this pair, each measured here: statistical error (background
/// SD from 2952 px: 1.4 %; subtraction noise from 5 x 400 px: 1.6 %), the signal ROI (NEMA's 75 %
/// ellipse reaches the dimmer edge of the bottle: its mean is 4.5 % below the central ROIs') and
/// the noise (the air in the corners holds thermal noise only, 14 % below the noise in the
/// phantom, which adds signal instability spread along the phase-encoding direction: the air
/// beside the phantom on its rows, same pair, is as noisy as the phantom).
#[test]
fn background_snr_of_the_single_channel_ge_pair_agrees_with_subtraction_within_10_percent() {
    let v = snr_pair("GE", &[]);
    let sub_snr = v["results"]["subtraction"]["snr"]["value"]
        .as_f64()
        .unwrap();
    for bg in v["results"]["background"].as_array().unwrap() {
        assert_eq!(bg["status"], "measured");
        assert_eq!(bg["flagged"], false, "{}", bg["flags"]);
        assert_eq!(bg["header"]["receive_coil"], "HEAD");
        assert_eq!(bg["header"]["transmit_coil"], "HEAD");
        assert_eq!(bg["header"]["parallel_factor"], 1.0);
        assert_eq!(bg["phase_encoding"], "horizontal");
        let m = bg["mean_to_sd"]["value"].as_f64().unwrap();
        assert!((m / snr::RAYLEIGH_MEAN_TO_SD - 1.0).abs() < 0.05, "{m}");
        assert_eq!(bg["snr"]["unit"], "1");
        assert_rel(
            "GE background vs subtraction SNR",
            bg["snr"]["value"].as_f64().unwrap(),
            sub_snr,
            0.10,
        );
        // Four corner ROIs, above and below the phantom (off its phase-encoding lines).
        assert_eq!(bg["background_rois"].as_array().unwrap().len(), 4);
        assert!(bg["background_pixels"].as_u64().unwrap() >= 1000);
        let frac = bg["signal_roi"]["fraction_of_phantom_area"]
            .as_f64()
            .unwrap();
        assert!((frac - 0.75).abs() < 0.01, "{frac}");
    }
    let (ratio, signal_factor, noise_factor, predicted) = background_vs_subtraction(&v);
    assert!((0.9..1.0).contains(&signal_factor), "{signal_factor}");
    assert!((1.0..1.25).contains(&noise_factor), "{noise_factor}");
    assert!(
        (ratio / predicted - 1.0).abs() < 0.10,
        "{ratio} vs {predicted}"
    );
    // Where the extra noise in the phantom comes from: the air on the phantom's rows (the phase-
    // encoding lines through it), left and right of it, is as noisy as the phantom itself.
    let (i1, i2) = pair_images(&v);
    let (x_min, y_min, x_max, y_max) = detect_phantom(&i1.image).unwrap().extent();
    let band = |x0: i64, x1: i64| Roi::Rect {
        x0,
        y0: y_min.ceil() as i64 + 10,
        width: x1 - x0,
        height: (y_max - y_min) as i64 - 20,
    };
    let cols = i1.image.cols() as i64;
    let bands = [
        band(6, x_min.floor() as i64 - 5),
        band(x_max.ceil() as i64 + 5, cols - 6),
    ];
    let band_noise = pair_noise(&i1.image, &i2.image, &bands, snr::RAYLEIGH_SD_FACTOR);
    let (_, _, sub_noise, _) = subtraction_of(&v);
    assert!(
        (band_noise / sub_noise - 1.0).abs() < 0.10,
        "{band_noise} vs {sub_noise}"
    );
}

/// Siemens Aera, MagNET pair: a receive-only 20-channel head/neck array (coil string
/// `HE1-4;NE1,2`, transmit `Body`), combined and intensity-normalised (Image Type `NORM`); the
/// air is not Rayleigh noise (mean/SD 1.55). The method's assumption fails and Accord flags it.
/// Its SNR is 2.6 times the subtraction SNR, and the pair shows why: the difference image's noise
/// in the corner air is 0.37 times the noise in the phantom (coil combination and normalisation
/// shape the noise across the image), so the background SD says nothing about the noise where
/// the signal is. Asserted: flagged, more than twice the subtraction SNR, and the ratio matches
/// the noise ratio measured on the pair within 10 %.
#[test]
fn background_snr_of_the_multichannel_siemens_pair_is_flagged_and_explained_by_the_pair() {
    let v = snr_pair("Siemens", &[]);
    let sub_snr = v["results"]["subtraction"]["snr"]["value"]
        .as_f64()
        .unwrap();
    for bg in v["results"]["background"].as_array().unwrap() {
        assert_eq!(bg["flagged"], true);
        let flags = bg["flags"].to_string();
        for needle in ["several elements", "NORM", "mean/SD"] {
            assert!(flags.contains(needle), "{needle} not in {flags}");
        }
        assert_eq!(bg["header"]["transmit_coil"], "Body");
        let ratio = bg["snr"]["value"].as_f64().unwrap() / sub_snr;
        assert!(ratio > 2.0, "{ratio}");
    }
    let (ratio, signal_factor, noise_factor, predicted) = background_vs_subtraction(&v);
    assert!((signal_factor - 1.0).abs() < 0.05, "{signal_factor}");
    assert!(noise_factor > 2.2, "{noise_factor}");
    assert!(
        (ratio / predicted - 1.0).abs() < 0.10,
        "{ratio} vs {predicted}"
    );
}

/// Philips Ingenia, MagNET pair: Image Type `R` (a real-valued reconstruction, not magnitude),
/// `MULTI COIL`. Half the air pixels are negative, so the 0.655 Rayleigh factor does not apply and
/// Accord flags it: the pair's noise in the air equals the noise in the phantom with no Rayleigh
/// correction (Gaussian noise of the same SD everywhere), within 5 %.
#[test]
fn background_snr_of_the_real_valued_philips_pair_is_flagged() {
    let v = snr_pair("Philips", &[]);
    for bg in v["results"]["background"].as_array().unwrap() {
        assert_eq!(bg["flagged"], true);
        let flags = bg["flags"].to_string();
        assert!(flags.contains("negative"), "{flags}");
        assert!(flags.contains("Image Type says R"), "{flags}");
    }
    let bg = &v["results"]["background"][0];
    let air: Vec<Roi> = bg["background_rois"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| rect_roi(&r["roi"]))
        .collect();
    let (i1, i2) = pair_images(&v);
    let (_, _, sub_noise, _) = subtraction_of(&v);
    let air_noise = pair_noise(&i1.image, &i2.image, &air, 1.0);
    assert!(
        (air_noise / sub_noise - 1.0).abs() < 0.05,
        "{air_noise} vs {sub_noise}"
    );
}

/// ACR slice 7: every dataset reports the background method. The two GE series (transmit/receive
/// `HEAD` coils) are not flagged and agree with the smoothing SNR within the 10 % justified for the
/// GE pair above (measured -3.7 % and +3.9 %); the Philips (`MULTI COIL`, `SENSE_HEAD_8`, air
/// masked to 0) and Siemens (20-channel arrays) series are flagged.
#[test]
fn acr_background_snr_is_reported_and_flagged_where_its_assumptions_fail() {
    for d in ACR {
        let (out, v) = qa_json(&["snr", &acr_dir(d)]);
        assert!(out.status.success(), "{d}: {}", stderr(&out));
        let bg = &v["results"]["background"][0];
        assert_eq!(bg["status"], "measured", "{d}: {bg}");
        let ours = bg["snr"]["value"].as_f64().unwrap();
        if d.starts_with("GE") {
            assert_eq!(bg["flagged"], false, "{d}: {}", bg["flags"]);
            let smoothing = v["results"]["smoothing"][0]["snr"]["value"]
                .as_f64()
                .unwrap();
            assert_rel(
                &format!("{d} background vs smoothing SNR"),
                ours,
                smoothing,
                0.10,
            );
        } else {
            assert_eq!(bg["flagged"], true, "{d}");
        }
        if d.starts_with("Philips") {
            assert!(bg["flags"].to_string().contains("exactly 0"), "{d}");
        }
    }
}

/// Prints the background-method table of `phantoms/README.md`:
/// `cargo test --release --test qa -- --ignored --nocapture background_table`.
#[test]
#[ignore = "prints the README table; run by hand"]
fn background_table() {
    println!("| dataset | image | background SNR | reference SNR | ratio | air mean/SD | flags |");
    println!("|---|---|---|---|---|---|---|");
    let row = |d: &str, v: &Value, reference: f64, what: &str| {
        for (i, bg) in v["results"]["background"]
            .as_array()
            .unwrap()
            .iter()
            .enumerate()
        {
            let snr = bg["snr"]["value"].as_f64().unwrap();
            let flags: Vec<String> = bg["flags"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| {
                    let f = f.as_str().unwrap();
                    f.split(':').next().unwrap_or(f).to_string()
                })
                .collect();
            println!(
                "| {d} | {} | {snr:.1} | {reference:.1} ({what}) | {:.2} | {:.2} | {} |",
                i + 1,
                snr / reference,
                bg["mean_to_sd"]["value"].as_f64().unwrap(),
                if flags.is_empty() {
                    "none".to_string()
                } else {
                    flags.join("; ")
                }
            );
        }
    };
    for vendor in ["GE", "Philips", "Siemens"] {
        let v = snr_pair(vendor, &[]);
        let sub = v["results"]["subtraction"]["snr"]["value"]
            .as_f64()
            .unwrap();
        row(&format!("MagNET {vendor}"), &v, sub, "subtraction");
        let (ratio, signal_factor, noise_factor, predicted) = background_vs_subtraction(&v);
        println!(
            "| MagNET {vendor} | 1: signal x noise factors | | | {ratio:.3} = {signal_factor:.3} x {noise_factor:.3} (product {predicted:.3}) | | |"
        );
    }
    for d in ACR {
        let (_, v) = qa_json(&["snr", &acr_dir(d)]);
        let sm = v["results"]["smoothing"][0]["snr"]["value"]
            .as_f64()
            .unwrap();
        row(d, &v, sm, "smoothing");
    }
}

#[test]
fn single_image_snr_uses_smoothing_only_and_text_output_is_readable() {
    let f = data().join("snr/GE/IM-0003-0001.dcm").display().to_string();
    let (out, v) = qa_json(&["snr", &f]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(v["results"]["subtraction"], Value::Null);
    assert_eq!(v["results"]["smoothing"].as_array().unwrap().len(), 1);
    assert_eq!(v["results"]["background"].as_array().unwrap().len(), 1);
    let text = accord(&["qa", "snr", &f]);
    assert!(text.status.success());
    let s = String::from_utf8_lossy(&text.stdout);
    assert!(
        s.contains("Signal-to-noise ratio") && s.contains("smoothing") && s.contains("background"),
        "{s}"
    );
    assert!(
        s.contains("valid only for single-channel magnitude images"),
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
