//! Regions of interest as explicit geometry (rectangles, circles, axis-aligned ellipses) in pixel
//! coordinates, so the same object selects pixels, reports itself in JSON and is drawn in figures.
//! A pixel belongs to an ROI when its centre lies inside the shape (boundary included).

use serde::Serialize;

use super::image::Image;
use crate::{Error, Result};

/// An ROI. Coordinates are in pixels: `x` = column, `y` = row, pixel centres on integers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "shape", rename_all = "snake_case")]
pub enum Roi {
    /// Pixels with `x0 <= x < x0 + width` and `y0 <= y < y0 + height`.
    Rect {
        /// First column.
        x0: i64,
        /// First row.
        y0: i64,
        /// Number of columns.
        width: i64,
        /// Number of rows.
        height: i64,
    },
    /// Pixels with `(x - cx)^2 + (y - cy)^2 <= r^2`.
    Circle {
        /// Centre column.
        cx: f64,
        /// Centre row.
        cy: f64,
        /// Radius in pixels.
        r: f64,
    },
    /// Pixels with `((x - cx) / rx)^2 + ((y - cy) / ry)^2 <= 1`.
    Ellipse {
        /// Centre column.
        cx: f64,
        /// Centre row.
        cy: f64,
        /// Horizontal semi-axis in pixels.
        rx: f64,
        /// Vertical semi-axis in pixels.
        ry: f64,
    },
}

/// Mean, standard deviation and size of the pixels in an ROI.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RoiStats {
    /// Number of pixels.
    pub pixels: usize,
    /// Mean value.
    pub mean: f64,
    /// Sample standard deviation (n - 1 denominator); 0 for a single pixel.
    pub sd: f64,
    /// Area in mm^2 (pixel count times pixel area).
    pub area_mm2: f64,
}

impl Roi {
    /// Whether the pixel centred at `(x, y)` is inside.
    pub fn contains(&self, x: f64, y: f64) -> bool {
        match *self {
            Roi::Rect {
                x0,
                y0,
                width,
                height,
            } => {
                x >= x0 as f64
                    && x < (x0 + width) as f64
                    && y >= y0 as f64
                    && y < (y0 + height) as f64
            }
            Roi::Circle { cx, cy, r } => (x - cx).powi(2) + (y - cy).powi(2) <= r * r,
            Roi::Ellipse { cx, cy, rx, ry } => {
                ((x - cx) / rx).powi(2) + ((y - cy) / ry).powi(2) <= 1.0
            }
        }
    }

    /// Bounding box `(x_min, y_min, x_max, y_max)` of the shape in pixel coordinates.
    pub fn bounds(&self) -> (f64, f64, f64, f64) {
        match *self {
            Roi::Rect {
                x0,
                y0,
                width,
                height,
            } => (
                x0 as f64,
                y0 as f64,
                (x0 + width - 1) as f64,
                (y0 + height - 1) as f64,
            ),
            Roi::Circle { cx, cy, r } => (cx - r, cy - r, cx + r, cy + r),
            Roi::Ellipse { cx, cy, rx, ry } => (cx - rx, cy - ry, cx + rx, cy + ry),
        }
    }

    /// Whether every pixel of the shape lies inside a `cols` x `rows` image.
    pub fn inside(&self, cols: usize, rows: usize) -> bool {
        let (x0, y0, x1, y1) = self.bounds();
        x0 >= -0.5 && y0 >= -0.5 && x1 <= cols as f64 - 0.5 && y1 <= rows as f64 - 0.5
    }

    /// The `(x, y)` pixels of the ROI that lie inside a `cols` x `rows` image, row by row.
    pub fn pixels(&self, cols: usize, rows: usize) -> Vec<(usize, usize)> {
        let (x0, y0, x1, y1) = self.bounds();
        let clamp = |v: f64, n: usize| v.clamp(0.0, n.saturating_sub(1) as f64);
        let (xa, xb) = (
            clamp(x0.floor(), cols) as usize,
            clamp(x1.ceil(), cols) as usize,
        );
        let (ya, yb) = (
            clamp(y0.floor(), rows) as usize,
            clamp(y1.ceil(), rows) as usize,
        );
        let mut out = Vec::new();
        for y in ya..=yb {
            for x in xa..=xb {
                if self.contains(x as f64, y as f64) {
                    out.push((x, y));
                }
            }
        }
        out
    }

    /// Statistics of `img` in the ROI; an error names `what` when the ROI leaves the image or
    /// holds fewer than 2 pixels.
    pub fn stats(&self, img: &Image, what: &str) -> Result<RoiStats> {
        if !self.inside(img.cols(), img.rows()) {
            return Err(Error::Invalid {
                what: what.to_string(),
                message: format!(
                    "ROI {} extends outside the {} x {} image",
                    self.describe(),
                    img.cols(),
                    img.rows()
                ),
            });
        }
        let px = self.pixels(img.cols(), img.rows());
        if px.len() < 2 {
            return Err(Error::Invalid {
                what: what.to_string(),
                message: format!("ROI {} holds {} pixel(s)", self.describe(), px.len()),
            });
        }
        let n = px.len() as f64;
        let mean = px.iter().map(|&(x, y)| img.at(x, y)).sum::<f64>() / n;
        let ss: f64 = px.iter().map(|&(x, y)| (img.at(x, y) - mean).powi(2)).sum();
        Ok(RoiStats {
            pixels: px.len(),
            mean,
            sd: (ss / (n - 1.0)).sqrt(),
            area_mm2: n * img.dx() * img.dy(),
        })
    }

    /// A short human-readable description (shape, centre, size in pixels).
    pub fn describe(&self) -> String {
        match *self {
            Roi::Rect {
                x0,
                y0,
                width,
                height,
            } => format!("rectangle {width}x{height} px at ({x0}, {y0})"),
            Roi::Circle { cx, cy, r } => format!("circle r={r:.1} px at ({cx:.1}, {cy:.1})"),
            Roi::Ellipse { cx, cy, rx, ry } => {
                format!("ellipse {rx:.1}x{ry:.1} px semi-axes at ({cx:.1}, {cy:.1})")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qa::image::Spacing;

    #[test]
    fn rect_selects_exactly_its_pixels() {
        let r = Roi::Rect {
            x0: 2,
            y0: 3,
            width: 4,
            height: 5,
        };
        let px = r.pixels(20, 20);
        assert_eq!(px.len(), 20);
        assert!(px.contains(&(2, 3)) && px.contains(&(5, 7)) && !px.contains(&(6, 7)));
    }

    /// Asserts that `roi` holds `area` pixels on a 101 x 101 image, to a relative `tolerance`.
    fn assert_area(roi: Roi, area: f64, tolerance: f64) {
        let n = roi.pixels(101, 101).len() as f64;
        assert!((n / area - 1.0).abs() < tolerance, "{n}");
    }

    #[test]
    fn circle_area_is_close_to_pi_r_squared() {
        let c = Roi::Circle {
            cx: 50.0,
            cy: 50.0,
            r: 30.0,
        };
        assert_area(c, std::f64::consts::PI * 900.0, 0.01);
        let e = Roi::Ellipse {
            cx: 50.0,
            cy: 50.0,
            rx: 10.0,
            ry: 40.0,
        };
        assert_area(e, std::f64::consts::PI * 400.0, 0.02);
    }

    #[test]
    fn stats_refuses_rois_outside_the_image() {
        let img = Image::new(10, 10, vec![1.0; 100], Spacing::square(2.0)).unwrap();
        let inside = Roi::Rect {
            x0: 0,
            y0: 0,
            width: 10,
            height: 10,
        };
        let s = inside.stats(&img, "t").unwrap();
        assert_eq!((s.pixels, s.mean, s.sd, s.area_mm2), (100, 1.0, 0.0, 400.0));
        let outside = Roi::Circle {
            cx: 0.0,
            cy: 5.0,
            r: 3.0,
        };
        let e = outside.stats(&img, "left ROI").unwrap_err().to_string();
        assert!(e.starts_with("left ROI: ROI circle"), "{e}");
    }
}
