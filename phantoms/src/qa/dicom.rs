//! Reading QA images from DICOM files: pixel data (with Rescale Slope/Intercept applied unless
//! asked not to), pixel spacing, geometry (position, orientation, slice location, instance
//! number) and the acquisition parameters that normalised SNR and the ACR tolerances need.
//! Inputs may be files or folders (read non-recursively; files in a folder that are not DICOM
//! images are skipped and listed, files named explicitly must be DICOM images).

use std::io::Read;
use std::path::{Path, PathBuf};

use dicom_dictionary_std::tags;
use dicom_object::{DefaultDicomObject, OpenFileOptions};
use dicom_pixeldata::{ConvertOptions, ModalityLutOption, PixelDecoder};
use serde::Serialize;

use super::image::{Image, Spacing};
use crate::{Error, Result};

/// How pixel values are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LoadOptions {
    /// Use the stored pixel values and ignore Rescale Slope/Intercept (hazen's behaviour, for
    /// comparisons only: ratios are wrong when the intercept is not 0).
    pub stored_values: bool,
}

/// The header fields QA uses. Absent or unparsable optional fields are `None`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImageMeta {
    /// Series Instance UID (0020,000E).
    pub series_uid: Option<String>,
    /// Series Number (0020,0011).
    pub series_number: Option<i64>,
    /// Series Description (0008,103E).
    pub series_description: Option<String>,
    /// Instance Number (0020,0013).
    pub instance_number: Option<i64>,
    /// Image Position (Patient) (0020,0032), mm.
    pub position: Option<[f64; 3]>,
    /// Image Orientation (Patient) (0020,0037): row then column direction cosines.
    pub orientation: Option<[f64; 6]>,
    /// Slice Location (0020,1041), mm.
    pub slice_location: Option<f64>,
    /// Manufacturer (0008,0070).
    pub manufacturer: Option<String>,
    /// Manufacturer's Model Name (0008,1090).
    pub model: Option<String>,
    /// Magnetic Field Strength (0018,0087), T.
    pub field_strength_t: Option<f64>,
    /// Pixel Bandwidth (0018,0095), Hz/pixel.
    pub pixel_bandwidth_hz: Option<f64>,
    /// Repetition Time (0018,0080), ms.
    pub tr_ms: Option<f64>,
    /// Echo Time (0018,0081), ms.
    pub te_ms: Option<f64>,
    /// Number of Averages (0018,0083).
    pub averages: Option<f64>,
    /// Slice Thickness (0018,0050), mm.
    pub slice_thickness_mm: Option<f64>,
    /// In-plane Phase Encoding Direction (0018,1312): `ROW` or `COL`.
    pub phase_encoding_direction: Option<String>,
    /// Image Type (0008,0008) values, e.g. `ORIGINAL`, `PRIMARY`, `M`, `NORM`; empty if absent.
    pub image_type: Vec<String>,
    /// Receive Coil Name (0018,1250), else Siemens' coil string (0051,100F), e.g. `HE1-4;NE1,2`.
    pub receive_coil: Option<String>,
    /// Transmit Coil Name (0018,1251).
    pub transmit_coil: Option<String>,
    /// In-plane parallel imaging (acceleration) factor: Parallel Reduction Factor In-plane
    /// (0018,9069), else GE's ASSET R factor (0043,1083), else Siemens' `sPat.lAccelFactPE`
    /// (CSA series header); 1 means no parallel imaging.
    pub parallel_factor: Option<f64>,
    /// Rows (0028,0010).
    pub rows: usize,
    /// Columns (0028,0011).
    pub columns: usize,
    /// Rescale Slope (0028,1053); 1 when absent.
    pub rescale_slope: f64,
    /// Rescale Intercept (0028,1052); 0 when absent.
    pub rescale_intercept: f64,
    /// Whether the slope and intercept were applied to the pixel values.
    pub rescaled: bool,
}

impl ImageMeta {
    /// Position along the slice normal (mm): Image Position projected on row x column
    /// direction, else Slice Location.
    pub fn slice_position(&self) -> Option<f64> {
        match (self.position, self.orientation) {
            (Some(p), Some(o)) => {
                let n = [
                    o[1] * o[5] - o[2] * o[4],
                    o[2] * o[3] - o[0] * o[5],
                    o[0] * o[4] - o[1] * o[3],
                ];
                Some(p[0] * n[0] + p[1] * n[1] + p[2] * n[2])
            }
            _ => self.slice_location,
        }
    }
}

/// A DICOM image: where it came from, its pixels and header fields.
#[derive(Debug, Clone)]
pub struct DicomImage {
    /// The file.
    pub path: PathBuf,
    /// Pixel values (rescaled unless [`LoadOptions::stored_values`]).
    pub image: Image,
    /// Header fields.
    pub meta: ImageMeta,
}

/// Images read from the inputs, plus the folder entries that were skipped and why.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The images, in input order (folder entries sorted by name).
    pub images: Vec<DicomImage>,
    /// `(file, reason)` for each file in a folder that is not a usable DICOM image.
    pub skipped: Vec<(PathBuf, String)>,
}

/// Reads every input: files must be DICOM images; folders contribute the DICOM images they hold
/// directly (others skipped). An empty input list, a missing path or a folder with no usable
/// image is an error naming it.
pub fn load_inputs(inputs: &[PathBuf], options: LoadOptions) -> Result<Loaded> {
    if inputs.is_empty() {
        return Err(Error::Invalid {
            what: "inputs".into(),
            message: "no DICOM files or folders given".into(),
        });
    }
    let mut images = Vec::new();
    let mut skipped = Vec::new();
    for input in inputs {
        let meta = std::fs::metadata(input).map_err(|e| Error::io(input, e))?;
        if meta.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(input)
                .map_err(|e| Error::io(input, e))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file())
                .collect();
            entries.sort();
            let before = images.len();
            let mut here = Vec::new();
            for p in entries {
                match load_image(&p, options) {
                    Ok(img) => images.push(img),
                    Err(e) => here.push((p, reason(&e))),
                }
            }
            if images.len() == before {
                let detail = if here.is_empty() {
                    "it holds no files".to_string()
                } else {
                    let list: Vec<String> = here
                        .iter()
                        .take(5)
                        .map(|(p, r)| format!("{} ({r})", file_name(p)))
                        .collect();
                    format!(
                        "{} file(s) skipped: {}{}",
                        here.len(),
                        list.join("; "),
                        if here.len() > 5 { "; ..." } else { "" }
                    )
                };
                return Err(Error::BadFile {
                    path: input.display().to_string(),
                    message: format!("no usable DICOM image in this folder: {detail}"),
                });
            }
            skipped.extend(here);
        } else {
            images.push(load_image(input, options)?);
        }
    }
    Ok(Loaded { images, skipped })
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| p.display().to_string())
}

/// The message of an error without the path prefix that every error carries.
fn reason(e: &Error) -> String {
    match e {
        Error::BadFile { message, .. } => message.clone(),
        Error::Io { source, .. } => source.to_string(),
        other => other.to_string(),
    }
}

/// Reads one DICOM image file.
pub fn load_image(path: &Path, options: LoadOptions) -> Result<DicomImage> {
    let bad = |message: String| Error::BadFile {
        path: path.display().to_string(),
        message,
    };
    // Check the Part 10 signature first: a clearer message than the parser's.
    let mut head = [0u8; 132];
    let mut f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let n = read_up_to(&mut f, &mut head).map_err(|e| Error::io(path, e))?;
    if n < 132 || &head[128..132] != b"DICM" {
        return Err(bad(
            "not a DICOM file (no 'DICM' signature after the 128-byte preamble)".into(),
        ));
    }
    drop(f);
    let obj = OpenFileOptions::new()
        .open_file(path)
        .map_err(|e| bad(format!("unreadable DICOM: {e}")))?;
    if obj.get(tags::PIXEL_DATA).is_none() {
        return Err(bad("DICOM file has no pixel data (7FE0,0010)".into()));
    }
    let frames = int(&obj, tags::NUMBER_OF_FRAMES).unwrap_or(1);
    if frames != 1 {
        return Err(bad(format!(
            "{frames} frames: multi-frame (enhanced) DICOM is not supported; export single-frame images"
        )));
    }
    let samples = int(&obj, tags::SAMPLES_PER_PIXEL).unwrap_or(1);
    if samples != 1 {
        return Err(bad(format!(
            "{samples} samples per pixel: QA needs single-channel (greyscale) images"
        )));
    }
    let rows = int(&obj, tags::ROWS)
        .filter(|&v| v > 0)
        .ok_or_else(|| bad("no Rows (0028,0010)".into()))? as usize;
    let columns = int(&obj, tags::COLUMNS)
        .filter(|&v| v > 0)
        .ok_or_else(|| bad("no Columns (0028,0011)".into()))? as usize;
    let spacing = floats(&obj, tags::PIXEL_SPACING)
        .filter(|v| v.len() == 2 && v.iter().all(|x| x.is_finite() && *x > 0.0))
        .ok_or_else(|| bad("no valid Pixel Spacing (0028,0030)".into()))?;
    let slope = float(&obj, tags::RESCALE_SLOPE).unwrap_or(1.0);
    let intercept = float(&obj, tags::RESCALE_INTERCEPT).unwrap_or(0.0);
    if !(slope.is_finite() && slope != 0.0 && intercept.is_finite()) {
        return Err(bad(format!(
            "invalid Rescale Slope/Intercept ({slope}, {intercept})"
        )));
    }
    let decoded = obj
        .decode_pixel_data()
        .map_err(|e| bad(format!("pixel data cannot be decoded: {e}")))?;
    let stored: Vec<f64> = decoded
        .to_vec_frame_with_options(
            0,
            &ConvertOptions::new().with_modality_lut(ModalityLutOption::None),
        )
        .map_err(|e| bad(format!("pixel data cannot be converted: {e}")))?;
    if stored.len() != rows * columns {
        return Err(bad(format!(
            "pixel data holds {} values for {rows} x {columns} pixels",
            stored.len()
        )));
    }
    let rescaled = !options.stored_values;
    let data = if rescaled {
        stored.iter().map(|v| v * slope + intercept).collect()
    } else {
        stored
    };
    let image = Image::new(
        rows,
        columns,
        data,
        Spacing {
            row_mm: spacing[0],
            col_mm: spacing[1],
        },
    )
    .map_err(|e| bad(e.to_string()))?;
    let meta = ImageMeta {
        series_uid: string(&obj, tags::SERIES_INSTANCE_UID),
        series_number: int(&obj, tags::SERIES_NUMBER),
        series_description: string(&obj, tags::SERIES_DESCRIPTION),
        instance_number: int(&obj, tags::INSTANCE_NUMBER),
        position: floats(&obj, tags::IMAGE_POSITION_PATIENT)
            .and_then(|v| <[f64; 3]>::try_from(v).ok()),
        orientation: floats(&obj, tags::IMAGE_ORIENTATION_PATIENT)
            .and_then(|v| <[f64; 6]>::try_from(v).ok()),
        slice_location: float(&obj, tags::SLICE_LOCATION),
        manufacturer: string(&obj, tags::MANUFACTURER),
        model: string(&obj, tags::MANUFACTURER_MODEL_NAME),
        field_strength_t: float(&obj, tags::MAGNETIC_FIELD_STRENGTH),
        pixel_bandwidth_hz: float(&obj, tags::PIXEL_BANDWIDTH),
        tr_ms: float(&obj, tags::REPETITION_TIME),
        te_ms: float(&obj, tags::ECHO_TIME),
        averages: float(&obj, tags::NUMBER_OF_AVERAGES),
        slice_thickness_mm: float(&obj, tags::SLICE_THICKNESS),
        phase_encoding_direction: string(&obj, tags::IN_PLANE_PHASE_ENCODING_DIRECTION),
        image_type: obj
            .get(tags::IMAGE_TYPE)
            .and_then(|e| e.to_multi_str().ok())
            .map(|v| v.iter().map(|s| s.trim().to_string()).collect())
            .unwrap_or_default(),
        receive_coil: string(&obj, tags::RECEIVE_COIL_NAME)
            .or_else(|| private_string(&obj, 0x0051, 0x0F, "SIEMENS MR HEADER")),
        transmit_coil: string(&obj, tags::TRANSMIT_COIL_NAME),
        parallel_factor: parallel_factor(&obj),
        rows,
        columns,
        rescale_slope: slope,
        rescale_intercept: intercept,
        rescaled,
    };
    Ok(DicomImage {
        path: path.to_path_buf(),
        image,
        meta,
    })
}

/// The private element `(group, xx el)` of the block that `creator` reserved, if present.
fn private_element(
    obj: &DefaultDicomObject,
    group: u16,
    el: u16,
    creator: &str,
) -> Option<dicom_object::Tag> {
    (0x10u16..=0xFF).find_map(|block| {
        let c = string(obj, dicom_object::Tag(group, block))?;
        (c == creator).then_some(dicom_object::Tag(group, (block << 8) | el))
    })
}

fn private_string(obj: &DefaultDicomObject, group: u16, el: u16, creator: &str) -> Option<String> {
    string(obj, private_element(obj, group, el, creator)?)
}

/// In-plane parallel imaging factor from the standard attribute or the GE / Siemens private
/// headers (see [`ImageMeta::parallel_factor`]).
fn parallel_factor(obj: &DefaultDicomObject) -> Option<f64> {
    if let Some(f) = float(obj, tags::PARALLEL_REDUCTION_FACTOR_IN_PLANE) {
        return Some(f);
    }
    // GE: ASSET R factors "phase\slice" (1 = off).
    if let Some(t) = private_element(obj, 0x0043, 0x83, "GEMS_PARM_01")
        && let Some(f) = float(obj, t)
    {
        return Some(f);
    }
    // Siemens: the protocol text in the CSA series header holds `sPat.lAccelFactPE = 2`.
    let t = private_element(obj, 0x0029, 0x20, "SIEMENS CSA HEADER")?;
    let bytes = obj.get(t)?.to_bytes().ok()?;
    let key = b"sPat.lAccelFactPE";
    let at = bytes.windows(key.len()).position(|w| w == key)? + key.len();
    let rest: String = bytes[at..]
        .iter()
        .take(32)
        .map(|&b| b as char)
        .skip_while(|c| c.is_whitespace() || *c == '=')
        .take_while(|c| c.is_ascii_digit())
        .collect();
    rest.parse().ok()
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

fn string(obj: &DefaultDicomObject, tag: dicom_object::Tag) -> Option<String> {
    let s = obj.get(tag)?.to_str().ok()?;
    let s = s.trim_matches(|c: char| c == '\0' || c.is_whitespace());
    (!s.is_empty()).then(|| s.to_string())
}

fn float(obj: &DefaultDicomObject, tag: dicom_object::Tag) -> Option<f64> {
    floats(obj, tag).and_then(|v| v.first().copied())
}

fn floats(obj: &DefaultDicomObject, tag: dicom_object::Tag) -> Option<Vec<f64>> {
    let v = obj.get(tag)?.to_multi_float64().ok()?;
    (!v.is_empty() && v.iter().all(|x| x.is_finite())).then_some(v)
}

fn int(obj: &DefaultDicomObject, tag: dicom_object::Tag) -> Option<i64> {
    obj.get(tag)?.to_int::<i64>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_file_is_refused_with_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("notes.txt");
        std::fs::write(&p, b"hello").unwrap();
        let e = load_image(&p, LoadOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("notes.txt") && e.contains("not a DICOM file"),
            "{e}"
        );
        let e = load_inputs(&[dir.path().to_path_buf()], LoadOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("no usable DICOM image") && e.contains("notes.txt"),
            "{e}"
        );
    }

    #[test]
    fn a_missing_file_is_an_io_error_naming_it() {
        let e = load_inputs(
            &[PathBuf::from("/nonexistent/x.dcm")],
            LoadOptions::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("/nonexistent/x.dcm: "), "{e}");
    }

    #[test]
    fn slice_position_projects_on_the_normal() {
        let m = ImageMeta {
            series_uid: None,
            series_number: None,
            series_description: None,
            instance_number: None,
            position: Some([-125.0, -120.0, 16.5]),
            orientation: Some([1.0, 0.0, 0.0, 0.0, 1.0, 0.0]),
            slice_location: Some(99.0),
            manufacturer: None,
            model: None,
            field_strength_t: None,
            pixel_bandwidth_hz: None,
            tr_ms: None,
            te_ms: None,
            averages: None,
            slice_thickness_mm: None,
            phase_encoding_direction: None,
            image_type: Vec::new(),
            receive_coil: None,
            transmit_coil: None,
            parallel_factor: None,
            rows: 1,
            columns: 1,
            rescale_slope: 1.0,
            rescale_intercept: 0.0,
            rescaled: true,
        };
        assert_eq!(m.slice_position(), Some(16.5));
    }
}
