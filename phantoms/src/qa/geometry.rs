//! ACR geometric accuracy: the phantom's diameter (nominal 190 mm) measured horizontally and
//! vertically through its centre on slice 1, and also along both diagonals on slice 5. Each
//! length runs between the two points where the line crosses the phantom outline: the convex
//! hull of sub-pixel edge points at half the phantom signal (see [`super::phantom`]), which
//! bridges the filling stem and air bubbles as hazen's convex-hull mask does. Lengths are in mm
//! with each axis scaled by its own pixel spacing.

use serde::Serialize;

use super::image::Image;
use super::phantom::PhantomOutline;
use crate::{Error, Result};

/// Nominal inner diameter of the ACR large phantom in mm.
pub const NOMINAL_DIAMETER_MM: f64 = 190.0;
/// ACR tolerance on each length in mm.
pub const TOLERANCE_MM: f64 = 2.0;

/// A measured diameter.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Diameter {
    /// Direction: `horizontal`, `vertical`, `diagonal_nw_se` (upper left to lower right; hazen's
    /// "Diagonal SE") or `diagonal_ne_sw` (upper right to lower left; hazen's "Diagonal SW").
    pub direction: &'static str,
    /// First end point `(x, y)` in pixels.
    pub from: (f64, f64),
    /// Second end point `(x, y)` in pixels.
    pub to: (f64, f64),
    /// Length in mm.
    pub length_mm: f64,
}

/// The four measurable directions, as `(name, unit direction in pixel space)`.
pub const DIRECTIONS: [(&str, (f64, f64)); 4] = [
    ("horizontal", (1.0, 0.0)),
    ("vertical", (0.0, 1.0)),
    (
        "diagonal_nw_se",
        (
            std::f64::consts::FRAC_1_SQRT_2,
            std::f64::consts::FRAC_1_SQRT_2,
        ),
    ),
    (
        "diagonal_ne_sw",
        (
            -std::f64::consts::FRAC_1_SQRT_2,
            std::f64::consts::FRAC_1_SQRT_2,
        ),
    ),
];

/// Diameters through the phantom centre along the first `n` of [`DIRECTIONS`] (2 on slice 1,
/// 4 on slice 5).
pub fn diameters(img: &Image, phantom: &PhantomOutline, n: usize) -> Result<Vec<Diameter>> {
    let mut out = Vec::new();
    for &(direction, dir) in DIRECTIONS.iter().take(n) {
        let (from, to) = phantom
            .chord(phantom.centre, dir)
            .ok_or_else(|| Error::Invalid {
                what: format!("{direction} diameter"),
                message: "the line through the phantom centre does not cross its outline".into(),
            })?;
        let length_mm = ((to.0 - from.0) * img.dx()).hypot((to.1 - from.1) * img.dy());
        out.push(Diameter {
            direction,
            from,
            to,
            length_mm,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qa::image::Spacing;
    use crate::qa::phantom::detect_phantom;
    use crate::qa::phantom::tests::disc;

    #[test]
    fn a_disc_of_known_radius_gives_its_diameter_in_every_direction() {
        // 190 mm at 0.9765625 mm/pixel = 194.56 px; radius 97.28 px.
        let px = 250.0 / 256.0;
        let base = disc(256, 127.3, 129.8, 95.0 / px, 900.0, 5.0);
        let img = Image::new(256, 256, base.data().to_vec(), Spacing::square(px)).unwrap();
        let o = detect_phantom(&img).unwrap();
        let d = diameters(&img, &o, 4).unwrap();
        assert_eq!(d.len(), 4);
        for m in &d {
            assert!((m.length_mm - 190.0).abs() < 0.3, "{m:?}");
        }
    }

    #[test]
    fn anisotropic_pixels_scale_each_axis() {
        // An ellipse in pixels that is a 190 mm circle with 1 x 2 mm pixels.
        let (cols, rows) = (256usize, 128usize);
        let mut data = vec![0.0; cols * rows];
        for y in 0..rows {
            for x in 0..cols {
                let (mx, my) = ((x as f64 - 128.0) * 1.0, (y as f64 - 64.0) * 2.0);
                if mx.hypot(my) <= 95.0 {
                    data[y * cols + x] = 100.0;
                }
            }
        }
        let img = Image::new(
            rows,
            cols,
            data,
            Spacing {
                row_mm: 2.0,
                col_mm: 1.0,
            },
        )
        .unwrap();
        let o = detect_phantom(&img).unwrap();
        let d = diameters(&img, &o, 2).unwrap();
        for m in &d {
            assert!((m.length_mm - 190.0).abs() < 2.1, "{m:?}");
        }
    }
}
