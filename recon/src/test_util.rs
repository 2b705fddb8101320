//! Helpers shared by the unit tests of the crate.

use crate::backend::C32;

/// The largest `|a[i] − b[i]|` of two complex slices (0 for empty ones).
pub(crate) fn max_abs_diff(a: &[C32], b: &[C32]) -> f32 {
    assert_eq!(a.len(), b.len(), "lengths differ");
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).norm())
        .fold(0.0, f32::max)
}
