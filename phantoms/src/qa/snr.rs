//! Signal-to-noise ratio of a uniform phantom region, two ways:
//!
//! * **subtraction** (NEMA MS 1 method 1, IPEM Report 112): two identical acquisitions;
//!   signal = mean of image 1 in an ROI, noise = SD of (image 1 - image 2) in the same ROI / sqrt(2);
//! * **smoothing** (McCann et al. 2013, single image): noise image = image - boxcar-smoothed image
//!   (k x k, zero padded); signal = mean of the image in an ROI, noise = SD of the noise image
//!   there (no sqrt(2), as McCann and hazen).
//!
//! Both use hazen's five 20 x 20 pixel squares (one central, four at +-40 pixels diagonally),
//! defined here in millimetres (19.53 mm squares, 39.06 mm offsets: 20 and 40 pixels at the usual
//! 250 mm / 256 field of view) so that other matrices sample the same area; the SNR is the mean
//! of the five ROI SNRs. [`normalisation_factor`] is hazen's normalised-SNR factor.

use serde::Serialize;

use super::image::Image;
use super::roi::{Roi, RoiStats};
use crate::{Error, Result};

/// Side of each square ROI in mm (20 pixels of 250/256 mm).
pub const ROI_SIDE_MM: f64 = 20.0 * 250.0 / 256.0;
/// Offset of the four outer ROI centres from the central one, along x and y, in mm (40 pixels).
pub const ROI_OFFSET_MM: f64 = 40.0 * 250.0 / 256.0;
/// Boxcar size of the smoothing method for the ACR phantom (hazen `acr_snr`; McCann body coil).
pub const KERNEL_ACR: usize = 25;
/// Boxcar size of the smoothing method for flood-field phantoms (hazen `snr`, head coil default).
pub const KERNEL_FLOOD: usize = 9;

/// The measurement of one ROI.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SnrRoi {
    /// The ROI.
    pub roi: Roi,
    /// Signal statistics (the image; image 1 for subtraction).
    pub signal: RoiStats,
    /// Noise SD in the ROI (already divided by sqrt(2) for subtraction).
    pub noise_sd: f64,
    /// `signal.mean / noise_sd`.
    pub snr: f64,
}

/// An SNR measurement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SnrMeasurement {
    /// Mean of the ROI SNRs.
    pub snr: f64,
    /// The five ROIs.
    pub rois: Vec<SnrRoi>,
}

/// hazen's five square ROIs around `centre` (pixels), sized in mm for `img`'s pixel spacing.
pub fn five_rois(img: &Image, centre: (f64, f64)) -> Vec<Roi> {
    let side_x = (ROI_SIDE_MM / img.dx()).round().max(2.0) as i64;
    let side_y = (ROI_SIDE_MM / img.dy()).round().max(2.0) as i64;
    let off_x = (ROI_OFFSET_MM / img.dx()).round() as i64;
    let off_y = (ROI_OFFSET_MM / img.dy()).round() as i64;
    let (cx, cy) = (centre.0.round() as i64, centre.1.round() as i64);
    let square = |ox: i64, oy: i64| Roi::Rect {
        x0: cx + ox - side_x / 2,
        y0: cy + oy - side_y / 2,
        width: side_x,
        height: side_y,
    };
    vec![
        square(0, 0),
        square(-off_x, -off_y),
        square(-off_x, off_y),
        square(off_x, -off_y),
        square(off_x, off_y),
    ]
}

/// SNR by subtraction of two images of identical acquisitions.
pub fn snr_subtraction(img1: &Image, img2: &Image, rois: &[Roi]) -> Result<SnrMeasurement> {
    let diff = img1.subtract(img2)?;
    measure(img1, &diff, rois, std::f64::consts::SQRT_2, "subtraction")
}

/// SNR of one image by the smoothing method with a `kernel` x `kernel` boxcar.
pub fn snr_smoothing(img: &Image, rois: &[Roi], kernel: usize) -> Result<SnrMeasurement> {
    if kernel < 2 {
        return Err(Error::Invalid {
            what: "smoothing kernel".into(),
            message: format!("{kernel} pixels: need at least 2"),
        });
    }
    let smooth = img.box_filter(kernel);
    let noise = img.subtract(&smooth)?;
    measure(img, &noise, rois, 1.0, "smoothing")
}

fn measure(
    signal_img: &Image,
    noise_img: &Image,
    rois: &[Roi],
    noise_divisor: f64,
    method: &str,
) -> Result<SnrMeasurement> {
    if rois.is_empty() {
        return Err(Error::Invalid {
            what: format!("SNR ({method})"),
            message: "no ROIs".into(),
        });
    }
    let mut out = Vec::with_capacity(rois.len());
    for (i, roi) in rois.iter().enumerate() {
        let what = format!("SNR ({method}) ROI {}", i + 1);
        let signal = roi.stats(signal_img, &what)?;
        let noise_sd = roi.stats(noise_img, &what)?.sd / noise_divisor;
        if noise_sd <= 0.0 {
            return Err(Error::Invalid {
                what,
                message: if method == "subtraction" {
                    "the two images are identical there (noise SD 0): they must be two separate acquisitions".into()
                } else {
                    "the image has no noise there (SD 0)".into()
                },
            });
        }
        out.push(SnrRoi {
            roi: *roi,
            signal,
            noise_sd,
            snr: signal.mean / noise_sd,
        });
    }
    let snr = out.iter().map(|r| r.snr).sum::<f64>() / out.len() as f64;
    Ok(SnrMeasurement { snr, rois: out })
}

/// Acquisition parameters that hazen's normalised SNR divides out.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct NormalisationInputs {
    /// Horizontal pixel size in mm.
    pub dx_mm: f64,
    /// Vertical pixel size in mm.
    pub dy_mm: f64,
    /// Slice thickness in mm.
    pub slice_thickness_mm: f64,
    /// Pixel bandwidth in Hz/pixel.
    pub pixel_bandwidth_hz: f64,
    /// Image columns.
    pub columns: f64,
    /// Image rows (hazen's stand-in for phase-encoding steps).
    pub rows: f64,
    /// Repetition time in ms.
    pub tr_ms: f64,
    /// Number of signal averages.
    pub averages: f64,
}

/// hazen's normalisation factor: `1 / V[cm^3] * sqrt(BW * columns / 2 [kHz] / 30) /
/// sqrt(NSA * rows * TR[s])`; normalised SNR = SNR x factor.
pub fn normalisation_factor(p: &NormalisationInputs) -> Result<f64> {
    let fields = [
        ("pixel spacing x", p.dx_mm),
        ("pixel spacing y", p.dy_mm),
        ("slice thickness", p.slice_thickness_mm),
        ("pixel bandwidth", p.pixel_bandwidth_hz),
        ("columns", p.columns),
        ("rows", p.rows),
        ("repetition time", p.tr_ms),
        ("number of averages", p.averages),
    ];
    for (name, v) in fields {
        if !(v.is_finite() && v > 0.0) {
            return Err(Error::Invalid {
                what: format!("normalised SNR: {name}"),
                message: format!("{v} is not a positive number"),
            });
        }
    }
    let voxel_cm3 = 0.001 * p.dx_mm * p.dy_mm * p.slice_thickness_mm;
    let bandwidth = ((p.pixel_bandwidth_hz * p.columns / 2.0) / 1000.0 / 30.0).sqrt();
    Ok(bandwidth / voxel_cm3 / (p.averages * p.rows * p.tr_ms / 1000.0).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qa::image::Spacing;
    use crate::qa::phantom::tests::disc;

    /// Deterministic Gaussian noise (xorshift + Box-Muller).
    pub(crate) fn noise(n: usize, sd: f64, seed: u64) -> Vec<f64> {
        let mut s = seed.max(1);
        let mut uniform = || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f64 / (1u64 << 53) as f64
        };
        (0..n)
            .map(|_| {
                let (u1, u2) = (uniform().max(1e-300), uniform());
                sd * (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
            })
            .collect()
    }

    fn noisy_disc(seed: u64, sd: f64) -> Image {
        let base = disc(256, 128.0, 128.0, 97.0, 1000.0, 0.0);
        let data = base
            .data()
            .iter()
            .zip(noise(256 * 256, sd, seed))
            .map(|(a, b)| a + b)
            .collect();
        Image::new(256, 256, data, Spacing::square(250.0 / 256.0)).unwrap()
    }

    #[test]
    fn subtraction_recovers_the_true_snr() {
        let (a, b) = (noisy_disc(1, 10.0), noisy_disc(2, 10.0));
        let rois = five_rois(&a, (128.0, 128.0));
        let m = snr_subtraction(&a, &b, &rois).unwrap();
        assert!((m.snr / 100.0 - 1.0).abs() < 0.05, "{}", m.snr);
        assert_eq!(m.rois.len(), 5);
        assert_eq!(m.rois[0].signal.pixels, 400);
    }

    #[test]
    fn smoothing_recovers_the_true_snr_within_the_method_bias() {
        // The boxcar noise image has variance sd^2 (1 - 1/k^2): a 0.1 % bias at k = 25.
        let a = noisy_disc(3, 10.0);
        let m = snr_smoothing(&a, &five_rois(&a, (128.0, 128.0)), KERNEL_ACR).unwrap();
        assert!((m.snr / 100.0 - 1.0).abs() < 0.05, "{}", m.snr);
    }

    #[test]
    fn identical_images_are_an_error() {
        let a = noisy_disc(4, 10.0);
        let e = snr_subtraction(&a, &a, &five_rois(&a, (128.0, 128.0)))
            .unwrap_err()
            .to_string();
        assert!(e.contains("identical"), "{e}");
    }

    #[test]
    fn rois_match_hazen_pixel_offsets_at_250mm_256() {
        let a = noisy_disc(5, 1.0);
        let r = five_rois(&a, (128.0, 130.0));
        assert_eq!(
            r[1],
            Roi::Rect {
                x0: 78,
                y0: 80,
                width: 20,
                height: 20
            }
        );
        assert_eq!(
            r[0],
            Roi::Rect {
                x0: 118,
                y0: 120,
                width: 20,
                height: 20
            }
        );
    }

    #[test]
    fn normalisation_factor_matches_the_formula() {
        let p = NormalisationInputs {
            dx_mm: 1.0,
            dy_mm: 1.0,
            slice_thickness_mm: 5.0,
            pixel_bandwidth_hz: 234.375,
            columns: 256.0,
            rows: 256.0,
            tr_ms: 1000.0,
            averages: 1.0,
        };
        // BW*cols/2 = 30 kHz -> bandwidth term 1; voxel 0.005 cm^3; sqrt(256 * 1 s) = 16.
        let f = normalisation_factor(&p).unwrap();
        assert!((f - 200.0 / 16.0).abs() < 1e-9, "{f}");
        let bad = NormalisationInputs { tr_ms: 0.0, ..p };
        assert!(normalisation_factor(&bad).is_err());
    }
}
