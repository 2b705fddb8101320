//! The sequence test report (pypulseq's `test_report`): duration, event counts, flip angles,
//! TE/TR estimates from k-space, gradient and slew maxima, RF energy per block — and the
//! gradient hardware check against a [`System`].
//!
//! TE: the ADC readouts whose smallest |k| equals the sequence-wide smallest |k| (within 0.1 %
//! of the largest |k|) are the k-space-centre readouts; TE is the time of that sample minus the
//! preceding excitation (one value per echo of a multi-echo train). TR: the intervals between
//! successive excitations. Unique values are reported at 1 µs resolution.

use std::collections::BTreeSet;

use num_complex::Complex64;
use serde::Serialize;

use crate::build::sample_hold_weights;
use crate::events::RfEvent;
use crate::kspace::kspace_from_waveforms;
use crate::sequence::Sequence;
use crate::system::{System, units};
use crate::waveforms::{Waveform, gradient_waveforms};

/// The report of [`test_report`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeqReport {
    /// Number of blocks.
    pub n_blocks: usize,
    /// Total duration in s.
    pub duration_s: f64,
    /// Blocks with RF, gradients on x/y/z, ADC.
    pub n_rf: usize,
    /// Blocks with an x gradient.
    pub n_gx: usize,
    /// Blocks with a y gradient.
    pub n_gy: usize,
    /// Blocks with a z gradient.
    pub n_gz: usize,
    /// Blocks with an ADC.
    pub n_adc: usize,
    /// Distinct flip angles in degrees (0.01° resolution).
    pub flip_angles_deg: Vec<f64>,
    /// Distinct echo times in ms (1 µs resolution).
    pub te_ms: Vec<f64>,
    /// Distinct repetition times (excitation to excitation) in ms (1 µs resolution).
    pub tr_ms: Vec<f64>,
    /// Largest |G| per axis in mT/m (¹H γ of the system).
    pub max_grad_mt_per_m: [f64; 3],
    /// Largest |G| vector norm in mT/m.
    pub max_grad_norm_mt_per_m: f64,
    /// Largest slew rate per axis in T/m/s.
    pub max_slew_t_per_m_per_s: [f64; 3],
    /// Largest |k| per axis in 1/m.
    pub k_max: [f64; 3],
    /// RF energy ∫|B1|² dt of each block in Hz²·s (0 for blocks without RF).
    pub rf_energy_per_block: Vec<f64>,
    /// Total RF energy in Hz²·s.
    pub rf_energy_total: f64,
}

/// One gradient hardware violation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HardwareViolation {
    /// 1-based block number where it happens.
    pub block: usize,
    /// Axis `x`, `y` or `z`.
    pub axis: &'static str,
    /// `amplitude` or `slew`.
    pub kind: &'static str,
    /// The value (Hz/m or Hz/m/s).
    pub value: f64,
    /// The limit (Hz/m or Hz/m/s).
    pub limit: f64,
}

impl std::fmt::Display for HardwareViolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (v, l, unit) = if self.kind == "amplitude" {
            let mt = units::hz_per_m_to_mt_per_m;
            (mt(self.value), mt(self.limit), "mT/m")
        } else {
            let tms = units::hz_per_m_per_s_to_t_per_m_per_s;
            (tms(self.value), tms(self.limit), "T/m/s")
        };
        write!(
            f,
            "block {}: {} gradient {} {v:.3} {unit} exceeds the limit {l:.3} {unit}",
            self.block, self.axis, self.kind
        )
    }
}

/// Sample times (s, from the pulse start after its delay) and complex samples (Hz) of an RF
/// event as stored (magnitude × amplitude, phase in cycles, default raster centres or the
/// time shape).
pub fn rf_samples(seq: &Sequence, rf: &RfEvent) -> (Vec<f64>, Vec<Complex64>) {
    let mag = seq
        .shapes
        .get(&rf.mag_id)
        .map_or(&[][..], |s| &s.samples[..]);
    let phase = seq.shapes.get(&rf.phase_id).map(|s| &s.samples[..]);
    let t: Vec<f64> = seq
        .rf_sample_times_ns(rf)
        .iter()
        .map(|x| x * 1e-9)
        .collect();
    let s = mag
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let p = phase.and_then(|p| p.get(i)).copied().unwrap_or(0.0);
            Complex64::from_polar(rf.amp * m, 2.0 * std::f64::consts::PI * p)
        })
        .collect();
    (t, s)
}

/// Integration weights of an RF event's samples ([`sample_hold_weights`] over its shape).
fn sample_weights(seq: &Sequence, rf: &RfEvent, t: &[f64]) -> Vec<f64> {
    sample_hold_weights(t, (seq.rf_duration(rf) - rf.delay).as_secs_f64())
}

/// RF energy ∫|B1(t)|² dt of one RF event in Hz²·s (SAR is proportional to it; multiply by
/// (2π/γ)² for T²·s), with the same sample weights as the builders' [`crate::build::rf_energy`].
pub fn rf_event_energy(seq: &Sequence, rf: &RfEvent) -> f64 {
    let (t, s) = rf_samples(seq, rf);
    let w = sample_weights(seq, rf, &t);
    s.iter().zip(&w).map(|(x, w)| x.norm_sqr() * w).sum()
}

/// Flip angle of one RF event in degrees: 360°·|∫B1 dt|.
pub fn rf_event_flip_deg(seq: &Sequence, rf: &RfEvent) -> f64 {
    let (t, s) = rf_samples(seq, rf);
    let w = sample_weights(seq, rf, &t);
    let integral: Complex64 = s.iter().zip(&w).map(|(x, w)| x * w).sum();
    360.0 * integral.norm()
}

/// RF energy of every block (0 without RF), Hz²·s.
pub fn rf_energy_per_block(seq: &Sequence) -> Vec<f64> {
    let mut cache = std::collections::HashMap::new();
    seq.blocks
        .iter()
        .map(|b| match seq.rf.get(&b.rf) {
            Some(rf) => *cache
                .entry(b.rf)
                .or_insert_with(|| rf_event_energy(seq, rf)),
            None => 0.0,
        })
        .collect()
}

fn max_slew(w: &Waveform) -> (f64, usize) {
    let mut best = (0.0, 0);
    for i in 1..w.t.len() {
        let dt = (w.t[i] - w.t[i - 1]) * 1e-9;
        if dt > 0.0 {
            let s = ((w.g[i] - w.g[i - 1]) / dt).abs();
            if s > best.0 {
                best = (s, i);
            }
        }
    }
    best
}

fn unique_rounded(values: impl Iterator<Item = f64>, step: f64) -> Vec<f64> {
    let set: BTreeSet<i64> = values.map(|v| (v / step).round() as i64).collect();
    set.into_iter().map(|k| k as f64 * step).collect()
}

/// Builds the test report of `seq` (γ from `system`).
pub fn test_report(seq: &Sequence, system: &System) -> SeqReport {
    let waves = gradient_waveforms(seq);
    let ks = kspace_from_waveforms(seq, &waves);
    let hz_to_mt = 1e3 / system.gamma;
    let count = |f: &dyn Fn(&crate::sequence::Block) -> u32| {
        seq.blocks.iter().filter(|b| f(b) != 0).count()
    };
    let mut flips = BTreeSet::new();
    for b in &seq.blocks {
        if let Some(rf) = seq.rf.get(&b.rf) {
            flips.insert((rf_event_flip_deg(seq, rf) * 100.0).round() as i64);
        }
    }
    // TE: k-space-centre readouts.
    let kabs: Vec<f64> = ks
        .k_adc
        .iter()
        .map(|k| (k[0] * k[0] + k[1] * k[1] + k[2] * k[2]).sqrt())
        .collect();
    let kmax = kabs.iter().fold(0.0f64, |m, x| m.max(*x));
    let kmin = kabs.iter().fold(f64::INFINITY, |m, x| m.min(*x));
    let mut te = Vec::new();
    let mut offset = 0usize;
    for b in &seq.blocks {
        let Some(a) = seq.adc.get(&b.adc) else {
            continue;
        };
        let n = a.num as usize;
        let range = offset..(offset + n).min(kabs.len());
        offset += n;
        if let Some((i, &k)) = kabs[range.clone()]
            .iter()
            .enumerate()
            .min_by(|x, y| x.1.total_cmp(y.1))
        {
            if k <= kmin + 1e-3 * kmax.max(1e-12) {
                let t = ks.t_adc[range.start + i];
                let p = ks.t_excitation.partition_point(|&e| e <= t);
                if p > 0 {
                    te.push((t - ks.t_excitation[p - 1]) * 1e3);
                }
            }
        }
    }
    let tr = ks.t_excitation.windows(2).map(|w| (w[1] - w[0]) * 1e3);
    // Gradient norm: convex on each linear piece, so its maximum is at a corner.
    let mut times: Vec<f64> = waves.iter().flat_map(|w| w.t.iter().copied()).collect();
    times.sort_by(f64::total_cmp);
    times.dedup();
    let max_norm = times
        .iter()
        .map(|&t| waves.iter().map(|w| w.eval(t).powi(2)).sum::<f64>().sqrt())
        .fold(0.0f64, f64::max);
    let energy = rf_energy_per_block(seq);
    SeqReport {
        n_blocks: seq.blocks.len(),
        duration_s: seq.total_duration().as_secs_f64(),
        n_rf: count(&|b| b.rf),
        n_gx: count(&|b| b.gx),
        n_gy: count(&|b| b.gy),
        n_gz: count(&|b| b.gz),
        n_adc: count(&|b| b.adc),
        flip_angles_deg: flips.into_iter().map(|k| k as f64 / 100.0).collect(),
        te_ms: unique_rounded(te.into_iter(), 1e-3),
        tr_ms: unique_rounded(tr, 1e-3),
        max_grad_mt_per_m: [0, 1, 2].map(|i| waves[i].max_abs() * hz_to_mt),
        max_grad_norm_mt_per_m: max_norm * hz_to_mt,
        max_slew_t_per_m_per_s: [0, 1, 2].map(|i| max_slew(&waves[i]).0 / system.gamma),
        k_max: ks.k_max_abs,
        rf_energy_total: energy.iter().sum(),
        rf_energy_per_block: energy,
    }
}

/// Gradient amplitude and slew-rate violations of `seq` against `system`, per axis (at most one
/// of each kind per axis: the worst), with the block where they occur.
pub fn check_hardware(seq: &Sequence, system: &System) -> Vec<HardwareViolation> {
    let waves = gradient_waveforms(seq);
    let starts: Vec<f64> = seq.block_starts().iter().map(|s| s.0 as f64).collect();
    let block_at = |t: f64| starts.partition_point(|&s| s <= t).max(1);
    let mut out = Vec::new();
    for (axis, w) in waves.iter().enumerate() {
        let name = ["x", "y", "z"][axis];
        if let Some((i, g)) =
            w.g.iter()
                .enumerate()
                .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
        {
            if g.abs() > system.max_grad * (1.0 + 1e-9) {
                out.push(HardwareViolation {
                    block: block_at(w.t[i]),
                    axis: name,
                    kind: "amplitude",
                    value: g.abs(),
                    limit: system.max_grad,
                });
            }
        }
        let (s, i) = max_slew(w);
        if s > system.max_slew * (1.0 + 1e-6) {
            out.push(HardwareViolation {
                block: block_at(w.t[i - 1]),
                axis: name,
                kind: "slew",
                value: s,
                limit: system.max_slew,
            });
        }
    }
    out
}
