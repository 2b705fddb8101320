//! Library-level tests of the `se`, `tse`, `t2map` and `epi` seqgen kinds: every example
//! protocol builds, is timing-clean, has the ADC count and k-space grid its matrix implies,
//! crosses the k-space centre at the sidecar's TE, and its written file's labels map to the
//! expected counters; bad parameters give actionable errors.

use std::collections::BTreeMap;
use std::path::PathBuf;

use accord_seq::System;
use accord_seq::kspace::{KSpace, calculate_kspace};
use accord_seq::protocol::{Generated, generate};
use accord_seq::report::check_hardware;
use accord_seq::sequence::Sequence;
use accord_seq::timing::check_timing;
use accord_seq::write::{WriteOptions, write_string};

fn example_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/protocols")
        .join(format!("{name}.toml"))
}

fn example_text(name: &str) -> String {
    std::fs::read_to_string(example_path(name)).expect("example protocol")
}

fn build_text(text: &str, origin: &str) -> Generated {
    generate(text, origin, &System::default()).unwrap_or_else(|e| panic!("{e}"))
}

fn build_example(name: &str) -> Generated {
    let path = example_path(name);
    build_text(&example_text(name), &path.display().to_string())
}

fn error_of(text: &str) -> String {
    match generate(text, "p.toml", &System::default()) {
        Ok(_) => panic!("expected an error for\n{text}"),
        Err(e) => e.to_string(),
    }
}

/// Replaces the line starting with `key =` (or appends it).
fn with(text: &str, key: &str, value: &str) -> String {
    let mut found = false;
    let mut out: Vec<String> = text
        .lines()
        .map(|l| {
            if l.trim_start().starts_with(&format!("{key} =")) {
                found = true;
                format!("{key} = {value}")
            } else {
                l.to_string()
            }
        })
        .collect();
    if !found {
        out.push(format!("{key} = {value}"));
    }
    out.join("\n") + "\n"
}

/// The sequence as written to a 1.5 file and read back.
fn written(g: &Generated) -> Sequence {
    let text = write_string(&g.sequence, WriteOptions::default()).expect("write");
    accord_seq::read_str(&text).expect("read back")
}

/// Label values at each ADC block (SET/INC applied in block order before the ADC).
fn labels_at_adcs(seq: &Sequence) -> Vec<BTreeMap<String, i64>> {
    let names: BTreeMap<u32, String> = seq
        .extension_specs
        .iter()
        .map(|s| (s.type_id, s.name.clone()))
        .collect();
    let mut cur: BTreeMap<String, i64> = BTreeMap::new();
    let mut out = Vec::new();
    for b in &seq.blocks {
        for node in seq.extension_list(b.ext) {
            match names.get(&node.type_id).map(String::as_str) {
                Some("LABELSET") => {
                    let l = &seq.labelset[&node.ref_id];
                    cur.insert(l.label.clone(), l.value);
                }
                Some("LABELINC") => {
                    let l = &seq.labelinc[&node.ref_id];
                    *cur.entry(l.label.clone()).or_insert(0) += l.value;
                }
                _ => {}
            }
        }
        if b.adc != 0 {
            out.push(cur.clone());
        }
    }
    out
}

fn assert_timing_clean(g: &Generated) {
    let rep = check_timing(&g.sequence, &System::default().timing_limits());
    assert!(
        rep.ok && rep.errors.is_empty(),
        "{} timing errors, first {:?}",
        rep.errors.len(),
        rep.errors.first()
    );
    for b in &g.sequence.blocks {
        assert_eq!(b.duration.0 % 10_000, 0, "block {} off raster", b.id);
    }
    // Gradient amplitude and slew within the system limits on every axis.
    let hw = check_hardware(&g.sequence, &System::default());
    assert!(hw.is_empty(), "{hw:?}");
}

/// ADC sample counts per ADC block, in block order.
fn adc_sizes(seq: &Sequence) -> Vec<u64> {
    seq.blocks
        .iter()
        .filter(|b| b.adc != 0)
        .map(|b| seq.adc[&b.adc].num)
        .collect()
}

/// k per ADC block: the samples of each readout.
fn kspace_per_adc(seq: &Sequence, k: &KSpace) -> Vec<(Vec<f64>, Vec<[f64; 3]>)> {
    let mut out = Vec::new();
    let mut i = 0;
    for n in adc_sizes(seq) {
        let n = n as usize;
        out.push((k.t_adc[i..i + n].to_vec(), k.k_adc[i..i + n].to_vec()));
        i += n;
    }
    assert_eq!(i, k.t_adc.len());
    out
}

fn last_excitation_before(k: &KSpace, t: f64) -> f64 {
    *k.t_excitation
        .iter()
        .rev()
        .find(|&&x| x <= t)
        .expect("an excitation before the ADC")
}

fn sidecar_f64(g: &Generated, key: &str) -> f64 {
    g.sidecar.extra[key].as_f64().expect(key)
}

/// Checks a Cartesian spin-echo-family example: grid, counters and echo times.
/// `echo_of` gives the echo index of ADC `i` (for the TE check); lines with LIN = Ny/2 must
/// cross k = 0 at `te[echo]` within one dwell.
fn check_cartesian(g: &Generated, fov: [f64; 2], matrix: [usize; 2], os: usize, n_slices: usize) {
    assert_timing_clean(g);
    let seq = &g.sequence;
    let sizes = adc_sizes(seq);
    assert!(sizes.iter().all(|&n| n == (matrix[0] * os) as u64));
    let k = calculate_kspace(seq);
    let per = kspace_per_adc(seq, &k);
    let labels = labels_at_adcs(&written(g));
    assert_eq!(labels.len(), per.len());
    let dky = 1.0 / fov[1];
    let dkx = 1.0 / (fov[0] * os as f64);
    let n = matrix[0] * os;
    let dwell = g.sidecar.dwell_ns as f64 * 1e-9;
    let te: Vec<f64> = g.sidecar.te_ms.iter().map(|t| t * 1e-3).collect();
    let mut centre_checked = 0;
    for (i, ((t, kk), lab)) in per.iter().zip(&labels).enumerate() {
        let lin = lab["LIN"] as usize;
        assert!(lin < matrix[1] && (lab["SLC"] as usize) < n_slices);
        let want_ky = (lin as f64 - (matrix[1] / 2) as f64) * dky;
        for (j, s) in kk.iter().enumerate() {
            assert!(
                (s[1] - want_ky).abs() <= 1e-6 * dky,
                "ADC {i} sample {j}: ky {} want {want_ky}",
                s[1]
            );
            let want_kx = (j as f64 - (n / 2) as f64) * dkx;
            assert!(
                (s[0] - want_kx).abs() <= 1e-6 * dkx,
                "ADC {i} sample {j}: kx {} want {want_kx}",
                s[0]
            );
            assert!(s[2].abs() <= 1e-6 * dky, "ADC {i}: kz {}", s[2]);
        }
        // k = 0 at sample n/2 of the centre line, at the sidecar TE of this echo.
        if lin == matrix[1] / 2 {
            let echo = lab.get("ECO").copied().unwrap_or(0) as usize;
            let t_exc = last_excitation_before(&k, t[0]);
            let want = if te.len() > 1 { te[echo] } else { te[0] };
            let got = t[n / 2] - t_exc;
            assert!(
                (got - want).abs() <= dwell,
                "ADC {i}: k = 0 at {got} s after excitation, sidecar TE {want} s"
            );
            centre_checked += 1;
        }
    }
    assert!(centre_checked >= n_slices);
}

/// Each (keys…) combination of the labels occurs exactly once.
fn assert_each_once(labels: &[BTreeMap<String, i64>], keys: &[&str], expected: usize) {
    let mut seen = std::collections::BTreeSet::new();
    for l in labels {
        let key: Vec<i64> = keys.iter().map(|k| l[*k]).collect();
        assert!(seen.insert(key.clone()), "{keys:?} = {key:?} twice");
    }
    assert_eq!(seen.len(), expected);
}

#[test]
fn se_example() {
    let g = build_example("se");
    check_cartesian(&g, [0.22, 0.22], [128, 128], 2, 5);
    assert_eq!(g.sidecar.n_readouts, 128 * 5);
    // Per slice and line: excitation, prephase, refocusing, encode, readout, spoil, TR fill.
    assert_eq!(g.sequence.blocks.len(), 128 * 5 * 7);
    assert_eq!(g.sidecar.te_ms, vec![20.0]);
    assert_eq!(g.sidecar.tr_ms, 600.0);
    assert_eq!(g.sidecar.encoded_matrix, [256, 128, 1]);
    assert_eq!(g.sidecar.label_to_ismrmrd["LIN"], "kspace_encode_step_1");
    assert_eq!(g.sidecar.label_to_ismrmrd["SLC"], "slice");
    assert_eq!(g.sidecar.label_ranges["LIN"].max, 127);
    assert_eq!(g.sidecar.label_ranges["SLC"].max, 4);
    let labels = labels_at_adcs(&written(&g));
    assert_each_once(&labels, &["LIN", "SLC"], 128 * 5);
    // 128 TRs of 600 ms (no dummies).
    assert_eq!(g.sequence.total_duration().0, 128 * 600_000_000);
    // Excitation to excitation of the same slice: one TR.
    let k = calculate_kspace(&g.sequence);
    let d = k.t_excitation[5] - k.t_excitation[0];
    assert!((d - 0.6).abs() < 1e-9, "{d}");
}

#[test]
fn se_thin_slices_lengthen_the_pulses() {
    // 1 mm needs 94 mT/m with the 2 ms pulses: they are lengthened to stay within 40 mT/m.
    let text = with(
        &with(&example_text("se"), "slice_thickness_mm", "1"),
        "te_ms",
        "30",
    );
    let g = build_text(&text, "thin.toml");
    check_cartesian(&g, [0.22, 0.22], [128, 128], 2, 5);
    let longest = |g: &Generated| {
        g.sequence
            .rf
            .values()
            .map(|r| g.sequence.rf_duration(r))
            .max()
            .unwrap()
    };
    let thick = build_example("se");
    assert!(
        longest(&g).0 >= longest(&thick).0 + 300_000,
        "{:?} vs {:?}",
        longest(&g),
        longest(&thick)
    );
}

#[test]
fn tse_example() {
    let g = build_example("tse");
    check_cartesian(&g, [0.22, 0.22], [128, 128], 2, 5);
    assert_eq!(g.sidecar.n_readouts, 128 * 5);
    assert_eq!(g.sidecar.te_ms, vec![48.0]);
    assert_eq!(sidecar_f64(&g, "echo_spacing_ms"), 12.0);
    // (16 shots + 1 dummy) × 5 slices × (excitation, prephase, 8 × 4 echo blocks, fill).
    assert_eq!(g.sequence.blocks.len(), 17 * 5 * (2 + 8 * 4 + 1));
    let labels = labels_at_adcs(&written(&g));
    assert_each_once(&labels, &["LIN", "SLC"], 128 * 5);
    // 16 shots + 1 dummy, each 8 readouts per slice: 8 refocusing pulses per excitation.
    let k = calculate_kspace(&g.sequence);
    assert_eq!(k.t_excitation.len(), 17 * 5);
    assert_eq!(k.t_refocusing.len(), 17 * 5 * 8);
    // Refocusing pulses at ESP/2 + e·ESP after the excitation.
    for e in 0..8 {
        let d = k.t_refocusing[e] - k.t_excitation[0];
        assert!((d - (0.006 + 0.012 * e as f64)).abs() < 1e-9, "{e}: {d}");
    }
}

#[test]
fn t2map_example() {
    let g = build_example("t2map");
    check_cartesian(&g, [0.2, 0.2], [128, 128], 2, 3);
    assert_eq!(g.sidecar.n_readouts, 128 * 3 * 8);
    assert_eq!(g.sequence.blocks.len(), 128 * 3 * (2 + 8 * 4 + 1));
    let esp = sidecar_f64(&g, "echo_spacing_ms");
    assert_eq!(esp, 12.0);
    for (n, te) in g.sidecar.te_ms.iter().enumerate() {
        assert!((te - (n as f64 + 1.0) * esp).abs() < 1e-9, "{n}: {te}");
    }
    assert_eq!(g.sidecar.te_ms.len(), 8);
    assert_eq!(g.sidecar.label_to_ismrmrd["ECO"], "contrast");
    assert_eq!(g.sidecar.label_ranges["ECO"].max, 7);
    let labels = labels_at_adcs(&written(&g));
    assert_each_once(&labels, &["LIN", "SLC", "ECO"], 128 * 3 * 8);
    // All echoes of one excitation share the line; ECO counts 0..7 in order.
    for chunk in labels.chunks(8) {
        for (e, l) in chunk.iter().enumerate() {
            assert_eq!(l["ECO"], e as i64);
            assert_eq!(l["LIN"], chunk[0]["LIN"]);
        }
    }
}

#[test]
fn ir_se_labels_set_per_ti() {
    let text = example_text("se");
    let p: accord_seq::protocol::se::Params = accord_seq::protocol::parse_params(
        &with(&with(&text, "n_slices", "2"), "tr_ms", "3000"),
        "ir.toml",
    )
    .unwrap();
    let tis = [
        accord_seq::Nanos(100_000_000),
        accord_seq::Nanos(900_000_000),
    ];
    let g = accord_seq::protocol::se::build_ir_se(&p, &tis, &System::default()).unwrap();
    assert_timing_clean(&g);
    assert_eq!(g.sidecar.ti_ms, vec![100.0, 900.0]);
    assert_eq!(g.sidecar.label_to_ismrmrd["SET"], "set");
    let labels = labels_at_adcs(&written(&g));
    assert_each_once(&labels, &["LIN", "SLC", "SET"], 128 * 2 * 2);
    // Inversion centre to excitation centre = TI (inversion pulses are the only RF of use 'i').
    let seq = &g.sequence;
    let starts = seq.block_starts();
    let mut inv = Vec::new();
    let mut exc = Vec::new();
    for (b, s) in seq.blocks.iter().zip(&starts) {
        if let Some(rf) = seq.rf.get(&b.rf) {
            let t = (*s + rf.delay + seq.rf_center(rf)).0;
            match rf.use_ {
                'i' => inv.push(t),
                'e' => exc.push(t),
                _ => {}
            }
        }
    }
    assert_eq!(inv.len(), exc.len());
    assert_eq!(exc[0] - inv[0], 100_000_000);
    let last = inv.len() - 1;
    assert_eq!(exc[last] - inv[last], 900_000_000);
    // TR: excitation to excitation of the same slice.
    assert_eq!(exc[2] - exc[0], 3_000_000_000);
}

#[test]
fn spin_echo_parameter_errors_are_actionable() {
    let se = example_text("se");
    let e = error_of(&with(&se, "te_ms", "5"));
    assert!(
        e.starts_with("p.toml: line ") && e.contains("te_ms = 5: TE 5 ms is below the minimum"),
        "{e}"
    );
    let e = error_of(&with(&with(&se, "n_slices", "40"), "tr_ms", "500"));
    assert!(
        e.contains("tr_ms = 500: TR 500 ms holds at most")
            && e.contains("slices at TE 20.000 ms; 40 requested"),
        "{e}"
    );
    let e = error_of(&with(&se, "matrix", "[128, 127]"));
    assert!(e.contains("matrix = 127") && e.contains("even"), "{e}");
    let e = error_of(&with(&se, "echo_train_length", "4"));
    let line = format!(
        "p.toml: line {}: unknown field `echo_train_length`",
        se.lines().count() + 1
    );
    assert!(e.starts_with(&line), "{e}");
    let e = error_of(&with(&se, "slice_thickness_mm", "0.2"));
    assert!(
        e.contains("slice_thickness_mm = 0.2: even a 10.000 ms sinc pulse")
            && e.contains("use slice_thickness_mm ≥ 0.24"),
        "{e}"
    );

    let tse = example_text("tse");
    let e = error_of(&with(&tse, "echo_train_length", "7"));
    assert!(e.contains("echo_train_length = 7: must divide"), "{e}");
    let e = error_of(&with(&tse, "te_ms", "50"));
    assert!(
        e.contains("te_ms = 50: the effective TE must be a multiple of the echo spacing 12.000 ms")
            && e.contains("use 48.000 or 60.000"),
        "{e}"
    );
    let e = error_of(&with(&tse, "te_ms", "120"));
    assert!(e.contains("between 12.000 and 96.000 ms"), "{e}");
    let e = error_of(&with(&tse, "echo_spacing_ms", "3"));
    assert!(
        e.contains("echo_spacing_ms = 3: echo spacing 3 ms is below the minimum"),
        "{e}"
    );

    let t2 = example_text("t2map");
    let e = error_of(&with(&t2, "tr_ms", "50"));
    assert!(
        e.contains("tr_ms = 50: TR 50 ms is below the minimum"),
        "{e}"
    );
    let e = error_of(&with(&t2, "n_echoes", "0"));
    assert!(e.contains("n_echoes = 0"), "{e}");
}

/// Per-readout EPI checks; returns (readouts, labels, k per readout).
fn check_epi(
    g: &Generated,
    fov: [f64; 2],
    matrix: [usize; 2],
    n_nav: usize,
    n_slices: usize,
    reps: usize,
) {
    assert_timing_clean(g);
    let seq = &g.sequence;
    let k = calculate_kspace(seq);
    let per = kspace_per_adc(seq, &k);
    let file = written(g);
    let labels = labels_at_adcs(&file);
    assert_eq!(per.len(), (n_nav + matrix[1]) * n_slices * reps);
    assert_eq!(labels.len(), per.len());
    let dky = 1.0 / fov[1];
    let dkx = 1.0 / fov[0];
    let kx_side: Vec<f64> = g.sidecar.extra["kx_per_sample"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let n = g.sidecar.n_adc_samples_per_readout as usize;
    assert_eq!(kx_side.len(), n);
    let dwell = g.sidecar.dwell_ns as f64 * 1e-9;
    let te = g.sidecar.te_ms[0] * 1e-3;
    // Readout polarity from the written file's gx of each ADC block.
    let gx_sign: Vec<f64> = file
        .blocks
        .iter()
        .filter(|b| b.adc != 0)
        .map(|b| match &file.grad[&b.gx] {
            accord_seq::Gradient::Trap(t) => t.amp.signum(),
            other => panic!("readout gradient is not a trapezoid: {other:?}"),
        })
        .collect();
    let mut centre_checked = 0;
    for (i, ((t, kk), lab)) in per.iter().zip(&labels).enumerate() {
        assert_eq!(kk.len(), n);
        let nav = lab["NAV"] == 1;
        let lin = lab["LIN"] as usize;
        let rev = lab["REV"] == 1;
        assert_eq!(rev, gx_sign[i] < 0.0, "ADC {i}: REV vs gradient sign");
        let want_ky = if nav {
            assert_eq!(lin, matrix[1] / 2);
            0.0
        } else {
            (lin as f64 - (matrix[1] / 2) as f64) * dky
        };
        for (j, s) in kk.iter().enumerate() {
            assert!(
                (s[1] - want_ky).abs() <= 1e-6 * dky,
                "ADC {i} {j}: ky {} want {want_ky}",
                s[1]
            );
            assert!(s[2].abs() <= 1e-6 * dky, "ADC {i}: kz {}", s[2]);
            let want_kx = if rev { -kx_side[j] } else { kx_side[j] };
            assert!(
                (s[0] - want_kx).abs() <= 1e-6 * dkx,
                "ADC {i} {j}: kx {} want {want_kx}",
                s[0]
            );
        }
        if !nav && lin == matrix[1] / 2 {
            let t_mid = 0.5 * (t[n / 2 - 1] + t[n / 2]);
            let got = t_mid - last_excitation_before(&k, t[0]);
            assert!(
                (got - te).abs() <= dwell,
                "ADC {i}: centre at {got} s, TE {te} s"
            );
            centre_checked += 1;
        }
    }
    assert_eq!(centre_checked, n_slices * reps);
    // Each (LIN, SLC, REP) of the imaging lines once; navigators n_nav per slice and repetition.
    let imaging: Vec<_> = labels.iter().filter(|l| l["NAV"] == 0).cloned().collect();
    assert_each_once(
        &imaging,
        &["LIN", "SLC", "REP"],
        matrix[1] * n_slices * reps,
    );
    assert_eq!(labels.len() - imaging.len(), n_nav * n_slices * reps);
    // Readout polarity alternates within each slice's echo train.
    let per_slice = n_nav + matrix[1];
    for chunk in labels.chunks(per_slice) {
        for (r, l) in chunk.iter().enumerate() {
            assert_eq!(l["REV"], (r % 2) as i64);
        }
    }
}

#[test]
fn epi_example_ramp_sampled() {
    let g = build_example("epi");
    check_epi(&g, [0.22, 0.22], [64, 64], 3, 7, 2);
    let kx: Vec<f64> = g.sidecar.extra["kx_per_sample"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let n = kx.len();
    let dkx = 1.0 / 0.22;
    // Symmetric about kx = 0, spanning (almost) the full Nx·Δkx, flat-top spacing ≤ Δkx and
    // denser on the ramps.
    for j in 0..n {
        assert!(
            (kx[j] + kx[n - 1 - j]).abs() <= 1e-6 * dkx,
            "{j}: {} {}",
            kx[j],
            kx[n - 1 - j]
        );
    }
    assert!(kx[0] > -32.0 * dkx && kx[0] < -30.0 * dkx, "{}", kx[0]);
    let mid = kx[n / 2] - kx[n / 2 - 1];
    assert!(mid <= dkx * (1.0 + 1e-9) && mid > 0.9 * dkx, "{mid}");
    assert!(kx[1] - kx[0] < 0.5 * mid);
    assert!(n > 64 && n % 4 == 0, "{n}");
    assert_eq!(g.sidecar.extra["needs_regridding"], serde_json::json!(true));
    assert_eq!(g.sidecar.label_to_ismrmrd["REV"], "flag ACQ_IS_REVERSE");
    assert_eq!(
        g.sidecar.label_to_ismrmrd["NAV"],
        "flag ACQ_IS_PHASECORR_DATA"
    );
    assert_eq!(g.sidecar.label_to_ismrmrd["REP"], "repetition");
    assert_eq!(g.sidecar.te_ms, vec![30.0]);
    // Per slice: fat sat, excitation, prephase, 3 navigators + 2 gaps, phase prephaser,
    // 64 lines + 63 blips, spoiler, fill; 7 slices, 2 repetitions.
    assert_eq!(
        g.sequence.blocks.len(),
        2 * 7 * (1 + 1 + 1 + 3 + 2 + 1 + 64 + 63 + 1 + 1)
    );
    // Fat saturation: one saturation pulse per excitation.
    let sat = g.sequence.rf.values().filter(|r| r.use_ == 's').count();
    assert!(sat >= 1);
    assert_eq!(g.sequence.total_duration().0, 2 * 700_000_000);
}

#[test]
fn epi_without_ramp_sampling_is_cartesian() {
    let text = with(
        &with(
            &with(&example_text("epi"), "ramp_sampling", "false"),
            "bandwidth_hz_per_pixel",
            "1500",
        ),
        "fat_saturation",
        "false",
    );
    let text = with(&with(&text, "n_navigators", "0"), "repetitions", "1");
    let text = with(&text, "te_ms", "40");
    let g = build_text(&text, "epi_cart.toml");
    check_epi(&g, [0.22, 0.22], [64, 64], 0, 7, 1);
    assert_eq!(g.sidecar.n_adc_samples_per_readout, 64);
    let kx: Vec<f64> = g.sidecar.extra["kx_per_sample"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let dkx = 1.0 / 0.22;
    for w in kx.windows(2) {
        assert!((w[1] - w[0] - dkx).abs() <= 1e-6 * dkx, "{w:?}");
    }
    // Centred within the RF raster: offset below the gradient's 1 µs travel.
    let amp = g.sidecar.extra["readout_gradient"]["amplitude_hz_per_m"]
        .as_f64()
        .unwrap();
    assert!(
        (kx[31] + kx[32]).abs() <= 2.0 * amp * 1e-6,
        "{} {}",
        kx[31],
        kx[32]
    );
    assert_eq!(
        g.sidecar.extra["needs_regridding"],
        serde_json::json!(false)
    );
}

#[test]
fn epi_parameter_errors_are_actionable() {
    let epi = example_text("epi");
    let e = error_of(&with(&epi, "te_ms", "10"));
    assert!(
        e.contains("te_ms = 10: TE 10 ms is below the minimum"),
        "{e}"
    );
    let e = error_of(&with(&epi, "bandwidth_hz_per_pixel", "20000"));
    assert!(
        e.contains("bandwidth_hz_per_pixel = 20000: a ramp-sampled readout of 64 pixels")
            && e.contains("use bandwidth_hz_per_pixel ≤"),
        "{e}"
    );
    let e = error_of(&with(&epi, "n_slices", "30"));
    assert!(
        e.contains("tr_ms = 700: TR 700 ms holds at most") && e.contains("30 requested"),
        "{e}"
    );
    let e = error_of(&with(&epi, "ramp_sampled", "true"));
    assert!(e.contains("unknown field `ramp_sampled`"), "{e}");
    let e = error_of(&with(&epi, "matrix", "[64]"));
    assert!(e.contains("matrix: expected 2 values"), "{e}");
}

#[test]
fn examples_build_timing_clean_with_dead_times() {
    // RF dead 100 µs, ringdown 30 µs, ADC dead 10 µs, 28 mT/m, 150 T/m/s.
    let sys = System::siemens_like();
    for name in ["se", "tse", "t2map", "epi"] {
        let path = example_path(name);
        let g = generate(&example_text(name), &path.display().to_string(), &sys)
            .unwrap_or_else(|e| panic!("{e}"));
        let rep = check_timing(&g.sequence, &sys.timing_limits());
        assert!(
            rep.ok && rep.errors.is_empty(),
            "{name}: {:?}",
            rep.errors.first()
        );
        let hw = check_hardware(&g.sequence, &sys);
        assert!(hw.is_empty(), "{name}: {hw:?}");
        let reference = build_example(name);
        assert_eq!(g.sidecar.n_readouts, reference.sidecar.n_readouts, "{name}");
        assert_eq!(g.sidecar.te_ms, reference.sidecar.te_ms, "{name}");
        // The k-space centre still crosses at the sidecar TE (first centre readout).
        let k = calculate_kspace(&g.sequence);
        let per = kspace_per_adc(&g.sequence, &k);
        let dwell = g.sidecar.dwell_ns as f64 * 1e-9;
        let labels = labels_at_adcs(&written(&g));
        let ny2 = g.sidecar.encoded_matrix[1] as i64 / 2;
        let i = labels
            .iter()
            .position(|l| {
                l["LIN"] == ny2
                    && l.get("NAV").is_none_or(|&v| v == 0)
                    && l.get("ECO").is_none_or(|&v| v == 0)
            })
            .expect("a centre line");
        let (t, kk) = &per[i];
        let j = kk
            .iter()
            .enumerate()
            .min_by(|a, b| a.1[0].abs().total_cmp(&b.1[0].abs()))
            .unwrap()
            .0;
        let got = t[j] - last_excitation_before(&k, t[0]);
        let te = g.sidecar.te_ms[0] * 1e-3;
        assert!((got - te).abs() <= dwell, "{name}: {got} vs {te}");
    }
}
