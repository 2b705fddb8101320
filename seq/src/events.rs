//! Event records as stored in the `.seq` libraries (RF, gradients, ADC, delays, extensions).
//! Amplitudes stay in file units (Hz, Hz/m); times are [`Nanos`].

use crate::time::Nanos;

/// An RF pulse (`[RF]`).
#[derive(Debug, Clone, PartialEq)]
pub struct RfEvent {
    /// Peak amplitude in Hz.
    pub amp: f64,
    /// Magnitude shape id.
    pub mag_id: u32,
    /// Phase shape id (phase in cycles).
    pub phase_id: u32,
    /// Time shape id (0 = default raster; 1.4+).
    pub time_id: i64,
    /// Rotation centre from the shape start (1.5 files only).
    pub center: Option<Nanos>,
    /// Delay from the block start.
    pub delay: Nanos,
    /// Frequency offset in ppm (1.5; 0 before).
    pub freq_ppm: f64,
    /// Phase offset in rad/MHz (1.5; 0 before).
    pub phase_ppm: f64,
    /// Frequency offset in Hz.
    pub freq: f64,
    /// Phase offset in rad.
    pub phase: f64,
    /// Use letter `e r i s p o u` (1.5; `u` before).
    pub use_: char,
}

/// A trapezoid gradient (`[TRAP]`).
#[derive(Debug, Clone, PartialEq)]
pub struct TrapGrad {
    /// Amplitude in Hz/m.
    pub amp: f64,
    /// Rise time.
    pub rise: Nanos,
    /// Flat time.
    pub flat: Nanos,
    /// Fall time.
    pub fall: Nanos,
    /// Delay from the block start.
    pub delay: Nanos,
}

/// An arbitrary gradient or extended trapezoid (`[GRADIENTS]`).
#[derive(Debug, Clone, PartialEq)]
pub struct ArbGrad {
    /// Amplitude in Hz/m.
    pub amp: f64,
    /// Value at the start (1.5 files only).
    pub first: Option<f64>,
    /// Value at the end (1.5 files only).
    pub last: Option<f64>,
    /// Amplitude shape id.
    pub shape_id: u32,
    /// Time shape id: 0 default raster centres, -1 2x oversampled, >0 a time shape.
    pub time_id: i64,
    /// Delay from the block start.
    pub delay: Nanos,
}

/// A gradient event: trapezoids and arbitrary gradients share one id space.
#[derive(Debug, Clone, PartialEq)]
pub enum Gradient {
    /// From `[TRAP]`.
    Trap(TrapGrad),
    /// From `[GRADIENTS]`.
    Arb(ArbGrad),
}

/// An ADC event (`[ADC]`).
#[derive(Debug, Clone, PartialEq)]
pub struct AdcEvent {
    /// Number of samples.
    pub num: u64,
    /// Dwell time (integer ns in the file).
    pub dwell: Nanos,
    /// Delay from the block start.
    pub delay: Nanos,
    /// Frequency offset in ppm (1.5; 0 before).
    pub freq_ppm: f64,
    /// Phase offset in rad/MHz (1.5; 0 before).
    pub phase_ppm: f64,
    /// Frequency offset in Hz.
    pub freq: f64,
    /// Phase offset in rad.
    pub phase: f64,
    /// Phase modulation shape id (1.5; 0 = none).
    pub phase_id: u32,
}

/// One node of an extension list (`[EXTENSIONS]`: `id type ref next`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtensionNode {
    /// Numeric extension type (valid within the file only).
    pub type_id: u32,
    /// Object id in that extension's table.
    pub ref_id: u32,
    /// Next node id (0 ends the list).
    pub next: u32,
}

/// A declared extension specification (`extension NAME ID`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensionSpec {
    /// The string id (e.g. `LABELSET`), the only identity that counts.
    pub name: String,
    /// The numeric type id used in `[EXTENSIONS]`.
    pub type_id: u32,
    /// Whether Accord understands it (unknown ones are skipped with a warning).
    pub known: bool,
}

/// A LABELSET or LABELINC object (`id value LABEL`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    /// Integer value.
    pub value: i64,
    /// Label name (e.g. `LIN`).
    pub label: String,
}

/// A TRIGGERS object (`id type channel delay duration`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trigger {
    /// 1 = digital output, 2 = input trigger.
    pub trigger_type: i64,
    /// Channel number.
    pub channel: i64,
    /// Delay from the block start.
    pub delay: Nanos,
    /// Duration.
    pub duration: Nanos,
}

/// A soft delay (1.5 `extension DELAYS`: `id num_id offset factor hint`).
#[derive(Debug, Clone, PartialEq)]
pub struct SoftDelay {
    /// Numeric id shared by blocks with the same hint.
    pub num_id: i64,
    /// Offset added to `value/factor`.
    pub offset: Nanos,
    /// Divisor of the user's value.
    pub factor: f64,
    /// The user-facing name (e.g. `TE`).
    pub hint: String,
}

/// An RF_SHIMS object (1.5.1): per-channel magnitude and phase pairs.
#[derive(Debug, Clone, PartialEq)]
pub struct RfShim {
    /// `(magnitude, phase)` per channel.
    pub channels: Vec<(f64, f64)>,
}
