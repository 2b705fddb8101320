//! The pipeline's non-Cartesian path with the radial example configurations
//! (`examples/recon/radial-*.toml`) on `py_radial` (2-D golden-angle radial, 100 spokes × 256
//! samples, 8 coils, 128 × 128): NRMSE against the ground truth ≤ 1.05 × the BART reference's
//! NRMSE from `tests/data/provenance/py_radial.json`; and the errors for a `nufft` stage on
//! Cartesian data, non-Cartesian data without one, and GRAPPA on non-Cartesian data.

use std::path::{Path, PathBuf};
use std::time::Instant;

use accord_ismrmrd::IsmrmrdFile;
use accord_recon::config::ReconConfig;
use accord_recon::io::npy::read_npy_f32;
use accord_recon::metrics::nrmse;
use accord_recon::pipeline::{self, ReconOutput};
use accord_recon::{CpuBackend, Result};

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

fn reference(method: &str) -> f64 {
    let text = std::fs::read_to_string(repo("tests/data/provenance/py_radial.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    json["references"][method]["nrmse"]
        .as_f64()
        .unwrap_or_else(|| panic!("py_radial: no {method}.nrmse"))
}

fn example(config: &str) -> ReconConfig {
    let path = repo(&format!("examples/recon/{config}.toml"));
    ReconConfig::from_toml(&std::fs::read_to_string(&path).unwrap(), config).unwrap()
}

fn run(cfg: &ReconConfig, dataset: &str) -> Result<ReconOutput> {
    let file = IsmrmrdFile::open(repo(&format!("tests/data/{dataset}.h5"))).unwrap();
    let ds = file.dataset("dataset").unwrap();
    pipeline::run(
        cfg,
        &ds.header().unwrap(),
        &ds.read_all_acquisitions().unwrap(),
        &CpuBackend::new(),
        &|_, _, _| {},
    )
}

/// Runs `cfg` on `py_radial` and checks `NRMSE ≤ 1.05 × method's`.
fn check(label: &str, cfg: &ReconConfig, method: &str) -> f64 {
    let start = Instant::now();
    let out = run(cfg, "py_radial").unwrap();
    let seconds = start.elapsed().as_secs_f64();
    assert_eq!(out.shape, [128, 128], "axes {:?}", out.axes);
    assert_eq!(out.axes, ["y", "x"]);
    let (gt_shape, gt) = read_npy_f32(repo("tests/data/recon/py_radial.gt.npy")).unwrap();
    assert_eq!(gt_shape, [128, 128]);
    let ours = nrmse(&out.magnitude, &gt).unwrap();
    let reference = reference(method);
    eprintln!(
        "py_radial {label:12} vs {method:18} NRMSE accord {ours:.5} reference {reference:.5} \
         ratio {:.3} ({seconds:.2} s)",
        ours / reference
    );
    for s in &out.stages {
        eprintln!("  {}: {}", s.kind, s.decision);
    }
    assert!(
        ours <= 1.05 * reference,
        "py_radial {label}: NRMSE {ours} > 1.05 × {method} {reference}"
    );
    ours
}

#[test]
fn radial_sense_like_bart_pics_l2() {
    check("radial-sense", &example("radial-sense"), "bart_pics_l2");
}

/// l1-wavelet FISTA on NUFFT·maps: 1.002 × BART's `pics -R W:3:0:0.005` since the wavelet
/// bands stop at 16 samples as BART's do (1.07 × with 4 levels everywhere).
#[test]
fn radial_cs_like_bart_pics_wavelet() {
    check("radial-cs", &example("radial-cs"), "bart_pics_cs");
}

#[test]
fn radial_gridding_like_bart_nufft_adjoint() {
    let cfg = ReconConfig::from_toml(
        "schema_version = 1\n[[stage]]\nkind = \"nufft\"\nkernel_width = 6\ndensity = \"ramp\"\n\
         [[stage]]\nkind = \"combine\"\n",
        "adjoint.toml",
    )
    .unwrap();
    check("adjoint+RSS", &cfg, "bart_nufft_adjoint");
}

#[test]
fn nufft_stage_on_cartesian_data_is_an_error() {
    let e = run(&example("radial-sense"), "sl_full")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("the data are Cartesian (no trajectory); remove the nufft stage"),
        "{e}"
    );
}

#[test]
fn non_cartesian_data_without_a_nufft_stage_is_an_error() {
    let e = run(&example("sense"), "py_radial").unwrap_err().to_string();
    assert!(
        e.contains("acquisition 0")
            && e.contains("non-Cartesian")
            && e.contains("goldenangle")
            && e.contains("'nufft' stage"),
        "{e}"
    );
}

#[test]
fn grappa_on_non_cartesian_data_is_an_error() {
    let cfg = ReconConfig::from_toml(
        "schema_version = 1\n[[stage]]\nkind = \"nufft\"\n[[stage]]\nkind = \"grappa\"\n",
        "grappa.toml",
    )
    .unwrap();
    let e = run(&cfg, "py_radial").unwrap_err().to_string();
    assert!(
        e.contains("stage grappa") && e.contains("non-Cartesian"),
        "{e}"
    );
}
