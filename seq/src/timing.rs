//! Timing checks of a sequence against system limits, as pypulseq 1.5's `check_timing` does them
//! (same error classes, events, fields and order), but on integer nanoseconds: a value is on a
//! raster exactly when it is a whole multiple of it, so no float-rounding false positives occur.
//!
//! Per block, in this order: the block duration (max of the stored duration and the events'
//! ends) on the block raster (RASTER) and against the stored duration
//! (BLOCK_DURATION_MISMATCH); per event `rf`, `gx`, `gy`, `gz`, `adc`: negative delay
//! (NEGATIVE_DELAY), delay on the RF raster (RF, ADC) or gradient raster (gradients), ADC dwell on
//! the ADC raster, trapezoid rise/flat/fall on the gradient raster (RASTER); then RF_DEAD_TIME,
//! RF_RINGDOWN_TIME, ADC_DEAD_TIME, POST_ADC_DEAD_TIME and the soft-delay checks
//! (SOFT_DELAY_FACTOR, SOFT_DELAY_DUR_INCONSISTENCY). Labels and triggers are not checked.
//! Unlike pypulseq, oversampled gradients (`time_id -1`) last `(N+1)/2` gradient rasters (as in
//! MATLAB Pulseq), so they raise no false BLOCK_DURATION_MISMATCH.

use std::collections::BTreeMap;

use crate::events::{Gradient, RfEvent};
use crate::sequence::{Block, Libraries, Sequence};
use crate::time::{Nanos, Rasters};

/// System limits the timing is checked against (pypulseq `Opts()` defaults by [`Default`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SystemLimits {
    /// Gradient raster time (default 10 µs).
    pub grad_raster: Nanos,
    /// RF raster time (default 1 µs).
    pub rf_raster: Nanos,
    /// ADC raster time (default 100 ns).
    pub adc_raster: Nanos,
    /// Block duration raster (default 10 µs).
    pub block_raster: Nanos,
    /// Minimum time before an RF pulse in its block (default 0).
    pub rf_dead_time: Nanos,
    /// Minimum time after an RF pulse's last sample in its block (default 0).
    pub rf_ringdown_time: Nanos,
    /// Minimum time before and after an ADC in its block (default 0).
    pub adc_dead_time: Nanos,
}

impl Default for SystemLimits {
    fn default() -> Self {
        SystemLimits {
            grad_raster: Nanos(10_000),
            rf_raster: Nanos(1_000),
            adc_raster: Nanos(100),
            block_raster: Nanos(10_000),
            rf_dead_time: Nanos::ZERO,
            rf_ringdown_time: Nanos::ZERO,
            adc_dead_time: Nanos::ZERO,
        }
    }
}

impl SystemLimits {
    /// The default limits with the given rasters (e.g. a sequence's own `seq.rasters`).
    pub fn with_rasters(r: Rasters) -> Self {
        SystemLimits {
            grad_raster: r.grad,
            rf_raster: r.rf,
            adc_raster: r.adc,
            block_raster: r.block,
            ..SystemLimits::default()
        }
    }
}

/// The kind of a timing error, named as pypulseq 1.5 names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TimingErrorType {
    /// A time is not a whole multiple of its raster.
    Raster,
    /// The events need more time than the stored block duration.
    BlockDurationMismatch,
    /// An event delay is negative.
    NegativeDelay,
    /// The RF delay is shorter than the RF dead time.
    RfDeadTime,
    /// The RF pulse's last sample plus ringdown ends after the block.
    RfRingdownTime,
    /// The ADC delay is shorter than the ADC dead time.
    AdcDeadTime,
    /// The ADC end plus dead time is after the block end.
    PostAdcDeadTime,
    /// A soft delay has factor 0.
    SoftDelayFactor,
    /// A soft delay's default value differs (> 0.1 µs) from the first one with its numeric id.
    SoftDelayDurInconsistency,
}

impl TimingErrorType {
    /// pypulseq's name (e.g. `RASTER`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Raster => "RASTER",
            Self::BlockDurationMismatch => "BLOCK_DURATION_MISMATCH",
            Self::NegativeDelay => "NEGATIVE_DELAY",
            Self::RfDeadTime => "RF_DEAD_TIME",
            Self::RfRingdownTime => "RF_RINGDOWN_TIME",
            Self::AdcDeadTime => "ADC_DEAD_TIME",
            Self::PostAdcDeadTime => "POST_ADC_DEAD_TIME",
            Self::SoftDelayFactor => "SOFT_DELAY_FACTOR",
            Self::SoftDelayDurInconsistency => "SOFT_DELAY_DUR_INCONSISTENCY",
        }
    }
}

impl std::fmt::Display for TimingErrorType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The value a timing error reports.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TimingValue {
    /// A time (the offending duration, delay or end).
    Time(Nanos),
    /// A soft-delay factor.
    Factor(f64),
    /// A soft delay's default value in seconds.
    Seconds(f64),
}

/// One timing error.
#[derive(Debug, Clone, PartialEq)]
pub struct TimingError {
    /// Block id.
    pub block_id: u32,
    /// Event: `block`, `rf`, `gx`, `gy`, `gz`, `adc` or `soft_delay`.
    pub event: &'static str,
    /// Field: `duration`, `delay`, `dwell`, `rise_time`, `flat_time` or `fall_time`.
    pub field: &'static str,
    /// Error class.
    pub error_type: TimingErrorType,
    /// The offending value.
    pub value: TimingValue,
}

/// The result of [`check_timing`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TimingReport {
    /// Whether no error was found.
    pub ok: bool,
    /// The errors in pypulseq's order.
    pub errors: Vec<TimingError>,
}

impl TimingReport {
    /// Error counts keyed `event.field.ERROR_TYPE`, as the reference corpus tallies them.
    pub fn errors_by_type(&self) -> BTreeMap<String, usize> {
        let mut m = BTreeMap::new();
        for e in &self.errors {
            *m.entry(format!("{}.{}.{}", e.event, e.field, e.error_type))
                .or_insert(0) += 1;
        }
        m
    }
}

/// Whether `x` is a whole multiple of `raster` (a non-positive raster accepts everything).
fn on_raster(x: Nanos, raster: Nanos) -> bool {
    raster.0 <= 0 || x.0 % raster.0 == 0
}

/// Twice the time of an RF pulse's last sample from its block start (half-ns exact).
fn rf_last_sample_x2(seq: &Sequence, rf: &RfEvent, lim: &SystemLimits) -> i64 {
    let dt = lim.rf_raster.0;
    let t_last_x2 = if rf.time_id > 0 {
        let last = seq
            .shapes
            .get(&(rf.time_id as u32))
            .and_then(|s| s.samples.last().copied())
            .unwrap_or(0.0);
        2 * (last * dt as f64).round() as i64
    } else {
        let n = seq.shapes.get(&rf.mag_id).map_or(0, |s| s.samples.len()) as i64;
        (2 * n - 1).max(0).saturating_mul(dt)
    };
    2 * rf.delay.0 + t_last_x2
}

/// The block duration pypulseq's `calc_duration` gives: the stored duration or the latest event
/// end (RF incl. ringdown, ADC incl. dead time), whichever is later.
fn content_duration(lib: &Libraries, b: &Block, lim: &SystemLimits) -> Nanos {
    let seq = lib.seq;
    let mut d = b.duration.max(lib.events_duration(b));
    if let Some(rf) = lib.rf.get(b.rf) {
        d = d.max(seq.rf_duration(rf) + lim.rf_ringdown_time);
    }
    if let Some(a) = lib.adc.get(b.adc) {
        d = d.max(seq.adc_duration(a) + lim.adc_dead_time);
    }
    d
}

/// Checks every block's timing against `lim` as pypulseq 1.5's `check_timing` does, on integer ns.
pub fn check_timing(seq: &Sequence, lim: &SystemLimits) -> TimingReport {
    let mut errors = Vec::new();
    let mut soft_defaults: BTreeMap<i64, f64> = BTreeMap::new();
    let lib = Libraries::new(seq);
    for b in &seq.blocks {
        let id = b.id;
        let mut push = |event, field, error_type, value| {
            errors.push(TimingError {
                block_id: id,
                event,
                field,
                error_type,
                value,
            })
        };
        let raster = |push: &mut dyn FnMut(_, _, _, _), event, field, x: Nanos, r: Nanos| {
            if !on_raster(x, r) {
                push(event, field, TimingErrorType::Raster, TimingValue::Time(x));
            }
        };
        let delay = |push: &mut dyn FnMut(_, _, _, _), event, x: Nanos, r: Nanos| {
            if x < Nanos::ZERO {
                push(
                    event,
                    "delay",
                    TimingErrorType::NegativeDelay,
                    TimingValue::Time(x),
                );
            }
            raster(push, event, "delay", x, r);
        };

        let content = content_duration(&lib, b, lim);
        raster(&mut push, "block", "duration", content, lim.block_raster);
        if content != b.duration {
            push(
                "block",
                "duration",
                TimingErrorType::BlockDurationMismatch,
                TimingValue::Time(content),
            );
        }
        let duration = b.duration;

        let rf = lib.rf.get(b.rf);
        if let Some(rf) = rf {
            delay(&mut push, "rf", rf.delay, lim.rf_raster);
        }
        for (event, gid) in [("gx", b.gx), ("gy", b.gy), ("gz", b.gz)] {
            let Some(g) = lib.grad.get(gid) else {
                continue;
            };
            match g {
                Gradient::Trap(t) => {
                    delay(&mut push, event, t.delay, lim.grad_raster);
                    raster(&mut push, event, "rise_time", t.rise, lim.grad_raster);
                    raster(&mut push, event, "flat_time", t.flat, lim.grad_raster);
                    raster(&mut push, event, "fall_time", t.fall, lim.grad_raster);
                }
                Gradient::Arb(a) => delay(&mut push, event, a.delay, lim.grad_raster),
            }
        }
        let adc = lib.adc.get(b.adc);
        if let Some(a) = adc {
            // The ADC start must be on the RF raster; its samples on the ADC raster.
            delay(&mut push, "adc", a.delay, lim.rf_raster);
            raster(&mut push, "adc", "dwell", a.dwell, lim.adc_raster);
        }

        if let Some(rf) = rf {
            if rf.delay < lim.rf_dead_time {
                push(
                    "rf",
                    "delay",
                    TimingErrorType::RfDeadTime,
                    TimingValue::Time(rf.delay),
                );
            }
            let end_x2 = rf_last_sample_x2(seq, rf, lim);
            if end_x2 + 2 * lim.rf_ringdown_time.0 > 2 * duration.0 {
                push(
                    "rf",
                    "duration",
                    TimingErrorType::RfRingdownTime,
                    TimingValue::Time(Nanos(end_x2.div_euclid(2))),
                );
            }
        }
        if let Some(a) = adc {
            if a.delay < lim.adc_dead_time {
                push(
                    "adc",
                    "delay",
                    TimingErrorType::AdcDeadTime,
                    TimingValue::Time(a.delay),
                );
            }
            let end = seq.adc_duration(a);
            if end + lim.adc_dead_time > duration {
                push(
                    "adc",
                    "duration",
                    TimingErrorType::PostAdcDeadTime,
                    TimingValue::Time(end),
                );
            }
        }

        for node in lib.extension_nodes(b.ext) {
            let is_delay = lib.extension_name(node.type_id) == Some("DELAYS");
            let Some(sd) = seq.soft_delays.get(&node.ref_id).filter(|_| is_delay) else {
                continue;
            };
            if sd.factor == 0.0 {
                push(
                    "soft_delay",
                    "delay",
                    TimingErrorType::SoftDelayFactor,
                    TimingValue::Factor(sd.factor),
                );
            }
            let default = (duration - sd.offset).as_secs_f64() * sd.factor;
            match soft_defaults.get(&sd.num_id) {
                None => {
                    soft_defaults.insert(sd.num_id, default);
                }
                // pypulseq's own tolerance: 0.1 µs between default values.
                Some(prev) if (default - prev).abs() > 1e-7 => push(
                    "soft_delay",
                    "delay",
                    TimingErrorType::SoftDelayDurInconsistency,
                    TimingValue::Seconds(default),
                ),
                Some(_) => {}
            }
        }
    }
    TimingReport {
        ok: errors.is_empty(),
        errors,
    }
}
