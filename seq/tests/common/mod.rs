//! Shared by the `accord-seq` integration tests: the reference corpus (`tests/data/pulseq/`,
//! 77 `.seq` files, each with pypulseq 1.5.0's values in a JSON beside it).
#![allow(dead_code)]

use std::path::PathBuf;

use serde_json::Value;

/// The corpus folder.
pub fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/data/pulseq")
}

/// Every corpus file as (name without extension, `.seq` path, reference JSON), sorted by name.
pub fn corpus() -> Vec<(String, PathBuf, Value)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(corpus_dir()).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "seq") {
            let j = p.with_extension("json");
            let v: Value = serde_json::from_str(&std::fs::read_to_string(&j).unwrap()).unwrap();
            out.push((p.file_stem().unwrap().to_string_lossy().into_owned(), p, v));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// A JSON array of numbers as `f64`s (panics on anything else: reference data is trusted).
pub fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}
