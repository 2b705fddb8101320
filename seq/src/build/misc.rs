//! Non-RF, non-gradient events with pypulseq 1.5's semantics: ADC readouts, delays, labels,
//! triggers, digital output pulses and soft delays.
//!
//! Every builder checks its input and returns a [`SeqError::Build`] naming the function, the
//! offending value with its unit and what would be accepted.

use crate::build::{Adc, Event, LabelEvent, LabelOp, SoftDelayEvent, TriggerEvent};
use crate::error::{Result, SeqError};
use crate::system::System;
use crate::time::Nanos;

/// The label names pypulseq 1.5 supports (`get_supported_labels`), in its order.
pub const SUPPORTED_LABELS: [&str; 22] = [
    "SLC", "SEG", "REP", "AVG", "SET", "ECO", "PHS", "LIN", "PAR", "ACQ", "NAV", "REV", "SMS",
    "REF", "IMA", "NOISE", "PMC", "NOROT", "NOPOS", "NOSCL", "ONCE", "TRID",
];

/// The labels that are flags (pypulseq's `labels[10:-1]`): they may only be SET, never INC.
pub const FLAG_LABELS: [&str; 11] = [
    "NAV", "REV", "SMS", "REF", "IMA", "NOISE", "PMC", "NOROT", "NOPOS", "NOSCL", "ONCE",
];

/// Options of [`make_adc`] besides the sample count (pypulseq's keyword arguments).
#[derive(Debug, Clone, Default)]
pub struct AdcSpec {
    /// Dwell time per sample (give this or `duration`).
    pub dwell: Option<Nanos>,
    /// Total sampling window (give this or `dwell`); must split into equal dwells on the ADC raster.
    pub duration: Option<Nanos>,
    /// Delay from the block start (raised to the system's ADC dead time).
    pub delay: Nanos,
    /// Frequency offset in Hz.
    pub freq_offset: f64,
    /// Phase offset in rad.
    pub phase_offset: f64,
    /// Frequency offset in ppm of the Larmor frequency.
    pub freq_ppm: f64,
    /// Phase offset in rad/MHz.
    pub phase_ppm: f64,
    /// Per-sample phase modulation in rad (empty, or one value per sample).
    pub phase_modulation: Vec<f64>,
}

impl AdcSpec {
    /// A spec with the given dwell time and everything else default.
    pub fn dwell(dwell: Nanos) -> Self {
        AdcSpec {
            dwell: Some(dwell),
            ..AdcSpec::default()
        }
    }

    /// A spec with the given sampling window and everything else default.
    pub fn duration(duration: Nanos) -> Self {
        AdcSpec {
            duration: Some(duration),
            ..AdcSpec::default()
        }
    }

    /// The same spec with a delay.
    pub fn with_delay(mut self, delay: Nanos) -> Self {
        self.delay = delay;
        self
    }
}

fn check_finite(func: &str, name: &str, v: f64, unit: &str) -> Result<()> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(SeqError::build(format!(
            "{func}: {name} = {v} {unit} is not a finite number"
        )))
    }
}

/// The two multiples of `raster` around `t` (both ≥ one raster), for error messages.
fn nearest_multiples(t: i64, raster: i64) -> (i64, i64) {
    let lo = (t.div_euclid(raster) * raster).max(raster);
    let hi = (lo + if lo >= t { 0 } else { raster }).max(raster);
    (lo, hi)
}

/// An ADC readout of `num_samples` samples (pypulseq `make_adc`).
///
/// Exactly one of `spec.dwell` and `spec.duration` must be given; the dwell (given or
/// `duration/num_samples`) must be a whole multiple of the system's ADC raster. As in pypulseq,
/// a delay shorter than `system.adc_dead_time` is raised to it, and the ADC carries
/// `dead_time = system.adc_dead_time` (which [`crate::build::calc_duration`] adds after the last
/// sample).
pub fn make_adc(num_samples: u64, spec: &AdcSpec, system: &System) -> Result<Adc> {
    const F: &str = "make_adc";
    if num_samples == 0 {
        return Err(SeqError::build(format!(
            "{F}: num_samples = 0; an ADC needs at least one sample"
        )));
    }
    let raster = system.rasters.adc.0.max(1);
    let dwell = match (spec.dwell, spec.duration) {
        (Some(d), None) => d,
        (None, Some(dur)) => {
            if dur.0 <= 0 {
                return Err(SeqError::build(format!(
                    "{F}: duration = {} ns must be positive",
                    dur.0
                )));
            }
            if dur.0 % num_samples as i64 != 0 {
                let per = dur.0 as f64 / num_samples as f64;
                let (lo, hi) = nearest_multiples(per.floor() as i64, raster);
                return Err(SeqError::build(format!(
                    "{F}: duration = {} ns over {num_samples} samples gives a dwell of {per} ns, \
                     not a whole number of ns on the {raster} ns ADC raster; use a duration of \
                     {} ns or {} ns (dwell {lo} ns or {hi} ns), or give the dwell",
                    dur.0,
                    lo * num_samples as i64,
                    hi * num_samples as i64
                )));
            }
            Nanos(dur.0 / num_samples as i64)
        }
        (Some(d), Some(dur)) => {
            return Err(SeqError::build(format!(
                "{F}: both dwell = {} ns and duration = {} ns given; give exactly one",
                d.0, dur.0
            )));
        }
        (None, None) => {
            return Err(SeqError::build(format!(
                "{F}: neither dwell nor duration given; give exactly one"
            )));
        }
    };
    if dwell.0 <= 0 {
        return Err(SeqError::build(format!(
            "{F}: dwell = {} ns must be positive (a multiple of the {raster} ns ADC raster)",
            dwell.0
        )));
    }
    if dwell.0 % raster != 0 {
        let (lo, hi) = nearest_multiples(dwell.0, raster);
        return Err(SeqError::build(format!(
            "{F}: dwell = {} ns is not on the {raster} ns ADC raster; the nearest valid dwells \
             are {lo} ns and {hi} ns",
            dwell.0
        )));
    }
    if spec.delay.0 < 0 {
        return Err(SeqError::build(format!(
            "{F}: delay = {} ns must be zero or positive",
            spec.delay.0
        )));
    }
    check_finite(F, "freq_offset", spec.freq_offset, "Hz")?;
    check_finite(F, "phase_offset", spec.phase_offset, "rad")?;
    check_finite(F, "freq_ppm", spec.freq_ppm, "ppm")?;
    check_finite(F, "phase_ppm", spec.phase_ppm, "rad/MHz")?;
    if !spec.phase_modulation.is_empty() && spec.phase_modulation.len() as u64 != num_samples {
        return Err(SeqError::build(format!(
            "{F}: phase_modulation has {} values but num_samples = {num_samples}; give one \
             phase (rad) per sample or none",
            spec.phase_modulation.len()
        )));
    }
    if let Some(i) = spec.phase_modulation.iter().position(|p| !p.is_finite()) {
        return Err(SeqError::build(format!(
            "{F}: phase_modulation[{i}] = {} rad is not a finite number",
            spec.phase_modulation[i]
        )));
    }
    Ok(Adc {
        num_samples,
        dwell,
        delay: spec.delay.max(system.adc_dead_time),
        freq_offset: spec.freq_offset,
        phase_offset: spec.phase_offset,
        freq_ppm: spec.freq_ppm,
        phase_ppm: spec.phase_ppm,
        dead_time: system.adc_dead_time,
        phase_modulation: spec.phase_modulation.clone(),
    })
}

/// A pure delay of `d` (pypulseq `make_delay`); `d` must be zero or positive.
pub fn make_delay(d: Nanos) -> Result<Event> {
    if d.0 < 0 {
        return Err(SeqError::build(format!(
            "make_delay: delay = {} ns is negative; give a duration ≥ 0 ns",
            d.0
        )));
    }
    Ok(Event::Delay(d))
}

/// A label SET or INC (pypulseq `make_label`): `label` must be one of [`SUPPORTED_LABELS`], and
/// flags ([`FLAG_LABELS`]) may only be SET.
pub fn make_label(label: &str, op: LabelOp, value: i64) -> Result<LabelEvent> {
    let Some(&name) = SUPPORTED_LABELS.iter().find(|&&l| l == label) else {
        return Err(SeqError::build(format!(
            "make_label: unknown label {label:?}; valid labels are {}",
            SUPPORTED_LABELS.join(", ")
        )));
    };
    if op == LabelOp::Inc && FLAG_LABELS.contains(&label) {
        return Err(SeqError::build(format!(
            "make_label: {label} is a flag and cannot be incremented (INC {value}); use SET. \
             Flags: {}",
            FLAG_LABELS.join(", ")
        )));
    }
    Ok(LabelEvent {
        op,
        label: name,
        value,
    })
}

fn check_trigger_times(func: &str, delay: Nanos, duration: Nanos) -> Result<()> {
    if delay.0 < 0 || duration.0 < 0 {
        return Err(SeqError::build(format!(
            "{func}: delay = {} ns and duration = {} ns must both be zero or positive",
            delay.0, duration.0
        )));
    }
    Ok(())
}

/// An input trigger on `physio1` or `physio2` (pypulseq `make_trigger`); as in pypulseq a
/// duration up to one gradient raster is raised to one gradient raster.
pub fn make_trigger(
    channel: &str,
    delay: Nanos,
    duration: Nanos,
    system: &System,
) -> Result<TriggerEvent> {
    const F: &str = "make_trigger";
    let ch = match channel {
        "physio1" => 1,
        "physio2" => 2,
        _ => {
            return Err(SeqError::build(format!(
                "{F}: channel {channel:?} is invalid; use \"physio1\" or \"physio2\""
            )));
        }
    };
    check_trigger_times(F, delay, duration)?;
    Ok(TriggerEvent {
        trigger_type: 2,
        channel: ch,
        delay,
        duration: duration.max(system.rasters.grad),
    })
}

/// A digital output pulse on `osc0`, `osc1` or `ext1` (pypulseq `make_digital_output_pulse`); as
/// in pypulseq a duration up to one gradient raster is raised to one gradient raster.
pub fn make_digital_output_pulse(
    channel: &str,
    delay: Nanos,
    duration: Nanos,
    system: &System,
) -> Result<TriggerEvent> {
    const F: &str = "make_digital_output_pulse";
    let ch = match channel {
        "osc0" => 1,
        "osc1" => 2,
        "ext1" => 3,
        _ => {
            return Err(SeqError::build(format!(
                "{F}: channel {channel:?} is invalid; use \"osc0\", \"osc1\" or \"ext1\""
            )));
        }
    };
    check_trigger_times(F, delay, duration)?;
    Ok(TriggerEvent {
        trigger_type: 1,
        channel: ch,
        delay,
        duration: duration.max(system.rasters.grad),
    })
}

/// A soft delay (pypulseq `make_soft_delay`): the block lasts `offset + value/factor` where the
/// operator sets `value` under the name `hint`; `default_duration` is the duration as built.
pub fn make_soft_delay(
    hint: &str,
    offset: Nanos,
    factor: f64,
    default_duration: Nanos,
    num_id: Option<i64>,
) -> Result<SoftDelayEvent> {
    const F: &str = "make_soft_delay";
    if hint.is_empty() {
        return Err(SeqError::build(format!(
            "{F}: hint is empty; give a name such as \"TE\""
        )));
    }
    if hint.chars().any(char::is_whitespace) {
        return Err(SeqError::build(format!(
            "{F}: hint {hint:?} contains white space; use a name without spaces"
        )));
    }
    if default_duration.0 <= 0 {
        return Err(SeqError::build(format!(
            "{F}: default_duration = {} ns must be positive",
            default_duration.0
        )));
    }
    if factor == 0.0 || !factor.is_finite() {
        return Err(SeqError::build(format!(
            "{F}: factor = {factor} must be a finite non-zero number (the user's value is \
             divided by it)"
        )));
    }
    if let Some(id) = num_id {
        if id < 0 {
            return Err(SeqError::build(format!(
                "{F}: num_id = {id} must be zero or positive (or None to assign one per hint)"
            )));
        }
    }
    Ok(SoftDelayEvent {
        hint: hint.to_string(),
        num_id,
        offset,
        factor,
        default_duration,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_multiples_brackets() {
        assert_eq!(nearest_multiples(250, 100), (200, 300));
        assert_eq!(nearest_multiples(50, 100), (100, 100));
        assert_eq!(nearest_multiples(300, 100), (300, 300));
    }
}
