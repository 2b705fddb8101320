//! The in-memory sequence: version, definitions, blocks and event libraries, ids as in the file.

use std::collections::BTreeMap;

use crate::events::{
    AdcEvent, ExtensionNode, ExtensionSpec, Gradient, Label, RfEvent, RfShim, SoftDelay, Trigger,
};
use crate::shape::Shape;
use crate::time::{Nanos, Rasters};

/// The `[VERSION]` of a file, with the raw tokens kept (e.g. revision `1post1`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    /// Major number.
    pub major: u32,
    /// Minor number.
    pub minor: u32,
    /// Revision number (leading digits of the token).
    pub revision: u32,
    /// The raw revision token as written.
    pub revision_raw: String,
}

impl Version {
    /// `1_000_000·major + 1000·minor + revision`, the number readers compare.
    pub fn number(&self) -> u64 {
        1_000_000 * self.major as u64 + 1000 * self.minor as u64 + self.revision as u64
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.revision_raw)
    }
}

/// A `[DEFINITIONS]` value as the reference readers parse it.
#[derive(Debug, Clone, PartialEq)]
pub enum DefValue {
    /// One numeric token.
    Number(f64),
    /// Several numeric tokens.
    List(Vec<f64>),
    /// Anything else: the trimmed text.
    Text(String),
}

/// One block (`[BLOCKS]` row). Event ids are as in the file; 0 means none.
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    /// Block id.
    pub id: u32,
    /// Duration: from the file (1.4+) or computed from the events and `[DELAYS]` (<1.4).
    pub duration: Nanos,
    /// `[DELAYS]` id (files < 1.4; 0 = none).
    pub delay_id: u32,
    /// RF event id.
    pub rf: u32,
    /// Gradient id on x.
    pub gx: u32,
    /// Gradient id on y.
    pub gy: u32,
    /// Gradient id on z.
    pub gz: u32,
    /// ADC event id.
    pub adc: u32,
    /// Head of the extension list (0 = none).
    pub ext: u32,
}

/// The `[SIGNATURE]` section and its verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// Hash type (`md5`).
    pub kind: String,
    /// Hash as written (lower case).
    pub hash: String,
    /// md5 of the bytes before the newline preceding `[SIGNATURE]`; `None` when the file was
    /// read without verification ([`crate::read::ReadOptions`]).
    pub computed: Option<String>,
}

impl Signature {
    /// Whether the signature was verified and matches the file (`false` when not verified).
    pub fn matches(&self) -> bool {
        self.computed.as_deref() == Some(self.hash.as_str())
    }
}

/// A Pulseq sequence as read from a `.seq` file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Sequence {
    /// File format version.
    pub version: Option<Version>,
    /// Definitions in file order.
    pub definitions: Vec<(String, DefValue)>,
    /// Rasters in effect (definitions, else defaults).
    pub rasters: Rasters,
    /// Blocks in execution order.
    pub blocks: Vec<Block>,
    /// RF library.
    pub rf: BTreeMap<u32, RfEvent>,
    /// Gradient library (trapezoids and arbitrary, one id space).
    pub grad: BTreeMap<u32, Gradient>,
    /// ADC library.
    pub adc: BTreeMap<u32, AdcEvent>,
    /// `[DELAYS]` library (<1.4).
    pub delays: BTreeMap<u32, Nanos>,
    /// Shapes, decompressed.
    pub shapes: BTreeMap<u32, Shape>,
    /// Extension list nodes.
    pub extensions: BTreeMap<u32, ExtensionNode>,
    /// Declared extension specifications in file order.
    pub extension_specs: Vec<ExtensionSpec>,
    /// LABELSET objects.
    pub labelset: BTreeMap<u32, Label>,
    /// LABELINC objects.
    pub labelinc: BTreeMap<u32, Label>,
    /// TRIGGERS objects.
    pub triggers: BTreeMap<u32, Trigger>,
    /// ROTATIONS quaternions `[q0, qx, qy, qz]` as written (not normalised).
    pub rotations: BTreeMap<u32, [f64; 4]>,
    /// Soft delays (1.5 `extension DELAYS`).
    pub soft_delays: BTreeMap<u32, SoftDelay>,
    /// RF shims (1.5.1).
    pub rf_shims: BTreeMap<u32, RfShim>,
    /// The signature, if present.
    pub signature: Option<Signature>,
    /// Non-fatal findings (unknown extensions, signature mismatch, ...).
    pub warnings: Vec<String>,
}

impl Sequence {
    /// A definition by key.
    pub fn definition(&self, key: &str) -> Option<&DefValue> {
        self.definitions
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    /// Sum of the block durations.
    pub fn total_duration(&self) -> Nanos {
        self.blocks.iter().map(|b| b.duration).sum()
    }

    /// The extension spec of a numeric type id.
    pub fn extension_spec(&self, type_id: u32) -> Option<&ExtensionSpec> {
        self.extension_specs.iter().find(|s| s.type_id == type_id)
    }

    /// The extension nodes of the list starting at `head` (cycle-safe).
    pub fn extension_list(&self, head: u32) -> Vec<ExtensionNode> {
        let mut out = Vec::new();
        let mut id = head;
        while id != 0 && out.len() <= self.extensions.len() {
            match self.extensions.get(&id) {
                Some(n) => {
                    out.push(*n);
                    id = n.next;
                }
                None => break,
            }
        }
        out
    }

    /// Duration of an RF event: delay + shape duration (no system ringdown).
    pub fn rf_duration(&self, rf: &RfEvent) -> Nanos {
        let dt = self.rasters.rf;
        let n = self.shapes.get(&rf.mag_id).map_or(0, |s| s.samples.len());
        let shape = if rf.time_id > 0 {
            let last = self.shape_last(rf.time_id as u32);
            dt * (last - 1e-9).ceil().max(0.0) as i64
        } else {
            dt * n as i64
        };
        rf.delay + shape
    }

    /// Duration of a gradient event: delay + its length.
    pub fn grad_duration(&self, g: &Gradient) -> Nanos {
        match g {
            Gradient::Trap(t) => t.delay + t.rise + t.flat + t.fall,
            Gradient::Arb(a) => {
                let dt = self.rasters.grad;
                let n = self.shapes.get(&a.shape_id).map_or(0, |s| s.samples.len()) as i64;
                let len = match a.time_id {
                    0 => dt * n,
                    -1 => Nanos(dt.0.saturating_mul(n + 1) / 2),
                    t if t > 0 => Nanos((self.shape_last(t as u32) * dt.0 as f64).round() as i64),
                    _ => Nanos::ZERO,
                };
                a.delay + len
            }
        }
    }

    /// Duration of an ADC event: delay + num·dwell (no system dead time).
    pub fn adc_duration(&self, a: &AdcEvent) -> Nanos {
        a.delay + a.dwell * a.num as i64
    }

    fn shape_last(&self, id: u32) -> f64 {
        self.shapes
            .get(&id)
            .and_then(|s| s.samples.last().copied())
            .unwrap_or(0.0)
    }
}

impl Sequence {
    /// Amplitude (Hz/m) at the start and end of each block's gradient per axis (`None`: no
    /// gradient). Trapezoids give `(0, 0)`. Files 1.5+ store `first`/`last`; for older files they
    /// are reconstructed as pypulseq 1.5.0 does: walking the blocks per axis, `first` is the
    /// previous block's `last` when that gradient ended at its block end and this one has no
    /// delay (else 0); `last` is the last sample for time-shaped gradients and the
    /// extrapolation `(3·w[N-1] − w[N-2])/2` for default-raster ones (MATLAB uses another rule;
    /// see `shared/docs/pulseq.md` §5). Time-shaped gradients start at their first sample.
    pub fn gradient_edges(&self) -> Vec<[Option<(f64, f64)>; 3]> {
        let mut prev_last = [0.0f64; 3];
        let mut out = Vec::with_capacity(self.blocks.len());
        for b in &self.blocks {
            let mut row = [None; 3];
            for (axis, gid) in [b.gx, b.gy, b.gz].into_iter().enumerate() {
                let Some(g) = self.grad.get(&gid) else {
                    prev_last[axis] = 0.0;
                    continue;
                };
                let (first, last) = match g {
                    Gradient::Trap(_) => (0.0, 0.0),
                    Gradient::Arb(a) => {
                        let w = self
                            .shapes
                            .get(&a.shape_id)
                            .map_or(&[][..], |s| &s.samples[..]);
                        match (a.first, a.last) {
                            (Some(f), Some(l)) => (f, l),
                            _ if a.time_id > 0 => (
                                a.amp * w.first().copied().unwrap_or(0.0),
                                a.amp * w.last().copied().unwrap_or(0.0),
                            ),
                            _ => {
                                let first = if a.delay == Nanos::ZERO {
                                    prev_last[axis]
                                } else {
                                    0.0
                                };
                                let last = match w {
                                    [] => 0.0,
                                    [x] => *x,
                                    [.., p, q] => (3.0 * q - p) / 2.0,
                                };
                                (first, a.amp * last)
                            }
                        }
                    }
                };
                let ends_at_block_end = self.grad_duration(g) == b.duration;
                prev_last[axis] = if ends_at_block_end { last } else { 0.0 };
                row[axis] = Some((first, last));
            }
            out.push(row);
        }
        out
    }
}

impl Sequence {
    /// Start time of every block (cumulative durations).
    pub fn block_starts(&self) -> Vec<Nanos> {
        let mut t = Nanos::ZERO;
        self.blocks
            .iter()
            .map(|b| {
                let s = t;
                t = t + b.duration;
                s
            })
            .collect()
    }

    /// Sample times of an RF event in ns from the pulse start (after its delay): the time
    /// shape's points (in RF-raster units) or, without one, the raster centres `(n+0.5)·Δrf`.
    pub fn rf_sample_times_ns(&self, rf: &RfEvent) -> Vec<f64> {
        let dt = self.rasters.rf.0 as f64;
        match self.shapes.get(&(rf.time_id.max(0) as u32)) {
            Some(t) if rf.time_id > 0 => t.samples.iter().map(|x| x * dt).collect(),
            _ => {
                let n = self.shapes.get(&rf.mag_id).map_or(0, |s| s.samples.len());
                (0..n).map(|k| (k as f64 + 0.5) * dt).collect()
            }
        }
    }

    /// Time of the RF pulse's effective rotation from the shape start (delay not included): the
    /// file's `center` (1.5+), else computed as the toolboxes do: the mid-point of the first and
    /// last samples whose magnitude is at least 0.99999 of the peak (plateau centre for block
    /// pulses), with samples at `(n+0.5)·Δrf` or at the time shape's points.
    pub fn rf_center(&self, rf: &RfEvent) -> Nanos {
        if let Some(c) = rf.center {
            return c;
        }
        let mag = self
            .shapes
            .get(&rf.mag_id)
            .map_or(&[][..], |s| &s.samples[..]);
        let times = self.rf_sample_times_ns(rf);
        let hits = crate::shape::peak_plateau(&mag[..mag.len().min(times.len())]);
        match (hits.first(), hits.last()) {
            (Some(&a), Some(&b)) => Nanos(((times[a] + times[b]) / 2.0).round() as i64),
            _ => Nanos::ZERO,
        }
    }
}

/// An event library indexed for per-block passes: a table by id when the ids are dense (the
/// usual 1..n), else the map itself.
#[derive(Debug)]
pub struct IdTable<'a, T> {
    dense: Vec<Option<&'a T>>,
    sparse: Option<&'a BTreeMap<u32, T>>,
}

impl<'a, T> IdTable<'a, T> {
    /// Indexes `map` (a table when its largest id is at most 4·len + 1024).
    pub fn new(map: &'a BTreeMap<u32, T>) -> Self {
        let max = map.keys().next_back().map_or(0, |&k| k as usize);
        if max > 4 * map.len() + 1024 {
            return IdTable {
                dense: Vec::new(),
                sparse: Some(map),
            };
        }
        let mut dense = vec![None; max + 1];
        for (&k, v) in map {
            dense[k as usize] = Some(v);
        }
        IdTable {
            dense,
            sparse: None,
        }
    }

    /// The entry with id `id`.
    pub fn get(&self, id: u32) -> Option<&'a T> {
        match self.sparse {
            Some(map) => map.get(&id),
            None => self.dense.get(id as usize).copied().flatten(),
        }
    }
}

/// A sequence with its libraries indexed by id, for passes that look events up block by block
/// (timing checks, durations, label walks).
#[derive(Debug)]
pub struct Libraries<'a> {
    /// The sequence.
    pub seq: &'a Sequence,
    /// RF events.
    pub rf: IdTable<'a, RfEvent>,
    /// Gradients.
    pub grad: IdTable<'a, Gradient>,
    /// ADC events.
    pub adc: IdTable<'a, AdcEvent>,
    /// `[DELAYS]` (< 1.4).
    pub delays: IdTable<'a, Nanos>,
    /// Extension list nodes.
    pub extensions: IdTable<'a, ExtensionNode>,
    /// Extension names by type id.
    ext_names: BTreeMap<u32, &'a str>,
}

impl<'a> Libraries<'a> {
    /// Indexes the libraries of `seq`.
    pub fn new(seq: &'a Sequence) -> Self {
        Libraries {
            seq,
            rf: IdTable::new(&seq.rf),
            grad: IdTable::new(&seq.grad),
            adc: IdTable::new(&seq.adc),
            delays: IdTable::new(&seq.delays),
            extensions: IdTable::new(&seq.extensions),
            ext_names: seq
                .extension_specs
                .iter()
                .map(|s| (s.type_id, s.name.as_str()))
                .collect(),
        }
    }

    /// The extension name (`LABELSET`, `TRIGGERS`, …) of a numeric type id.
    pub fn extension_name(&self, type_id: u32) -> Option<&'a str> {
        self.ext_names.get(&type_id).copied()
    }

    /// The nodes of the extension list starting at `head`, in order (cycle-safe: at most as
    /// many nodes as the library holds), without allocating.
    pub fn extension_nodes(&self, head: u32) -> impl Iterator<Item = &'a ExtensionNode> + '_ {
        let mut id = head;
        let mut left = self.seq.extensions.len();
        std::iter::from_fn(move || {
            if id == 0 || left == 0 {
                return None;
            }
            left -= 1;
            let node = self.extensions.get(id)?;
            id = node.next;
            Some(node)
        })
    }

    /// The end of the latest event in block `b` (RF and ADC without ringdown/dead time;
    /// triggers included; `[DELAYS]` for files < 1.4).
    pub fn events_duration(&self, b: &Block) -> Nanos {
        let seq = self.seq;
        let mut d = Nanos::ZERO;
        if let Some(x) = self.delays.get(b.delay_id) {
            d = d.max(*x);
        }
        if let Some(rf) = self.rf.get(b.rf) {
            d = d.max(seq.rf_duration(rf));
        }
        for g in [b.gx, b.gy, b.gz] {
            if let Some(g) = self.grad.get(g) {
                d = d.max(seq.grad_duration(g));
            }
        }
        if let Some(a) = self.adc.get(b.adc) {
            d = d.max(seq.adc_duration(a));
        }
        for node in self.extension_nodes(b.ext) {
            if self.extension_name(node.type_id) == Some("TRIGGERS") {
                if let Some(t) = seq.triggers.get(&node.ref_id) {
                    d = d.max(t.delay + t.duration);
                }
            }
        }
        d
    }
}
