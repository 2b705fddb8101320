//! Criterion bench of the analyzer on a 100 000-row travelling-subject table
//! (500 subjects × 10 sites × 2 sessions × 10 ROIs): parsing + validation, and the full
//! analysis (CoVs, wSD, reproducibility, six ICC forms with CIs between sites and test–retest
//! per site, 45 Bland–Altman pairs per ROI, pooled block).

use accord_phantoms::stats::synthetic::{SyntheticDesign, synthetic_table};
use accord_phantoms::stats::{analyze, parse_table};
use criterion::Criterion;

/// 500 subjects × 10 sites × 2 sessions × 10 ROIs.
fn design() -> SyntheticDesign {
    SyntheticDesign {
        subjects: 500,
        sites: 10,
        sessions: 2,
        rois: 10,
        subject_cv: 0.1,
        site_cv: 0.03,
        session_cv: 0.01,
        seed: 1,
    }
}

/// Parsing and analysis of the same table.
fn bench(c: &mut Criterion) {
    let text = synthetic_table(&design());
    let parsed = parse_table(&text);
    assert!(parsed.is_valid() && parsed.n_rows == 100_000);
    let mut g = c.benchmark_group("analyze_100k_rows");
    g.sample_size(10);
    g.bench_function("parse_and_validate", |b| b.iter(|| parse_table(&text)));
    g.bench_function("analyze", |b| b.iter(|| analyze("bench", &parsed)));
    g.finish();
}

/// Runs the bench with criterion's command-line configuration.
fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
}
