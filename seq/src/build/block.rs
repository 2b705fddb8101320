//! [`SequenceBuilder`]: pypulseq's `Sequence(system)` + `add_block`. Each block's events are
//! registered in the sequence's libraries with exact-match de-duplication (RF pulses, gradients,
//! ADCs, shapes, labels, triggers, soft delays, rotations and whole extension lists), the block
//! duration is the latest event end, and the block is checked before it is added:
//!
//! - at most one RF, one ADC, one gradient per axis, one soft delay and one rotation;
//! - finite values and non-negative delays;
//! - the block duration is a whole multiple of the block raster (pad with a delay event);
//! - gradient continuity: a gradient that starts (ends) at a non-zero value must start (end) at
//!   the block boundary and match the neighbouring block's value within one raster's slew;
//! - a soft delay only in a block without RF, gradients or ADC.
//!
//! Nothing is half-added: a block that fails a check leaves the sequence unchanged.

use std::collections::HashMap as StdHashMap;

/// Hash maps keyed by small integer tuples: FxHash (rustc-hash) instead of SipHash.
type HashMap<K, V> = StdHashMap<K, V, rustc_hash::FxBuildHasher>;

/// The LABELSET/LABELINC object ids of one label name, by (op, value).
type LabelIds = HashMap<(LabelOp, i64), u32>;

use crate::build::{
    Adc, ArbitraryGrad, Event, GradTiming, RegisteredEvent, RegisteredKind, Rf, calc_duration,
};
use crate::build::{Grad, LabelOp};
use crate::error::{Result, SeqError};
use crate::events::{
    AdcEvent, ArbGrad, ExtensionNode, ExtensionSpec, Gradient, Label, RfEvent, SoftDelay, TrapGrad,
    Trigger,
};
use crate::sequence::{Block, DefValue, Sequence, Version};
use crate::shape::Shape;
use crate::system::System;
use crate::time::Nanos;

/// Builds a [`Sequence`] block by block (pypulseq `Sequence` + `add_block`).
#[derive(Debug, Clone)]
pub struct SequenceBuilder {
    seq: Sequence,
    system: System,
    shape_ids: HashMap<Vec<u64>, u32>,
    rf_ids: HashMap<[u64; 11], u32>,
    /// Recently registered RF waveforms → `(amp, mag_id, phase_id, time_id)`, so that pulses
    /// differing only in offsets (RF spoiling) do not re-normalise their shapes.
    rf_shapes: Vec<(Vec<num_complex::Complex64>, Vec<f64>, RfShapeIds)>,
    grad_ids: HashMap<[u64; 7], u32>,
    adc_ids: HashMap<[u64; 8], u32>,
    /// Label name → (SET/INC, value) → object id (looked up by `&str`, no per-block clone).
    /// Per label name (a handful: searched linearly), the ids of its (op, value) objects.
    label_ids: Vec<(&'static str, LabelIds)>,
    trigger_ids: HashMap<[i64; 4], u32>,
    soft_delay_ids: HashMap<Vec<u64>, u32>,
    soft_delay_num_ids: HashMap<String, i64>,
    rotation_ids: HashMap<[u64; 4], u32>,
    /// Extension lists of up to four nodes (the usual few labels), keyed without allocating.
    ext_list_small: HashMap<(usize, [(u32, u32); 4]), u32>,
    /// Longer extension lists.
    ext_list_ids: HashMap<Vec<(u32, u32)>, u32>,
    /// Gradient value per axis at the end of the last block (Hz/m).
    last_grad: [f64; 3],
    /// Extension nodes registered since the last [`Self::sync`], ids following
    /// `seq.extensions`: moved there in one sorted bulk append (a `BTreeMap` insert per node
    /// was a tenth of the build of a long sequence).
    pending_ext: Vec<(u32, ExtensionNode)>,
    /// Tells this builder's [`RegisteredEvent`]s from other builders'.
    token: BuilderToken,
}

/// Identifies a builder in its [`RegisteredEvent`]s. A clone gets a new token: its libraries
/// may grow differently from the original's, so events registered in one are refused by the
/// other.
#[derive(Debug)]
struct BuilderToken(u64);

impl BuilderToken {
    fn fresh() -> Self {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        BuilderToken(NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
    }
}

impl Clone for BuilderToken {
    fn clone(&self) -> Self {
        BuilderToken::fresh()
    }
}

/// `(amp, mag_id, phase_id, time_id)` of a registered RF waveform.
type RfShapeIds = (f64, u32, u32, i64);

/// An RF, gradient or ADC slot of a block: an event to register, or one already registered.
enum Slot<'a, T> {
    New(&'a T),
    Known(&'a RegisteredEvent),
}

impl<T> Clone for Slot<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Slot<'_, T> {}

impl Slot<'_, Grad> {
    fn first(&self) -> f64 {
        match self {
            Slot::New(g) => g.first(),
            Slot::Known(r) => r.first,
        }
    }
    fn last(&self) -> f64 {
        match self {
            Slot::New(g) => g.last(),
            Slot::Known(r) => r.last,
        }
    }
    fn delay(&self) -> Nanos {
        match self {
            Slot::New(g) => g.delay(),
            Slot::Known(r) => r.delay,
        }
    }
    fn duration(&self) -> Nanos {
        match self {
            Slot::New(g) => g.duration(),
            Slot::Known(r) => r.duration,
        }
    }
}

/// A block's events after validation, before registration.
#[derive(Default)]
struct Parts<'a> {
    rf: Option<Slot<'a, Rf>>,
    grads: [Option<Slot<'a, Grad>>; 3],
    adc: Option<Slot<'a, Adc>>,
    /// Number of extension events (labels, triggers, soft delays, rotations), in event order.
    n_ext: usize,
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

fn finite(what: &str, v: f64) -> Result<()> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(SeqError::build(format!("{what} is {v} (must be finite)")))
    }
}

impl SequenceBuilder {
    /// An empty 1.5 sequence for `system`, with the four raster definitions set.
    pub fn new(system: &System) -> Self {
        let r = system.rasters;
        let seq = Sequence {
            version: Some(Version {
                major: 1,
                minor: 5,
                revision: 0,
                revision_raw: "0".into(),
            }),
            rasters: r,
            definitions: vec![
                (
                    "AdcRasterTime".into(),
                    DefValue::Number(r.adc.as_secs_f64()),
                ),
                (
                    "BlockDurationRaster".into(),
                    DefValue::Number(r.block.as_secs_f64()),
                ),
                (
                    "GradientRasterTime".into(),
                    DefValue::Number(r.grad.as_secs_f64()),
                ),
                (
                    "RadiofrequencyRasterTime".into(),
                    DefValue::Number(r.rf.as_secs_f64()),
                ),
            ],
            ..Sequence::default()
        };
        SequenceBuilder {
            seq,
            system: system.clone(),
            shape_ids: HashMap::default(),
            rf_ids: HashMap::default(),
            rf_shapes: Vec::new(),
            grad_ids: HashMap::default(),
            adc_ids: HashMap::default(),
            label_ids: Vec::new(),
            trigger_ids: HashMap::default(),
            soft_delay_ids: HashMap::default(),
            soft_delay_num_ids: HashMap::default(),
            rotation_ids: HashMap::default(),
            ext_list_small: HashMap::default(),
            ext_list_ids: HashMap::default(),
            last_grad: [0.0; 3],
            pending_ext: Vec::new(),
            token: BuilderToken::fresh(),
        }
    }

    /// Whether `e` was registered with this builder (and so may be used in its blocks).
    pub fn holds(&self, e: &RegisteredEvent) -> bool {
        e.builder == self.token.0
    }

    /// Registers an RF pulse, gradient or ADC in the libraries without adding a block
    /// (pypulseq `register_rf_event` / `register_grad_event` / `register_adc_event`), after the
    /// same checks [`Self::add_block`] makes. Blocks that then use the returned event (it
    /// converts into an [`Event`]) skip those checks and the de-duplication: worth it for events
    /// repeated over many blocks, such as phase-encoding gradients in a long train. Registering
    /// an event that no block uses leaves it in the written libraries.
    pub fn register(&mut self, e: &Event) -> Result<RegisteredEvent> {
        self.validate(std::slice::from_ref(e))?;
        let (kind, id, first, last, delay) = match e {
            Event::Rf(r) => (RegisteredKind::Rf, self.register_rf(r), 0.0, 0.0, r.delay),
            Event::Grad(g) => (
                RegisteredKind::Grad(g.channel()),
                self.register_grad(g),
                g.first(),
                g.last(),
                g.delay(),
            ),
            Event::Adc(a) => (RegisteredKind::Adc, self.register_adc(a), 0.0, 0.0, a.delay),
            Event::Registered(r) => return Ok(*r),
            _ => {
                return Err(SeqError::build(
                    "only RF pulses, gradients and ADCs can be registered; delays and extension events go into blocks as they are",
                ));
            }
        };
        Ok(RegisteredEvent {
            kind,
            id,
            delay,
            duration: e.duration(),
            first,
            last,
            builder: self.token.0,
        })
    }

    /// Moves the pending extension nodes into the sequence.
    fn sync(&mut self) {
        if !self.pending_ext.is_empty() {
            let mut nodes: std::collections::BTreeMap<u32, ExtensionNode> =
                self.pending_ext.drain(..).collect();
            self.seq.extensions.append(&mut nodes);
        }
    }

    /// The system the sequence is built for.
    pub fn system(&self) -> &System {
        &self.system
    }

    /// Sets (or replaces) a `[DEFINITIONS]` entry (kept sorted by key, as pypulseq writes them).
    pub fn set_definition(&mut self, key: &str, value: DefValue) {
        match self.seq.definitions.iter_mut().find(|(k, _)| k == key) {
            Some((_, v)) => *v = value,
            None => {
                self.seq.definitions.push((key.to_string(), value));
                self.seq.definitions.sort_by(|a, b| a.0.cmp(&b.0));
            }
        }
    }

    /// Total duration so far.
    pub fn duration(&self) -> Nanos {
        self.seq.total_duration()
    }

    /// Number of blocks so far.
    pub fn n_blocks(&self) -> usize {
        self.seq.blocks.len()
    }

    /// The sequence built so far.
    pub fn sequence(&mut self) -> &Sequence {
        self.sync();
        &self.seq
    }

    /// Finishes: sets `TotalDuration` and returns the sequence. Errors if the last block leaves
    /// a gradient on (the scanner would hold it).
    pub fn finish(mut self) -> Result<Sequence> {
        for (axis, v) in self.last_grad.iter().enumerate() {
            if v.abs() > self.slew_tolerance() {
                return Err(SeqError::build(format!(
                    "the sequence ends with the {} gradient at {v:.6} Hz/m; ramp it down in the last block",
                    ["x", "y", "z"][axis]
                )));
            }
        }
        self.sync();
        let total = self.seq.total_duration().as_secs_f64();
        self.set_definition("TotalDuration", DefValue::Number(total));
        Ok(self.seq)
    }

    fn slew_tolerance(&self) -> f64 {
        self.system.max_slew * self.system.rasters.grad.as_secs_f64()
    }

    /// Appends one block made of `events` (see the module docs for the rules). The block
    /// duration is the latest event end ([`calc_duration`]).
    pub fn add_block(&mut self, events: &[Event]) -> Result<()> {
        let n = self.seq.blocks.len() + 1;
        self.add_block_inner(events)
            .map_err(|e| SeqError::build(format!("block {n}: {e}")))
    }

    fn add_block_inner(&mut self, events: &[Event]) -> Result<()> {
        let parts = self.validate(events)?;
        let duration = calc_duration(events);
        let block_raster = self.system.rasters.block;
        if duration.0 % block_raster.0.max(1) != 0 {
            return Err(SeqError::build(format!(
                "duration {:.3} µs is not a multiple of the {:.3} µs block raster (pad the block with a delay of {:.3} µs)",
                duration.0 as f64 / 1e3,
                block_raster.0 as f64 / 1e3,
                crate::system::ceil_to(duration, block_raster).0 as f64 / 1e3
            )));
        }
        let new_last = self.check_continuity(&parts, duration)?;

        // Register (cannot fail from here on).
        let rf = match parts.rf {
            None => 0,
            Some(Slot::New(r)) => self.register_rf(r),
            Some(Slot::Known(k)) => k.id,
        };
        let mut g = [0u32; 3];
        for (axis, slot) in parts.grads.iter().enumerate() {
            g[axis] = match slot {
                None => 0,
                Some(Slot::New(gr)) => self.register_grad(gr),
                Some(Slot::Known(k)) => k.id,
            };
        }
        let adc = match parts.adc {
            None => 0,
            Some(Slot::New(a)) => self.register_adc(a),
            Some(Slot::Known(k)) => k.id,
        };
        // The extension list on the stack (blocks carry a few labels); a Vec only beyond 8.
        let mut small = [(0u32, 0u32); 8];
        let mut large = Vec::new();
        let ext_events = events.iter().filter(|e| is_extension(e));
        let list: &[(u32, u32)] = if parts.n_ext <= small.len() {
            for (slot, e) in small.iter_mut().zip(ext_events) {
                *slot = self.register_extension(e);
            }
            &small[..parts.n_ext]
        } else {
            for e in ext_events {
                large.push(self.register_extension(e));
            }
            &large
        };
        let ext = self.register_ext_list(list);
        let id = self.seq.blocks.len() as u32 + 1;
        self.seq.blocks.push(Block {
            id,
            duration,
            delay_id: 0,
            rf,
            gx: g[0],
            gy: g[1],
            gz: g[2],
            adc,
            ext,
        });
        self.last_grad = new_last;
        Ok(())
    }

    fn validate<'a>(&self, events: &'a [Event]) -> Result<Parts<'a>> {
        let mut p = Parts::default();
        let mut soft = false;
        let mut rotation = false;
        for e in events {
            match e {
                Event::Rf(r) => {
                    if p.rf.replace(Slot::New(r)).is_some() {
                        return Err(more_than_one(RegisteredKind::Rf));
                    }
                    if r.signal.is_empty() || r.signal.len() != r.t.len() {
                        return Err(SeqError::build(format!(
                            "RF pulse has {} samples and {} sample times",
                            r.signal.len(),
                            r.t.len()
                        )));
                    }
                    if let Some(i) = r.signal.iter().position(|s| !(s.re + s.im).is_finite()) {
                        finite(&format!("RF sample {i}"), r.signal[i].re + r.signal[i].im)?;
                    }
                    for (what, v) in [
                        ("RF freq_offset", r.freq_offset),
                        ("RF phase_offset", r.phase_offset),
                        ("RF freq_ppm", r.freq_ppm),
                        ("RF phase_ppm", r.phase_ppm),
                    ] {
                        finite(what, v)?;
                    }
                    nonneg("RF delay", r.delay)?;
                }
                Event::Grad(g) => {
                    let axis = g.channel().index();
                    if p.grads[axis].replace(Slot::New(g)).is_some() {
                        return Err(more_than_one(RegisteredKind::Grad(g.channel())));
                    }
                    nonneg("gradient delay", g.delay())?;
                    match g {
                        Grad::Trap(t) => {
                            finite("trapezoid amplitude", t.amplitude)?;
                            for (what, v) in [
                                ("trapezoid rise_time", t.rise_time),
                                ("trapezoid flat_time", t.flat_time),
                                ("trapezoid fall_time", t.fall_time),
                            ] {
                                nonneg(what, v)?;
                            }
                        }
                        Grad::Arb(a) => {
                            if a.waveform.is_empty() || a.waveform.len() != a.tt.len() {
                                return Err(SeqError::build(format!(
                                    "arbitrary gradient has {} samples and {} sample times",
                                    a.waveform.len(),
                                    a.tt.len()
                                )));
                            }
                            if let Some(i) = a.waveform.iter().position(|v| !v.is_finite()) {
                                finite(&format!("gradient sample {i}"), a.waveform[i])?;
                            }
                            finite("gradient first", a.first)?;
                            finite("gradient last", a.last)?;
                        }
                    }
                }
                Event::Adc(a) => {
                    if p.adc.replace(Slot::New(a)).is_some() {
                        return Err(more_than_one(RegisteredKind::Adc));
                    }
                    if a.num_samples == 0 || a.dwell.0 <= 0 {
                        return Err(SeqError::build(format!(
                            "ADC with {} samples and dwell {} ns",
                            a.num_samples, a.dwell.0
                        )));
                    }
                    nonneg("ADC delay", a.delay)?;
                    for (what, v) in [
                        ("ADC freq_offset", a.freq_offset),
                        ("ADC phase_offset", a.phase_offset),
                        ("ADC freq_ppm", a.freq_ppm),
                        ("ADC phase_ppm", a.phase_ppm),
                    ] {
                        finite(what, v)?;
                    }
                    if !a.phase_modulation.is_empty()
                        && a.phase_modulation.len() as u64 != a.num_samples
                    {
                        return Err(SeqError::build(format!(
                            "ADC phase modulation has {} values for {} samples",
                            a.phase_modulation.len(),
                            a.num_samples
                        )));
                    }
                }
                Event::Registered(r) => {
                    if r.builder != self.token.0 {
                        return Err(SeqError::build(
                            "a registered event of another SequenceBuilder (register it with this one)",
                        ));
                    }
                    let taken = match r.kind {
                        RegisteredKind::Rf => p.rf.replace(Slot::Known(r)).is_some(),
                        RegisteredKind::Grad(c) => {
                            p.grads[c.index()].replace(Slot::Known(r)).is_some()
                        }
                        RegisteredKind::Adc => p.adc.replace(Slot::Known(r)).is_some(),
                    };
                    if taken {
                        return Err(more_than_one(r.kind));
                    }
                }
                Event::Delay(d) => nonneg("delay", *d)?,
                Event::Label(_) => p.n_ext += 1,
                Event::Trigger(t) => {
                    nonneg("trigger delay", t.delay)?;
                    nonneg("trigger duration", t.duration)?;
                    p.n_ext += 1;
                }
                Event::SoftDelay(s) => {
                    if std::mem::replace(&mut soft, true) {
                        return Err(SeqError::build("more than one soft delay"));
                    }
                    if !(s.factor.is_finite() && s.factor != 0.0) {
                        return Err(SeqError::build(format!(
                            "soft delay '{}' has factor {} (must be finite and non-zero)",
                            s.hint, s.factor
                        )));
                    }
                    if s.default_duration.0 <= 0 {
                        return Err(SeqError::build(format!(
                            "soft delay '{}' needs a positive default duration",
                            s.hint
                        )));
                    }
                    p.n_ext += 1;
                }
                Event::Rotation(q) => {
                    if std::mem::replace(&mut rotation, true) {
                        return Err(SeqError::build("more than one rotation"));
                    }
                    let norm = q.iter().map(|x| x * x).sum::<f64>().sqrt();
                    if !norm.is_finite() || (norm - 1.0).abs() > 1e-6 {
                        return Err(SeqError::build(format!(
                            "rotation quaternion {q:?} is not a unit quaternion (norm {norm})"
                        )));
                    }
                    p.n_ext += 1;
                }
            }
        }
        if soft && (p.rf.is_some() || p.adc.is_some() || p.grads.iter().any(Option::is_some)) {
            return Err(SeqError::build(
                "a soft delay must be in a block without RF, gradients or ADC",
            ));
        }
        Ok(p)
    }

    /// Checks gradient continuity against the previous block; returns the end values.
    fn check_continuity(&self, p: &Parts, duration: Nanos) -> Result<[f64; 3]> {
        let tol = self.slew_tolerance();
        let mut out = [0.0; 3];
        for axis in 0..3 {
            let name = ["x", "y", "z"][axis];
            let prev = self.last_grad[axis];
            match p.grads[axis] {
                None => {
                    if prev.abs() > tol {
                        return Err(SeqError::build(format!(
                            "the previous block ends with the {name} gradient at {prev:.6} Hz/m but this block has no {name} gradient to continue it"
                        )));
                    }
                }
                Some(g) => {
                    let first = g.first();
                    if g.delay() > Nanos::ZERO && first.abs() > tol {
                        return Err(SeqError::build(format!(
                            "the {name} gradient starts at {first:.6} Hz/m after a delay of {} ns; a gradient that starts non-zero must start at the block start",
                            g.delay().0
                        )));
                    }
                    let start_value = if g.delay() > Nanos::ZERO { 0.0 } else { first };
                    if (start_value - prev).abs() > tol {
                        return Err(SeqError::build(format!(
                            "the {name} gradient starts at {start_value:.6} Hz/m but the previous block ends at {prev:.6} Hz/m"
                        )));
                    }
                    let last = g.last();
                    if g.duration() == duration {
                        out[axis] = last;
                    } else if last.abs() > tol {
                        return Err(SeqError::build(format!(
                            "the {name} gradient ends at {last:.6} Hz/m {} ns before the block end; a gradient that ends non-zero must end at the block end",
                            (duration - g.duration()).0
                        )));
                    }
                }
            }
        }
        Ok(out)
    }

    fn register_shape(&mut self, samples: Vec<f64>) -> u32 {
        let key = bits(&samples);
        if let Some(&id) = self.shape_ids.get(&key) {
            return id;
        }
        let id = self.seq.shapes.len() as u32 + 1;
        self.seq.shapes.insert(id, Shape { samples });
        self.shape_ids.insert(key, id);
        id
    }

    /// Registers `t` (seconds) as a time shape in units of `raster`, or returns 0 when the
    /// samples sit on the raster centres (the default).
    fn time_shape(&mut self, t: &[f64], raster: Nanos) -> i64 {
        let dt = raster.as_secs_f64();
        let centres = t
            .iter()
            .enumerate()
            .all(|(n, &x)| (x - (n as f64 + 0.5) * dt).abs() <= 1e-6 * dt);
        if centres {
            return 0;
        }
        let units: Vec<f64> = t.iter().map(|x| clean(x / dt)).collect();
        self.register_shape(units) as i64
    }

    fn register_rf(&mut self, rf: &Rf) -> u32 {
        let cached = self
            .rf_shapes
            .iter()
            .find(|(sig, t, _)| *sig == rf.signal && *t == rf.t)
            .map(|(_, _, ids)| *ids);
        let (amp, mag_id, phase_id, time_id) = match cached {
            Some(ids) => ids,
            None => {
                let ids = self.register_rf_shapes(rf);
                if self.rf_shapes.len() >= 8 {
                    self.rf_shapes.remove(0);
                }
                self.rf_shapes.push((rf.signal.clone(), rf.t.clone(), ids));
                ids
            }
        };
        let ev = RfEvent {
            amp,
            mag_id,
            phase_id,
            time_id,
            center: Some(rf.center),
            delay: rf.delay,
            freq_ppm: rf.freq_ppm,
            phase_ppm: rf.phase_ppm,
            freq: rf.freq_offset,
            phase: rf.phase_offset,
            use_: rf.use_.letter(),
        };
        let key = [
            amp.to_bits(),
            mag_id as u64,
            phase_id as u64,
            time_id as u64,
            rf.center.0 as u64,
            rf.delay.0 as u64,
            rf.freq_ppm.to_bits(),
            rf.phase_ppm.to_bits(),
            rf.freq_offset.to_bits(),
            rf.phase_offset.to_bits(),
            rf.use_.letter() as u64,
        ];
        match self.rf_ids.get(&key) {
            Some(&id) => id,
            None => {
                let id = self.seq.rf.len() as u32 + 1;
                self.seq.rf.insert(id, ev);
                self.rf_ids.insert(key, id);
                id
            }
        }
    }

    /// Normalises and registers an RF pulse's magnitude, phase and time shapes.
    fn register_rf_shapes(&mut self, rf: &Rf) -> RfShapeIds {
        let amp = rf.signal.iter().fold(0.0f64, |m, s| m.max(s.norm()));
        let mag: Vec<f64> = rf
            .signal
            .iter()
            .map(|s| if amp > 0.0 { s.norm() / amp } else { 0.0 })
            .collect();
        let phase: Vec<f64> = rf
            .signal
            .iter()
            .map(|s| {
                let mut p = s.arg();
                if p < 0.0 {
                    p += 2.0 * std::f64::consts::PI;
                }
                clean(p / (2.0 * std::f64::consts::PI))
            })
            .collect();
        let mag_id = self.register_shape(mag);
        let phase_id = self.register_shape(phase);
        let time_id = self.time_shape(&rf.t, self.system.rasters.rf);
        (amp, mag_id, phase_id, time_id)
    }

    fn register_grad(&mut self, g: &Grad) -> u32 {
        let (key, ev) = match g {
            Grad::Trap(t) => (
                [
                    0,
                    0,
                    t.amplitude.to_bits(),
                    t.rise_time.0 as u64,
                    t.flat_time.0 as u64,
                    t.fall_time.0 as u64,
                    t.delay.0 as u64,
                ],
                Gradient::Trap(TrapGrad {
                    amp: t.amplitude,
                    rise: t.rise_time,
                    flat: t.flat_time,
                    fall: t.fall_time,
                    delay: t.delay,
                }),
            ),
            Grad::Arb(a) => {
                let ev = self.arb_event(a);
                let key = [
                    1,
                    ev.amp.to_bits(),
                    a.first.to_bits(),
                    a.last.to_bits(),
                    ev.shape_id as u64,
                    ev.time_id as u64,
                    a.delay.0 as u64,
                ];
                (key, Gradient::Arb(ev))
            }
        };
        if let Some(&id) = self.grad_ids.get(&key) {
            return id;
        }
        let id = self.seq.grad.len() as u32 + 1;
        self.seq.grad.insert(id, ev);
        self.grad_ids.insert(key, id);
        id
    }

    fn arb_event(&mut self, a: &ArbitraryGrad) -> ArbGrad {
        let peak = a.waveform.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        let amp = match a.waveform.iter().find(|x| **x != 0.0) {
            Some(x) if peak > 0.0 => peak * x.signum(),
            _ => peak,
        };
        let shape: Vec<f64> = a
            .waveform
            .iter()
            .map(|x| if amp != 0.0 { clean(x / amp) } else { 0.0 })
            .collect();
        let shape_id = self.register_shape(shape);
        let time_id = match a.timing {
            GradTiming::RasterCentres => 0,
            GradTiming::Oversampled => -1,
            GradTiming::TimeShape => {
                let dt = self.system.rasters.grad.as_secs_f64();
                let units: Vec<f64> = a.tt.iter().map(|x| clean(x / dt)).collect();
                self.register_shape(units) as i64
            }
        };
        ArbGrad {
            amp,
            first: Some(a.first),
            last: Some(a.last),
            shape_id,
            time_id,
            delay: a.delay,
        }
    }

    fn register_adc(&mut self, a: &Adc) -> u32 {
        let phase_id = if a.phase_modulation.is_empty() {
            0
        } else {
            self.register_shape(a.phase_modulation.clone())
        };
        let key = [
            a.num_samples,
            a.dwell.0 as u64,
            a.delay.0 as u64,
            a.freq_ppm.to_bits(),
            a.phase_ppm.to_bits(),
            a.freq_offset.to_bits(),
            a.phase_offset.to_bits(),
            phase_id as u64,
        ];
        if let Some(&id) = self.adc_ids.get(&key) {
            return id;
        }
        let id = self.seq.adc.len() as u32 + 1;
        self.seq.adc.insert(
            id,
            AdcEvent {
                num: a.num_samples,
                dwell: a.dwell,
                delay: a.delay,
                freq_ppm: a.freq_ppm,
                phase_ppm: a.phase_ppm,
                freq: a.freq_offset,
                phase: a.phase_offset,
                phase_id,
            },
        );
        self.adc_ids.insert(key, id);
        id
    }

    /// The numeric type id of extension `name`, declared on first use.
    fn ext_type(&mut self, name: &str) -> u32 {
        if let Some(s) = self.seq.extension_specs.iter().find(|s| s.name == name) {
            return s.type_id;
        }
        let type_id = self.seq.extension_specs.len() as u32 + 1;
        self.seq.extension_specs.push(ExtensionSpec {
            name: name.to_string(),
            type_id,
            known: true,
        });
        type_id
    }

    /// Registers one extension object; returns `(type_id, ref_id)`.
    fn register_extension(&mut self, e: &Event) -> (u32, u32) {
        match e {
            Event::Label(l) => {
                let name = match l.op {
                    LabelOp::Set => "LABELSET",
                    LabelOp::Inc => "LABELINC",
                };
                let type_id = self.ext_type(name);
                let slot = match self.label_ids.iter().position(|(name, _)| *name == l.label) {
                    Some(k) => k,
                    None => {
                        self.label_ids.push((l.label, HashMap::default()));
                        self.label_ids.len() - 1
                    }
                };
                let ids = &mut self.label_ids[slot].1;
                let table = match l.op {
                    LabelOp::Set => &mut self.seq.labelset,
                    LabelOp::Inc => &mut self.seq.labelinc,
                };
                let id = *ids.entry((l.op, l.value)).or_insert_with(|| {
                    let id = table.len() as u32 + 1;
                    table.insert(
                        id,
                        Label {
                            value: l.value,
                            label: l.label.to_string(),
                        },
                    );
                    id
                });
                (type_id, id)
            }
            Event::Trigger(t) => {
                let type_id = self.ext_type("TRIGGERS");
                let key = [t.trigger_type, t.channel, t.delay.0, t.duration.0];
                let table = &mut self.seq.triggers;
                let id = *self.trigger_ids.entry(key).or_insert_with(|| {
                    let id = table.len() as u32 + 1;
                    table.insert(
                        id,
                        Trigger {
                            trigger_type: t.trigger_type,
                            channel: t.channel,
                            delay: t.delay,
                            duration: t.duration,
                        },
                    );
                    id
                });
                (type_id, id)
            }
            Event::SoftDelay(s) => {
                let type_id = self.ext_type("DELAYS");
                let next_num = self.soft_delay_num_ids.len() as i64;
                let num_id = match s.num_id {
                    Some(n) => n,
                    None => *self
                        .soft_delay_num_ids
                        .entry(s.hint.clone())
                        .or_insert(next_num),
                };
                let mut key = vec![num_id as u64, s.offset.0 as u64, s.factor.to_bits()];
                key.extend(s.hint.bytes().map(u64::from));
                let table = &mut self.seq.soft_delays;
                let id = *self.soft_delay_ids.entry(key).or_insert_with(|| {
                    let id = table.len() as u32 + 1;
                    table.insert(
                        id,
                        SoftDelay {
                            num_id,
                            offset: s.offset,
                            factor: s.factor,
                            hint: s.hint.clone(),
                        },
                    );
                    id
                });
                (type_id, id)
            }
            Event::Rotation(q) => {
                let type_id = self.ext_type("ROTATIONS");
                let key = q.map(f64::to_bits);
                let table = &mut self.seq.rotations;
                let id = *self.rotation_ids.entry(key).or_insert_with(|| {
                    let id = table.len() as u32 + 1;
                    table.insert(id, *q);
                    id
                });
                (type_id, id)
            }
            _ => unreachable!("only extension events are registered here"),
        }
    }

    /// Registers a whole extension list (de-duplicated); returns its head node id (0 = none).
    fn register_ext_list(&mut self, list: &[(u32, u32)]) -> u32 {
        if list.is_empty() {
            return 0;
        }
        let mut small = [(0u32, 0u32); 4];
        let small_key = (list.len() <= small.len()).then(|| {
            small[..list.len()].copy_from_slice(list);
            (list.len(), small)
        });
        let known = match &small_key {
            Some(key) => self.ext_list_small.get(key),
            None => self.ext_list_ids.get(list),
        };
        if let Some(&head) = known {
            return head;
        }
        let base = (self.seq.extensions.len() + self.pending_ext.len()) as u32;
        let n = list.len() as u32;
        for (i, &(type_id, ref_id)) in list.iter().enumerate() {
            let id = base + i as u32 + 1;
            let next = if (i as u32) + 1 < n { id + 1 } else { 0 };
            self.pending_ext.push((
                id,
                ExtensionNode {
                    type_id,
                    ref_id,
                    next,
                },
            ));
        }
        match small_key {
            Some(key) => self.ext_list_small.insert(key, base + 1),
            None => self.ext_list_ids.insert(list.to_vec(), base + 1),
        };
        base + 1
    }
}

/// The error for a second RF, ADC or gradient on one axis in a block.
fn more_than_one(kind: RegisteredKind) -> SeqError {
    match kind {
        RegisteredKind::Rf => SeqError::build("more than one RF event"),
        RegisteredKind::Grad(c) => {
            SeqError::build(format!("more than one gradient on {}", c.as_str()))
        }
        RegisteredKind::Adc => SeqError::build("more than one ADC event"),
    }
}

/// Whether `e` goes into the block's extension list.
fn is_extension(e: &Event) -> bool {
    matches!(
        e,
        Event::Label(_) | Event::Trigger(_) | Event::SoftDelay(_) | Event::Rotation(_)
    )
}

fn nonneg(what: &str, t: Nanos) -> Result<()> {
    if t.0 < 0 {
        Err(SeqError::build(format!("{what} is negative ({} ns)", t.0)))
    } else {
        Ok(())
    }
}

/// Snaps values within 1e-12 of an integer to it, so that time shapes in raster units and
/// normalised shapes compress well and compare exactly.
fn clean(x: f64) -> f64 {
    let r = x.round();
    if (x - r).abs() < 1e-12 { r } else { x }
}
