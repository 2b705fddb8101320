//! `epi`: single-shot 2-D gradient-echo EPI, multi-slice, with blipped phase encoding, optional
//! ramp sampling and fat saturation, and pypulseq `write_epi_label`'s navigator lines and flags.
//!
//! Per slice: [fat saturation + spoiler] · excitation (sinc, slice select) · prephasers
//! (readout −A/2, slice rephaser, and the phase prephaser −Ny/2·Δky when there are no
//! navigators) with the TE padding · `n_navigators` readouts without phase encoding
//! (labels NAV = 1, LIN = Ny/2) separated by gaps as long as a blip · the phase prephaser ·
//! `Ny` readouts of alternating polarity separated by +Δky blips (lines 0 … Ny−1 in order,
//! ky = (LIN − Ny/2)/FOV_y) · spoiler and the slice's share of the TR fill. Every readout block
//! sets LIN, SLC, REP, NAV and REV (= 1 on negative readouts, ISMRMRD `ACQ_IS_REVERSE`).
//!
//! Blips play between readout gradients (never during them), so ky is constant over each
//! whole readout. TE is the time from the excitation centre to the k-space centre of line
//! `Ny/2` (the middle of its readout gradient).
//!
//! **Ramp sampling** (`ramp_sampling = true`): the readout trapezoid of area `Nx·Δkx` lasts
//! `1/bandwidth_hz_per_pixel` (rounded up to two gradient rasters) and the ADC covers it
//! ramps included, centred on it, with the dwell that keeps the flat-top sample spacing at
//! `Δkx/oversampling` (rounded down to the ADC raster) and as many samples as fit (a multiple
//! of the system's sample divisor). Samples on the ramps are closer in kx, so the data need
//! regridding along kx: the sidecar lists the kx (1/m) of every sample of a positive readout
//! (`kx_per_sample`, negative readouts are the mirror image, sample order reversed in kx), and
//! the gradient timing. Without ramp sampling the ADC of `Nx·oversampling` samples at
//! `1/(BW·Nx·os)` lies on the flat top and the samples are on the Cartesian grid.

use serde::Deserialize;

use crate::build::{
    Adc, Channel, Event, PulseSpec, Rf, RfUse, SequenceBuilder, Trapezoid, TrapezoidSpec,
    calc_duration, make_gauss_pulse, make_trapezoid,
};
use crate::error::Result;
use crate::system::{System, ceil_to};
use crate::time::Nanos;

use super::common::{
    self, ceil_block, label_set, ms_on_raster, shortest_trapezoid, slice_freq_offset,
    slice_phase_offset, spoiler_area, to_ms,
};
use super::se::{Geometry, GeometryKeys, selective, slot_fills, tr_on_raster};
use super::{Generated, Sidecar};

/// Parameters of the `epi` kind.
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
    /// Echo time in ms (excitation centre to the centre of k-space).
    pub te_ms: f64,
    /// Repetition time in ms (excitation to excitation of the same slice).
    pub tr_ms: f64,
    /// Excitation flip angle in degrees (default 90).
    #[serde(default = "ninety")]
    pub flip_deg: f64,
    /// Bandwidth in Hz/pixel: 1/(readout gradient duration) with ramp sampling, else
    /// 1/(ADC window).
    pub bandwidth_hz_per_pixel: f64,
    /// Sample on the readout ramps (default true).
    #[serde(default = "yes")]
    pub ramp_sampling: bool,
    /// Readout oversampling factor (default 1).
    #[serde(default = "one")]
    pub readout_oversampling: i64,
    /// Navigator (phase-correction) readouts before the phase encoding (default 3).
    #[serde(default = "three")]
    pub n_navigators: i64,
    /// Fat saturation before each excitation (default false).
    #[serde(default)]
    pub fat_saturation: bool,
    /// Repetitions of the whole volume (label REP; default 1).
    #[serde(default = "one")]
    pub repetitions: i64,
}

fn one() -> i64 {
    1
}
fn three() -> i64 {
    3
}
fn ninety() -> f64 {
    90.0
}
fn yes() -> bool {
    true
}

/// Excitation pulse duration.
const T_EXC: Nanos = Nanos(2_000_000);
/// Fat-saturation pulse duration.
const T_FS: Nanos = Nanos(8_000_000);
/// Fat chemical shift in ppm.
const FAT_PPM: f64 = -3.45;
/// Fat-saturation flip angle in degrees.
const FAT_FLIP_DEG: f64 = 110.0;
/// Spoiler area in cycles across the slice thickness.
const SPOILER_CYCLES: f64 = 4.0;

/// The EPI readout: gradient (positive polarity), ADC and the kx of its samples.
#[derive(Debug, Clone)]
struct EpiReadout {
    gx: Trapezoid,
    adc: Adc,
    /// Block duration of one readout.
    d_ro: Nanos,
    /// Time of the gradient centre (kx = 0) from the block start.
    t_c: Nanos,
    /// kx of each sample of a positive readout, 1/m.
    kx: Vec<f64>,
}

/// kx (1/m) at time `t` (from the gradient start) of a trapezoid after a −area/2 prephaser.
fn kx_at(g: &Trapezoid, t: f64) -> f64 {
    let (r, f, d) = (
        g.rise_time.as_secs_f64(),
        g.flat_time.as_secs_f64(),
        g.fall_time.as_secs_f64(),
    );
    let a = g.amplitude;
    let integral = if t <= 0.0 {
        0.0
    } else if t <= r {
        0.5 * a * t * t / r
    } else if t <= r + f {
        a * (0.5 * r + (t - r))
    } else if t <= r + f + d {
        let u = t - r - f;
        a * (0.5 * r + f + u - 0.5 * u * u / d)
    } else {
        g.area()
    };
    integral - 0.5 * g.area()
}

fn readout(geo: &Geometry, ramp: bool, system: &System) -> Result<EpiReadout> {
    let nx = geo.matrix[0];
    let os = geo.oversampling;
    let dk = 1.0 / geo.fov[0];
    let area = nx as f64 * dk;
    let bw = geo.bandwidth;
    let ar = system.rasters.adc.0.max(1);
    let rr = system.rasters.rf.0.max(1);
    let g2 = system.rasters.grad * 2;
    let div = system.adc_samples_divisor.max(1) as usize;
    // The gradient starts after the ADC dead time so the ADC may start with it.
    let g0 = ceil_to(system.adc_dead_time, system.rasters.grad);
    let (gx, adc) = if ramp {
        let t_ro = ceil_to(Nanos::from_secs_f64(1.0 / bw), g2);
        let gx = make_trapezoid(
            Channel::X,
            &TrapezoidSpec::area(area).duration(t_ro),
            system,
        )
        .map_err(|_| {
            let min = shortest_trapezoid(Channel::X, area, system).shape_duration();
            common::param_error(
                "bandwidth_hz_per_pixel",
                bw,
                &format!(
                    "a ramp-sampled readout of {nx} pixels over {:.1} mm needs at least {} ms at this system's gradient limits; use bandwidth_hz_per_pixel ≤ {:.0} or a larger fov_mm",
                    geo.fov[0] * 1e3,
                    common::fmt_ms(ceil_to(min, g2)),
                    (1.0 / ceil_to(min, g2).as_secs_f64()).floor()
                ),
            )
        })?;
        // The flat-top Nyquist dwell rounded down to the ADC raster, or a few rasters shorter:
        // the longest dwell whose window (a multiple of the divisor of samples, centred on the
        // gradient, starting on the RF raster) leaves at most one dwell unsampled at each end,
        // else the one reaching furthest out in kx.
        let dwell_max = ((dk / (gx.amplitude * os as f64) * 1e9) as i64 / ar) * ar;
        let mut best: Option<(Nanos, usize)> = None;
        for d in (0..20).map(|k| dwell_max - k * ar).filter(|&d| d > 0) {
            let mut n = (t_ro.0 / d) as usize / div * div;
            while n > 0 && (t_ro.0 - n as i64 * d) % (2 * rr) != 0 {
                n -= div;
            }
            if n == 0 {
                continue;
            }
            if best.is_none_or(|(bd, bn)| n as i64 * d > bn as i64 * bd.0) {
                best = Some((Nanos(d), n));
            }
            if t_ro.0 - n as i64 * d <= 2 * d {
                break;
            }
        }
        let Some((dwell, n)) = best else {
            return Err(common::param_error(
                "bandwidth_hz_per_pixel",
                bw,
                "no ADC window fits the ramp-sampled readout (too few samples per line); lower the bandwidth or raise readout_oversampling",
            ));
        };
        let pad = Nanos((t_ro.0 - n as i64 * dwell.0) / 2);
        let adc = make_adc(n, dwell, g0 + pad, system);
        (delayed(gx, g0), adc)
    } else {
        let n = nx * os;
        if n % div != 0 {
            return Err(common::param_error(
                "matrix",
                nx,
                &format!("{n} samples (× oversampling {os}) are not a multiple of {div}"),
            ));
        }
        let dwell_s = 1.0 / (bw * n as f64);
        let dwell = Nanos((((dwell_s * 1e9) / ar as f64).round() as i64).max(1) * ar);
        let window = dwell * n as i64;
        let amp = dk / (os as f64 * dwell.as_secs_f64());
        common::check_amplitude(
            &format!("bandwidth_hz_per_pixel = {bw}: the EPI readout"),
            amp,
            system,
            "lower bandwidth_hz_per_pixel or enlarge fov_mm",
        )?;
        let flat = ceil_to(window, g2);
        let rise = common::ramp_time(amp, system);
        let gx = Trapezoid {
            channel: Channel::X,
            amplitude: amp,
            rise_time: rise,
            flat_time: flat,
            fall_time: rise,
            delay: g0,
        };
        // Centred on the flat top as closely as the RF raster (ADC start) allows.
        let pad = Nanos((flat - window).0 / 2 / rr * rr);
        let adc = make_adc(n, dwell, g0 + rise + pad, system);
        (gx, adc)
    };
    let t_end = gx.delay + gx.shape_duration();
    let d_ro = ceil_block(
        t_end.max(adc.delay + adc.window() + system.adc_dead_time),
        system,
    );
    let t_c = gx.delay + Nanos(gx.shape_duration().0 / 2);
    let kx = (0..adc.num_samples)
        .map(|i| {
            let t =
                (adc.delay - gx.delay).as_secs_f64() + (i as f64 + 0.5) * adc.dwell.as_secs_f64();
            kx_at(&gx, t)
        })
        .collect();
    Ok(EpiReadout {
        gx,
        adc,
        d_ro,
        t_c,
        kx,
    })
}

fn delayed(mut g: Trapezoid, d: Nanos) -> Trapezoid {
    g.delay = d;
    g
}

fn make_adc(n: usize, dwell: Nanos, delay: Nanos, system: &System) -> Adc {
    Adc {
        num_samples: n as u64,
        dwell,
        delay,
        freq_offset: 0.0,
        phase_offset: 0.0,
        freq_ppm: 0.0,
        phase_ppm: 0.0,
        dead_time: system.adc_dead_time,
        phase_modulation: Vec::new(),
    }
}

fn negated(g: &Trapezoid) -> Trapezoid {
    let mut g = g.clone();
    g.amplitude = -g.amplitude;
    g
}

/// Builds the `epi` sequence.
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
    common::in_range("flip_deg", p.flip_deg, 1e-3, 180.0)?;
    let n_nav = common::count_in_range("n_navigators", p.n_navigators, 0, 16)?;
    let reps = common::count_in_range("repetitions", p.repetitions, 1, 100_000)?;
    let ny = geo.matrix[1];
    let dky = 1.0 / geo.fov[1];

    let (rf_ex, gz_ex, gz_reph) = selective(
        p.flip_deg,
        T_EXC,
        geo.thickness,
        RfUse::Excitation,
        0.0,
        system,
    )?;
    let gz_reph =
        gz_reph.unwrap_or_else(|| shortest_trapezoid(Channel::Z, -0.5 * gz_ex.area(), system));

    let ro = readout(&geo, p.ramp_sampling, system)?;
    let gx_pre = shortest_trapezoid(Channel::X, -0.5 * ro.gx.area(), system);
    let gy_pre = shortest_trapezoid(Channel::Y, -((ny / 2) as f64) * dky, system);
    let blip = shortest_trapezoid(Channel::Y, dky, system);
    let d_blip = ceil_block(blip.shape_duration(), system);
    let gz_spoil = shortest_trapezoid(
        Channel::Z,
        spoiler_area(SPOILER_CYCLES, geo.thickness),
        system,
    );
    let d_spoil = ceil_block(gz_spoil.shape_duration(), system);
    let fat_sat = if p.fat_saturation {
        let f = FAT_PPM * 1e-6 * system.b0 * system.gamma;
        let spfs = make_gauss_pulse(
            &PulseSpec::new(FAT_FLIP_DEG.to_radians(), T_FS)
                .tbw(f.abs() * T_FS.as_secs_f64())
                .freq_offset(f)
                .use_(RfUse::Saturation),
            system,
        )?;
        let rf = spfs.rf;
        let rf_end = ceil_to(
            rf.delay + rf.shape_dur + rf.ringdown_time,
            system.rasters.grad,
        );
        let sp = delayed(
            shortest_trapezoid(
                Channel::Z,
                spoiler_area(2.0 * SPOILER_CYCLES, geo.thickness),
                system,
            ),
            rf_end,
        );
        let d = ceil_block(
            calc_duration(&[rf.clone().into(), sp.clone().into()]),
            system,
        );
        Some((rf, sp, d))
    } else {
        None
    };

    let d_ex = ceil_block(
        calc_duration(&[rf_ex.clone().into(), gz_ex.clone().into()]),
        system,
    );
    let c_ex = rf_ex.delay + rf_ex.center;
    let mut pre_durs = vec![gx_pre.shape_duration(), gz_reph.shape_duration()];
    if n_nav == 0 {
        pre_durs.push(gy_pre.shape_duration());
    }
    let min_pre = ceil_block(pre_durs.into_iter().max().unwrap_or_default(), system);
    let d_gypre = ceil_block(gy_pre.shape_duration(), system);
    let nav_time = if n_nav > 0 {
        ro.d_ro * n_nav as i64 + d_blip * (n_nav as i64 - 1) + d_gypre
    } else {
        Nanos::ZERO
    };
    let to_centre = nav_time + (ro.d_ro + d_blip) * (ny / 2) as i64 + ro.t_c;
    let min_te = (d_ex - c_ex) + min_pre + to_centre;
    common::positive("te_ms", p.te_ms)?;
    let te = ms_on_raster("te_ms", p.te_ms, system.rasters.block)?;
    if te < min_te {
        return Err(common::min_te_error(
            p.te_ms,
            min_te,
            "this FOV, matrix, bandwidth and navigator count",
        ));
    }
    let d_pre = te - (d_ex - c_ex) - to_centre;
    let d_fs = fat_sat.as_ref().map_or(Nanos::ZERO, |f| f.2);
    let per =
        d_fs + d_ex + d_pre + nav_time + ro.d_ro * ny as i64 + d_blip * (ny as i64 - 1) + d_spoil;
    let tr = tr_on_raster(p.tr_ms, system)?;
    let fills = slot_fills(
        p.tr_ms,
        tr,
        per,
        geo.n_slices(),
        &format!("TE {} ms", common::fmt_ms(te)),
        system,
    )?;

    let mut sb = SequenceBuilder::new(system);
    let gx_neg = negated(&ro.gx);
    for rep in 0..reps {
        for (j, &slice) in geo.order.iter().enumerate() {
            if let Some((rf, sp, d)) = &fat_sat {
                sb.add_block(&[rf.clone().into(), sp.clone().into(), Event::Delay(*d)])?;
            }
            let pos = geo.positions[slice];
            let mut rf: Rf = rf_ex.clone();
            rf.freq_offset = slice_freq_offset(gz_ex.amplitude, pos);
            rf.phase_offset = slice_phase_offset(rf.freq_offset, rf.center);
            sb.add_block(&[rf.into(), gz_ex.clone().into()])?;
            let mut pre: Vec<Event> = vec![
                gx_pre.clone().into(),
                gz_reph.clone().into(),
                Event::Delay(d_pre),
            ];
            if n_nav == 0 {
                pre.push(gy_pre.clone().into());
            }
            sb.add_block(&pre)?;
            let mut polarity_neg = false;
            let readout_block = |neg: bool, lin: usize, nav: bool| -> Vec<Event> {
                vec![
                    if neg { gx_neg.clone() } else { ro.gx.clone() }.into(),
                    ro.adc.clone().into(),
                    Event::Delay(ro.d_ro),
                    label_set("LIN", lin as i64),
                    label_set("SLC", slice as i64),
                    label_set("REP", rep as i64),
                    label_set("NAV", nav as i64),
                    label_set("REV", neg as i64),
                ]
            };
            for n in 0..n_nav {
                sb.add_block(&readout_block(polarity_neg, ny / 2, true))?;
                polarity_neg = !polarity_neg;
                if n + 1 < n_nav {
                    sb.add_block(&[Event::Delay(d_blip)])?;
                }
            }
            if n_nav > 0 {
                sb.add_block(&[gy_pre.clone().into(), Event::Delay(d_gypre)])?;
            }
            for lin in 0..ny {
                sb.add_block(&readout_block(polarity_neg, lin, false))?;
                polarity_neg = !polarity_neg;
                if lin + 1 < ny {
                    sb.add_block(&[blip.clone().into(), Event::Delay(d_blip)])?;
                }
            }
            sb.add_block(&[gz_spoil.clone().into(), Event::Delay(d_spoil)])?;
            if fills[j] > Nanos::ZERO {
                sb.add_block(&[Event::Delay(fills[j])])?;
            }
        }
    }

    let mut sc = Sidecar::new("epi", p.name.as_deref().unwrap_or(""));
    let ns = ro.adc.num_samples;
    sc.encoded_matrix = [ns, ny as u64, 1];
    sc.recon_matrix = [geo.matrix[0] as u64, ny as u64, 1];
    sc.fov_mm = [geo.fov[0] * 1e3, geo.fov[1] * 1e3, geo.thickness * 1e3];
    sc.te_ms = vec![to_ms(te)];
    sc.tr_ms = to_ms(tr);
    sc.flip_deg = vec![p.flip_deg];
    sc.dwell_ns = ro.adc.dwell.0;
    sc.n_adc_samples_per_readout = ns;
    sc.readout_oversampling = geo.oversampling as u64;
    let x = &mut sc.extra;
    x.insert("ramp_sampling".into(), serde_json::json!(p.ramp_sampling));
    x.insert(
        "needs_regridding".into(),
        serde_json::json!(p.ramp_sampling),
    );
    x.insert("kx_per_sample".into(), serde_json::json!(ro.kx));
    x.insert(
        "readout_gradient".into(),
        serde_json::json!({
            "amplitude_hz_per_m": ro.gx.amplitude,
            "rise_ns": ro.gx.rise_time.0,
            "flat_ns": ro.gx.flat_time.0,
            "fall_ns": ro.gx.fall_time.0,
            "adc_delay_from_gradient_start_ns": (ro.adc.delay - ro.gx.delay).0,
        }),
    );
    x.insert(
        "echo_spacing_ms".into(),
        serde_json::json!(to_ms(ro.d_ro + d_blip)),
    );
    x.insert("n_navigators".into(), serde_json::json!(n_nav));
    x.insert("fat_saturation".into(), serde_json::json!(p.fat_saturation));
    x.insert(
        "slice_positions_mm".into(),
        serde_json::json!(geo.positions.iter().map(|v| v * 1e3).collect::<Vec<_>>()),
    );
    x.insert("slice_order".into(), serde_json::json!(geo.order));
    let seq = sb.finish()?;
    common::complete_sidecar(&mut sc, &seq);
    // EPI navigators are phase-correction reference lines (ISMRMRD ACQ_IS_PHASECORR_DATA).
    if n_nav > 0 {
        sc.label_to_ismrmrd
            .insert("NAV".into(), "flag ACQ_IS_PHASECORR_DATA".into());
    }
    Ok(Generated {
        sequence: seq,
        sidecar: sc,
    })
}
