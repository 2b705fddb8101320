//! Interoperability of `seqgen` output with pypulseq 1.5.0.post1 (the peer most Pulseq users
//! run): every example protocol in `examples/protocols/` is built by `seqgen`, and pypulseq must
//! read the `.seq`, find no timing errors with `check_timing()`, and compute the same k-space
//! (`calculate_kspace()`) as Accord at every ADC sample, the same excitation and refocusing
//! times, block count and duration.
//!
//! Needs `ACCORD_PYTHON` naming a python with pypulseq (`make test` sets it to `.venv/bin/python`
//! and installs pypulseq from `tests/python/requirements.txt`); skipped with a message without
//! it, failing instead when `ACCORD_REQUIRE_INTEROP=1`.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

#[path = "common/mod.rs"]
mod accord_cli;
#[path = "../ismrmrd/tests/common/mod.rs"]
mod ismrmrd_common;
use accord_cli::{files_with_extension, root};
use ismrmrd_common::python;

/// Builds `protocol` with seqgen into `dir`; returns the `.seq` path.
fn seqgen(protocol: &Path, dir: &Path) -> PathBuf {
    let out = dir.join(format!(
        "{}.seq",
        protocol.file_stem().unwrap().to_string_lossy()
    ));
    let run = Command::new(env!("CARGO_BIN_EXE_seqgen"))
        .arg("--protocol")
        .arg(protocol)
        .arg("-o")
        .arg(&out)
        .arg("--quiet")
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "seqgen {}: {}",
        protocol.display(),
        String::from_utf8_lossy(&run.stderr)
    );
    out
}

fn pypulseq_view(py: &str, seq: &Path) -> Value {
    let out = Command::new(py)
        .arg(root().join("tests/python/pulseq_interop.py"))
        .arg(seq)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pypulseq could not read {}: {}",
        seq.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn assert_times(name: &str, what: &str, ours: &[f64], theirs: &[f64]) {
    assert_eq!(ours.len(), theirs.len(), "{name}: number of {what}");
    for (i, (a, b)) in ours.iter().zip(theirs).enumerate() {
        assert!(
            (a - b).abs() <= 1e-9,
            "{name}: {what}[{i}] Accord {a} s, pypulseq {b} s"
        );
    }
}

/// Largest |Δk| between Accord's k-space and pypulseq's (`[3][n]` JSON); fails above `tol`.
fn compare_k(name: &str, what: &str, ours: &[[f64; 3]], theirs: &Value, tol: f64) -> f64 {
    let k: Vec<Vec<f64>> = theirs.as_array().unwrap().iter().map(floats).collect();
    assert!(k.len() == 3, "{name} ({what}): three k axes");
    let mut worst = 0.0f64;
    for (axis, col) in k.iter().enumerate() {
        assert_eq!(
            col.len(),
            ours.len(),
            "{name} ({what}): k-space samples on axis {axis}"
        );
        for (i, (o, t)) in ours.iter().zip(col).enumerate() {
            let d = (o[axis] - t).abs();
            worst = worst.max(d);
            assert!(
                d <= tol,
                "{name} ({what}): k[{axis}] at ADC sample {i}: Accord {}, pypulseq {t} (tolerance {tol:.2e})",
                o[axis]
            );
        }
    }
    worst
}

/// Per-axis sum, L2, min and max of all ADC samples against pypulseq's; sum and L2 may differ by
/// the per-sample `tol` times n (a systematic per-sample difference adds up), min and max by `tol`.
fn compare_stats(name: &str, key: &str, ours: &[[f64; 3]], theirs: &Value, tol: f64) {
    let n = ours.len() as f64;
    for axis in 0..3 {
        let col = || ours.iter().map(move |k| k[axis]);
        let values = [
            ("sum", col().sum::<f64>(), tol * n),
            (
                "l2",
                col().map(|x| x * x).sum::<f64>().sqrt(),
                tol * n.sqrt(),
            ),
            ("min", col().fold(f64::INFINITY, f64::min), tol),
            ("max", col().fold(f64::NEG_INFINITY, f64::max), tol),
        ];
        for (stat, ours, tol) in values {
            let t = theirs[stat][axis].as_f64().unwrap();
            assert!(
                (ours - t).abs() <= tol.max(1e-9),
                "{name} ({key}): {stat} of k[{axis}]: Accord {ours}, pypulseq {t}"
            );
        }
    }
}

#[test]
fn pypulseq_reads_every_example_protocol_and_agrees() {
    let Some(py) = python("pypulseq interop of seqgen output") else {
        return;
    };
    let protocols = files_with_extension(&root().join("examples/protocols"), "toml");
    assert!(protocols.len() >= 7, "expected the example protocols");
    let dir = tempfile::tempdir().unwrap();
    for p in &protocols {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        let file = seqgen(p, dir.path());
        let theirs = pypulseq_view(&py, &file);
        let seq = accord_seq::read_file(&file).unwrap();
        let ks = accord_seq::kspace::calculate_kspace(&seq);

        assert_eq!(
            theirs["n_blocks"].as_u64().unwrap() as usize,
            seq.blocks.len(),
            "{name}: blocks"
        );
        let dur = seq.total_duration().as_secs_f64();
        assert!(
            (theirs["duration_s"].as_f64().unwrap() - dur).abs() <= 1e-9 * dur.max(1.0),
            "{name}: duration"
        );
        assert!(
            theirs["timing_ok"].as_bool().unwrap(),
            "{name}: pypulseq check_timing errors: {}",
            theirs["timing_errors"]
        );
        assert_times(
            &name,
            "excitation times",
            &ks.t_excitation,
            &floats(&theirs["t_excitation"]),
        );
        assert_times(
            &name,
            "refocusing times",
            &ks.t_refocusing,
            &floats(&theirs["t_refocusing"]),
        );
        let n = ks.k_adc.len();
        assert_eq!(
            theirs["t_adc_n"].as_u64().unwrap() as usize,
            n,
            "{name}: ADC samples"
        );
        assert_times(
            &name,
            "first ADC sample times",
            &ks.t_adc[..n.min(64)],
            &floats(&theirs["t_adc_first64"]),
        );
        let kmax = ks
            .k_adc
            .iter()
            .flat_map(|k| k.iter().map(|x| x.abs()))
            .fold(0.0f64, f64::max);
        // pypulseq gives every `k_stride`-th sample (large files) plus statistics of all.
        let stride = theirs["k_stride"].as_u64().unwrap() as usize;
        let strided: Vec<[f64; 3]> = ks.k_adc.iter().step_by(stride).copied().collect();
        for (key, tol) in [("k_stats_exact", 1e-6), ("k_stats", 1e-5)] {
            compare_stats(&name, key, &ks.k_adc, &theirs[key], tol * kmax);
        }
        // The exact file content (pypulseq read without its 6-digit rounding): 1e-6 of the
        // largest |k| (float summation order differs) or 1e-9 1/m.
        let worst_exact = compare_k(
            &name,
            "exact read",
            &strided,
            &theirs["k_adc_exact"],
            (1e-6 * kmax).max(1e-9),
        );
        // pypulseq's default read rounds every event library to 6 significant digits (see
        // tests/python/pulseq_interop.py): e.g. the EPI example's 151515.15151515152 Hz/m blip
        // is read as 151515.0, so after 32 blips ky is off by 1.6e-4 1/m (1.1e-6 of |k|max).
        // That is pypulseq's rounding, not a difference in the file: allow 1e-5 of |k|max there.
        let worst_default = compare_k(
            &name,
            "default read",
            &strided,
            &theirs["k_adc"],
            (1e-5 * kmax).max(1e-9),
        );
        println!(
            "{name}: {} blocks, {n} ADC samples, |k|max {kmax:.1} 1/m, worst |Δk| {worst_exact:.2e} 1/m (exact read), {worst_default:.2e} 1/m (pypulseq default read)",
            seq.blocks.len()
        );
    }
}
