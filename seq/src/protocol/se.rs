//! `se`: 2-D multi-slice spin echo (90° sinc excitation, 180° sinc refocusing between crushers,
//! one phase-encoding line per TR and slice; labels LIN, SLC), its inversion-recovery variant
//! [`build_ir_se`] (label SET = TI index), and the CPMG echo-train engine that `tse` and `t2map`
//! share ([`EchoTrain`]).
//!
//! One excitation ("shot") of one slice is played as blocks of trapezoids:
//!
//! ```text
//! [inversion, spoiler, TI fill]   (inversion recovery only)
//! excitation   rf 90° (phase 90°) + slice select
//! prephase     slice rephaser + first crusher (z), readout prephaser (x), padding
//! per echo e:  refocusing  rf 180° (phase 0°, CPMG) + slice select
//!              encode      crusher (z), phase encode (y), padding
//!              readout     readout trapezoid (x) + ADC + labels, padding
//!              rewind      phase rewinder (y), next crusher (z), readout balance (x), padding;
//!                          after the last echo: rewinder and end spoilers (x, z)
//! ```
//!
//! The paddings put the refocusing centres at `ESP/2 + e·ESP` after the excitation centre,
//! exactly, so the spin echoes form at `(e+1)·ESP` (the TEs the sidecar reports). The readout's
//! k = 0 sample (common::readout puts it at sample `n/2`) lies within half a gradient raster of
//! the spin echo. The readout prephaser before the first refocusing pulse and the balance lobe
//! after each readout keep kx = 0 at every echo (the refocusing pulse negates k); the crushers of
//! equal area on both sides of each refocusing pulse cancel for the spin-echo path. Slices are
//! excited interleaved (even positions, then odd), each followed by its share of the TR fill, so
//! each slice is excited once per TR.

use std::f64::consts::PI;

use serde::Deserialize;

use crate::build::{
    Adc, Channel, Event, PulseSpec, Rf, RfUse, SequenceBuilder, Trapezoid, calc_duration,
    make_sinc_pulse,
};
use crate::error::{Result, SeqError};
use crate::system::{System, ceil_to, units};
use crate::time::Nanos;

use super::common::{
    self, ReadoutSpec, ceil_block, fmt_ms, label_set, ms_on_raster, pe_area, shortest_trapezoid,
    slice_freq_offset, slice_phase_offset, slice_positions, spoiler_area, to_ms,
};
use super::{Generated, Sidecar};

/// Parameters of the `se` kind (also used by `t1map`'s inversion-recovery spin echo).
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
    /// Echo time in ms (excitation centre to spin echo).
    pub te_ms: f64,
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

/// Excitation pulse duration (its centre, half of it, lies on the gradient raster).
const T_EXC: Nanos = Nanos(2_000_000);
/// Refocusing pulse duration.
const T_REF: Nanos = Nanos(2_000_000);
/// Inversion pulse duration.
const T_INV: Nanos = Nanos(4_000_000);
/// Time-bandwidth product of the sinc pulses.
const TBW: f64 = 4.0;
/// Crusher area around each refocusing pulse, in cycles across the slice thickness.
const CRUSHER_CYCLES: f64 = 4.0;
/// End-of-shot spoiler area in cycles across the slice thickness (z) and a pixel (x).
const SPOILER_CYCLES: f64 = 4.0;

/// Builds the `se` sequence: every phase-encoding line of every slice, one line per TR.
pub fn build(p: &Params, system: &System) -> Result<Generated> {
    build_se(p, &[], system)
}

/// Builds an inversion-recovery spin echo: the whole `se` acquisition once per inversion time in
/// `ti` (label SET = TI index). The TI runs from the centre of the slice-selective 180°
/// inversion pulse to the centre of the excitation; TR from excitation to excitation.
pub fn build_ir_se(p: &Params, ti: &[Nanos], system: &System) -> Result<Generated> {
    if ti.is_empty() {
        return Err(SeqError::build(
            "ti_ms: give at least one inversion time".to_string(),
        ));
    }
    build_se(p, ti, system)
}

fn build_se(p: &Params, ti: &[Nanos], system: &System) -> Result<Generated> {
    let geo = Geometry::new(&GeometryKeys {
        fov_mm: &p.fov_mm,
        matrix: &p.matrix,
        slice_thickness_mm: p.slice_thickness_mm,
        slice_gap_mm: p.slice_gap_mm,
        n_slices: p.n_slices,
        bandwidth_hz_per_pixel: p.bandwidth_hz_per_pixel,
        readout_oversampling: p.readout_oversampling,
    })?;
    let dummies = common::count_in_range("dummy_scans", p.dummy_scans, 0, 10_000)?;
    let train = EchoTrain::new(
        &TrainSpec {
            esp_ms: p.te_ms,
            esp_key: "te_ms",
            n_echoes: 1,
            flip_deg: p.flip_deg,
            refocusing_flip_deg: p.refocusing_flip_deg,
            inversion: !ti.is_empty(),
        },
        &geo,
        system,
    )?;
    let ny = geo.matrix[1];
    let tis: Vec<Option<Nanos>> = if ti.is_empty() {
        vec![None]
    } else {
        ti.iter().map(|&t| Some(t)).collect()
    };
    let tr = tr_on_raster(p.tr_ms, system)?;
    let mut sb = SequenceBuilder::new(system);
    for (set, &t) in tis.iter().enumerate() {
        let fills = train.slot_fills(p.tr_ms, tr, t, &geo, system)?;
        for shot in 0..dummies + ny {
            let acquire = shot >= dummies;
            let lin = shot.saturating_sub(dummies);
            for (k, &slice) in geo.order.iter().enumerate() {
                train.emit(
                    &mut sb,
                    &geo,
                    &Shot {
                        slice,
                        lines: &[lin],
                        acquire,
                        label_echoes: false,
                        set: t.map(|_| set as i64),
                        ti: t,
                        fill: fills[k],
                    },
                )?;
            }
        }
    }
    let mut sc = Sidecar::new(
        if ti.is_empty() { "se" } else { "t1map" },
        p.name.as_deref().unwrap_or(""),
    );
    geo.fill_sidecar(&mut sc, &train);
    sc.te_ms = vec![to_ms(train.echo_time(0))];
    sc.tr_ms = to_ms(tr);
    sc.ti_ms = ti.iter().map(|&t| to_ms(t)).collect();
    sc.flip_deg = vec![p.flip_deg];
    sc.extra.insert(
        "refocusing_flip_deg".into(),
        serde_json::json!(p.refocusing_flip_deg),
    );
    sc.extra
        .insert("dummy_scans".into(), serde_json::json!(dummies));
    if !ti.is_empty() {
        sc.extra.insert("method".into(), serde_json::json!("ir-se"));
    }
    finish(sb, sc)
}

/// TR on the block raster.
pub(crate) fn tr_on_raster(tr_ms: f64, system: &System) -> Result<Nanos> {
    common::positive("tr_ms", tr_ms)?;
    ms_on_raster("tr_ms", tr_ms, system.rasters.block)
}

/// Finishes a spin-echo-family sequence: sidecar completion (the timing check is
/// [`super::generate`]'s, for every kind).
pub(crate) fn finish(sb: SequenceBuilder, mut sc: Sidecar) -> Result<Generated> {
    let seq = sb.finish()?;
    common::complete_sidecar(&mut sc, &seq);
    Ok(Generated {
        sequence: seq,
        sidecar: sc,
    })
}

/// The fill after each of `n` slice slots of length `per` so that a TR of `tr` holds them all
/// (each slice excited once per TR; the rounding remainder goes to the last slot); errors say
/// how many slices the TR holds `at` the given timing (e.g. `TE 15.000 ms`).
pub(crate) fn slot_fills(
    tr_ms: f64,
    tr: Nanos,
    per: Nanos,
    n: usize,
    at: &str,
    system: &System,
) -> Result<Vec<Nanos>> {
    let n = n as i64;
    if per * n > tr {
        let fit = tr.0 / per.0.max(1);
        if fit == 0 {
            return Err(common::min_tr_error(
                tr_ms,
                per * n,
                &format!("{n} slice(s) at {at}"),
            ));
        }
        return Err(SeqError::build(format!(
            "tr_ms = {tr_ms}: TR {tr_ms} ms holds at most {fit} slices at {at}; {n} requested; set tr_ms ≥ {} or n_slices ≤ {fit}",
            fmt_ms(per * n)
        )));
    }
    let spare = tr - per * n;
    let r = system.rasters.block.max(Nanos(1));
    let share = Nanos((spare.0 / n).div_euclid(r.0) * r.0);
    let mut v = vec![share; n as usize];
    if let Some(last) = v.last_mut() {
        *last = spare - share * (n - 1);
    }
    Ok(v)
}

/// The raw protocol keys of a 2-D Cartesian geometry.
pub(crate) struct GeometryKeys<'a> {
    /// `fov_mm`.
    pub fov_mm: &'a [f64],
    /// `matrix`.
    pub matrix: &'a [i64],
    /// `slice_thickness_mm`.
    pub slice_thickness_mm: f64,
    /// `slice_gap_mm`.
    pub slice_gap_mm: f64,
    /// `n_slices`.
    pub n_slices: i64,
    /// `bandwidth_hz_per_pixel`.
    pub bandwidth_hz_per_pixel: f64,
    /// `readout_oversampling`.
    pub readout_oversampling: i64,
}

/// Checked 2-D multi-slice geometry in SI units.
#[derive(Debug, Clone)]
pub(crate) struct Geometry {
    /// FOV `[readout, phase]` in m.
    pub fov: [f64; 2],
    /// Matrix `[readout, phase]`.
    pub matrix: [usize; 2],
    /// Slice thickness in m.
    pub thickness: f64,
    /// Slice centre positions in m (spatial order, index = label SLC).
    pub positions: Vec<f64>,
    /// Acquisition order of the slices.
    pub order: Vec<usize>,
    /// Bandwidth in Hz/pixel.
    pub bandwidth: f64,
    /// Readout oversampling.
    pub oversampling: usize,
}

impl Geometry {
    /// Checks the keys (errors name them) and converts to SI.
    pub fn new(k: &GeometryKeys) -> Result<Geometry> {
        let fov = common::list_len("fov_mm", k.fov_mm, 2)?;
        let m = common::list_len("matrix", k.matrix, 2)?;
        for &f in &fov {
            common::positive("fov_mm", f)?;
        }
        let matrix = [
            common::matrix_size("matrix", m[0], true)?,
            common::matrix_size("matrix", m[1], true)?,
        ];
        let thickness = common::positive("slice_thickness_mm", k.slice_thickness_mm)? * 1e-3;
        let gap = common::non_negative("slice_gap_mm", k.slice_gap_mm)? * 1e-3;
        let n_slices = common::count_in_range("n_slices", k.n_slices, 1, 512)?;
        let bandwidth = common::positive("bandwidth_hz_per_pixel", k.bandwidth_hz_per_pixel)?;
        let oversampling =
            common::count_in_range("readout_oversampling", k.readout_oversampling, 1, 8)?;
        Ok(Geometry {
            fov: [fov[0] * 1e-3, fov[1] * 1e-3],
            matrix,
            thickness,
            positions: slice_positions(n_slices, thickness, gap),
            order: common::interleaved_order(n_slices),
            bandwidth,
            oversampling,
        })
    }

    /// Number of slices.
    pub fn n_slices(&self) -> usize {
        self.positions.len()
    }

    /// Phase-encode area of line `lin`: `(lin − Ny/2)/FOV_y`.
    pub fn ky(&self, lin: usize) -> f64 {
        pe_area(lin, self.matrix[1], self.fov[1])
    }

    /// Fills the geometry and readout fields of a sidecar.
    pub fn fill_sidecar(&self, sc: &mut Sidecar, train: &EchoTrain) {
        let os = self.oversampling as u64;
        sc.encoded_matrix = [self.matrix[0] as u64 * os, self.matrix[1] as u64, 1];
        sc.recon_matrix = [self.matrix[0] as u64, self.matrix[1] as u64, 1];
        sc.fov_mm = [self.fov[0] * 1e3, self.fov[1] * 1e3, self.thickness * 1e3];
        sc.dwell_ns = train.adc.dwell.0;
        sc.n_adc_samples_per_readout = train.adc.num_samples;
        sc.readout_oversampling = os;
        sc.extra.insert(
            "slice_positions_mm".into(),
            serde_json::json!(self.positions.iter().map(|p| p * 1e3).collect::<Vec<_>>()),
        );
        sc.extra
            .insert("slice_order".into(), serde_json::json!(self.order));
        sc.extra.insert(
            "bandwidth_hz_per_pixel".into(),
            serde_json::json!(train.bandwidth),
        );
        sc.extra.insert(
            "encoded_fov_mm".into(),
            serde_json::json!([
                self.fov[0] * 1e3 * os as f64,
                self.fov[1] * 1e3,
                self.thickness * 1e3
            ]),
        );
    }
}

/// What the echo-train engine needs besides the geometry.
#[derive(Debug, Clone)]
pub(crate) struct TrainSpec {
    /// Requested echo spacing in ms (for `se`: the TE).
    pub esp_ms: f64,
    /// The protocol key the echo spacing came from (`te_ms` or `echo_spacing_ms`).
    pub esp_key: &'static str,
    /// Echoes per excitation.
    pub n_echoes: usize,
    /// Excitation flip angle in degrees.
    pub flip_deg: f64,
    /// Refocusing flip angle in degrees.
    pub refocusing_flip_deg: f64,
    /// Whether each shot starts with an inversion.
    pub inversion: bool,
}

/// One excitation of one slice, as [`EchoTrain::emit`] plays it.
pub(crate) struct Shot<'a> {
    /// Spatial slice index (label SLC).
    pub slice: usize,
    /// Phase-encoding line per echo (label LIN).
    pub lines: &'a [usize],
    /// Whether the ADCs are played (false for dummy scans, which also skip phase encoding).
    pub acquire: bool,
    /// Whether label ECO = echo index is set at each readout.
    pub label_echoes: bool,
    /// Label SET value, when set.
    pub set: Option<i64>,
    /// Inversion time of this shot (inversion recovery only).
    pub ti: Option<Nanos>,
    /// Delay after the shot (its share of the TR fill).
    pub fill: Nanos,
}

/// A CPMG spin-echo train: its events and paddings, computed once.
#[derive(Debug, Clone)]
pub(crate) struct EchoTrain {
    n_echoes: usize,
    /// Achieved echo spacing (= TE for one echo).
    pub esp: Nanos,
    /// Achieved bandwidth in Hz/pixel.
    pub bandwidth: f64,
    rf_ex: Rf,
    gz_ex: Trapezoid,
    rf_ref: Rf,
    gz_ref: Trapezoid,
    gz_pre: Trapezoid,
    gx_pre: Trapezoid,
    d_pre: Nanos,
    crusher: Trapezoid,
    t_pe: Nanos,
    d_enc: Nanos,
    gx: Trapezoid,
    /// The readout ADC (delay within the readout block).
    pub adc: Adc,
    d_ro: Nanos,
    gx_balance: Option<Trapezoid>,
    d_rew: Nanos,
    gz_spoil: Trapezoid,
    gx_spoil: Trapezoid,
    d_end: Nanos,
    inversion: Option<Inversion>,
    /// Duration of one shot without inversion and fill.
    d_shot: Nanos,
    c_ex: Nanos,
}

#[derive(Debug, Clone)]
struct Inversion {
    rf: Rf,
    gz: Trapezoid,
    spoil: Trapezoid,
    d_inv: Nanos,
    c_inv: Nanos,
    d_spoil: Nanos,
}

/// The longest sinc pulse the automatic lengthening for thin slices may choose.
const T_MAX: Nanos = Nanos(10_000_000);

/// A slice-selective sinc pulse (time-bandwidth 4, Hanning apodisation) with its slice-select
/// trapezoid and rephaser. For slices too thin for `duration` at the system's maximum gradient
/// the pulse is lengthened (in steps of two gradient rasters, so its centre stays on the
/// raster) up to 10 ms; beyond that the error gives the thinnest possible slice.
pub(crate) fn selective(
    flip_deg: f64,
    duration: Nanos,
    thickness: f64,
    use_: RfUse,
    phase: f64,
    system: &System,
) -> Result<(Rf, Trapezoid, Option<Trapezoid>)> {
    let step = system.rasters.grad * 2;
    let needed = Nanos::from_secs_f64(TBW / (thickness * system.max_grad));
    let duration = duration.max(ceil_to(needed, step));
    let mt = units::hz_per_m_to_mt_per_m;
    if duration > T_MAX {
        let min_mm = TBW / (T_MAX.as_secs_f64() * system.max_grad) * 1e3;
        return Err(common::param_error(
            "slice_thickness_mm",
            thickness * 1e3,
            &format!(
                "even a {} ms sinc pulse (time-bandwidth {TBW}) needs {:.1} mT/m for this slice, above the system maximum {:.1} mT/m; use slice_thickness_mm ≥ {:.2}",
                fmt_ms(T_MAX),
                mt(TBW / (T_MAX.as_secs_f64() * thickness)),
                mt(system.max_grad),
                (min_mm * 100.0).ceil() / 100.0
            ),
        ));
    }
    let sp = make_sinc_pulse(
        &PulseSpec::new(flip_deg.to_radians(), duration)
            .slice(thickness)
            .tbw(TBW)
            .apodization(0.5)
            .use_(use_)
            .phase_offset(phase),
        system,
    )
    .map_err(|e| {
        common::param_error(
            "slice_thickness_mm",
            thickness * 1e3,
            &format!("the slice-select gradient does not fit the system ({e}); use thicker slices"),
        )
    })?;
    let Some(gz) = sp.gz else {
        return Err(SeqError::build(
            "internal error: slice-selective pulse without gradient",
        ));
    };
    Ok((sp.rf, gz, sp.gz_reph))
}

fn dur(events: &[Event], system: &System) -> Nanos {
    ceil_block(calc_duration(events), system)
}

impl EchoTrain {
    /// Computes every event and the paddings for the requested echo spacing; errors give the
    /// achievable minimum.
    pub fn new(spec: &TrainSpec, geo: &Geometry, system: &System) -> Result<EchoTrain> {
        let braster = system.rasters.block.max(system.rasters.grad);
        common::in_range("flip_deg", spec.flip_deg, 1e-3, 180.0)?;
        common::in_range("refocusing_flip_deg", spec.refocusing_flip_deg, 1e-3, 180.0)?;
        let (rf_ex, gz_ex, gz_reph) = selective(
            spec.flip_deg,
            T_EXC,
            geo.thickness,
            RfUse::Excitation,
            PI / 2.0,
            system,
        )?;
        let (rf_ref, gz_ref, _) = selective(
            spec.refocusing_flip_deg,
            T_REF,
            geo.thickness,
            RfUse::Refocusing,
            0.0,
            system,
        )?;
        let crush_area = spoiler_area(CRUSHER_CYCLES, geo.thickness);
        let crusher = shortest_trapezoid(Channel::Z, crush_area, system);
        let reph_area = gz_reph.map_or(-0.5 * gz_ex.area(), |g| g.area());
        let gz_pre = shortest_trapezoid(Channel::Z, reph_area + crush_area, system);

        let ro = common::readout(
            &ReadoutSpec {
                n: geo.matrix[0],
                oversampling: geo.oversampling,
                fov_m: geo.fov[0],
                bandwidth_hz_per_pixel: geo.bandwidth,
            },
            system,
        )
        .map_err(|e| {
            // Name the key for the messages that do not start with one.
            let m = e.to_string();
            if m.starts_with("the ") {
                common::param_error("bandwidth_hz_per_pixel", geo.bandwidth, &m)
            } else {
                e
            }
        })?;
        // Before the first refocusing pulse kx must be +area_to_centre (the pulse negates it).
        let area_to_center = -ro.prephaser_area;
        let gx_pre = shortest_trapezoid(Channel::X, area_to_center, system);
        // After a readout kx = gx.area − area_to_centre; the next echo needs +area_to_centre.
        let balance = 2.0 * area_to_center - ro.gx.area();
        let gx_balance = (spec.n_echoes > 1 && balance.abs() > 1e-9 * ro.gx.area().abs())
            .then(|| shortest_trapezoid(Channel::X, balance, system));
        let pe_max = pe_area(0, geo.matrix[1], geo.fov[1]).abs();
        let t_pe = common::common_duration(&[pe_max, -pe_max], system);
        let gz_spoil = shortest_trapezoid(
            Channel::Z,
            spoiler_area(SPOILER_CYCLES, geo.thickness),
            system,
        );
        let gx_spoil = shortest_trapezoid(
            Channel::X,
            spoiler_area(SPOILER_CYCLES, geo.fov[0] / geo.matrix[0] as f64),
            system,
        );
        for (what, g) in [("crusher", &crusher), ("spoiler", &gz_spoil)] {
            common::check_amplitude(what, g.amplitude, system, "use thicker slices")?;
        }

        let d_ex = dur(&[rf_ex.clone().into(), gz_ex.clone().into()], system);
        let c_ex = rf_ex.delay + rf_ex.center;
        let d_ref = dur(&[rf_ref.clone().into(), gz_ref.clone().into()], system);
        let c_ref = rf_ref.delay + rf_ref.center;
        let d_ro = ceil_block(
            ro.gx
                .shape_duration()
                .max(ro.adc.delay + ro.adc.window() + ro.adc.dead_time),
            system,
        );
        // The k = 0 sample's time, on the block raster (within half a raster of the truth).
        let t0 = crate::system::round_to(ro.t_center, braster);

        let min_pre = ceil_block(gz_pre.shape_duration().max(gx_pre.shape_duration()), system);
        let min_enc = ceil_block(crusher.shape_duration().max(t_pe), system);
        let min_rew = ceil_block(
            crusher.shape_duration().max(t_pe).max(
                gx_balance
                    .as_ref()
                    .map_or(Nanos::ZERO, |g| g.shape_duration()),
            ),
            system,
        );
        let half1 = (d_ex - c_ex) + min_pre + c_ref;
        let half2 = (d_ref - c_ref) + min_enc + t0;
        let half3 = (d_ro - t0) + min_rew + c_ref;
        let mut min_half = half1.max(half2);
        if spec.n_echoes > 1 {
            min_half = min_half.max(half3);
        }
        let min_esp = ceil_block(min_half, system) * 2;
        let (what, limited) = if spec.esp_key == "te_ms" {
            ("TE", "this FOV, matrix, slice thickness and bandwidth")
        } else {
            (
                "echo spacing",
                "this FOV, matrix, slice thickness and bandwidth",
            )
        };
        common::positive(spec.esp_key, spec.esp_ms)?;
        let esp = ms_on_raster(spec.esp_key, spec.esp_ms, braster * 2)?;
        if esp < min_esp {
            return Err(common::min_time_error(
                spec.esp_key,
                what,
                spec.esp_ms,
                min_esp,
                limited,
            ));
        }
        let half = Nanos(esp.0 / 2);
        let d_pre = half - (d_ex - c_ex) - c_ref;
        let d_enc = half - (d_ref - c_ref) - t0;
        let d_rew = half - (d_ro - t0) - c_ref;
        let d_end = ceil_block(
            t_pe.max(gz_spoil.shape_duration())
                .max(gx_spoil.shape_duration()),
            system,
        );
        let n = spec.n_echoes as i64;
        let d_shot = d_ex + d_pre + (d_ref + d_enc + d_ro) * n + d_rew * (n - 1) + d_end;

        let inversion = if spec.inversion {
            let (rf, gz, _) =
                selective(180.0, T_INV, geo.thickness, RfUse::Inversion, 0.0, system)?;
            let spoil = shortest_trapezoid(
                Channel::Z,
                spoiler_area(SPOILER_CYCLES, geo.thickness),
                system,
            );
            let d_inv = dur(&[rf.clone().into(), gz.clone().into()], system);
            let c_inv = rf.delay + rf.center;
            let d_spoil = ceil_block(spoil.shape_duration(), system);
            Some(Inversion {
                rf,
                gz,
                spoil,
                d_inv,
                c_inv,
                d_spoil,
            })
        } else {
            None
        };
        Ok(EchoTrain {
            n_echoes: spec.n_echoes,
            esp,
            bandwidth: ro.bandwidth_hz_per_pixel,
            rf_ex,
            gz_ex,
            rf_ref,
            gz_ref,
            gz_pre,
            gx_pre,
            d_pre,
            crusher,
            t_pe,
            d_enc,
            gx: ro.gx,
            adc: ro.adc,
            d_ro,
            gx_balance,
            d_rew,
            gz_spoil,
            gx_spoil,
            d_end,
            inversion,
            d_shot,
            c_ex,
        })
    }

    /// Spin-echo time of echo `e` (0-based): `(e+1)·ESP` after the excitation centre.
    pub fn echo_time(&self, e: usize) -> Nanos {
        self.esp * (e as i64 + 1)
    }

    /// For an inversion-prepared shot: the time before the excitation block and the TI fill.
    fn inversion_lead(&self, ti: Nanos) -> Result<(Nanos, Nanos)> {
        let Some(inv) = &self.inversion else {
            return Ok((Nanos::ZERO, Nanos::ZERO));
        };
        // TI = (d_inv − c_inv) + d_spoil + fill + c_ex
        let min = (inv.d_inv - inv.c_inv) + inv.d_spoil + self.c_ex;
        if ti < min {
            return Err(common::min_time_error(
                "ti_ms",
                "TI",
                to_ms(ti),
                min,
                "the inversion pulse, its spoiler and the excitation",
            ));
        }
        let fill = ti - min;
        Ok((inv.d_inv + inv.d_spoil + fill, fill))
    }

    /// The fill after each slice slot (acquisition order) so that each slice is excited once
    /// per TR; errors say how many slices the TR holds.
    pub fn slot_fills(
        &self,
        tr_ms: f64,
        tr: Nanos,
        ti: Option<Nanos>,
        geo: &Geometry,
        system: &System,
    ) -> Result<Vec<Nanos>> {
        let lead = match ti {
            Some(t) => self.inversion_lead(t)?.0,
            None => Nanos::ZERO,
        };
        let per = lead + self.d_shot;
        let at = if self.n_echoes > 1 {
            format!("echo spacing {} ms", fmt_ms(self.esp))
        } else {
            format!("TE {} ms", fmt_ms(self.esp))
        };
        let ti_txt = ti.map_or(String::new(), |t| format!(" and TI {} ms", fmt_ms(t)));
        slot_fills(
            tr_ms,
            tr,
            per,
            geo.n_slices(),
            &format!("{at}{ti_txt}"),
            system,
        )
    }

    fn slice_rf(&self, rf: &Rf, gz_amplitude: f64, position: f64, phase: f64) -> Rf {
        let mut rf = rf.clone();
        let f = slice_freq_offset(gz_amplitude, position);
        rf.freq_offset = f;
        rf.phase_offset = common::wrap_phase(phase + slice_phase_offset(f, rf.center));
        rf
    }

    fn pe(&self, area: f64, system: &System) -> Result<Option<Trapezoid>> {
        if area == 0.0 {
            return Ok(None);
        }
        common::trapezoid_in(Channel::Y, area, self.t_pe, system)
            .map(Some)
            .ok_or_else(|| {
                SeqError::build(format!(
                    "internal error: phase encode {area} 1/m does not fit {} ns",
                    self.t_pe.0
                ))
            })
    }

    /// Plays one shot (one excitation of one slice with its echo train and fill).
    pub fn emit(&self, sb: &mut SequenceBuilder, geo: &Geometry, shot: &Shot) -> Result<()> {
        let system = sb.system().clone();
        let pos = geo.positions[shot.slice];
        if let (Some(ti), Some(inv)) = (shot.ti, &self.inversion) {
            let (_, fill) = self.inversion_lead(ti)?;
            let rf = self.slice_rf(&inv.rf, inv.gz.amplitude, pos, 0.0);
            sb.add_block(&[rf.into(), inv.gz.clone().into(), Event::Delay(inv.d_inv)])?;
            sb.add_block(&[inv.spoil.clone().into(), Event::Delay(inv.d_spoil)])?;
            if fill > Nanos::ZERO {
                sb.add_block(&[Event::Delay(fill)])?;
            }
        }
        let rf_ex = self.slice_rf(&self.rf_ex, self.gz_ex.amplitude, pos, PI / 2.0);
        sb.add_block(&[rf_ex.into(), self.gz_ex.clone().into()])?;
        sb.add_block(&[
            self.gz_pre.clone().into(),
            self.gx_pre.clone().into(),
            Event::Delay(self.d_pre),
        ])?;
        let rf_ref = self.slice_rf(&self.rf_ref, self.gz_ref.amplitude, pos, 0.0);
        for e in 0..self.n_echoes {
            let lin = shot.lines.get(e).copied().unwrap_or(0);
            let area = if shot.acquire { geo.ky(lin) } else { 0.0 };
            sb.add_block(&[rf_ref.clone().into(), self.gz_ref.clone().into()])?;
            let mut enc: Vec<Event> = vec![self.crusher.clone().into(), Event::Delay(self.d_enc)];
            if let Some(g) = self.pe(area, &system)? {
                enc.push(g.into());
            }
            sb.add_block(&enc)?;
            let mut ro: Vec<Event> = vec![self.gx.clone().into(), Event::Delay(self.d_ro)];
            if shot.acquire {
                ro.push(self.adc.clone().into());
                ro.push(label_set("LIN", lin as i64));
                ro.push(label_set("SLC", shot.slice as i64));
                if shot.label_echoes {
                    ro.push(label_set("ECO", e as i64));
                }
                if let Some(s) = shot.set {
                    ro.push(label_set("SET", s));
                }
            }
            sb.add_block(&ro)?;
            let mut rew: Vec<Event> = Vec::new();
            if let Some(g) = self.pe(-area, &system)? {
                rew.push(g.into());
            }
            if e + 1 < self.n_echoes {
                rew.push(self.crusher.clone().into());
                if let Some(g) = &self.gx_balance {
                    rew.push(g.clone().into());
                }
                rew.push(Event::Delay(self.d_rew));
            } else {
                rew.push(self.gz_spoil.clone().into());
                rew.push(self.gx_spoil.clone().into());
                rew.push(Event::Delay(self.d_end));
            }
            sb.add_block(&rew)?;
        }
        if shot.fill > Nanos::ZERO {
            sb.add_block(&[Event::Delay(shot.fill)])?;
        }
        Ok(())
    }
}
