//! ACR percent integral uniformity (PIU) on slice 7: inside a large circular ROI of ~200 cm^2
//! centred on the phantom, a ~1 cm^2 circular ROI slides over every position that keeps it
//! inside; the highest and lowest local means give `PIU = 100 (1 - (max - min) / (max + min))`.
//! Radii are rounded up to whole pixels (as hazen: `ceil(sqrt(A / pi) / pixel size)`).
//!
//! Small-ROI positions that would include pixels below `floor` (the phantom's half-signal edge
//! level: plastic or air, such as the bottom of the filling stem, which the 200 cm^2 ROI grazes
//! on slice 7) are skipped, so that the minimum is a water signal. If more than
//! [`MAX_EXCLUDED_FRACTION`] of the positions are skipped the region holds a real signal void
//! and the measurement fails rather than hide it.

use serde::Serialize;

use super::image::Image;
use super::roi::Roi;
use crate::{Error, Result};

/// Area of the large ROI in cm^2 (ACR large phantom).
pub const LARGE_ROI_CM2: f64 = 200.0;
/// Area of the small sliding ROI in cm^2.
pub const SMALL_ROI_CM2: f64 = 1.0;

/// Largest fraction of small-ROI positions that may be skipped for holding non-water pixels.
pub const MAX_EXCLUDED_FRACTION: f64 = 0.05;

/// A small ROI at an extreme of the local mean.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LocalMean {
    /// The small ROI.
    pub roi: Roi,
    /// Its mean.
    pub mean: f64,
}

/// The uniformity measurement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Uniformity {
    /// Percent integral uniformity.
    pub piu_percent: f64,
    /// The large ROI.
    pub large: Roi,
    /// The small ROI with the lowest mean.
    pub min: LocalMean,
    /// The small ROI with the highest mean.
    pub max: LocalMean,
    /// Small-ROI positions searched.
    pub positions: usize,
    /// Positions skipped because they held pixels below the floor.
    pub excluded: usize,
}

/// Radius in whole pixels (rounded up) of a circle of `area_cm2` at `pixel_mm`.
pub fn radius_px(area_cm2: f64, pixel_mm: f64) -> usize {
    ((area_cm2 / std::f64::consts::PI).sqrt() * 10.0 / pixel_mm).ceil() as usize
}

/// Percent integral uniformity of `img` around the phantom `centre` (pixels); small-ROI
/// positions holding a pixel below `floor` (if given) are skipped.
pub fn integral_uniformity(
    img: &Image,
    centre: (f64, f64),
    floor: Option<f64>,
) -> Result<Uniformity> {
    let r_large = radius_px(LARGE_ROI_CM2, img.dx());
    let r_small = radius_px(SMALL_ROI_CM2, img.dx());
    let (cx, cy) = (centre.0.round(), centre.1.round());
    let large = Roi::Circle {
        cx,
        cy,
        r: r_large as f64,
    };
    if !large.inside(img.cols(), img.rows()) {
        return Err(Error::Invalid {
            what: "uniformity".into(),
            message: format!(
                "the {LARGE_ROI_CM2} cm^2 ROI ({}) does not fit in the {} x {} image",
                large.describe(),
                img.cols(),
                img.rows()
            ),
        });
    }
    // Offsets of the small disc.
    let rs = r_small as i64;
    let kernel: Vec<(i64, i64)> = (-rs..=rs)
        .flat_map(|dy| (-rs..=rs).map(move |dx| (dx, dy)))
        .filter(|(dx, dy)| dx * dx + dy * dy <= rs * rs)
        .collect();
    let search = (r_large - r_small) as i64;
    let (icx, icy) = (cx as i64, cy as i64);
    let mut min = (f64::INFINITY, 0i64, 0i64);
    let mut max = (f64::NEG_INFINITY, 0i64, 0i64);
    let (mut positions, mut excluded) = (0usize, 0usize);
    let floor = floor.unwrap_or(f64::NEG_INFINITY);
    for y in (icy - search)..=(icy + search) {
        for x in (icx - search)..=(icx + search) {
            if (x - icx).pow(2) + (y - icy).pow(2) > search * search {
                continue;
            }
            positions += 1;
            let (mut sum, mut low) = (0.0, false);
            for (dx, dy) in &kernel {
                let v = img.at((x + dx) as usize, (y + dy) as usize);
                low |= v < floor;
                sum += v;
            }
            if low {
                excluded += 1;
                continue;
            }
            let mean = sum / kernel.len() as f64;
            if mean < min.0 {
                min = (mean, x, y);
            }
            if mean > max.0 {
                max = (mean, x, y);
            }
        }
    }
    if excluded as f64 > MAX_EXCLUDED_FRACTION * positions as f64 || excluded == positions {
        return Err(Error::Invalid {
            what: "uniformity".into(),
            message: format!(
                "{excluded} of {positions} 1 cm^2 ROI positions hold signal below half the \
                 phantom mean ({floor:.1}): a signal void or structure inside the 200 cm^2 ROI; \
                 check the slice and the phantom position"
            ),
        });
    }
    if max.0 + min.0 <= 0.0 {
        return Err(Error::Invalid {
            what: "uniformity".into(),
            message: format!(
                "local means range from {} to {}: no positive signal in the phantom",
                min.0, max.0
            ),
        });
    }
    let small = |(mean, x, y): (f64, i64, i64)| LocalMean {
        roi: Roi::Circle {
            cx: x as f64,
            cy: y as f64,
            r: r_small as f64,
        },
        mean,
    };
    Ok(Uniformity {
        piu_percent: 100.0 * (1.0 - (max.0 - min.0) / (max.0 + min.0)),
        large,
        min: small(min),
        max: small(max),
        positions,
        excluded,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qa::image::Spacing;

    #[test]
    fn radii_follow_hazen_rounding() {
        assert_eq!(radius_px(200.0, 0.9765625), 82);
        assert_eq!(radius_px(1.0, 0.9765625), 6);
    }

    #[test]
    fn a_linear_ramp_gives_the_expected_piu() {
        // Signal 1000 + 2 x (x - 128): extremes of the search disc at x = 128 +- 76.
        let n = 256;
        let data = (0..n * n)
            .map(|i| 1000.0 + 2.0 * ((i % n) as f64 - 128.0))
            .collect();
        let img = Image::new(n, n, data, Spacing::square(0.9765625)).unwrap();
        let u = integral_uniformity(&img, (128.0, 128.0), None).unwrap();
        let (hi, lo) = (1000.0 + 2.0 * 76.0, 1000.0 - 2.0 * 76.0);
        let want = 100.0 * (1.0 - (hi - lo) / (hi + lo));
        assert!(
            (u.piu_percent - want).abs() < 1e-9,
            "{} vs {want}",
            u.piu_percent
        );
        assert_eq!(
            u.min.roi,
            Roi::Circle {
                cx: 52.0,
                cy: 128.0,
                r: 6.0
            }
        );
    }

    #[test]
    fn a_flat_image_is_perfectly_uniform_and_a_small_image_is_an_error() {
        let img = Image::new(200, 200, vec![5.0; 40000], Spacing::square(1.0)).unwrap();
        let u = integral_uniformity(&img, (100.0, 100.0), None).unwrap();
        assert!((u.piu_percent - 100.0).abs() < 1e-12);
        let e = integral_uniformity(&img, (50.0, 100.0), None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("does not fit"), "{e}");
    }

    #[test]
    fn positions_touching_a_dark_structure_are_skipped_but_a_void_is_an_error() {
        let n = 256;
        let mut data = vec![1000.0; n * n];
        // A dark stem reaching 2 px into the search area at the top.
        for y in 40..50 {
            for x in 124..132 {
                data[y * n + x] = 0.0;
            }
        }
        data[128 * n + 128] = 990.0; // a shallow minimum in the middle
        let img = Image::new(n, n, data.clone(), Spacing::square(0.9765625)).unwrap();
        let u = integral_uniformity(&img, (128.0, 128.0), Some(500.0)).unwrap();
        assert!(u.excluded > 0 && u.min.mean > 999.0, "{u:?}");
        let with_stem = integral_uniformity(&img, (128.0, 128.0), None).unwrap();
        assert!(with_stem.min.mean < 900.0);
        // A void of 30 x 30 px: too much to skip.
        for y in 100..130 {
            for x in 100..130 {
                data[y * n + x] = 0.0;
            }
        }
        let img = Image::new(n, n, data, Spacing::square(0.9765625)).unwrap();
        let e = integral_uniformity(&img, (128.0, 128.0), Some(500.0))
            .unwrap_err()
            .to_string();
        assert!(e.contains("signal void"), "{e}");
    }
}
