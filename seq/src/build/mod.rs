//! Building sequences in code, with pypulseq's vocabulary and semantics: events with their
//! shapes inline ([`Rf`], [`Grad`], [`Adc`], delays, labels, triggers, soft delays, rotations),
//! the `make_*` builders, [`calc_duration`], and [`SequenceBuilder`] which registers events in
//! de-duplicated libraries and produces a [`crate::Sequence`] ready for the writer.
//!
//! Amplitudes are in Hz (RF) and Hz/m (gradients), areas in 1/m, times in integer nanoseconds
//! ([`Nanos`]) except sample-time vectors, which are in seconds.

pub mod block;
pub mod grad;
pub mod misc;
pub mod rf;

pub use block::SequenceBuilder;
pub use grad::*;
pub use misc::*;
pub use rf::*;

use num_complex::Complex64;

use crate::time::Nanos;

/// A gradient axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Channel {
    /// Readout axis x.
    X,
    /// Phase-encoding axis y.
    Y,
    /// Slice axis z.
    Z,
}

impl Channel {
    /// 0, 1, 2 for x, y, z.
    pub fn index(self) -> usize {
        match self {
            Channel::X => 0,
            Channel::Y => 1,
            Channel::Z => 2,
        }
    }

    /// `"x"`, `"y"` or `"z"`.
    pub fn as_str(self) -> &'static str {
        ["x", "y", "z"][self.index()]
    }

    /// Parses `x`, `y` or `z` (case-insensitive).
    pub fn parse(s: &str) -> Option<Channel> {
        match s.to_ascii_lowercase().as_str() {
            "x" => Some(Channel::X),
            "y" => Some(Channel::Y),
            "z" => Some(Channel::Z),
            _ => None,
        }
    }
}

/// The intended use of an RF pulse (the 1.5 `use` letter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum RfUse {
    /// Excitation (`e`).
    Excitation,
    /// Refocusing (`r`).
    Refocusing,
    /// Inversion (`i`).
    Inversion,
    /// Saturation (`s`).
    Saturation,
    /// Preparation (`p`).
    Preparation,
    /// Other (`o`).
    Other,
    /// Undefined (`u`).
    #[default]
    Undefined,
}

impl RfUse {
    /// The `.seq` letter.
    pub fn letter(self) -> char {
        match self {
            RfUse::Excitation => 'e',
            RfUse::Refocusing => 'r',
            RfUse::Inversion => 'i',
            RfUse::Saturation => 's',
            RfUse::Preparation => 'p',
            RfUse::Other => 'o',
            RfUse::Undefined => 'u',
        }
    }

    /// Parses pypulseq's names (`excitation`, `refocusing`, …) or the letters.
    pub fn parse(s: &str) -> Option<RfUse> {
        Some(match s {
            "e" | "excitation" => RfUse::Excitation,
            "r" | "refocusing" => RfUse::Refocusing,
            "i" | "inversion" => RfUse::Inversion,
            "s" | "saturation" => RfUse::Saturation,
            "p" | "preparation" => RfUse::Preparation,
            "o" | "other" => RfUse::Other,
            "u" | "undefined" => RfUse::Undefined,
            _ => return None,
        })
    }
}

/// An RF pulse with its complex waveform (pypulseq's RF `SimpleNamespace`).
#[derive(Debug, Clone, PartialEq)]
pub struct Rf {
    /// Complex B1 waveform in Hz.
    pub signal: Vec<Complex64>,
    /// Sample times in seconds from the pulse start (raster centres `(n+0.5)·Δrf` by default).
    pub t: Vec<f64>,
    /// Duration of the shape (without delay and ringdown).
    pub shape_dur: Nanos,
    /// Delay from the block start (≥ the system's RF dead time).
    pub delay: Nanos,
    /// Time of the effective rotation from the shape start.
    pub center: Nanos,
    /// Frequency offset in Hz.
    pub freq_offset: f64,
    /// Phase offset in rad.
    pub phase_offset: f64,
    /// Frequency offset in ppm of the Larmor frequency.
    pub freq_ppm: f64,
    /// Phase offset in rad/MHz of the Larmor frequency.
    pub phase_ppm: f64,
    /// Dead time before the pulse (from the system; informational).
    pub dead_time: Nanos,
    /// Ringdown time after the pulse (counts in [`calc_duration`]).
    pub ringdown_time: Nanos,
    /// Intended use.
    pub use_: RfUse,
}

/// A trapezoid gradient.
#[derive(Debug, Clone, PartialEq)]
pub struct Trapezoid {
    /// Axis.
    pub channel: Channel,
    /// Flat-top amplitude in Hz/m (signed).
    pub amplitude: f64,
    /// Ramp-up time.
    pub rise_time: Nanos,
    /// Flat time.
    pub flat_time: Nanos,
    /// Ramp-down time.
    pub fall_time: Nanos,
    /// Delay from the block start.
    pub delay: Nanos,
}

impl Trapezoid {
    /// Total area in 1/m: `amp·(flat + (rise+fall)/2)`.
    pub fn area(&self) -> f64 {
        self.amplitude
            * (self.flat_time.as_secs_f64()
                + 0.5 * (self.rise_time.as_secs_f64() + self.fall_time.as_secs_f64()))
    }

    /// Area of the flat top in 1/m.
    pub fn flat_area(&self) -> f64 {
        self.amplitude * self.flat_time.as_secs_f64()
    }

    /// Rise + flat + fall (without delay).
    pub fn shape_duration(&self) -> Nanos {
        self.rise_time + self.flat_time + self.fall_time
    }
}

/// How an arbitrary gradient's samples are timed.
#[derive(Debug, Clone, PartialEq)]
pub enum GradTiming {
    /// One sample per gradient raster, at raster centres (`time_id 0`).
    RasterCentres,
    /// Two samples per raster, at edges and centres (`time_id -1`).
    Oversampled,
    /// Explicit sample times `tt` (an extended trapezoid's corner points; a time shape).
    TimeShape,
}

/// An arbitrary gradient or extended trapezoid.
#[derive(Debug, Clone, PartialEq)]
pub struct ArbitraryGrad {
    /// Axis.
    pub channel: Channel,
    /// Samples in Hz/m.
    pub waveform: Vec<f64>,
    /// Sample times in seconds from the gradient start (after the delay).
    pub tt: Vec<f64>,
    /// How `tt` relates to the raster.
    pub timing: GradTiming,
    /// Length of the gradient (without delay).
    pub shape_dur: Nanos,
    /// Delay from the block start.
    pub delay: Nanos,
    /// Value at the start, Hz/m.
    pub first: f64,
    /// Value at the end, Hz/m.
    pub last: f64,
}

impl ArbitraryGrad {
    /// Area in 1/m of the piecewise-linear waveform from `(0, first)` through the samples to
    /// `(shape_dur, last)`.
    pub fn area(&self) -> f64 {
        let mut pts: Vec<(f64, f64)> = Vec::with_capacity(self.tt.len() + 2);
        if self.tt.first().is_none_or(|&t| t > 0.0) {
            pts.push((0.0, self.first));
        }
        pts.extend(self.tt.iter().copied().zip(self.waveform.iter().copied()));
        let end = self.shape_dur.as_secs_f64();
        if self.tt.last().is_none_or(|&t| t < end) {
            pts.push((end, self.last));
        }
        pts.windows(2)
            .map(|w| 0.5 * (w[1].0 - w[0].0) * (w[0].1 + w[1].1))
            .sum()
    }
}

/// A gradient event.
#[derive(Debug, Clone, PartialEq)]
pub enum Grad {
    /// A trapezoid.
    Trap(Trapezoid),
    /// An arbitrary gradient or extended trapezoid.
    Arb(ArbitraryGrad),
}

impl Grad {
    /// The axis.
    pub fn channel(&self) -> Channel {
        match self {
            Grad::Trap(t) => t.channel,
            Grad::Arb(a) => a.channel,
        }
    }

    /// Delay from the block start.
    pub fn delay(&self) -> Nanos {
        match self {
            Grad::Trap(t) => t.delay,
            Grad::Arb(a) => a.delay,
        }
    }

    /// Delay + length.
    pub fn duration(&self) -> Nanos {
        match self {
            Grad::Trap(t) => t.delay + t.shape_duration(),
            Grad::Arb(a) => a.delay + a.shape_dur,
        }
    }

    /// Area in 1/m.
    pub fn area(&self) -> f64 {
        match self {
            Grad::Trap(t) => t.area(),
            Grad::Arb(a) => a.area(),
        }
    }

    /// Value at the start (0 for trapezoids).
    pub fn first(&self) -> f64 {
        match self {
            Grad::Trap(_) => 0.0,
            Grad::Arb(a) => a.first,
        }
    }

    /// Value at the end (0 for trapezoids).
    pub fn last(&self) -> f64 {
        match self {
            Grad::Trap(_) => 0.0,
            Grad::Arb(a) => a.last,
        }
    }

    /// The same gradient with a different delay.
    pub fn with_delay(mut self, delay: Nanos) -> Grad {
        match &mut self {
            Grad::Trap(t) => t.delay = delay,
            Grad::Arb(a) => a.delay = delay,
        }
        self
    }

    /// The same gradient on another axis.
    pub fn with_channel(mut self, channel: Channel) -> Grad {
        match &mut self {
            Grad::Trap(t) => t.channel = channel,
            Grad::Arb(a) => a.channel = channel,
        }
        self
    }
}

/// An ADC readout.
#[derive(Debug, Clone, PartialEq)]
pub struct Adc {
    /// Number of samples.
    pub num_samples: u64,
    /// Dwell time (a multiple of the ADC raster).
    pub dwell: Nanos,
    /// Delay from the block start.
    pub delay: Nanos,
    /// Frequency offset in Hz.
    pub freq_offset: f64,
    /// Phase offset in rad.
    pub phase_offset: f64,
    /// Frequency offset in ppm.
    pub freq_ppm: f64,
    /// Phase offset in rad/MHz.
    pub phase_ppm: f64,
    /// Dead time after the last sample (from the system; counts in [`calc_duration`]).
    pub dead_time: Nanos,
    /// Per-sample phase modulation in rad (empty = none).
    pub phase_modulation: Vec<f64>,
}

impl Adc {
    /// Sampling window `num_samples·dwell`.
    pub fn window(&self) -> Nanos {
        self.dwell * self.num_samples as i64
    }
}

/// SET or INC of a label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LabelOp {
    /// `LABELSET`.
    Set,
    /// `LABELINC`.
    Inc,
}

/// A label event (`make_label`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LabelEvent {
    /// SET or INC.
    pub op: LabelOp,
    /// Label name (`LIN`, `SLC`, `REV`, …): one of the supported names, so copying a label
    /// event allocates nothing.
    pub label: &'static str,
    /// Value.
    pub value: i64,
}

/// A trigger (input) or digital output pulse.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TriggerEvent {
    /// 1 = digital output, 2 = input trigger.
    pub trigger_type: i64,
    /// Channel number (physio1 = 1, physio2 = 2; osc0 = 1, osc1 = 2, ext1 = 3).
    pub channel: i64,
    /// Delay from the block start.
    pub delay: Nanos,
    /// Duration.
    pub duration: Nanos,
}

/// A soft delay (1.5): a block whose duration the scanner operator may change.
#[derive(Debug, Clone, PartialEq)]
pub struct SoftDelayEvent {
    /// The user-facing name, e.g. `TE`.
    pub hint: String,
    /// Numeric id (assigned per hint when `None`).
    pub num_id: Option<i64>,
    /// Offset added to `value/factor`.
    pub offset: Nanos,
    /// Divisor of the user's value.
    pub factor: f64,
    /// The block's duration as built.
    pub default_duration: Nanos,
}

/// What a [`RegisteredEvent`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegisteredKind {
    /// An RF pulse.
    Rf,
    /// A gradient on an axis.
    Grad(Channel),
    /// An ADC readout.
    Adc,
}

/// An RF pulse, gradient or ADC already in a [`SequenceBuilder`]'s event libraries
/// ([`SequenceBuilder::register`], pypulseq's `register_rf_event` / `register_grad_event` /
/// `register_adc_event`). Blocks that reuse it skip its checks and its de-duplication, which is
/// most of the cost of adding a block; it is valid only in the builder that registered it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RegisteredEvent {
    /// RF, gradient (with its axis) or ADC.
    pub kind: RegisteredKind,
    /// Id in its library (`[RF]`, `[GRADIENTS]`/`[TRAP]` or `[ADC]`).
    pub id: u32,
    /// Delay from the block start.
    pub delay: Nanos,
    /// Time it needs in its block (delay, length, RF ringdown or ADC dead time).
    pub duration: Nanos,
    /// Gradients: value at the start (Hz/m); 0 for trapezoids, RF and ADC.
    pub first: f64,
    /// Gradients: value at the end (Hz/m); 0 for trapezoids, RF and ADC.
    pub last: f64,
    /// The builder whose libraries hold it.
    pub(crate) builder: u64,
}

/// One event of a block.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// RF pulse.
    Rf(Rf),
    /// Gradient on one axis.
    Grad(Grad),
    /// ADC readout.
    Adc(Adc),
    /// Pure delay: only lengthens the block.
    Delay(Nanos),
    /// Label SET/INC.
    Label(LabelEvent),
    /// Trigger or digital output.
    Trigger(TriggerEvent),
    /// Soft delay.
    SoftDelay(SoftDelayEvent),
    /// Rotation of the block's gradients, a unit quaternion `[q0, qx, qy, qz]`.
    Rotation([f64; 4]),
    /// An RF pulse, gradient or ADC already registered with the builder.
    Registered(RegisteredEvent),
}

impl From<RegisteredEvent> for Event {
    fn from(e: RegisteredEvent) -> Self {
        Event::Registered(e)
    }
}

impl From<Rf> for Event {
    fn from(e: Rf) -> Self {
        Event::Rf(e)
    }
}
impl From<Grad> for Event {
    fn from(e: Grad) -> Self {
        Event::Grad(e)
    }
}
impl From<Trapezoid> for Event {
    fn from(e: Trapezoid) -> Self {
        Event::Grad(Grad::Trap(e))
    }
}
impl From<ArbitraryGrad> for Event {
    fn from(e: ArbitraryGrad) -> Self {
        Event::Grad(Grad::Arb(e))
    }
}
impl From<Adc> for Event {
    fn from(e: Adc) -> Self {
        Event::Adc(e)
    }
}
impl From<LabelEvent> for Event {
    fn from(e: LabelEvent) -> Self {
        Event::Label(e)
    }
}
impl From<TriggerEvent> for Event {
    fn from(e: TriggerEvent) -> Self {
        Event::Trigger(e)
    }
}
impl From<SoftDelayEvent> for Event {
    fn from(e: SoftDelayEvent) -> Self {
        Event::SoftDelay(e)
    }
}

impl Event {
    /// The time this event needs in its block (pypulseq `calc_duration` of one event).
    pub fn duration(&self) -> Nanos {
        match self {
            Event::Rf(r) => r.delay + r.shape_dur + r.ringdown_time,
            Event::Grad(g) => g.duration(),
            Event::Adc(a) => a.delay + a.window() + a.dead_time,
            Event::Delay(d) => *d,
            Event::Label(_) | Event::Rotation(_) => Nanos::ZERO,
            Event::Trigger(t) => t.delay + t.duration,
            Event::SoftDelay(s) => s.default_duration,
            Event::Registered(r) => r.duration,
        }
    }
}

/// The duration of a block made of `events`: the latest event end (pypulseq `calc_duration`).
pub fn calc_duration(events: &[Event]) -> Nanos {
    events
        .iter()
        .map(Event::duration)
        .max()
        .unwrap_or(Nanos::ZERO)
}
