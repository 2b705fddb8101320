//! Reads every file of the Pulseq reference corpus (`tests/data/pulseq/`) and compares Accord's
//! values with pypulseq 1.5.0.post1's (the `<name>.json` next to each `.seq`, schema
//! `pulseq-ref/1`). Tolerances follow the corpus README: ids and counts exact, times 1e-9 s.

use std::collections::BTreeMap;

use accord_seq::{DefValue, Gradient, Sequence, read_file};
use serde_json::Value;

mod common;
use common::{corpus, floats};

/// Per-field tallies: (checked, passed) and the failure messages.
#[derive(Default)]
struct Tally {
    fields: BTreeMap<&'static str, (usize, usize)>,
    failures: Vec<String>,
}

impl Tally {
    fn check(
        &mut self,
        file: &str,
        field: &'static str,
        ok: bool,
        detail: impl FnOnce() -> String,
    ) {
        let e = self.fields.entry(field).or_default();
        e.0 += 1;
        if ok {
            e.1 += 1;
        } else {
            self.failures.push(format!("{file}: {field}: {}", detail()));
        }
    }
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

fn count(seq: &Sequence, f: impl Fn(&accord_seq::Block) -> bool) -> u64 {
    seq.blocks.iter().filter(|b| f(b)).count() as u64
}

/// Definitions pypulseq adds with its defaults when a file lacks them.
const RASTER_KEYS: [&str; 4] = [
    "GradientRasterTime",
    "RadiofrequencyRasterTime",
    "AdcRasterTime",
    "BlockDurationRaster",
];

fn compare(name: &str, seq: &Sequence, j: &Value, t: &mut Tally) {
    // Signature (computed by the corpus script, present even where pypulseq could not read).
    let sig = &j["signature"];
    let present = sig["present"].as_bool().unwrap();
    t.check(
        name,
        "signature.present",
        seq.signature.is_some() == present,
        || format!("accord {} vs {present}", seq.signature.is_some()),
    );
    if let (Some(m), Some(s)) = (sig["matches"].as_bool(), &seq.signature) {
        t.check(name, "signature.matches", s.matches() == m, || {
            format!("accord {} vs {m}", s.matches())
        });
    }
    if !j["read"]["ok"].as_bool().unwrap() {
        // pypulseq could not read the file; Accord must (checked by the caller).
        return;
    }
    let v = seq.version.as_ref().unwrap().to_string();
    let jv = j["version_parsed"].as_str().unwrap();
    t.check(name, "version_parsed", v == jv, || format!("{v} vs {jv}"));

    let nb = j["n_blocks"].as_u64().unwrap();
    t.check(name, "n_blocks", seq.blocks.len() as u64 == nb, || {
        format!("{} vs {nb}", seq.blocks.len())
    });

    let durs: Vec<f64> = seq
        .blocks
        .iter()
        .map(|b| b.duration.as_secs_f64())
        .collect();
    let bd = &j["block_durations"];
    if let Some(nz) = bd["n_zero"].as_u64() {
        let a = seq.blocks.iter().filter(|b| b.duration.ns() == 0).count() as u64;
        t.check(name, "block_durations.n_zero", a == nz, || {
            format!("{a} vs {nz}")
        });
    }
    for (key, f) in [("min", f64::min as fn(f64, f64) -> f64), ("max", f64::max)] {
        if let Some(x) = bd[key].as_f64() {
            let a = durs.iter().copied().reduce(f).unwrap_or(0.0);
            let field = if key == "min" {
                "block_durations.min"
            } else {
                "block_durations.max"
            };
            t.check(name, field, close(a, x, 1e-9), || format!("{a} vs {x}"));
        }
    }
    // Accord sums integer nanoseconds exactly; pypulseq sums floats, whose rounding error grows
    // with the number of blocks: allow 1e-9 s per block, or 1e-9 relative, whichever is larger.
    if let Some(x) = j["total_duration_s"].as_f64() {
        let a = seq.total_duration().as_secs_f64();
        let tol = (1e-9 * seq.blocks.len().max(1) as f64).max(1e-9 * x.abs());
        t.check(name, "total_duration_s", close(a, x, tol), || {
            format!("{a} vs {x}")
        });
    }
    for (key, field) in [
        ("blocks_head", "blocks_head"),
        ("blocks_tail", "blocks_tail"),
    ] {
        let Some(rows) = j[key].as_array() else {
            continue;
        };
        let start = if key == "blocks_head" {
            0
        } else {
            seq.blocks.len().saturating_sub(rows.len())
        };
        let mut ok = rows.len() <= seq.blocks.len();
        let mut detail = String::new();
        for (k, row) in rows.iter().enumerate() {
            let Some(b) = seq.blocks.get(start + k) else {
                break;
            };
            let r: Vec<f64> = floats(row);
            let ids = [b.id, b.rf, b.gx, b.gy, b.gz, b.adc, b.ext].map(f64::from);
            let jids = [r[0], r[2], r[3], r[4], r[5], r[6], r[7]];
            if ids != jids || !close(b.duration.as_secs_f64(), r[1], 1e-9) {
                ok = false;
                detail = format!(
                    "block {}: accord {:?} {} vs {:?}",
                    b.id,
                    ids,
                    b.duration.as_secs_f64(),
                    r
                );
                break;
            }
        }
        t.check(name, field, ok, || detail);
    }

    let ev = &j["events"];
    let counts: [(&'static str, u64); 6] = [
        ("events.n_rf", count(seq, |b| b.rf != 0)),
        ("events.n_gx", count(seq, |b| b.gx != 0)),
        ("events.n_gy", count(seq, |b| b.gy != 0)),
        ("events.n_gz", count(seq, |b| b.gz != 0)),
        ("events.n_adc", count(seq, |b| b.adc != 0)),
        ("events.n_ext", count(seq, |b| b.ext != 0)),
    ];
    for (field, a) in counts {
        if let Some(x) = ev[&field[7..]].as_u64() {
            t.check(name, field, a == x, || format!("{a} vs {x}"));
        }
    }
    if let Some(x) = ev["n_adc_samples"].as_u64() {
        let a: u64 = seq
            .blocks
            .iter()
            .filter_map(|b| seq.adc.get(&b.adc))
            .map(|a| a.num)
            .sum();
        t.check(name, "events.n_adc_samples", a == x, || {
            format!("{a} vs {x}")
        });
    }
    if let Some(obj) = ev["rf_use"].as_object() {
        let mut a: BTreeMap<String, u64> = BTreeMap::new();
        for b in &seq.blocks {
            if let Some(rf) = seq.rf.get(&b.rf) {
                *a.entry(rf.use_.to_string()).or_default() += 1;
            }
        }
        let x: BTreeMap<String, u64> = obj
            .iter()
            .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
            .filter(|(_, v)| *v > 0)
            .collect();
        t.check(name, "events.rf_use", a == x, || format!("{a:?} vs {x:?}"));
    }

    let lib = &j["libraries"];
    let traps = seq
        .grad
        .values()
        .filter(|g| matches!(g, Gradient::Trap(_)))
        .count();
    let libs: [(&'static str, &str, usize); 10] = [
        ("libraries.rf", "rf", seq.rf.len()),
        ("libraries.grad_trap", "grad_trap", traps),
        ("libraries.grad_arb", "grad_arb", seq.grad.len() - traps),
        ("libraries.adc", "adc", seq.adc.len()),
        ("libraries.shapes", "shapes", seq.shapes.len()),
        ("libraries.extensions", "extensions", seq.extensions.len()),
        ("libraries.labelset", "labelset", seq.labelset.len()),
        ("libraries.labelinc", "labelinc", seq.labelinc.len()),
        ("libraries.triggers", "triggers", seq.triggers.len()),
        (
            "libraries.soft_delays",
            "soft_delays",
            seq.soft_delays.len(),
        ),
    ];
    for (field, key, a) in libs {
        if let Some(x) = lib[key].as_u64() {
            t.check(name, field, a as u64 == x, || format!("{a} vs {x}"));
        }
    }

    if let Some(defs) = j["definitions"].as_object() {
        let mut ok = true;
        let mut detail = String::new();
        for (k, x) in defs {
            let a = match seq.definition(k) {
                Some(v) => v.clone(),
                // pypulseq inserts its default rasters for files that lack them; Accord keeps
                // the file's definitions as written and holds the rasters in `Sequence::rasters`.
                None if RASTER_KEYS.contains(&k.as_str()) => {
                    let r = seq.rasters;
                    let ns = [r.grad, r.rf, r.adc, r.block]
                        [RASTER_KEYS.iter().position(|q| q == k).unwrap()];
                    DefValue::Number(ns.as_secs_f64())
                }
                None => {
                    ok = false;
                    detail = format!("{k} missing");
                    break;
                }
            };
            let same = match (&a, x) {
                (DefValue::Number(a), Value::Number(x)) => rel_close(*a, x.as_f64().unwrap()),
                (DefValue::List(a), Value::Array(x)) => {
                    a.len() == x.len()
                        && a.iter()
                            .zip(x)
                            .all(|(a, x)| rel_close(*a, x.as_f64().unwrap()))
                }
                (DefValue::Text(a), Value::String(x)) => a == x,
                _ => false,
            };
            if !same {
                ok = false;
                detail = format!("{k}: accord {a:?} vs {x}");
                break;
            }
        }
        let extra: Vec<&String> = seq
            .definitions
            .iter()
            .map(|(k, _)| k)
            .filter(|k| !defs.contains_key(*k))
            .collect();
        if ok && !extra.is_empty() {
            ok = false;
            detail = format!("keys not in the reference: {extra:?}");
        }
        t.check(name, "definitions", ok, || detail);
    }
}

fn rel_close(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= 1e-12 * a.abs().max(b.abs())
}

#[test]
fn every_reference_file_reads_and_matches_pypulseq() {
    let files = corpus();
    assert_eq!(files.len(), 77, "the corpus has 77 files");
    let mut t = Tally::default();
    for (name, path, j) in &files {
        let seq = match read_file(path) {
            Ok(s) => s,
            Err(e) => {
                t.failures.push(format!("{name}: read failed: {e}"));
                continue;
            }
        };
        compare(name, &seq, j, &mut t);
    }
    for (field, (n, ok)) in &t.fields {
        eprintln!("{field:28} {ok}/{n}");
    }
    assert!(
        t.failures.is_empty(),
        "{} mismatches:\n{}",
        t.failures.len(),
        t.failures.join("\n")
    );
}

/// Blocks whose events end after the stored block duration (1.4+), against pypulseq's
/// `check_timing` BLOCK_DURATION_MISMATCH count (its other timing checks come later).
#[test]
fn events_fit_in_blocks_as_pypulseq_says() {
    let mut mismatches = Vec::new();
    let mut checked = 0;
    for (name, path, j) in corpus() {
        let seq = read_file(&path).unwrap();
        if seq.version.as_ref().unwrap().number() < 1_004_000 {
            continue;
        }
        let Some(by) = j["check_timing"]["errors_by_type"].as_object() else {
            continue;
        };
        let lib = accord_seq::sequence::Libraries::new(&seq);
        let overrun = seq
            .blocks
            .iter()
            .filter(|b| lib.events_duration(b) > b.duration)
            .count();
        let py = by
            .get("block.duration.BLOCK_DURATION_MISMATCH")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        // Known pypulseq 1.5.0.post1 bug (corpus README): for 2x-oversampled gradients
        // (time_id -1) it takes the shape duration as (N+1)·Δg instead of (N+1)/2·Δg and so
        // reports false overruns (1 in custom150_grad_oversampled, 4 in matlab151_koma_spiral).
        // Accord's value is asserted: these gradients fit their blocks.
        let has_oversampled = seq
            .grad
            .values()
            .any(|g| matches!(g, Gradient::Arb(a) if a.time_id == -1));
        let expected = if has_oversampled { 0 } else { py };
        if has_oversampled {
            assert!(py > 0, "{name}: the pypulseq deviation is expected here");
        }
        checked += 1;
        if overrun as u64 != expected {
            mismatches.push(format!(
                "{name}: accord {overrun} overrunning blocks, expected {expected}"
            ));
        }
    }
    assert!(checked >= 55, "only {checked} files checked");
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

/// `SeqSummary` (behind `accord seq info --json`) uses the reference's key names and values.
#[test]
fn summary_json_matches_reference_keys() {
    for (name, path, j) in corpus() {
        if !j["read"]["ok"].as_bool().unwrap() {
            continue;
        }
        let seq = read_file(&path).unwrap();
        let s = serde_json::to_value(accord_seq::SeqSummary::new(&seq)).unwrap();
        assert_eq!(s["version_parsed"], j["version_parsed"], "{name}");
        assert_eq!(s["n_blocks"], j["n_blocks"], "{name}");
        for k in [
            "n_rf",
            "n_gx",
            "n_gy",
            "n_gz",
            "n_adc",
            "n_ext",
            "n_adc_samples",
        ] {
            assert_eq!(s["events"][k], j["events"][k], "{name}: {k}");
        }
        assert_eq!(
            s["signature"]["present"], j["signature"]["present"],
            "{name}"
        );
        let (a, x) = (
            s["total_duration_s"].as_f64().unwrap(),
            j["total_duration_s"].as_f64().unwrap(),
        );
        assert!(
            (a - x).abs() <= 1e-9 * seq.blocks.len().max(1) as f64,
            "{name}: {a} vs {x}"
        );
    }
}

/// First and last gradient edge values per axis against pypulseq's `waveforms_and_times`
/// (`first8` of the first corner point, `last8` of the last one).
#[test]
fn gradient_edges_match_pypulseq_waveform_ends() {
    let mut checked = 0;
    let mut failures = Vec::new();
    for (name, path, j) in corpus() {
        let w = &j["waveforms"];
        if !w["ok"].as_bool().unwrap_or(false) {
            continue;
        }
        let seq = read_file(&path).unwrap();
        let edges = seq.gradient_edges();
        for (axis, key) in ["x", "y", "z"].into_iter().enumerate() {
            let a = &w["axes"][key];
            if a["n_points"].as_u64().unwrap_or(0) == 0 {
                continue;
            }
            let pts = |k: &str| floats(&a[k][1]);
            let (f8, l8) = (pts("first8"), pts("last8"));
            let first_block = edges.iter().position(|e| e[axis].is_some()).unwrap();
            let last_block = edges.iter().rposition(|e| e[axis].is_some()).unwrap();
            let oversampled = |bi: usize| {
                let b = &seq.blocks[bi];
                let gid = [b.gx, b.gy, b.gz][axis];
                matches!(seq.grad.get(&gid), Some(Gradient::Arb(g)) if g.time_id == -1)
            };
            let tol = |x: f64| 1e-6 * x.abs().max(1.0);
            // pypulseq draws 2x-oversampled gradients from their first sample, not from `first`
            // at t = 0 (known deviation, corpus README): not compared there.
            if !oversampled(first_block) {
                let f = edges[first_block][axis].unwrap().0;
                checked += 1;
                if (f - f8[0]).abs() > tol(f8[0]) {
                    failures.push(format!("{name} {key}: first {f} vs {}", f8[0]));
                }
            }
            if !oversampled(last_block) {
                let l = edges[last_block][axis].unwrap().1;
                let x = *l8.last().unwrap();
                checked += 1;
                if (l - x).abs() > tol(x) {
                    failures.push(format!("{name} {key}: last {l} vs {x}"));
                }
            }
        }
    }
    eprintln!("gradient edges checked: {checked}");
    assert!(checked > 100, "only {checked} checked");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Excitation times (block start + RF delay + RF centre of RF pulses with use `e` or `u`)
/// against pypulseq's `calculate_kspace` `t_excitation`.
#[test]
fn excitation_times_match_pypulseq() {
    let mut checked = 0;
    let mut failures = Vec::new();
    for (name, path, j) in corpus() {
        let k = &j["kspace"];
        if !k["ok"].as_bool().unwrap_or(false) {
            continue;
        }
        let seq = read_file(&path).unwrap();
        let starts = seq.block_starts();
        let t: Vec<f64> = seq
            .blocks
            .iter()
            .zip(&starts)
            .filter_map(|(b, s)| seq.rf.get(&b.rf).map(|rf| (rf, s)))
            .filter(|(rf, _)| rf.use_ == 'e' || rf.use_ == 'u')
            .map(|(rf, s)| (*s + rf.delay + seq.rf_center(rf)).as_secs_f64())
            .collect();
        let te = &k["t_excitation"];
        let count = te["count"].as_u64().unwrap() as usize;
        checked += 1;
        if t.len() != count {
            failures.push(format!("{name}: {} excitations vs {count}", t.len()));
            continue;
        }
        let first: Vec<f64> = floats(&te["first"]);
        let last: Vec<f64> = floats(&te["last"]);
        let tail = &t[t.len() - last.len()..];
        for (a, x) in t.iter().zip(&first).chain(tail.iter().zip(&last)) {
            if (a - x).abs() > 1e-9 {
                failures.push(format!("{name}: excitation at {a} vs {x}"));
                break;
            }
        }
    }
    eprintln!("excitation times checked in {checked} files");
    assert!(checked > 50, "only {checked}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// ADC sample times (block start + delay + (k + 0.5)·dwell) against pypulseq's `t_adc`.
#[test]
fn adc_sample_times_match_pypulseq() {
    let mut checked = 0;
    let mut failures = Vec::new();
    for (name, path, j) in corpus() {
        let k = &j["kspace"];
        if !k["ok"].as_bool().unwrap_or(false) {
            continue;
        }
        let seq = read_file(&path).unwrap();
        let starts = seq.block_starts();
        let mut t: Vec<f64> = Vec::new();
        for (b, s) in seq.blocks.iter().zip(&starts) {
            if let Some(a) = seq.adc.get(&b.adc) {
                let t0 = (*s + a.delay).0 as f64;
                t.extend((0..a.num).map(|i| (t0 + (i as f64 + 0.5) * a.dwell.0 as f64) * 1e-9));
            }
        }
        let ta = &k["t_adc"];
        let count = ta["count"].as_u64().unwrap() as usize;
        checked += 1;
        if t.len() != count {
            failures.push(format!("{name}: {} ADC samples vs {count}", t.len()));
            continue;
        }
        let arr = |key: &str| floats(&ta[key]);
        let (first, last) = (arr("first"), arr("last"));
        let tail = &t[t.len() - last.len()..];
        for (a, x) in t.iter().zip(&first).chain(tail.iter().zip(&last)) {
            if (a - x).abs() > 1e-9 {
                failures.push(format!("{name}: ADC sample at {a} vs {x}"));
                break;
            }
        }
    }
    eprintln!("ADC times checked in {checked} files");
    assert!(checked > 50, "only {checked}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
