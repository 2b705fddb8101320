//! Writes a synthetic travelling-subject table (CSV) for benchmarks:
//! `cargo run --release --example make_stats_table -- OUT.csv [SUBJECTS SITES SESSIONS ROIS]`
//! (default 500 × 10 × 2 × 10 = 100 000 rows).

use accord_phantoms::stats::synthetic::{SyntheticDesign, synthetic_table};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(out) = args.first() else {
        return Err("usage: make_stats_table OUT.csv [SUBJECTS SITES SESSIONS ROIS]".into());
    };
    let num = |i: usize, default: usize| -> Result<usize, Box<dyn std::error::Error>> {
        Ok(args
            .get(i)
            .map(|s| s.parse())
            .transpose()?
            .unwrap_or(default))
    };
    let design = SyntheticDesign {
        subjects: num(1, 500)?,
        sites: num(2, 10)?,
        sessions: num(3, 2)?,
        rois: num(4, 10)?,
        subject_cv: 0.1,
        site_cv: 0.03,
        session_cv: 0.01,
        seed: 1,
    };
    let text = synthetic_table(&design);
    accord_phantoms::output::write_atomic(std::path::Path::new(out), text.as_bytes(), true)?;
    eprintln!("{out}: {} rows", design.n_rows());
    Ok(())
}
