//! Helpers shared by the integration tests that read the repository's test data.

use std::path::{Path, PathBuf};

use accord_ismrmrd::xml::IsmrmrdHeader;
use accord_ismrmrd::{Acquisition, IsmrmrdFile};

/// A path relative to the repository root.
pub fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

/// Header and every acquisition of `tests/data/<dataset>.h5`.
pub fn load(dataset: &str) -> (IsmrmrdHeader, Vec<Acquisition>) {
    let file = IsmrmrdFile::open(repo(&format!("tests/data/{dataset}.h5"))).unwrap();
    let ds = file.dataset("dataset").unwrap();
    (ds.header().unwrap(), ds.read_all_acquisitions().unwrap())
}
