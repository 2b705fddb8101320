//! Integer time: every duration and delay is a whole number of nanoseconds; seconds only at I/O.

use std::fmt;
use std::ops::{Add, Mul, Sub};

/// A duration or instant in integer nanoseconds (arithmetic saturates instead of overflowing).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Nanos(pub i64);

impl Nanos {
    /// Zero nanoseconds.
    pub const ZERO: Nanos = Nanos(0);

    /// From a value in microseconds as written in a `.seq` file, rounded to the nearest ns.
    pub fn from_us_f64(us: f64) -> Nanos {
        Nanos((us * 1e3).round() as i64)
    }

    /// From seconds, rounded to the nearest ns.
    pub fn from_secs_f64(s: f64) -> Nanos {
        Nanos((s * 1e9).round() as i64)
    }

    /// The value in seconds.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 * 1e-9
    }

    /// The value in nanoseconds.
    pub fn ns(self) -> i64 {
        self.0
    }
}

impl Add for Nanos {
    type Output = Nanos;
    fn add(self, o: Nanos) -> Nanos {
        Nanos(self.0.saturating_add(o.0))
    }
}

impl Sub for Nanos {
    type Output = Nanos;
    fn sub(self, o: Nanos) -> Nanos {
        Nanos(self.0.saturating_sub(o.0))
    }
}

impl Mul<i64> for Nanos {
    type Output = Nanos;
    fn mul(self, k: i64) -> Nanos {
        Nanos(self.0.saturating_mul(k))
    }
}

impl std::iter::Sum for Nanos {
    fn sum<I: Iterator<Item = Nanos>>(iter: I) -> Nanos {
        Nanos(iter.fold(0i64, |a, n| a.saturating_add(n.0)))
    }
}

impl fmt::Display for Nanos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ns", self.0)
    }
}

/// The four rasters of a sequence (1.4+ `[DEFINITIONS]`, else the Pulseq defaults).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rasters {
    /// `GradientRasterTime` (default 10 µs).
    pub grad: Nanos,
    /// `RadiofrequencyRasterTime` (default 1 µs).
    pub rf: Nanos,
    /// `AdcRasterTime` (default 100 ns).
    pub adc: Nanos,
    /// `BlockDurationRaster` (default 10 µs).
    pub block: Nanos,
}

impl Default for Rasters {
    fn default() -> Self {
        Rasters {
            grad: Nanos(10_000),
            rf: Nanos(1_000),
            adc: Nanos(100),
            block: Nanos(10_000),
        }
    }
}
