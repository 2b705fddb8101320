//! Scanner system limits (pypulseq's `Opts`): gradient strength and slew, rasters, RF and ADC
//! dead times, B0 and γ, with presets loadable from TOML and unit helpers.
//!
//! Inside Accord gradients are in Hz/m, slew rates in Hz/m/s and times in integer nanoseconds,
//! as in the `.seq` file; the TOML presets use the units physicists write (mT/m, T/m/s, µs).

use serde::Deserialize;

use crate::error::{Result, SeqError};
use crate::time::{Nanos, Rasters};
use crate::timing::SystemLimits;

/// The proton gyromagnetic ratio γ/2π in Hz/T, as pypulseq uses it.
pub const GAMMA_H1: f64 = 42.576e6;

/// Unit conversions between physicists' units and the Hz-based units of Pulseq.
pub mod units {
    use super::GAMMA_H1;

    /// mT/m → Hz/m (γ of ¹H).
    pub fn mt_per_m(g: f64) -> f64 {
        g * 1e-3 * GAMMA_H1
    }

    /// T/m/s → Hz/m/s (γ of ¹H).
    pub fn t_per_m_per_s(s: f64) -> f64 {
        s * GAMMA_H1
    }

    /// Hz/m → mT/m (γ of ¹H).
    pub fn hz_per_m_to_mt_per_m(g: f64) -> f64 {
        g / GAMMA_H1 * 1e3
    }

    /// Hz/m/s → T/m/s (γ of ¹H).
    pub fn hz_per_m_per_s_to_t_per_m_per_s(s: f64) -> f64 {
        s / GAMMA_H1
    }

    /// Degrees → radians.
    pub fn deg(angle: f64) -> f64 {
        angle.to_radians()
    }

    /// Millimetres → metres.
    pub fn mm(x: f64) -> f64 {
        x * 1e-3
    }

    /// Milliseconds → seconds.
    pub fn ms(t: f64) -> f64 {
        t * 1e-3
    }

    /// Microseconds → seconds.
    pub fn us(t: f64) -> f64 {
        t * 1e-6
    }
}

/// System limits and rasters a sequence is built for (pypulseq `Opts()` defaults by
/// [`Default`]).
#[derive(Debug, Clone, PartialEq)]
pub struct System {
    /// Maximum gradient amplitude in Hz/m (default 40 mT/m).
    pub max_grad: f64,
    /// Maximum slew rate in Hz/m/s (default 170 T/m/s).
    pub max_slew: f64,
    /// Fixed ramp time, when the system prescribes one (then `max_slew = max_grad/rise_time`).
    pub rise_time: Option<Nanos>,
    /// Minimum time from a block start to its RF pulse (default 0).
    pub rf_dead_time: Nanos,
    /// Minimum time after the RF pulse's last sample (default 0).
    pub rf_ringdown_time: Nanos,
    /// Minimum time before and after an ADC (default 0).
    pub adc_dead_time: Nanos,
    /// The four rasters (gradient 10 µs, RF 1 µs, ADC 100 ns, block 10 µs by default).
    pub rasters: Rasters,
    /// γ/2π in Hz/T (default ¹H).
    pub gamma: f64,
    /// Main field in T (default 1.5 T).
    pub b0: f64,
    /// Maximum samples per ADC event (0 = no limit).
    pub adc_samples_limit: u64,
    /// ADC sample counts must be multiples of this (default 4).
    pub adc_samples_divisor: u64,
}

impl Default for System {
    fn default() -> Self {
        System {
            max_grad: units::mt_per_m(40.0),
            max_slew: units::t_per_m_per_s(170.0),
            rise_time: None,
            rf_dead_time: Nanos::ZERO,
            rf_ringdown_time: Nanos::ZERO,
            adc_dead_time: Nanos::ZERO,
            rasters: Rasters::default(),
            gamma: GAMMA_H1,
            b0: 1.5,
            adc_samples_limit: 0,
            adc_samples_divisor: 4,
        }
    }
}

/// A system preset as written in TOML (physicists' units; every key optional, defaults as
/// pypulseq's `Opts()`).
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SystemToml {
    /// Free-text name of the scanner or preset.
    pub name: Option<String>,
    /// Maximum gradient amplitude in mT/m.
    pub max_grad_mt_per_m: Option<f64>,
    /// Maximum slew rate in T/m/s.
    pub max_slew_t_per_m_per_s: Option<f64>,
    /// Fixed rise time in µs (overrides the slew rate).
    pub rise_time_us: Option<f64>,
    /// RF dead time in µs.
    pub rf_dead_time_us: Option<f64>,
    /// RF ringdown time in µs.
    pub rf_ringdown_time_us: Option<f64>,
    /// ADC dead time in µs.
    pub adc_dead_time_us: Option<f64>,
    /// Gradient raster in µs.
    pub grad_raster_us: Option<f64>,
    /// RF raster in µs.
    pub rf_raster_us: Option<f64>,
    /// ADC raster in ns.
    pub adc_raster_ns: Option<f64>,
    /// Block duration raster in µs.
    pub block_raster_us: Option<f64>,
    /// Main field in T.
    pub b0_t: Option<f64>,
    /// γ/2π in Hz/T.
    pub gamma_hz_per_t: Option<f64>,
    /// Maximum samples per ADC event (0 = no limit).
    pub adc_samples_limit: Option<u64>,
    /// ADC sample count divisor.
    pub adc_samples_divisor: Option<u64>,
}

impl System {
    /// The Siemens-like preset of many Pulseq demos (max 28 mT/m, 150 T/m/s, RF dead 100 µs,
    /// ringdown 30 µs, ADC dead 10 µs, 3 T).
    pub fn siemens_like() -> Self {
        System {
            max_grad: units::mt_per_m(28.0),
            max_slew: units::t_per_m_per_s(150.0),
            rf_dead_time: Nanos(100_000),
            rf_ringdown_time: Nanos(30_000),
            adc_dead_time: Nanos(10_000),
            b0: 3.0,
            ..System::default()
        }
    }

    /// The timing-check limits of this system.
    pub fn timing_limits(&self) -> SystemLimits {
        SystemLimits {
            grad_raster: self.rasters.grad,
            rf_raster: self.rasters.rf,
            adc_raster: self.rasters.adc,
            block_raster: self.rasters.block,
            rf_dead_time: self.rf_dead_time,
            rf_ringdown_time: self.rf_ringdown_time,
            adc_dead_time: self.adc_dead_time,
        }
    }

    /// Parses a TOML preset (`origin` names the file in errors) and validates it.
    pub fn from_toml_str(text: &str, origin: &str) -> Result<System> {
        let t: SystemToml = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            let msg = e.message().to_string();
            match line {
                Some(line) => SeqError::build(format!("{origin}: line {line}: {msg}")),
                None => SeqError::build(format!("{origin}: {msg}")),
            }
        })?;
        System::from_toml(&t).map_err(|e| SeqError::build(format!("{origin}: {e}")))
    }

    /// Builds and validates a system from a parsed preset.
    pub fn from_toml(t: &SystemToml) -> Result<System> {
        let d = System::default();
        let pos = |key: &str, v: Option<f64>, def: f64| -> Result<f64> {
            match v {
                None => Ok(def),
                Some(x) if x.is_finite() && x > 0.0 => Ok(x),
                Some(x) => Err(SeqError::build(format!(
                    "{key} = {x}: must be a positive number"
                ))),
            }
        };
        let nonneg_ns = |key: &str, v: Option<f64>, scale: f64, def: Nanos| -> Result<Nanos> {
            match v {
                None => Ok(def),
                Some(x) if x.is_finite() && x >= 0.0 => Ok(Nanos((x * scale).round() as i64)),
                Some(x) => Err(SeqError::build(format!(
                    "{key} = {x}: must be zero or positive"
                ))),
            }
        };
        let raster = |key: &str, v: Option<f64>, scale: f64, def: Nanos| -> Result<Nanos> {
            let r = nonneg_ns(key, v, scale, def)?;
            if r.0 <= 0 {
                return Err(SeqError::build(format!("{key}: a raster must be positive")));
            }
            if let Some(x) = v {
                if ((x * scale) - r.0 as f64).abs() > 1e-6 {
                    return Err(SeqError::build(format!(
                        "{key} = {x}: not a whole number of nanoseconds"
                    )));
                }
            }
            Ok(r)
        };
        let max_grad = units::mt_per_m(pos(
            "max_grad_mt_per_m",
            t.max_grad_mt_per_m,
            units::hz_per_m_to_mt_per_m(d.max_grad),
        )?);
        let rise_time = match t.rise_time_us {
            None => None,
            Some(_) => Some(raster("rise_time_us", t.rise_time_us, 1e3, Nanos(1))?),
        };
        let max_slew = match rise_time {
            Some(r) => max_grad / r.as_secs_f64(),
            None => units::t_per_m_per_s(pos(
                "max_slew_t_per_m_per_s",
                t.max_slew_t_per_m_per_s,
                170.0,
            )?),
        };
        let sys = System {
            max_grad,
            max_slew,
            rise_time,
            rf_dead_time: nonneg_ns("rf_dead_time_us", t.rf_dead_time_us, 1e3, d.rf_dead_time)?,
            rf_ringdown_time: nonneg_ns(
                "rf_ringdown_time_us",
                t.rf_ringdown_time_us,
                1e3,
                d.rf_ringdown_time,
            )?,
            adc_dead_time: nonneg_ns("adc_dead_time_us", t.adc_dead_time_us, 1e3, d.adc_dead_time)?,
            rasters: Rasters {
                grad: raster("grad_raster_us", t.grad_raster_us, 1e3, d.rasters.grad)?,
                rf: raster("rf_raster_us", t.rf_raster_us, 1e3, d.rasters.rf)?,
                adc: raster("adc_raster_ns", t.adc_raster_ns, 1.0, d.rasters.adc)?,
                block: raster("block_raster_us", t.block_raster_us, 1e3, d.rasters.block)?,
            },
            gamma: pos("gamma_hz_per_t", t.gamma_hz_per_t, d.gamma)?,
            b0: pos("b0_t", t.b0_t, d.b0)?,
            adc_samples_limit: t.adc_samples_limit.unwrap_or(d.adc_samples_limit),
            adc_samples_divisor: t
                .adc_samples_divisor
                .unwrap_or(d.adc_samples_divisor)
                .max(1),
        };
        Ok(sys)
    }
}

/// Rounds `t` up to a multiple of `raster` (`raster` > 0).
pub fn ceil_to(t: Nanos, raster: Nanos) -> Nanos {
    let r = raster.0.max(1);
    Nanos(t.0.div_euclid(r) * r + if t.0.rem_euclid(r) > 0 { r } else { 0 })
}

/// Rounds `t` to the nearest multiple of `raster` (halves up).
pub fn round_to(t: Nanos, raster: Nanos) -> Nanos {
    let r = raster.0.max(1);
    Nanos((t.0 + r / 2).div_euclid(r) * r)
}

/// Rounds a time in seconds up to a multiple of `raster`, tolerating 1e-9 relative float error
/// (pypulseq's `ceil(t/Δ − eps)` intent without its failures).
pub fn ceil_secs_to(t: f64, raster: Nanos) -> Nanos {
    let r = raster.0.max(1) as f64;
    let k = t * 1e9 / r;
    let k = if (k - k.round()).abs() <= 1e-9 * k.abs().max(1.0) {
        k.round()
    } else {
        k.ceil()
    };
    Nanos((k * r) as i64)
}

/// Rounds a time in seconds to the nearest multiple of `raster`.
pub fn round_secs_to(t: f64, raster: Nanos) -> Nanos {
    let r = raster.0.max(1) as f64;
    Nanos(((t * 1e9 / r).round() * r) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_pypulseq_opts() {
        let s = System::default();
        assert!((s.max_grad - 1_703_040.0).abs() < 1e-6);
        assert!((s.max_slew - 7.23792e9).abs() < 1.0);
        assert_eq!(s.rasters.grad, Nanos(10_000));
    }

    #[test]
    fn toml_preset_and_errors() {
        let s = System::from_toml_str(
            "name = \"prisma\"\nmax_grad_mt_per_m = 80\nmax_slew_t_per_m_per_s = 200\nrf_dead_time_us = 100\nb0_t = 2.89\n",
            "prisma.toml",
        )
        .unwrap();
        assert!((units::hz_per_m_to_mt_per_m(s.max_grad) - 80.0).abs() < 1e-9);
        assert_eq!(s.rf_dead_time, Nanos(100_000));
        let e = System::from_toml_str("max_grad_mt_per_m = -3\n", "x.toml").unwrap_err();
        assert!(e.to_string().contains("max_grad_mt_per_m = -3"), "{e}");
        let e = System::from_toml_str("\n\nmax_gradient = 3\n", "x.toml").unwrap_err();
        let m = e.to_string();
        assert!(
            m.contains("x.toml: line 3") && m.contains("max_gradient"),
            "{m}"
        );
        let e = System::from_toml_str("grad_raster_us = 10.0001\n", "x.toml").unwrap_err();
        assert!(e.to_string().contains("grad_raster_us"), "{e}");
    }

    #[test]
    fn raster_rounding() {
        let r = Nanos(10_000);
        assert_eq!(ceil_secs_to(0.00030000000000000003, r), Nanos(300_000));
        assert_eq!(ceil_secs_to(0.000300001, r), Nanos(310_000));
        assert_eq!(ceil_to(Nanos(10_001), r), Nanos(20_000));
        assert_eq!(ceil_to(Nanos(-5), r), Nanos(0));
        assert_eq!(round_secs_to(0.012839999, r), Nanos(12_840_000));
    }
}
