//! The `.seq` writer: formats 1.5.0 (default) and 1.4.1, in the layout of pypulseq 1.5's writer
//! (section order, comments, column widths and `%g`-style number formatting), with the reference
//! run-length-of-derivative shape compression and the md5 `[SIGNATURE]`.
//!
//! Numbers are printed as pypulseq prints them (`%g`, `%12g`, `%.9g`, integer µs); when that text
//! would not read back to the same value (e.g. a delay that is not a whole µs, an amplitude with
//! more than 6 significant digits from another writer), the shortest exact representation is
//! written instead, so that read → write → read is lossless.
//!
//! Upgrading older files: `[DELAYS]` (<1.4) disappear (block durations are always explicit),
//! missing raster definitions are added, RF `center` (1.5) is written as [`Sequence::rf_center`]
//! computes it and arbitrary-gradient `first`/`last` as [`Sequence::gradient_edges`] reconstructs
//! them. Blocks whose duration is not a multiple of the block raster make the writer choose a
//! finer `BlockDurationRaster` (the gcd), since `[BLOCKS]` holds integer raster counts.
//!
//! Writing 1.4.1: RF `center` and gradient `first`/`last` are dropped (1.4 readers recompute
//! them). Features 1.4 cannot hold give [`SeqError`] naming the feature: RF/ADC ppm offsets
//! (converting them to Hz needs B0, which a sequence does not carry), RF use other than `u`,
//! ADC phase-modulation shapes, 2x-oversampled gradients (`time_shape_id -1`), soft delays,
//! ROTATIONS and RF_SHIMS. (pypulseq's `v141_compat` silently drops `use`; Accord refuses.)
//! Unknown extensions: the reader keeps only their declaration, so only that is written.
//!
//! Event ids, block ids, shape ids and extension type ids are kept as in memory (no renumbering).

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use crate::error::{Result, SeqError};
use crate::events::Gradient;
use crate::sequence::{DefValue, Sequence};
use crate::shape::decompress;
use crate::signature::md5_hex;
use crate::time::Nanos;

/// Target file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WriteVersion {
    /// Format 1.5.0 (pypulseq 1.5 layout).
    #[default]
    V1_5,
    /// Format 1.4.1 (pypulseq `v141_compat` layout).
    V1_4,
}

/// Options of [`write_string`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WriteOptions {
    /// Target format version.
    pub version: WriteVersion,
}

/// C-style `%.{prec}g` (Python `{:.{prec}g}`), without padding.
pub fn fmt_g(v: f64, prec: usize) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    let prec = prec.max(1);
    if v == 0.0 {
        return if v.is_sign_negative() { "-0" } else { "0" }.to_string();
    }
    let e_str = format!("{:.*e}", prec - 1, v);
    let (mant, exp) = e_str.split_once('e').unwrap_or((&e_str, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if exp < -4 || exp >= prec as i32 {
        let m = strip_zeros(mant);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{m}e{sign}{:02}", exp.abs())
    } else {
        let decimals = (prec as i32 - 1 - exp).max(0) as usize;
        strip_zeros(&format!("{v:.decimals$}")).to_string()
    }
}

fn strip_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// `%.{prec}g` when it reads back to exactly `v`, else the shortest exact text.
fn num(v: f64, prec: usize) -> String {
    let s = fmt_g(v, prec);
    if s.parse::<f64>()
        .is_ok_and(|x| x == v || (x == 0.0 && v == 0.0))
    {
        s
    } else {
        let r = format!("{v:e}");
        let (m, e) = r.split_once('e').unwrap_or((&r, "0"));
        let e: i32 = e.parse().unwrap_or(0);
        if (-5..16).contains(&e) {
            format!("{v}")
        } else {
            format!("{m}e{e}")
        }
    }
}

/// A time in µs: an integer when whole, else `%g`/exact decimal that reads back to the same ns.
fn us_int(t: Nanos) -> String {
    if t.0 % 1000 == 0 {
        (t.0 / 1000).to_string()
    } else {
        us_g(t)
    }
}

/// A time in µs formatted `%g` (pypulseq), exact when `%g` would lose nanoseconds.
fn us_g(t: Nanos) -> String {
    let v = t.0 as f64 / 1000.0;
    let s = fmt_g(v, 6);
    if s.parse::<f64>().is_ok_and(|x| Nanos::from_us_f64(x) == t) {
        s
    } else {
        format!("{v}")
    }
}

fn pad(s: String, w: usize) -> String {
    format!("{s:>w$}")
}

/// Appends `v` right-aligned in `width` columns (the writer's hot path: integers without the
/// `fmt` machinery, byte-identical to `{:>width$}`).
fn push_int(o: &mut String, v: impl itoa::Integer, width: usize) {
    let mut buf = itoa::Buffer::new();
    let digits = buf.format(v);
    for _ in digits.len()..width {
        o.push(' ');
    }
    o.push_str(digits);
}

fn gcd(a: i64, b: i64) -> i64 {
    if b == 0 { a.abs() } else { gcd(b, a % b) }
}

/// Packs a shape as the reference toolbox does (quantised run-length of the derivative, only
/// when shorter and only when it decodes back to exactly `samples`), else exact derivative RLE,
/// else the samples themselves. Returns the values to write (printed with `%.9g` or exactly).
pub fn compress_shape(samples: &[f64]) -> Vec<String> {
    let plain = || samples.iter().map(|v| num(*v, 9)).collect::<Vec<_>>();
    let n = samples.len();
    if n <= 4 {
        return plain();
    }
    let candidates = [quantised_derivative(samples), exact_derivative(samples)];
    for deriv in candidates.into_iter().flatten() {
        let packed = rle(&deriv);
        if packed.len() >= n {
            continue;
        }
        let text: Vec<String> = packed.iter().map(|v| num(*v, 9)).collect();
        if text.iter().zip(&packed).any(|(t, v)| *t != fmt_g(*v, 9)) {
            continue; // only %.9g-exact values; else the plain samples read better
        }
        let back: Vec<f64> = text.iter().map(|t| t.parse().unwrap_or(f64::NAN)).collect();
        if let Ok(d) = decompress(&back, n, true) {
            if d.len() == n
                && d.iter()
                    .zip(samples)
                    .all(|(a, b)| a.to_bits() == b.to_bits())
            {
                return text;
            }
        }
    }
    plain()
}

/// pypulseq 1.5's quantised derivative (quantum 1e-7, error feedback).
fn quantised_derivative(s: &[f64]) -> Option<Vec<f64>> {
    let q = 1e-7;
    let scaled: Vec<f64> = s.iter().map(|v| v / q).collect();
    let mut datq = Vec::with_capacity(s.len());
    datq.push(scaled[0].round_ties_even());
    for w in scaled.windows(2) {
        datq.push((w[1] - w[0]).round_ties_even());
    }
    let mut acc = 0.0;
    let qerr: Vec<f64> = scaled
        .iter()
        .zip(&datq)
        .map(|(x, d)| {
            acc += d;
            (x - acc).round_ties_even()
        })
        .collect();
    let mut out = Vec::with_capacity(s.len());
    for i in 0..s.len() {
        let cor = if i == 0 { 0.0 } else { qerr[i] - qerr[i - 1] };
        out.push((datq[i] + cor) * q);
    }
    Some(out)
}

fn exact_derivative(s: &[f64]) -> Option<Vec<f64>> {
    let mut out = vec![s[0]];
    out.extend(s.windows(2).map(|w| w[1] - w[0]));
    Some(out)
}

/// Run-length encoding of equal neighbours as `v v count-2`.
fn rle(d: &[f64]) -> Vec<f64> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < d.len() {
        let mut j = i + 1;
        while j < d.len() && d[j] == d[i] {
            j += 1;
        }
        let len = j - i;
        out.push(d[i]);
        if len > 1 {
            out.push(d[i]);
            out.push((len - 2) as f64);
        }
        i = j;
    }
    out
}

fn v14_error(feature: &str) -> SeqError {
    SeqError::invalid(format!(
        "cannot write format 1.4.1: {feature} is a 1.5 feature that 1.4 cannot represent"
    ))
}

const RF_USES: &str = "excitation refocusing inversion saturation preparation other undefined";

/// Writes `seq` as `.seq` text (pure; see the module docs for the format choices).
pub fn write_string(seq: &Sequence, opts: WriteOptions) -> Result<String> {
    let mut o = String::new();
    write_body(seq, opts, &mut o, &mut |_| {})?;
    let md5 = md5_hex(o.as_bytes());
    o.push_str(&signature_section(&md5));
    Ok(o)
}

/// The `[SIGNATURE]` section (with the newline before it, which the md5 does not cover).
fn signature_section(md5: &str) -> String {
    format!(
        "\n[SIGNATURE]\n\
         # This is the hash of the Pulseq file, calculated right before the [SIGNATURE] section was added\n\
         # It can be reproduced/verified with md5sum if the file trimmed to the position right above [SIGNATURE]\n\
         # The new line character preceding [SIGNATURE] BELONGS to the signature (and needs to be stripped away for recalculating/verification)\n\
         Type md5\nHash {md5}\n"
    )
}

/// Text size at which the long sections hand their text to the flush callback.
const CHUNK_BYTES: usize = 1 << 18;

/// Appends to `o` everything the signature covers: the file up to (not including) the newline
/// before `[SIGNATURE]`. `flush` is offered `o` whenever it holds at least [`CHUNK_BYTES`] (it
/// may take the text away, e.g. to hash and write it while the rest is formatted) and once at
/// the end.
fn write_body(
    seq: &Sequence,
    opts: WriteOptions,
    o: &mut String,
    flush: &mut dyn FnMut(&mut String),
) -> Result<()> {
    let v15 = opts.version == WriteVersion::V1_5;
    if !v15 {
        check_v14(seq)?;
    }
    o.push_str("# Pulseq sequence file\n# Created by PyPulseq\n\n[VERSION]\nmajor 1\n");
    o.push_str(if v15 {
        "minor 5\nrevision 0\n\n"
    } else {
        "minor 4\nrevision 1\n\n"
    });

    // Block raster: the sequence's, refined to the gcd of the durations when needed.
    let mut braster = seq.rasters.block.0.max(1);
    for b in &seq.blocks {
        if b.duration.0 % braster != 0 {
            braster = gcd(braster, b.duration.0).max(1);
        }
    }
    let r = &seq.rasters;
    let rasters: [(&str, i64); 4] = [
        ("AdcRasterTime", r.adc.0),
        ("BlockDurationRaster", braster),
        ("GradientRasterTime", r.grad.0),
        ("RadiofrequencyRasterTime", r.rf.0),
    ];
    let mut defs: Vec<(String, DefValue)> = Vec::new();
    for (k, ns) in rasters {
        if seq.definition(k).is_none() {
            defs.push((k.to_string(), DefValue::Number(ns as f64 * 1e-9)));
        }
    }
    for (k, v) in &seq.definitions {
        let v = if k == "BlockDurationRaster" && braster != r.block.0 {
            DefValue::Number(braster as f64 * 1e-9)
        } else {
            v.clone()
        };
        defs.push((k.clone(), v));
    }
    defs.sort_by(|a, b| a.0.cmp(&b.0));
    o.push_str("[DEFINITIONS]\n");
    for (k, v) in &defs {
        o.push_str(k);
        o.push(' ');
        match v {
            DefValue::Number(x) => {
                let _ = write!(o, "{} ", def_num(k, *x, &rasters));
            }
            DefValue::List(xs) => {
                for x in xs {
                    let _ = write!(o, "{} ", num(*x, 9));
                }
            }
            DefValue::Text(t) => {
                let _ = write!(o, "{t} ");
            }
        }
        o.push('\n');
    }
    o.push('\n');

    o.push_str("# Format of blocks:\n# NUM DUR RF  GX  GY  GZ  ADC  EXT\n[BLOCKS]\n");
    let idw = seq.blocks.len().to_string().len();
    o.reserve((seq.blocks.len() * (idw + 32)).min(CHUNK_BYTES + 256));
    for b in &seq.blocks {
        push_int(o, b.id, idw);
        o.push(' ');
        push_int(o, b.duration.0 / braster, 3);
        for id in [b.rf, b.gx, b.gy, b.gz] {
            o.push(' ');
            push_int(o, id, 3);
        }
        for id in [b.adc, b.ext] {
            o.push(' ');
            push_int(o, id, 2);
        }
        o.push('\n');
        if o.len() >= CHUNK_BYTES {
            flush(o);
        }
    }
    o.push('\n');

    write_rf(seq, o, v15);
    write_grads(seq, o, v15);
    write_adc(seq, o, v15);
    write_extensions(seq, o, flush);

    if !seq.shapes.is_empty() {
        o.push_str("# Sequence Shapes\n[SHAPES]\n\n");
        for (id, s) in &seq.shapes {
            let _ = writeln!(o, "shape_id {id}\nnum_samples {}", s.samples.len());
            for v in compress_shape(&s.samples) {
                o.push_str(&v);
                o.push('\n');
            }
            o.push('\n');
        }
    }
    flush(o);
    Ok(())
}

/// A numeric definition; raster definitions read back to the exact raster in ns.
fn def_num(key: &str, x: f64, rasters: &[(&str, i64); 4]) -> String {
    if let Some((_, ns)) = rasters.iter().find(|(k, _)| *k == key) {
        let s = fmt_g(x, 9);
        if s.parse::<f64>()
            .is_ok_and(|y| Nanos::from_secs_f64(y).0 == *ns)
        {
            return s;
        }
    }
    num(x, 9)
}

fn check_v14(seq: &Sequence) -> Result<()> {
    for rf in seq.rf.values() {
        if rf.freq_ppm != 0.0 || rf.phase_ppm != 0.0 {
            return Err(v14_error("an RF frequency/phase offset in ppm"));
        }
        if rf.use_ != 'u' {
            return Err(v14_error(&format!("RF use '{}'", rf.use_)));
        }
    }
    for a in seq.adc.values() {
        if a.freq_ppm != 0.0 || a.phase_ppm != 0.0 {
            return Err(v14_error("an ADC frequency/phase offset in ppm"));
        }
        if a.phase_id != 0 {
            return Err(v14_error("an ADC phase-modulation shape"));
        }
    }
    if seq
        .grad
        .values()
        .any(|g| matches!(g, Gradient::Arb(a) if a.time_id == -1))
    {
        return Err(v14_error("a 2x-oversampled gradient (time_shape_id -1)"));
    }
    if !seq.soft_delays.is_empty() || seq.extension_specs.iter().any(|s| s.name == "DELAYS") {
        return Err(v14_error("the soft-delay extension (DELAYS)"));
    }
    if !seq.rotations.is_empty() || seq.extension_specs.iter().any(|s| s.name == "ROTATIONS") {
        return Err(v14_error("the ROTATIONS extension"));
    }
    if !seq.rf_shims.is_empty() || seq.extension_specs.iter().any(|s| s.name == "RF_SHIMS") {
        return Err(v14_error("the RF_SHIMS extension"));
    }
    Ok(())
}

fn write_rf(seq: &Sequence, o: &mut String, v15: bool) {
    if seq.rf.is_empty() {
        return;
    }
    if v15 {
        o.push_str("# Format of RF events:\n# id ampl. mag_id phase_id time_shape_id center delay freqPPm phasePPM freq phase use\n# ..   Hz      ..       ..            ..     us    us     ppm  rad/MHz   Hz   rad  ..\n");
        let _ = writeln!(o, "# Field \"use\" is the initial of: {RF_USES}");
    } else {
        o.push_str("# Format of RF events:\n# id amplitude mag_id phase_id time_shape_id delay freq phase\n# ..        Hz   ....     ....          ....    us   Hz   rad\n");
    }
    o.push_str("[RF]\n");
    for (id, rf) in &seq.rf {
        let _ = write!(
            o,
            "{id} {} {} {} {} ",
            pad(num(rf.amp, 6), 12),
            rf.mag_id,
            rf.phase_id,
            rf.time_id
        );
        if v15 {
            let _ = writeln!(
                o,
                "{} {} {} {} {} {} {}",
                us_g(seq.rf_center(rf)),
                us_g(rf.delay),
                num(rf.freq_ppm, 6),
                num(rf.phase_ppm, 6),
                num(rf.freq, 6),
                num(rf.phase, 6),
                rf.use_
            );
        } else {
            let _ = writeln!(
                o,
                "{} {} {}",
                us_g(rf.delay),
                num(rf.freq, 6),
                num(rf.phase, 6)
            );
        }
    }
    o.push('\n');
}

fn write_grads(seq: &Sequence, o: &mut String, v15: bool) {
    let arbs: Vec<_> = seq
        .grad
        .iter()
        .filter_map(|(k, g)| match g {
            Gradient::Arb(a) => Some((*k, a)),
            _ => None,
        })
        .collect();
    if !arbs.is_empty() {
        // first/last for files that lack them: the per-block reconstruction, by gradient id.
        let mut edges = std::collections::BTreeMap::new();
        if v15
            && arbs
                .iter()
                .any(|(_, a)| a.first.is_none() || a.last.is_none())
        {
            for (b, row) in seq.blocks.iter().zip(seq.gradient_edges()) {
                for (gid, e) in [b.gx, b.gy, b.gz].into_iter().zip(row) {
                    if let Some(e) = e {
                        edges.entry(gid).or_insert(e);
                    }
                }
            }
        }
        o.push_str("# Format of arbitrary gradients:\n#   time_shape_id of 0 means default timing (stepping with grad_raster starting at 1/2 of grad_raster)\n");
        if v15 {
            o.push_str("# id amplitude first last amp_shape_id time_shape_id delay\n# ..      Hz/m  Hz/m Hz/m        ..         ..          us\n");
        } else {
            o.push_str("# id amplitude amp_shape_id time_shape_id delay\n# ..      Hz/m       ..         ..          us\n");
        }
        o.push_str("[GRADIENTS]\n");
        for (k, a) in arbs {
            let _ = write!(o, "{k} {} ", pad(num(a.amp, 6), 12));
            if v15 {
                let (f0, l0) = edges.get(&k).copied().unwrap_or((0.0, 0.0));
                let _ = write!(
                    o,
                    "{} {} ",
                    pad(num(a.first.unwrap_or(f0), 6), 12),
                    pad(num(a.last.unwrap_or(l0), 6), 12)
                );
            }
            let _ = writeln!(o, "{} {} {}", a.shape_id, a.time_id, us_int(a.delay));
        }
        o.push('\n');
    }
    let traps: Vec<_> = seq
        .grad
        .iter()
        .filter_map(|(k, g)| match g {
            Gradient::Trap(t) => Some((*k, t)),
            _ => None,
        })
        .collect();
    if !traps.is_empty() {
        o.push_str("# Format of trapezoid gradients:\n# id amplitude rise flat fall delay\n# ..      Hz/m   us   us   us    us\n[TRAP]\n");
        for (k, t) in traps {
            let _ = writeln!(
                o,
                "{k:>2} {} {:>3} {:>4} {:>3} {:>3}",
                pad(num(t.amp, 6), 12),
                us_int(t.rise),
                us_int(t.flat),
                us_int(t.fall),
                us_int(t.delay)
            );
        }
        o.push('\n');
    }
}

fn write_adc(seq: &Sequence, o: &mut String, v15: bool) {
    if seq.adc.is_empty() {
        return;
    }
    if v15 {
        o.push_str("# Format of ADC events:\n# id num dwell delay freqPPM phasePPM freq phase phase_id\n# ..  ..    ns    us     ppm  rad/MHz   Hz   rad       ..\n[ADC]\n");
    } else {
        o.push_str(
            "# Format of ADC events:\n# id num dwell delay freq phase\n# ..  ..    ns    us   Hz   rad\n[ADC]\n",
        );
    }
    for (k, a) in &seq.adc {
        let _ = write!(o, "{k} {} {} {} ", a.num, a.dwell.0, us_int(a.delay));
        if v15 {
            let _ = writeln!(
                o,
                "{} {} {} {} {}",
                num(a.freq_ppm, 6),
                num(a.phase_ppm, 6),
                num(a.freq, 6),
                num(a.phase, 6),
                a.phase_id
            );
        } else {
            let _ = writeln!(o, "{} {}", num(a.freq, 6), num(a.phase, 6));
        }
    }
    o.push('\n');
}

fn write_extensions(seq: &Sequence, o: &mut String, flush: &mut dyn FnMut(&mut String)) {
    if !seq.extensions.is_empty() {
        o.push_str("# Format of extension lists:\n# id type ref next_id\n# next_id of 0 terminates the list\n# Extension list is followed by extension specifications\n[EXTENSIONS]\n");
        for (k, n) in &seq.extensions {
            push_int(o, *k, 0);
            for v in [n.type_id, n.ref_id, n.next] {
                o.push(' ');
                push_int(o, v, 0);
            }
            o.push('\n');
            if o.len() >= CHUNK_BYTES {
                flush(o);
            }
        }
        o.push('\n');
    }
    let mut next_type = seq
        .extension_specs
        .iter()
        .map(|s| s.type_id)
        .max()
        .unwrap_or(0)
        + 1;
    let mut type_of = |name: &str| -> u32 {
        match seq.extension_specs.iter().find(|s| s.name == name) {
            Some(s) => s.type_id,
            None => {
                next_type += 1;
                next_type - 1
            }
        }
    };
    let declared = |name: &str| seq.extension_specs.iter().any(|s| s.name == name);
    if !seq.triggers.is_empty() || declared("TRIGGERS") {
        o.push_str("# Extension specification for digital output and input triggers:\n# id type channel delay (us) duration (us)\n");
        let _ = writeln!(o, "extension TRIGGERS {}", type_of("TRIGGERS"));
        for (k, t) in &seq.triggers {
            let _ = writeln!(
                o,
                "{k} {} {} {} {}",
                t.trigger_type,
                t.channel,
                us_int(t.delay),
                us_int(t.duration)
            );
        }
        o.push('\n');
    }
    for (name, lib) in [("LABELSET", &seq.labelset), ("LABELINC", &seq.labelinc)] {
        if !lib.is_empty() || declared(name) {
            o.push_str("# Extension specification for setting labels:\n# id set labelstring\n");
            let _ = writeln!(o, "extension {name} {}", type_of(name));
            for (k, l) in lib {
                let _ = writeln!(o, "{k} {} {}", l.value, l.label);
            }
            o.push('\n');
        }
    }
    if !seq.soft_delays.is_empty() || declared("DELAYS") {
        o.push_str("# Extension specification for soft delays:\n# id num offset factor hint\n# ..  ..     us     ..   ..\n");
        let _ = writeln!(o, "extension DELAYS {}", type_of("DELAYS"));
        for (k, d) in &seq.soft_delays {
            let f = if d.factor.fract() == 0.0 && d.factor.abs() < 1e15 {
                format!("{}", d.factor as i64)
            } else {
                num(d.factor, 17)
            };
            let _ = writeln!(o, "{k} {} {} {f} {}", d.num_id, us_int(d.offset), d.hint);
        }
        o.push('\n');
    }
    if !seq.rotations.is_empty() || declared("ROTATIONS") {
        o.push_str("# Extension specification for rotations:\n# id q0 qx qy qz\n");
        let _ = writeln!(o, "extension ROTATIONS {}", type_of("ROTATIONS"));
        for (k, q) in &seq.rotations {
            let _ = writeln!(
                o,
                "{k} {} {} {} {}",
                num(q[0], 9),
                num(q[1], 9),
                num(q[2], 9),
                num(q[3], 9)
            );
        }
        o.push('\n');
    }
    if !seq.rf_shims.is_empty() || declared("RF_SHIMS") {
        o.push_str("# Extension specification for RF shims:\n# id num_chan mag1 phase1 ...\n");
        let _ = writeln!(o, "extension RF_SHIMS {}", type_of("RF_SHIMS"));
        for (k, s) in &seq.rf_shims {
            let _ = write!(o, "{k} {}", s.channels.len());
            for (m, p) in &s.channels {
                let _ = write!(o, " {} {}", num(*m, 9), num(*p, 9));
            }
            o.push('\n');
        }
        o.push('\n');
    }
    // Unknown extensions: their data was not kept; the declaration is (readers skip it).
    for s in seq.extension_specs.iter().filter(|s| !s.known) {
        let _ = writeln!(o, "extension {} {}\n", s.name, s.type_id);
    }
}

/// Formats the body of `seq` into `file` in chunks, hashing and writing each chunk on a second
/// thread while the next one is formatted; returns the body's md5 (or the first write error).
fn write_body_to(
    seq: &Sequence,
    opts: WriteOptions,
    file: &mut std::fs::File,
) -> Result<std::io::Result<String>> {
    use md5::Digest;
    use std::sync::mpsc;
    let (to_writer, chunks) = mpsc::sync_channel::<String>(2);
    let (to_formatter, spare) = mpsc::channel::<String>();
    std::thread::scope(|s| {
        let writer = s.spawn(move || {
            let mut hasher = md5::Md5::new();
            let mut result = Ok(());
            for chunk in chunks {
                hasher.update(chunk.as_bytes());
                if result.is_ok() {
                    result = file.write_all(chunk.as_bytes());
                }
                let _ = to_formatter.send(chunk);
            }
            result.map(|()| crate::signature::hex(&hasher.finalize()))
        });
        let mut o = String::new();
        let formatted = write_body(seq, opts, &mut o, &mut |buf: &mut String| {
            let mut next = spare.try_recv().unwrap_or_default();
            next.clear();
            next.reserve(CHUNK_BYTES + 256);
            let full = std::mem::replace(buf, next);
            if !full.is_empty() {
                // The writer only stops early when it panics; the join below reports that.
                let _ = to_writer.send(full);
            }
        });
        drop(to_writer);
        let written = writer
            .join()
            .unwrap_or_else(|_| Err(std::io::Error::other("the .seq writer thread panicked")));
        formatted.map(|()| written)
    })
}

/// Writes `seq` to `path` atomically (temp file in the same directory, then rename); refuses to
/// replace an existing file unless `overwrite`.
pub fn write_file(
    path: impl AsRef<Path>,
    seq: &Sequence,
    opts: WriteOptions,
    overwrite: bool,
) -> Result<()> {
    let path = path.as_ref();
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let io = |e: std::io::Error| SeqError::Io {
        path: path.to_path_buf(),
        source: e,
    };
    if !overwrite && path.exists() {
        return Err(SeqError::invalid("file exists (not overwriting)").with_file(path));
    }
    let mut tmp = tempfile::NamedTempFile::new_in(&dir).map_err(io)?;
    let md5 = write_body_to(seq, opts, tmp.as_file_mut())?.map_err(io)?;
    tmp.write_all(signature_section(&md5).as_bytes())
        .map_err(io)?;
    // tempfile creates 0600; a .seq is an ordinary file (rw-r--r--).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .map_err(io)?;
    }
    tmp.as_file().sync_all().map_err(io)?;
    if overwrite {
        tmp.persist(path).map_err(|e| io(e.error))?;
    } else {
        tmp.persist_noclobber(path).map_err(|e| io(e.error))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g_format_like_python() {
        assert_eq!(fmt_g(1694915.25, 6), "1.69492e+06");
        assert_eq!(fmt_g(833333.3, 6), "833333");
        assert_eq!(fmt_g(1e-5, 9), "1e-05");
        assert_eq!(fmt_g(0.00011671692, 9), "0.00011671692");
        assert_eq!(fmt_g(-0.0, 9), "-0");
        assert_eq!(fmt_g(2.042035225, 6), "2.04204");
        assert_eq!(fmt_g(0.21735, 9), "0.21735");
        assert_eq!(num(129.71234567, 6), "129.71234567");
        assert_eq!(us_int(Nanos(1500)), "1.5");
        assert_eq!(us_int(Nanos(250_000)), "250");
    }

    #[test]
    fn compression_round_trips() {
        let s: Vec<f64> = (0..100)
            .map(|k| if k < 50 { k as f64 * 0.125 } else { 6.25 })
            .collect();
        let c = compress_shape(&s);
        assert!(c.len() < 10);
        let v: Vec<f64> = c.iter().map(|t| t.parse().unwrap()).collect();
        assert_eq!(decompress(&v, 100, true).unwrap(), s);
        assert_eq!(compress_shape(&[1.0, 2.0]), ["1", "2"]);
    }
}
