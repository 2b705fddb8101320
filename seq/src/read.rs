//! The `.seq` reader (formats 1.2.0 – 1.5.x): line tokens with `nom`, a section state machine,
//! then cross-reference checks, shape decompression, block durations and the signature.
//! Algorithms here work on text; [`read_file`] is the only function that touches the disk.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use nom::Parser;
use nom::bytes::complete::take_while1;
use nom::character::complete::char;
use nom::combinator::all_consuming;
use nom::sequence::delimited;

use crate::error::{Result, SeqError};
use crate::events::{
    AdcEvent, ArbGrad, ExtensionNode, ExtensionSpec, Gradient, Label, RfEvent, RfShim, SoftDelay,
    TrapGrad, Trigger,
};
use crate::sequence::{Block, DefValue, Libraries, Sequence, Signature, Version};
use crate::shape::{Shape, decompress};
use crate::signature::{is_md5_hex, md5_hex, signed_part};
use crate::time::Nanos;

type NomErr<'a> = nom::error::Error<&'a str>;

/// `[NAME]` → `NAME`.
fn section_header(line: &str) -> Option<&str> {
    all_consuming(delimited(
        char::<&str, NomErr>('['),
        take_while1(|c| c != ']'),
        char(']'),
    ))
    .parse(line)
    .ok()
    .map(|(_, name)| name)
}

/// White-space separated tokens of a trimmed, non-empty line (the hot path of the reader:
/// plain splitting, no per-token parser).
fn tokens(line: &str) -> Vec<&str> {
    line.split_ascii_whitespace().collect()
}

/// A token as a number (exponent forms, `-0`, integers), with the standard library's exact
/// decimal-to-binary conversion.
fn number(tok: &str) -> Option<f64> {
    tok.parse::<f64>().ok()
}

/// Leading decimal digits of a token (`1post1` → 1).
fn leading_uint(tok: &str) -> Option<u32> {
    let digits: &str = tok
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap_or("");
    digits.parse().ok()
}

/// The fields of a plain `[BLOCKS]` (or `[EXTENSIONS]`) row, `b[start..end]`: `cols` runs of 1–15 ASCII digits
/// separated by blanks. `None` sends the row to the general path: other number forms (`1e3`,
/// `2.0`), a wrong field count, longer numbers. The reader's hot path: one pass over the bytes,
/// no allocation, no float parse.
fn block_row_fast(b: &[u8], start: usize, end: usize, cols: usize) -> Option<[u64; 8]> {
    let line = &b[start..end];
    let mut out = [0u64; 8];
    let mut n = 0;
    let mut i = 0;
    while i < line.len() {
        let c = line[i];
        if matches!(c, b' ' | b'\t' | b'\r') {
            i += 1;
            continue;
        }
        if n == cols {
            return None;
        }
        let first = i;
        let mut v = 0u64;
        while i < line.len() && line[i].is_ascii_digit() {
            v = 10 * v + u64::from(line[i] - b'0');
            i += 1;
        }
        let digits = i - first;
        if digits == 0 || digits > 15 {
            return None;
        }
        out[n] = v;
        n += 1;
    }
    let ids_fit = out
        .iter()
        .enumerate()
        .all(|(k, &v)| k == 1 || v <= u64::from(u32::MAX));
    (n == cols && ids_fit).then_some(out)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ext {
    Triggers,
    LabelSet,
    LabelInc,
    SoftDelays,
    Rotations,
    RfShims,
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sec {
    Preamble,
    Version,
    Definitions,
    Blocks,
    Rf,
    Gradients,
    Trap,
    Adc,
    Delays,
    Extensions,
    Extension(Ext),
    Shapes,
    Signature,
}

/// A packed shape waiting for decompression.
struct RawShape {
    line: usize,
    num: Option<usize>,
    values: Vec<f64>,
}

/// Parser state.
#[derive(Default)]
struct Reader {
    seq: Sequence,
    major: Option<(u32, usize)>,
    minor: Option<u32>,
    revision: Option<(u32, String)>,
    block_lines: Vec<(usize, i64)>,
    event_lines: HashMap<(&'static str, u32), usize>,
    /// `(node id, line)` of each `[EXTENSIONS]` row, searched only for error messages.
    ext_node_lines: Vec<(u32, usize)>,
    shapes: BTreeMap<u32, RawShape>,
    current_shape: Option<u32>,
    unknown_ext_counts: Vec<(String, u32, usize, usize)>,
    signature_line: Option<usize>,
    sig_type: Option<String>,
    sig_hash: Option<String>,
}

fn field_count(line: usize, sec: &str, toks: &[&str], expected: &[usize]) -> Result<()> {
    if expected.contains(&toks.len()) {
        return Ok(());
    }
    let exp = expected
        .iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join(" or ");
    Err(SeqError::at(
        line,
        format!("{sec} row has {} fields, expected {exp}", toks.len()),
    ))
}

fn nums(line: usize, sec: &str, toks: &[&str]) -> Result<Vec<f64>> {
    toks.iter()
        .enumerate()
        .map(|(i, t)| {
            number(t).ok_or_else(|| {
                SeqError::at(line, format!("{sec} field {} '{t}' is not a number", i + 1))
            })
        })
        .collect()
}

fn int(line: usize, sec: &str, what: &str, v: f64) -> Result<i64> {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 9e15 {
        Ok(v as i64)
    } else {
        Err(SeqError::at(
            line,
            format!("{sec} {what} {v} is not an integer"),
        ))
    }
}

fn id(line: usize, sec: &str, what: &str, v: f64) -> Result<u32> {
    let i = int(line, sec, what, v)?;
    u32::try_from(i).map_err(|_| {
        SeqError::at(
            line,
            format!("{sec} {what} {v} is not a valid id (0 or positive)"),
        )
    })
}

fn us(v: f64) -> Nanos {
    Nanos::from_us_f64(v)
}

impl Reader {
    fn version_number(&self, line: usize, sec: &str) -> Result<u64> {
        match &self.seq.version {
            Some(v) => Ok(v.number()),
            None => Err(SeqError::at(
                line,
                format!("{sec} before a complete [VERSION]"),
            )),
        }
    }

    fn finish_version(&mut self) -> Result<()> {
        if self.seq.version.is_some() {
            return Ok(());
        }
        if let (Some((major, line)), Some(minor), Some((revision, raw))) =
            (self.major, self.minor, self.revision.clone())
        {
            let v = Version {
                major,
                minor,
                revision,
                revision_raw: raw,
            };
            if v.number() < 1_002_000 {
                return Err(SeqError::at(
                    line,
                    format!("format {v} is older than 1.2.0 (unsupported)"),
                ));
            }
            self.seq.version = Some(v);
        }
        Ok(())
    }

    /// Appends a `[BLOCKS]` row already checked: id, duration (1.4+) or `[DELAYS]` id (< 1.4),
    /// rf, gx, gy, gz, adc and, with 8 columns, ext. The duration is set in `finish`.
    fn push_block(&mut self, line: usize, v: &[u64; 8], cols: usize) {
        let delay_ids = self
            .seq
            .version
            .as_ref()
            .is_some_and(|x| x.number() < 1_004_000);
        self.seq.blocks.push(Block {
            id: v[0] as u32,
            duration: Nanos::ZERO,
            delay_id: if delay_ids { v[1] as u32 } else { 0 },
            rf: v[2] as u32,
            gx: v[3] as u32,
            gy: v[4] as u32,
            gz: v[5] as u32,
            adc: v[6] as u32,
            ext: if cols == 8 { v[7] as u32 } else { 0 },
        });
        self.block_lines.push((line, v[1] as i64));
    }

    /// Appends an `[EXTENSIONS]` row already checked: id, type, ref, next.
    fn push_extension(&mut self, line: usize, v: &[u64; 8]) {
        let node = ExtensionNode {
            type_id: v[1] as u32,
            ref_id: v[2] as u32,
            next: v[3] as u32,
        };
        let key = v[0] as u32;
        self.ext_node_lines.push((key, line));
        let (w, map) = (&mut self.seq.warnings, &mut self.seq.extensions);
        Self::insert(w, map, line, "[EXTENSIONS]", key, node);
    }

    fn insert<T>(
        warnings: &mut Vec<String>,
        map: &mut BTreeMap<u32, T>,
        line: usize,
        sec: &str,
        key: u32,
        v: T,
    ) {
        if map.insert(key, v).is_some() {
            warnings.push(format!(
                "line {line}: {sec} id {key} defined twice; the last one is kept"
            ));
        }
    }

    fn line(&mut self, sec: Sec, n: usize, t: &str) -> Result<()> {
        let toks = tokens(t);
        match sec {
            Sec::Preamble => {
                return Err(SeqError::at(n, format!("'{t}' outside any section")));
            }
            Sec::Version => {
                field_count(n, "[VERSION]", &toks, &[2])?;
                let v = leading_uint(toks[1]).ok_or_else(|| {
                    SeqError::at(
                        n,
                        format!("[VERSION] {} '{}' is not a number", toks[0], toks[1]),
                    )
                })?;
                match toks[0] {
                    "major" => self.major = Some((v, n)),
                    "minor" => self.minor = Some(v),
                    "revision" => self.revision = Some((v, toks[1].to_string())),
                    k => self
                        .seq
                        .warnings
                        .push(format!("line {n}: [VERSION] key '{k}' ignored")),
                }
            }
            Sec::Definitions => {
                let key = toks[0].to_string();
                let rest = t[toks[0].len()..].trim();
                let vals: Vec<Option<f64>> = toks[1..].iter().map(|x| number(x)).collect();
                let value = if !vals.is_empty() && vals.iter().all(Option::is_some) {
                    let v: Vec<f64> = vals.into_iter().flatten().collect();
                    if v.len() == 1 {
                        DefValue::Number(v[0])
                    } else {
                        DefValue::List(v)
                    }
                } else {
                    DefValue::Text(rest.to_string())
                };
                if let Some(slot) = self.seq.definitions.iter_mut().find(|(k, _)| *k == key) {
                    slot.1 = value;
                } else {
                    self.seq.definitions.push((key, value));
                }
            }
            Sec::Blocks => {
                let vn = self.version_number(n, "[BLOCKS]")?;
                let cols = if vn <= 1_002_001 { 7 } else { 8 };
                field_count(n, "[BLOCKS]", &toks, &[cols])?;
                let v = nums(n, "[BLOCKS]", &toks)?;
                let s = "[BLOCKS]";
                let second = int(n, s, "duration/delay", v[1])?;
                if second < 0 {
                    return Err(SeqError::at(
                        n,
                        format!("[BLOCKS] negative duration/delay {second}"),
                    ));
                }
                let fields = [
                    u64::from(id(n, s, "id", v[0])?),
                    second as u64,
                    u64::from(id(n, s, "rf", v[2])?),
                    u64::from(id(n, s, "gx", v[3])?),
                    u64::from(id(n, s, "gy", v[4])?),
                    u64::from(id(n, s, "gz", v[5])?),
                    u64::from(id(n, s, "adc", v[6])?),
                    if cols == 8 {
                        u64::from(id(n, s, "ext", v[7])?)
                    } else {
                        0
                    },
                ];
                self.push_block(n, &fields, cols);
            }
            Sec::Rf => {
                let vn = self.version_number(n, "[RF]")?;
                let s = "[RF]";
                let rf = if vn >= 1_005_000 {
                    field_count(n, s, &toks, &[12])?;
                    let v = nums(n, s, &toks[..11])?;
                    let u = toks[11];
                    let use_ = u
                        .chars()
                        .next()
                        .filter(|c| "eripsou".contains(*c) && u.len() == 1);
                    let use_ = use_.ok_or_else(|| {
                        SeqError::at(n, format!("[RF] use '{u}' is not one of e r i s p o u"))
                    })?;
                    RfEvent {
                        amp: v[1],
                        mag_id: id(n, s, "mag_id", v[2])?,
                        phase_id: id(n, s, "phase_id", v[3])?,
                        time_id: int(n, s, "time_id", v[4])?,
                        center: Some(us(v[5])),
                        delay: us(v[6]),
                        freq_ppm: v[7],
                        phase_ppm: v[8],
                        freq: v[9],
                        phase: v[10],
                        use_,
                    }
                } else {
                    let new = vn >= 1_004_000;
                    field_count(n, s, &toks, &[if new { 8 } else { 7 }])?;
                    let v = nums(n, s, &toks)?;
                    let o = usize::from(new);
                    RfEvent {
                        amp: v[1],
                        mag_id: id(n, s, "mag_id", v[2])?,
                        phase_id: id(n, s, "phase_id", v[3])?,
                        time_id: if new { int(n, s, "time_id", v[4])? } else { 0 },
                        center: None,
                        delay: us(v[4 + o]),
                        freq_ppm: 0.0,
                        phase_ppm: 0.0,
                        freq: v[5 + o],
                        phase: v[6 + o],
                        use_: 'u',
                    }
                };
                let key = id(n, s, "id", number(toks[0]).unwrap_or(f64::NAN))?;
                self.event_lines.insert(("rf", key), n);
                Self::insert(&mut self.seq.warnings, &mut self.seq.rf, n, s, key, rf);
            }
            Sec::Gradients => {
                let vn = self.version_number(n, "[GRADIENTS]")?;
                let s = "[GRADIENTS]";
                let cols = if vn >= 1_005_000 {
                    7
                } else if vn >= 1_004_000 {
                    5
                } else {
                    4
                };
                field_count(n, s, &toks, &[cols])?;
                let v = nums(n, s, &toks)?;
                let g = match cols {
                    7 => ArbGrad {
                        amp: v[1],
                        first: Some(v[2]),
                        last: Some(v[3]),
                        shape_id: id(n, s, "shape_id", v[4])?,
                        time_id: int(n, s, "time_id", v[5])?,
                        delay: us(v[6]),
                    },
                    5 => ArbGrad {
                        amp: v[1],
                        first: None,
                        last: None,
                        shape_id: id(n, s, "shape_id", v[2])?,
                        time_id: int(n, s, "time_id", v[3])?,
                        delay: us(v[4]),
                    },
                    _ => ArbGrad {
                        amp: v[1],
                        first: None,
                        last: None,
                        shape_id: id(n, s, "shape_id", v[2])?,
                        time_id: 0,
                        delay: us(v[3]),
                    },
                };
                let key = id(n, s, "id", v[0])?;
                self.event_lines.insert(("grad", key), n);
                let map = &mut self.seq.grad;
                Self::insert(&mut self.seq.warnings, map, n, s, key, Gradient::Arb(g));
            }
            Sec::Trap => {
                let s = "[TRAP]";
                field_count(n, s, &toks, &[6])?;
                let v = nums(n, s, &toks)?;
                let g = TrapGrad {
                    amp: v[1],
                    rise: us(v[2]),
                    flat: us(v[3]),
                    fall: us(v[4]),
                    delay: us(v[5]),
                };
                let key = id(n, s, "id", v[0])?;
                self.event_lines.insert(("grad", key), n);
                let map = &mut self.seq.grad;
                Self::insert(&mut self.seq.warnings, map, n, s, key, Gradient::Trap(g));
            }
            Sec::Adc => {
                let vn = self.version_number(n, "[ADC]")?;
                let s = "[ADC]";
                let new = vn >= 1_005_000;
                field_count(n, s, &toks, &[if new { 9 } else { 6 }])?;
                let v = nums(n, s, &toks)?;
                let num = int(n, s, "num", v[1])?;
                let num = u64::try_from(num)
                    .map_err(|_| SeqError::at(n, format!("[ADC] negative sample count {num}")))?;
                let a = if new {
                    AdcEvent {
                        num,
                        dwell: Nanos(v[2].round() as i64),
                        delay: us(v[3]),
                        freq_ppm: v[4],
                        phase_ppm: v[5],
                        freq: v[6],
                        phase: v[7],
                        phase_id: id(n, s, "phase_id", v[8])?,
                    }
                } else {
                    AdcEvent {
                        num,
                        dwell: Nanos(v[2].round() as i64),
                        delay: us(v[3]),
                        freq_ppm: 0.0,
                        phase_ppm: 0.0,
                        freq: v[4],
                        phase: v[5],
                        phase_id: 0,
                    }
                };
                let key = id(n, s, "id", v[0])?;
                self.event_lines.insert(("adc", key), n);
                Self::insert(&mut self.seq.warnings, &mut self.seq.adc, n, s, key, a);
            }
            Sec::Delays => {
                let s = "[DELAYS]";
                field_count(n, s, &toks, &[2])?;
                let v = nums(n, s, &toks)?;
                let key = id(n, s, "id", v[0])?;
                Self::insert(
                    &mut self.seq.warnings,
                    &mut self.seq.delays,
                    n,
                    s,
                    key,
                    us(v[1]),
                );
            }
            Sec::Extensions => {
                let s = "[EXTENSIONS]";
                field_count(n, s, &toks, &[4])?;
                let v = nums(n, s, &toks)?;
                let row = [
                    u64::from(id(n, s, "id", v[0])?),
                    u64::from(id(n, s, "type", v[1])?),
                    u64::from(id(n, s, "ref", v[2])?),
                    u64::from(id(n, s, "next", v[3])?),
                    0,
                    0,
                    0,
                    0,
                ];
                self.push_extension(n, &row);
            }
            Sec::Extension(kind) => self.extension_line(kind, n, &toks)?,
            Sec::Shapes => {
                let key = toks[0].to_ascii_lowercase();
                if toks.len() == 2 && (key == "shape_id") {
                    let v = number(toks[1]).unwrap_or(f64::NAN);
                    let sid = id(n, "[SHAPES]", "shape_id", v)?;
                    if self.shapes.contains_key(&sid) {
                        return Err(SeqError::at(
                            n,
                            format!("[SHAPES] shape_id {sid} defined twice"),
                        ));
                    }
                    self.shapes.insert(
                        sid,
                        RawShape {
                            line: n,
                            num: None,
                            values: Vec::new(),
                        },
                    );
                    self.current_shape = Some(sid);
                } else if toks.len() == 2 && (key == "num_samples" || key == "num_uncompressed") {
                    let cur = self.current_shape.and_then(|c| self.shapes.get_mut(&c));
                    let cur =
                        cur.ok_or_else(|| SeqError::at(n, "[SHAPES] num_samples before shape_id"))?;
                    let v = number(toks[1]).unwrap_or(f64::NAN);
                    let num = int(n, "[SHAPES]", "num_samples", v)?;
                    cur.num = Some(usize::try_from(num).map_err(|_| {
                        SeqError::at(n, format!("[SHAPES] negative num_samples {num}"))
                    })?);
                } else {
                    let v = nums(n, "[SHAPES]", &toks)?;
                    let cur = self.current_shape.and_then(|c| self.shapes.get_mut(&c));
                    let cur =
                        cur.ok_or_else(|| SeqError::at(n, "[SHAPES] sample before shape_id"))?;
                    if cur.num.is_none() {
                        return Err(SeqError::at(n, "[SHAPES] sample before num_samples"));
                    }
                    cur.values.extend(v);
                }
            }
            Sec::Signature => {
                field_count(n, "[SIGNATURE]", &toks, &[2])?;
                match toks[0].to_ascii_lowercase().as_str() {
                    "type" => {
                        if !toks[1].eq_ignore_ascii_case("md5") {
                            return Err(SeqError::at(
                                n,
                                format!("[SIGNATURE] type '{}' is not md5", toks[1]),
                            ));
                        }
                        self.sig_type = Some(toks[1].to_ascii_lowercase());
                    }
                    "hash" => {
                        if !is_md5_hex(toks[1]) {
                            return Err(SeqError::at(
                                n,
                                format!("[SIGNATURE] hash '{}' is not 32 hex digits", toks[1]),
                            ));
                        }
                        self.sig_hash = Some(toks[1].to_ascii_lowercase());
                    }
                    k => return Err(SeqError::at(n, format!("[SIGNATURE] unknown key '{k}'"))),
                }
            }
        }
        Ok(())
    }

    fn extension_line(&mut self, kind: Ext, n: usize, toks: &[&str]) -> Result<()> {
        let w = &mut self.seq.warnings;
        match kind {
            Ext::Triggers => {
                let s = "TRIGGERS";
                field_count(n, s, toks, &[5])?;
                let v = nums(n, s, toks)?;
                let t = Trigger {
                    trigger_type: int(n, s, "type", v[1])?,
                    channel: int(n, s, "channel", v[2])?,
                    delay: us(v[3]),
                    duration: us(v[4]),
                };
                let key = id(n, s, "id", v[0])?;
                Self::insert(w, &mut self.seq.triggers, n, s, key, t);
            }
            Ext::LabelSet | Ext::LabelInc => {
                let s = if kind == Ext::LabelSet {
                    "LABELSET"
                } else {
                    "LABELINC"
                };
                field_count(n, s, toks, &[3])?;
                let v = nums(n, s, &toks[..2])?;
                let l = Label {
                    value: int(n, s, "value", v[1])?,
                    label: toks[2].to_string(),
                };
                let key = id(n, s, "id", v[0])?;
                let map = if kind == Ext::LabelSet {
                    &mut self.seq.labelset
                } else {
                    &mut self.seq.labelinc
                };
                Self::insert(w, map, n, s, key, l);
            }
            Ext::SoftDelays => {
                let s = "DELAYS";
                field_count(n, s, toks, &[5])?;
                let v = nums(n, s, &toks[..4])?;
                let d = SoftDelay {
                    num_id: int(n, s, "num_id", v[1])?,
                    offset: us(v[2]),
                    factor: v[3],
                    hint: toks[4].to_string(),
                };
                let key = id(n, s, "id", v[0])?;
                Self::insert(w, &mut self.seq.soft_delays, n, s, key, d);
            }
            Ext::Rotations => {
                let s = "ROTATIONS";
                field_count(n, s, toks, &[5])?;
                let v = nums(n, s, toks)?;
                let key = id(n, s, "id", v[0])?;
                Self::insert(
                    w,
                    &mut self.seq.rotations,
                    n,
                    s,
                    key,
                    [v[1], v[2], v[3], v[4]],
                );
            }
            Ext::RfShims => {
                let s = "RF_SHIMS";
                let v = nums(n, s, toks)?;
                let nch = if v.len() >= 2 {
                    int(n, s, "n_chan", v[1])?
                } else {
                    -1
                };
                if nch < 0 || v.len() != 2 + 2 * nch as usize {
                    return Err(SeqError::at(
                        n,
                        format!("RF_SHIMS row has {} fields, expected 2 + 2·n_chan", v.len()),
                    ));
                }
                let channels = v[2..].chunks(2).map(|c| (c[0], c[1])).collect();
                let key = id(n, s, "id", v[0])?;
                Self::insert(w, &mut self.seq.rf_shims, n, s, key, RfShim { channels });
            }
            Ext::Unknown => {
                if let Some(last) = self.unknown_ext_counts.last_mut() {
                    last.3 += 1;
                }
            }
        }
        Ok(())
    }

    fn start_extension(&mut self, n: usize, toks: &[&str]) -> Result<Sec> {
        field_count(n, "extension header", toks, &[3])?;
        let type_id = id(
            n,
            "extension",
            "type id",
            number(toks[2]).unwrap_or(f64::NAN),
        )?;
        let name = toks[1].to_string();
        let kind = match name.as_str() {
            "TRIGGERS" => Ext::Triggers,
            "LABELSET" => Ext::LabelSet,
            "LABELINC" => Ext::LabelInc,
            "DELAYS" => Ext::SoftDelays,
            "ROTATIONS" => Ext::Rotations,
            "RF_SHIMS" => Ext::RfShims,
            _ => Ext::Unknown,
        };
        if kind == Ext::Unknown {
            self.unknown_ext_counts.push((name.clone(), type_id, n, 0));
        }
        if self
            .seq
            .extension_specs
            .iter()
            .any(|s| s.type_id == type_id)
        {
            return Err(SeqError::at(
                n,
                format!("extension type id {type_id} declared twice"),
            ));
        }
        self.seq.extension_specs.push(ExtensionSpec {
            name,
            type_id,
            known: kind != Ext::Unknown,
        });
        Ok(Sec::Extension(kind))
    }

    /// Cross-checks, decompression, durations and the signature.
    fn finish(mut self, bytes: &[u8], opts: ReadOptions) -> Result<Sequence> {
        self.finish_version()?;
        let version = self.seq.version.clone().ok_or_else(|| {
            SeqError::invalid("no complete [VERSION] section (major, minor, revision)")
        })?;
        let vn = version.number();
        let seq = &mut self.seq;

        // Rasters.
        let raster = |seq: &Sequence, key: &str, default: Nanos| match seq.definition(key) {
            Some(DefValue::Number(x)) if *x > 0.0 => Nanos::from_secs_f64(*x),
            _ => default,
        };
        let d = seq.rasters;
        seq.rasters.grad = raster(seq, "GradientRasterTime", d.grad);
        seq.rasters.rf = raster(seq, "RadiofrequencyRasterTime", d.rf);
        seq.rasters.adc = raster(seq, "AdcRasterTime", d.adc);
        seq.rasters.block = raster(seq, "BlockDurationRaster", d.block);
        if vn >= 1_004_000 {
            for key in [
                "GradientRasterTime",
                "RadiofrequencyRasterTime",
                "AdcRasterTime",
                "BlockDurationRaster",
            ] {
                if seq.definition(key).is_none() {
                    seq.warnings.push(format!(
                        "required definition {key} missing; the default is used"
                    ));
                }
            }
        }

        // Shapes.
        for (sid, raw) in std::mem::take(&mut self.shapes) {
            let num = raw.num.ok_or_else(|| {
                SeqError::at(raw.line, format!("[SHAPES] shape {sid} has no num_samples"))
            })?;
            let samples = decompress(&raw.values, num, vn < 1_004_000)
                .map_err(|m| SeqError::at(raw.line, format!("[SHAPES] shape {sid}: {m}")))?;
            seq.shapes.insert(sid, Shape { samples });
        }

        // Event → shape references.
        let missing = |line: usize, what: &str, eid: u32, field: &str, sid: u32| {
            SeqError::at(
                line,
                format!("{what} id {eid}: {field} {sid} is not defined in [SHAPES]"),
            )
        };
        let lines = &self.event_lines;
        for (eid, rf) in &seq.rf {
            let l = lines[&("rf", *eid)];
            for (field, sid) in [("mag_id", rf.mag_id), ("phase_id", rf.phase_id)] {
                if !seq.shapes.contains_key(&sid) {
                    return Err(missing(l, "[RF]", *eid, field, sid));
                }
            }
            if rf.time_id > 0 && !seq.shapes.contains_key(&(rf.time_id as u32)) {
                return Err(missing(l, "[RF]", *eid, "time_id", rf.time_id as u32));
            }
            let len = |sid: u32| seq.shapes.get(&sid).map(|s| s.samples.len());
            let (nm, np) = (len(rf.mag_id), len(rf.phase_id));
            let nt = if rf.time_id > 0 {
                len(rf.time_id as u32)
            } else {
                nm
            };
            if nm != np || nm != nt {
                seq.warnings.push(format!(
                    "line {l}: [RF] id {eid}: magnitude, phase and time shapes differ in length ({nm:?}, {np:?}, {nt:?})"
                ));
            }
            if rf.time_id < 0 {
                return Err(SeqError::at(
                    l,
                    format!("[RF] id {eid}: negative time_id {}", rf.time_id),
                ));
            }
        }
        for (eid, g) in &seq.grad {
            if let Gradient::Arb(a) = g {
                let l = lines[&("grad", *eid)];
                if !seq.shapes.contains_key(&a.shape_id) {
                    return Err(missing(l, "[GRADIENTS]", *eid, "shape_id", a.shape_id));
                }
                if a.time_id > 0 && !seq.shapes.contains_key(&(a.time_id as u32)) {
                    return Err(missing(l, "[GRADIENTS]", *eid, "time_id", a.time_id as u32));
                }
                if a.time_id < -1 {
                    let m = format!(
                        "[GRADIENTS] id {eid}: time_id {} (only -1, 0 or a shape id)",
                        a.time_id
                    );
                    return Err(SeqError::at(l, m));
                }
            }
        }
        for (eid, a) in &seq.adc {
            if a.phase_id != 0 && !seq.shapes.contains_key(&a.phase_id) {
                return Err(missing(
                    lines[&("adc", *eid)],
                    "[ADC]",
                    *eid,
                    "phase_id",
                    a.phase_id,
                ));
            }
        }

        // Extension nodes.
        let node_lines = &self.ext_node_lines;
        for (nid, node) in &seq.extensions {
            // The last row with this id (the one kept), for error messages.
            let l = || {
                node_lines
                    .iter()
                    .rev()
                    .find(|(k, _)| k == nid)
                    .map_or(0, |&(_, l)| l)
            };
            if node.next != 0 && !seq.extensions.contains_key(&node.next) {
                return Err(SeqError::at(
                    l(),
                    format!("[EXTENSIONS] node {nid}: next {} is not defined", node.next),
                ));
            }
            let Some(spec) = seq.extension_spec(node.type_id) else {
                return Err(SeqError::at(
                    l(),
                    format!(
                        "[EXTENSIONS] node {nid}: type {} has no `extension NAME {}` specification",
                        node.type_id, node.type_id
                    ),
                ));
            };
            let present = match spec.name.as_str() {
                "TRIGGERS" => seq.triggers.contains_key(&node.ref_id),
                "LABELSET" => seq.labelset.contains_key(&node.ref_id),
                "LABELINC" => seq.labelinc.contains_key(&node.ref_id),
                "DELAYS" => seq.soft_delays.contains_key(&node.ref_id),
                "ROTATIONS" => seq.rotations.contains_key(&node.ref_id),
                "RF_SHIMS" => seq.rf_shims.contains_key(&node.ref_id),
                _ => true,
            };
            if !present {
                return Err(SeqError::at(
                    l(),
                    format!(
                        "[EXTENSIONS] node {nid}: {} object {} is not defined",
                        spec.name, node.ref_id
                    ),
                ));
            }
        }
        let required: Vec<String> = match seq.definition("RequiredExtensions") {
            Some(DefValue::Text(t)) => t.split_whitespace().map(str::to_string).collect(),
            _ => Vec::new(),
        };
        for (name, type_id, line, count) in &self.unknown_ext_counts {
            if required.contains(name) {
                return Err(SeqError::at(
                    *line,
                    format!("extension {name} is listed in RequiredExtensions but not supported"),
                ));
            }
            seq.warnings.push(format!(
                "line {line}: unknown extension {name} (type {type_id}) skipped ({count} objects)"
            ));
        }

        // Blocks: references and durations.
        let lib = Libraries::new(seq);
        let ext_ok = |id: u32| id == 0 || lib.extensions.get(id).is_some();
        for (b, (l, _)) in seq.blocks.iter().zip(&self.block_lines) {
            let all_ok = (b.rf == 0 || lib.rf.get(b.rf).is_some())
                & (b.gx == 0 || lib.grad.get(b.gx).is_some())
                & (b.gy == 0 || lib.grad.get(b.gy).is_some())
                & (b.gz == 0 || lib.grad.get(b.gz).is_some())
                & (b.adc == 0 || lib.adc.get(b.adc).is_some())
                & ext_ok(b.ext)
                & (b.delay_id == 0 || lib.delays.get(b.delay_id).is_some());
            if all_ok {
                continue;
            }
            let refs: [(&str, u32, bool); 7] = [
                ("rf", b.rf, lib.rf.get(b.rf).is_some()),
                ("gx", b.gx, lib.grad.get(b.gx).is_some()),
                ("gy", b.gy, lib.grad.get(b.gy).is_some()),
                ("gz", b.gz, lib.grad.get(b.gz).is_some()),
                ("adc", b.adc, lib.adc.get(b.adc).is_some()),
                ("ext", b.ext, ext_ok(b.ext)),
                ("delay", b.delay_id, lib.delays.get(b.delay_id).is_some()),
            ];
            for (what, eid, ok) in refs {
                if eid != 0 && !ok {
                    return Err(SeqError::at(
                        *l,
                        format!("[BLOCKS] block {}: {what} event {eid} is not defined", b.id),
                    ));
                }
            }
        }
        let durations: Vec<Nanos> = if vn >= 1_004_000 {
            let raster = seq.rasters.block;
            self.block_lines
                .iter()
                .map(|(_, second)| raster * *second)
                .collect()
        } else {
            seq.blocks.iter().map(|b| lib.events_duration(b)).collect()
        };
        let increasing = seq.blocks.windows(2).all(|w| w[0].id < w[1].id);
        if !increasing {
            let mut seen = std::collections::HashSet::new();
            for (b, (l, _)) in seq.blocks.iter().zip(&self.block_lines) {
                if !seen.insert(b.id) {
                    seq.warnings.push(format!(
                        "line {l}: [BLOCKS] block id {} appears twice",
                        b.id
                    ));
                }
            }
        }
        for (b, d) in seq.blocks.iter_mut().zip(durations) {
            b.duration = d;
        }

        // Signature.
        if let Some(l) = self.signature_line {
            let (Some(kind), Some(hash)) = (self.sig_type.take(), self.sig_hash.take()) else {
                return Err(SeqError::at(
                    l,
                    "[SIGNATURE] needs both `Type md5` and `Hash <32 hex digits>`",
                ));
            };
            let computed = opts
                .verify_signature
                .then(|| md5_hex(signed_part(bytes).unwrap_or(bytes)));
            let signature = Signature {
                kind,
                hash,
                computed,
            };
            if let (Some(c), false) = (&signature.computed, signature.matches()) {
                seq.warnings.push(format!(
                    "line {l}: signature {} does not match the md5 of the file ({c})",
                    signature.hash
                ));
            }
            seq.signature = Some(signature);
        }
        Ok(self.seq)
    }
}

/// Reads a `.seq` text.
pub fn read_str(text: &str) -> Result<Sequence> {
    read_bytes(text.as_bytes())
}

/// How to read a `.seq` file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadOptions {
    /// Compute the md5 of the file and compare it with `[SIGNATURE]` (on by default; the
    /// reference readers do not verify, and the md5 is a large part of reading a big file).
    pub verify_signature: bool,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            verify_signature: true,
        }
    }
}

/// Reads `.seq` bytes (ASCII/UTF-8; LF or CRLF line ends), verifying the signature.
pub fn read_bytes(bytes: &[u8]) -> Result<Sequence> {
    read_bytes_with(bytes, ReadOptions::default())
}

/// Reads `.seq` bytes with `opts`.
pub fn read_bytes_with(bytes: &[u8], opts: ReadOptions) -> Result<Sequence> {
    parse(bytes)?.finish(bytes, opts)
}

/// The line pass: sections, rows and the plain-integer fast path for `[BLOCKS]`.
fn parse(bytes: &[u8]) -> Result<Reader> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        SeqError::at(line, "the file is not valid UTF-8 text")
    })?;
    let mut r = Reader::default();
    let mut sec = Sec::Preamble;
    let mut block_cols = 0;
    let mut start = 0;
    let mut n = 0;
    while start <= bytes.len() {
        let end = memchr::memchr(b'\n', &bytes[start..]).map_or(bytes.len(), |k| start + k);
        n += 1;
        let line_start = std::mem::replace(&mut start, end + 1);
        if block_cols > 0 {
            if let Some(v) = block_row_fast(bytes, line_start, end, block_cols) {
                r.push_block(n, &v, block_cols);
                continue;
            }
        } else if sec == Sec::Extensions {
            let row = block_row_fast(bytes, line_start, end, 4);
            if let Some(v) = row.filter(|v| v[1] <= u64::from(u32::MAX)) {
                r.push_extension(n, &v);
                continue;
            }
        }
        let raw = &text[line_start..end];
        let t = raw.trim();
        if t.is_empty() || t.starts_with('#') {
            if t.is_empty() && sec == Sec::Shapes {
                r.current_shape = None;
            }
            continue;
        }
        let header = if t.starts_with('[') {
            section_header(t)
        } else {
            None
        };
        if let Some(name) = header {
            if sec == Sec::Version {
                r.finish_version()?;
            }
            sec = match name {
                "VERSION" => Sec::Version,
                "DEFINITIONS" => Sec::Definitions,
                "BLOCKS" => Sec::Blocks,
                "RF" => Sec::Rf,
                "GRADIENTS" => Sec::Gradients,
                "TRAP" => Sec::Trap,
                "ADC" => Sec::Adc,
                "DELAYS" => {
                    if r.seq
                        .version
                        .as_ref()
                        .is_some_and(|v| v.number() >= 1_004_000)
                    {
                        return Err(SeqError::at(
                            n,
                            "[DELAYS] is not allowed from format 1.4 on",
                        ));
                    }
                    Sec::Delays
                }
                "EXTENSIONS" => Sec::Extensions,
                "SHAPES" => Sec::Shapes,
                "SIGNATURE" => {
                    r.signature_line = Some(n);
                    Sec::Signature
                }
                other => return Err(SeqError::at(n, format!("unknown section [{other}]"))),
            };
            // The fast path needs the version for the column count; without one the general
            // path reports the missing [VERSION].
            block_cols = match (&r.seq.version, sec) {
                (Some(v), Sec::Blocks) if v.number() <= 1_002_001 => 7,
                (Some(_), Sec::Blocks) => 8,
                _ => 0,
            };
            r.current_shape = None;
            if block_cols > 0 {
                // One allocation for the rows: at most one per line up to the next section.
                let rest = bytes.get(start..).unwrap_or(&[]);
                let body = memchr::memmem::find(rest, b"\n[").map_or(rest, |k| &rest[..k]);
                let rows = memchr::memchr_iter(b'\n', body).count() + 1;
                r.seq.blocks.reserve(rows);
                r.block_lines.reserve(rows);
            }
            continue;
        }
        if sec != Sec::Signature
            && t.starts_with("extension")
            && t.split_ascii_whitespace().next() == Some("extension")
        {
            sec = r.start_extension(n, &tokens(t))?;
            block_cols = 0;
            continue;
        }
        r.line(sec, n, t)?;
    }
    Ok(r)
}

/// Reads a `.seq` file; errors name the file.
pub fn read_file(path: impl AsRef<Path>) -> Result<Sequence> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|source| SeqError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    read_bytes(&bytes).map_err(|e| e.with_file(path))
}
