//! `seqgen`: builds a scanner-ready Pulseq sequence from a protocol file.
//!
//! `seqgen --protocol P.toml [-o OUT.seq] [--system S.toml] [--version 1.4|1.5] [--force]
//! [--quiet]` writes `OUT.seq` (default: the protocol's file stem + `.seq` in the current
//! directory) and the JSON sidecar `OUT.json` beside it. Everything is built and checked first
//! (parameters and pypulseq's `check_timing` in `protocol::generate`, then the writer); then both files are written atomically
//! (temporary file + rename), both or neither, and never over existing files without `--force`.
//! Thin wiring: the physics is in `accord_seq::protocol`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use accord_seq::System;
use accord_seq::protocol::{Generated, generate};
use accord_seq::write::{WriteOptions, WriteVersion, write_string};
use clap::Parser;

/// Build a Pulseq sequence (.seq) and its raw-data sidecar (.json) from a protocol file.
#[derive(Parser)]
#[command(name = "seqgen", version, about, long_about = None)]
struct Args {
    /// Protocol file (TOML: `kind = "gre"` and the kind's parameters).
    #[arg(long)]
    protocol: PathBuf,
    /// Output .seq file (default: the protocol's name with .seq, in the current directory).
    #[arg(short = 'o', long = "output")]
    output: Option<PathBuf>,
    /// System limits (TOML preset; default: a Siemens-like 28 mT/m, 150 T/m/s system with RF
    /// dead time 100 µs, ringdown 30 µs, ADC dead time 10 µs).
    #[arg(long)]
    system: Option<PathBuf>,
    /// Pulseq file format version: 1.5 (default) or 1.4.
    #[arg(long = "version", value_name = "1.4|1.5", default_value = "1.5")]
    format: String,
    /// Replace existing output files.
    #[arg(long)]
    force: bool,
    /// Print nothing on success.
    #[arg(long)]
    quiet: bool,
}

fn read_text(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))
}

/// Writes `text` to `path` through a temporary file in the same directory; returns the
/// temporary path (to rename later).
fn stage(path: &Path, text: &str) -> Result<PathBuf, String> {
    let name = path
        .file_name()
        .ok_or_else(|| format!("{}: not a file name", path.display()))?;
    let tmp = path.with_file_name(format!(
        ".{}.seqgen-{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    std::fs::write(&tmp, text).map_err(|e| format!("{}: cannot write: {e}", path.display()))?;
    Ok(tmp)
}

fn run(args: &Args) -> Result<String, String> {
    let version = match args.format.as_str() {
        "1.5" | "1.5.0" => WriteVersion::V1_5,
        "1.4" | "1.4.1" => WriteVersion::V1_4,
        v => return Err(format!("--version {v}: use 1.4 or 1.5")),
    };
    let system = match &args.system {
        None => System::siemens_like(),
        Some(p) => System::from_toml_str(&read_text(p)?, &p.display().to_string())
            .map_err(|e| e.to_string())?,
    };
    let text = read_text(&args.protocol)?;
    let origin = args.protocol.display().to_string();
    let Generated {
        mut sequence,
        sidecar,
    } = generate(&text, &origin, &system).map_err(|e| e.to_string())?;

    if version == WriteVersion::V1_4 {
        // Format 1.4 has no RF `use` field and the writer refuses uses other than undefined;
        // the use only informs 1.5 readers (SAR, k-space), so it is dropped here on purpose.
        for rf in sequence.rf.values_mut() {
            rf.use_ = 'u';
        }
    }
    let seq_text = write_string(&sequence, WriteOptions { version }).map_err(|e| e.to_string())?;
    let json = sidecar.to_json();

    let out = match &args.output {
        Some(p) => p.clone(),
        None => {
            let stem = args
                .protocol
                .file_stem()
                .ok_or_else(|| format!("{origin}: no file name"))?;
            PathBuf::from(stem).with_extension("seq")
        }
    };
    let json_path = out.with_extension("json");
    if !args.force {
        for p in [&out, &json_path] {
            if p.exists() {
                return Err(format!(
                    "{}: exists; not overwriting (use --force); nothing written",
                    p.display()
                ));
            }
        }
    }
    let tmp_seq = stage(&out, &seq_text)?;
    let tmp_json = match stage(&json_path, &json) {
        Ok(t) => t,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp_seq);
            return Err(e);
        }
    };
    if let Err(e) = std::fs::rename(&tmp_seq, &out) {
        let _ = std::fs::remove_file(&tmp_seq);
        let _ = std::fs::remove_file(&tmp_json);
        return Err(format!("{}: cannot write: {e}", out.display()));
    }
    if let Err(e) = std::fs::rename(&tmp_json, &json_path) {
        let _ = std::fs::remove_file(&tmp_json);
        let _ = std::fs::remove_file(&out);
        return Err(format!("{}: cannot write: {e}", json_path.display()));
    }

    let list = |v: &[f64]| {
        v.iter()
            .map(|x| format!("{x:.3}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut s = format!(
        "{}: kind {}, {} blocks, {} readouts, duration {:.3} s, TE [{}] ms, TR {:.3} ms",
        out.display(),
        sidecar.kind,
        sidecar.n_blocks,
        sidecar.n_readouts,
        sidecar.total_duration_s,
        list(&sidecar.te_ms),
        sidecar.tr_ms
    );
    if !sidecar.ti_ms.is_empty() {
        s.push_str(&format!(", TI [{}] ms", list(&sidecar.ti_ms)));
    }
    s.push_str(&format!(
        ", check_timing: no errors; sidecar {}",
        json_path.display()
    ));
    Ok(s)
}

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(a) => a,
        Err(e) => {
            let code = if e.use_stderr() { 1 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match run(&args) {
        Ok(summary) => {
            if !args.quiet {
                println!("{summary}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("seqgen: error: {e}");
            ExitCode::FAILURE
        }
    }
}
