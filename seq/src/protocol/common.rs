//! Physics and bookkeeping shared by every `seqgen` kind: parameter checks that name the key,
//! times on a raster, slice positions and RF offsets, the Cartesian readout (dwell, trapezoid,
//! centred ADC, prephaser area), phase-encode tables, spoilers, RF-spoiling phases, labels and
//! the sidecar.
//!
//! Parameter errors are formatted `key = value: problem; what to do` so that
//! [`super::generate`] can prefix the protocol file and the line of the key.

use std::collections::BTreeMap;

use crate::build::{Adc, Channel, Event, LabelEvent, LabelOp, Trapezoid};
use crate::error::{Result, SeqError};
use crate::sequence::{Libraries, Sequence};
use crate::system::{System, ceil_to, units};
use crate::time::Nanos;
use crate::timing::check_timing;

use super::{LabelRange, Sidecar};

// ---------------------------------------------------------------------------------------------
// Parameter checks
// ---------------------------------------------------------------------------------------------

/// A parameter error `key = value: problem` (the form [`super::generate`] locates in the file).
pub fn param_error(key: &str, value: impl std::fmt::Display, problem: &str) -> SeqError {
    SeqError::build(format!("{key} = {value}: {problem}"))
}

/// `v` must be finite.
pub fn finite(key: &str, v: f64) -> Result<f64> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(param_error(key, v, "must be a finite number"))
    }
}

/// `v` must be finite and > 0.
pub fn positive(key: &str, v: f64) -> Result<f64> {
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(param_error(key, v, "must be a positive number"))
    }
}

/// `v` must be finite and ≥ 0.
pub fn non_negative(key: &str, v: f64) -> Result<f64> {
    if v.is_finite() && v >= 0.0 {
        Ok(v)
    } else {
        Err(param_error(key, v, "must be zero or positive"))
    }
}

/// `v` must lie in `[lo, hi]`.
pub fn in_range(key: &str, v: f64, lo: f64, hi: f64) -> Result<f64> {
    if v.is_finite() && v >= lo && v <= hi {
        Ok(v)
    } else {
        Err(param_error(
            key,
            v,
            &format!("must be between {lo} and {hi}"),
        ))
    }
}

/// An integer count that must lie in `[lo, hi]`.
pub fn count_in_range(key: &str, n: i64, lo: i64, hi: i64) -> Result<usize> {
    if n >= lo && n <= hi {
        Ok(n as usize)
    } else {
        Err(param_error(
            key,
            n,
            &format!("must be between {lo} and {hi}"),
        ))
    }
}

/// A matrix size: ≥ 1, ≤ 4096 and, when `even`, even (k-space centre at index n/2).
pub fn matrix_size(key: &str, n: i64, even: bool) -> Result<usize> {
    let n = count_in_range(key, n, 1, 4096)?;
    if even && n % 2 != 0 {
        return Err(param_error(
            key,
            n,
            "must be even (the k-space centre is line n/2)",
        ));
    }
    Ok(n)
}

/// A fixed-length list parameter (`fov_mm = [x, y]`): exactly `len` entries.
pub fn list_len<T: Clone>(key: &str, v: &[T], len: usize) -> Result<Vec<T>> {
    if v.len() == len {
        Ok(v.to_vec())
    } else {
        Err(SeqError::build(format!(
            "{key}: expected {len} values, got {}",
            v.len()
        )))
    }
}

/// A non-empty list of positive numbers, each checked with [`positive`].
pub fn positive_list(key: &str, v: &[f64]) -> Result<Vec<f64>> {
    if v.is_empty() {
        return Err(SeqError::build(format!(
            "{key}: the list must not be empty"
        )));
    }
    for x in v {
        positive(key, *x)?;
    }
    Ok(v.to_vec())
}

// ---------------------------------------------------------------------------------------------
// Times
// ---------------------------------------------------------------------------------------------

/// Milliseconds → the nearest multiple of `raster`; errors if negative, not finite or too large.
pub fn ms_on_raster(key: &str, ms: f64, raster: Nanos) -> Result<Nanos> {
    if !ms.is_finite() || ms < 0.0 {
        return Err(param_error(
            key,
            ms,
            "must be zero or a positive time in ms",
        ));
    }
    if ms > 1e7 {
        return Err(param_error(key, ms, "is too long (more than 10 000 s)"));
    }
    let r = raster.0.max(1) as f64;
    Ok(Nanos(((ms * 1e6 / r).round() * r) as i64))
}

/// A time in ms for messages (`3.120`).
pub fn fmt_ms(t: Nanos) -> String {
    format!("{:.3}", t.0 as f64 * 1e-6)
}

/// Nanoseconds → milliseconds (sidecar values).
pub fn to_ms(t: Nanos) -> f64 {
    t.0 as f64 * 1e-6
}

/// The error for a requested time below its minimum: names the key, the requested and the
/// minimum value (ms, rounded up so that the suggested value works) and what limits it.
pub fn min_time_error(
    key: &str,
    what: &str,
    requested: f64,
    min: Nanos,
    limited_by: &str,
) -> SeqError {
    let min_ms = (min.0 as f64 * 1e-3).ceil() * 1e-3;
    SeqError::build(format!(
        "{key} = {requested}: {what} {requested} ms is below the minimum {min_ms:.3} ms for {limited_by}; set {key} ≥ {min_ms:.3}"
    ))
}

/// [`min_time_error`] for the echo time.
pub fn min_te_error(requested_ms: f64, min: Nanos, limited_by: &str) -> SeqError {
    min_time_error("te_ms", "TE", requested_ms, min, limited_by)
}

/// [`min_time_error`] for the repetition time.
pub fn min_tr_error(requested_ms: f64, min: Nanos, limited_by: &str) -> SeqError {
    min_time_error("tr_ms", "TR", requested_ms, min, limited_by)
}

/// The fill delay that makes a requested time: `requested − minimum`, or the actionable error
/// when the request is below the minimum.
pub fn fill(
    key: &str,
    what: &str,
    requested_ms: f64,
    requested: Nanos,
    min: Nanos,
    limited_by: &str,
) -> Result<Nanos> {
    if requested < min {
        Err(min_time_error(key, what, requested_ms, min, limited_by))
    } else {
        Ok(requested - min)
    }
}

/// `t` rounded up to the block raster.
pub fn ceil_block(t: Nanos, system: &System) -> Nanos {
    ceil_to(t, system.rasters.block)
}

/// `t` rounded up to the gradient raster.
pub fn ceil_grad(t: Nanos, system: &System) -> Nanos {
    ceil_to(t, system.rasters.grad)
}

// ---------------------------------------------------------------------------------------------
// Slices
// ---------------------------------------------------------------------------------------------

/// Slice centre positions in m, centred on 0: `(i − (n−1)/2)·(thickness + gap)`.
pub fn slice_positions(n_slices: usize, thickness_m: f64, gap_m: f64) -> Vec<f64> {
    let c = (n_slices as f64 - 1.0) / 2.0;
    (0..n_slices)
        .map(|i| (i as f64 - c) * (thickness_m + gap_m))
        .collect()
}

/// Interleaved acquisition order (even indices, then odd) — avoids cross-talk of adjacent slices.
pub fn interleaved_order(n: usize) -> Vec<usize> {
    (0..n).step_by(2).chain((1..n).step_by(2)).collect()
}

/// RF frequency offset (Hz) that moves a slice-selective pulse to `position` (m):
/// `gz.amplitude · position`.
pub fn slice_freq_offset(gz_amplitude: f64, position_m: f64) -> f64 {
    gz_amplitude * position_m
}

/// Phase offset (rad) that cancels the phase a frequency offset accumulates up to the RF centre
/// (pypulseq's `−2π·f·t_centre`), so that the slice's magnetisation has the nominal phase.
pub fn slice_phase_offset(freq_offset: f64, rf_center: Nanos) -> f64 {
    wrap_phase(-2.0 * std::f64::consts::PI * freq_offset * rf_center.as_secs_f64())
}

/// A phase wrapped into `[0, 2π)`.
pub fn wrap_phase(p: f64) -> f64 {
    p.rem_euclid(2.0 * std::f64::consts::PI)
}

// ---------------------------------------------------------------------------------------------
// Gradients
// ---------------------------------------------------------------------------------------------

/// The time the system needs to ramp `amplitude` (Hz/m) up or down, on the gradient raster,
/// at least one raster (pypulseq's `ceil(|a|/slew/Δg)·Δg`).
pub fn ramp_time(amplitude: f64, system: &System) -> Nanos {
    let g = system.rasters.grad;
    let t = match system.rise_time {
        Some(r) => r,
        None => crate::system::ceil_secs_to(amplitude.abs() / system.max_slew, g),
    };
    ceil_to(t, g).max(g)
}

/// The shortest trapezoid of `area` (1/m) within the system limits (pypulseq's
/// `make_trapezoid(area=...)`: a triangle when the peak fits, else a plateau at max_grad).
pub fn shortest_trapezoid(channel: Channel, area: f64, system: &System) -> Trapezoid {
    let g = system.rasters.grad;
    let mut rise = crate::system::ceil_secs_to((area.abs() / system.max_slew).sqrt(), g).max(g);
    if let Some(r) = system.rise_time {
        rise = ceil_to(r, g).max(g);
    }
    let mut flat = Nanos::ZERO;
    let mut amp = if rise.0 > 0 {
        area / rise.as_secs_f64()
    } else {
        0.0
    };
    if amp.abs() > system.max_grad {
        rise = ramp_time(system.max_grad, system);
        let flat_s = area.abs() / system.max_grad - rise.as_secs_f64();
        flat = crate::system::ceil_secs_to(flat_s.max(0.0), g);
        amp = area / (rise + flat).as_secs_f64();
    }
    Trapezoid {
        channel,
        amplitude: amp,
        rise_time: rise,
        flat_time: flat,
        fall_time: rise,
        delay: Nanos::ZERO,
    }
}

/// A trapezoid of `area` lasting exactly `duration` (on the gradient raster): the shortest ramps
/// that keep amplitude and slew within the limits; `None` if the area does not fit.
pub fn trapezoid_in(
    channel: Channel,
    area: f64,
    duration: Nanos,
    system: &System,
) -> Option<Trapezoid> {
    let g = system.rasters.grad;
    if duration.0 % g.0 != 0 || duration.0 < 2 * g.0 {
        return None;
    }
    let mut rise = g;
    if area == 0.0 {
        return Some(Trapezoid {
            channel,
            amplitude: 0.0,
            rise_time: g,
            flat_time: duration - g * 2,
            fall_time: g,
            delay: Nanos::ZERO,
        });
    }
    if let Some(r) = system.rise_time {
        rise = ceil_to(r, g).max(g);
    }
    while rise.0 * 2 <= duration.0 {
        let amp = area / (duration - rise).as_secs_f64();
        let slew_ok = system.rise_time.is_some()
            || amp.abs() / rise.as_secs_f64() <= system.max_slew * (1.0 + 1e-9);
        if amp.abs() <= system.max_grad * (1.0 + 1e-9) && slew_ok {
            return Some(Trapezoid {
                channel,
                amplitude: amp,
                rise_time: rise,
                flat_time: duration - rise * 2,
                fall_time: rise,
                delay: Nanos::ZERO,
            });
        }
        if system.rise_time.is_some() {
            return None;
        }
        rise = rise + g;
    }
    None
}

/// The shortest common duration in which every area of `areas` fits as a trapezoid.
pub fn common_duration(areas: &[f64], system: &System) -> Nanos {
    let g = system.rasters.grad;
    let mut d = areas
        .iter()
        .map(|&a| shortest_trapezoid(Channel::X, a, system).shape_duration())
        .max()
        .unwrap_or(g * 2)
        .max(g * 2);
    // Same-duration trapezoids use equal ramps; a longer duration always fits.
    while !areas
        .iter()
        .all(|&a| trapezoid_in(Channel::X, a, d, system).is_some())
    {
        d = d + g;
    }
    d
}

/// Trapezoids of the given `(channel, area)` pairs all lasting the common shortest duration.
pub fn trapezoids_together(parts: &[(Channel, f64)], system: &System) -> (Vec<Trapezoid>, Nanos) {
    let areas: Vec<f64> = parts.iter().map(|p| p.1).collect();
    let d = common_duration(&areas, system);
    let traps = parts
        .iter()
        .map(|&(c, a)| trapezoid_in(c, a, d, system).expect("common_duration fits every area"))
        .collect();
    (traps, d)
}

/// The area of a spoiler that dephases `cycles` full turns across `voxel_m`: `cycles/voxel`.
pub fn spoiler_area(cycles: f64, voxel_m: f64) -> f64 {
    cycles / voxel_m
}

/// Checks a gradient amplitude against the system maximum, with what to change.
pub fn check_amplitude(what: &str, amplitude: f64, system: &System, advice: &str) -> Result<()> {
    if amplitude.abs() > system.max_grad * (1.0 + 1e-9) {
        return Err(SeqError::build(format!(
            "{what} needs {:.2} mT/m, above the system maximum {:.2} mT/m; {advice}",
            units::hz_per_m_to_mt_per_m(amplitude.abs()),
            units::hz_per_m_to_mt_per_m(system.max_grad)
        )));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Readout
// ---------------------------------------------------------------------------------------------

/// What a Cartesian readout must achieve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReadoutSpec {
    /// Reconstructed matrix along the readout (`matrix[0]`).
    pub n: usize,
    /// Readout oversampling factor (samples = n·oversampling).
    pub oversampling: usize,
    /// Field of view along the readout in m.
    pub fov_m: f64,
    /// Bandwidth per pixel in Hz (= 1/(n·os·dwell)·os = 1/(n·dwell_recon)).
    pub bandwidth_hz_per_pixel: f64,
}

/// A Cartesian readout: the flat-top trapezoid, the centred ADC and the prephaser area that
/// puts sample `n_samples/2` at kx = 0.
#[derive(Debug, Clone, PartialEq)]
pub struct Readout {
    /// Readout gradient (on x, delay 0).
    pub gx: Trapezoid,
    /// ADC (delay from the gradient start, centred on the flat top).
    pub adc: Adc,
    /// Dwell time (ADC raster).
    pub dwell: Nanos,
    /// Samples per readout (n·oversampling).
    pub n_samples: usize,
    /// Area the prephaser must have (negative for a positive readout): −∫gx up to sample n/2.
    pub prephaser_area: f64,
    /// Time from the gradient start to the k = 0 sample (sample `n_samples/2`).
    pub t_center: Nanos,
    /// k-space step of the samples, 1/m.
    pub delta_k: f64,
    /// The bandwidth per pixel achieved with the rastered dwell.
    pub bandwidth_hz_per_pixel: f64,
}

impl Readout {
    /// Time from the k = 0 sample to the gradient end.
    pub fn t_after_center(&self) -> Nanos {
        self.gx.shape_duration() - self.t_center
    }
}

/// Builds the readout: dwell = 1/(BW·n·os) on the ADC raster (nearest), flat time = samples·dwell
/// rounded up to the gradient raster, amplitude = Δk/dwell, ADC centred on the flat top (on the
/// ADC raster), prephaser area = −area up to the k = 0 sample. Errors name the key.
pub fn readout(spec: &ReadoutSpec, system: &System) -> Result<Readout> {
    positive("bandwidth_hz_per_pixel", spec.bandwidth_hz_per_pixel)?;
    positive("fov_mm", spec.fov_m)?;
    let os = spec.oversampling.max(1);
    let ns = spec.n * os;
    let div = system.adc_samples_divisor.max(1) as usize;
    if ns % div != 0 {
        return Err(SeqError::build(format!(
            "matrix = {}: the readout has {ns} samples (matrix × oversampling {os}); the system needs a multiple of {div}",
            spec.n
        )));
    }
    if system.adc_samples_limit > 0 && ns as u64 > system.adc_samples_limit {
        return Err(SeqError::build(format!(
            "matrix = {}: {ns} readout samples exceed the system's ADC limit {}",
            spec.n, system.adc_samples_limit
        )));
    }
    let ar = system.rasters.adc.0.max(1);
    let dwell_s = 1.0 / (spec.bandwidth_hz_per_pixel * ns as f64);
    let dwell = Nanos(((dwell_s * 1e9 / ar as f64).round() as i64).max(1) * ar);
    let achieved_bw = 1.0 / (dwell.as_secs_f64() * ns as f64);
    if (achieved_bw - spec.bandwidth_hz_per_pixel).abs() > 0.05 * spec.bandwidth_hz_per_pixel {
        return Err(param_error(
            "bandwidth_hz_per_pixel",
            spec.bandwidth_hz_per_pixel,
            &format!(
                "the dwell time on the {} ns ADC raster gives {achieved_bw:.1} Hz/pixel; choose a lower bandwidth",
                ar
            ),
        ));
    }
    let window = dwell * ns as i64;
    let flat = ceil_to(window, system.rasters.grad);
    let delta_k = 1.0 / (spec.fov_m * os as f64);
    let amp = delta_k / dwell.as_secs_f64();
    check_amplitude(
        &format!(
            "the readout (FOV {:.1} mm, {:.1} Hz/pixel)",
            spec.fov_m * 1e3,
            spec.bandwidth_hz_per_pixel
        ),
        amp,
        system,
        "lower bandwidth_hz_per_pixel or enlarge fov_mm",
    )?;
    let rise = ramp_time(amp, system);
    let gx = Trapezoid {
        channel: Channel::X,
        amplitude: amp,
        rise_time: rise,
        flat_time: flat,
        fall_time: rise,
        delay: Nanos::ZERO,
    };
    // The ADC delay must lie on the ADC raster and (pypulseq's check_timing) on the RF raster.
    let dr = lcm(ar, system.rasters.rf.0.max(1));
    let pad = Nanos((flat - window).0 / 2 / dr * dr);
    let adc_delay = rise + pad;
    let adc = Adc {
        num_samples: ns as u64,
        dwell,
        delay: adc_delay,
        freq_offset: 0.0,
        phase_offset: 0.0,
        freq_ppm: 0.0,
        phase_ppm: 0.0,
        dead_time: system.adc_dead_time,
        phase_modulation: Vec::new(),
    };
    // Sample i sits at delay + (i + 0.5)·dwell.
    let t_center_f = adc_delay.as_secs_f64() + (ns as f64 / 2.0 + 0.5) * dwell.as_secs_f64();
    let t_center = Nanos::from_secs_f64(t_center_f);
    let area_to_center = amp * (rise.as_secs_f64() / 2.0 + (t_center_f - rise.as_secs_f64()));
    Ok(Readout {
        gx,
        adc,
        dwell,
        n_samples: ns,
        prephaser_area: -area_to_center,
        t_center,
        delta_k,
        bandwidth_hz_per_pixel: achieved_bw,
    })
}

fn lcm(a: i64, b: i64) -> i64 {
    let (mut x, mut y) = (a, b);
    while y != 0 {
        (x, y) = (y, x % y);
    }
    a / x * b
}

// ---------------------------------------------------------------------------------------------
// Phase encoding
// ---------------------------------------------------------------------------------------------

/// The order in which phase-encode lines are acquired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeOrder {
    /// 0, 1, …, n−1 (k from −kmax to +kmax).
    Linear,
    /// n/2, n/2−1, n/2+1, n/2−2, … (centre first).
    Centric,
}

/// Phase-encode area (1/m) of line `index` of `n` over `fov_m`: `(index − n/2)/fov`.
pub fn pe_area(index: usize, n: usize, fov_m: f64) -> f64 {
    (index as f64 - (n / 2) as f64) / fov_m
}

/// The acquisition order of `n` lines (indices into k-space, 0 = −kmax).
pub fn pe_order(n: usize, order: PeOrder) -> Vec<usize> {
    match order {
        PeOrder::Linear => (0..n).collect(),
        PeOrder::Centric => {
            let c = (n / 2) as i64;
            let mut v = Vec::with_capacity(n);
            v.push(c);
            for d in 1..=n as i64 {
                for x in [c - d, c + d] {
                    if x >= 0 && x < n as i64 {
                        v.push(x);
                    }
                }
            }
            v.into_iter().map(|x| x as usize).collect()
        }
    }
}

/// The phase-encode areas of all `n` lines (index order).
pub fn pe_table(n: usize, fov_m: f64) -> Vec<f64> {
    (0..n).map(|i| pe_area(i, n, fov_m)).collect()
}

// ---------------------------------------------------------------------------------------------
// RF spoiling
// ---------------------------------------------------------------------------------------------

/// RF-spoiling phases (rad) for `n` excitations with a quadratic increment of `increment_deg`
/// (pypulseq `write_gre`: phase_k = phase_{k−1} + k·inc, all mod 360°; the first is 0).
pub fn rf_spoil_phases(n: usize, increment_deg: f64) -> Vec<f64> {
    let mut spoiler = RfSpoiler::new(increment_deg);
    (0..n).map(|_| spoiler.next_phase()).collect()
}

/// An RF-spoiling phase generator (the same series as [`rf_spoil_phases`], one at a time).
#[derive(Debug, Clone, Copy)]
pub struct RfSpoiler {
    increment_deg: f64,
    phase: f64,
    inc: f64,
}

impl RfSpoiler {
    /// A generator with the quadratic increment `increment_deg` (0 disables spoiling).
    pub fn new(increment_deg: f64) -> Self {
        RfSpoiler {
            increment_deg,
            phase: 0.0,
            inc: 0.0,
        }
    }

    /// The phase (rad) for the next excitation.
    pub fn next_phase(&mut self) -> f64 {
        let p = self.phase.to_radians();
        self.inc = (self.inc + self.increment_deg).rem_euclid(360.0);
        self.phase = (self.phase + self.inc).rem_euclid(360.0);
        p
    }
}

// ---------------------------------------------------------------------------------------------
// Labels
// ---------------------------------------------------------------------------------------------

/// A `LABELSET` event.
pub fn label_set(name: &'static str, value: i64) -> Event {
    Event::Label(LabelEvent {
        op: LabelOp::Set,
        label: name,
        value,
    })
}

/// A `LABELINC` event.
pub fn label_inc(name: &'static str, value: i64) -> Event {
    Event::Label(LabelEvent {
        op: LabelOp::Inc,
        label: name,
        value,
    })
}

/// The ISMRMRD field a Pulseq label fills (counters; flags map to acquisition flags).
pub fn ismrmrd_field(label: &str) -> Option<&'static str> {
    Some(match label {
        "LIN" => "kspace_encode_step_1",
        "PAR" => "kspace_encode_step_2",
        "SLC" => "slice",
        "ECO" => "contrast",
        "SET" => "set",
        "REP" => "repetition",
        "AVG" => "average",
        "PHS" => "phase",
        "SEG" => "segment",
        "NAV" => "flag ACQ_IS_NAVIGATION_DATA",
        "REV" => "flag ACQ_IS_REVERSE",
        "REF" => "flag ACQ_IS_PARALLEL_CALIBRATION",
        "IMA" => "flag ACQ_IS_PARALLEL_CALIBRATION_AND_IMAGING",
        "NOISE" => "flag ACQ_IS_NOISE_MEASUREMENT",
        "PMC" => "flag ACQ_IS_RTFEEDBACK_DATA",
        _ => return None,
    })
}

/// The label values in effect at each ADC block of `seq`, in block order (labels start at 0; SET
/// and INC apply in the block's extension order before its ADC, as in pypulseq's
/// `evaluate_labels`). Only labels set somewhere before an ADC appear.
pub fn labels_at_adcs(seq: &Sequence) -> Vec<BTreeMap<String, i64>> {
    let mut out = Vec::new();
    walk_labels_at_adcs(seq, |labels| out.push(labels.clone()));
    out
}

/// Calls `f` with the label state at every ADC block, in order (no per-ADC copies).
fn walk_labels_at_adcs(seq: &Sequence, mut f: impl FnMut(&BTreeMap<String, i64>)) {
    let lib = Libraries::new(seq);
    let mut current: BTreeMap<String, i64> = BTreeMap::new();
    for b in &seq.blocks {
        for node in lib.extension_nodes(b.ext) {
            match lib.extension_name(node.type_id) {
                Some("LABELSET") => {
                    if let Some(l) = seq.labelset.get(&node.ref_id) {
                        match current.get_mut(&l.label) {
                            Some(v) => *v = l.value,
                            None => {
                                current.insert(l.label.clone(), l.value);
                            }
                        }
                    }
                }
                Some("LABELINC") => {
                    if let Some(l) = seq.labelinc.get(&node.ref_id) {
                        match current.get_mut(&l.label) {
                            Some(v) => *v += l.value,
                            None => {
                                current.insert(l.label.clone(), l.value);
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        if b.adc != 0 {
            f(&current);
        }
    }
}

/// The value range of every label over the ADC blocks of `seq` (see [`labels_at_adcs`]).
pub fn label_ranges_at_adcs(seq: &Sequence) -> BTreeMap<String, LabelRange> {
    let mut used: BTreeMap<String, LabelRange> = BTreeMap::new();
    walk_labels_at_adcs(seq, |labels| {
        for (k, &v) in labels {
            match used.get_mut(k) {
                Some(r) => {
                    r.min = r.min.min(v);
                    r.max = r.max.max(v);
                }
                None => {
                    used.insert(k.clone(), LabelRange { min: v, max: v });
                }
            }
        }
    });
    used
}

// ---------------------------------------------------------------------------------------------
// Finishing
// ---------------------------------------------------------------------------------------------

/// Runs pypulseq's `check_timing` on a built sequence; an error here is a seqgen bug, not a
/// parameter problem, and says so.
pub fn check_built(seq: &Sequence, system: &System) -> Result<()> {
    let rep = check_timing(seq, &system.timing_limits());
    if rep.ok && rep.errors.is_empty() {
        return Ok(());
    }
    let first = rep
        .errors
        .first()
        .map(|e| {
            format!(
                "block {} {} {}: {:?}",
                e.block_id, e.event, e.field, e.error_type
            )
        })
        .unwrap_or_default();
    Err(SeqError::build(format!(
        "internal error (a seqgen bug, please report it): the built sequence fails check_timing with {} error(s), first: {first}",
        rep.errors.len()
    )))
}

/// Completes a sidecar from the built sequence: readout count, label ranges and their ISMRMRD
/// fields, total duration and block count.
pub fn complete_sidecar(sidecar: &mut Sidecar, seq: &Sequence) {
    sidecar.n_readouts = seq.blocks.iter().filter(|b| b.adc != 0).count() as u64;
    sidecar.label_ranges = label_ranges_at_adcs(seq);
    sidecar.label_to_ismrmrd = sidecar
        .label_ranges
        .keys()
        .filter_map(|k| ismrmrd_field(k).map(|f| (k.clone(), f.to_string())))
        .collect();
    sidecar.total_duration_s = seq.total_duration().as_secs_f64();
    sidecar.n_blocks = seq.blocks.len();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn centric_and_linear_orders_are_permutations() {
        for n in [1usize, 2, 7, 64, 65] {
            let mut c = pe_order(n, PeOrder::Centric);
            assert_eq!(c[0], n / 2);
            c.sort();
            assert_eq!(c, (0..n).collect::<Vec<_>>());
        }
        assert_eq!(pe_order(4, PeOrder::Centric), vec![2, 1, 3, 0]);
        assert!((pe_area(0, 4, 0.2) + 10.0).abs() < 1e-12);
        assert_eq!(pe_area(2, 4, 0.2), 0.0);
    }

    #[test]
    fn rf_spoiling_series_like_write_gre() {
        let p = rf_spoil_phases(4, 117.0);
        let deg: Vec<f64> = p.iter().map(|x| x.to_degrees()).collect();
        // 0, 117, 117+234=351, 351+351=702 mod 360 = 342
        for (a, b) in deg.iter().zip([0.0, 117.0, 351.0, 342.0]) {
            assert!((a - b).abs() < 1e-9, "{deg:?}");
        }
        let mut g = RfSpoiler::new(117.0);
        for x in &p {
            assert!((g.next_phase() - x).abs() < 1e-12);
        }
    }

    #[test]
    fn readout_centres_sample_half_at_k0() {
        let sys = System::default();
        let r = readout(
            &ReadoutSpec {
                n: 256,
                oversampling: 1,
                fov_m: 0.256,
                bandwidth_hz_per_pixel: 260.0,
            },
            &sys,
        )
        .unwrap();
        assert_eq!(r.n_samples, 256);
        assert_eq!(r.dwell.0 % 100, 0);
        assert_eq!(r.gx.flat_time.0 % 10_000, 0);
        assert!(r.adc.delay >= r.gx.rise_time);
        assert!(r.adc.delay + r.adc.window() <= r.gx.rise_time + r.gx.flat_time);
        // k at sample n/2: prephaser + readout area up to its time = 0
        let t = r.t_center.as_secs_f64() - r.gx.rise_time.as_secs_f64();
        let k = r.prephaser_area + r.gx.amplitude * (r.gx.rise_time.as_secs_f64() / 2.0 + t);
        assert!(k.abs() < 1e-6 * r.delta_k, "{k}");
        // the readout spans n·Δk over n samples
        assert!((r.gx.amplitude * r.dwell.as_secs_f64() - r.delta_k).abs() < 1e-9);
        let e = readout(
            &ReadoutSpec {
                n: 256,
                oversampling: 1,
                fov_m: 0.05,
                bandwidth_hz_per_pixel: 2000.0,
            },
            &sys,
        )
        .unwrap_err();
        assert!(e.to_string().contains("above the system maximum"), "{e}");
    }

    #[test]
    fn trapezoids_fit_their_areas() {
        let sys = System::default();
        for a in [1.0, -250.0, 5000.0, 40_000.0] {
            let t = shortest_trapezoid(Channel::Y, a, &sys);
            assert!((t.area() - a).abs() < 1e-9 * a.abs().max(1.0));
            assert!(t.amplitude.abs() <= sys.max_grad * (1.0 + 1e-9));
            assert!(t.amplitude.abs() / t.rise_time.as_secs_f64() <= sys.max_slew * (1.0 + 1e-9));
        }
        let (tr, d) = trapezoids_together(&[(Channel::X, -3000.0), (Channel::Y, 500.0)], &sys);
        for (t, a) in tr.iter().zip([-3000.0, 500.0]) {
            assert_eq!(t.shape_duration(), d);
            assert!((t.area() - a).abs() < 1e-6);
        }
    }

    #[test]
    fn min_te_message_is_actionable() {
        let e = min_te_error(2.0, Nanos(3_104_000), "this FOV and bandwidth").to_string();
        assert!(
            e.contains("te_ms = 2") && e.contains("minimum 3.104 ms"),
            "{e}"
        );
    }
}
