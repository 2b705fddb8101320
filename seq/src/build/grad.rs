//! Gradient builders with pypulseq 1.5's semantics: trapezoids, extended trapezoids (also from
//! an area), arbitrary gradients, and the gradient algebra (`add_gradients`,
//! `split_gradient_at`, `scale_grad`, `align`, `rotate`).
//!
//! Times are integer nanoseconds, so every raster rounding is exact; amplitudes are Hz/m, slew
//! rates Hz/m/s, areas 1/m. Every builder checks its input and returns a [`SeqError::Build`]
//! naming the function, the offending values with their units and what would be accepted.

use crate::build::{Channel, Trapezoid};
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
/// `amplitude`+`duration`; `amplitude`+`flat_time`; `flat_area`+`flat_time`.
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
                let (Some(r), Some(f)) = (rise, fall) else {
                    return Err(SeqError::build(format!(
                        "{F}: area {} 1/m with flat_time {} also needs rise_time; or give duration instead of flat_time",
                        num(area),
                        us(flat)
                    )));
                };
                flat_time = flat;
                // pypulseq divides by rise + flat, which is the same when rise == fall.
                let denom = flat.as_secs_f64() + 0.5 * (r + f).as_secs_f64();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trapezoid_shortest_and_duration() {
        let sys = System::default();
        // pypulseq 1.5.0: make_trapezoid('x', area=1000) -> amp 5e5/... rise 0.00039999..
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
