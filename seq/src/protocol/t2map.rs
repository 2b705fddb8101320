//! `t2map`: 2-D multi-slice multi-echo spin echo (CPMG) for T2 mapping. Each excitation plays
//! `n_echoes` refocusing pulses `echo_spacing_ms` apart (the engine of [`super::se`]); every
//! echo is a fully phase-encoded readout of the same line (phase encode before and rewinder
//! after each echo), so one TR gives line LIN at every echo time `n·ESP`. Labels LIN, SLC and
//! ECO = echo index (the ISMRMRD contrast).

use serde::Deserialize;

use crate::build::SequenceBuilder;
use crate::error::Result;
use crate::system::System;

use super::common::{self, to_ms};
use super::se::{EchoTrain, Geometry, GeometryKeys, Shot, TrainSpec, finish, tr_on_raster};
use super::{Generated, Sidecar};

/// Parameters of the `t2map` kind.
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
    /// Number of echoes per excitation (contrasts).
    pub n_echoes: i64,
    /// Echo spacing in ms (= the first TE; echo n at n·ESP).
    pub echo_spacing_ms: f64,
    /// Repetition time in ms (excitation to excitation of the same slice).
    pub tr_ms: f64,
    /// Receiver bandwidth in Hz/pixel.
    pub bandwidth_hz_per_pixel: f64,
    /// Readout oversampling factor (default 2).
    #[serde(default = "two")]
    pub readout_oversampling: i64,
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

/// Builds the `t2map` sequence.
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
    let n_echoes = common::count_in_range("n_echoes", p.n_echoes, 1, 128)?;
    let dummies = common::count_in_range("dummy_scans", p.dummy_scans, 0, 10_000)?;
    let train = EchoTrain::new(
        &TrainSpec {
            esp_ms: p.echo_spacing_ms,
            esp_key: "echo_spacing_ms",
            n_echoes,
            flip_deg: p.flip_deg,
            refocusing_flip_deg: p.refocusing_flip_deg,
            inversion: false,
        },
        &geo,
        system,
    )?;
    let tr = tr_on_raster(p.tr_ms, system)?;
    let fills = train.slot_fills(p.tr_ms, tr, None, &geo, system)?;
    let ny = geo.matrix[1];
    let mut sb = SequenceBuilder::new(system);
    for shot in 0..dummies + ny {
        let acquire = shot >= dummies;
        let lines = vec![shot.saturating_sub(dummies); n_echoes];
        for (j, &slice) in geo.order.iter().enumerate() {
            train.emit(
                &mut sb,
                &geo,
                &Shot {
                    slice,
                    lines: &lines,
                    acquire,
                    label_echoes: true,
                    set: None,
                    ti: None,
                    fill: fills[j],
                },
            )?;
        }
    }
    let mut sc = Sidecar::new("t2map", p.name.as_deref().unwrap_or(""));
    geo.fill_sidecar(&mut sc, &train);
    sc.te_ms = (0..n_echoes).map(|e| to_ms(train.echo_time(e))).collect();
    sc.tr_ms = to_ms(tr);
    sc.flip_deg = vec![p.flip_deg];
    sc.extra.insert(
        "echo_spacing_ms".into(),
        serde_json::json!(to_ms(train.esp)),
    );
    sc.extra.insert(
        "refocusing_flip_deg".into(),
        serde_json::json!(p.refocusing_flip_deg),
    );
    sc.extra
        .insert("dummy_scans".into(), serde_json::json!(dummies));
    finish(sb, sc)
}
