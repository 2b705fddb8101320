//! Gradient waveforms and k-space against pypulseq 1.5.0.post1's `waveforms_and_times` and
//! `calculate_kspace` values in the reference corpus (`tests/data/pulseq/*.json`).
//! Tolerances (corpus README): times 1e-9 s; k and gradient integrals relative 1e-6 of the
//! axis' max |k|; sums scale with the number of terms.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use accord_seq::kspace::{KSpace, kspace_from_waveforms};
use accord_seq::waveforms::{Waveform, gradient_waveforms};
use accord_seq::{Gradient, Sequence, read_file};
use serde_json::Value;

fn corpus() -> Vec<(String, PathBuf, Value)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/data/pulseq");
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
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

/// Per-field (checked, passed) counts and failure messages.
#[derive(Default)]
struct Tally {
    fields: BTreeMap<String, (usize, usize)>,
    failures: Vec<String>,
}

impl Tally {
    fn check(&mut self, file: &str, field: &str, ok: bool, detail: impl FnOnce() -> String) {
        let e = self.fields.entry(field.to_string()).or_default();
        e.0 += 1;
        if ok {
            e.1 += 1;
        } else {
            self.failures.push(format!("{file}: {field}: {}", detail()));
        }
    }
}

fn f64s(v: &Value) -> Vec<f64> {
    v.as_array()
        .map(|a| a.iter().map(|x| x.as_f64().unwrap_or(f64::NAN)).collect())
        .unwrap_or_default()
}

/// Files with a 2×-oversampled (`time_id −1`) gradient.
fn has_oversampled(seq: &Sequence) -> bool {
    seq.grad
        .values()
        .any(|g| matches!(g, Gradient::Arb(a) if a.time_id == -1))
}

/// Compares one time summary (`t_adc`, `t_excitation`, `t_refocusing`).
fn check_times(name: &str, key: &str, t: &[f64], j: &Value, tally: &mut Tally) {
    let count = j["count"].as_u64().unwrap() as usize;
    tally.check(name, &format!("{key}.count"), t.len() == count, || {
        format!("{} vs {count}", t.len())
    });
    if t.len() != count {
        return;
    }
    let cmp = |a: &[f64], x: &[f64]| {
        a.len() == x.len() && a.iter().zip(x).all(|(a, x)| (a - x).abs() <= 1e-9)
    };
    let first = f64s(&j["first"]);
    tally.check(
        name,
        &format!("{key}.first"),
        cmp(&t[..first.len()], &first),
        || "differ".into(),
    );
    let last = f64s(&j["last"]);
    let tail = &t[t.len() - last.len()..];
    tally.check(name, &format!("{key}.last"), cmp(tail, &last), || {
        "differ".into()
    });
    if let Some(all) = j.get("all").filter(|v| v.is_array()) {
        tally.check(name, &format!("{key}.all"), cmp(t, &f64s(all)), || {
            "differ".into()
        });
    }
    let sum: f64 = t.iter().sum();
    let xs = j["sum"].as_f64().unwrap();
    tally.check(
        name,
        &format!("{key}.sum"),
        (sum - xs).abs() <= 1e-9 * count.max(1) as f64,
        || format!("{sum} vs {xs}"),
    );
    for (k, a) in [
        ("min", t.iter().copied().reduce(f64::min)),
        ("max", t.iter().copied().reduce(f64::max)),
    ] {
        if let (Some(a), Some(x)) = (a, j[k].as_f64()) {
            tally.check(name, &format!("{key}.{k}"), (a - x).abs() <= 1e-9, || {
                format!("{a} vs {x}")
            });
        }
    }
}

fn compare(name: &str, seq: &Sequence, w: &[Waveform; 3], ks: &KSpace, j: &Value, t: &mut Tally) {
    let axes = ["x", "y", "z"];
    let k = &j["kspace"];
    // Scale of each axis: max |k| over the ADC samples (pypulseq's), at least 1e-3 1/m.
    let kmax: Vec<f64> = axes
        .iter()
        .map(|a| {
            let p = &k["per_axis"][a];
            let m = p["min"].as_f64().unwrap_or(0.0).abs();
            m.max(p["max"].as_f64().unwrap_or(0.0).abs()).max(1e-3)
        })
        .collect();
    if k["ok"].as_bool() == Some(true) {
        let n = k["n_adc_samples"].as_u64().unwrap() as usize;
        t.check(name, "kspace.n_adc_samples", ks.k_adc.len() == n, || {
            format!("{} vs {n}", ks.k_adc.len())
        });
        if ks.k_adc.len() == n {
            let kclose =
                |idx: usize, ax: usize, x: f64| (ks.k_adc[idx][ax] - x).abs() <= 1e-6 * kmax[ax];
            for key in ["k_adc_first64", "k_adc_last64"] {
                let rows: Vec<Vec<f64>> = (0..3).map(|a| f64s(&k[key][a])).collect();
                let m = rows[0].len();
                let start = if key == "k_adc_first64" { 0 } else { n - m };
                let mut bad = None;
                for (ax, row) in rows.iter().enumerate() {
                    for (i, x) in row.iter().enumerate() {
                        if bad.is_none() && !kclose(start + i, ax, *x) {
                            bad = Some((start + i, ax, *x));
                        }
                    }
                }
                t.check(name, &format!("kspace.{key}"), bad.is_none(), || {
                    let (i, ax, x) = bad.unwrap();
                    format!("sample {i} axis {ax}: {} vs {x}", ks.k_adc[i][ax])
                });
            }
            let st = &k["k_adc_strided"];
            let idx: Vec<usize> = st["indices"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap() as usize)
                .collect();
            let ts = f64s(&st["t"]);
            let mut bad = None;
            for (c, &i) in idx.iter().enumerate() {
                for ax in 0..3 {
                    let x = st["k"][ax][c].as_f64().unwrap();
                    if bad.is_none() && !kclose(i, ax, x) {
                        bad = Some(format!("sample {i} axis {ax}: {} vs {x}", ks.k_adc[i][ax]));
                    }
                }
                if bad.is_none() && (ks.t_adc[i] - ts[c]).abs() > 1e-9 {
                    bad = Some(format!("t {i}: {} vs {}", ks.t_adc[i], ts[c]));
                }
            }
            t.check(name, "kspace.k_adc_strided", bad.is_none(), || {
                bad.clone().unwrap()
            });
            for (ax, a) in axes.iter().enumerate() {
                let p = &k["per_axis"][a];
                let v: Vec<f64> = ks.k_adc.iter().map(|k| k[ax]).collect();
                let nn = v.len().max(1) as f64;
                let tol = 1e-6 * kmax[ax];
                let stats = [
                    ("sum", v.iter().sum::<f64>(), tol * nn),
                    ("sum_abs", v.iter().map(|x| x.abs()).sum::<f64>(), tol * nn),
                    (
                        "l2",
                        v.iter().map(|x| x * x).sum::<f64>().sqrt(),
                        tol * nn.sqrt(),
                    ),
                    ("min", v.iter().copied().fold(f64::INFINITY, f64::min), tol),
                    (
                        "max",
                        v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                        tol,
                    ),
                ];
                for (key, acc, tol) in stats {
                    if let Some(x) = p[key].as_f64() {
                        t.check(
                            name,
                            &format!("kspace.per_axis.{key}"),
                            (acc - x).abs() <= tol,
                            || format!("{a}: {acc} vs {x}"),
                        );
                    }
                }
            }
        }
        check_times(name, "kspace.t_adc", &ks.t_adc, &k["t_adc"], t);
        check_times(
            name,
            "kspace.t_excitation",
            &ks.t_excitation,
            &k["t_excitation"],
            t,
        );
        check_times(
            name,
            "kspace.t_refocusing",
            &ks.t_refocusing,
            &k["t_refocusing"],
            t,
        );
    }
    let wj = &j["waveforms"];
    if wj["ok"].as_bool() == Some(true) {
        for (ax, a) in axes.iter().enumerate() {
            let aj = &wj["axes"][a];
            let np = aj["n_points"].as_u64().unwrap_or(0) as usize;
            t.check(name, "waveforms.n_points", w[ax].n_points() == np, || {
                format!("{a}: {} vs {np}", w[ax].n_points())
            });
            if let Some(x) = aj["integral"].as_f64() {
                let acc = w[ax].integral();
                let tol = 1e-6 * kmax[ax].max(x.abs());
                t.check(name, "waveforms.integral", (acc - x).abs() <= tol, || {
                    format!("{a}: {acc} vs {x}")
                });
            }
            if let Some(x) = aj["max_abs"].as_f64() {
                let acc = w[ax].max_abs();
                t.check(
                    name,
                    "waveforms.max_abs",
                    (acc - x).abs() <= 1e-9 * x.abs().max(1.0),
                    || format!("{a}: {acc} vs {x}"),
                );
            }
            let ts = f64s(&wj["sampled"]["t"]);
            let vs = f64s(&wj["sampled"][a]);
            let scale = w[ax].max_abs().max(1.0);
            let mut bad = None;
            for (tt, x) in ts.iter().zip(&vs) {
                let acc = w[ax].eval(tt * 1e9);
                if bad.is_none() && (acc - x).abs() > 1e-6 * scale {
                    bad = Some(format!("{a} at {tt}: {acc} vs {x}"));
                }
            }
            t.check(name, "waveforms.sampled", bad.is_none(), || {
                bad.clone().unwrap()
            });
        }
        let ne = wj["n_excitation"].as_u64().unwrap_or(0) as usize;
        t.check(
            name,
            "waveforms.n_excitation",
            ks.t_excitation.len() == ne,
            || format!("{} vs {ne}", ks.t_excitation.len()),
        );
        let nr = wj["n_refocusing"].as_u64().unwrap_or(0) as usize;
        t.check(
            name,
            "waveforms.n_refocusing",
            ks.t_refocusing.len() == nr,
            || format!("{} vs {nr}", ks.t_refocusing.len()),
        );
    }
    let _ = has_oversampled(seq);
}

/// Every corpus file pypulseq could process: per-field pass counts, failures listed.
#[test]
fn kspace_and_waveforms_match_pypulseq() {
    let mut tally = Tally::default();
    let mut files = 0;
    for (name, path, j) in corpus() {
        let ok = |k: &str| j[k]["ok"].as_bool() == Some(true);
        if !ok("kspace") && !ok("waveforms") {
            continue;
        }
        files += 1;
        let seq = read_file(&path).unwrap();
        let w = gradient_waveforms(&seq);
        let ks = kspace_from_waveforms(&seq, &w);
        compare(&name, &seq, &w, &ks, &j, &mut tally);
    }
    eprintln!("files: {files}");
    for (f, (c, p)) in &tally.fields {
        eprintln!("{f:40} {p:4}/{c:4}");
    }
    for f in &tally.failures {
        eprintln!("FAIL {f}");
    }
    assert!(files > 50);
}

/// The largest corpus file (tens of thousands of blocks) must be fast in release mode.
#[test]
fn large_file_is_fast() {
    let mut best: Option<(usize, Sequence)> = None;
    for (_, path, _) in corpus() {
        let seq = read_file(&path).unwrap();
        if best.as_ref().is_none_or(|b| seq.blocks.len() > b.0) {
            best = Some((seq.blocks.len(), seq));
        }
    }
    let (n, seq) = best.unwrap();
    let t0 = Instant::now();
    let w = gradient_waveforms(&seq);
    let ks = kspace_from_waveforms(&seq, &w);
    let el = t0.elapsed();
    eprintln!("{n} blocks, {} ADC samples: {el:?}", ks.k_adc.len());
    if !cfg!(debug_assertions) {
        assert!(el.as_secs_f64() < 1.0, "{el:?}");
    }
}
