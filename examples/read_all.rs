//! Reads every acquisition of an ISMRMRD file into memory and reports the throughput.
//!
//! `cargo run --release --example read_all -- FILE.h5 [--repeat N]`: prints one line per run:
//! `seconds acquisitions sample_bytes checksum`.

use std::time::Instant;

use accord_ismrmrd::IsmrmrdFile;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args.first().ok_or("usage: read_all FILE.h5 [--repeat N]")?;
    let repeat = args
        .iter()
        .position(|a| a == "--repeat")
        .and_then(|i| args.get(i + 1))
        .map_or(Ok(1), |v| v.parse())?;
    for _ in 0..repeat {
        let t = Instant::now();
        let file = IsmrmrdFile::open(path)?;
        let acqs = file.dataset("dataset")?.read_all_acquisitions()?;
        let secs = t.elapsed().as_secs_f64();
        let bytes: usize = acqs.iter().map(|a| 8 * a.data.len()).sum();
        let checksum: f64 = acqs.iter().map(|a| a.data[0].re as f64).sum();
        println!("{secs:.6} {} {bytes} {checksum:.6}", acqs.len());
    }
    Ok(())
}
