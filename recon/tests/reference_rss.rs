//! RSS reconstructions of the reference datasets against their ground truth, with the NRMSE
//! bounded by 1.05 × the reference implementation's NRMSE (`tests/data/provenance/*.json`).

use std::path::{Path, PathBuf};

use accord_ismrmrd::IsmrmrdFile;
use accord_recon::CpuBackend;
use accord_recon::io::npy::read_npy_f32;
use accord_recon::metrics::{nrmse, nrmse_support, tile};
use accord_recon::rss::{MagnitudeImages, rss_recon};

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/data")
        .join(rel)
}

/// The reference NRMSE of `method` in the dataset's provenance JSON.
fn reference_nrmse(dataset: &str, method: &str) -> (f64, f64) {
    let path = data(&format!("provenance/{dataset}.json"));
    let text = std::fs::read_to_string(&path).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let m = &json["references"][method];
    (
        m["nrmse"]
            .as_f64()
            .unwrap_or_else(|| panic!("{dataset}: no {method}.nrmse")),
        m["nrmse_support"].as_f64().unwrap_or(f64::NAN),
    )
}

fn recon(dataset: &str, whiten: bool) -> MagnitudeImages {
    let file = IsmrmrdFile::open(data(&format!("{dataset}.h5"))).unwrap();
    let ds = file.dataset("dataset").unwrap();
    let header = ds.header().unwrap();
    let acqs = ds.read_all_acquisitions().unwrap();
    rss_recon(&header, &acqs, &CpuBackend::new(), whiten).unwrap()
}

/// Reconstructs, checks the layout, scores against the ground truth (tiled over the leading
/// axes when the gt is a single image, as the reference does for `sl_reps`) and checks the
/// bound.
fn check(dataset: &str, method: &str, gt_file: &str, whiten: bool, shape: &[usize]) {
    let img = recon(dataset, whiten);
    assert_eq!(
        img.shape, shape,
        "{dataset}: image shape (axes {:?})",
        img.axes
    );
    let (gt_shape, gt) = read_npy_f32(data(&format!("recon/{gt_file}"))).unwrap();
    let gt = if gt.len() == img.data.len() {
        assert_eq!(gt_shape, shape, "{dataset}: gt shape");
        gt
    } else {
        assert_eq!(
            gt_shape[..],
            shape[shape.len() - 2..],
            "{dataset}: gt shape"
        );
        tile(&gt, img.data.len() / gt.len())
    };
    let ours = nrmse(&img.data, &gt).unwrap();
    let ours_support = nrmse_support(&img.data, &gt).unwrap();
    let (reference, reference_support) = reference_nrmse(dataset, method);
    eprintln!(
        "{dataset:8} {method:13} NRMSE accord {ours:.5} reference {reference:.5} ratio {:.4} | \
         support accord {ours_support:.5} reference {reference_support:.5}",
        ours / reference
    );
    assert!(
        ours <= 1.05 * reference,
        "{dataset} {method}: NRMSE {ours} > 1.05 × reference {reference}"
    );
}

#[test]
fn sl_full_rss() {
    check("sl_full", "rss", "sl_full.gt.npy", false, &[256, 256]);
}

#[test]
fn sl_reps_rss_per_repetition() {
    check("sl_reps", "rss", "sl_reps.gt.npy", false, &[3, 128, 128]);
}

#[test]
fn py_msmc_rss() {
    check("py_msmc", "rss", "py_msmc.gt.npy", false, &[2, 2, 128, 128]);
}

#[test]
fn py_noise_rss() {
    check("py_noise", "rss", "py_noise.gt.npy", false, &[128, 128]);
}

#[test]
fn py_noise_rss_whitened() {
    check(
        "py_noise",
        "rss_whitened",
        "py_noise.gt_whitened.npy",
        true,
        &[128, 128],
    );
}
