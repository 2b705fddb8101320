//! A 2-D image as a row-major array of `f64` with its pixel spacing: what every QA algorithm
//! takes. Pixel `(x, y)` is column `x`, row `y`; its centre has coordinates `(x, y)` in pixel
//! units, so ROI geometry and drawing share one coordinate system.

use serde::Serialize;

use crate::{Error, Result};

/// Physical size of a pixel, from DICOM Pixel Spacing (row spacing first, as DICOM stores it).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Spacing {
    /// Distance between the centres of adjacent rows (vertical pixel size, "dy"), in mm.
    pub row_mm: f64,
    /// Distance between the centres of adjacent columns (horizontal pixel size, "dx"), in mm.
    pub col_mm: f64,
}

impl Spacing {
    /// Square pixels of `mm` millimetres.
    pub fn square(mm: f64) -> Self {
        Spacing {
            row_mm: mm,
            col_mm: mm,
        }
    }
}

/// A single-channel 2-D image with finite values.
#[derive(Debug, Clone, PartialEq)]
pub struct Image {
    rows: usize,
    cols: usize,
    data: Vec<f64>,
    spacing: Spacing,
}

impl Image {
    /// Wraps row-major `data` (`rows * cols` finite values) with its pixel spacing.
    pub fn new(rows: usize, cols: usize, data: Vec<f64>, spacing: Spacing) -> Result<Self> {
        if rows == 0 || cols == 0 {
            return Err(invalid("image size", format!("{rows} x {cols} pixels")));
        }
        if data.len() != rows * cols {
            return Err(invalid(
                "image data",
                format!("{} values for {rows} x {cols} pixels", data.len()),
            ));
        }
        for (name, v) in [("row", spacing.row_mm), ("column", spacing.col_mm)] {
            if !(v.is_finite() && v > 0.0) {
                return Err(invalid(
                    "pixel spacing",
                    format!("{name} spacing {v} mm is not a positive number"),
                ));
            }
        }
        if let Some(i) = data.iter().position(|v| !v.is_finite()) {
            return Err(invalid(
                "image data",
                format!("pixel {} (row {}) is not finite", i % cols, i / cols),
            ));
        }
        Ok(Image {
            rows,
            cols,
            data,
            spacing,
        })
    }

    /// Number of rows (image height).
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns (image width).
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// The row-major pixel values.
    pub fn data(&self) -> &[f64] {
        &self.data
    }

    /// The pixel spacing.
    pub fn spacing(&self) -> Spacing {
        self.spacing
    }

    /// Horizontal pixel size (column spacing) in mm.
    pub fn dx(&self) -> f64 {
        self.spacing.col_mm
    }

    /// Vertical pixel size (row spacing) in mm.
    pub fn dy(&self) -> f64 {
        self.spacing.row_mm
    }

    /// Value of pixel (column `x`, row `y`); both must be inside the image.
    pub fn at(&self, x: usize, y: usize) -> f64 {
        self.data[y * self.cols + x]
    }

    /// Bilinear interpolation at `(x, y)` in pixel coordinates; `None` outside the image.
    pub fn bilinear(&self, x: f64, y: f64) -> Option<f64> {
        let (w, h) = ((self.cols - 1) as f64, (self.rows - 1) as f64);
        if !(x >= 0.0 && y >= 0.0 && x <= w && y <= h) {
            return None;
        }
        let (x0, y0) = (x.floor() as usize, y.floor() as usize);
        let (x1, y1) = ((x0 + 1).min(self.cols - 1), (y0 + 1).min(self.rows - 1));
        let (fx, fy) = (x - x0 as f64, y - y0 as f64);
        let top = self.at(x0, y0) * (1.0 - fx) + self.at(x1, y0) * fx;
        let bottom = self.at(x0, y1) * (1.0 - fx) + self.at(x1, y1) * fx;
        Some(top * (1.0 - fy) + bottom * fy)
    }

    /// Pixel-wise `self - other`; both images must have the same size.
    pub fn subtract(&self, other: &Image) -> Result<Image> {
        if (self.rows, self.cols) != (other.rows, other.cols) {
            return Err(invalid(
                "image pair",
                format!(
                    "sizes differ: {} x {} and {} x {} pixels",
                    self.cols, self.rows, other.cols, other.rows
                ),
            ));
        }
        let data = self
            .data
            .iter()
            .zip(&other.data)
            .map(|(a, b)| a - b)
            .collect();
        Ok(Image {
            data,
            ..self.clone()
        })
    }

    /// Mean over a `k` x `k` box centred on each pixel, with zeros outside the image (as
    /// `scipy.ndimage.uniform_filter(mode="constant")`, the boxcar of McCann et al. 2013).
    pub fn box_filter(&self, k: usize) -> Image {
        let k = k.max(1);
        let before = k / 2; // the box covers [i - k/2, i - k/2 + k)
        let filter_1d = |src: &[f64], n: usize, stride: usize, len: usize, out: &mut [f64]| {
            // n lines of `len` samples each, `stride` apart within a line.
            for line in 0..n {
                let base = if stride == 1 { line * len } else { line };
                let get = |i: isize| -> f64 {
                    if i < 0 || i as usize >= len {
                        0.0
                    } else {
                        src[base + i as usize * stride]
                    }
                };
                let mut sum: f64 = (0..k as isize).map(|j| get(j - before as isize)).sum();
                for i in 0..len as isize {
                    out[base + i as usize * stride] = sum / k as f64;
                    sum += get(i + k as isize - before as isize) - get(i - before as isize);
                }
            }
        };
        let mut horizontal = vec![0.0; self.data.len()];
        filter_1d(&self.data, self.rows, 1, self.cols, &mut horizontal);
        let mut both = vec![0.0; self.data.len()];
        filter_1d(&horizontal, self.cols, self.cols, self.rows, &mut both);
        Image {
            data: both,
            ..self.clone()
        }
    }

    /// Widths `(left, top, right, bottom)` of the frame of padding along the image border:
    /// rows and columns of which at least 95 % of the pixels hold exactly the image's minimum (the
    /// zero-filled margins that distortion correction and reconstruction leave outside the
    /// measured field of view). Counted inwards from each side; at most a quarter of the image.
    pub fn padding(&self) -> (usize, usize, usize, usize) {
        let min = self.data.iter().copied().fold(f64::INFINITY, f64::min);
        let row_padded = |y: usize| {
            let n = (0..self.cols).filter(|&x| self.at(x, y) == min).count();
            20 * n >= 19 * self.cols
        };
        let col_padded = |x: usize| {
            let n = (0..self.rows).filter(|&y| self.at(x, y) == min).count();
            20 * n >= 19 * self.rows
        };
        let count = |n: usize, padded: &dyn Fn(usize) -> bool, rev: bool| {
            (0..n / 4)
                .take_while(|&i| padded(if rev { n - 1 - i } else { i }))
                .count()
        };
        (
            count(self.cols, &col_padded, false),
            count(self.rows, &row_padded, false),
            count(self.cols, &col_padded, true),
            count(self.rows, &row_padded, true),
        )
    }

    /// The value at quantile `q` in [0, 1] of all pixels (nearest rank).
    pub fn quantile(&self, q: f64) -> f64 {
        let mut v = self.data.clone();
        v.sort_by(f64::total_cmp);
        let i = ((v.len() - 1) as f64 * q.clamp(0.0, 1.0)).round() as usize;
        v[i]
    }
}

fn invalid(what: &str, message: String) -> Error {
    Error::Invalid {
        what: what.to_string(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_shapes_and_values() {
        let s = Spacing::square(1.0);
        assert!(Image::new(2, 2, vec![0.0; 3], s).is_err());
        assert!(Image::new(1, 2, vec![0.0, f64::NAN], s).is_err());
        assert!(Image::new(1, 1, vec![0.0], Spacing::square(0.0)).is_err());
    }

    #[test]
    fn box_filter_matches_a_direct_sum_with_zero_padding() {
        let (rows, cols) = (7, 9);
        let data: Vec<f64> = (0..rows * cols).map(|i| ((i * 37) % 11) as f64).collect();
        let img = Image::new(rows, cols, data, Spacing::square(1.0)).unwrap();
        for k in [1, 3, 4, 5] {
            let f = img.box_filter(k);
            for y in 0..rows as isize {
                for x in 0..cols as isize {
                    let mut s = 0.0;
                    for dy in 0..k as isize {
                        for dx in 0..k as isize {
                            let (xx, yy) = (x + dx - k as isize / 2, y + dy - k as isize / 2);
                            if xx >= 0 && yy >= 0 && xx < cols as isize && yy < rows as isize {
                                s += img.at(xx as usize, yy as usize);
                            }
                        }
                    }
                    let want = s / (k * k) as f64;
                    let got = f.at(x as usize, y as usize);
                    assert!(
                        (got - want).abs() < 1e-9,
                        "k={k} ({x},{y}): {got} vs {want}"
                    );
                }
            }
        }
    }

    #[test]
    fn padding_counts_border_rows_and_columns_of_minimum_values() {
        let (rows, cols) = (20, 30);
        let mut data = vec![5.0; rows * cols];
        for y in 0..rows {
            for x in 0..cols {
                if y < 3 || x >= cols - 2 || (y == 19 && x % 9 != 0) {
                    data[y * cols + x] = 0.0;
                }
            }
        }
        let img = Image::new(rows, cols, data, Spacing::square(1.0)).unwrap();
        assert_eq!(img.padding(), (0, 3, 2, 0));
    }

    #[test]
    fn bilinear_interpolates_and_refuses_outside() {
        let img = Image::new(2, 2, vec![0.0, 1.0, 2.0, 3.0], Spacing::square(1.0)).unwrap();
        assert_eq!(img.bilinear(0.5, 0.5), Some(1.5));
        assert_eq!(img.bilinear(1.0, 1.0), Some(3.0));
        assert_eq!(img.bilinear(1.01, 0.0), None);
    }
}
