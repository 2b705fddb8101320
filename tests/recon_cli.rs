//! End-to-end tests of `accord recon`: outputs by extension with the provenance sidecar,
//! `--explain`, refusing to clobber, and clear errors (file, line or stage named, non-zero
//! exit, nothing written) for bad configurations and data a stage cannot use.

#[path = "common/mod.rs"]
mod accord_cli;
use accord_cli::{accord, stderr};

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_string()
}

fn npy_shape(bytes: &[u8]) -> String {
    let header = String::from_utf8_lossy(&bytes[10..bytes.len().min(128)]).into_owned();
    let start = header.find("'shape': (").unwrap() + 10;
    let end = header[start..].find(')').unwrap() + start;
    header[start..end].to_string()
}

#[test]
fn rss_to_npy_nifti_and_ismrmrd_with_provenance() {
    let dir = tmp();
    let npy = dir.path().join("slf.npy");
    let out = accord(&[
        "recon",
        "tests/data/py_msmc.h5",
        "--config",
        "examples/recon/rss.toml",
        "-o",
        npy.to_str().unwrap(),
        "--preview",
        dir.path().join("p.png").to_str().unwrap(),
        "--quiet",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let bytes = std::fs::read(&npy).unwrap();
    assert_eq!(&bytes[..6], b"\x93NUMPY");
    assert_eq!(npy_shape(&bytes), "2, 2, 128, 128");
    let side: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("slf.json")).unwrap())
            .unwrap();
    assert_eq!(side["schema"], "accord-recon-provenance/1");
    assert_eq!(
        side["output_axes"],
        serde_json::json!(["slice", "contrast", "y", "x"])
    );
    assert_eq!(side["input_sha256"].as_str().unwrap().len(), 64);
    assert!(
        side["config_toml"]
            .as_str()
            .unwrap()
            .contains("kind = \"prewhiten\"")
    );
    assert_eq!(
        &std::fs::read(dir.path().join("p.png")).unwrap()[1..4],
        b"PNG"
    );

    // NIfTI: header of a 4-D image (x, y, slice, contrast) with a scanner sform.
    let nii = dir.path().join("m.nii.gz");
    let out = accord(&[
        "recon",
        "tests/data/py_msmc.h5",
        "--config",
        "examples/recon/rss.toml",
        "-o",
        nii.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut plain = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(&std::fs::read(&nii).unwrap()[..]),
        &mut plain,
    )
    .unwrap();
    let i16_at = |o: usize| i16::from_le_bytes([plain[o], plain[o + 1]]);
    assert_eq!(
        (i16_at(40), i16_at(42), i16_at(44), i16_at(46), i16_at(48)),
        (4, 128, 128, 2, 2)
    );
    assert_eq!(i16_at(254), 1, "sform_code scanner");

    // ISMRMRD images, read back with the ismrmrd crate.
    let h5 = dir.path().join("img.h5");
    let out = accord(&[
        "recon",
        "tests/data/sl_reps.h5",
        "--config",
        "examples/recon/rss.toml",
        "-o",
        h5.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let f = accord_ismrmrd::IsmrmrdFile::open(&h5).unwrap();
    let ds = f.dataset("dataset").unwrap();
    let images = ds.read_images("image_0").unwrap();
    assert_eq!(images.len(), 3);
    assert_eq!(images[2].header.repetition, 2);
    assert_eq!(images[0].header.matrix_size, [128, 128, 1]);
}

#[test]
fn explain_prints_every_default() {
    let out = accord(&[
        "recon",
        "--explain",
        "--config",
        "examples/recon/sense.toml",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "stage[2] sensitivities",
        "crop = 0.8",
        "kernel = 6",
        "tolerance = 0.0",
    ] {
        assert!(text.contains(needle), "missing {needle}:\n{text}");
    }
}

#[test]
fn refuses_to_clobber_and_names_bad_input() {
    let dir = tmp();
    let out_path = dir.path().join("x.npy");
    std::fs::write(&out_path, b"keep").unwrap();
    let run = |cfg: &str, raw: &str, out: &str, extra: &[&str]| {
        let mut args = vec!["recon", raw, "--config", cfg, "-o", out, "--quiet"];
        args.extend_from_slice(extra);
        accord(&args)
    };
    let o = out_path.to_str().unwrap();
    let r = run("examples/recon/rss.toml", "tests/data/sl_full.h5", o, &[]);
    assert!(!r.status.success());
    assert!(stderr(&r).contains("exists (use --force"), "{}", stderr(&r));
    assert_eq!(std::fs::read(&out_path).unwrap(), b"keep");

    // Unknown key, with the file and line.
    let bad = write(
        dir.path(),
        "bad.toml",
        "schema_version = 1\n[[stage]]\nkind = \"sense\"\niteration = 5\n",
    );
    let fresh = dir.path().join("y.npy");
    let f = fresh.to_str().unwrap();
    let r = run(&bad, "tests/data/sl_full.h5", f, &[]);
    let e = stderr(&r);
    assert!(
        !r.status.success() && e.contains("bad.toml") && e.contains("line 4"),
        "{e}"
    );
    // GRAPPA on data without calibration lines.
    let r = run(
        "examples/recon/grappa.toml",
        "tests/data/py_noise.h5",
        f,
        &[],
    );
    let e = stderr(&r);
    assert!(
        !r.status.success() && e.contains("grappa") && e.contains("calibration"),
        "{e}"
    );
    // A CUDA backend in a CPU-only build.
    let r = run(
        "examples/recon/rss.toml",
        "tests/data/sl_full.h5",
        f,
        &["--backend", "cuda"],
    );
    let e = stderr(&r);
    assert!(!r.status.success() && e.contains("cuda"), "{e}");
    // --complex with an RSS pipeline.
    let r = run(
        "examples/recon/rss.toml",
        "tests/data/sl_full.h5",
        f,
        &["--complex"],
    );
    assert!(
        !r.status.success() && stderr(&r).contains("--complex"),
        "{}",
        stderr(&r)
    );
    // A file that is not ISMRMRD.
    let r = run("examples/recon/rss.toml", "examples/recon/rss.toml", f, &[]);
    assert!(
        !r.status.success() && stderr(&r).contains("rss.toml"),
        "{}",
        stderr(&r)
    );
    assert!(!fresh.exists(), "nothing is written on errors");
    assert!(!dir.path().join("y.json").exists());
}

#[test]
fn partial_fourier_and_coil_compression_end_to_end() {
    // Partial-Fourier raw data: sl_full without its first 3/8 of ky lines (96 of 256).
    let dir = tmp();
    let src = accord_ismrmrd::IsmrmrdFile::open("tests/data/sl_full.h5").unwrap();
    let ds = src.dataset("dataset").unwrap();
    let acqs: Vec<_> = ds
        .read_all_acquisitions()
        .unwrap()
        .into_iter()
        .filter(|a| a.header.is_noise() || a.header.idx.kspace_encode_step_1 >= 96)
        .collect();
    let raw = dir.path().join("pf.h5");
    let mut w = accord_ismrmrd::IsmrmrdWriter::create(
        &raw,
        "dataset",
        accord_ismrmrd::WriteOptions::default(),
    )
    .unwrap();
    w.write_xml(&ds.xml_text().unwrap()).unwrap();
    w.append_acquisitions(&acqs).unwrap();
    w.finish().unwrap();

    let npy = dir.path().join("pf.npy");
    let out = accord(&[
        "recon",
        raw.to_str().unwrap(),
        "--config",
        "examples/recon/partial-fourier.toml",
        "-o",
        npy.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(npy_shape(&std::fs::read(&npy).unwrap()), "256, 256");
    let side: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("pf.json")).unwrap())
            .unwrap();
    let stages = side["stages"].to_string();
    assert!(
        stages.contains("homodyne detection") && stages.contains("ky 96..256 of 256"),
        "{stages}"
    );

    // Coil compression before GRAPPA: the record keeps the energy fraction.
    let npy = dir.path().join("cc.npy");
    let out = accord(&[
        "recon",
        "tests/data/sl_r4.h5",
        "--config",
        "examples/recon/grappa-cc.toml",
        "-o",
        npy.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        npy_shape(&std::fs::read(&npy).unwrap()),
        "4, 192, 192",
        "four interleaved frames"
    );
    let side: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("cc.json")).unwrap())
            .unwrap();
    let stages = side["stages"].to_string();
    assert!(
        stages.contains("8 → 6 virtual coils") && stages.contains("% of the energy kept"),
        "{stages}"
    );
}
