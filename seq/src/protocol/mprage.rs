//! The `mprage` kind: 3-D magnetisation-prepared rapid gradient echo after pypulseq's
//! `write_mprage.py`. Each shot: a non-selective adiabatic (hyperbolic-secant) inversion, a
//! spoiler and the TI fill, then a train of RF-spoiled GRE readouts over all phase lines (LIN) of
//! one partition (PAR), then the fill to TR. TI runs from the inversion centre to the excitation
//! of the k-space centre line (`matrix[1]/2`); TR is the shot repetition time; the GRE repetition
//! inside the train is `echo_spacing_ms` (default: the minimum).
//!
//! [`Inversion`] is shared with `t1map`'s `ir-gre` method.

use serde::Deserialize;

use crate::build::{
    AdiabaticKind, Channel, Event, PulseSpec, RfUse, SequenceBuilder, calc_duration,
    make_adiabatic_pulse,
};
use crate::error::{Result, SeqError};
use crate::system::System;
use crate::time::Nanos;

use super::common::{self, PeOrder, ceil_block, label_set, ms_on_raster, shortest_trapezoid};
use super::gre::{self, GreSetup, GreTrain, Step};
use super::{Generated, Sidecar};

fn one() -> i64 {
    1
}

fn default_spoil() -> f64 {
    117.0
}

/// Parameters of the `mprage` kind.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Free-text name.
    #[serde(default)]
    pub name: String,
    /// FOV `[readout, phase, partition]` in mm.
    pub fov_mm: Vec<f64>,
    /// Matrix `[readout, phase, partitions]`.
    pub matrix: Vec<i64>,
    /// Echo time of the GRE readouts in ms.
    pub te_ms: f64,
    /// GRE repetition inside the train in ms (default: the minimum).
    pub echo_spacing_ms: Option<f64>,
    /// Shot repetition time (inversion to inversion) in ms.
    pub tr_ms: f64,
    /// Inversion time in ms (inversion centre to the centre line's excitation).
    pub ti_ms: f64,
    /// Flip angle of the readout in degrees.
    pub flip_deg: f64,
    /// Readout bandwidth in Hz/pixel.
    pub bandwidth_hz_per_pixel: f64,
    /// Readout oversampling factor (1 or 2).
    #[serde(default = "one")]
    pub readout_oversampling: i64,
    /// Quadratic RF-spoiling increment in degrees.
    #[serde(default = "default_spoil")]
    pub rf_spoiling_increment_deg: f64,
    /// Duration of the hard excitation pulse in ms (default 0.1).
    pub rf_duration_ms: Option<f64>,
}

/// A non-selective adiabatic inversion block and the spoiler block that follows it.
#[derive(Debug, Clone)]
pub struct Inversion {
    /// The inversion block's events (pulse + padding delay).
    pub events: Vec<Event>,
    /// Duration of the inversion block.
    pub duration: Nanos,
    /// Inversion centre from the block start.
    pub center: Nanos,
    /// Spoiler after the inversion (z).
    pub spoiler: Event,
    /// Spoiler duration on the block raster.
    pub spoiler_duration: Nanos,
}

impl Inversion {
    /// A 10.24 ms hyperbolic-secant inversion (pypulseq defaults β = 800 rad/s, μ = 4.9) with a
    /// z spoiler of `spoil_area` (1/m).
    pub fn new(spoil_area: f64, system: &System) -> Result<Inversion> {
        let p = make_adiabatic_pulse(
            &AdiabaticKind::Hypsec {
                beta: 800.0,
                mu: 4.9,
            },
            &PulseSpec::new(std::f64::consts::PI, Nanos(10_240_000))
                .dwell(Nanos(10_000))
                .use_(RfUse::Inversion)
                .delay(system.rf_dead_time),
            system,
        )?;
        let center = p.rf.delay + p.rf.center;
        let mut events = vec![Event::Rf(p.rf)];
        let duration = ceil_block(calc_duration(&events), system);
        events.push(Event::Delay(duration));
        let sp = shortest_trapezoid(Channel::Z, spoil_area, system);
        let spoiler_duration = ceil_block(sp.shape_duration(), system);
        Ok(Inversion {
            events,
            duration,
            center,
            spoiler: sp.into(),
            spoiler_duration,
        })
    }

    /// Time from the inversion centre to the end of the spoiler block without fill.
    pub fn to_train(&self) -> Nanos {
        self.duration - self.center + self.spoiler_duration
    }

    /// Appends the inversion and the spoiler block lengthened by `fill`.
    pub fn add(&self, b: &mut SequenceBuilder, fill: Nanos) -> Result<()> {
        b.add_block(&self.events)?;
        b.add_block(&[
            self.spoiler.clone(),
            Event::Delay(self.spoiler_duration + fill),
        ])
    }
}

/// The TI fill: `requested − minimum` rounded to the block raster, or the actionable error.
pub fn ti_fill(
    key: &str,
    ti_ms: f64,
    min: Nanos,
    limited_by: &str,
    system: &System,
) -> Result<Nanos> {
    let req = ms_on_raster(key, ti_ms, Nanos(1))?;
    if req < min {
        return Err(common::min_time_error(key, "TI", ti_ms, min, limited_by));
    }
    let r = system.rasters.block;
    Ok(r * (((req - min).0 as f64 / r.0 as f64).round() as i64))
}

/// Builds the `mprage` sequence.
pub fn build(p: &Params, system: &System) -> Result<Generated> {
    let g = gre::geometry(&p.fov_mm, &p.matrix, None, true)?;
    let os = gre::oversampling(p.readout_oversampling)?;
    let flip = common::in_range("flip_deg", p.flip_deg, 0.1, 90.0)?;
    common::positive("te_ms", p.te_ms)?;
    common::positive("tr_ms", p.tr_ms)?;
    common::positive("ti_ms", p.ti_ms)?;
    if let Some(es) = p.echo_spacing_ms {
        common::positive("echo_spacing_ms", es)?;
    }
    common::in_range(
        "rf_spoiling_increment_deg",
        p.rf_spoiling_increment_deg,
        0.0,
        360.0,
    )?;
    let rf_ms = common::in_range("rf_duration_ms", p.rf_duration_ms.unwrap_or(0.1), 0.02, 5.0)?;
    let [nx, ny, nz] = g.matrix;
    let setup = GreSetup {
        fov_m: g.fov_m,
        matrix: g.matrix,
        three_d: true,
        select_thickness_m: None,
        flip_rad: flip.to_radians(),
        rf_duration: ms_on_raster("rf_duration_ms", rf_ms, system.rasters.grad)?,
        tbw: 4.0,
        oversampling: os,
        bandwidth: p.bandwidth_hz_per_pixel,
        spoil_x_area: 2.0 * nx as f64 / g.fov_m[0],
        spoil_z_area: 0.0,
    };
    let mut train = GreTrain::new(&setup, system)?;
    let t = train.timing(Some(p.te_ms), p.echo_spacing_ms, "echo_spacing_ms", system)?;
    let inv = Inversion::new(4.0 * nz as f64 / g.fov_m[2], system)?;
    let center_line = ny / 2;
    let ti_min = inv.to_train() + t.tr * center_line as i64 + train.rf_center();
    let ti_fill = ti_fill(
        "ti_ms",
        p.ti_ms,
        ti_min,
        &format!(
            "the inversion pulse and {center_line} readouts of {} ms before the k-space centre",
            common::fmt_ms(t.tr)
        ),
        system,
    )?;
    let ti = ti_min + ti_fill;
    let shot_min = inv.duration + inv.spoiler_duration + ti_fill + t.tr * ny as i64;
    let tr = ms_on_raster("tr_ms", p.tr_ms, system.rasters.block)?;
    if tr < shot_min {
        return Err(common::min_time_error(
            "tr_ms",
            "TR",
            p.tr_ms,
            shot_min,
            &format!(
                "TI {} ms and {ny} readouts of {} ms",
                common::fmt_ms(ti),
                common::fmt_ms(t.tr)
            ),
        ));
    }
    let tr_fill = tr - shot_min;

    let mut b = SequenceBuilder::new(system);
    gre::set_definitions(&mut b, &p.name, g.fov_m);
    let lines = common::pe_order(ny, PeOrder::Linear);
    let mut labels: Vec<Event> = Vec::with_capacity(2);
    for par in 0..nz {
        inv.add(&mut b, ti_fill)?;
        train.reset_spoiling(p.rf_spoiling_increment_deg);
        for &line in &lines {
            labels.clear();
            labels.push(label_set("LIN", line as i64));
            labels.push(label_set("PAR", par as i64));
            train.add_tr(
                &mut b,
                &t,
                &Step {
                    line,
                    par,
                    slice_pos_m: 0.0,
                    labels: &labels,
                    with_adc: true,
                },
            )?;
        }
        if tr_fill > Nanos::ZERO {
            b.add_block(&[Event::Delay(tr_fill)])?;
        }
    }
    let seq = b
        .finish()
        .map_err(|e| SeqError::build(format!("mprage: {e}")))?;
    let mut sc = Sidecar::new("mprage", &p.name);
    gre::fill_sidecar(&mut sc, &g, &train, &t);
    sc.tr_ms = common::to_ms(tr);
    sc.ti_ms = vec![common::to_ms(ti)];
    sc.flip_deg = vec![flip];
    sc.extra.insert(
        "echo_spacing_ms".into(),
        serde_json::json!(common::to_ms(t.tr)),
    );
    sc.extra.insert(
        "inversion".into(),
        serde_json::json!("hypsec 10.24 ms, non-selective"),
    );
    common::complete_sidecar(&mut sc, &seq);
    Ok(Generated {
        sequence: seq,
        sidecar: sc,
    })
}
