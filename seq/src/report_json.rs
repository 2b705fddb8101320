//! The analysis part of `accord seq info --json`: timing check, k-space and gradient waveform
//! summaries with the reference corpus' key names (`check_timing`, `kspace`, `waveforms`; see
//! `tests/data/pulseq/README.md`). Values come from [`check_timing`], [`gradient_waveforms`]
//! and [`kspace_from_waveforms`]; this module only summarises them.
//!
//! Timing is checked against the default system limits ([`SystemLimits::default`]), as the
//! reference (pypulseq's `Opts()`) does, not against the file's own rasters.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::kspace::{KSpace, kspace_from_waveforms};
use crate::sequence::Sequence;
use crate::timing::{SystemLimits, TimingReport, TimingValue, check_timing};
use crate::waveforms::{Waveform, gradient_waveforms};

/// How many timing errors are listed (the reference lists the first 50).
pub const MAX_LISTED_ERRORS: usize = 50;
/// How many ADC samples `k_adc_first64` / `k_adc_last64` hold.
pub const K_EDGE_SAMPLES: usize = 64;
/// Up to how many event times a time summary lists in `all`.
pub const MAX_ALL_TIMES: usize = 256;
/// Up to how many times a time summary lists in `first` and `last`.
pub const MAX_FIRST_LAST: usize = 64;

/// One timing error as the corpus JSON lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimingErrorJson {
    /// Block id.
    pub block: u32,
    /// Event (`block`, `rf`, `gx`, `gy`, `gz`, `adc`, `soft_delay`).
    pub event: String,
    /// Field (`duration`, `delay`, `dwell`, ...).
    pub field: String,
    /// Error class (pypulseq's name, e.g. `RASTER`).
    pub error_type: String,
    /// The offending value: seconds for times and soft-delay defaults, a number for factors.
    pub value: f64,
}

/// `check_timing` of the corpus JSON.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimingJson {
    /// Whether no timing error was found.
    pub timing_ok: bool,
    /// Number of errors.
    pub n_errors: usize,
    /// Error counts keyed `event.field.ERROR_TYPE`.
    pub errors_by_type: BTreeMap<String, usize>,
    /// The first [`MAX_LISTED_ERRORS`] errors in pypulseq's order.
    pub errors: Vec<TimingErrorJson>,
}

impl TimingJson {
    /// Summarises a timing report.
    pub fn new(report: &TimingReport) -> Self {
        let errors = report
            .errors
            .iter()
            .take(MAX_LISTED_ERRORS)
            .map(|e| TimingErrorJson {
                block: e.block_id,
                event: e.event.to_string(),
                field: e.field.to_string(),
                error_type: e.error_type.as_str().to_string(),
                value: match e.value {
                    TimingValue::Time(t) => t.as_secs_f64(),
                    TimingValue::Factor(x) | TimingValue::Seconds(x) => x,
                },
            })
            .collect();
        TimingJson {
            timing_ok: report.ok,
            n_errors: report.errors.len(),
            errors_by_type: report.errors_by_type(),
            errors,
        }
    }
}

/// Summary of one series of event times (seconds), as the corpus JSON's `t_adc` etc.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimesJson {
    /// Number of times.
    pub count: usize,
    /// The first (up to 64) times.
    pub first: Vec<f64>,
    /// The last (up to 64) times.
    pub last: Vec<f64>,
    /// Sum of all times.
    pub sum: f64,
    /// Smallest time (`null` when there is none).
    pub min: Option<f64>,
    /// Largest time (`null` when there is none).
    pub max: Option<f64>,
    /// All times, when there are at most [`MAX_ALL_TIMES`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub all: Option<Vec<f64>>,
}

impl TimesJson {
    /// Summarises a series of times.
    pub fn new(t: &[f64]) -> Self {
        let m = t.len().min(MAX_FIRST_LAST);
        TimesJson {
            count: t.len(),
            first: t[..m].to_vec(),
            last: t[t.len() - m..].to_vec(),
            sum: t.iter().sum(),
            min: t.iter().copied().reduce(f64::min),
            max: t.iter().copied().reduce(f64::max),
            all: (t.len() <= MAX_ALL_TIMES).then(|| t.to_vec()),
        }
    }
}

/// Statistics of one k-space axis over all ADC samples.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AxisStats {
    /// Sum (1/m).
    pub sum: f64,
    /// Sum of absolute values (1/m).
    pub sum_abs: f64,
    /// Euclidean norm (1/m).
    pub l2: f64,
    /// Smallest value (`null` without ADC samples).
    pub min: Option<f64>,
    /// Largest value (`null` without ADC samples).
    pub max: Option<f64>,
}

impl AxisStats {
    fn new(v: impl Iterator<Item = f64> + Clone) -> Self {
        AxisStats {
            sum: v.clone().sum(),
            sum_abs: v.clone().map(f64::abs).sum(),
            l2: v.clone().map(|x| x * x).sum::<f64>().sqrt(),
            min: v.clone().reduce(f64::min),
            max: v.reduce(f64::max),
        }
    }
}

/// Per-axis values keyed `x`, `y`, `z`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PerAxis<T> {
    /// x axis.
    pub x: T,
    /// y axis.
    pub y: T,
    /// z axis.
    pub z: T,
}

impl<T> PerAxis<T> {
    fn from_fn(mut f: impl FnMut(usize) -> T) -> Self {
        PerAxis {
            x: f(0),
            y: f(1),
            z: f(2),
        }
    }
}

/// `kspace` of the corpus JSON (k in 1/m, times in s).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KSpaceJson {
    /// Number of ADC samples.
    pub n_adc_samples: usize,
    /// kx, ky, kz (3 rows) of the first (up to 64) ADC samples.
    pub k_adc_first64: [Vec<f64>; 3],
    /// kx, ky, kz (3 rows) of the last (up to 64) ADC samples.
    pub k_adc_last64: [Vec<f64>; 3],
    /// Statistics per axis over all ADC samples.
    pub per_axis: PerAxis<AxisStats>,
    /// Largest |k| per axis over the whole trajectory (not only at the ADC samples).
    pub k_max_abs: PerAxis<f64>,
    /// ADC sample times.
    pub t_adc: TimesJson,
    /// Excitation times (k reset to 0).
    pub t_excitation: TimesJson,
    /// Refocusing times (k negated).
    pub t_refocusing: TimesJson,
}

impl KSpaceJson {
    /// Summarises a k-space trajectory.
    pub fn new(ks: &KSpace) -> Self {
        let n = ks.k_adc.len();
        let m = n.min(K_EDGE_SAMPLES);
        let rows = |r: &[[f64; 3]]| [0, 1, 2].map(|a| r.iter().map(|k| k[a]).collect());
        KSpaceJson {
            n_adc_samples: n,
            k_adc_first64: rows(&ks.k_adc[..m]),
            k_adc_last64: rows(&ks.k_adc[n - m..]),
            per_axis: PerAxis::from_fn(|a| AxisStats::new(ks.k_adc.iter().map(move |k| k[a]))),
            k_max_abs: PerAxis::from_fn(|a| ks.k_max_abs[a]),
            t_adc: TimesJson::new(&ks.t_adc),
            t_excitation: TimesJson::new(&ks.t_excitation),
            t_refocusing: TimesJson::new(&ks.t_refocusing),
        }
    }
}

/// One axis of `waveforms.axes`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AxisWaveformJson {
    /// Number of corner points.
    pub n_points: usize,
    /// First corner time in s (`null` without gradient).
    pub t_first: Option<f64>,
    /// Last corner time in s (`null` without gradient).
    pub t_last: Option<f64>,
    /// Total gradient moment (1/m), without RF resets.
    pub integral: f64,
    /// Largest |gradient| (Hz/m).
    pub max_abs: f64,
}

impl AxisWaveformJson {
    /// Summarises one axis' waveform.
    pub fn new(w: &Waveform) -> Self {
        AxisWaveformJson {
            n_points: w.n_points(),
            t_first: w.t.first().map(|t| t * 1e-9),
            t_last: w.t.last().map(|t| t * 1e-9),
            integral: w.integral(),
            max_abs: w.max_abs(),
        }
    }
}

/// `waveforms` of the corpus JSON.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WaveformsJson {
    /// Per-axis summaries.
    pub axes: PerAxis<AxisWaveformJson>,
    /// Number of excitations.
    pub n_excitation: usize,
    /// Number of refocusing pulses.
    pub n_refocusing: usize,
    /// Number of ADC samples.
    pub n_adc_samples: usize,
}

/// Timing check, k-space and waveform summaries of a sequence (the analysis keys of
/// `accord seq info --json`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeqAnalysis {
    /// Timing check against the default system limits.
    pub check_timing: TimingJson,
    /// k-space summary.
    pub kspace: KSpaceJson,
    /// Gradient waveform summary.
    pub waveforms: WaveformsJson,
}

impl SeqAnalysis {
    /// Runs the timing check, the gradient waveforms and the k-space of `seq` and summarises them.
    pub fn new(seq: &Sequence) -> Self {
        let timing = check_timing(seq, &SystemLimits::default());
        let waves = gradient_waveforms(seq);
        let ks = kspace_from_waveforms(seq, &waves);
        let waveforms = WaveformsJson {
            axes: PerAxis::from_fn(|a| AxisWaveformJson::new(&waves[a])),
            n_excitation: ks.t_excitation.len(),
            n_refocusing: ks.t_refocusing.len(),
            n_adc_samples: ks.k_adc.len(),
        };
        SeqAnalysis {
            check_timing: TimingJson::new(&timing),
            kspace: KSpaceJson::new(&ks),
            waveforms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_summary_lists_all_only_for_short_series() {
        let t: Vec<f64> = (0..300).map(|i| i as f64).collect();
        let s = TimesJson::new(&t);
        assert_eq!((s.count, s.first.len(), s.last.len()), (300, 64, 64));
        assert_eq!((s.min, s.max, s.last[63]), (Some(0.0), Some(299.0), 299.0));
        assert!(s.all.is_none());
        let s = TimesJson::new(&t[..3]);
        assert_eq!(s.all, Some(vec![0.0, 1.0, 2.0]));
        let e = TimesJson::new(&[]);
        assert_eq!((e.count, e.min), (0, None));
    }

    #[test]
    fn axis_stats() {
        let s = AxisStats::new([3.0, -4.0].into_iter());
        assert_eq!((s.sum, s.sum_abs, s.l2), (-1.0, 7.0, 5.0));
        assert_eq!((s.min, s.max), (Some(-4.0), Some(3.0)));
    }
}
