//! `seqgen` protocols: a short TOML file naming a sequence kind and its parameters in the units
//! MR physicists use (mm, ms, degrees, Hz/pixel) becomes a scanner-ready [`Sequence`] plus a
//! JSON sidecar describing the raw data the reconstruction must expect.
//!
//! Each kind lives in its own module with its own parameter struct and `build` function:
//! `<kind>::build(&<kind>::Params, &System) -> Result<Generated>`. A kind's `Params` is a flat
//! struct with `#[serde(deny_unknown_fields)]` and **no `kind` field**: [`parse_params`] removes
//! the `kind` key (keeping line numbers) before deserialising. Shared physics is in [`common`].
//!
//! Parameter errors from `build` are written `key = value: problem; what to do`
//! ([`common::param_error`]); [`generate`] prefixes the protocol's name and the 1-based line of
//! that key.

pub mod common;
pub mod epi;
pub mod gre;
pub mod mprage;
pub mod se;
pub mod t1map;
pub mod t2map;
pub mod tse;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::error::{Result, SeqError};
use crate::sequence::Sequence;
use crate::system::System;

/// The sidecar schema name.
pub const SIDECAR_SCHEMA: &str = "accord-seqgen/1";

/// The kinds `seqgen` knows, in the order of the documentation.
pub const KINDS: [&str; 7] = ["gre", "t1map", "t2map", "se", "tse", "epi", "mprage"];

/// A generated sequence and the description of its raw data.
#[derive(Debug, Clone)]
pub struct Generated {
    /// The sequence, ready for the writer.
    pub sequence: Sequence,
    /// What the raw data must look like (written as JSON beside the `.seq`).
    pub sidecar: Sidecar,
}

/// Minimum and maximum of a label over the ADC readouts (the ISMRMRD encoding limits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LabelRange {
    /// Smallest value at an ADC.
    pub min: i64,
    /// Largest value at an ADC.
    pub max: i64,
}

/// The JSON sidecar (schema [`SIDECAR_SCHEMA`]): what the raw data of the sequence must look like.
/// Times are the achieved ones (after raster rounding).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sidecar {
    /// Always [`SIDECAR_SCHEMA`].
    pub schema: String,
    /// Version of the generator (the crate version).
    pub seqgen_version: String,
    /// The protocol kind (`gre`, `t1map`, …).
    pub kind: String,
    /// The protocol's `name` (free text; empty when not given).
    pub name: String,
    /// Encoded matrix `[x (readout samples incl. oversampling), y, z]`.
    pub encoded_matrix: [u64; 3],
    /// Reconstructed matrix `[x, y, z]`.
    pub recon_matrix: [u64; 3],
    /// Field of view `[x, y, z]` in mm (2-D: z = slice thickness).
    pub fov_mm: [f64; 3],
    /// Echo times in ms (one per contrast).
    pub te_ms: Vec<f64>,
    /// Repetition time in ms.
    pub tr_ms: f64,
    /// Inversion times in ms (empty when none).
    pub ti_ms: Vec<f64>,
    /// Flip angles in degrees (one per contrast for VFA).
    pub flip_deg: Vec<f64>,
    /// ADC dwell time in ns.
    pub dwell_ns: i64,
    /// Samples per ADC readout.
    pub n_adc_samples_per_readout: u64,
    /// Readout oversampling factor.
    pub readout_oversampling: u64,
    /// Number of ADC readouts in the sequence.
    pub n_readouts: u64,
    /// Label → ISMRMRD field (counters such as `kspace_encode_step_1`, or `flag ACQ_IS_…`).
    pub label_to_ismrmrd: BTreeMap<String, String>,
    /// Range of each label over the readouts.
    pub label_ranges: BTreeMap<String, LabelRange>,
    /// Total duration in s.
    pub total_duration_s: f64,
    /// Number of blocks.
    pub n_blocks: usize,
    /// Kind-specific values (echo spacing, slice positions, …).
    pub extra: BTreeMap<String, serde_json::Value>,
}

impl Sidecar {
    /// An empty sidecar of `kind` named `name`; kinds fill the fields and call
    /// [`common::complete_sidecar`].
    pub fn new(kind: &str, name: &str) -> Self {
        Sidecar {
            schema: SIDECAR_SCHEMA.to_string(),
            seqgen_version: env!("CARGO_PKG_VERSION").to_string(),
            kind: kind.to_string(),
            name: name.to_string(),
            encoded_matrix: [1, 1, 1],
            recon_matrix: [1, 1, 1],
            fov_mm: [0.0; 3],
            te_ms: Vec::new(),
            tr_ms: 0.0,
            ti_ms: Vec::new(),
            flip_deg: Vec::new(),
            dwell_ns: 0,
            n_adc_samples_per_readout: 0,
            readout_oversampling: 1,
            n_readouts: 0,
            label_to_ismrmrd: BTreeMap::new(),
            label_ranges: BTreeMap::new(),
            total_duration_s: 0.0,
            n_blocks: 0,
            extra: BTreeMap::new(),
        }
    }

    /// The sidecar as pretty JSON text (with a final newline).
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }
}

/// 1-based line of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The text with the top-level `keys` blanked out (each from the start of its line to the end
/// of its value, newlines kept so that line numbers stay); the text itself if it does not parse
/// (the caller's parse then reports the syntax error).
pub fn strip_keys(text: &str, keys: &[&str]) -> String {
    let Ok(map) = toml::from_str::<BTreeMap<String, toml::Spanned<toml::Value>>>(text) else {
        return text.to_string();
    };
    let mut bytes: Vec<u8> = text.as_bytes().to_vec();
    for key in keys {
        if let Some(v) = map.get(*key) {
            let span = v.span();
            let start = text[..span.start].rfind('\n').map_or(0, |i| i + 1);
            for c in &mut bytes[start..span.end.min(text.len())] {
                if *c != b'\n' && *c != b'\r' {
                    *c = b' ';
                }
            }
        }
    }
    // Every byte of a blanked range (whole characters: spans lie on char boundaries) became a
    // space, so the text stays valid UTF-8.
    String::from_utf8(bytes).unwrap_or_else(|_| text.to_string())
}

/// Parses a protocol's parameters into `T` (the `kind` key is removed first, line numbers kept).
/// Errors name `origin`, the 1-based line and the problem (e.g. an unknown key).
pub fn parse_params<T: serde::de::DeserializeOwned>(text: &str, origin: &str) -> Result<T> {
    parse_params_without(text, origin, &["kind"])
}

/// [`parse_params`] with other top-level keys removed too (e.g. `method` of `t1map`).
pub fn parse_params_without<T: serde::de::DeserializeOwned>(
    text: &str,
    origin: &str,
    keys: &[&str],
) -> Result<T> {
    let text = strip_keys(text, keys);
    toml::from_str::<T>(&text).map_err(|e| {
        let msg = e.message().trim().to_string();
        match e.span() {
            Some(s) => {
                SeqError::build(format!("{origin}: line {}: {msg}", line_of(&text, s.start)))
            }
            None => SeqError::build(format!("{origin}: {msg}")),
        }
    })
}

/// The 1-based line where top-level `key` is set, if it is.
pub fn key_line(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|l| {
            let t = l.trim_start();
            t.strip_prefix(key)
                .is_some_and(|r| r.trim_start().starts_with('='))
        })
        .map(|i| i + 1)
}

/// Prefixes a build error with the origin and, when it starts with `key = ` or `key:` of a key
/// set in the file, that key's line.
fn locate(e: SeqError, text: &str, origin: &str) -> SeqError {
    let msg = e.to_string();
    if msg.starts_with(&format!("{origin}: ")) {
        return e;
    }
    let key: String = msg
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    match (!key.is_empty()).then(|| key_line(text, &key)).flatten() {
        Some(line) => SeqError::build(format!("{origin}: line {line}: {msg}")),
        None => SeqError::build(format!("{origin}: {msg}")),
    }
}

/// The protocol's `kind`, with errors naming the file and line.
pub fn protocol_kind(text: &str, origin: &str) -> Result<String> {
    let table: toml::Table = toml::from_str(text).map_err(|e| {
        let msg = e.message().trim().to_string();
        match e.span() {
            Some(s) => SeqError::build(format!("{origin}: line {}: {msg}", line_of(text, s.start))),
            None => SeqError::build(format!("{origin}: {msg}")),
        }
    })?;
    match table.get("kind") {
        Some(toml::Value::String(k)) => Ok(k.clone()),
        Some(v) => Err(SeqError::build(format!(
            "{origin}: line {}: kind = {v}: must be a string, one of {}",
            key_line(text, "kind").unwrap_or(1),
            KINDS.join(", ")
        ))),
        None => Err(SeqError::build(format!(
            "{origin}: no `kind` key; the first line should be e.g. kind = \"gre\" (one of {})",
            KINDS.join(", ")
        ))),
    }
}

/// Reads `kind` from a protocol text and builds that kind's sequence on `system`, then checks
/// its timing (pypulseq's `check_timing` classes; a failure is reported as a seqgen bug).
/// `origin` names the protocol (file name) in errors.
pub fn generate(text: &str, origin: &str, system: &System) -> Result<Generated> {
    let kind = protocol_kind(text, origin)?;
    let built = match kind.as_str() {
        "gre" => gre::build(&parse_params::<gre::Params>(text, origin)?, system),
        "t1map" => t1map::generate_text(text, origin, system),
        "mprage" => mprage::build(&parse_params::<mprage::Params>(text, origin)?, system),
        "se" => se::build(&parse_params::<se::Params>(text, origin)?, system),
        "tse" => tse::build(&parse_params::<tse::Params>(text, origin)?, system),
        "t2map" => t2map::build(&parse_params::<t2map::Params>(text, origin)?, system),
        "epi" => epi::build(&parse_params::<epi::Params>(text, origin)?, system),
        other => {
            return Err(SeqError::build(format!(
                "{origin}: line {}: kind = \"{other}\": unknown kind; use one of {}",
                key_line(text, "kind").unwrap_or(1),
                KINDS.join(", ")
            )));
        }
    };
    let generated = built.map_err(|e| locate(e, text, origin))?;
    // One timing check for every kind: a failure is a seqgen bug, never written out.
    common::check_built(&generated.sequence, system)
        .map_err(|e| SeqError::build(format!("{origin}: {e}")))?;
    Ok(generated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct P {
        #[allow(dead_code)]
        te_ms: f64,
    }

    #[test]
    fn params_ignore_kind_and_report_unknown_keys_with_line() {
        let p: P = parse_params("kind = \"gre\"\nte_ms = 3.0\n", "a.toml").unwrap();
        assert_eq!(p.te_ms, 3.0);
        let e = parse_params::<P>("kind = \"gre\"\n\nte_ms = 3.0\ntee_ms = 4\n", "a.toml")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("a.toml: line 4:") && e.contains("tee_ms"),
            "{e}"
        );
        let e = protocol_kind("te_ms = 1\n", "b.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("b.toml") && e.contains("kind"), "{e}");
    }

    #[test]
    fn strip_keys_blanks_multiline_values_and_keeps_lines() {
        let text = "kind = \"t1map\"\nti_ms = [\n  100,\n  200,\n]\nte_ms = 3.0\nbogus = 1\n";
        let s = strip_keys(text, &["kind", "ti_ms"]);
        assert_eq!(s.lines().count(), text.lines().count());
        let e = parse_params::<P>(&s, "m.toml").unwrap_err().to_string();
        assert!(
            e.starts_with("m.toml: line 7:") && e.contains("bogus"),
            "{e}"
        );
        let ok = strip_keys(
            "kind = \"t1map\"\nti_ms = [\n  100,\n]\nte_ms = 3.0\n",
            &["kind", "ti_ms"],
        );
        let p: P = parse_params(&ok, "m.toml").unwrap();
        assert_eq!(p.te_ms, 3.0);
    }

    #[test]
    fn build_errors_get_the_key_line() {
        let e = locate(
            common::min_te_error(1.0, crate::time::Nanos(2_000_000), "x"),
            "kind = \"gre\"\ntr_ms = 10\nte_ms = 1\n",
            "p.toml",
        )
        .to_string();
        assert!(e.starts_with("p.toml: line 3: te_ms = 1"), "{e}");
    }
}
