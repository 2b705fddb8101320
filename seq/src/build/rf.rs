//! RF pulse builders with pypulseq 1.5's semantics: sinc, Gaussian, block (hard), adiabatic
//! (hyperbolic secant, WURST) and arbitrary pulses, optionally with their slice-select and
//! rephasing trapezoids; [`calc_rf_center`] and [`rf_energy`].
//!
//! Shaped pulses are sampled at the raster centres `t = (n+0.5)·Δ` (Δ = the system's RF raster
//! unless [`PulseSpec::dwell`] is set); block pulses have pypulseq's two samples at 0 and `N·Δ`.
//! Every RF gets `dead_time = system.rf_dead_time` and `ringdown_time = system.rf_ringdown_time`,
//! and a delay shorter than the dead time is raised to it. With a slice thickness the delay is
//! also raised so that the pulse starts at the end of the slice-select ramp, as in pypulseq.
//! `Rf::center` is in integer ns from the shape start: pypulseq's centre in seconds is rounded to
//! the nearest ns (it is a whole number of ns for every pulse on a 1 µs raster with
//! `center_pos·duration` a whole number of ns).

use num_complex::Complex64;

use crate::build::grad::{TrapezoidSpec, make_trapezoid};
use crate::build::{Channel, Rf, RfUse, Trapezoid};
use crate::error::{Result, SeqError};
use crate::system::{System, ceil_to};
use crate::time::Nanos;

/// Parameters shared by the shaped-pulse builders (pypulseq's keyword arguments).
#[derive(Debug, Clone)]
pub struct PulseSpec {
    /// Flip angle in rad.
    pub flip_angle: f64,
    /// Pulse duration (pypulseq's default 4 ms).
    pub duration: Nanos,
    /// Time-bandwidth product (default 4).
    pub time_bw_product: f64,
    /// Apodization α of the window `1 − α + α·cos(2πτ/T)` (default 0 = none; 0.5 = Hann).
    pub apodization: f64,
    /// Position of the peak as a fraction of the duration (default 0.5).
    pub center_pos: f64,
    /// Slice thickness in m; `Some` makes the builder return the slice-select gradients.
    pub slice_thickness: Option<f64>,
    /// Maximum gradient for the slice gradients in Hz/m (default: the system's).
    pub max_grad: Option<f64>,
    /// Maximum slew rate for the slice gradients in Hz/m/s (default: the system's).
    pub max_slew: Option<f64>,
    /// Frequency offset in Hz.
    pub freq_offset: f64,
    /// Phase offset in rad.
    pub phase_offset: f64,
    /// Frequency offset in ppm of the Larmor frequency.
    pub freq_ppm: f64,
    /// Phase offset in rad/MHz.
    pub phase_ppm: f64,
    /// Delay from the block start (raised to the RF dead time and the slice ramp).
    pub delay: Nanos,
    /// Sample spacing (default: the system's RF raster).
    pub dwell: Option<Nanos>,
    /// Intended use.
    pub use_: RfUse,
}

impl Default for PulseSpec {
    fn default() -> Self {
        PulseSpec::new(0.0, Nanos(4_000_000))
    }
}

impl PulseSpec {
    /// A spec with pypulseq's defaults for everything but the flip angle (rad) and duration.
    pub fn new(flip_angle_rad: f64, duration: Nanos) -> Self {
        PulseSpec {
            flip_angle: flip_angle_rad,
            duration,
            time_bw_product: 4.0,
            apodization: 0.0,
            center_pos: 0.5,
            slice_thickness: None,
            max_grad: None,
            max_slew: None,
            freq_offset: 0.0,
            phase_offset: 0.0,
            freq_ppm: 0.0,
            phase_ppm: 0.0,
            delay: Nanos::ZERO,
            dwell: None,
            use_: RfUse::Undefined,
        }
    }

    /// Selects a slice of this thickness in m (the builders then return the gradients).
    pub fn slice(mut self, thickness_m: f64) -> Self {
        self.slice_thickness = Some(thickness_m);
        self
    }

    /// Sets the time-bandwidth product.
    pub fn tbw(mut self, tbw: f64) -> Self {
        self.time_bw_product = tbw;
        self
    }

    /// Sets the apodization α.
    pub fn apodization(mut self, a: f64) -> Self {
        self.apodization = a;
        self
    }

    /// Sets the intended use.
    pub fn use_(mut self, u: RfUse) -> Self {
        self.use_ = u;
        self
    }

    /// Sets the phase offset in rad.
    pub fn phase_offset(mut self, p: f64) -> Self {
        self.phase_offset = p;
        self
    }

    /// Sets the frequency offset in Hz.
    pub fn freq_offset(mut self, f: f64) -> Self {
        self.freq_offset = f;
        self
    }

    /// Sets the delay from the block start.
    pub fn delay(mut self, d: Nanos) -> Self {
        self.delay = d;
        self
    }

    /// Sets the peak position as a fraction of the duration.
    pub fn center_pos(mut self, c: f64) -> Self {
        self.center_pos = c;
        self
    }

    /// Sets the sample spacing.
    pub fn dwell(mut self, d: Nanos) -> Self {
        self.dwell = Some(d);
        self
    }

    /// Limits the slice gradients to this amplitude (Hz/m) and slew rate (Hz/m/s).
    pub fn grad_limits(mut self, max_grad: Option<f64>, max_slew: Option<f64>) -> Self {
        self.max_grad = max_grad;
        self.max_slew = max_slew;
        self
    }
}

/// An RF pulse with its optional slice-select gradient and slice rephaser.
#[derive(Debug, Clone)]
pub struct SelectivePulse {
    /// The pulse.
    pub rf: Rf,
    /// Slice-select trapezoid on z (when a slice thickness was given).
    pub gz: Option<Trapezoid>,
    /// Slice rephasing trapezoid on z (sinc, Gaussian and adiabatic pulses with a slice).
    pub gz_reph: Option<Trapezoid>,
}

/// The adiabatic pulse shapes of [`make_adiabatic_pulse`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AdiabaticKind {
    /// Hyperbolic secant: amplitude `sech(βt)`, frequency `−μβ·tanh(βt)/2π` (pypulseq defaults
    /// β = 800 rad/s, μ = 4.9).
    Hypsec {
        /// β in rad/s.
        beta: f64,
        /// μ (dimensionless).
        mu: f64,
    },
    /// WURST: amplitude `1 − |cos(πt/T)|^n`, linear sweep over `bandwidth` (pypulseq defaults
    /// n = 40, 40 kHz).
    Wurst {
        /// Exponent n.
        n_fac: f64,
        /// Sweep bandwidth in Hz.
        bandwidth: f64,
    },
}

/// The adiabaticity factor pypulseq uses by default (`adiabaticity=4`), which sets the peak B1.
pub const ADIABATICITY: f64 = 4.0;

fn err(msg: String) -> SeqError {
    SeqError::build(msg)
}

fn finite(func: &str, name: &str, v: f64, unit: &str) -> Result<()> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(err(format!(
            "{func}: {name} = {v} {unit} is not a finite number"
        )))
    }
}

/// Python's `round` (ties to even) of `num/den` for positive integers.
fn round_div(num: i64, den: i64) -> i64 {
    let (q, r) = (num / den, num % den);
    match (2 * r).cmp(&den) {
        std::cmp::Ordering::Greater => q + 1,
        std::cmp::Ordering::Equal => q + (q & 1),
        std::cmp::Ordering::Less => q,
    }
}

/// Checks the parts of a spec every shaped pulse uses; returns the dwell.
fn check_spec(func: &str, spec: &PulseSpec, system: &System) -> Result<Nanos> {
    finite(func, "flip_angle", spec.flip_angle, "rad")?;
    if spec.duration.0 <= 0 {
        return Err(err(format!(
            "{func}: duration = {} ns must be positive (pypulseq's default is 4000000 ns)",
            spec.duration.0
        )));
    }
    check_offsets(func, spec)?;
    let dwell = spec.dwell.unwrap_or(system.rasters.rf);
    if dwell.0 <= 0 {
        return Err(err(format!(
            "{func}: dwell = {} ns must be positive (the system RF raster is {} ns)",
            dwell.0, system.rasters.rf.0
        )));
    }
    if let Some(th) = spec.slice_thickness {
        if !(th.is_finite() && th > 0.0) {
            return Err(err(format!(
                "{func}: slice_thickness = {th} m must be a positive number (e.g. 0.005 for 5 mm)"
            )));
        }
    }
    for (name, v, unit) in [
        ("max_grad", spec.max_grad, "Hz/m"),
        ("max_slew", spec.max_slew, "Hz/m/s"),
    ] {
        if let Some(x) = v {
            if !(x.is_finite() && x > 0.0) {
                return Err(err(format!(
                    "{func}: {name} = {x} {unit} must be a positive number (or None for the \
                     system's)"
                )));
            }
        }
    }
    Ok(dwell)
}

fn check_offsets(func: &str, spec: &PulseSpec) -> Result<()> {
    finite(func, "freq_offset", spec.freq_offset, "Hz")?;
    finite(func, "phase_offset", spec.phase_offset, "rad")?;
    finite(func, "freq_ppm", spec.freq_ppm, "ppm")?;
    finite(func, "phase_ppm", spec.phase_ppm, "rad/MHz")?;
    if spec.delay.0 < 0 {
        return Err(err(format!(
            "{func}: delay = {} ns must be zero or positive",
            spec.delay.0
        )));
    }
    Ok(())
}

/// Assembles an [`Rf`] with the spec's offsets and use, the system's dead and ringdown times and
/// the delay raised to the dead time.
fn assemble(
    signal: Vec<Complex64>,
    t: Vec<f64>,
    shape_dur: Nanos,
    center: Nanos,
    spec: &PulseSpec,
    use_: RfUse,
    system: &System,
) -> Rf {
    Rf {
        signal,
        t,
        shape_dur,
        delay: spec.delay.max(system.rf_dead_time),
        center,
        freq_offset: spec.freq_offset,
        phase_offset: spec.phase_offset,
        freq_ppm: spec.freq_ppm,
        phase_ppm: spec.phase_ppm,
        dead_time: system.rf_dead_time,
        ringdown_time: system.rf_ringdown_time,
        use_,
    }
}

/// Raster-centre sample times `(n+0.5)·dwell` in seconds.
fn centre_times(n: usize, dwell: Nanos) -> Vec<f64> {
    let d = dwell.as_secs_f64();
    (0..n).map(|k| (k as f64 + 0.5) * d).collect()
}

/// Sinc and Gaussian: `window(τ)·shape(bw·τ)` at the raster centres, scaled to the flip angle.
fn windowed_pulse(
    func: &str,
    spec: &PulseSpec,
    system: &System,
    shape: impl Fn(f64) -> f64,
) -> Result<SelectivePulse> {
    let dwell = check_spec(func, spec, system)?;
    finite(func, "time_bw_product", spec.time_bw_product, "")?;
    finite(func, "apodization", spec.apodization, "")?;
    if !(0.0..=1.0).contains(&spec.center_pos) {
        return Err(err(format!(
            "{func}: center_pos = {} must lie in [0, 1] (0.5 = peak at mid-pulse)",
            spec.center_pos
        )));
    }
    if spec.slice_thickness.is_some() && spec.time_bw_product <= 0.0 {
        return Err(err(format!(
            "{func}: time_bw_product = {} must be positive for a slice-selective pulse",
            spec.time_bw_product
        )));
    }
    let n = round_div(spec.duration.0, dwell.0);
    if n < 1 {
        return Err(err(format!(
            "{func}: duration = {} ns is shorter than half a dwell ({} ns); no samples",
            spec.duration.0, dwell.0
        )));
    }
    let n = n as usize;
    let dur_s = spec.duration.as_secs_f64();
    let bandwidth = spec.time_bw_product / dur_s;
    let alpha = spec.apodization;
    let t = centre_times(n, dwell);
    let mut re: Vec<f64> = t
        .iter()
        .map(|&ti| {
            let tt = ti - dur_s * spec.center_pos;
            let window = 1.0 - alpha + alpha * (2.0 * std::f64::consts::PI * tt / dur_s).cos();
            window * shape(bandwidth * tt)
        })
        .collect();
    let flip = re.iter().sum::<f64>() * dwell.as_secs_f64() * 2.0 * std::f64::consts::PI;
    if !(flip.is_finite() && flip != 0.0) {
        return Err(err(format!(
            "{func}: the shape integrates to {flip} rad per unit amplitude (time_bw_product = \
             {}, apodization = {}), so it cannot be scaled to a flip angle; use apodization < 1 \
             and a finite time_bw_product",
            spec.time_bw_product, spec.apodization
        )));
    }
    for s in &mut re {
        *s *= spec.flip_angle / flip;
        if *s == 0.0 {
            *s = 0.0; // no negative zeros (their phase would read as π)
        }
    }
    let signal = re.into_iter().map(|r| Complex64::new(r, 0.0)).collect();
    let center = Nanos((spec.duration.0 as f64 * spec.center_pos).round() as i64);
    let mut rf = assemble(signal, t, dwell * n as i64, center, spec, spec.use_, system);
    let (gz, gz_reph) = match spec.slice_thickness {
        None => (None, None),
        Some(th) => {
            let (gz, gzr) = slice_gradients(
                func,
                &mut rf,
                bandwidth / th,
                spec.duration,
                Some(spec.center_pos),
                spec,
                system,
            )?;
            (Some(gz), gzr)
        }
    };
    Ok(SelectivePulse { rf, gz, gz_reph })
}

/// The slice-select trapezoid (flat for `flat_time` with amplitude `amplitude`), its rephaser
/// (when `center_pos` is given) and pypulseq's delay alignment of the pulse and the gradient.
fn slice_gradients(
    func: &str,
    rf: &mut Rf,
    amplitude: f64,
    flat_time: Nanos,
    center_pos: Option<f64>,
    spec: &PulseSpec,
    system: &System,
) -> Result<(Trapezoid, Option<Trapezoid>)> {
    let limits = |t: TrapezoidSpec| TrapezoidSpec {
        max_grad: spec.max_grad,
        max_slew: spec.max_slew,
        ..t
    };
    let in_context = |e: SeqError| {
        err(format!(
            "{func}: slice-select gradient for amplitude {amplitude} Hz/m over {} ns: {e}",
            flat_time.0
        ))
    };
    let area = amplitude * flat_time.as_secs_f64();
    let mut gz = make_trapezoid(
        Channel::Z,
        &limits(TrapezoidSpec::flat_area(area, flat_time)),
        system,
    )
    .map_err(in_context)?;
    let gzr = match center_pos {
        None => None,
        Some(c) => Some(
            make_trapezoid(
                Channel::Z,
                &limits(TrapezoidSpec::area(
                    -area * (1.0 - c) - 0.5 * (gz.area() - area),
                )),
                system,
            )
            .map_err(in_context)?,
        ),
    };
    if rf.delay > gz.rise_time {
        gz.delay = ceil_to(rf.delay - gz.rise_time, system.rasters.grad);
    }
    if rf.delay < gz.rise_time + gz.delay {
        rf.delay = gz.rise_time + gz.delay;
    }
    Ok((gz, gzr))
}

/// A sinc pulse (pypulseq `make_sinc_pulse`), with slice-select and rephasing gradients when
/// `spec.slice_thickness` is set (amplitude `tbw/duration/thickness`, flat for the duration).
pub fn make_sinc_pulse(spec: &PulseSpec, system: &System) -> Result<SelectivePulse> {
    windowed_pulse("make_sinc_pulse", spec, system, |x| {
        if x == 0.0 {
            1.0
        } else {
            let px = std::f64::consts::PI * x;
            px.sin() / px
        }
    })
}

/// A Gaussian pulse `exp(−π(bw·τ)²)` with `bw = tbw/duration` (pypulseq `make_gauss_pulse`),
/// with slice gradients when `spec.slice_thickness` is set.
pub fn make_gauss_pulse(spec: &PulseSpec, system: &System) -> Result<SelectivePulse> {
    windowed_pulse("make_gauss_pulse", spec, system, |x| {
        (-std::f64::consts::PI * x * x).exp()
    })
}

/// A block (hard) pulse (pypulseq `make_block_pulse`): give `duration`, or `bandwidth` (then the
/// duration is `time_bw_product/bandwidth`, or `1/(4·bandwidth)` without a time-bandwidth
/// product); neither gives pypulseq's 4 ms. The amplitude is `flip/(2π·duration)` with two
/// samples at 0 and `N·Δrf`; the centre is at half the shape. Of `spec` only the offsets, delay
/// and use are taken (pypulseq's block pulse has no slice selection).
pub fn make_block_pulse(
    flip_angle: f64,
    duration: Option<Nanos>,
    bandwidth: Option<f64>,
    time_bw_product: Option<f64>,
    spec: &PulseSpec,
    system: &System,
) -> Result<Rf> {
    const F: &str = "make_block_pulse";
    finite(F, "flip_angle", flip_angle, "rad")?;
    check_offsets(F, spec)?;
    let dur_s = match (duration, bandwidth) {
        (Some(d), Some(b)) => {
            return Err(err(format!(
                "{F}: both duration = {} ns and bandwidth = {b} Hz given; give one of them",
                d.0
            )));
        }
        (Some(d), None) => {
            if d.0 <= 0 {
                return Err(err(format!("{F}: duration = {} ns must be positive", d.0)));
            }
            d.as_secs_f64()
        }
        (None, Some(b)) => {
            if !(b.is_finite() && b > 0.0) {
                return Err(err(format!(
                    "{F}: bandwidth = {b} Hz must be a positive number"
                )));
            }
            match time_bw_product {
                Some(p) if p.is_finite() && p > 0.0 => p / b,
                Some(p) if !p.is_finite() || p < 0.0 => {
                    return Err(err(format!(
                        "{F}: time_bw_product = {p} must be a positive number"
                    )));
                }
                _ => 1.0 / (4.0 * b),
            }
        }
        (None, None) => 4e-3,
    };
    let raster = system.rasters.rf;
    let n = (dur_s / raster.as_secs_f64()).round_ties_even();
    if !(1.0..1e15).contains(&n) {
        return Err(err(format!(
            "{F}: duration = {dur_s} s is less than half the {} ns RF raster (or too long); \
             use at least {} ns",
            raster.0, raster.0
        )));
    }
    let shape_dur = raster * n as i64;
    let amp = flip_angle / (2.0 * std::f64::consts::PI) / dur_s;
    Ok(assemble(
        vec![Complex64::new(amp, 0.0); 2],
        vec![0.0, shape_dur.as_secs_f64()],
        shape_dur,
        Nanos(shape_dur.0 / 2) + Nanos(shape_dur.0 % 2),
        spec,
        spec.use_,
        system,
    ))
}

/// pypulseq's `calc_rf_center` without a stored centre: the middle of the samples within
/// 0.99999 of the peak magnitude (time in s).
fn peak_center(signal: &[Complex64], t: &[f64]) -> f64 {
    let mags: Vec<f64> = signal.iter().map(|s| s.norm()).collect();
    let peaks = crate::shape::peak_plateau(&mags);
    match (peaks.first(), peaks.last()) {
        (Some(&a), Some(&b)) => 0.5 * (t[a] + t[b]),
        _ => 0.0,
    }
}

/// An adiabatic inversion pulse (pypulseq `make_adiabatic_pulse`, adiabaticity
/// [`ADIABATICITY`]): `spec.duration` (pypulseq's default is 10 ms), dwell, offsets, delay and
/// slice are used; the flip angle is not (the amplitude follows from the adiabatic condition).
/// The use defaults to inversion when `spec.use_` is undefined, as in pypulseq.
///
/// With a slice thickness the gradient bandwidth is `μβ/π` (hypsec) or the sweep (WURST). The
/// rephaser area uses the pulse centre as a fraction of the duration; pypulseq 1.5 passes the
/// centre in seconds there (a bug that makes the rephaser almost twice too large), so Accord's
/// rephaser deliberately differs from pypulseq's.
pub fn make_adiabatic_pulse(
    kind: &AdiabaticKind,
    spec: &PulseSpec,
    system: &System,
) -> Result<SelectivePulse> {
    const F: &str = "make_adiabatic_pulse";
    let spec_ok = PulseSpec {
        flip_angle: 0.0,
        ..spec.clone()
    };
    let dwell = check_spec(F, &spec_ok, system)?;
    let dur_s = spec.duration.as_secs_f64();
    let dw = dwell.as_secs_f64();
    let n_raw = round_div(spec.duration.0, dwell.0);
    let n = (n_raw / 4 * 4) as usize;
    if n < 4 {
        return Err(err(format!(
            "{F}: duration = {} ns gives {n_raw} samples of {} ns; at least 4 are needed",
            spec.duration.0, dwell.0
        )));
    }
    let (amp_mod, freq_mod, sel_bw): (Vec<f64>, Vec<f64>, f64) = match *kind {
        AdiabaticKind::Hypsec { beta, mu } => {
            finite(F, "beta", beta, "rad/s")?;
            finite(F, "mu", mu, "")?;
            if beta <= 0.0 || mu <= 0.0 {
                return Err(err(format!(
                    "{F}: hypsec beta = {beta} rad/s and mu = {mu} must be positive (pypulseq \
                     defaults 800 and 4.9)"
                )));
            }
            let half = (n / 2) as i64;
            let tt: Vec<f64> = (-half..half).map(|k| k as f64 / n as f64 * dur_s).collect();
            (
                tt.iter().map(|&t| 1.0 / (beta * t).cosh()).collect(),
                tt.iter().map(|&t| -mu * beta * (beta * t).tanh()).collect(),
                mu * beta / std::f64::consts::PI,
            )
        }
        AdiabaticKind::Wurst { n_fac, bandwidth } => {
            finite(F, "n_fac", n_fac, "")?;
            finite(F, "bandwidth", bandwidth, "Hz")?;
            if n_fac <= 0.0 || bandwidth <= 0.0 {
                return Err(err(format!(
                    "{F}: wurst n_fac = {n_fac} and bandwidth = {bandwidth} Hz must be positive \
                     (pypulseq defaults 40 and 40000 Hz)"
                )));
            }
            let step = bandwidth / (n - 1) as f64;
            (
                (0..n)
                    .map(|k| {
                        let t = k as f64 * dur_s / n as f64;
                        1.0 - (std::f64::consts::PI * t / dur_s).cos().abs().powf(n_fac)
                    })
                    .collect(),
                (0..n)
                    .map(|k| {
                        let f = if k == n - 1 {
                            bandwidth / 2.0
                        } else {
                            k as f64 * step - bandwidth / 2.0
                        };
                        f * 2.0 * std::f64::consts::PI
                    })
                    .collect(),
                bandwidth,
            )
        }
    };
    let mut phase_mod: Vec<f64> = freq_mod
        .iter()
        .scan(0.0, |acc, &f| {
            *acc += f;
            Some(*acc * dw)
        })
        .collect();
    let i = freq_mod
        .iter()
        .enumerate()
        .fold((0usize, f64::INFINITY), |(bi, bv), (k, f)| {
            if f.abs() < bv { (k, f.abs()) } else { (bi, bv) }
        })
        .0;
    let no_zero = || {
        err(format!(
            "{F}: the frequency sweep has no zero crossing inside the pulse; check the pulse \
             parameters ({kind:?})"
        ))
    };
    let (phase0, amp0, rate) = if freq_mod[i] == 0.0 {
        if i == 0 || i + 1 >= n {
            return Err(no_zero());
        }
        (
            phase_mod[i],
            amp_mod[i],
            (freq_mod[i + 1] - freq_mod[i - 1]).abs() / (2.0 * dw),
        )
    } else {
        let j = if i + 1 < n && freq_mod[i] * freq_mod[i + 1] < 0.0 {
            i + 1
        } else if i >= 1 {
            i - 1
        } else {
            return Err(no_zero());
        };
        let diff = freq_mod[j] - freq_mod[i];
        (
            (phase_mod[i] * freq_mod[j] - phase_mod[j] * freq_mod[i]) / diff,
            (amp_mod[i] * freq_mod[j] - amp_mod[j] * freq_mod[i]) / diff,
            (freq_mod[i] - freq_mod[j]).abs() / dw,
        )
    };
    phase_mod.iter_mut().for_each(|p| *p -= phase0);
    let amp = (rate * ADIABATICITY).sqrt() / (2.0 * std::f64::consts::PI * amp0);
    if !amp.is_finite() {
        return Err(err(format!(
            "{F}: the peak amplitude is not finite ({amp} Hz) for {kind:?}; the amplitude at \
             the zero-frequency point is {amp0}"
        )));
    }
    let pad_left = (n_raw as usize - n) / 2;
    let pad_right = n_raw as usize - n - pad_left;
    let signal: Vec<Complex64> = std::iter::repeat_n(Complex64::new(0.0, 0.0), pad_left)
        .chain(
            amp_mod
                .iter()
                .zip(&phase_mod)
                .map(|(&a, &p)| Complex64::from_polar(1.0, p) * (amp * a)),
        )
        .chain(std::iter::repeat_n(Complex64::new(0.0, 0.0), pad_right))
        .collect();
    let n_total = n_raw as usize;
    let t = centre_times(n_total, dwell);
    let c = peak_center(&signal, &t);
    let center = Nanos::from_secs_f64(c);
    let use_ = if spec.use_ == RfUse::Undefined {
        RfUse::Inversion
    } else {
        spec.use_
    };
    let mut rf = assemble(
        signal,
        t,
        dwell * n_total as i64,
        center,
        spec,
        use_,
        system,
    );
    let (gz, gz_reph) = match spec.slice_thickness {
        None => (None, None),
        Some(th) => {
            let cpos = center.as_secs_f64() / dur_s;
            let (gz, gzr) = slice_gradients(
                F,
                &mut rf,
                sel_bw / th,
                spec.duration,
                Some(cpos),
                spec,
                system,
            )?;
            (Some(gz), gzr)
        }
    };
    Ok(SelectivePulse { rf, gz, gz_reph })
}

/// An RF pulse from samples at the raster centres (pypulseq `make_arbitrary_rf`): unless
/// `no_signal_scaling`, the signal is scaled so that `|Σ s·Δ| = flip/2π`. The centre is the
/// middle of the samples within 0.99999 of the peak magnitude. With `spec.slice_thickness` the
/// slice-select gradient uses `bandwidth` (Hz), or `spec.time_bw_product/duration` when
/// `bandwidth` is `None`; no rephaser is made (as in pypulseq). `spec.duration`, `apodization`
/// and `center_pos` are not used.
pub fn make_arbitrary_rf(
    signal: &[Complex64],
    flip_angle: f64,
    bandwidth: Option<f64>,
    spec: &PulseSpec,
    no_signal_scaling: bool,
    system: &System,
) -> Result<SelectivePulse> {
    const F: &str = "make_arbitrary_rf";
    if signal.is_empty() {
        return Err(err(format!("{F}: the signal has no samples")));
    }
    if let Some(i) = signal
        .iter()
        .position(|s| !(s.re.is_finite() && s.im.is_finite()))
    {
        return Err(err(format!(
            "{F}: signal[{i}] = {} Hz is not finite",
            signal[i]
        )));
    }
    let dwell = spec.dwell.unwrap_or(system.rasters.rf);
    let checked = PulseSpec {
        flip_angle: if no_signal_scaling { 0.0 } else { flip_angle },
        duration: dwell * signal.len() as i64,
        ..spec.clone()
    };
    check_spec(F, &checked, system)?;
    let mut sig = signal.to_vec();
    if !no_signal_scaling {
        let integral = sig.iter().sum::<Complex64>().norm() * dwell.as_secs_f64();
        if integral == 0.0 {
            return Err(err(format!(
                "{F}: the signal sums to zero, so it cannot be scaled to flip_angle = \
                 {flip_angle} rad; pass no_signal_scaling = true to use it as given (Hz)"
            )));
        }
        let k = flip_angle / (2.0 * std::f64::consts::PI) / integral;
        sig.iter_mut().for_each(|s| *s *= k);
    }
    let n = sig.len();
    let shape_dur = dwell * n as i64;
    let t = centre_times(n, dwell);
    let c = peak_center(&sig, &t);
    let mut rf = assemble(
        sig,
        t,
        shape_dur,
        Nanos::from_secs_f64(c),
        spec,
        spec.use_,
        system,
    );
    let gz = match spec.slice_thickness {
        None => None,
        Some(th) => {
            let bw = match bandwidth {
                Some(b) if b.is_finite() && b > 0.0 => b,
                Some(b) => {
                    return Err(err(format!(
                        "{F}: bandwidth = {b} Hz must be a positive number for slice selection"
                    )));
                }
                None => {
                    let b = spec.time_bw_product / shape_dur.as_secs_f64();
                    if !(b.is_finite() && b > 0.0) {
                        return Err(err(format!(
                            "{F}: slice selection needs a bandwidth (Hz) or a positive \
                             time_bw_product (got {})",
                            spec.time_bw_product
                        )));
                    }
                    b
                }
            };
            Some(slice_gradients(F, &mut rf, bw / th, shape_dur, None, spec, system)?.0)
        }
    };
    Ok(SelectivePulse {
        rf,
        gz,
        gz_reph: None,
    })
}

/// The time of the effective rotation from the shape start and the index of the sample nearest
/// to it (pypulseq `calc_rf_center` for a pulse with a stored centre).
pub fn calc_rf_center(rf: &Rf) -> (Nanos, usize) {
    let c = rf.center.as_secs_f64();
    let idx =
        rf.t.iter()
            .enumerate()
            .fold((0usize, f64::INFINITY), |(bi, bv), (k, &t)| {
                let d = (t - c).abs();
                if d < bv { (k, d) } else { (bi, bv) }
            })
            .0;
    (rf.center, idx)
}

/// The RF energy `∫|B1(t)|² dt` in Hz²·s (B1 in Hz as in the signal; multiply by `(1/γ)²` for
/// T²·s). SAR scales with this quantity. Each sample holds its value from the midpoint to its
/// previous sample to the midpoint to its next one, clipped to `[0, shape_dur]`: for raster-centre
/// samples that is `Σ|s|²·Δ`, for a block pulse `|s|²·T`.
pub fn rf_energy(rf: &Rf) -> f64 {
    let n = rf.signal.len().min(rf.t.len());
    sample_hold_weights(&rf.t[..n], rf.shape_dur.as_secs_f64())
        .iter()
        .zip(&rf.signal)
        .map(|(w, s)| s.norm_sqr() * w)
        .sum()
}

/// Integration weights (s) of RF samples at times `t` (s) over `[0, shape_dur]`: each sample
/// holds its value from the midpoint to its previous sample to the midpoint to its next one,
/// clipped to the pulse. Raster-centre samples get `Δ` each, a block pulse's two samples `T/2`.
pub fn sample_hold_weights(t: &[f64], shape_dur: f64) -> Vec<f64> {
    let n = t.len();
    (0..n)
        .map(|k| {
            let lo = if k == 0 { 0.0 } else { 0.5 * (t[k - 1] + t[k]) };
            let hi = if k + 1 == n {
                shape_dur
            } else {
                0.5 * (t[k] + t[k + 1])
            };
            (hi.min(shape_dur) - lo.max(0.0)).max(0.0)
        })
        .collect()
}
