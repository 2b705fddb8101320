//! A file summary with the reference corpus' key names (`version_parsed`, `n_blocks`,
//! `total_duration_s`, `events`, `definitions`, `signature`), behind `accord seq info`; with
//! [`SeqSummary::with_analysis`] also `check_timing`, `kspace` and `waveforms`
//! ([`crate::report_json`]).

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::report_json::SeqAnalysis;
use crate::sequence::{DefValue, Sequence};

/// Per-block event counts, as in the corpus JSON `events`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventCounts {
    /// Blocks with an RF pulse.
    pub n_rf: u64,
    /// Blocks with an x gradient.
    pub n_gx: u64,
    /// Blocks with a y gradient.
    pub n_gy: u64,
    /// Blocks with a z gradient.
    pub n_gz: u64,
    /// Blocks with an ADC.
    pub n_adc: u64,
    /// Blocks with an extension list.
    pub n_ext: u64,
    /// Sum of ADC sample counts over the ADC blocks.
    pub n_adc_samples: u64,
    /// RF blocks per use letter.
    pub rf_use: BTreeMap<String, u64>,
}

/// Signature state, as in the corpus JSON `signature`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SignatureSummary {
    /// Whether the file has a `[SIGNATURE]`.
    pub present: bool,
    /// Hash type.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Hash as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
    /// Whether it verifies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matches: Option<bool>,
}

/// A `[DEFINITIONS]` value for JSON: number, list or string.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum DefJson {
    /// One number.
    Number(f64),
    /// Several numbers.
    List(Vec<f64>),
    /// Text.
    Text(String),
}

/// Summary of a sequence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeqSummary {
    /// `major.minor.revision` as written.
    pub version_parsed: String,
    /// Number of blocks.
    pub n_blocks: usize,
    /// Sum of block durations in seconds.
    pub total_duration_s: f64,
    /// Event counts.
    pub events: EventCounts,
    /// Definitions in file order.
    pub definitions: OrderedDefs,
    /// Signature.
    pub signature: SignatureSummary,
    /// Reader warnings.
    pub warnings: Vec<String>,
    /// Timing check, k-space and waveforms (their keys appear at the top level of the JSON).
    #[serde(flatten)]
    pub analysis: Option<SeqAnalysis>,
}

/// Definitions in file order, serialised as a JSON object.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OrderedDefs(pub Vec<(String, DefJson)>);

impl Serialize for OrderedDefs {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl SeqSummary {
    /// Summarises a sequence.
    pub fn new(seq: &Sequence) -> Self {
        let n = |f: &dyn Fn(&crate::sequence::Block) -> bool| {
            seq.blocks.iter().filter(|b| f(b)).count() as u64
        };
        let mut rf_use = BTreeMap::new();
        for b in &seq.blocks {
            if let Some(rf) = seq.rf.get(&b.rf) {
                *rf_use.entry(rf.use_.to_string()).or_insert(0) += 1;
            }
        }
        let events = EventCounts {
            n_rf: n(&|b| b.rf != 0),
            n_gx: n(&|b| b.gx != 0),
            n_gy: n(&|b| b.gy != 0),
            n_gz: n(&|b| b.gz != 0),
            n_adc: n(&|b| b.adc != 0),
            n_ext: n(&|b| b.ext != 0),
            n_adc_samples: seq
                .blocks
                .iter()
                .filter_map(|b| seq.adc.get(&b.adc))
                .map(|a| a.num)
                .sum(),
            rf_use,
        };
        let definitions = OrderedDefs(
            seq.definitions
                .iter()
                .map(|(k, v)| {
                    let j = match v {
                        DefValue::Number(x) => DefJson::Number(*x),
                        DefValue::List(x) => DefJson::List(x.clone()),
                        DefValue::Text(t) => DefJson::Text(t.clone()),
                    };
                    (k.clone(), j)
                })
                .collect(),
        );
        let signature = match &seq.signature {
            Some(s) => SignatureSummary {
                present: true,
                kind: Some(s.kind.clone()),
                hash: Some(s.hash.clone()),
                matches: s.computed.as_ref().map(|_| s.matches()),
            },
            None => SignatureSummary {
                present: false,
                kind: None,
                hash: None,
                matches: None,
            },
        };
        SeqSummary {
            version_parsed: seq
                .version
                .as_ref()
                .map(|v| v.to_string())
                .unwrap_or_default(),
            n_blocks: seq.blocks.len(),
            total_duration_s: seq.total_duration().as_secs_f64(),
            events,
            definitions,
            signature,
            warnings: seq.warnings.clone(),
            analysis: None,
        }
    }

    /// Summarises a sequence and adds its timing check, k-space and waveform summaries.
    pub fn with_analysis(seq: &Sequence) -> Self {
        SeqSummary {
            analysis: Some(SeqAnalysis::new(seq)),
            ..SeqSummary::new(seq)
        }
    }
}

impl fmt::Display for SeqSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = &self.events;
        writeln!(f, "Pulseq format {}", self.version_parsed)?;
        writeln!(
            f,
            "blocks: {}, total duration {:.6} s",
            self.n_blocks, self.total_duration_s
        )?;
        writeln!(
            f,
            "blocks with RF {}, Gx {}, Gy {}, Gz {}, ADC {} ({} samples), extensions {}",
            e.n_rf, e.n_gx, e.n_gy, e.n_gz, e.n_adc, e.n_adc_samples, e.n_ext
        )?;
        let uses: Vec<String> = e.rf_use.iter().map(|(k, v)| format!("{k} {v}")).collect();
        writeln!(
            f,
            "RF use: {}",
            if uses.is_empty() {
                "-".into()
            } else {
                uses.join(", ")
            }
        )?;
        for (k, v) in &self.definitions.0 {
            let s = match v {
                DefJson::Number(x) => x.to_string(),
                DefJson::List(x) => x
                    .iter()
                    .map(|x| x.to_string())
                    .collect::<Vec<_>>()
                    .join(" "),
                DefJson::Text(t) => t.clone(),
            };
            writeln!(f, "  {k} = {s}")?;
        }
        match (&self.signature.hash, self.signature.matches) {
            (Some(h), Some(true)) => writeln!(f, "signature: md5 {h} (verified)")?,
            (Some(h), Some(false)) => writeln!(f, "signature: md5 {h} (DOES NOT MATCH the file)")?,
            (Some(h), None) => writeln!(f, "signature: md5 {h} (not verified)")?,
            _ => writeln!(f, "signature: none")?,
        }
        if let Some(a) = &self.analysis {
            let t = &a.check_timing;
            if t.timing_ok {
                writeln!(f, "timing (default system limits): ok")?;
            } else {
                writeln!(f, "timing (default system limits): {} errors", t.n_errors)?;
                for (k, n) in &t.errors_by_type {
                    writeln!(f, "  {k}: {n}")?;
                }
            }
            let k = &a.kspace.k_max_abs;
            writeln!(
                f,
                "max |k| (1/m): x {:.4}, y {:.4}, z {:.4}; excitations {}, refocusings {}",
                k.x, k.y, k.z, a.waveforms.n_excitation, a.waveforms.n_refocusing
            )?;
        }
        for w in &self.warnings {
            writeln!(f, "warning: {w}")?;
        }
        Ok(())
    }
}
