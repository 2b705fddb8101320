//! The `gre` kind: RF- and gradient-spoiled gradient echo (FLASH), 2-D multi-slice or 3-D, after
//! pypulseq's `write_gre.py`/`write_gre_label.py`. Each TR has four blocks: excitation (sinc with
//! slice/slab select, or a hard pulse), prephasers (readout prephaser, phase encode, slice
//! rephaser / partition encode, then the TE fill), readout (trapezoid + centred ADC + labels) and
//! spoiler (readout spoiler, phase rewinder, slice spoiler / partition rewinder, then the TR
//! fill). Labels: LIN and SLC (2-D) or LIN and PAR (3-D).
//!
//! [`GreTrain`] is the reusable engine: `mprage` and `t1map` build their GRE readouts with it.

use serde::Deserialize;

use crate::build::{
    Channel, Event, PulseSpec, RegisteredEvent, Rf, RfUse, SequenceBuilder, Trapezoid,
    calc_duration, make_block_pulse, make_sinc_pulse,
};
use crate::error::{Result, SeqError};
use crate::sequence::DefValue;
use crate::system::System;
use crate::time::Nanos;

use super::common::{
    self, PeOrder, Readout, ReadoutSpec, RfSpoiler, ceil_block, fmt_ms, label_set, ms_on_raster,
    pe_area, trapezoid_in, trapezoids_together,
};
use super::{Generated, Sidecar};

fn one() -> i64 {
    1
}

fn default_spoil() -> f64 {
    117.0
}

/// Parameters of the `gre` kind.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Free-text name.
    #[serde(default)]
    pub name: String,
    /// FOV in mm: `[readout, phase]` (2-D) or `[readout, phase, slab]` (3-D).
    pub fov_mm: Vec<f64>,
    /// Matrix: `[readout, phase]` (2-D) or `[readout, phase, partitions]` (3-D).
    pub matrix: Vec<i64>,
    /// Slice thickness in mm (2-D; required there).
    pub slice_thickness_mm: Option<f64>,
    /// Number of slices (2-D).
    #[serde(default = "one")]
    pub n_slices: i64,
    /// Gap between slices in mm (2-D).
    #[serde(default)]
    pub slice_gap_mm: f64,
    /// Echo time in ms.
    pub te_ms: f64,
    /// Repetition time in ms.
    pub tr_ms: f64,
    /// Flip angle in degrees.
    pub flip_deg: f64,
    /// Readout bandwidth in Hz/pixel.
    pub bandwidth_hz_per_pixel: f64,
    /// Quadratic RF-spoiling increment in degrees (0 disables RF spoiling).
    #[serde(default = "default_spoil")]
    pub rf_spoiling_increment_deg: f64,
    /// Repetitions without ADC before each slice (3-D: before the volume).
    #[serde(default)]
    pub dummy_scans: i64,
    /// Readout oversampling factor (1 or 2).
    #[serde(default = "one")]
    pub readout_oversampling: i64,
    /// Excitation pulse duration in ms (default 3 ms in 2-D, 1 ms in 3-D).
    pub rf_duration_ms: Option<f64>,
    /// Time-bandwidth product of the sinc excitation (default 4).
    pub rf_time_bw_product: Option<f64>,
}

/// What a spoiled-GRE readout train needs (lengths in m, times rastered).
#[derive(Debug, Clone)]
pub struct GreSetup {
    /// FOV `[x, y, z]` in m (2-D: z is the slice thickness).
    pub fov_m: [f64; 3],
    /// Matrix `[nx, ny, nz]` (2-D: nz = 1).
    pub matrix: [usize; 3],
    /// Partition encoding along z.
    pub three_d: bool,
    /// Slice or slab thickness of a sinc excitation; `None`: non-selective hard pulse.
    pub select_thickness_m: Option<f64>,
    /// Flip angle in rad.
    pub flip_rad: f64,
    /// Excitation duration.
    pub rf_duration: Nanos,
    /// Time-bandwidth product of the sinc.
    pub tbw: f64,
    /// Readout oversampling.
    pub oversampling: usize,
    /// Bandwidth in Hz/pixel.
    pub bandwidth: f64,
    /// Readout spoiler area (1/m).
    pub spoil_x_area: f64,
    /// Slice spoiler area (1/m; 0 for none).
    pub spoil_z_area: f64,
}

/// A spoiled-GRE TR engine: excitation, prephasers, readout and spoiler blocks with the phase-
/// and partition-encode tables precomputed; [`GreTrain::add_tr`] appends one TR.
#[derive(Debug, Clone)]
pub struct GreTrain {
    setup: GreSetup,
    exc: Vec<Event>,
    exc_dur: Nanos,
    /// RF centre from the excitation block start.
    rf_center: Nanos,
    rf_shape_center: Nanos,
    gz_amp: f64,
    /// The slice-select gradient of `exc` (registered on first use).
    exc_gz: Reused,
    pre_x: Reused,
    pe_y: Vec<Reused>,
    pre_z: Vec<Reused>,
    pre_dur: Nanos,
    /// The readout.
    pub readout: Readout,
    ro_events: Vec<Event>,
    /// The readout gradient of `ro_events` (registered on first use).
    ro_gx: Reused,
    ro_dur: Nanos,
    /// k = 0 sample time from the readout block start.
    ro_center: Nanos,
    sp_x: Reused,
    rw_y: Vec<Reused>,
    sp_z: Vec<Reused>,
    sp_dur: Nanos,
    spoiler: RfSpoiler,
    /// Reused block event list (no allocation per block).
    scratch: Vec<Event>,
}

/// The fills that realise a TE and TR with a [`GreTrain`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GreTiming {
    /// Achieved TE.
    pub te: Nanos,
    /// Achieved TR (one excitation to the next).
    pub tr: Nanos,
    /// Extra delay after the prephasers.
    pub te_fill: Nanos,
    /// Extra delay after the spoilers.
    pub tr_fill: Nanos,
}

fn nonzero(t: Trapezoid) -> Option<Trapezoid> {
    (t.amplitude != 0.0).then_some(t)
}

/// A gradient the train uses in many blocks: registered with the builder on its first use
/// (so library ids come in the order of first use, as without registration), then added
/// by id.
#[derive(Debug, Clone)]
struct Reused {
    event: Option<Event>,
    registered: Option<RegisteredEvent>,
}

impl Reused {
    fn new(g: Option<Trapezoid>) -> Self {
        Reused {
            event: g.map(Event::from),
            registered: None,
        }
    }

    /// The event for a block of `b` (`None`: no gradient).
    fn get(&mut self, b: &mut SequenceBuilder) -> Result<Option<Event>> {
        let Some(event) = &self.event else {
            return Ok(None);
        };
        let r = match self.registered {
            Some(r) if b.holds(&r) => r,
            _ => *self.registered.insert(b.register(event)?),
        };
        Ok(Some(Event::Registered(r)))
    }
}

impl GreTrain {
    /// Builds the events and tables of the train.
    pub fn new(s: &GreSetup, system: &System) -> Result<GreTrain> {
        let [nx, ny, nz] = s.matrix;
        let readout = common::readout(
            &ReadoutSpec {
                n: nx,
                oversampling: s.oversampling,
                fov_m: s.fov_m[0],
                bandwidth_hz_per_pixel: s.bandwidth,
            },
            system,
        )?;
        // Excitation.
        let (rf, gz, reph_area): (Rf, Option<Trapezoid>, f64) = match s.select_thickness_m {
            Some(th) => {
                let p = make_sinc_pulse(
                    &PulseSpec::new(s.flip_rad, s.rf_duration)
                        .slice(th)
                        .tbw(s.tbw)
                        .apodization(0.5)
                        .use_(RfUse::Excitation)
                        .delay(system.rf_dead_time),
                    system,
                )
                .map_err(|e| {
                    SeqError::build(format!(
                        "slice_thickness_mm = {}: the slice-select pulse cannot be made: {e}",
                        th * 1e3
                    ))
                })?;
                let reph = p.gz_reph.as_ref().map_or(0.0, |g| g.area());
                (p.rf, p.gz, reph)
            }
            None => {
                let rf = make_block_pulse(
                    s.flip_rad,
                    Some(s.rf_duration),
                    None,
                    None,
                    &PulseSpec::new(s.flip_rad, s.rf_duration)
                        .use_(RfUse::Excitation)
                        .delay(system.rf_dead_time),
                    system,
                )?;
                (rf, None, 0.0)
            }
        };
        let rf_center = rf.delay + rf.center;
        let rf_shape_center = rf.center;
        let gz_amp = gz.as_ref().map_or(0.0, |g| g.amplitude);
        let mut exc: Vec<Event> = vec![Event::Rf(rf)];
        if let Some(g) = &gz {
            exc.push(g.clone().into());
        }
        let exc_gz = Reused::new(gz);
        let exc_dur = ceil_block(calc_duration(&exc), system);
        exc.push(Event::Delay(exc_dur));

        // Prephasers: readout prephaser, phase encode, slice rephaser (+ partition encode).
        let pe_z = |p: usize| {
            if s.three_d {
                pe_area(p, nz, s.fov_m[2])
            } else {
                0.0
            }
        };
        let z_pre: Vec<f64> = (0..nz).map(|p| reph_area + pe_z(p)).collect();
        let z_pre_max = z_pre.iter().fold(0.0f64, |m, a| m.max(a.abs()));
        let y_max = (0..ny)
            .map(|l| pe_area(l, ny, s.fov_m[1]).abs())
            .fold(0.0, f64::max);
        let (_, pre_dur) = trapezoids_together(
            &[
                (Channel::X, readout.prephaser_area),
                (Channel::Y, y_max),
                (Channel::Z, z_pre_max),
            ],
            system,
        );
        let fit = |c: Channel, a: f64, d: Nanos| -> Option<Trapezoid> {
            nonzero(trapezoid_in(c, a, d, system).expect("fits the common duration"))
        };
        let pre_x = Reused::new(fit(Channel::X, readout.prephaser_area, pre_dur));
        let pe_y = (0..ny)
            .map(|l| Reused::new(fit(Channel::Y, pe_area(l, ny, s.fov_m[1]), pre_dur)))
            .collect();
        let pre_z = z_pre
            .iter()
            .map(|&a| Reused::new(fit(Channel::Z, a, pre_dur)))
            .collect();
        let pre_dur = ceil_block(pre_dur, system);

        // Readout: shift it so that the ADC respects the dead time.
        let mut gx = readout.gx.clone();
        let mut adc = readout.adc.clone();
        if adc.delay < system.adc_dead_time {
            let shift = common::ceil_grad(system.adc_dead_time - adc.delay, system);
            gx.delay = gx.delay + shift;
            adc.delay = adc.delay + shift;
        }
        let ro_center = gx.delay + readout.t_center;
        let mut ro_events: Vec<Event> = vec![gx.clone().into(), adc.into()];
        let ro_dur = ceil_block(calc_duration(&ro_events), system);
        ro_events.push(Event::Delay(ro_dur));

        // Spoilers: readout spoiler, phase rewinder, slice spoiler / partition rewinder.
        let z_sp: Vec<f64> = (0..nz).map(|p| s.spoil_z_area - pe_z(p)).collect();
        let z_sp_max = z_sp.iter().fold(0.0f64, |m, a| m.max(a.abs()));
        let (_, sp_dur) = trapezoids_together(
            &[
                (Channel::X, s.spoil_x_area),
                (Channel::Y, y_max),
                (Channel::Z, z_sp_max),
            ],
            system,
        );
        let sp_x = Reused::new(fit(Channel::X, s.spoil_x_area, sp_dur));
        let rw_y = (0..ny)
            .map(|l| Reused::new(fit(Channel::Y, -pe_area(l, ny, s.fov_m[1]), sp_dur)))
            .collect();
        let sp_z = z_sp
            .iter()
            .map(|&a| Reused::new(fit(Channel::Z, a, sp_dur)))
            .collect();
        let sp_dur = ceil_block(sp_dur, system);

        Ok(GreTrain {
            setup: s.clone(),
            exc,
            exc_dur,
            rf_center,
            rf_shape_center,
            gz_amp,
            exc_gz,
            pre_x,
            pe_y,
            pre_z,
            pre_dur,
            readout,
            ro_gx: Reused::new(Some(gx)),
            ro_events,
            scratch: Vec::with_capacity(16),
            ro_dur,
            ro_center,
            sp_x,
            rw_y,
            sp_z,
            sp_dur,
            spoiler: RfSpoiler::new(0.0),
        })
    }

    /// The shortest TE (excitation centre to the k = 0 sample).
    pub fn te_min(&self) -> Nanos {
        self.exc_dur - self.rf_center + self.pre_dur + self.ro_center
    }

    /// The shortest TR for a TE fill.
    pub fn tr_min(&self, te_fill: Nanos) -> Nanos {
        self.exc_dur + self.pre_dur + te_fill + self.ro_dur + self.sp_dur
    }

    /// RF centre from the start of the TR (its excitation block).
    pub fn rf_center(&self) -> Nanos {
        self.rf_center
    }

    /// What limits TE/TR, for messages.
    pub fn limited_by(&self) -> &'static str {
        if self.setup.select_thickness_m.is_some() {
            "this FOV, matrix, bandwidth, slice thickness and RF duration"
        } else {
            "this FOV, matrix, bandwidth and RF duration"
        }
    }

    /// The fills for a requested TE and TR (ms, keys `te_ms`/`tr_ms`); `None` = the minimum.
    /// TE is realised to the nearest block raster above its minimum; TR exactly.
    pub fn timing(
        &self,
        te_ms: Option<f64>,
        tr_ms: Option<f64>,
        tr_key: &str,
        system: &System,
    ) -> Result<GreTiming> {
        let raster = system.rasters.block;
        let te_min = self.te_min();
        let te_fill = match te_ms {
            None => Nanos::ZERO,
            Some(ms) => {
                let req = ms_on_raster("te_ms", ms, Nanos(1))?;
                if req < te_min {
                    return Err(common::min_te_error(ms, te_min, self.limited_by()));
                }
                let k = ((req - te_min).0 as f64 / raster.0 as f64).round() as i64;
                raster * k
            }
        };
        let tr_min = self.tr_min(te_fill);
        let tr_fill = match tr_ms {
            None => Nanos::ZERO,
            Some(ms) => {
                let req = ms_on_raster(tr_key, ms, raster)?;
                if req < tr_min {
                    return Err(common::min_time_error(
                        tr_key,
                        "TR",
                        ms,
                        tr_min,
                        &format!(
                            "TE {} ms and {}",
                            fmt_ms(te_min + te_fill),
                            self.limited_by()
                        ),
                    ));
                }
                req - tr_min
            }
        };
        Ok(GreTiming {
            te: te_min + te_fill,
            tr: tr_min + tr_fill,
            te_fill,
            tr_fill,
        })
    }

    /// Restarts the RF-spoiling phase series with `increment_deg`.
    pub fn reset_spoiling(&mut self, increment_deg: f64) {
        self.spoiler = RfSpoiler::new(increment_deg);
    }

    /// Appends a whole 3-D volume: RF spoiling restarted with `spoil_increment_deg`, `dummies`
    /// dummy TRs on the centre line without ADC, then every partition × line of `lines`
    /// labelled LIN, PAR and the `extra` labels.
    #[allow(clippy::too_many_arguments)]
    pub fn add_volume(
        &mut self,
        b: &mut SequenceBuilder,
        t: &GreTiming,
        lines: &[usize],
        nz: usize,
        dummies: usize,
        spoil_increment_deg: f64,
        extra: &[Event],
    ) -> Result<()> {
        self.reset_spoiling(spoil_increment_deg);
        for _ in 0..dummies {
            let dummy = Step {
                line: lines.len() / 2,
                par: nz / 2,
                slice_pos_m: 0.0,
                labels: &[],
                with_adc: false,
            };
            self.add_tr(b, t, &dummy)?;
        }
        let mut labels: Vec<Event> = Vec::with_capacity(2 + extra.len());
        for par in 0..nz {
            for &line in lines {
                labels.clear();
                labels.push(label_set("LIN", line as i64));
                labels.push(label_set("PAR", par as i64));
                labels.extend_from_slice(extra);
                let step = Step {
                    line,
                    par,
                    slice_pos_m: 0.0,
                    labels: &labels,
                    with_adc: true,
                };
                self.add_tr(b, t, &step)?;
            }
        }
        Ok(())
    }

    /// Appends one TR (see [`Step`]).
    pub fn add_tr(&mut self, b: &mut SequenceBuilder, t: &GreTiming, step: &Step) -> Result<()> {
        let Step {
            line,
            par,
            slice_pos_m,
            labels,
            with_adc,
        } = *step;
        let phase = self.spoiler.next_phase();
        let freq = common::slice_freq_offset(self.gz_amp, slice_pos_m);
        if let Event::Rf(rf) = &mut self.exc[0] {
            rf.freq_offset = freq;
            rf.phase_offset =
                common::wrap_phase(phase + common::slice_phase_offset(freq, self.rf_shape_center));
        }
        if let Some(gz) = self.exc_gz.get(b)? {
            self.exc[1] = gz;
        }
        b.add_block(&self.exc)?;
        let mut ev = std::mem::take(&mut self.scratch);
        ev.clear();
        ev.extend(self.pre_x.get(b)?);
        ev.extend(self.pe_y[line].get(b)?);
        ev.extend(self.pre_z[par].get(b)?);
        ev.push(Event::Delay(self.pre_dur + t.te_fill));
        b.add_block(&ev)?;
        ev.clear();
        if let Some(gx) = self.ro_gx.get(b)? {
            self.ro_events[0] = gx;
        }
        if with_adc {
            if let Event::Adc(a) = &mut self.ro_events[1] {
                a.phase_offset = phase;
            }
            ev.extend(self.ro_events.iter().cloned());
            ev.extend(labels.iter().cloned());
        } else {
            ev.extend([self.ro_events[0].clone(), self.ro_events[2].clone()]);
        }
        b.add_block(&ev)?;
        ev.clear();
        ev.extend(self.sp_x.get(b)?);
        ev.extend(self.rw_y[line].get(b)?);
        ev.extend(self.sp_z[par].get(b)?);
        ev.push(Event::Delay(self.sp_dur + t.tr_fill));
        let added = b.add_block(&ev);
        self.scratch = ev;
        added
    }
}

/// What one TR of a [`GreTrain`] encodes.
#[derive(Debug, Clone, Copy)]
pub struct Step<'a> {
    /// Phase-encode line (0 = −ky max).
    pub line: usize,
    /// Partition (0 in 2-D).
    pub par: usize,
    /// Slice offset in m (2-D).
    pub slice_pos_m: f64,
    /// Labels for the readout block.
    pub labels: &'a [Event],
    /// ADC on (off for dummy scans).
    pub with_adc: bool,
}

/// Parsed and checked geometry common to the GRE-based kinds.
#[derive(Debug, Clone)]
pub struct Geometry {
    /// FOV `[x, y, z]` in m (2-D: z = slice thickness).
    pub fov_m: [f64; 3],
    /// Matrix `[nx, ny, nz]`.
    pub matrix: [usize; 3],
    /// 3-D (partition encoding).
    pub three_d: bool,
}

/// Checks `fov_mm`/`matrix` (2 or 3 entries, the same count) and the 2-D slice thickness.
pub fn geometry(
    fov_mm: &[f64],
    matrix: &[i64],
    slice_thickness_mm: Option<f64>,
    require_3d: bool,
) -> Result<Geometry> {
    let three_d = matrix.len() == 3;
    if require_3d && !three_d {
        return Err(SeqError::build(format!(
            "matrix: this kind is 3-D; give three values [readout, phase, partitions], got {}",
            matrix.len()
        )));
    }
    if matrix.len() != 2 && matrix.len() != 3 {
        return Err(SeqError::build(format!(
            "matrix: give [readout, phase] (2-D) or [readout, phase, partitions] (3-D), got {} values",
            matrix.len()
        )));
    }
    if fov_mm.len() != matrix.len() {
        return Err(SeqError::build(format!(
            "fov_mm: give {} values like matrix, got {}",
            matrix.len(),
            fov_mm.len()
        )));
    }
    for f in fov_mm {
        common::in_range("fov_mm", *f, 1.0, 1000.0)?;
    }
    let nx = common::matrix_size("matrix", matrix[0], true)?;
    let ny = common::matrix_size("matrix", matrix[1], true)?;
    let (nz, fz) = if three_d {
        (common::matrix_size("matrix", matrix[2], true)?, fov_mm[2])
    } else {
        let th = slice_thickness_mm.ok_or_else(|| {
            SeqError::build(
                "slice_thickness_mm: required for a 2-D protocol (or give 3-D fov_mm/matrix)",
            )
        })?;
        (1, common::in_range("slice_thickness_mm", th, 0.1, 200.0)?)
    };
    Ok(Geometry {
        fov_m: [fov_mm[0] * 1e-3, fov_mm[1] * 1e-3, fz * 1e-3],
        matrix: [nx, ny, nz],
        three_d,
    })
}

/// Checks the readout oversampling (1 or 2).
pub fn oversampling(v: i64) -> Result<usize> {
    common::count_in_range("readout_oversampling", v, 1, 2)
}

/// Sets the `Name` and `FOV` definitions.
pub fn set_definitions(b: &mut SequenceBuilder, name: &str, fov_m: [f64; 3]) {
    b.set_definition("FOV", DefValue::List(fov_m.to_vec()));
    b.set_definition(
        "Name",
        DefValue::Text(if name.is_empty() {
            "accord".into()
        } else {
            name.replace(char::is_whitespace, "_")
        }),
    );
}

/// Fills the sidecar fields every GRE-based kind shares.
pub fn fill_sidecar(sc: &mut Sidecar, g: &Geometry, train: &GreTrain, t: &GreTiming) {
    let os = train.setup.oversampling as u64;
    sc.encoded_matrix = [
        train.readout.n_samples as u64,
        g.matrix[1] as u64,
        g.matrix[2] as u64,
    ];
    sc.recon_matrix = [g.matrix[0] as u64, g.matrix[1] as u64, g.matrix[2] as u64];
    sc.fov_mm = [g.fov_m[0] * 1e3, g.fov_m[1] * 1e3, g.fov_m[2] * 1e3];
    sc.te_ms = vec![common::to_ms(t.te)];
    sc.tr_ms = common::to_ms(t.tr);
    sc.dwell_ns = train.readout.dwell.0;
    sc.n_adc_samples_per_readout = train.readout.n_samples as u64;
    sc.readout_oversampling = os;
    sc.extra.insert(
        "bandwidth_hz_per_pixel".into(),
        serde_json::json!(train.readout.bandwidth_hz_per_pixel),
    );
}

/// Builds the `gre` sequence.
pub fn build(p: &Params, system: &System) -> Result<Generated> {
    let g = geometry(&p.fov_mm, &p.matrix, p.slice_thickness_mm, false)?;
    let os = oversampling(p.readout_oversampling)?;
    let flip = common::in_range("flip_deg", p.flip_deg, 0.1, 180.0)?;
    common::positive("te_ms", p.te_ms)?;
    common::positive("tr_ms", p.tr_ms)?;
    common::in_range(
        "rf_spoiling_increment_deg",
        p.rf_spoiling_increment_deg,
        0.0,
        360.0,
    )?;
    let dummies = common::count_in_range("dummy_scans", p.dummy_scans, 0, 10_000)?;
    let n_slices = if g.three_d {
        common::count_in_range("n_slices", p.n_slices, 1, 1)?
    } else {
        common::count_in_range("n_slices", p.n_slices, 1, 256)?
    };
    common::non_negative("slice_gap_mm", p.slice_gap_mm)?;
    let rf_ms = p
        .rf_duration_ms
        .unwrap_or(if g.three_d { 1.0 } else { 3.0 });
    let rf_duration = ms_on_raster(
        "rf_duration_ms",
        common::in_range("rf_duration_ms", rf_ms, 0.05, 20.0)?,
        system.rasters.grad,
    )?;
    let tbw = common::in_range(
        "rf_time_bw_product",
        p.rf_time_bw_product.unwrap_or(4.0),
        1.0,
        20.0,
    )?;
    let [nx, _, _] = g.matrix;
    let setup = GreSetup {
        fov_m: g.fov_m,
        matrix: g.matrix,
        three_d: g.three_d,
        select_thickness_m: Some(g.fov_m[2]),
        flip_rad: flip.to_radians(),
        rf_duration,
        tbw,
        oversampling: os,
        bandwidth: p.bandwidth_hz_per_pixel,
        spoil_x_area: 2.0 * nx as f64 / g.fov_m[0],
        spoil_z_area: if g.three_d { 0.0 } else { 4.0 / g.fov_m[2] },
    };
    let mut train = GreTrain::new(&setup, system)?;
    let t = train.timing(Some(p.te_ms), Some(p.tr_ms), "tr_ms", system)?;
    let positions = common::slice_positions(n_slices, g.fov_m[2], p.slice_gap_mm * 1e-3);

    let mut b = SequenceBuilder::new(system);
    set_definitions(&mut b, &p.name, g.fov_m);
    let [_, ny, nz] = g.matrix;
    let lines = common::pe_order(ny, PeOrder::Linear);
    let mut labels: Vec<Event> = Vec::with_capacity(2);
    if g.three_d {
        train.add_volume(
            &mut b,
            &t,
            &lines,
            nz,
            dummies,
            p.rf_spoiling_increment_deg,
            &[],
        )?;
    } else {
        for (s, &pos) in positions.iter().enumerate() {
            train.reset_spoiling(p.rf_spoiling_increment_deg);
            for _ in 0..dummies {
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
            for &line in &lines {
                labels.clear();
                labels.push(label_set("LIN", line as i64));
                labels.push(label_set("SLC", s as i64));
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
        }
    }
    let seq = b.finish()?;
    let mut sc = Sidecar::new("gre", &p.name);
    fill_sidecar(&mut sc, &g, &train, &t);
    sc.flip_deg = vec![flip];
    sc.extra
        .insert("n_slices".into(), serde_json::json!(n_slices));
    if !g.three_d {
        sc.extra.insert(
            "slice_positions_mm".into(),
            serde_json::json!(positions.iter().map(|x| x * 1e3).collect::<Vec<_>>()),
        );
    }
    sc.extra
        .insert("dummy_scans".into(), serde_json::json!(dummies));
    sc.extra.insert(
        "rf_spoiling_increment_deg".into(),
        serde_json::json!(p.rf_spoiling_increment_deg),
    );
    common::complete_sidecar(&mut sc, &seq);
    Ok(Generated {
        sequence: seq,
        sidecar: sc,
    })
}
