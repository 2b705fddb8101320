//! ACR percent signal ghosting (PSG) on slice 7: a large circular ROI inside the phantom (radius
//! 80 mm, centre 5 mm below the phantom centre to avoid the top stem, as hazen) and four
//! elliptical background ROIs, one in the middle of each gap between the phantom and the image
//! border (top, bottom, left, right), elongated along the border: nominal semi-axes 10 mm across
//! the gap and 40 mm along it (12.6 cm^2, hazen's size). `PSG = 100 |(T + B) - (L + R)| / (2 S)`.
//!
//! Gaps are measured from the phantom outline to the edge of the measured field of view: the
//! zero-filled frame some scanners leave along the image border (see [`Image::padding`]) is not
//! background signal and is left out.
//!
//! When a gap is narrower than the nominal ROI plus 2-pixel margins on both sides, the ROI is
//! narrowed to fit and lengthened to keep its area where the image allows (as hazen does), and
//! is marked `reduced`. When fewer than 2 pixels of background remain, the measurement fails with
//! an error naming the side, instead of hazen's NaN (an empty ROI).

use serde::Serialize;

use super::image::Image;
use super::phantom::PhantomOutline;
use super::roi::{Roi, RoiStats};
use crate::{Error, Result};

/// Radius of the large signal ROI in mm.
pub const SIGNAL_ROI_RADIUS_MM: f64 = 80.0;
/// Downward shift of the signal ROI from the phantom centre in mm.
pub const SIGNAL_ROI_SHIFT_MM: f64 = 5.0;
/// Nominal semi-axis of a background ROI across its gap, in mm.
pub const GHOST_SEMI_ACROSS_MM: f64 = 10.0;
/// Nominal semi-axis of a background ROI along the image border, in mm.
pub const GHOST_SEMI_ALONG_MM: f64 = 40.0;
/// Clearance kept between a background ROI and both the phantom edge and the image border, px.
pub const MARGIN_PX: f64 = 2.0;

/// One background ROI.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GhostRoi {
    /// The ROI.
    pub roi: Roi,
    /// Its statistics.
    pub stats: RoiStats,
    /// Whether it had to be narrowed to fit between the phantom and the image border.
    pub reduced: bool,
}

/// The ghosting measurement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ghosting {
    /// Percent signal ghosting.
    pub psg_percent: f64,
    /// The large signal ROI and its statistics.
    pub signal_roi: Roi,
    /// Statistics of the signal ROI.
    pub signal: RoiStats,
    /// Background ROI above the phantom.
    pub top: GhostRoi,
    /// Background ROI below the phantom.
    pub bottom: GhostRoi,
    /// Background ROI left of the phantom.
    pub left: GhostRoi,
    /// Background ROI right of the phantom.
    pub right: GhostRoi,
}

/// Percent signal ghosting of `img` with the phantom found at `phantom`.
pub fn percent_signal_ghosting(img: &Image, phantom: &PhantomOutline) -> Result<Ghosting> {
    let (cx, cy) = phantom.centre;
    let signal_roi = Roi::Circle {
        cx,
        cy: cy + SIGNAL_ROI_SHIFT_MM / img.dy(),
        r: (SIGNAL_ROI_RADIUS_MM / img.dx()).ceil(),
    };
    let signal = signal_roi.stats(img, "ghosting signal ROI")?;
    if signal.mean <= 0.0 {
        return Err(Error::Invalid {
            what: "ghosting signal ROI".into(),
            message: format!("mean {} is not positive", signal.mean),
        });
    }
    let (x_min, y_min, x_max, y_max) = phantom.extent();
    // The measured field of view, without the zero-filled frame: [fx0, fx1] x [fy0, fy1].
    let (pl, pt, pr, pb) = img.padding();
    let (fx0, fy0) = (pl as f64 - 0.5, pt as f64 - 0.5);
    let (fx1, fy1) = (
        (img.cols() - pr) as f64 - 0.5,
        (img.rows() - pb) as f64 - 0.5,
    );
    // (name, gap start, gap end, centre along the border, pixel size across, pixel size along,
    //  field of view along the border, horizontal gap?)
    let sides = [
        ("top", fy0, y_min, cx, img.dy(), img.dx(), (fx0, fx1), false),
        (
            "bottom",
            y_max,
            fy1,
            cx,
            img.dy(),
            img.dx(),
            (fx0, fx1),
            false,
        ),
        ("left", fx0, x_min, cy, img.dx(), img.dy(), (fy0, fy1), true),
        (
            "right",
            x_max,
            fx1,
            cy,
            img.dx(),
            img.dy(),
            (fy0, fy1),
            true,
        ),
    ];
    let mut rois = Vec::with_capacity(4);
    for (name, start, end, along_centre, px_across, px_along, room, horizontal) in sides {
        let what = format!("{name} ghosting ROI");
        let (lo, hi) = (start + MARGIN_PX, end - MARGIN_PX);
        let usable = hi - lo; // pixels of background available across the gap
        if usable < 2.0 {
            return Err(Error::Invalid {
                what,
                message: format!(
                    "only {:.1} px of background between the phantom and the {name} edge of \
                     the field of view (need {:.0} px): the phantom is too close to that edge",
                    (end - start).max(0.0),
                    2.0 + 2.0 * MARGIN_PX
                ),
            });
        }
        let nominal_across = GHOST_SEMI_ACROSS_MM / px_across;
        let nominal_along = GHOST_SEMI_ALONG_MM / px_along;
        let across = nominal_across.min(usable / 2.0);
        let reduced = across < nominal_across;
        // Keep the nominal area where the image allows, as hazen does.
        let max_along = (along_centre - room.0 - MARGIN_PX).min(room.1 - MARGIN_PX - along_centre);
        let along = (nominal_along * nominal_across / across).min(max_along);
        let centre_across = 0.5 * (lo + hi);
        let roi = if horizontal {
            Roi::Ellipse {
                cx: centre_across,
                cy: along_centre,
                rx: across,
                ry: along,
            }
        } else {
            Roi::Ellipse {
                cx: along_centre,
                cy: centre_across,
                rx: along,
                ry: across,
            }
        };
        let stats = roi.stats(img, &what)?;
        rois.push(GhostRoi {
            roi,
            stats,
            reduced,
        });
    }
    let (top, bottom, left, right) = (rois[0], rois[1], rois[2], rois[3]);
    let psg = 100.0
        * ((top.stats.mean + bottom.stats.mean) - (left.stats.mean + right.stats.mean)).abs()
        / (2.0 * signal.mean);
    Ok(Ghosting {
        psg_percent: psg,
        signal_roi,
        signal,
        top,
        bottom,
        left,
        right,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qa::image::Spacing;
    use crate::qa::phantom::detect_phantom;
    use crate::qa::phantom::tests::disc;

    #[test]
    fn a_known_ghost_gives_the_expected_psg() {
        // Phantom 1000, background a 0/1 checkerboard (mean 1/2: not a zero-filled frame),
        // plus a vertical (phase-encoding) ghost band of 20 at the phantom's columns above and
        // below it: T = B = 20.5, L = R = 0.5 over the ROIs.
        let base = disc(256, 128.0, 128.0, 97.0, 1000.0, 0.0);
        let mut data = base.data().to_vec();
        for y in 0..256usize {
            for x in 0..256usize {
                let r2 = (x as f64 - 128.0).powi(2) + (y as f64 - 128.0).powi(2);
                if r2 > 100.0f64.powi(2) {
                    data[y * 256 + x] += ((x + y) % 2) as f64;
                    if (28..=228).contains(&x) {
                        data[y * 256 + x] += 20.0;
                    }
                }
            }
        }
        let img = Image::new(256, 256, data, Spacing::square(250.0 / 256.0)).unwrap();
        let o = detect_phantom(&img).unwrap();
        let g = percent_signal_ghosting(&img, &o).unwrap();
        for (r, want) in [
            (g.top, 20.5),
            (g.bottom, 20.5),
            (g.left, 0.5),
            (g.right, 0.5),
        ] {
            assert!((r.stats.mean - want).abs() < 0.01, "{r:?}");
        }
        assert!((g.psg_percent - 2.0).abs() < 0.002, "{}", g.psg_percent);
        assert!(!g.left.reduced);
    }

    #[test]
    fn a_zero_filled_frame_is_not_background() {
        // 6 px of zeros all round (reconstruction padding), noise-free background of 3.
        let base = disc(256, 128.0, 128.0, 97.0, 1000.0, 3.0);
        let data: Vec<f64> = (0..256 * 256)
            .map(|i| {
                let (x, y) = (i % 256, i / 256);
                if x < 6 || y < 6 || x >= 250 || y >= 250 {
                    0.0
                } else {
                    base.data()[i]
                }
            })
            .collect();
        let img = Image::new(256, 256, data, Spacing::square(250.0 / 256.0)).unwrap();
        assert_eq!(img.padding(), (6, 6, 6, 6));
        let g = percent_signal_ghosting(&img, &detect_phantom(&img).unwrap()).unwrap();
        for r in [g.top, g.bottom, g.left, g.right] {
            assert!((r.stats.mean - 3.0).abs() < 1e-9, "{r:?}");
        }
    }

    #[test]
    fn a_phantom_touching_the_border_is_a_named_error() {
        let img = disc(256, 128.0, 98.0, 97.0, 1000.0, 0.0);
        let o = detect_phantom(&img).unwrap();
        let e = percent_signal_ghosting(&img, &o).unwrap_err().to_string();
        assert!(e.starts_with("top ghosting ROI: only"), "{e}");
    }

    #[test]
    fn a_narrow_gap_gives_a_reduced_roi() {
        let base = disc(256, 128.0, 110.0, 97.0, 1000.0, 1.0);
        let data: Vec<f64> = (0..256 * 256)
            .map(|i| base.data()[i] + ((i % 256 + i / 256) % 2) as f64)
            .collect();
        let img = Image::new(256, 256, data, Spacing::square(1.0)).unwrap();
        let o = detect_phantom(&img).unwrap();
        let g = percent_signal_ghosting(&img, &o).unwrap();
        assert!(g.top.reduced && !g.bottom.reduced);
        assert!(g.top.roi.inside(256, 256));
    }
}
