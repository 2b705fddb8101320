//! The pipeline with the example configurations (`examples/recon/*.toml`) on the reference
//! datasets: NRMSE against the ground truth ≤ 1.05 × the reference method's NRMSE from
//! `tests/data/provenance/*.json` (BART ecalib + pics for SENSE and CS, pygrappa for GRAPPA).
//! The references reconstruct repetition 0 of `sl_r2`/`sl_r4`; so does the comparison.

use std::path::{Path, PathBuf};

use accord_ismrmrd::IsmrmrdFile;
use accord_recon::CpuBackend;
use accord_recon::config::ReconConfig;
use accord_recon::io::npy::read_npy_f32;
use accord_recon::metrics::nrmse;
use accord_recon::pipeline;

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

fn reference(dataset: &str, method: &str) -> f64 {
    let text =
        std::fs::read_to_string(repo(&format!("tests/data/provenance/{dataset}.json"))).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    json["references"][method]["nrmse"]
        .as_f64()
        .unwrap_or_else(|| panic!("{dataset}: no {method}.nrmse"))
}

/// Runs `examples/recon/{config}.toml` on `dataset` and checks the first image or volume
/// (repetition 0 where the data have repetitions) against `gt_file`.
fn check(dataset: &str, config: &str, method: &str, gt_file: &str) -> f64 {
    let path = repo(&format!("examples/recon/{config}.toml"));
    check_text(
        dataset,
        config,
        &std::fs::read_to_string(&path).unwrap(),
        method,
        gt_file,
    )
}

/// The first image or volume of `dataset` reconstructed with the configuration `text`, and
/// the ground truth `gt_file`.
fn first_image(dataset: &str, config: &str, text: &str, gt_file: &str) -> (Vec<f32>, Vec<f32>) {
    let cfg = ReconConfig::from_toml(text, config).unwrap();
    let file = IsmrmrdFile::open(repo(&format!("tests/data/{dataset}.h5"))).unwrap();
    let ds = file.dataset("dataset").unwrap();
    let out = pipeline::run(
        &cfg,
        &ds.header().unwrap(),
        &ds.read_all_acquisitions().unwrap(),
        &CpuBackend::new(),
        &|_, _, _| {},
    )
    .unwrap();
    let (gt_shape, gt) = read_npy_f32(repo(&format!("tests/data/recon/{gt_file}"))).unwrap();
    assert_eq!(
        out.shape[out.shape.len() - gt_shape.len()..],
        gt_shape[..],
        "{dataset}: image shape {:?} (axes {:?})",
        out.shape,
        out.axes
    );
    (out.magnitude[..gt.len()].to_vec(), gt)
}

/// [`check`] with the configuration's text.
fn check_text(dataset: &str, config: &str, text: &str, method: &str, gt_file: &str) -> f64 {
    let (image, gt) = first_image(dataset, config, text, gt_file);
    let ours = nrmse(&image, &gt).unwrap();
    let reference = reference(dataset, method);
    eprintln!(
        "{dataset:9} {config:7} vs {method:20} NRMSE accord {ours:.5} reference {reference:.5} ratio {:.3}",
        ours / reference
    );
    assert!(
        ours <= 1.05 * reference,
        "{dataset} {config}: NRMSE {ours} > 1.05 × {method} {reference}"
    );
    ours
}

#[test]
fn grappa_like_pygrappa() {
    check("sl_r2", "grappa", "grappa", "sl_r2.gt.npy");
    check("sl_r4", "grappa", "grappa", "sl_r4.gt.npy");
}

#[test]
fn sense_like_bart_pics_l2() {
    check("sl_full", "sense", "bart_sense", "sl_full.gt.npy");
    check("sl_r2", "sense", "bart_sense", "sl_r2.gt.npy");
    check("sl_r4", "sense", "bart_sense", "sl_r4.gt.npy");
    check(
        "py_noise",
        "sense",
        "bart_sense_whitened",
        "py_noise.gt_whitened.npy",
    );
}

#[test]
fn sense_3d_like_bart_pics_l2() {
    check("py_3d_cs", "sense", "bart_sense", "py_3d_cs.gt.npy");
}

#[test]
fn cs_2d_like_bart_pics_wavelet() {
    check("sl_r2", "cs", "bart_cs", "sl_r2.gt.npy");
    check("sl_r4", "cs", "bart_cs", "sl_r4.gt.npy");
}

#[test]
fn cs_reproduces_the_bart_pics_image() {
    // Not only the NRMSE: the image of cs.toml is BART's (`pics -n -R W:3:0:0.005 -i 100`,
    // `tests/data/recon/sl_r4.bart_cs.npy`) to 0.29 % (relative L2 after the least-squares
    // scale). In Beck and Teboulle's order, which returns the last threshold step instead of
    // BART's last gradient step, it is 1.13 % away.
    let text = std::fs::read_to_string(repo("examples/recon/cs.toml")).unwrap();
    let (_, bart) = read_npy_f32(repo("tests/data/recon/sl_r4.bart_cs.npy")).unwrap();
    let diff = |order: &str| {
        let text = text.replace(
            "algorithm = \"fista\"",
            &format!("algorithm = \"fista\"\nfista_order = \"{order}\""),
        );
        assert!(text.contains("fista_order"));
        let (image, _) = first_image("sl_r4", "cs", &text, "sl_r4.gt.npy");
        let d = nrmse(&image, &bart).unwrap();
        eprintln!("sl_r4 cs, FISTA order {order}: relative difference to BART's image {d:.5}");
        d
    };
    let (ours, textbook) = (diff("bart"), diff("beck_teboulle"));
    assert!(ours <= 0.005, "{ours} from BART's image");
    assert!(
        ours < textbook,
        "BART's order {ours}, Beck–Teboulle's {textbook}"
    );
}

#[test]
fn cs_3d_like_bart_pics_wavelet() {
    // BART's automatic data scaling, symmetric-boundary wavelet frame and FISTA order: 0.1315
    // vs BART's 0.1311 (ratio 1.003); returning the last threshold step instead, 0.1346 (1.03);
    // with the periodic orthonormal wavelet and the adjoint-image scale it was 0.162 (1.23).
    check("py_3d_cs", "cs", "bart_cs", "py_3d_cs.gt.npy");
}

#[test]
fn cs_with_direct_maps_like_bart_pics_wavelet() {
    // Direct maps (bart caldir) instead of the reference's ESPIRiT maps, on the 3-D dataset
    // the config is for (in 2-D, sl_r2, direct maps give 1.103 × the reference: cs.toml).
    check("py_3d_cs", "cs-direct", "bart_cs", "py_3d_cs.gt.npy");
}

#[test]
fn cs_with_random_cycle_spinning() {
    // cs.toml with random_shift = true (BART's default, which the references turned off with
    // -n): the same or better NRMSE than the references without it.
    let text = std::fs::read_to_string(repo("examples/recon/cs.toml"))
        .unwrap()
        .replace(
            "algorithm = \"fista\"",
            "algorithm = \"fista\"\nrandom_shift = true",
        );
    assert!(text.contains("random_shift = true"));
    for (dataset, gt) in [("py_3d_cs", "py_3d_cs.gt.npy"), ("sl_r4", "sl_r4.gt.npy")] {
        check_text(dataset, "cs+spin", &text, "bart_cs", gt);
    }
}

#[test]
fn rss_config_matches_the_rss_reference() {
    check("py_msmc", "rss", "rss", "py_msmc.gt.npy");
}
