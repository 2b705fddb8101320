//! The `t1map` kind, three methods (`method = "..."`):
//!
//! - `ir-gre`: 2-D inversion recovery with a spoiled-GRE readout. For every TI of `ti_ms` and
//!   every slice, shots of a non-selective hypsec inversion, the TI fill and
//!   `lines_per_inversion` GRE readouts (default 1: one line per inversion, every line at exactly
//!   that TI; more lines make a segmented readout in centric order, the first line after each
//!   inversion being the one nearest the k-space centre), then the fill to TR (inversion to
//!   inversion). TI runs from the inversion centre to the first excitation's centre. Labels LIN,
//!   SLC and SET = TI index.
//! - `vfa`: 3-D RF- and gradient-spoiled GRE, the whole volume once per flip angle of `flip_deg`
//!   (a list). Labels LIN, PAR and SET = flip index.
//! - `ir-se`: inversion-recovery spin echo, built by `se::build_ir_se` from the `se` parameters
//!   plus `method` and `ti_ms`.

use serde::Deserialize;

use crate::build::{Event, SequenceBuilder};
use crate::error::{Result, SeqError};
use crate::system::System;
use crate::time::Nanos;

use super::common::{self, PeOrder, label_set, ms_on_raster};
use super::gre::{self, GreSetup, GreTrain, Step};
use super::mprage::{Inversion, ti_fill};
use super::{Generated, Sidecar, key_line, parse_params, parse_params_without, se};

fn one() -> i64 {
    1
}

fn default_spoil() -> f64 {
    117.0
}

/// One number or a list of numbers (`flip_deg = 10` or `flip_deg = [2, 10, 15]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    /// A single value.
    One(f64),
    /// A list.
    Many(Vec<f64>),
}

impl OneOrMany {
    /// The values as a list.
    pub fn to_vec(&self) -> Vec<f64> {
        match self {
            OneOrMany::One(x) => vec![*x],
            OneOrMany::Many(v) => v.clone(),
        }
    }
}

/// Parameters of the `t1map` kind's `ir-gre` and `vfa` methods (`ir-se` takes the `se` keys).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// `ir-gre`, `vfa` or `ir-se`.
    pub method: String,
    /// Free-text name.
    #[serde(default)]
    pub name: String,
    /// FOV in mm (`ir-gre`: `[readout, phase]`; `vfa`: `[readout, phase, slab]`).
    pub fov_mm: Vec<f64>,
    /// Matrix (`ir-gre`: 2 values; `vfa`: 3 values).
    pub matrix: Vec<i64>,
    /// Slice thickness in mm (`ir-gre`).
    pub slice_thickness_mm: Option<f64>,
    /// Number of slices (`ir-gre`).
    #[serde(default = "one")]
    pub n_slices: i64,
    /// Gap between slices in mm (`ir-gre`).
    #[serde(default)]
    pub slice_gap_mm: f64,
    /// Echo time in ms.
    pub te_ms: f64,
    /// Repetition time in ms (`ir-gre`: inversion to inversion; `vfa`: the GRE TR).
    pub tr_ms: f64,
    /// Inversion times in ms (`ir-gre`).
    pub ti_ms: Option<Vec<f64>>,
    /// Flip angle(s) in degrees (`vfa`: the list of flip angles).
    pub flip_deg: OneOrMany,
    /// Readout bandwidth in Hz/pixel.
    pub bandwidth_hz_per_pixel: f64,
    /// Readout oversampling factor (1 or 2).
    #[serde(default = "one")]
    pub readout_oversampling: i64,
    /// Quadratic RF-spoiling increment in degrees.
    #[serde(default = "default_spoil")]
    pub rf_spoiling_increment_deg: f64,
    /// `vfa`: TRs without ADC before each flip angle's volume; `ir-gre`: shots without ADC
    /// before each TI's acquisition.
    #[serde(default)]
    pub dummy_scans: i64,
    /// `ir-gre`: GRE repetition inside a segment in ms (default: the minimum).
    pub echo_spacing_ms: Option<f64>,
    /// `ir-gre`: readouts per inversion (default 1).
    #[serde(default = "one")]
    pub lines_per_inversion: i64,
    /// Excitation duration in ms (default 3 ms for `ir-gre`, 1 ms for `vfa`).
    pub rf_duration_ms: Option<f64>,
}

const METHODS: &str = "\"ir-gre\", \"vfa\" or \"ir-se\"";

/// Reads `method` and builds: `ir-se` through `se::build_ir_se` (the `se` keys plus `ti_ms`),
/// the others through [`build`]. Errors name `origin` and the line.
pub fn generate_text(text: &str, origin: &str, system: &System) -> Result<Generated> {
    let table: toml::Table = toml::from_str(text)
        .map_err(|e| SeqError::build(format!("{origin}: {}", e.message().trim())))?;
    let method = match table.get("method") {
        Some(toml::Value::String(m)) => m.clone(),
        _ => {
            return Err(SeqError::build(format!(
                "{origin}: line {}: method: give method = {METHODS}",
                key_line(text, "method").unwrap_or(1)
            )));
        }
    };
    if method != "ir-se" {
        return build(&parse_params::<Params>(text, origin)?, system);
    }
    let sp: se::Params = parse_params_without(text, origin, &["kind", "method", "ti_ms"])?;
    let line = key_line(text, "ti_ms").unwrap_or(1);
    let tis: Vec<f64> = match table.get("ti_ms") {
        Some(toml::Value::Array(a)) => a
            .iter()
            .map(|v| v.as_float().or_else(|| v.as_integer().map(|i| i as f64)))
            .collect::<Option<Vec<f64>>>()
            .ok_or_else(|| {
                SeqError::build(format!(
                    "{origin}: line {line}: ti_ms: give a list of numbers"
                ))
            })?,
        _ => {
            return Err(SeqError::build(format!(
                "{origin}: ti_ms: method \"ir-se\" needs a list of inversion times, e.g. ti_ms = [100, 400, 1200]"
            )));
        }
    };
    let tis = ti_list(&tis, system)
        .map_err(|e| SeqError::build(format!("{origin}: line {line}: {e}")))?;
    let mut g = se::build_ir_se(&sp, &tis, system)?;
    g.sidecar.kind = "t1map".into();
    g.sidecar
        .extra
        .insert("method".into(), serde_json::json!("ir-se"));
    Ok(g)
}

/// Checks a TI list (positive, finite, distinct) and puts it on the block raster.
fn ti_list(tis: &[f64], system: &System) -> Result<Vec<Nanos>> {
    let v = common::positive_list("ti_ms", tis)?;
    v.iter()
        .map(|&t| ms_on_raster("ti_ms", t, system.rasters.block))
        .collect()
}

/// Builds the `t1map` sequence of the `ir-gre` or `vfa` method.
pub fn build(p: &Params, system: &System) -> Result<Generated> {
    match p.method.as_str() {
        "ir-gre" => build_ir_gre(p, system),
        "vfa" => build_vfa(p, system),
        "ir-se" => Err(SeqError::build(
            "method = ir-se: build it from the protocol text (protocol::generate); its keys are the se kind's",
        )),
        m => Err(SeqError::build(format!(
            "method = {m}: unknown method; use {METHODS}"
        ))),
    }
}

fn common_checks(p: &Params) -> Result<usize> {
    common::positive("te_ms", p.te_ms)?;
    common::positive("tr_ms", p.tr_ms)?;
    common::in_range(
        "rf_spoiling_increment_deg",
        p.rf_spoiling_increment_deg,
        0.0,
        360.0,
    )?;
    common::count_in_range("dummy_scans", p.dummy_scans, 0, 10_000)
}

fn build_ir_gre(p: &Params, system: &System) -> Result<Generated> {
    if p.matrix.len() != 2 {
        return Err(SeqError::build(
            "matrix: method ir-gre is 2-D; give [readout, phase] (and fov_mm, slice_thickness_mm)",
        ));
    }
    let g = gre::geometry(&p.fov_mm, &p.matrix, p.slice_thickness_mm, false)?;
    let os = gre::oversampling(p.readout_oversampling)?;
    let dummies = common_checks(p)?;
    let flips = p.flip_deg.to_vec();
    if flips.len() != 1 {
        return Err(SeqError::build(
            "flip_deg: method ir-gre takes one flip angle",
        ));
    }
    let flip = common::in_range("flip_deg", flips[0], 0.1, 90.0)?;
    let n_slices = common::count_in_range("n_slices", p.n_slices, 1, 256)?;
    common::non_negative("slice_gap_mm", p.slice_gap_mm)?;
    if let Some(es) = p.echo_spacing_ms {
        common::positive("echo_spacing_ms", es)?;
    }
    let ti_req = p.ti_ms.as_ref().ok_or_else(|| {
        SeqError::build(
            "ti_ms: method ir-gre needs a list of inversion times, e.g. ti_ms = [100, 400, 1200]",
        )
    })?;
    common::positive_list("ti_ms", ti_req)?;
    let [nx, ny, _] = g.matrix;
    let lpi = common::count_in_range("lines_per_inversion", p.lines_per_inversion, 1, ny as i64)?;
    let rf_ms = common::in_range(
        "rf_duration_ms",
        p.rf_duration_ms.unwrap_or(3.0),
        0.05,
        20.0,
    )?;
    let setup = GreSetup {
        fov_m: g.fov_m,
        matrix: g.matrix,
        three_d: false,
        select_thickness_m: Some(g.fov_m[2]),
        flip_rad: flip.to_radians(),
        rf_duration: ms_on_raster("rf_duration_ms", rf_ms, system.rasters.grad)?,
        tbw: 4.0,
        oversampling: os,
        bandwidth: p.bandwidth_hz_per_pixel,
        spoil_x_area: 2.0 * nx as f64 / g.fov_m[0],
        spoil_z_area: 4.0 / g.fov_m[2],
    };
    let mut train = GreTrain::new(&setup, system)?;
    let t = train.timing(Some(p.te_ms), p.echo_spacing_ms, "echo_spacing_ms", system)?;
    let inv = Inversion::new(4.0 / g.fov_m[2], system)?;
    let ti_min = inv.to_train() + train.rf_center();
    let mut fills = Vec::with_capacity(ti_req.len());
    for &ti in ti_req {
        fills.push(ti_fill(
            "ti_ms",
            ti,
            ti_min,
            "the 10.24 ms inversion pulse, its spoiler and the excitation",
            system,
        )?);
    }
    let tr = ms_on_raster("tr_ms", p.tr_ms, system.rasters.block)?;
    let shot = |fill: Nanos| inv.duration + inv.spoiler_duration + fill + t.tr * lpi as i64;
    let (i_max, &fill_max) = fills
        .iter()
        .enumerate()
        .max_by_key(|(_, f)| **f)
        .expect("non-empty");
    let need = shot(fill_max);
    if tr < need {
        return Err(SeqError::build(format!(
            "ti_ms = {:?}: the longest TI {} ms plus {lpi} readout(s) of {} ms does not fit in TR {} ms; the minimum TR for it is {} ms: raise tr_ms or shorten the TIs",
            ti_req,
            ti_req[i_max],
            common::fmt_ms(t.tr),
            p.tr_ms,
            common::fmt_ms(need)
        )));
    }
    let positions = common::slice_positions(n_slices, g.fov_m[2], p.slice_gap_mm * 1e-3);
    let order = common::pe_order(ny, PeOrder::Centric);
    let mut b = SequenceBuilder::new(system);
    gre::set_definitions(&mut b, &p.name, g.fov_m);
    let mut labels: Vec<Event> = Vec::with_capacity(3);
    for (s, &pos) in positions.iter().enumerate() {
        for (ti_idx, &fill) in fills.iter().enumerate() {
            let tr_fill = tr - shot(fill);
            for _ in 0..dummies {
                inv.add(&mut b, fill)?;
                train.reset_spoiling(p.rf_spoiling_increment_deg);
                for _ in 0..lpi {
                    train.add_tr(
                        &mut b,
                        &t,
                        &Step {
                            line: ny / 2,
                            par: 0,
                            slice_pos_m: pos,
                            labels: &[],
                            with_adc: false,
                        },
                    )?;
                }
                if tr_fill > Nanos::ZERO {
                    b.add_block(&[Event::Delay(tr_fill)])?;
                }
            }
            for seg in order.chunks(lpi) {
                inv.add(&mut b, fill)?;
                train.reset_spoiling(p.rf_spoiling_increment_deg);
                for &line in seg {
                    labels.clear();
                    labels.push(label_set("LIN", line as i64));
                    labels.push(label_set("SLC", s as i64));
                    labels.push(label_set("SET", ti_idx as i64));
                    train.add_tr(
                        &mut b,
                        &t,
                        &Step {
                            line,
                            par: 0,
                            slice_pos_m: pos,
                            labels: &labels,
                            with_adc: true,
                        },
                    )?;
                }
                // A short last segment keeps the TR: its missing readouts become delay.
                let fill_end = tr_fill + t.tr * (lpi - seg.len()) as i64;
                if fill_end > Nanos::ZERO {
                    b.add_block(&[Event::Delay(fill_end)])?;
                }
            }
        }
    }
    let seq = b.finish()?;
    let mut sc = Sidecar::new("t1map", &p.name);
    gre::fill_sidecar(&mut sc, &g, &train, &t);
    sc.tr_ms = common::to_ms(tr);
    sc.ti_ms = fills.iter().map(|&f| common::to_ms(ti_min + f)).collect();
    sc.flip_deg = vec![flip];
    sc.extra
        .insert("method".into(), serde_json::json!("ir-gre"));
    sc.extra.insert(
        "echo_spacing_ms".into(),
        serde_json::json!(common::to_ms(t.tr)),
    );
    sc.extra
        .insert("lines_per_inversion".into(), serde_json::json!(lpi));
    sc.extra
        .insert("n_slices".into(), serde_json::json!(n_slices));
    sc.extra.insert(
        "slice_positions_mm".into(),
        serde_json::json!(positions.iter().map(|x| x * 1e3).collect::<Vec<_>>()),
    );
    common::complete_sidecar(&mut sc, &seq);
    Ok(Generated {
        sequence: seq,
        sidecar: sc,
    })
}

fn build_vfa(p: &Params, system: &System) -> Result<Generated> {
    if p.ti_ms.is_some() {
        return Err(SeqError::build(
            "ti_ms: method vfa has no inversion; remove ti_ms",
        ));
    }
    let g = gre::geometry(&p.fov_mm, &p.matrix, None, true)?;
    let os = gre::oversampling(p.readout_oversampling)?;
    let dummies = common_checks(p)?;
    let flips = p.flip_deg.to_vec();
    if flips.len() < 2 {
        return Err(SeqError::build(
            "flip_deg: method vfa needs a list of at least two flip angles, e.g. flip_deg = [3, 15]",
        ));
    }
    for &f in &flips {
        common::in_range("flip_deg", f, 0.1, 90.0)?;
    }
    if p.n_slices != 1 {
        return Err(SeqError::build(
            "n_slices: method vfa is 3-D (one slab); remove n_slices",
        ));
    }
    let rf_ms = common::in_range(
        "rf_duration_ms",
        p.rf_duration_ms.unwrap_or(1.0),
        0.05,
        20.0,
    )?;
    let [nx, ny, nz] = g.matrix;
    let mut trains = Vec::with_capacity(flips.len());
    for &f in &flips {
        trains.push(GreTrain::new(
            &GreSetup {
                fov_m: g.fov_m,
                matrix: g.matrix,
                three_d: true,
                select_thickness_m: Some(g.fov_m[2]),
                flip_rad: f.to_radians(),
                rf_duration: ms_on_raster("rf_duration_ms", rf_ms, system.rasters.grad)?,
                tbw: 4.0,
                oversampling: os,
                bandwidth: p.bandwidth_hz_per_pixel,
                spoil_x_area: 2.0 * nx as f64 / g.fov_m[0],
                spoil_z_area: 0.0,
            },
            system,
        )?);
    }
    let t = trains[0].timing(Some(p.te_ms), Some(p.tr_ms), "tr_ms", system)?;
    let mut b = SequenceBuilder::new(system);
    gre::set_definitions(&mut b, &p.name, g.fov_m);
    let lines = common::pe_order(ny, PeOrder::Linear);
    for (fi, train) in trains.iter_mut().enumerate() {
        train.add_volume(
            &mut b,
            &t,
            &lines,
            nz,
            dummies,
            p.rf_spoiling_increment_deg,
            &[label_set("SET", fi as i64)],
        )?;
    }
    let seq = b.finish()?;
    let mut sc = Sidecar::new("t1map", &p.name);
    gre::fill_sidecar(&mut sc, &g, &trains[0], &t);
    sc.flip_deg = flips;
    sc.extra.insert("method".into(), serde_json::json!("vfa"));
    sc.extra
        .insert("dummy_scans".into(), serde_json::json!(dummies));
    common::complete_sidecar(&mut sc, &seq);
    Ok(Generated {
        sequence: seq,
        sidecar: sc,
    })
}
