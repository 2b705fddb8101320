//! End-to-end tests of `seqgen` on the example protocols `gre`, `gre3d`, `mprage` and the three
//! `t1map` methods: the `.seq` reads back, passes check_timing, has the readouts the matrix
//! implies, its k-space at the ADC samples is the Cartesian grid of the labels, and the TE/TI
//! measured on the trajectory equal the sidecar's; bad protocols fail with a message naming the
//! file/line/key and write nothing; no clobbering without --force; `--version 1.4`.

#[path = "common/mod.rs"]
mod accord_cli;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use accord_cli::{root, stderr};
use accord_seq::kspace::calculate_kspace;
use accord_seq::protocol::common::labels_at_adcs;
use accord_seq::timing::{SystemLimits, check_timing};
use serde_json::Value;

fn seqgen(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_seqgen"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run seqgen")
}

fn example(name: &str) -> String {
    root()
        .join("examples/protocols")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

/// Runs seqgen on an example into `dir` and returns the `.seq` path and the sidecar.
fn generate(name: &str, dir: &Path) -> (PathBuf, Value) {
    let out = dir.join(name.replace(".toml", ".seq"));
    let o = seqgen(
        &[
            "--protocol",
            &example(name),
            "-o",
            out.to_str().unwrap(),
            "--quiet",
        ],
        dir,
    );
    assert!(o.status.success(), "{name}: {}", stderr(&o));
    let sidecar: Value =
        serde_json::from_str(&std::fs::read_to_string(out.with_extension("json")).unwrap())
            .unwrap();
    (out, sidecar)
}

/// What an example must contain.
struct Expect {
    file: &'static str,
    /// Readouts the matrix implies.
    n_readouts: usize,
    /// Labels that must be present (with ISMRMRD fields).
    labels: &'static [&'static str],
    /// Partition encoding along z.
    three_d: bool,
}

const EXAMPLES: &[Expect] = &[
    Expect {
        file: "gre.toml", // 256 lines × 3 slices
        n_readouts: 256 * 3,
        labels: &["LIN", "SLC"],
        three_d: false,
    },
    Expect {
        file: "gre3d.toml", // 112 lines × 32 partitions
        n_readouts: 112 * 32,
        labels: &["LIN", "PAR"],
        three_d: true,
    },
    Expect {
        file: "t1map_irgre.toml", // 128 lines × 4 TIs
        n_readouts: 128 * 4,
        labels: &["LIN", "SLC", "SET"],
        three_d: false,
    },
    Expect {
        file: "t1map_vfa.toml", // 96 lines × 32 partitions × 4 flips
        n_readouts: 96 * 32 * 4,
        labels: &["LIN", "PAR", "SET"],
        three_d: true,
    },
    Expect {
        file: "t1map.toml", // IR-SE: 128 lines × 5 TIs
        n_readouts: 128 * 5,
        labels: &["LIN", "SET"],
        three_d: false,
    },
    Expect {
        file: "mprage.toml", // 256 lines × 160 partitions
        n_readouts: 256 * 160,
        labels: &["LIN", "PAR"],
        three_d: true,
    },
];

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap()
}

fn check_example(e: &Expect, dir: &Path) {
    let name = e.file;
    let (path, sc) = generate(name, dir);
    let seq = accord_seq::read_file(&path).unwrap();
    let rep = check_timing(&seq, &SystemLimits::with_rasters(seq.rasters));
    assert!(
        rep.ok && rep.errors.is_empty(),
        "{name}: {:?}",
        rep.errors.first()
    );
    for b in &seq.blocks {
        assert_eq!(
            b.duration.0 % seq.rasters.block.0,
            0,
            "{name}: block {}",
            b.id
        );
    }

    // Readouts and samples.
    let ns = sc["n_adc_samples_per_readout"].as_u64().unwrap() as usize;
    let adcs: Vec<_> = seq.blocks.iter().filter(|b| b.adc != 0).collect();
    assert_eq!(adcs.len(), e.n_readouts, "{name}");
    assert_eq!(
        sc["n_readouts"].as_u64().unwrap() as usize,
        e.n_readouts,
        "{name}"
    );
    assert_eq!(
        sc["n_blocks"].as_u64().unwrap() as usize,
        seq.blocks.len(),
        "{name}"
    );
    let enc = &sc["encoded_matrix"];
    assert_eq!(enc[0].as_u64().unwrap() as usize, ns, "{name}");
    for b in &adcs {
        let a = &seq.adc[&b.adc];
        assert_eq!(a.num as usize, ns, "{name}");
        assert_eq!(a.dwell.0, sc["dwell_ns"].as_i64().unwrap(), "{name}");
    }
    let total: f64 = seq.total_duration().as_secs_f64();
    assert!(
        (total - f(&sc["total_duration_s"])).abs() < 1e-9 * total.max(1.0),
        "{name}"
    );

    // Labels: present, mapped, ranges = the encoded matrix.
    let labels = labels_at_adcs(&seq);
    assert_eq!(labels.len(), e.n_readouts);
    let (ny, nz) = (
        enc[1].as_u64().unwrap() as i64,
        enc[2].as_u64().unwrap() as i64,
    );
    for l in e.labels {
        assert!(
            sc["label_to_ismrmrd"][*l].is_string(),
            "{name}: {l} not mapped"
        );
        assert!(labels.iter().all(|m| m.contains_key(*l)), "{name}: {l}");
    }
    assert_eq!(sc["label_to_ismrmrd"]["LIN"], "kspace_encode_step_1");
    assert_eq!(sc["label_ranges"]["LIN"]["min"], 0, "{name}");
    assert_eq!(sc["label_ranges"]["LIN"]["max"], ny - 1, "{name}");
    if e.three_d {
        assert_eq!(sc["label_to_ismrmrd"]["PAR"], "kspace_encode_step_2");
        assert_eq!(sc["label_ranges"]["PAR"]["max"], nz - 1, "{name}");
    }

    // k-space at the k = 0 sample of every readout: the grid of the labels.
    let k = calculate_kspace(&seq);
    assert_eq!(k.k_adc.len(), e.n_readouts * ns, "{name}");
    let fov = &sc["fov_mm"];
    let (fx, fy, fz) = (f(&fov[0]) * 1e-3, f(&fov[1]) * 1e-3, f(&fov[2]) * 1e-3);
    let os = sc["readout_oversampling"].as_u64().unwrap() as f64;
    let dk_x = 1.0 / (fx * os);
    let ky_max = (ny / 2) as f64 / fy;
    let dwell = sc["dwell_ns"].as_f64().unwrap() * 1e-9;
    let te: Vec<f64> = sc["te_ms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| f(v) * 1e-3)
        .collect();
    let mut exc = k.t_excitation.clone();
    exc.sort_by(f64::total_cmp);
    for (r, lab) in labels.iter().enumerate() {
        let i = r * ns + ns / 2;
        let kk = k.k_adc[i];
        let lin = lab["LIN"];
        let want_ky = (lin - ny / 2) as f64 / fy;
        assert!(
            (kk[1] - want_ky).abs() <= 1e-6 * ky_max,
            "{name}: readout {r} LIN {lin}: ky {} vs {want_ky}",
            kk[1]
        );
        assert!(
            kk[0].abs() <= 1e-3 * dk_x,
            "{name}: readout {r}: kx {}",
            kk[0]
        );
        if e.three_d {
            let par = lab["PAR"];
            let want_kz = (par - nz / 2) as f64 / fz;
            let kz_max = (nz / 2) as f64 / fz;
            assert!(
                (kk[2] - want_kz).abs() <= 1e-6 * kz_max,
                "{name}: readout {r} PAR {par}: kz {} vs {want_kz}",
                kk[2]
            );
        }
        // Every sample of the readout: kx steps by Δk around the centre.
        if r == 0 {
            let first = k.k_adc[r * ns][0];
            assert!(
                (first + (ns / 2) as f64 * dk_x).abs() < 1e-3 * dk_x,
                "{name}"
            );
        }
        // TE: from the last excitation to the k = 0 sample.
        let t = k.t_adc[i];
        let j = exc.partition_point(|&x| x < t);
        assert!(j > 0, "{name}: readout {r} before any excitation");
        let te_meas = t - exc[j - 1];
        assert!(
            (te_meas - te[0]).abs() <= dwell,
            "{name}: readout {r}: TE {te_meas} s vs sidecar {} s",
            te[0]
        );
    }

    // TI (GRE-based inversion methods): inversion centre to the excitation of the centre line.
    let tis: Vec<f64> = sc["ti_ms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| f(v) * 1e-3)
        .collect();
    if !tis.is_empty() && name != "t1map.toml" {
        let starts = seq.block_starts();
        let mut inv: Vec<f64> = seq
            .blocks
            .iter()
            .zip(&starts)
            .filter_map(|(b, s)| {
                let rf = seq.rf.get(&b.rf)?;
                (rf.use_ == 'i').then(|| (*s + rf.delay + seq.rf_center(rf)).as_secs_f64())
            })
            .collect();
        inv.sort_by(f64::total_cmp);
        assert!(!inv.is_empty(), "{name}: no inversion pulse");
        let mut checked = 0;
        for (r, lab) in labels.iter().enumerate() {
            if lab["LIN"] != ny / 2 {
                continue;
            }
            let t = k.t_adc[r * ns + ns / 2];
            let t_exc = exc[exc.partition_point(|&x| x < t) - 1];
            let t_inv = inv[inv.partition_point(|&x| x < t_exc) - 1];
            let set = lab.get("SET").copied().unwrap_or(0) as usize;
            assert!(
                (t_exc - t_inv - tis[set]).abs() < 1e-6,
                "{name}: TI {} s vs sidecar {} s",
                t_exc - t_inv,
                tis[set]
            );
            checked += 1;
        }
        assert!(checked > 0, "{name}");
    }
}

#[test]
fn gre_examples_build_and_match_their_sidecars() {
    let dir = tempfile::tempdir().unwrap();
    for e in &EXAMPLES[..2] {
        check_example(e, dir.path());
    }
}

#[test]
fn t1map_examples_build_and_match_their_sidecars() {
    let dir = tempfile::tempdir().unwrap();
    for e in &EXAMPLES[2..5] {
        check_example(e, dir.path());
    }
}

#[test]
fn mprage_example_builds_and_matches_its_sidecar() {
    let dir = tempfile::tempdir().unwrap();
    check_example(&EXAMPLES[5], dir.path());
}

fn write_protocol(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_string_lossy().into_owned()
}

fn gre_text(te: &str, tr: &str) -> String {
    format!(
        "kind = \"gre\"\nfov_mm = [200, 200]\nmatrix = [64, 64]\nslice_thickness_mm = 5\nte_ms = {te}\ntr_ms = {tr}\nflip_deg = 20\nbandwidth_hz_per_pixel = 400\n"
    )
}

/// The files of `dir` (sorted names).
fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Runs seqgen on `text` in a fresh directory; asserts failure, nothing written; returns stderr.
fn fails(name: &str, text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let p = write_protocol(dir.path(), name, text);
    let o = seqgen(&["--protocol", &p], dir.path());
    assert_eq!(o.status.code(), Some(1), "{name} should fail");
    assert_eq!(
        listing(dir.path()),
        vec![name.to_string()],
        "{name}: something was written"
    );
    stderr(&o)
}

#[test]
fn bad_protocols_fail_with_actionable_messages_and_write_nothing() {
    // Unknown key: file, line and key.
    let text = gre_text("5", "20") + "flip_angle = 3\n";
    let e = fails("unknown.toml", &text);
    assert!(
        e.contains("unknown.toml") && e.contains("line 9") && e.contains("flip_angle"),
        "{e}"
    );
    // Unknown key in a t1map ir-se protocol (parsed with the se kind's keys).
    let base = std::fs::read_to_string(example("t1map.toml")).unwrap();
    let line = base.lines().count() + 1;
    let e = fails("irse.toml", &(base + "bogus_key = 1\n"));
    assert!(
        e.contains(&format!("irse.toml: line {line}:")) && e.contains("bogus_key"),
        "{e}"
    );
    // Negative TR.
    let e = fails("neg.toml", &gre_text("5", "-20"));
    assert!(
        e.contains("neg.toml") && e.contains("line 6") && e.contains("tr_ms = -20"),
        "{e}"
    );
    // TR too short for TE: names the minimum.
    let e = fails("shorttr.toml", &gre_text("5", "3"));
    assert!(e.contains("tr_ms = 3") && e.contains("minimum"), "{e}");
    // Unknown kind.
    let e = fails("kind.toml", "kind = \"flash\"\n");
    assert!(
        e.contains("kind.toml: line 1") && e.contains("flash"),
        "{e}"
    );
}

#[test]
fn te_below_minimum_names_the_minimum_and_the_minimum_works() {
    let e = fails("te.toml", &gre_text("0.5", "20"));
    assert!(
        e.contains("te.toml: line 5: te_ms = 0.5") && e.contains("minimum"),
        "{e}"
    );
    // "... below the minimum 2.345 ms ...; set te_ms ≥ 2.345"
    let min: f64 = e
        .split("minimum ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no minimum in {e}"));
    assert!(min > 0.5 && min < 10.0, "{min}");
    let dir = tempfile::tempdir().unwrap();
    let p = write_protocol(dir.path(), "te.toml", &gre_text(&min.to_string(), "20"));
    let o = seqgen(&["--protocol", &p, "--quiet"], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let sc: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("te.json")).unwrap())
            .unwrap();
    let te = f(&sc["te_ms"][0]);
    assert!(
        te >= min - 1e-3 && te - min < 0.01,
        "achieved {te} for the minimum {min}"
    );
}

#[test]
fn ti_list_that_does_not_fit_in_tr_is_refused() {
    let text = std::fs::read_to_string(example("t1map_irgre.toml"))
        .unwrap()
        .replace("ti_ms = [100, 300, 700, 1500]", "ti_ms = [100, 3000]");
    let e = fails("ti.toml", &text);
    assert!(
        e.contains("ti.toml") && e.contains("does not fit in TR 2500"),
        "{e}"
    );
    let text = std::fs::read_to_string(example("mprage.toml"))
        .unwrap()
        .replace("ti_ms = 1100", "ti_ms = 100");
    let e = fails("mp.toml", &text);
    assert!(e.contains("ti_ms = 100") && e.contains("minimum"), "{e}");
}

#[test]
fn no_clobbering_without_force_and_default_output_name() {
    let dir = tempfile::tempdir().unwrap();
    let p = write_protocol(dir.path(), "flash.toml", &gre_text("5", "20"));
    let o = seqgen(&["--protocol", &p], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let summary = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        summary.contains("kind gre") && summary.contains("check_timing: no errors"),
        "{summary}"
    );
    let seq_path = dir.path().join("flash.seq");
    let before = std::fs::read(&seq_path).unwrap();
    assert!(dir.path().join("flash.json").exists());
    // Same name again, different TR: refused, file unchanged.
    std::fs::write(&p, gre_text("5", "30")).unwrap();
    let o = seqgen(&["--protocol", &p], dir.path());
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("--force"), "{}", stderr(&o));
    assert_eq!(std::fs::read(&seq_path).unwrap(), before);
    // Only the sidecar exists: still refused (both or neither).
    std::fs::remove_file(&seq_path).unwrap();
    let o = seqgen(&["--protocol", &p], dir.path());
    assert_eq!(o.status.code(), Some(1));
    assert!(!seq_path.exists());
    // --force replaces.
    let o = seqgen(&["--protocol", &p, "--force", "--quiet"], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(o.stdout.is_empty());
    let sc: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("flash.json")).unwrap())
            .unwrap();
    assert_eq!(f(&sc["tr_ms"]), 30.0);
    assert_eq!(
        listing(dir.path()),
        ["flash.json", "flash.seq", "flash.toml"]
    );
}

#[test]
fn version_14_output_reads_back_as_14() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("v14.seq");
    let o = seqgen(
        &[
            "--protocol",
            &example("gre.toml"),
            "-o",
            out.to_str().unwrap(),
            "--version",
            "1.4",
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let seq = accord_seq::read_file(&out).unwrap();
    let v = seq.version.clone().unwrap();
    assert_eq!((v.major, v.minor), (1, 4));
    assert!(seq.rf.values().all(|r| r.use_ == 'u'));
    let rep = check_timing(&seq, &SystemLimits::with_rasters(seq.rasters));
    assert!(rep.ok, "{:?}", rep.errors.first());
    let o = seqgen(
        &[
            "--protocol",
            &example("gre.toml"),
            "-o",
            "x.seq",
            "--version",
            "1.3",
        ],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("--version 1.3"));
}

#[test]
fn system_preset_limits_apply() {
    // A weak gradient system cannot play the 400 Hz/pixel readout of a 50 mm FOV.
    let dir = tempfile::tempdir().unwrap();
    let sys = write_protocol(dir.path(), "weak.toml", "max_grad_mt_per_m = 5\n");
    let p = write_protocol(
        dir.path(),
        "small.toml",
        &gre_text("8", "30").replace("[200, 200]", "[50, 50]"),
    );
    let o = seqgen(&["--protocol", &p, "--system", &sys], dir.path());
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(e.contains("above the system maximum 5.00 mT/m"), "{e}");
    let bad_sys = write_protocol(dir.path(), "bad.toml", "max_grad = 5\n");
    let o = seqgen(&["--protocol", &p, "--system", &bad_sys], dir.path());
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("bad.toml: line 1"), "{}", stderr(&o));
}
