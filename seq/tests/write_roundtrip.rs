//! Writer round trip over the whole reference corpus: read → write (1.5, and 1.4 where the file
//! has no 1.5-only feature) → read gives the same in-memory sequence, the written signature
//! validates, and pypulseq's own 1.5 files are reproduced byte for byte where possible.
//!
//! Normalisation before comparing (what an upgrade changes by design): the version; `[DELAYS]`
//! (<1.4) disappear (`delay_id` 0, durations explicit); raster definitions added where the file
//! had none; RF `center` and gradient `first`/`last` absent before 1.5 are compared with the
//! values Accord computes for them; when written as 1.4 those are dropped again. Warnings and
//! the signature record are not compared. Shapes are compared bitwise after decompression.

use std::path::PathBuf;

use accord_seq::write::{WriteOptions, WriteVersion, write_file, write_string};
use accord_seq::{Gradient, Sequence, read_file, read_str};

fn corpus() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/data/pulseq");
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "seq"))
        .collect();
    v.sort();
    v
}

/// The sequence as the writer's target version represents it.
fn normalise(s: &Sequence, v15: bool) -> Sequence {
    let mut s = s.clone();
    let edges = s.gradient_edges();
    let mut firsts = std::collections::BTreeMap::new();
    for (b, row) in s.blocks.iter().zip(&edges) {
        for (g, e) in [b.gx, b.gy, b.gz].into_iter().zip(row) {
            if let Some(e) = e {
                firsts.entry(g).or_insert(*e);
            }
        }
    }
    let centers: Vec<(u32, _)> = s.rf.iter().map(|(k, rf)| (*k, s.rf_center(rf))).collect();
    for (k, c) in centers {
        let rf = s.rf.get_mut(&k).unwrap();
        rf.center = if v15 { Some(c) } else { None };
    }
    for (k, g) in s.grad.iter_mut() {
        if let Gradient::Arb(a) = g {
            if v15 {
                let (f, l) = firsts.get(k).copied().unwrap_or((0.0, 0.0));
                a.first = Some(a.first.unwrap_or(f));
                a.last = Some(a.last.unwrap_or(l));
            } else {
                a.first = None;
                a.last = None;
            }
        }
    }
    for b in &mut s.blocks {
        b.delay_id = 0;
    }
    s.delays.clear();
    s.version = None;
    s.warnings.clear();
    s.signature = None;
    s.definitions.sort_by(|a, b| a.0.cmp(&b.0));
    s
}

fn compare(name: &str, orig: &Sequence, back: &Sequence, v15: bool) -> Vec<String> {
    let a = normalise(orig, v15);
    let mut b = normalise(back, v15);
    let mut diffs = Vec::new();
    // Raster definitions the writer added.
    let keys: Vec<&str> = a.definitions.iter().map(|(k, _)| k.as_str()).collect();
    b.definitions.retain(|(k, _)| {
        keys.contains(&k.as_str())
            || ![
                "AdcRasterTime",
                "BlockDurationRaster",
                "GradientRasterTime",
                "RadiofrequencyRasterTime",
            ]
            .contains(&k.as_str())
    });
    macro_rules! cmp {
        ($f:ident) => {
            if a.$f != b.$f {
                diffs.push(format!("{name}: {} differ", stringify!($f)));
            }
        };
    }
    cmp!(definitions);
    cmp!(blocks);
    cmp!(rf);
    cmp!(grad);
    cmp!(adc);
    cmp!(extensions);
    cmp!(extension_specs);
    cmp!(labelset);
    cmp!(labelinc);
    cmp!(triggers);
    cmp!(rotations);
    cmp!(soft_delays);
    cmp!(rf_shims);
    if a.rasters.grad != b.rasters.grad || a.rasters.rf != b.rasters.rf {
        diffs.push(format!("{name}: rasters differ"));
    }
    let bits = |s: &Sequence| -> Vec<(u32, Vec<u64>)> {
        s.shapes
            .iter()
            .map(|(k, v)| (*k, v.samples.iter().map(|x| x.to_bits()).collect()))
            .collect()
    };
    if bits(&a) != bits(&b) {
        diffs.push(format!("{name}: shapes differ"));
    }
    if !back.signature.as_ref().is_some_and(|s| s.matches()) {
        diffs.push(format!("{name}: written signature does not validate"));
    }
    diffs
}

#[test]
fn corpus_round_trip() {
    let (mut ok15, mut ok14, mut n14, mut identical, mut n_pp) = (0, 0, 0, 0, 0);
    let (mut identical14, mut n_pp14) = (0, 0);
    let mut fails = Vec::new();
    let mut not_identical = Vec::new();
    let files = corpus();
    assert_eq!(files.len(), 77);
    for p in &files {
        let name = p.file_stem().unwrap().to_string_lossy().into_owned();
        let seq = read_file(p).unwrap();
        let text = write_string(&seq, WriteOptions::default()).unwrap();
        let back = read_str(&text).unwrap_or_else(|e| panic!("{name}: rereading 1.5: {e}"));
        let d = compare(&name, &seq, &back, true);
        if d.is_empty() {
            ok15 += 1;
        }
        fails.extend(d);
        if name.starts_with("pypulseq150_") {
            n_pp += 1;
            if std::fs::read_to_string(p).unwrap() == text {
                identical += 1;
            } else {
                not_identical.push(name.clone());
            }
        }
        let v14 = WriteOptions {
            version: WriteVersion::V1_4,
        };
        if let Ok(text) = write_string(&seq, v14) {
            n14 += 1;
            if name.starts_with("pypulseq141_") {
                n_pp14 += 1;
                if std::fs::read_to_string(p).unwrap() == text {
                    identical14 += 1;
                } else {
                    not_identical.push(format!("[1.4] {name}"));
                }
            }
            let back = read_str(&text).unwrap_or_else(|e| panic!("{name}: rereading 1.4: {e}"));
            let d = compare(&name, &seq, &back, false);
            if d.is_empty() {
                ok14 += 1;
            }
            fails.extend(d.into_iter().map(|x| format!("[1.4] {x}")));
        }
    }
    eprintln!(
        "1.5 round trip {ok15}/{}; 1.4 round trip {ok14}/{n14}; pypulseq150 byte-identical \
         {identical}/{n_pp}; pypulseq141 written as 1.4 byte-identical {identical14}/{n_pp14} \
         (not: {not_identical:?})",
        files.len()
    );
    assert!(
        fails.is_empty(),
        "{} failures:\n{}",
        fails.len(),
        fails.join("\n")
    );
}

#[test]
fn v14_refuses_15_features() {
    let p = corpus()
        .into_iter()
        .find(|p| p.ends_with("pypulseq150_write_gre_label_softdelay.seq"))
        .unwrap();
    let seq = read_file(&p).unwrap();
    let v14 = WriteOptions {
        version: WriteVersion::V1_4,
    };
    let e = write_string(&seq, v14).unwrap_err().to_string();
    assert!(e.contains("1.4"), "{e}");
    for (file, feature) in [
        ("custom150_grad_oversampled.seq", "oversampled"),
        ("pypulseq150_write_epi.seq", "ppm"),
        ("pypulseq150_write_gre.seq", "RF use 'e'"),
    ] {
        let p = corpus().into_iter().find(|p| p.ends_with(file)).unwrap();
        let mut seq = read_file(&p).unwrap();
        if feature != "RF use 'e'" {
            seq.rf.values_mut().for_each(|rf| rf.use_ = 'u');
        }
        if feature == "ppm" {
            seq.adc.values_mut().for_each(|a| a.freq_ppm = -3.45);
        }
        let e = write_string(&seq, v14).unwrap_err().to_string();
        assert!(e.contains(feature), "{file}: {e}");
    }
}

#[test]
fn write_file_refuses_to_clobber() {
    let dir = tempfile::tempdir().unwrap();
    let seq = read_file(&corpus()[0]).unwrap();
    let path = dir.path().join("out.seq");
    write_file(&path, &seq, WriteOptions::default(), false).unwrap();
    let first = std::fs::read(&path).unwrap();
    std::fs::write(&path, b"keep me").unwrap();
    assert!(write_file(&path, &seq, WriteOptions::default(), false).is_err());
    assert_eq!(std::fs::read(&path).unwrap(), b"keep me");
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(names.len(), 1, "a temp file was left behind");
    write_file(&path, &seq, WriteOptions::default(), true).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), first);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

/// Manual check helper: writes every corpus file as 1.5 (and as `.v14.seq` where possible) into `$ACCORD_WRITE_DUMP` (run with
/// `--ignored`), e.g. to read the output with pypulseq.
#[test]
#[ignore]
fn dump_for_manual_check() {
    let Ok(dir) = std::env::var("ACCORD_WRITE_DUMP") else {
        return;
    };
    for p in corpus() {
        let seq = read_file(&p).unwrap();
        let out = PathBuf::from(&dir).join(p.file_name().unwrap());
        write_file(&out, &seq, WriteOptions::default(), true).unwrap();
        let v14 = WriteOptions {
            version: WriteVersion::V1_4,
        };
        let out14 = out.with_extension("v14.seq");
        let _ = write_file(&out14, &seq, v14, true);
    }
}

#[test]
fn write_file_matches_write_string_across_chunks() {
    // write_file formats in chunks and hashes them on a second thread; a sequence of several
    // chunks (> 256 kB of text) must give exactly write_string's bytes and a valid signature.
    use accord_seq::build::{
        Channel, Event, Grad, LabelEvent, LabelOp, SequenceBuilder, Trapezoid,
    };
    let mut b = SequenceBuilder::new(&accord_seq::System::default());
    for k in 0..30_000i64 {
        let g = Event::Grad(Grad::Trap(Trapezoid {
            channel: Channel::Y,
            amplitude: 100.0 * (k % 97) as f64 + 1.0,
            rise_time: accord_seq::Nanos(100_000),
            flat_time: accord_seq::Nanos(0),
            fall_time: accord_seq::Nanos(100_000),
            delay: accord_seq::Nanos(0),
        }));
        let l = Event::Label(LabelEvent {
            op: LabelOp::Set,
            label: "LIN",
            value: k % 251,
        });
        b.add_block(&[g, l]).unwrap();
    }
    let seq = b.finish().unwrap();
    let text = write_string(&seq, WriteOptions::default()).unwrap();
    assert!(text.len() > 3 * (1 << 18), "{} bytes", text.len());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.seq");
    write_file(&path, &seq, WriteOptions::default(), false).unwrap();
    assert!(std::fs::read(&path).unwrap() == text.as_bytes());
    let back = read_file(&path).unwrap();
    assert_eq!(back.signature.as_ref().map(|s| s.matches()), Some(true));
    assert_eq!(back.blocks.len(), 30_000);
}
