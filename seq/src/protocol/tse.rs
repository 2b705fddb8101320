//! `tse`: 2-D multi-slice turbo spin echo. Each excitation plays a CPMG train of
//! `echo_train_length` echoes `echo_spacing_ms` apart (the engine of [`super::se`]), each echo
//! its own phase-encoding line; `Ny/ETL` shots per slice cover k-space (labels LIN, SLC).
//!
//! Phase-encode ordering (segmented linear, shifted for the effective TE): k-space is cut into
//! `ETL` segments of `n_shots = Ny/ETL` adjacent lines; echo `e` of shot `s` acquires line
//! `seg(e)·n_shots + s` with `seg(e) = (e + c − k) mod ETL`, where `c` is the segment holding
//! the centre line `Ny/2` and `k = TE_eff/ESP − 1` the echo that must acquire it. So the centre
//! line is acquired at the effective TE, and every line exactly once.

use serde::Deserialize;

use crate::error::Result;
use crate::system::System;

use super::common::{self, fmt_ms, to_ms};
use super::se::{EchoTrain, Geometry, GeometryKeys, Shot, TrainSpec, finish, tr_on_raster};
use super::{Generated, Sidecar};

/// Parameters of the `tse` kind.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Free-text protocol name.
    #[serde(default)]
    pub name: Option<String>,
    /// Field of view `[readout, phase]` in mm.
    pub fov_mm: Vec<f64>,
    /// Matrix `[readout, phase]`.
    pub matrix: Vec<i64>,
    /// Slice thickness in mm.
    pub slice_thickness_mm: f64,
    /// Number of slices (default 1).
    #[serde(default = "one")]
    pub n_slices: i64,
    /// Gap between adjacent slices in mm (default 0).
    #[serde(default)]
    pub slice_gap_mm: f64,
    /// Effective echo time in ms (when the centre line is acquired): a multiple of the spacing.
    pub te_ms: f64,
    /// Repetition time in ms (excitation to excitation of the same slice).
    pub tr_ms: f64,
    /// Receiver bandwidth in Hz/pixel.
    pub bandwidth_hz_per_pixel: f64,
    /// Readout oversampling factor (default 2).
    #[serde(default = "two")]
    pub readout_oversampling: i64,
    /// Echoes per excitation (must divide `matrix[1]`).
    pub echo_train_length: i64,
    /// Echo spacing in ms.
    pub echo_spacing_ms: f64,
    /// Excitation flip angle in degrees (default 90).
    #[serde(default = "ninety")]
    pub flip_deg: f64,
    /// Refocusing flip angle in degrees (default 180).
    #[serde(default = "one_eighty")]
    pub refocusing_flip_deg: f64,
    /// TRs played without ADC before the acquisition (default 0).
    #[serde(default)]
    pub dummy_scans: i64,
}

fn one() -> i64 {
    1
}
fn two() -> i64 {
    2
}
fn ninety() -> f64 {
    90.0
}
fn one_eighty() -> f64 {
    180.0
}

/// The phase-encoding table `[shot][echo] → line` (see the module docs) for `ny` lines, echo
/// train length `etl` and centre echo `k_eff` (0-based).
pub fn pe_schedule(ny: usize, etl: usize, k_eff: usize) -> Vec<Vec<usize>> {
    let n_shots = ny / etl;
    let c = (ny / 2) / n_shots;
    (0..n_shots)
        .map(|s| {
            (0..etl)
                .map(|e| ((e + c + etl - k_eff % etl) % etl) * n_shots + s)
                .collect()
        })
        .collect()
}

/// Builds the `tse` sequence.
pub fn build(p: &Params, system: &System) -> Result<Generated> {
    let geo = Geometry::new(&GeometryKeys {
        fov_mm: &p.fov_mm,
        matrix: &p.matrix,
        slice_thickness_mm: p.slice_thickness_mm,
        slice_gap_mm: p.slice_gap_mm,
        n_slices: p.n_slices,
        bandwidth_hz_per_pixel: p.bandwidth_hz_per_pixel,
        readout_oversampling: p.readout_oversampling,
    })?;
    let ny = geo.matrix[1];
    let etl = common::count_in_range("echo_train_length", p.echo_train_length, 1, ny as i64)?;
    if ny % etl != 0 {
        let divisors: Vec<String> = (1..=ny)
            .filter(|d| ny % d == 0 && d.abs_diff(etl) <= etl)
            .map(|d| d.to_string())
            .collect();
        return Err(common::param_error(
            "echo_train_length",
            etl,
            &format!(
                "must divide the {ny} phase-encoding lines (matrix[1]) so that every shot has a full train; use one of {}",
                divisors.join(", ")
            ),
        ));
    }
    let dummies = common::count_in_range("dummy_scans", p.dummy_scans, 0, 10_000)?;
    let train = EchoTrain::new(
        &TrainSpec {
            esp_ms: p.echo_spacing_ms,
            esp_key: "echo_spacing_ms",
            n_echoes: etl,
            flip_deg: p.flip_deg,
            refocusing_flip_deg: p.refocusing_flip_deg,
            inversion: false,
        },
        &geo,
        system,
    )?;
    common::positive("te_ms", p.te_ms)?;
    let esp_ms = to_ms(train.esp);
    let k = (p.te_ms / esp_ms).round().max(1.0) as usize;
    let te = train.esp * k as i64;
    let te_off = (p.te_ms * 1e6 - te.0 as f64).abs();
    if k > etl || te_off > system.rasters.block.0 as f64 {
        let lo = (p.te_ms / esp_ms).floor().clamp(1.0, etl as f64) as i64;
        let hi = (p.te_ms / esp_ms).ceil().clamp(1.0, etl as f64) as i64;
        let mut options = vec![fmt_ms(train.esp * lo)];
        if hi != lo {
            options.push(fmt_ms(train.esp * hi));
        }
        return Err(common::param_error(
            "te_ms",
            p.te_ms,
            &format!(
                "the effective TE must be a multiple of the echo spacing {} ms between {} and {} ms (echo 1 to {etl}); use {}",
                fmt_ms(train.esp),
                fmt_ms(train.esp),
                fmt_ms(train.esp * etl as i64),
                options.join(" or ")
            ),
        ));
    }
    let k_eff = k - 1;
    let schedule = pe_schedule(ny, etl, k_eff);
    let tr = tr_on_raster(p.tr_ms, system)?;
    let fills = train.slot_fills(p.tr_ms, tr, None, &geo, system)?;
    let mut sb = crate::build::SequenceBuilder::new(system);
    let dummy_lines = vec![0usize; etl];
    for shot in 0..dummies + schedule.len() {
        let acquire = shot >= dummies;
        let lines = if acquire {
            &schedule[shot - dummies]
        } else {
            &dummy_lines
        };
        for (j, &slice) in geo.order.iter().enumerate() {
            train.emit(
                &mut sb,
                &geo,
                &Shot {
                    slice,
                    lines,
                    acquire,
                    label_echoes: false,
                    set: None,
                    ti: None,
                    fill: fills[j],
                },
            )?;
        }
    }
    let mut sc = Sidecar::new("tse", p.name.as_deref().unwrap_or(""));
    geo.fill_sidecar(&mut sc, &train);
    sc.te_ms = vec![to_ms(te)];
    sc.tr_ms = to_ms(tr);
    sc.flip_deg = vec![p.flip_deg];
    sc.extra.insert(
        "echo_spacing_ms".into(),
        serde_json::json!(to_ms(train.esp)),
    );
    sc.extra
        .insert("echo_train_length".into(), serde_json::json!(etl));
    sc.extra
        .insert("n_shots".into(), serde_json::json!(schedule.len()));
    sc.extra
        .insert("effective_echo_index".into(), serde_json::json!(k_eff));
    sc.extra.insert(
        "pe_lines_per_shot_and_echo".into(),
        serde_json::json!(schedule),
    );
    sc.extra.insert(
        "refocusing_flip_deg".into(),
        serde_json::json!(p.refocusing_flip_deg),
    );
    sc.extra
        .insert("dummy_scans".into(), serde_json::json!(dummies));
    finish(sb, sc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_covers_every_line_once_and_centre_at_k_eff() {
        for (ny, etl, k) in [(64, 8, 3), (64, 16, 0), (128, 4, 3), (8, 8, 7), (6, 3, 1)] {
            let s = pe_schedule(ny, etl, k);
            let mut all: Vec<usize> = s.iter().flatten().copied().collect();
            all.sort();
            assert_eq!(all, (0..ny).collect::<Vec<_>>());
            assert!(s.iter().any(|shot| shot[k] == ny / 2), "{ny} {etl} {k}");
        }
    }
}
