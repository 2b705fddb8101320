//! In-process timings for `benches/pulseq_compare.sh` (the Rust side of the pypulseq
//! comparison), measured the way the Python side measures itself: after start-up, wall clock
//! around the work only.
//!
//! ```text
//! seq_bench read FILE.seq                  # seconds to read FILE as pypulseq does (no md5)
//! seq_bench read-verified FILE.seq         # the same plus the [SIGNATURE] md5 check
//! seq_bench build PROTOCOL.toml OUT.seq    # seconds to build the protocol and write OUT.seq
//! ```
//! Prints `seconds blocks`.

use std::process::ExitCode;
use std::time::Instant;

use accord_seq::System;
use accord_seq::write::{WriteOptions, write_file};

fn run(args: &[String]) -> Result<String, Box<dyn std::error::Error>> {
    match args {
        [mode, file] if mode == "read" || mode == "read-verified" => {
            let bytes = std::fs::read(file)?;
            let opts = accord_seq::ReadOptions {
                verify_signature: mode == "read-verified",
            };
            let t0 = Instant::now();
            let seq = accord_seq::read_bytes_with(&bytes, opts)?;
            let dt = t0.elapsed().as_secs_f64();
            Ok(format!("{dt:.6} {}", seq.blocks.len()))
        }
        [mode, protocol, out] if mode == "build" => {
            let text = std::fs::read_to_string(protocol)?;
            let t0 = Instant::now();
            let g = accord_seq::protocol::generate(&text, protocol, &System::default())?;
            write_file(out, &g.sequence, WriteOptions::default(), true)?;
            let dt = t0.elapsed().as_secs_f64();
            Ok(format!("{dt:.6} {}", g.sequence.blocks.len()))
        }
        _ => Err(
            "usage: seq_bench read|read-verified FILE.seq | seq_bench build PROTOCOL.toml OUT.seq"
                .into(),
        ),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("seq_bench: {e}");
            ExitCode::FAILURE
        }
    }
}
