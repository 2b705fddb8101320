//! End-to-end tests of the `accord` binary: `accord info` on every reference file agrees with
//! what ismrmrd-python reports (expected JSON made by `tests/python/info_reference.py`, and
//! re-made live when `ACCORD_PYTHON` names a Python with ismrmrd installed), and bad input gives
//! a clear error and a non-zero exit.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

#[path = "../ismrmrd/tests/common/mod.rs"]
mod common;
use common::python;

#[path = "common/mod.rs"]
mod accord_cli;
use accord_cli::{accord, files_with_extension, root};

fn reference_files() -> Vec<PathBuf> {
    let v = files_with_extension(&root().join("tests/data"), "h5");
    assert!(v.len() >= 9, "reference files missing from tests/data");
    v
}

fn info_json(file: &Path) -> Value {
    let out = accord(&["info", file.to_str().unwrap(), "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Every key the reference reports must match ours (floats to 1e-4 relative).
fn assert_agrees(ours: &Value, reference: &Value, what: &str) {
    match (ours, reference) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, bv) in b {
                if k == "file" {
                    continue;
                }
                let av = a
                    .get(k)
                    .unwrap_or_else(|| panic!("{what}: key '{k}' missing from accord's output"));
                assert_agrees(av, bv, &format!("{what}.{k}"));
            }
            if what.ends_with(".flags") || what.ends_with(".images") || what.ends_with(".counters")
            {
                assert_eq!(a.len(), b.len(), "{what}: {ours} vs {reference}");
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            assert_eq!(a.len(), b.len(), "{what}: {ours} vs {reference}");
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                assert_agrees(x, y, &format!("{what}[{i}]"));
            }
        }
        (Value::Number(a), Value::Number(b)) => {
            let (x, y) = (a.as_f64().unwrap(), b.as_f64().unwrap());
            assert!(
                (x - y).abs() <= 1e-4 * y.abs().max(1.0),
                "{what}: {x} vs {y}"
            );
        }
        _ => assert_eq!(ours, reference, "{what}"),
    }
}

#[test]
fn info_json_agrees_with_ismrmrd_python_on_every_reference_file() {
    for f in reference_files() {
        let name = f.file_stem().unwrap().to_str().unwrap();
        let expected = root().join(format!("tests/data/expected/{name}.info.json"));
        let reference: Value =
            serde_json::from_str(&std::fs::read_to_string(&expected).unwrap()).unwrap();
        let ours = info_json(&f);
        assert_agrees(&ours, &reference, name);
        for key in [
            "file",
            "group",
            "groups",
            "acquisitions",
            "noise_acquisitions",
            "calibration_acquisitions",
            "imaging_acquisitions",
            "channels",
            "samples",
            "trajectory_dimensions",
            "flags",
            "counters",
            "encodings",
            "images",
            "waveforms",
            "xml_valid",
        ] {
            assert!(ours.get(key).is_some(), "{name}: key {key} missing");
        }
    }
}

#[test]
fn info_json_agrees_with_live_ismrmrd_python() {
    let Some(py) = python("live ismrmrd-python summary") else {
        return;
    };
    for f in reference_files() {
        let out = Command::new(&py)
            .arg(root().join("tests/python/info_reference.py"))
            .arg(&f)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let reference: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_agrees(&info_json(&f), &reference, f.to_str().unwrap());
    }
}

#[test]
fn info_human_summary_names_the_essentials() {
    let out = accord(&["info", "tests/data/sl_r2.h5"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "216 (0 noise, 48 calibration, 192 imaging)",
        "cartesian",
        "encoded 384×192×1",
        "recon 192×192×1",
        "R 2×1",
        "ACQ_IS_PARALLEL_CALIBRATION",
        "XML header     valid",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
    let out = accord(&[
        "info",
        "tests/data/real_image_siemens_prisma_spiral.h5",
        "--group",
        "images",
    ]);
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .contains("images_1: 1 images")
    );
}

fn assert_fails(args: &[&str], needles: &[&str]) {
    let out = accord(args);
    assert!(!out.status.success(), "{args:?} should fail");
    assert_eq!(out.status.code(), Some(1), "{args:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    for n in needles {
        assert!(err.contains(n), "{args:?}: missing {n:?} in: {err}");
    }
}

#[test]
fn bad_input_gives_clear_errors_and_nonzero_exit() {
    assert_fails(
        &["info", "Cargo.toml"],
        &["Cargo.toml", "no HDF5 signature", "ISMRMRD stream"],
    );
    assert_fails(
        &["info", "tests/data/absent.h5"],
        &["absent.h5", "No such file"],
    );
    assert_fails(
        &["info", "tests/data/sl_r2.h5", "--group", "nope"],
        &["sl_r2.h5", "no group 'nope'", "dataset"],
    );
    let dir = tempfile::tempdir().unwrap();
    let cut = dir.path().join("cut.h5");
    let bytes = std::fs::read(root().join("tests/data/py_noise.h5")).unwrap();
    std::fs::write(&cut, &bytes[..bytes.len() / 3]).unwrap();
    assert_fails(&["info", cut.to_str().unwrap()], &["cut.h5", "truncated"]);
    // Usage errors come from clap with exit code 2.
    let out = accord(&["info"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn info_reads_ismrmrd_streams_too() {
    use accord_ismrmrd::stream::{StreamItem, StreamWriter};
    let src = root().join("tests/data/sl_r2.h5");
    let f = accord_ismrmrd::IsmrmrdFile::open(&src).unwrap();
    let d = f.dataset("dataset").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sl_r2.bin");
    let mut w = StreamWriter::new(std::fs::File::create(&path).unwrap());
    w.write(&StreamItem::Header(d.xml_text().unwrap())).unwrap();
    for a in d.read_all_acquisitions().unwrap() {
        w.write(&StreamItem::Acquisition(a)).unwrap();
    }
    w.finish().unwrap();
    let from_stream = info_json(&path);
    let from_hdf5 = info_json(&src);
    assert_eq!(from_stream["group"], "stream");
    assert_eq!(from_stream["format"], "stream");
    assert_eq!(from_hdf5["format"], "hdf5");
    for key in [
        "acquisitions",
        "noise_acquisitions",
        "calibration_acquisitions",
        "imaging_acquisitions",
        "channels",
        "samples",
        "trajectory_dimensions",
        "flags",
        "counters",
        "encodings",
        "xml_valid",
    ] {
        assert_eq!(from_stream[key], from_hdf5[key], "{key}");
    }
    assert_fails(
        &["info", path.to_str().unwrap(), "--group", "dataset"],
        &["sl_r2.bin", "ISMRMRD stream", "no groups"],
    );
    // A stream cut inside an acquisition names the message and its offset.
    let bytes = std::fs::read(&path).unwrap();
    let cut = dir.path().join("cut.bin");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    assert_fails(
        &["info", cut.to_str().unwrap()],
        &["cut.bin", "stream message", "byte offset"],
    );
}
