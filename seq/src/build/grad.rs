//! Gradient builders with pypulseq 1.5's semantics: trapezoids, extended trapezoids (also from
//! an area), arbitrary gradients, and the gradient algebra (`add_gradients`,
//! `split_gradient_at`, `scale_grad`, `align`, `rotate`).
//!
//! Times are integer nanoseconds, so every raster rounding is exact; amplitudes are Hz/m, slew
//! rates Hz/m/s, areas 1/m. Every builder checks its input and returns a [`SeqError::Build`]
//! naming the function, the offending values with their units and what would be accepted.

use crate::build::{ArbitraryGrad, Channel, Event, Grad, GradTiming, Trapezoid};
use crate::error::{Result, SeqError};
use crate::system::{System, ceil_secs_to};
use crate::time::Nanos;

/// Relative tolerance of the amplitude and slew-rate checks (pypulseq's `eps`).
const TOL: f64 = 1e-9;

/// A time for messages, in µs.
fn us(t: Nanos) -> String {
    format!("{} µs", t.0 as f64 / 1e3)
}

/// A number for messages, 5 significant digits.
fn num(x: f64) -> String {
    format!("{x:.4e}")
}

/// Returns an error unless `x` is finite.
fn finite(func: &str, what: &str, x: f64, unit: &str) -> Result<()> {
    if x.is_finite() {
        Ok(())
    } else {
        Err(SeqError::build(format!(
            "{func}: {what} {x} {unit} is not a finite number"
        )))
    }
}

/// Returns an error unless `t` ≥ 0 and a multiple of `raster`.
fn check_raster(func: &str, what: &str, t: Nanos, raster: Nanos) -> Result<()> {
    if t.0 < 0 {
        return Err(SeqError::build(format!(
            "{func}: {what} {} is negative; give zero or a positive multiple of the gradient raster {}",
            us(t),
            us(raster)
        )));
    }
    if t.0 % raster.0.max(1) != 0 {
        return Err(SeqError::build(format!(
            "{func}: {what} {} is not on the gradient raster {}; e.g. {} would work",
            us(t),
            us(raster),
            us(crate::system::ceil_to(t, raster))
        )));
    }
    Ok(())
}

/// The limits to use: the override when given and positive, else the system's.
fn limit(over: Option<f64>, sys: f64) -> f64 {
    match over {
        Some(x) if x > 0.0 && x.is_finite() => x,
        _ => sys,
    }
}

/// Inputs of [`make_trapezoid`] (pypulseq's keyword arguments). Give exactly one of `area`,
/// `flat_area`, `amplitude`, with the timing sets pypulseq accepts:
/// `area`; `area`+`duration`; `area`+`duration`+`rise_time`; `area`+`flat_time`+`rise_time`;
/// `amplitude`+`duration`; `amplitude`+`flat_time`; `flat_area`+`flat_time`; and, beyond
/// pypulseq, `area`+`flat_time` without `rise_time` (the shortest slew-limited ramps).
#[derive(Debug, Clone, Default)]
pub struct TrapezoidSpec {
    /// Flat-top amplitude in Hz/m.
    pub amplitude: Option<f64>,
    /// Total area in 1/m.
    pub area: Option<f64>,
    /// Area of the flat top in 1/m.
    pub flat_area: Option<f64>,
    /// Rise + flat + fall.
    pub duration: Option<Nanos>,
    /// Flat time.
    pub flat_time: Option<Nanos>,
    /// Ramp-up time (0 = not given; defaults to `fall_time`, else the shortest).
    pub rise_time: Option<Nanos>,
    /// Ramp-down time (0 = not given; defaults to `rise_time`).
    pub fall_time: Option<Nanos>,
    /// Delay from the block start.
    pub delay: Nanos,
    /// Maximum amplitude in Hz/m (default: the system's).
    pub max_grad: Option<f64>,
    /// Maximum slew rate in Hz/m/s (default: the system's).
    pub max_slew: Option<f64>,
}

impl TrapezoidSpec {
    /// The shortest trapezoid (or triangle) with total area `a` 1/m.
    pub fn area(a: f64) -> Self {
        TrapezoidSpec {
            area: Some(a),
            ..TrapezoidSpec::default()
        }
    }

    /// A trapezoid whose flat top of length `flat_time` has area `a` 1/m.
    pub fn flat_area(a: f64, flat_time: Nanos) -> Self {
        TrapezoidSpec {
            flat_area: Some(a),
            flat_time: Some(flat_time),
            ..TrapezoidSpec::default()
        }
    }

    /// A trapezoid of amplitude `a` Hz/m with a flat top of length `flat_time`.
    pub fn amplitude(a: f64, flat_time: Nanos) -> Self {
        TrapezoidSpec {
            amplitude: Some(a),
            flat_time: Some(flat_time),
            ..TrapezoidSpec::default()
        }
    }

    /// A trapezoid of amplitude `a` Hz/m lasting `duration` (rise + flat + fall).
    pub fn amplitude_duration(a: f64, duration: Nanos) -> Self {
        TrapezoidSpec {
            amplitude: Some(a),
            duration: Some(duration),
            ..TrapezoidSpec::default()
        }
    }

    /// Sets the total duration (rise + flat + fall).
    pub fn duration(mut self, d: Nanos) -> Self {
        self.duration = Some(d);
        self
    }

    /// Sets the flat time.
    pub fn flat_time(mut self, f: Nanos) -> Self {
        self.flat_time = Some(f);
        self
    }

    /// Sets the ramp-up time (also the ramp-down time unless that is set).
    pub fn rise_time(mut self, r: Nanos) -> Self {
        self.rise_time = Some(r);
        self
    }

    /// Sets the ramp-down time.
    pub fn fall_time(mut self, f: Nanos) -> Self {
        self.fall_time = Some(f);
        self
    }

    /// Sets the delay from the block start.
    pub fn delay(mut self, d: Nanos) -> Self {
        self.delay = d;
        self
    }

    /// Overrides the system's maximum amplitude (Hz/m).
    pub fn max_grad(mut self, g: f64) -> Self {
        self.max_grad = Some(g);
        self
    }

    /// Overrides the system's maximum slew rate (Hz/m/s).
    pub fn max_slew(mut self, s: f64) -> Self {
        self.max_slew = Some(s);
        self
    }
}

/// pypulseq's `calculate_shortest_params_for_area`: (amplitude, rise, flat, fall).
fn shortest_for_area(
    area: f64,
    max_slew: f64,
    max_grad: f64,
    raster: Nanos,
) -> (f64, Nanos, Nanos, Nanos) {
    let mut rise = ceil_secs_to((area.abs() / max_slew).sqrt(), raster).max(raster);
    let mut amplitude = area / rise.as_secs_f64();
    let mut effective = rise;
    if amplitude.abs() > max_grad * (1.0 + TOL) {
        effective = ceil_secs_to(area.abs() / max_grad, raster);
        amplitude = area / effective.as_secs_f64();
        rise = ceil_secs_to(amplitude.abs() / max_slew, raster).max(raster);
    }
    (amplitude, rise, effective - rise, rise)
}

/// Makes a trapezoid gradient (pypulseq `make_trapezoid`) from one of the input sets of
/// [`TrapezoidSpec`]. With `area` alone the given rise/fall times are ignored (as pypulseq).
/// All times must be on the gradient raster.
pub fn make_trapezoid(
    channel: Channel,
    spec: &TrapezoidSpec,
    system: &System,
) -> Result<Trapezoid> {
    const F: &str = "make_trapezoid";
    let raster = system.rasters.grad;
    let max_grad = limit(spec.max_grad, system.max_grad);
    let max_slew = limit(spec.max_slew, system.max_slew);
    for (what, v) in [
        ("amplitude", spec.amplitude),
        ("area", spec.area),
        ("flat_area", spec.flat_area),
    ] {
        if let Some(x) = v {
            finite(F, what, x, if what == "amplitude" { "Hz/m" } else { "1/m" })?;
        }
    }
    for (what, v) in [
        ("duration", spec.duration),
        ("flat_time", spec.flat_time),
        ("rise_time", spec.rise_time),
        ("fall_time", spec.fall_time),
    ] {
        if let Some(t) = v {
            check_raster(F, what, t, raster)?;
        }
    }
    if spec.delay.0 < 0 {
        return Err(SeqError::build(format!(
            "{F}: delay {} is negative; give zero or a positive delay",
            us(spec.delay)
        )));
    }
    // A zero ramp time means "not given" (pypulseq's `rise_time or fall_time`).
    let given = |t: Option<Nanos>| t.filter(|t| t.0 > 0);
    let mut rise = given(spec.rise_time).or(given(spec.fall_time));
    let mut fall = given(spec.fall_time).or(rise);
    let flat_time;
    let amplitude;
    match (spec.area, spec.flat_area, spec.amplitude) {
        (Some(area), None, None) => match (spec.duration, spec.flat_time) {
            (Some(duration), None) => {
                let (r, f) = match (rise, fall) {
                    (Some(r), Some(f)) => {
                        if duration < r + f {
                            return Err(SeqError::build(format!(
                                "{F}: duration {} is shorter than rise_time {} + fall_time {}; give at least {}",
                                us(duration),
                                us(r),
                                us(f),
                                us(r + f)
                            )));
                        }
                        (r, f)
                    }
                    _ => {
                        let (_, r, fl, f) = shortest_for_area(area, max_slew, max_grad, raster);
                        let min = r + fl + f;
                        if duration < min {
                            return Err(SeqError::build(format!(
                                "{F}: area {} 1/m needs at least {} at max_grad {} Hz/m and max_slew {} Hz/m/s, duration {} given",
                                num(area),
                                us(min),
                                num(max_grad),
                                num(max_slew),
                                us(duration)
                            )));
                        }
                        (r, f)
                    }
                };
                rise = Some(r);
                fall = Some(f);
                flat_time = duration - r - f;
                let denom = flat_time.as_secs_f64() + 0.5 * (r + f).as_secs_f64();
                if denom <= 0.0 {
                    return Err(SeqError::build(format!(
                        "{F}: duration {} leaves no time for area {} 1/m; give a positive duration",
                        us(duration),
                        num(area)
                    )));
                }
                amplitude = area / denom;
            }
            (None, Some(flat)) => {
                let (r, f) = match (rise, fall) {
                    (Some(r), Some(f)) => (r, f),
                    _ => {
                        // pypulseq raises here; Accord takes the shortest equal ramps r on the
                        // raster with |area|/(flat + r)/r ≤ max_slew.
                        let fl = flat.as_secs_f64();
                        let a = area.abs() / max_slew;
                        let r0 = 0.5 * (-fl + (fl * fl + 4.0 * a).sqrt());
                        let mut r = ceil_secs_to(r0, raster).max(raster);
                        while area.abs() / (fl + r.as_secs_f64()) / r.as_secs_f64()
                            > max_slew * (1.0 + TOL)
                        {
                            r = r + raster;
                        }
                        (r, r)
                    }
                };
                rise = Some(r);
                fall = Some(f);
                flat_time = flat;
                // pypulseq divides by rise + flat, which is the same when rise == fall.
                let denom = flat.as_secs_f64() + 0.5 * (r + f).as_secs_f64();
                if denom <= 0.0 {
                    return Err(SeqError::build(format!(
                        "{F}: area {} 1/m with flat_time {} and no ramps has no duration; give a positive flat_time or rise_time",
                        num(area),
                        us(flat)
                    )));
                }
                amplitude = area / denom;
            }
            (Some(d), Some(f)) => {
                return Err(SeqError::build(format!(
                    "{F}: give either duration ({}) or flat_time ({}) with area, not both",
                    us(d),
                    us(f)
                )));
            }
            (None, None) => {
                let (a, r, fl, f) = shortest_for_area(area, max_slew, max_grad, raster);
                amplitude = a;
                rise = Some(r);
                fall = Some(f);
                flat_time = fl;
            }
        },
        (None, Some(flat_area), None) => match (spec.duration, spec.flat_time) {
            (None, Some(flat)) if flat.0 > 0 => {
                flat_time = flat;
                amplitude = flat_area / flat.as_secs_f64();
            }
            (d, f) => {
                return Err(SeqError::build(format!(
                    "{F}: flat_area {} 1/m needs a positive flat_time and no duration (given flat_time {}, duration {})",
                    num(flat_area),
                    f.map_or("none".to_string(), us),
                    d.map_or("none".to_string(), us)
                )));
            }
        },
        (None, None, Some(amp)) => {
            if rise.is_none() {
                let r = ceil_secs_to(amp.abs() / max_slew, raster).max(raster);
                rise = Some(r);
                fall = Some(r);
            }
            let (r, f) = (rise.unwrap_or(raster), fall.unwrap_or(raster));
            amplitude = amp;
            match (spec.duration, spec.flat_time) {
                (Some(duration), None) => {
                    if duration < r + f {
                        return Err(SeqError::build(format!(
                            "{F}: amplitude {} Hz/m needs rise_time {} + fall_time {} = {}, duration {} given",
                            num(amp),
                            us(r),
                            us(f),
                            us(r + f),
                            us(duration)
                        )));
                    }
                    flat_time = duration - r - f;
                }
                (None, Some(flat)) => flat_time = flat,
                (d, f) => {
                    return Err(SeqError::build(format!(
                        "{F}: amplitude {} Hz/m needs exactly one of duration and flat_time (given duration {}, flat_time {})",
                        num(amp),
                        d.map_or("none".to_string(), us),
                        f.map_or("none".to_string(), us)
                    )));
                }
            }
        }
        (a, fa, amp) => {
            return Err(SeqError::build(format!(
                "{F}: give exactly one of area, flat_area and amplitude (given area {a:?} 1/m, flat_area {fa:?} 1/m, amplitude {amp:?} Hz/m)"
            )));
        }
    }
    let shortest = ceil_secs_to(amplitude.abs() / max_slew, raster).max(raster);
    let rise = rise.unwrap_or(shortest);
    let fall = fall.unwrap_or(shortest);
    if amplitude.abs() > max_grad * (1.0 + TOL) {
        return Err(SeqError::build(format!(
            "{F}: amplitude {} Hz/m exceeds max_grad {} Hz/m (rise {}, flat {}, fall {}); give a longer duration or flat_time",
            num(amplitude),
            num(max_grad),
            us(rise),
            us(flat_time),
            us(fall)
        )));
    }
    for (what, ramp) in [("rise_time", rise), ("fall_time", fall)] {
        let slew = amplitude.abs() / ramp.as_secs_f64();
        if slew > max_slew * (1.0 + TOL) {
            return Err(SeqError::build(format!(
                "{F}: amplitude {} Hz/m over {what} {} is a slew rate of {} Hz/m/s, above max_slew {} Hz/m/s; {what} ≥ {} would work",
                num(amplitude),
                us(ramp),
                num(slew),
                num(max_slew),
                us(ceil_secs_to(amplitude.abs() / max_slew, raster))
            )));
        }
    }
    Ok(Trapezoid {
        channel,
        amplitude,
        rise_time: rise,
        flat_time,
        fall_time: fall,
        delay: spec.delay,
    })
}

/// Checks a piecewise-linear waveform, given as (time in ns, value in Hz/m) points, against the
/// amplitude and slew limits.
fn check_limits(func: &str, points: &[(f64, f64)], max_grad: f64, max_slew: f64) -> Result<()> {
    for &(t, v) in points {
        if v.abs() > max_grad * (1.0 + TOL) {
            return Err(SeqError::build(format!(
                "{func}: amplitude {} Hz/m at {} µs exceeds max_grad {} Hz/m",
                num(v),
                t / 1e3,
                num(max_grad)
            )));
        }
    }
    for w in points.windows(2) {
        let (dt, dv) = ((w[1].0 - w[0].0) * 1e-9, w[1].1 - w[0].1);
        if dt <= 0.0 {
            continue;
        }
        let slew = dv.abs() / dt;
        if slew > max_slew * (1.0 + TOL) {
            return Err(SeqError::build(format!(
                "{func}: slew rate {} Hz/m/s from {} Hz/m at {} µs to {} Hz/m at {} µs exceeds max_slew {} Hz/m/s; ramp over at least {} µs",
                num(slew),
                num(w[0].1),
                w[0].0 / 1e3,
                num(w[1].1),
                w[1].0 / 1e3,
                num(max_slew),
                dv.abs() / max_slew * 1e6
            )));
        }
    }
    Ok(())
}

/// Linear interpolation of `(x, y)` points at `x0` (clamped to the end values, as `np.interp`).
fn interp(points: &[(f64, f64)], x0: f64) -> f64 {
    let Some(first) = points.first() else {
        return 0.0;
    };
    if x0 <= first.0 {
        return first.1;
    }
    for w in points.windows(2) {
        if x0 <= w[1].0 {
            let span = w[1].0 - w[0].0;
            if span <= 0.0 {
                return w[1].1;
            }
            return w[0].1 + (w[1].1 - w[0].1) * (x0 - w[0].0) / span;
        }
    }
    points[points.len() - 1].1
}

/// Makes an extended trapezoid (pypulseq `make_extended_trapezoid`): a piecewise-linear
/// gradient through `(times[i], amplitudes[i])`, times from the block start. The first time
/// becomes the delay. All times must be on the gradient raster unless `convert_to_arbitrary`,
/// which resamples the shape onto raster centres (then only the first and last must be).
pub fn make_extended_trapezoid(
    channel: Channel,
    times: &[Nanos],
    amplitudes: &[f64],
    convert_to_arbitrary: bool,
    system: &System,
) -> Result<ArbitraryGrad> {
    extended_trapezoid(
        "make_extended_trapezoid",
        channel,
        times,
        amplitudes,
        convert_to_arbitrary,
        false,
        system,
    )
}

/// [`make_extended_trapezoid`] with the function name for messages and pypulseq's `skip_check`.
fn extended_trapezoid(
    func: &str,
    channel: Channel,
    times: &[Nanos],
    amplitudes: &[f64],
    convert_to_arbitrary: bool,
    skip_check: bool,
    system: &System,
) -> Result<ArbitraryGrad> {
    let raster = system.rasters.grad;
    if times.len() != amplitudes.len() {
        return Err(SeqError::build(format!(
            "{func}: {} times but {} amplitudes; give one amplitude per time",
            times.len(),
            amplitudes.len()
        )));
    }
    if times.len() < 2 {
        return Err(SeqError::build(format!(
            "{func}: {} point(s) given; an extended trapezoid needs at least two",
            times.len()
        )));
    }
    for (i, &a) in amplitudes.iter().enumerate() {
        finite(func, &format!("amplitudes[{i}]"), a, "Hz/m")?;
    }
    if times[0].0 < 0 {
        return Err(SeqError::build(format!(
            "{func}: first time {} is negative; times count from the block start",
            us(times[0])
        )));
    }
    if let Some(i) = (1..times.len()).find(|&i| times[i] <= times[i - 1]) {
        return Err(SeqError::build(format!(
            "{func}: times must be strictly ascending, but times[{}] = {} follows times[{}] = {}",
            i,
            us(times[i]),
            i - 1,
            us(times[i - 1])
        )));
    }
    let (t0, tn) = (times[0], times[times.len() - 1]);
    check_raster(func, "last time", tn, raster)?;
    let (first, last) = (amplitudes[0], amplitudes[amplitudes.len() - 1]);
    if !skip_check && t0.0 > 0 && first != 0.0 {
        return Err(SeqError::build(format!(
            "{func}: first amplitude {} Hz/m at {} is non-zero, so the gradient must start at time 0 to connect to the previous block",
            num(first),
            us(t0)
        )));
    }
    let grad = if convert_to_arbitrary {
        check_raster(func, "first time", t0, raster)?;
        let pts: Vec<(f64, f64)> = times
            .iter()
            .zip(amplitudes)
            .map(|(t, &a)| ((*t - t0).0 as f64, a))
            .collect();
        let n = (tn - t0).0 / raster.0;
        let r = raster.0 as f64;
        let tt: Vec<f64> = (0..n).map(|i| (i as f64 + 0.5) * r).collect();
        let waveform: Vec<f64> = tt.iter().map(|&t| interp(&pts, t)).collect();
        ArbitraryGrad {
            channel,
            waveform,
            tt: tt.iter().map(|t| t * 1e-9).collect(),
            timing: GradTiming::RasterCentres,
            shape_dur: tn - t0,
            delay: t0,
            first,
            last,
        }
    } else {
        if let Some(i) = times.iter().position(|t| t.0 % raster.0.max(1) != 0) {
            return Err(SeqError::build(format!(
                "{func}: times[{i}] = {} is not on the gradient raster {}; put all times on the raster or use convert_to_arbitrary",
                us(times[i]),
                us(raster)
            )));
        }
        ArbitraryGrad {
            channel,
            waveform: amplitudes.to_vec(),
            tt: times.iter().map(|t| (*t - t0).as_secs_f64()).collect(),
            timing: GradTiming::TimeShape,
            shape_dur: tn - t0,
            delay: t0,
            first,
            last,
        }
    };
    check_limits(
        func,
        &arb_points(&grad, Nanos::ZERO),
        system.max_grad,
        system.max_slew,
    )?;
    Ok(grad)
}

/// The piecewise-linear shape of an arbitrary gradient as (time in ns, Hz/m) points from
/// `(offset, first)` through the samples to `(offset + shape_dur, last)`.
fn arb_points(g: &ArbitraryGrad, offset: Nanos) -> Vec<(f64, f64)> {
    let o = offset.0 as f64;
    let end = g.shape_dur.0 as f64;
    let mut pts = Vec::with_capacity(g.tt.len() + 2);
    let tt: Vec<f64> = g.tt.iter().map(|t| (t * 1e9 * 8.0).round() / 8.0).collect();
    if tt.first().is_none_or(|&t| t > 0.0) {
        pts.push((o, g.first));
    }
    pts.extend(tt.iter().map(|t| t + o).zip(g.waveform.iter().copied()));
    if tt.last().is_none_or(|&t| t < end) {
        pts.push((o + end, g.last));
    }
    pts
}

/// The shape of any gradient as (time in ns from the block start, Hz/m) points.
fn grad_points(g: &Grad) -> Vec<(f64, f64)> {
    match g {
        Grad::Trap(t) => {
            let d = t.delay.0 as f64;
            let r = d + t.rise_time.0 as f64;
            let f = r + t.flat_time.0 as f64;
            let e = f + t.fall_time.0 as f64;
            if t.flat_time.0 > 0 {
                vec![(d, 0.0), (r, t.amplitude), (f, t.amplitude), (e, 0.0)]
            } else {
                vec![(d, 0.0), (r, t.amplitude), (e, 0.0)]
            }
        }
        Grad::Arb(a) => arb_points(a, a.delay),
    }
}

/// Makes a gradient of least slew and, among those, shortest duration on the raster that goes
/// from `grad_start` to `grad_end` Hz/m with total area `area` 1/m (pypulseq
/// `make_extended_trapezoid_area`, 99 % of the system limits).
pub fn make_extended_trapezoid_area(
    channel: Channel,
    grad_start: f64,
    grad_end: f64,
    area: f64,
    system: &System,
) -> Result<ArbitraryGrad> {
    const F: &str = "make_extended_trapezoid_area";
    finite(F, "grad_start", grad_start, "Hz/m")?;
    finite(F, "grad_end", grad_end, "Hz/m")?;
    finite(F, "area", area, "1/m")?;
    let max_slew = system.max_slew * 0.99;
    let max_grad = system.max_grad * 0.99;
    for (what, g) in [("grad_start", grad_start), ("grad_end", grad_end)] {
        if g.abs() > max_grad {
            return Err(SeqError::build(format!(
                "{F}: {what} {} Hz/m exceeds 99 % of max_grad ({} Hz/m) used by the search",
                num(g),
                num(max_grad)
            )));
        }
    }
    let r = system.rasters.grad.as_secs_f64();
    let ramp = |g1: f64, g2: f64| -> i64 { ((g1 - g2).abs() / max_slew / r).ceil() as i64 };
    let find = |duration: i64| -> Option<(i64, i64, i64, f64)> {
        let mut cands: Vec<(i64, i64)> = Vec::new();
        for sign in [1.0, -1.0] {
            let up = ((duration as f64 * max_slew * r - sign * grad_start + sign * grad_end)
                / (2.0 * max_slew * r))
                .round_ties_even() as i64;
            let (up, down) = if sign * grad_start + up as f64 * max_slew * r > max_grad + 1e-9 {
                (
                    ramp(grad_start, sign * max_grad),
                    ramp(grad_end, sign * max_grad),
                )
            } else {
                (up, duration - up)
            };
            if up > 0 && down > 0 && up + down <= duration {
                cands.push((up, down));
            }
        }
        cands.extend((1..duration).map(|up| (up, duration - up)));
        let mut best: Option<(f64, (i64, i64, i64, f64))> = None;
        for (up, down) in cands {
            let flat = duration - up - down;
            if flat < 0 {
                continue;
            }
            let amp = -((up as f64) * r * grad_start + (down as f64) * r * grad_end - 2.0 * area)
                / (((up + 2 * flat + down) as f64) * r);
            let s1 = (grad_start - amp).abs() / (up as f64 * r);
            let s2 = (grad_end - amp).abs() / (down as f64 * r);
            if amp.abs() <= max_grad + 1e-8 && s1 <= max_slew + 1e-8 && s2 <= max_slew + 1e-8 {
                let key = s1 + s2;
                if best.as_ref().is_none_or(|(k, _)| key < *k) {
                    best = Some((key, (up, flat, down, amp)));
                }
            }
        }
        best.map(|b| b.1)
    };
    let min_duration = ramp(grad_end, grad_start).max(2);
    let mut max_duration = ramp(0.0, grad_start)
        .max(ramp(0.0, grad_end))
        .max(min_duration);
    let mut solution = (min_duration..=max_duration).find_map(find);
    if solution.is_none() {
        // Expand until a solution exists, then bisect for the shortest.
        loop {
            max_duration *= 2;
            if max_duration > 1 << 32 {
                return Err(SeqError::build(format!(
                    "{F}: no gradient from {} to {} Hz/m with area {} 1/m found within {} s",
                    num(grad_start),
                    num(grad_end),
                    num(area),
                    max_duration as f64 * r
                )));
            }
            if find(max_duration).is_some() {
                break;
            }
        }
        let (mut lo, mut hi) = (max_duration / 2, max_duration);
        while lo < hi - 1 {
            let mid = (lo + hi) / 2;
            if find(mid).is_some() {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        solution = find(hi);
    }
    let Some((up, flat, down, amp)) = solution else {
        return Err(SeqError::build(format!(
            "{F}: no gradient from {} to {} Hz/m with area {} 1/m found",
            num(grad_start),
            num(grad_end),
            num(area)
        )));
    };
    let rn = system.rasters.grad;
    let (times, amps) = if flat > 0 {
        (
            vec![
                Nanos::ZERO,
                rn * up,
                rn * (up + flat),
                rn * (up + flat + down),
            ],
            vec![grad_start, amp, amp, grad_end],
        )
    } else {
        (
            vec![Nanos::ZERO, rn * up, rn * (up + down)],
            vec![grad_start, amp, grad_end],
        )
    };
    let g = extended_trapezoid(F, channel, &times, &amps, false, false, system)?;
    if (g.area() - area).abs() >= 1e-8_f64.max(1e-12 * area.abs()) {
        return Err(SeqError::build(format!(
            "{F}: the solution's area {} 1/m misses the requested {} 1/m",
            num(g.area()),
            num(area)
        )));
    }
    Ok(g)
}

/// Options of [`make_arbitrary_grad`] (pypulseq's keyword arguments).
#[derive(Debug, Clone, Default)]
pub struct ArbitraryGradSpec {
    /// Value at the start in Hz/m (default: extrapolated from the first two samples).
    pub first: Option<f64>,
    /// Value at the end in Hz/m (default: extrapolated from the last two samples).
    pub last: Option<f64>,
    /// Delay from the block start.
    pub delay: Nanos,
    /// Samples at raster edges and centres (odd count) instead of raster centres.
    pub oversampling: bool,
    /// Maximum amplitude in Hz/m (default: the system's).
    pub max_grad: Option<f64>,
    /// Maximum slew rate in Hz/m/s (default: the system's).
    pub max_slew: Option<f64>,
}

/// Makes an arbitrary gradient (pypulseq `make_arbitrary_grad`) from samples in Hz/m at raster
/// centres (or, oversampled, at every half raster). Slew rates are checked between all
/// neighbouring points including `first` and `last` at their true spacing.
pub fn make_arbitrary_grad(
    channel: Channel,
    waveform: &[f64],
    spec: &ArbitraryGradSpec,
    system: &System,
) -> Result<ArbitraryGrad> {
    const F: &str = "make_arbitrary_grad";
    let n = waveform.len();
    if n == 0 {
        return Err(SeqError::build(format!(
            "{F}: empty waveform; give at least one sample"
        )));
    }
    for (i, &w) in waveform.iter().enumerate() {
        finite(F, &format!("waveform[{i}]"), w, "Hz/m")?;
    }
    if spec.delay.0 < 0 {
        return Err(SeqError::build(format!(
            "{F}: delay {} is negative; give zero or a positive delay",
            us(spec.delay)
        )));
    }
    if spec.oversampling && n % 2 == 0 {
        return Err(SeqError::build(format!(
            "{F}: oversampled waveform has {n} samples; it needs an odd number (edges and centres)"
        )));
    }
    let extrap = |a: f64, b: f64| {
        if spec.oversampling {
            2.0 * a - b
        } else {
            0.5 * (3.0 * a - b)
        }
    };
    let need_two = || {
        SeqError::build(format!(
            "{F}: a waveform of {n} sample(s) needs `first` and `last` given (they are extrapolated from two samples)"
        ))
    };
    let first = match spec.first {
        Some(f) => f,
        None if n >= 2 => extrap(waveform[0], waveform[1]),
        None => return Err(need_two()),
    };
    let last = match spec.last {
        Some(l) => l,
        None if n >= 2 => extrap(waveform[n - 1], waveform[n - 2]),
        None => return Err(need_two()),
    };
    finite(F, "first", first, "Hz/m")?;
    finite(F, "last", last, "Hz/m")?;
    let r = system.rasters.grad;
    let (tt, shape_dur, timing) = if spec.oversampling {
        (
            (0..n)
                .map(|i| (i + 1) as f64 * 0.5 * r.as_secs_f64())
                .collect::<Vec<_>>(),
            Nanos(((n as i64 + 1) * r.0) / 2),
            GradTiming::Oversampled,
        )
    } else {
        (
            (0..n).map(|i| (i as f64 + 0.5) * r.as_secs_f64()).collect(),
            r * n as i64,
            GradTiming::RasterCentres,
        )
    };
    let grad = ArbitraryGrad {
        channel,
        waveform: waveform.to_vec(),
        tt,
        timing,
        shape_dur,
        delay: spec.delay,
        first,
        last,
    };
    check_limits(
        F,
        &arb_points(&grad, Nanos::ZERO),
        limit(spec.max_grad, system.max_grad),
        limit(spec.max_slew, system.max_slew),
    )?;
    Ok(grad)
}

/// Value of a shape at `t` ns, zero outside its time span.
fn value_at(points: &[(f64, f64)], t: f64) -> f64 {
    match (points.first(), points.last()) {
        (Some(a), Some(b)) if t >= a.0 && t <= b.0 => interp(points, t),
        _ => 0.0,
    }
}

/// Adds gradients on one channel (pypulseq `add_gradients`): trapezoids of equal timing give a
/// trapezoid, trapezoids and extended trapezoids an extended trapezoid on the union of their
/// corner times, anything else an arbitrary gradient sampled on the raster (oversampled when
/// any input is).
pub fn add_gradients(grads: &[Grad], system: &System) -> Result<Grad> {
    const F: &str = "add_gradients";
    let Some(g0) = grads.first() else {
        return Err(SeqError::build(format!("{F}: no gradients given")));
    };
    if grads.len() == 1 {
        return Ok(g0.clone());
    }
    let channel = g0.channel();
    if let Some(g) = grads.iter().find(|g| g.channel() != channel) {
        return Err(SeqError::build(format!(
            "{F}: gradients on channels {} and {} cannot be added; give gradients of one channel",
            channel.as_str(),
            g.channel().as_str()
        )));
    }
    if let Grad::Trap(t0) = g0 {
        let same = grads.iter().all(|g| match g {
            Grad::Trap(t) => {
                (t.rise_time, t.flat_time, t.fall_time, t.delay)
                    == (t0.rise_time, t0.flat_time, t0.fall_time, t0.delay)
            }
            Grad::Arb(_) => false,
        });
        if same {
            let amplitude: f64 = grads
                .iter()
                .map(|g| match g {
                    Grad::Trap(t) => t.amplitude,
                    Grad::Arb(_) => 0.0,
                })
                .sum();
            let spec = TrapezoidSpec {
                amplitude: Some(amplitude),
                flat_time: Some(t0.flat_time),
                rise_time: Some(t0.rise_time),
                fall_time: Some(t0.fall_time),
                delay: t0.delay,
                ..TrapezoidSpec::default()
            };
            return make_trapezoid(channel, &spec, system)
                .map(Grad::Trap)
                .map_err(|e| SeqError::build(format!("{F}: the sum of trapezoids: {e}")));
        }
    }
    let is_simple = |g: &Grad| match g {
        Grad::Trap(_) => true,
        Grad::Arb(a) => a.timing == GradTiming::TimeShape,
    };
    let shapes: Vec<Vec<(f64, f64)>> = grads.iter().map(grad_points).collect();
    if grads.iter().all(is_simple) {
        let mut times: Vec<i64> = shapes
            .iter()
            .flat_map(|s| s.iter().map(|p| p.0.round() as i64))
            .collect();
        times.sort_unstable();
        times.dedup();
        let amps: Vec<f64> = times
            .iter()
            .map(|&t| {
                shapes
                    .iter()
                    .map(|s| {
                        let t = t as f64;
                        // A shape that jumps from zero at its start (after the block start)
                        // contributes only after it, as pypulseq's `tt[0] += eps`.
                        if s[0].0 > 0.0 && t == s[0].0 && s[0].1 != 0.0 {
                            0.0
                        } else {
                            value_at(s, t)
                        }
                    })
                    .sum()
            })
            .collect();
        let times: Vec<Nanos> = times.into_iter().map(Nanos).collect();
        return extended_trapezoid(F, channel, &times, &amps, false, false, system).map(Grad::Arb);
    }
    let raster = system.rasters.grad;
    let common = grads.iter().map(Grad::delay).min().unwrap_or(Nanos::ZERO);
    let end = grads
        .iter()
        .map(Grad::duration)
        .max()
        .unwrap_or(Nanos::ZERO);
    let n = crate::system::ceil_to(end - common, raster).0 / raster.0;
    let oversampling = grads
        .iter()
        .any(|g| matches!(g, Grad::Arb(a) if a.timing == GradTiming::Oversampled));
    let r = raster.0 as f64;
    let c = common.0 as f64;
    let sample_times: Vec<f64> = if oversampling {
        (0..2 * n - 1)
            .map(|k| c + (k + 1) as f64 * 0.5 * r)
            .collect()
    } else {
        (0..n).map(|i| c + (i as f64 + 0.5) * r).collect()
    };
    let waveform: Vec<f64> = sample_times
        .iter()
        .map(|&t| shapes.iter().map(|s| value_at(s, t)).sum())
        .collect();
    let first = grads
        .iter()
        .filter(|g| g.delay() == common)
        .map(Grad::first)
        .sum();
    let last = grads
        .iter()
        .filter(|g| g.duration() == end)
        .map(Grad::last)
        .sum();
    let spec = ArbitraryGradSpec {
        first: Some(first),
        last: Some(last),
        delay: common,
        oversampling,
        ..ArbitraryGradSpec::default()
    };
    make_arbitrary_grad(channel, &waveform, &spec, system)
        .map(Grad::Arb)
        .map_err(|e| SeqError::build(format!("{F}: the sum: {e}")))
}

/// Splits a gradient at `time` from the block start (pypulseq `split_gradient_at`) into the part
/// before and the part after; the second part's delay is `time`. Trapezoids and extended
/// trapezoids become extended trapezoids, arbitrary gradients are cut between samples.
pub fn split_gradient_at(grad: &Grad, time: Nanos, system: &System) -> Result<(Grad, Grad)> {
    const F: &str = "split_gradient_at";
    let raster = system.rasters.grad;
    check_raster(F, "time", time, raster)?;
    let (delay, dur) = (grad.delay(), grad.duration());
    if time >= dur || time.0 <= 0 {
        return Err(SeqError::build(format!(
            "{F}: time {} is not inside the gradient (0 µs, {}); give a time strictly between",
            us(time),
            us(dur)
        )));
    }
    if let Grad::Arb(a) = grad
        && a.timing != GradTiming::TimeShape
    {
        let rel = time - delay;
        let k = rel.0 / raster.0;
        let n_rasters = a.shape_dur.0 / raster.0;
        if rel.0 <= 0 || k >= n_rasters {
            return Err(SeqError::build(format!(
                "{F}: time {} is not inside the arbitrary gradient ({}, {})",
                us(time),
                us(delay),
                us(dur)
            )));
        }
        let k = k as usize;
        let (head, tail, value) = if a.timing == GradTiming::Oversampled {
            let edge = 2 * k - 1;
            (
                &a.waveform[..edge],
                &a.waveform[edge + 1..],
                a.waveform[edge],
            )
        } else {
            (
                &a.waveform[..k],
                &a.waveform[k..],
                0.5 * (a.waveform[k - 1] + a.waveform[k]),
            )
        };
        let part = |w: &[f64], first: f64, last: f64, d: Nanos| -> Result<Grad> {
            make_arbitrary_grad(
                a.channel,
                w,
                &ArbitraryGradSpec {
                    first: Some(first),
                    last: Some(last),
                    delay: d,
                    oversampling: a.timing == GradTiming::Oversampled,
                    max_grad: Some(f64::INFINITY),
                    max_slew: Some(f64::INFINITY),
                },
                system,
            )
            .map(Grad::Arb)
        };
        return Ok((
            part(head, a.first, value, delay)?,
            part(tail, value, a.last, time)?,
        ));
    }
    let mut pts: Vec<(f64, f64)> = grad_points(grad)
        .into_iter()
        .map(|(t, v)| (t - delay.0 as f64, v))
        .collect();
    let (d, tp) = if time < delay {
        pts = std::iter::once((0.0, 0.0))
            .chain(pts.iter().map(|&(t, v)| (t + delay.0 as f64, v)))
            .collect();
        (Nanos::ZERO, time)
    } else {
        (delay, time - delay)
    };
    if tp.0 == 0 {
        return Err(SeqError::build(format!(
            "{F}: time {} is the gradient's start; nothing lies before it, split later",
            us(time)
        )));
    }
    let tpf = tp.0 as f64;
    let amp_tp = interp(&pts, tpf);
    let (mut t1, mut a1): (Vec<Nanos>, Vec<f64>) = pts
        .iter()
        .filter(|p| p.0 < tpf)
        .map(|p| (Nanos(p.0.round() as i64), p.1))
        .unzip();
    t1.push(tp);
    a1.push(amp_tp);
    let (mut t2, mut a2) = (vec![Nanos::ZERO], vec![amp_tp]);
    for p in pts.iter().filter(|p| p.0 > tpf) {
        t2.push(Nanos(p.0.round() as i64) - tp);
        a2.push(p.1);
    }
    let channel = grad.channel();
    let mut g1 = extended_trapezoid(F, channel, &t1, &a1, false, true, system)?;
    g1.delay = d + g1.delay;
    let mut g2 = extended_trapezoid(F, channel, &t2, &a2, false, true, system)?;
    g2.delay = time;
    Ok((Grad::Arb(g1), Grad::Arb(g2)))
}

/// Multiplies a gradient's amplitudes by `factor` (pypulseq `scale_grad` without limit checks).
pub fn scale_grad(grad: &Grad, factor: f64) -> Grad {
    let mut g = grad.clone();
    match &mut g {
        Grad::Trap(t) => t.amplitude *= factor,
        Grad::Arb(a) => {
            a.waveform.iter_mut().for_each(|w| *w *= factor);
            a.first *= factor;
            a.last *= factor;
        }
    }
    g
}

/// How [`align`] places an event within its block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alignment {
    /// At the block start (delay 0).
    Left,
    /// Centred in the block.
    Center,
    /// Ending with the block.
    Right,
}

/// The delay of an event that has one.
fn event_delay(e: &Event) -> Option<Nanos> {
    match e {
        Event::Rf(r) => Some(r.delay),
        Event::Grad(g) => Some(g.delay()),
        Event::Adc(a) => Some(a.delay),
        Event::Trigger(t) => Some(t.delay),
        _ => None,
    }
}

/// Sets the delays of events so they align left, centre or right within the block's duration
/// (pypulseq `align`). A centred event's delay is `(block − own length)/2`, rounded down to
/// whole ns; events without a delay (pure delays, labels, …) are returned unchanged.
pub fn align(events: &[(Alignment, Event)]) -> Vec<Event> {
    let all: Vec<Event> = events.iter().map(|(_, e)| e.clone()).collect();
    let dur = crate::build::calc_duration(&all);
    events
        .iter()
        .map(|(al, e)| {
            let Some(old) = event_delay(e) else {
                return e.clone();
            };
            let len = e.duration() - old;
            let delay = match al {
                Alignment::Left => Nanos::ZERO,
                Alignment::Center => Nanos((dur - len).0.div_euclid(2)),
                Alignment::Right => dur - len,
            };
            let mut e = e.clone();
            match &mut e {
                Event::Rf(r) => r.delay = delay,
                Event::Grad(g) => *g = g.clone().with_delay(delay),
                Event::Adc(a) => a.delay = delay,
                Event::Trigger(t) => t.delay = delay,
                _ => {}
            }
            e
        })
        .collect()
}

/// Largest absolute amplitude of a gradient.
fn grad_mag(g: &Grad) -> f64 {
    match g {
        Grad::Trap(t) => t.amplitude.abs(),
        Grad::Arb(a) => a.waveform.iter().fold(0.0, |m, w| m.max(w.abs())),
    }
}

/// Rotates the gradients among `events` by `angle_rad` about `axis` (pypulseq `rotate`):
/// gradients on the two other axes are projected and summed per axis with [`add_gradients`];
/// other events and gradients on `axis` pass through first, in order.
pub fn rotate(
    events: &[Event],
    axis: Channel,
    angle_rad: f64,
    system: &System,
) -> Result<Vec<Event>> {
    finite("rotate", "angle", angle_rad, "rad")?;
    let others: Vec<Channel> = [Channel::X, Channel::Y, Channel::Z]
        .into_iter()
        .filter(|&c| c != axis)
        .collect();
    let (c, s) = (angle_rad.cos(), angle_rad.sin());
    let mut out = Vec::new();
    let mut rot1 = Vec::new();
    let mut rot2 = Vec::new();
    let mut max_mag: f64 = 0.0;
    for e in events {
        match e {
            Event::Grad(g) if g.channel() != axis => {
                max_mag = max_mag.max(grad_mag(g));
                if g.channel() == others[0] {
                    rot1.push(scale_grad(g, c));
                    rot2.push(scale_grad(g, s).with_channel(others[1]));
                } else {
                    rot2.push(scale_grad(g, c));
                    rot1.push(scale_grad(g, -s).with_channel(others[0]));
                }
            }
            _ => out.push(e.clone()),
        }
    }
    let threshold = 1e-6 * max_mag;
    for set in [rot1, rot2] {
        let set: Vec<Grad> = set
            .into_iter()
            .filter(|g| grad_mag(g) >= threshold)
            .collect();
        if set.is_empty() {
            continue;
        }
        let sum =
            add_gradients(&set, system).map_err(|e| SeqError::build(format!("rotate: {e}")))?;
        if grad_mag(&sum) >= threshold {
            out.push(Event::Grad(sum));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trapezoid_shortest_and_duration() {
        let sys = System::default();
        // The shortest trapezoid for 1000 1/m has that area (pypulseq cases: tests/builders_grad.rs).
        let t = make_trapezoid(Channel::X, &TrapezoidSpec::area(1000.0), &sys).unwrap();
        assert!((t.area() - 1000.0).abs() < 1e-9 * 1000.0);
        let t = make_trapezoid(
            Channel::X,
            &TrapezoidSpec::area(1000.0).duration(Nanos(3_000_000)),
            &sys,
        )
        .unwrap();
        assert_eq!(t.shape_duration(), Nanos(3_000_000));
        assert!((t.area() - 1000.0).abs() < 1e-6);
        let e = make_trapezoid(
            Channel::X,
            &TrapezoidSpec::area(10000.0).duration(Nanos(1_000_000)),
            &sys,
        )
        .unwrap_err();
        assert!(e.to_string().contains("needs at least"), "{e}");
    }
}
