//! Criterion benches of the Pulseq crate: reading the largest reference files (parse, shape
//! decompression, library build) and building + writing the 164 320-block MPRAGE example
//! (`examples/protocols/mprage.toml`). The side-by-side comparison with pypulseq is
//! `benches/pulseq_compare.sh`.

use std::path::PathBuf;

use accord_seq::System;
use accord_seq::write::{WriteOptions, write_string};
use criterion::Criterion;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Reading the largest corpus files from memory.
fn read(c: &mut Criterion) {
    let mut g = c.benchmark_group("seq_read");
    g.sample_size(10);
    for name in [
        "pypulseq150_write_3Dt1_mprage",
        "pypulseq141_write_3Dt1_mprage",
        "matlab140_cest_aptw_sincgauss",
    ] {
        let bytes = std::fs::read(root().join(format!("tests/data/pulseq/{name}.seq"))).unwrap();
        g.bench_function(name, |b| b.iter(|| accord_seq::read_bytes(&bytes).unwrap()));
    }
    g.finish();
}

/// Building the bench protocol, and writing it as `.seq` text.
fn build(c: &mut Criterion) {
    let path = root().join("examples/protocols/mprage.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let origin = path.display().to_string();
    let system = System::default();
    let g0 = accord_seq::protocol::generate(&text, &origin, &system).unwrap();
    assert!(g0.sequence.blocks.len() >= 100_000);
    let mut g = c.benchmark_group("seq_build_mprage");
    g.sample_size(10);
    g.bench_function("generate", |b| {
        b.iter(|| accord_seq::protocol::generate(&text, &origin, &system).unwrap())
    });
    g.bench_function("write_string", |b| {
        b.iter(|| write_string(&g0.sequence, WriteOptions::default()).unwrap())
    });
    g.finish();
}

/// Runs the benches with criterion's command-line configuration.
fn main() {
    let mut c = Criterion::default().configure_from_args();
    read(&mut c);
    build(&mut c);
    c.final_summary();
}
