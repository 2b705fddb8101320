//! Signal-to-noise ratio of a uniform phantom region, three ways:
//!
//! * **subtraction** (NEMA MS 1 method 1, IPEM Report 112): two identical acquisitions;
//!   signal = mean of image 1 in an ROI, noise = SD of (image 1 - image 2) in the same ROI / sqrt(2);
//! * **smoothing** (McCann et al. 2013, single image): noise image = image - boxcar-smoothed image
//!   (k x k, zero padded); signal = mean of the image in an ROI, noise = SD of the noise image
//!   there (no sqrt(2), as McCann and hazen);
//! * **background** (NEMA MS 1 single-image method): `SNR = 0.655 S / SD_background`, with S the
//!   mean of a central ROI covering 75 % of the phantom area ([`nema_signal_roi`]) and
//!   SD_background the SD of air in the corners of the field of view, away from the phantom's
//!   phase-encoding ghosts ([`background_rois`], [`snr_background`]). The 0.655 corrects for the
//!   Rayleigh distribution of magnitude noise in air: it holds only for single-channel magnitude
//!   images without parallel imaging, so the result carries checks ([`background_flags`]).
//!
//! Subtraction and smoothing use hazen's five 20 x 20 pixel squares (one central, four at +-40
//! pixels diagonally), defined here in millimetres (19.53 mm squares, 39.06 mm offsets: 20 and 40
//! pixels at the usual 250 mm / 256 field of view) so that other matrices sample the same area;
//! the SNR is the mean of the five ROI SNRs. [`normalisation_factor`] is hazen's normalised-SNR
//! factor.

use serde::Serialize;

use super::image::Image;
use super::phantom::PhantomOutline;
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

// ---------------------------------------------------------------------------------------------
// Single image, background noise (NEMA MS 1)

/// NEMA's Rayleigh correction: in air, the SD of magnitude noise is 0.655 times the SD of the
/// Gaussian noise of each of the real and imaginary channels (`sqrt(2 - pi/2)` = 0.6551).
pub const RAYLEIGH_SD_FACTOR: f64 = 0.655;
/// Mean / SD of Rayleigh noise, `sqrt(pi/2) / sqrt(2 - pi/2)` = 1.913: what the background of a
/// single-channel magnitude image shows.
pub const RAYLEIGH_MEAN_TO_SD: f64 = 1.913;
/// Relative departure of the background mean/SD from [`RAYLEIGH_MEAN_TO_SD`] beyond which the
/// result is flagged (about 4 standard errors at [`MIN_BACKGROUND_PIXELS`]).
pub const RAYLEIGH_CHECK_TOLERANCE: f64 = 0.10;
/// Fraction of the phantom area that the NEMA signal ROI covers.
pub const NEMA_SIGNAL_AREA_FRACTION: f64 = 0.75;
/// Fewest background pixels (all ROIs together) for a measurement: the relative standard error
/// of the background SD is then at most 2.4 % (`sqrt((kurtosis - 1) / 4n)`, Rayleigh kurtosis
/// 3.245).
pub const MIN_BACKGROUND_PIXELS: usize = 1000;
/// Clearance between a background ROI and the phantom's bounding box, in mm (edge ringing and
/// partial volume stay out).
pub const BACKGROUND_CLEARANCE_MM: f64 = 5.0;
/// Longest side of a background ROI, in mm (the ROIs stay in the corners).
pub const BACKGROUND_ROI_MAX_MM: f64 = 40.0;
/// Clearance between a background ROI and the edge of the measured field of view, in pixels.
pub const BACKGROUND_EDGE_MARGIN_PX: i64 = 2;
/// Narrowest background ROI kept, in pixels.
pub const BACKGROUND_ROI_MIN_SIDE_PX: i64 = 4;

/// The in-plane phase-encoding direction, along which the phantom's ghosts are replicated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PhaseEncoding {
    /// Along the rows (DICOM `ROW`): ghosts lie left and right of the phantom, on its rows.
    Horizontal,
    /// Along the columns (DICOM `COL`): ghosts lie above and below the phantom, in its columns.
    Vertical,
    /// Not known: background ROIs avoid both the phantom's rows and its columns.
    Unknown,
}

impl PhaseEncoding {
    /// From DICOM In-plane Phase Encoding Direction (0018,1312).
    pub fn from_dicom(value: Option<&str>) -> Self {
        match value.map(|v| v.trim().to_ascii_uppercase()).as_deref() {
            Some("ROW") => PhaseEncoding::Horizontal,
            Some("COL") => PhaseEncoding::Vertical,
            _ => PhaseEncoding::Unknown,
        }
    }
}

/// Where the background ROIs went, and the corners that had no room for one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BackgroundPlacement {
    /// The ROIs, one per corner that had room.
    pub rois: Vec<Roi>,
    /// Their corners (`top_left`, `top_right`, `bottom_left`, `bottom_right`), as `rois`.
    pub names: Vec<&'static str>,
    /// Why each other corner has no ROI.
    pub skipped: Vec<String>,
}

/// Background ROIs for the NEMA single-image method: one rectangle in each corner of the
/// measured field of view (inside the zero-filled frame of [`Image::padding`], 2 px from its
/// edge), at most 40 mm a side, and clear of the phantom by 5 mm. Along the phase-encoding
/// direction the phantom's ghosts cover the rows (or columns) the phantom spans, so each ROI lies
/// wholly beyond the phantom's extent across that direction: above or below the phantom for
/// horizontal phase encoding, left or right of it for vertical, outside both when unknown. A
/// corner with less than 4 px of room, or holding pixels at or above the phantom's edge level
/// (another object), gets no ROI and a reason in `skipped`.
pub fn background_rois(
    img: &Image,
    phantom: &PhantomOutline,
    pe: PhaseEncoding,
) -> BackgroundPlacement {
    let (pl, pt, pr, pb) = img.padding();
    let e = BACKGROUND_EDGE_MARGIN_PX;
    // The usable field of view, inclusive pixel indices.
    let (fx0, fy0) = (pl as i64 + e, pt as i64 + e);
    let (fx1, fy1) = (
        img.cols() as i64 - 1 - pr as i64 - e,
        img.rows() as i64 - 1 - pb as i64 - e,
    );
    let (x_min, y_min, x_max, y_max) = phantom.extent();
    let clear_x = (BACKGROUND_CLEARANCE_MM / img.dx()).ceil() as i64;
    let clear_y = (BACKGROUND_CLEARANCE_MM / img.dy()).ceil() as i64;
    let max_w = (BACKGROUND_ROI_MAX_MM / img.dx()).round() as i64;
    let max_h = (BACKGROUND_ROI_MAX_MM / img.dy()).round() as i64;
    let (cx, cy) = (
        phantom.centre.0.round() as i64,
        phantom.centre.1.round() as i64,
    );
    // Room on each side: beyond the phantom (constrained) or up to the phantom centre.
    let (avoid_rows, avoid_cols) = match pe {
        PhaseEncoding::Horizontal => (true, false),
        PhaseEncoding::Vertical => (false, true),
        PhaseEncoding::Unknown => (true, true),
    };
    let (left_end, right_start) = if avoid_cols {
        (
            x_min.floor() as i64 - clear_x,
            x_max.ceil() as i64 + clear_x,
        )
    } else {
        (cx - 1, cx + 1)
    };
    let (top_end, bottom_start) = if avoid_rows {
        (
            y_min.floor() as i64 - clear_y,
            y_max.ceil() as i64 + clear_y,
        )
    } else {
        (cy - 1, cy + 1)
    };
    let mut out = BackgroundPlacement {
        rois: Vec::new(),
        names: Vec::new(),
        skipped: Vec::new(),
    };
    for (name, left, top) in [
        ("top_left", true, true),
        ("top_right", false, true),
        ("bottom_left", true, false),
        ("bottom_right", false, false),
    ] {
        let (x0, x1) = if left {
            (fx0, left_end.min(fx0 + max_w - 1))
        } else {
            (right_start.max(fx1 - max_w + 1), fx1)
        };
        let (y0, y1) = if top {
            (fy0, top_end.min(fy0 + max_h - 1))
        } else {
            (bottom_start.max(fy1 - max_h + 1), fy1)
        };
        let (w, h) = (x1 - x0 + 1, y1 - y0 + 1);
        let corner = name.replace('_', "-");
        if w < BACKGROUND_ROI_MIN_SIDE_PX || h < BACKGROUND_ROI_MIN_SIDE_PX {
            out.skipped.push(format!(
                "{corner} corner: {} x {} px of air clear of the phantom{} (need {BACKGROUND_ROI_MIN_SIDE_PX} px)",
                w.max(0),
                h.max(0),
                match pe {
                    PhaseEncoding::Horizontal => " and off its rows (phase-encoding ghosts)",
                    PhaseEncoding::Vertical => " and off its columns (phase-encoding ghosts)",
                    PhaseEncoding::Unknown => " and off its rows and columns",
                }
            ));
            continue;
        }
        let roi = Roi::Rect {
            x0,
            y0,
            width: w,
            height: h,
        };
        let bright = roi
            .pixels(img.cols(), img.rows())
            .iter()
            .filter(|&&(x, y)| img.at(x, y) >= phantom.edge_level)
            .count();
        if bright > 0 {
            out.skipped.push(format!(
                "{corner} corner: {bright} pixel(s) at or above the phantom edge level {:.1} \
                 (another object in the air)",
                phantom.edge_level
            ));
            continue;
        }
        out.rois.push(roi);
        out.names.push(name);
    }
    out
}

/// NEMA's signal ROI: an ellipse centred on `centre` covering [`NEMA_SIGNAL_AREA_FRACTION`] of
/// the phantom area, with the aspect ratio of the phantom's bounding box (a circle of 0.866 times
/// the radius for a round phantom), shrunk if needed until it lies inside the phantom outline.
pub fn nema_signal_roi(phantom: &PhantomOutline, centre: (f64, f64)) -> Result<Roi> {
    let fail = |message: String| Error::Invalid {
        what: "NEMA signal ROI".into(),
        message,
    };
    let (x_min, y_min, x_max, y_max) = phantom.extent();
    let (a, b) = (0.5 * (x_max - x_min), 0.5 * (y_max - y_min));
    if !(a > 1.0 && b > 1.0 && phantom.area_px > 0) || phantom.hull.len() < 3 {
        return Err(fail("the phantom outline is degenerate".into()));
    }
    let target = NEMA_SIGNAL_AREA_FRACTION * phantom.area_px as f64;
    let mut k = (target / (std::f64::consts::PI * a * b)).sqrt();
    let inside = |k: f64| {
        (0..180).all(|i| {
            let t = 2.0 * std::f64::consts::PI * i as f64 / 180.0;
            inside_convex(
                &phantom.hull,
                (centre.0 + k * a * t.cos(), centre.1 + k * b * t.sin()),
            )
        })
    };
    while !inside(k) {
        k *= 0.98;
        if k < 0.3 {
            return Err(fail(format!(
                "no ellipse around ({:.1}, {:.1}) px fits inside the phantom outline",
                centre.0, centre.1
            )));
        }
    }
    Ok(Roi::Ellipse {
        cx: centre.0,
        cy: centre.1,
        rx: k * a,
        ry: k * b,
    })
}

/// Whether `p` lies inside (or on) the convex polygon `hull`, of either orientation.
fn inside_convex(hull: &[(f64, f64)], p: (f64, f64)) -> bool {
    let n = hull.len();
    let (mut pos, mut neg) = (false, false);
    for i in 0..n {
        let (a, b) = (hull[i], hull[(i + 1) % n]);
        let cross = (b.0 - a.0) * (p.1 - a.1) - (b.1 - a.1) * (p.0 - a.0);
        pos |= cross > 1e-9;
        neg |= cross < -1e-9;
    }
    !(pos && neg)
}

/// The NEMA single-image (background noise) SNR measurement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BackgroundSnr {
    /// `0.655 * signal.mean / background_sd`.
    pub snr: f64,
    /// The signal ROI.
    pub signal_roi: Roi,
    /// Signal statistics.
    pub signal: RoiStats,
    /// The background ROIs.
    pub background_rois: Vec<Roi>,
    /// Statistics of each background ROI, as `background_rois`.
    pub background: Vec<RoiStats>,
    /// Number of background pixels, all ROIs together.
    pub background_pixels: usize,
    /// Mean of all background pixels.
    pub background_mean: f64,
    /// Pooled within-ROI SD of the background (`sqrt(sum (n_i - 1) sd_i^2 / sum (n_i - 1))`).
    pub background_sd: f64,
    /// The Gaussian noise SD this implies, `background_sd / 0.655` (valid for Rayleigh noise).
    pub noise_sigma: f64,
    /// `background_mean / background_sd`: 1.913 for Rayleigh noise.
    pub mean_to_sd: f64,
    /// Background pixels below zero (a magnitude image has none).
    pub negative_pixels: usize,
    /// Background pixels exactly zero (many when the scanner masks the background).
    pub zero_pixels: usize,
}

/// NEMA single-image SNR of `img`: `0.655 * mean(signal ROI) / SD(background ROIs)`. Fails
/// (never NaN) when the ROIs leave the image, the background ROIs hold fewer than
/// [`MIN_BACKGROUND_PIXELS`] pixels in all, or the background SD or signal is not positive.
pub fn snr_background(img: &Image, signal_roi: &Roi, background: &[Roi]) -> Result<BackgroundSnr> {
    let what = "SNR (background)";
    let fail = |message: String| Error::Invalid {
        what: what.into(),
        message,
    };
    let signal = signal_roi.stats(img, &format!("{what} signal ROI"))?;
    if signal.mean <= 0.0 {
        return Err(fail(format!(
            "signal ROI mean {} is not positive",
            signal.mean
        )));
    }
    let mut stats = Vec::with_capacity(background.len());
    let (mut n, mut sum, mut ss_within, mut dof) = (0usize, 0.0, 0.0, 0.0);
    let (mut negative, mut zero) = (0usize, 0usize);
    for (i, roi) in background.iter().enumerate() {
        let s = roi.stats(img, &format!("{what} background ROI {}", i + 1))?;
        for (x, y) in roi.pixels(img.cols(), img.rows()) {
            let v = img.at(x, y);
            negative += usize::from(v < 0.0);
            zero += usize::from(v == 0.0);
        }
        n += s.pixels;
        sum += s.mean * s.pixels as f64;
        ss_within += (s.pixels as f64 - 1.0) * s.sd * s.sd;
        dof += s.pixels as f64 - 1.0;
        stats.push(s);
    }
    if n < MIN_BACKGROUND_PIXELS {
        return Err(fail(format!(
            "{} background ROI(s) hold {n} pixels in all; at least {MIN_BACKGROUND_PIXELS} are \
             needed for the background SD (too little air around the phantom)",
            background.len()
        )));
    }
    let sd = (ss_within / dof).sqrt();
    if sd.is_nan() || sd <= 0.0 {
        return Err(fail(
            "the background has no noise (SD 0): the image was masked or clipped there".into(),
        ));
    }
    let mean = sum / n as f64;
    Ok(BackgroundSnr {
        snr: RAYLEIGH_SD_FACTOR * signal.mean / sd,
        signal_roi: *signal_roi,
        signal,
        background_rois: background.to_vec(),
        background: stats,
        background_pixels: n,
        background_mean: mean,
        background_sd: sd,
        noise_sigma: sd / RAYLEIGH_SD_FACTOR,
        mean_to_sd: mean / sd,
        negative_pixels: negative,
        zero_pixels: zero,
    })
}

/// What the background method assumes, for reports.
pub const BACKGROUND_ASSUMPTION: &str = "valid only for single-channel magnitude images without \
     parallel imaging (Rayleigh noise in air); invalid for parallel imaging (SENSE, GRAPPA, \
     ASSET) and multi-channel sum-of-squares or adaptively combined images, where noise in air \
     differs from noise in the phantom";

/// Fraction of exactly-zero background pixels above which the background counts as masked.
pub const MASKED_ZERO_FRACTION: f64 = 0.25;

/// What the image header says about the assumptions of the background method.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct BackgroundHeader {
    /// Receive coil name (see [`super::dicom::ImageMeta::receive_coil`]).
    pub receive_coil: Option<String>,
    /// Transmit coil name; the same as the receive coil for a transmit/receive coil.
    pub transmit_coil: Option<String>,
    /// In-plane parallel imaging factor (1 = none).
    pub parallel_factor: Option<f64>,
    /// Image Type (0008,0008) values.
    pub image_type: Vec<String>,
}

/// Reasons to distrust a background SNR: a background that is not Rayleigh noise (mean/SD away
/// from 1.913 by more than 10 %, negative values, or more than a quarter of the pixels exactly 0),
/// an Image Type other than magnitude (real, imaginary, phase) or intensity-normalised (`NORM`),
/// parallel imaging (factor > 1), or a receive coil whose name says it has several elements.
/// Empty when nothing was found.
pub fn background_flags(m: &BackgroundSnr, header: &BackgroundHeader) -> Vec<String> {
    let mut flags = Vec::new();
    if m.negative_pixels > 0 {
        flags.push(format!(
            "{} background pixels are negative (mean {:.2}): not a magnitude image, the 0.655 \
             Rayleigh factor does not apply",
            m.negative_pixels, m.background_mean
        ));
    }
    if m.zero_pixels as f64 > MASKED_ZERO_FRACTION * m.background_pixels as f64 {
        flags.push(format!(
            "{} of {} background pixels are exactly 0: the scanner masked or clipped the \
             background, its SD is not the noise",
            m.zero_pixels, m.background_pixels
        ));
    }
    if (m.mean_to_sd / RAYLEIGH_MEAN_TO_SD - 1.0).abs() > RAYLEIGH_CHECK_TOLERANCE {
        flags.push(format!(
            "background mean/SD is {:.2}, not the {RAYLEIGH_MEAN_TO_SD} of Rayleigh noise: the \
             air does not hold single-channel magnitude noise (multi-channel combination, \
             parallel imaging, filtering or clipping)",
            m.mean_to_sd
        ));
    }
    let kind = |v: &str| {
        let v = v.to_ascii_uppercase();
        ["R", "REAL", "I", "IMAGINARY", "P", "PHASE"]
            .contains(&v.as_str())
            .then_some(v)
    };
    if let Some(k) = header.image_type.iter().find_map(|v| kind(v)) {
        flags.push(format!(
            "Image Type says {k} (real, imaginary or phase), not a magnitude image: noise in air \
             is Gaussian, not Rayleigh"
        ));
    }
    if header
        .image_type
        .iter()
        .any(|v| v.eq_ignore_ascii_case("NORM"))
    {
        flags.push(
            "Image Type NORM: intensity-normalised (prescan normalize), which scales noise \
             differently in air and in the phantom"
                .into(),
        );
    }
    if let Some(f) = header.parallel_factor
        && f > 1.0
    {
        flags.push(format!("parallel imaging (acceleration factor {f})"));
    }
    if let Some(c) = header.receive_coil.as_deref()
        && multi_element_coil(c)
    {
        flags.push(format!(
            "receive coil \"{c}\" has several elements: a combined multi-channel image"
        ));
    }
    flags
}

/// Whether a receive coil name says the coil has several elements: `MULTI` or `SENSE`
/// (Philips), a list or range of elements (Siemens `HE1-4;NE1,2`), or a channel count of 2 or
/// more at the start (`8HRBRAIN`), after a separator at the end (`SENSE_HEAD_8`, `HeadNeck_20`)
/// or before `CH` (`32Ch Head`).
pub fn multi_element_coil(name: &str) -> bool {
    let u = name.trim().to_ascii_uppercase();
    if ["MULTI", "SENSE", ";", ","].iter().any(|k| u.contains(k)) {
        return true;
    }
    let b = u.as_bytes();
    let many = |digits: &str| digits.parse::<u32>().is_ok_and(|n| n >= 2);
    // An element range such as "1-4".
    let range = b
        .windows(3)
        .any(|w| w[0].is_ascii_digit() && w[1] == b'-' && w[2].is_ascii_digit());
    let lead = b.iter().take_while(|c| c.is_ascii_digit()).count();
    let leading = lead > 0 && lead < b.len() && many(&u[..lead]);
    let tail = b.iter().rev().take_while(|c| c.is_ascii_digit()).count();
    let trailing = tail > 0
        && tail < b.len()
        && matches!(b[b.len() - tail - 1], b'_' | b' ' | b'-')
        && many(&u[b.len() - tail..]);
    // A count before "CH": "32CH", "32 CH".
    let before_ch = u.match_indices("CH").any(|(i, _)| {
        let end = if i > 0 && b[i - 1] == b' ' { i - 1 } else { i };
        let n = b[..end]
            .iter()
            .rev()
            .take_while(|c| c.is_ascii_digit())
            .count();
        n > 0 && many(&u[end - n..end])
    });
    range || leading || trailing || before_ch
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

    /// A disc of `signal` (radius 97 px, 256 x 256, 250 mm field of view) plus complex Gaussian
    /// noise of SD `sigma` in each channel, magnitude taken: true SNR `signal / sigma`.
    fn magnitude_disc(signal: f64, sigma: f64, seed: u64) -> Image {
        let base = disc(256, 128.0, 128.0, 97.0, signal, 0.0);
        let (re, im) = (
            noise(256 * 256, sigma, seed),
            noise(256 * 256, sigma, seed + 1000),
        );
        let data = base
            .data()
            .iter()
            .zip(re.iter().zip(&im))
            .map(|(a, (r, i))| ((a + r).powi(2) + i * i).sqrt())
            .collect();
        Image::new(256, 256, data, Spacing::square(250.0 / 256.0)).unwrap()
    }

    fn background_snr(img: &Image, pe: PhaseEncoding) -> Result<BackgroundSnr> {
        let o = crate::qa::phantom::detect_phantom(img).unwrap();
        let signal = nema_signal_roi(&o, o.centre).unwrap();
        snr_background(img, &signal, &background_rois(img, &o, pe).rois)
    }

    #[test]
    fn background_method_recovers_the_true_snr_of_a_magnitude_image() {
        // True SNR 1000 / 20 = 50. Tolerance 5 %, 3 standard errors: the background SD from
        // ~2000 Rayleigh pixels has a relative standard error of 1.7 %
        // (`sqrt((kurtosis - 1) / 4n)`); the Rician bias of the signal is 0.02 %. Measured:
        // 50.04, 50.92, 50.08.
        for seed in [11, 12, 13] {
            let img = magnitude_disc(1000.0, 20.0, seed);
            let m = background_snr(&img, PhaseEncoding::Unknown).unwrap();
            assert!((m.snr / 50.0 - 1.0).abs() < 0.05, "seed {seed}: {}", m.snr);
            assert!(
                (m.noise_sigma / 20.0 - 1.0).abs() < 0.05,
                "{}",
                m.noise_sigma
            );
            // Without the Rayleigh factor the SNR would be 1/0.655 = 1.53 times too high.
            assert!((m.snr / RAYLEIGH_SD_FACTOR / 50.0 - 1.0).abs() > 0.4);
            assert_eq!(m.background.len(), 4);
            assert!(m.background_pixels >= MIN_BACKGROUND_PIXELS, "{m:?}");
            // Signal ROI: 75 % of the phantom area, centred.
            let frac = m.signal.pixels as f64 / (std::f64::consts::PI * 97.0 * 97.0);
            assert!((frac - 0.75).abs() < 0.01, "{frac}");
            // The air holds Rayleigh noise: nothing to flag.
            assert!((m.mean_to_sd / RAYLEIGH_MEAN_TO_SD - 1.0).abs() < 0.05);
            let t_r_head = BackgroundHeader {
                receive_coil: Some("HEAD".into()),
                transmit_coil: Some("HEAD".into()),
                parallel_factor: Some(1.0),
                image_type: vec!["ORIGINAL".into(), "PRIMARY".into(), "M".into()],
            };
            assert_eq!(background_flags(&m, &t_r_head), Vec::<String>::new());
        }
    }

    #[test]
    fn background_rois_keep_off_the_phase_encoding_ghosts_and_the_zero_frame() {
        // Ghosts of 50 +- noise along the rows the phantom spans (horizontal phase encoding),
        // and a zero-filled frame of 6 px.
        let mut img = magnitude_disc(1000.0, 20.0, 21);
        let ghosts: Vec<f64> = noise(256 * 256, 15.0, 77);
        let data: Vec<f64> = img
            .data()
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                let (x, y) = (i % 256, i / 256);
                if x < 6 || y < 6 || x >= 250 || y >= 250 {
                    0.0
                } else if (31..=225).contains(&y) && !(25..=231).contains(&x) {
                    v + 50.0 + ghosts[i]
                } else {
                    v
                }
            })
            .collect();
        img = Image::new(256, 256, data, Spacing::square(250.0 / 256.0)).unwrap();
        assert_eq!(img.padding(), (6, 6, 6, 6));
        let o = crate::qa::phantom::detect_phantom(&img).unwrap();
        let (_, y_min, _, y_max) = o.extent();
        let placed = background_rois(&img, &o, PhaseEncoding::Horizontal);
        assert_eq!(placed.rois.len(), 4, "{placed:?}");
        for r in &placed.rois {
            let (x0, y0, x1, y1) = r.bounds();
            assert!(
                x0 >= 8.0 && y0 >= 8.0 && x1 <= 247.0 && y1 <= 247.0,
                "{r:?}"
            );
            assert!(
                y1 < y_min - 4.0 || y0 > y_max + 4.0,
                "{r:?} on the phantom's rows"
            );
        }
        let m = background_snr(&img, PhaseEncoding::Horizontal).unwrap();
        assert!((m.snr / 50.0 - 1.0).abs() < 0.05, "{}", m.snr);
        assert_eq!(m.zero_pixels, 0);
        // Told the wrong direction, the ROIs sit in the ghosts and the SNR is far too low.
        let wrong = background_snr(&img, PhaseEncoding::Vertical).unwrap();
        assert!(wrong.snr < 0.7 * 50.0, "{}", wrong.snr);
    }

    #[test]
    fn too_little_air_is_a_reason_not_a_number() {
        // The phantom fills the field of view: no corner has room.
        let base = disc(128, 64.0, 64.0, 62.0, 1000.0, 0.0);
        let data = base
            .data()
            .iter()
            .zip(noise(128 * 128, 10.0, 5))
            .map(|(a, n)| (a + n).abs())
            .collect();
        let img = Image::new(128, 128, data, Spacing::square(2.0)).unwrap();
        let e = background_snr(&img, PhaseEncoding::Unknown)
            .unwrap_err()
            .to_string();
        assert!(e.contains("at least 1000"), "{e}");
        let o = crate::qa::phantom::detect_phantom(&img).unwrap();
        let placed = background_rois(&img, &o, PhaseEncoding::Unknown);
        assert_eq!(placed.skipped.len(), 4 - placed.rois.len());
        assert!(
            placed.skipped[0].contains("of air clear of the phantom"),
            "{placed:?}"
        );
    }

    #[test]
    fn non_rayleigh_backgrounds_and_multi_element_coils_are_flagged() {
        // Real-valued (signed) Gaussian noise: not a magnitude image.
        let base = disc(256, 128.0, 128.0, 97.0, 1000.0, 0.0);
        let data = base
            .data()
            .iter()
            .zip(noise(256 * 256, 20.0, 31))
            .map(|(a, n)| a + n)
            .collect();
        let img = Image::new(256, 256, data, Spacing::square(250.0 / 256.0)).unwrap();
        let m = background_snr(&img, PhaseEncoding::Unknown).unwrap();
        let flags = background_flags(&m, &BackgroundHeader::default());
        assert!(flags.iter().any(|f| f.contains("negative")), "{flags:?}");
        assert!(flags.iter().any(|f| f.contains("mean/SD")), "{flags:?}");
        // A clean magnitude image, flagged by its header only.
        let clean =
            background_snr(&magnitude_disc(1000.0, 20.0, 41), PhaseEncoding::Unknown).unwrap();
        let header =
            |coil: Option<&str>, factor: Option<f64>, image_type: &[&str]| BackgroundHeader {
                receive_coil: coil.map(String::from),
                transmit_coil: None,
                parallel_factor: factor,
                image_type: image_type.iter().map(|s| s.to_string()).collect(),
            };
        let flagged = |h: &BackgroundHeader| background_flags(&clean, h);
        assert!(flagged(&header(None, None, &[])).is_empty());
        assert!(flagged(&header(None, Some(2.0), &[]))[0].contains("parallel imaging"));
        assert!(flagged(&header(Some("HE1-4;NE1,2"), None, &[]))[0].contains("several elements"));
        assert!(
            flagged(&header(None, None, &["ORIGINAL", "PRIMARY", "R_SE", "R"]))[0]
                .contains("not a magnitude image")
        );
        assert!(
            flagged(&header(None, None, &["ORIGINAL", "PRIMARY", "M", "NORM"]))[0].contains("NORM")
        );
        for (name, many) in [
            ("HE1-4;NE1,2", true),
            ("MULTI COIL", true),
            ("SENSE_HEAD_8", true),
            ("HeadNeck_20", true),
            ("8HRBRAIN", true),
            ("Head 32Ch", true),
            ("HEAD", false),
            ("C-GE_HEAD", false),
            ("Body", false),
            ("HE1", false),
            ("SP3", false),
        ] {
            assert_eq!(multi_element_coil(name), many, "{name}");
        }
        assert_eq!(
            PhaseEncoding::from_dicom(Some("ROW")),
            PhaseEncoding::Horizontal
        );
        assert_eq!(
            PhaseEncoding::from_dicom(Some("COL")),
            PhaseEncoding::Vertical
        );
        assert_eq!(PhaseEncoding::from_dicom(None), PhaseEncoding::Unknown);
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
