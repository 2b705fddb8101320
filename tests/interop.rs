//! Interoperability with the peer implementations: files Accord writes are read back
//! identically by ismrmrd-python 1.15 and by the ISMRMRD C++ library (Debian ismrmrd-tools
//! 1.8: `ismrmrd_recon_cartesian_2d`, `ismrmrd_read_timing_test`), and files ismrmrd-python
//! writes are read identically by Accord.
//!
//! Python checks need `ACCORD_PYTHON` (set by `make test`), C++ checks need the tools on PATH;
//! each is skipped with a message when absent, and fails instead when `ACCORD_REQUIRE_INTEROP=1`.

use std::path::{Path, PathBuf};
use std::process::Command;

use accord_ismrmrd::{
    Acquisition, ArrayData, Image, IsmrmrdFile, IsmrmrdWriter, Waveform, WriteOptions,
};
use serde_json::Value;
use sha2::{Digest, Sha256};

#[path = "../ismrmrd/tests/common/mod.rs"]
mod common;
use common::{python, serial, tool_on_path};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn run_python(py: &str, script: &str, args: &[&Path]) -> Vec<u8> {
    let out = Command::new(py)
        .arg(root().join("tests/python").join(script))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{script}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The digest `tests/python/dump.py` computes: packed header, trajectory, samples, in order.
fn acquisitions_sha256(acqs: &[Acquisition]) -> String {
    let mut h = Sha256::new();
    for a in acqs {
        h.update(a.header.to_bytes());
        for t in &a.traj {
            h.update(t.to_le_bytes());
        }
        for c in &a.data {
            h.update(c.re.to_le_bytes());
            h.update(c.im.to_le_bytes());
        }
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn image_values(img: &Image) -> Vec<Value> {
    let c = img.data.to_complex64_vec();
    match img.data {
        ArrayData::C32(_) | ArrayData::C64(_) => {
            c.iter().map(|v| Value::from(vec![v.re, v.im])).collect()
        }
        _ => c.iter().map(|v| Value::from(v.re)).collect(),
    }
}

/// Compares what Accord reads from `file` with what dump.py (ismrmrd-python) read.
fn assert_same_as_python(file: &Path, dump: &Value) {
    let f = IsmrmrdFile::open(file).unwrap();
    let d = f.dataset("dataset").unwrap();
    assert_eq!(d.xml_text().unwrap(), dump["xml"].as_str().unwrap());
    let acqs = d.read_all_acquisitions().unwrap();
    assert_eq!(acqs.len() as u64, dump["acquisitions"].as_u64().unwrap());
    assert_eq!(
        acquisitions_sha256(&acqs),
        dump["acquisitions_sha256"].as_str().unwrap(),
        "acquisitions differ bit for bit"
    );
    let mut series = d.image_series().unwrap();
    series.sort();
    let py_series: Vec<&String> = dump["images"].as_object().unwrap().keys().collect();
    assert_eq!(series.iter().collect::<Vec<_>>(), {
        let mut s = py_series;
        s.sort();
        s
    });
    for s in &series {
        let imgs = d.read_images(s).unwrap();
        let py = dump["images"][s].as_array().unwrap();
        assert_eq!(imgs.len(), py.len());
        for (img, p) in imgs.iter().zip(py) {
            assert_eq!(
                serde_json::to_value(img.header).unwrap(),
                p["header"],
                "series {s}"
            );
            assert_eq!(img.attributes, p["attributes"].as_str().unwrap());
            assert_eq!(
                img.data.shape(),
                p["shape"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_u64().unwrap() as usize)
                    .collect::<Vec<_>>()
            );
            assert_eq!(Value::from(image_values(img)), p["values"], "series {s}");
        }
    }
    let wf = d.read_waveforms().unwrap();
    let py = dump["waveforms"].as_array().unwrap();
    assert_eq!(wf.len(), py.len());
    for (w, p) in wf.iter().zip(py) {
        assert_eq!(serde_json::to_value(w.header).unwrap(), p["header"]);
        assert_eq!(Value::from(w.data.clone()), p["data"]);
    }
}

#[test]
fn files_written_by_ismrmrd_python_read_identically() {
    let _serial = serial();
    let Some(py) = python("ismrmrd-python interoperability") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("py.h5");
    run_python(&py, "write_sample.py", &[&file]);
    let dump: Value = serde_json::from_slice(&run_python(&py, "dump.py", &[&file])).unwrap();
    assert_eq!(dump["images"].as_object().unwrap().len(), 3);
    assert_same_as_python(&file, &dump);
    // And the python-written reference files, bit for bit.
    for name in ["py_noise.h5", "py_radial.h5", "sl_r2.h5"] {
        let p = root().join("tests/data").join(name);
        let dump: Value = serde_json::from_slice(&run_python(&py, "dump.py", &[&p])).unwrap();
        assert_same_as_python(&p, &dump);
    }
}

/// Writes a copy of `src` (XML, acquisitions, image series, waveforms) with Accord.
fn copy_with_accord(src: &Path, dst: &Path, extra_images: bool) {
    let f = IsmrmrdFile::open(src).unwrap();
    let d = f.dataset("dataset").unwrap();
    let mut w = IsmrmrdWriter::create(dst, "dataset", WriteOptions::default()).unwrap();
    w.write_xml(&d.xml_text().unwrap()).unwrap();
    w.append_acquisitions(&d.read_all_acquisitions().unwrap())
        .unwrap();
    for s in d.image_series().unwrap() {
        w.append_images(&s, &d.read_images(&s).unwrap()).unwrap();
    }
    w.append_waveforms(&d.read_waveforms().unwrap()).unwrap();
    if extra_images {
        let shape = (2, 1, 3, 5);
        for (name, data) in [
            (
                "f32",
                ArrayData::F32(ndarray::Array4::from_shape_fn(shape, |(c, _, y, x)| {
                    (c * 100 + y * 10 + x) as f32 / 7.0
                })),
            ),
            (
                "c32",
                ArrayData::C32(ndarray::Array4::from_shape_fn(shape, |(c, _, y, x)| {
                    num_complex::Complex32::new(x as f32, -((c + y) as f32))
                })),
            ),
            (
                "i16",
                ArrayData::I16(ndarray::Array4::from_shape_fn(shape, |(c, _, y, x)| {
                    (x as i16 - 2) * (y as i16 + c as i16)
                })),
            ),
        ] {
            let header = accord_ismrmrd::ImageHeader {
                image_index: 3,
                field_of_view: [10.0, 20.0, 3.0],
                ..Default::default()
            };
            w.append_images(name, &[Image::new(header, String::new(), data)])
                .unwrap();
        }
        let wf = Waveform {
            header: accord_ismrmrd::WaveformHeader {
                channels: 1,
                number_of_samples: 4,
                waveform_id: 1024,
                ..Default::default()
            },
            data: vec![1, 2, 3, u32::MAX],
        };
        w.append_waveforms(&[wf]).unwrap();
    }
    w.finish().unwrap();
}

#[test]
fn files_written_by_accord_read_identically_in_ismrmrd_python() {
    let _serial = serial();
    let Some(py) = python("ismrmrd-python interoperability") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    for name in ["py_radial.h5", "sl_r2.h5"] {
        let out = dir.path().join(name);
        copy_with_accord(&root().join("tests/data").join(name), &out, true);
        let dump: Value = serde_json::from_slice(&run_python(&py, "dump.py", &[&out])).unwrap();
        assert_eq!(dump["images"].as_object().unwrap().len(), 3, "{name}");
        assert_eq!(dump["waveforms"].as_array().unwrap().len(), 1);
        assert_same_as_python(&out, &dump);
        // The summary python computes from our file equals ours.
        let reference: Value =
            serde_json::from_slice(&run_python(&py, "info_reference.py", &[&out])).unwrap();
        let ours = serde_json::to_value(
            accord_ismrmrd::FileSummary::from_file(&IsmrmrdFile::open(&out).unwrap(), None)
                .unwrap(),
        )
        .unwrap();
        for k in [
            "acquisitions",
            "noise_acquisitions",
            "calibration_acquisitions",
            "imaging_acquisitions",
            "flags",
            "counters",
            "images",
            "waveforms",
            "xml_valid",
        ] {
            assert_eq!(ours[k], reference[k], "{name}: {k}");
        }
    }
}

#[test]
fn files_written_by_accord_read_identically_in_the_cpp_library() {
    let _serial = serial();
    let (Some(recon), Some(timing)) = (
        tool_on_path("ismrmrd_recon_cartesian_2d"),
        tool_on_path("ismrmrd_read_timing_test"),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let original = dir.path().join("original.h5");
    std::fs::copy(root().join("tests/data/sl_full.h5"), &original).unwrap();
    std::fs::set_permissions(
        &original,
        std::os::unix::fs::PermissionsExt::from_mode(0o644),
    )
    .unwrap();
    let ours = dir.path().join("ours.h5");
    // Reading `original` with Accord first also checks that Accord left no descriptor or lock
    // behind (libhdf5 opens files without close-on-exec; see ismrmrd/src/h5/cloexec.rs).
    copy_with_accord(&original, &ours, false);
    for f in [&original, &ours] {
        let out = Command::new(&recon).arg(f).output().unwrap();
        assert!(
            out.status.success(),
            "{}: {}",
            f.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let out = Command::new(&timing).arg(f).output().unwrap();
        assert!(
            out.status.success(),
            "{}: {}",
            f.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // The C++ recon wrote image series `cpp` into each file; both images must be identical,
    // so the C++ library read our acquisitions and XML exactly as it read its own.
    let image = |p: &Path| {
        IsmrmrdFile::open(p)
            .unwrap()
            .dataset("dataset")
            .unwrap()
            .read_images("cpp")
            .unwrap()
    };
    let (a, b) = (image(&original), image(&ours));
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].data.shape(), &[1, 1, 256, 256]);
    assert_eq!(a[0].data, b[0].data);
    let max = a[0]
        .data
        .to_complex64_vec()
        .iter()
        .map(|v| v.norm())
        .fold(0.0, f64::max);
    assert!(max > 0.0, "the C++ recon produced an image");
}
