//! The four QA measurements end to end, as the `accord qa` command runs them: read the inputs,
//! pick the image(s) (ACR slice 7, slices 1 and 5, or the images given), find the phantom,
//! measure, judge against the ACR limits, and build a report (one JSON object, a text summary
//! and figure panels). Input problems are errors; a measurement that cannot be made on valid
//! input is a report with status `failed` and an `error` (never NaN or a sentinel number).

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{Value, json};

use super::acr::{SliceKey, number_slices};
use super::dicom::{DicomImage, LoadOptions, load_inputs};
use super::figure::{Colour, Overlay, Panel, render_png};
use super::geometry::{self, Diameter};
use super::ghosting::{self, Ghosting};
use super::image::Image;
use super::phantom::{PhantomOutline, detect_phantom};
use super::roi::Roi;
use super::snr::{self, BackgroundSnr, NormalisationInputs, PhaseEncoding, SnrMeasurement};
use super::uniformity::{self, Uniformity};
use crate::{Error, Result};

/// Which phantom the images show, for SNR (it sets the smoothing kernel and slice choice).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PhantomKind {
    /// ACR when a series holds several images (slice 7 is used), flood field otherwise.
    #[default]
    Auto,
    /// ACR large phantom: slice 7, 25-pixel smoothing kernel.
    Acr,
    /// Flood-field (MagNET) phantom: the image given, 9-pixel smoothing kernel.
    Flood,
}

/// Options shared by the measurements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QaOptions {
    /// How pixel values are read.
    pub load: LoadOptions,
    /// Phantom type (SNR only).
    pub phantom: PhantomKind,
    /// Smoothing kernel in pixels (SNR only); `None` for the phantom's default.
    pub kernel: Option<usize>,
}

/// A finished QA run.
#[derive(Debug, Clone)]
pub struct QaReport {
    /// The whole result as one JSON object.
    pub json: Value,
    /// A human-readable summary (several lines, no trailing newline).
    pub text: String,
    /// Figure panels (the measured images with their ROIs).
    pub panels: Vec<Panel>,
    /// Why the measurement could not be completed, if it could not.
    pub failure: Option<String>,
}

impl QaReport {
    /// The figure as PNG bytes; `name` identifies it in errors.
    pub fn png(&self, name: &str) -> Result<Vec<u8>> {
        render_png(&self.panels, name)
    }
}

/// ACR limit on percent integral uniformity: 87.5 % below 3 T, 82 % at 3 T.
pub fn piu_limit(field_strength_t: f64) -> f64 {
    if field_strength_t >= 2.5 { 82.0 } else { 87.5 }
}

/// ACR limit on percent signal ghosting (%).
pub const PSG_LIMIT_PERCENT: f64 = 2.5;

fn quantity(value: f64, unit: &str) -> Value {
    json!({ "value": value, "unit": unit })
}

fn verdict(pass: bool) -> &'static str {
    if pass { "pass" } else { "fail" }
}

/// An image chosen for measurement and why.
struct Picked<'a> {
    img: &'a DicomImage,
    acr_slice: Option<usize>,
}

impl Picked<'_> {
    fn json(&self) -> Value {
        let m = &self.img.meta;
        json!({
            "file": self.img.path.display().to_string(),
            "series_number": m.series_number,
            "series_description": m.series_description,
            "instance_number": m.instance_number,
            "slice_position_mm": m.slice_position(),
            "acr_slice": self.acr_slice,
            "rows": m.rows,
            "columns": m.columns,
            "pixel_spacing_mm": [self.img.image.dy(), self.img.image.dx()],
            "rescale_slope": m.rescale_slope,
            "rescale_intercept": m.rescale_intercept,
            "pixel_values": if m.rescaled { "rescaled" } else { "stored" },
        })
    }

    fn label(&self) -> String {
        let m = &self.img.meta;
        let mut s = self.img.path.display().to_string();
        let mut extra = Vec::new();
        if let Some(n) = m.series_number {
            extra.push(format!("series {n}"));
        }
        if let Some(k) = self.acr_slice {
            extra.push(format!("ACR slice {k}"));
        }
        if !extra.is_empty() {
            s.push_str(&format!(" ({})", extra.join(", ")));
        }
        s
    }

    fn short(&self) -> String {
        let name = self
            .img
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        match self.acr_slice {
            Some(k) => format!("{name} (slice {k})"),
            None => name,
        }
    }
}

fn scanner_json(img: &DicomImage) -> Value {
    let m = &img.meta;
    json!({
        "manufacturer": m.manufacturer,
        "model": m.model,
        "field_strength": m.field_strength_t.map(|t| quantity(t, "T")),
    })
}

fn scanner_text(img: &DicomImage) -> String {
    let m = &img.meta;
    let mut parts: Vec<String> = [m.manufacturer.clone(), m.model.clone()]
        .into_iter()
        .flatten()
        .collect();
    if let Some(t) = m.field_strength_t {
        parts.push(format!("{t} T"));
    }
    if parts.is_empty() {
        "unknown".into()
    } else {
        parts.join(", ")
    }
}

fn phantom_json(img: &Image, o: &PhantomOutline) -> Value {
    json!({
        "centre_px": [o.centre.0, o.centre.1],
        "radius_px": o.radius_px,
        "diameter": quantity(2.0 * o.radius_px * (img.dx() * img.dy()).sqrt(), "mm"),
        "circle_fit_rms_px": o.fit_rms_px,
        "centroid_px": [o.centroid.0, o.centroid.1],
        "edge_level": o.edge_level,
        "touches_image_border": o.touches_border,
    })
}

fn phantom_text(img: &Image, o: &PhantomOutline) -> String {
    format!(
        "centre ({:.1}, {:.1}) px, diameter {:.1} mm",
        o.centre.0,
        o.centre.1,
        2.0 * o.radius_px * (img.dx() * img.dy()).sqrt()
    )
}

fn skipped_json(skipped: &[(PathBuf, String)]) -> Value {
    Value::Array(
        skipped
            .iter()
            .map(|(p, r)| json!({ "file": p.display().to_string(), "reason": r }))
            .collect(),
    )
}

fn outline_overlays(o: &PhantomOutline) -> Vec<Overlay> {
    vec![
        Overlay::Outline {
            points: o.hull.clone(),
            colour: Colour::Green,
        },
        Overlay::Marker {
            at: o.centre,
            colour: Colour::Yellow,
        },
    ]
}

/// Groups images by Series Instance UID (else series number and description, else folder),
/// in order of first appearance.
fn group_series(images: Vec<DicomImage>) -> Vec<Vec<DicomImage>> {
    let key = |d: &DicomImage| -> String {
        match &d.meta.series_uid {
            Some(u) => format!("uid:{u}"),
            None => format!(
                "num:{:?}:{:?}:{}",
                d.meta.series_number,
                d.meta.series_description,
                d.path.parent().unwrap_or(Path::new("")).display()
            ),
        }
    };
    let mut groups: Vec<(String, Vec<DicomImage>)> = Vec::new();
    for d in images {
        let k = key(&d);
        match groups.iter_mut().find(|(g, _)| *g == k) {
            Some((_, v)) => v.push(d),
            None => groups.push((k, vec![d])),
        }
    }
    groups.into_iter().map(|(_, v)| v).collect()
}

fn describe_series(s: &[DicomImage]) -> String {
    let m = &s[0].meta;
    let name = match (&m.series_number, &m.series_description) {
        (Some(n), Some(d)) => format!("series {n} \"{d}\""),
        (Some(n), None) => format!("series {n}"),
        (None, Some(d)) => format!("series \"{d}\""),
        (None, None) => format!("series of {}", s[0].path.display()),
    };
    format!("{name} ({} image(s))", s.len())
}

/// The images of `series` that are the given ACR slices, in the order asked.
fn acr_slices<'a>(series: &'a [DicomImage], wanted: &[usize]) -> Result<Vec<Picked<'a>>> {
    let keys: Vec<SliceKey> = series
        .iter()
        .map(|d| SliceKey {
            position_mm: d.meta.slice_position(),
            instance_number: d.meta.instance_number,
        })
        .collect();
    let images: Vec<&Image> = series.iter().map(|d| &d.image).collect();
    let numbers = number_slices(&keys, &images).map_err(|e| Error::Invalid {
        what: describe_series(series),
        message: e.to_string(),
    })?;
    wanted
        .iter()
        .map(|&k| {
            numbers
                .iter()
                .position(|&n| n == k)
                .map(|i| Picked {
                    img: &series[i],
                    acr_slice: Some(k),
                })
                .ok_or_else(|| Error::Invalid {
                    what: describe_series(series),
                    message: format!(
                        "ACR slice {k} is not among these images (found slices {numbers:?})"
                    ),
                })
        })
        .collect()
}

/// The error for inputs holding the wrong number of series; `takes` says what was expected.
fn series_count_error(series: &[Vec<DicomImage>], takes: &str) -> Error {
    let names: Vec<String> = series.iter().map(|s| describe_series(s)).collect();
    Error::Invalid {
        what: "inputs".into(),
        message: format!("{takes}; got {} series: {}", series.len(), names.join(", ")),
    }
}

/// One series expected (else an error saying it `takes` one): the single image given, or the
/// ACR slices `wanted` of the series.
fn one_series<'a>(
    series: &'a [Vec<DicomImage>],
    takes: &str,
    wanted: &[usize],
) -> Result<Vec<Picked<'a>>> {
    if series.len() != 1 {
        return Err(series_count_error(series, takes));
    }
    let s = &series[0];
    if s.len() == 1 {
        Ok(vec![Picked {
            img: &s[0],
            acr_slice: None,
        }])
    } else {
        acr_slices(s, wanted)
    }
}

fn detect(p: &Picked) -> Result<PhantomOutline> {
    detect_phantom(&p.img.image).map_err(|e| Error::BadFile {
        path: p.img.path.display().to_string(),
        message: e.to_string(),
    })
}

fn header_line(title: &str, status: &str) -> String {
    format!("{title}: {}", status.to_uppercase())
}

/// What a measurement on one image gave: its status, `results` JSON, text lines and failure.
struct Outcome {
    status: &'static str,
    results: Value,
    lines: Vec<String>,
    failure: Option<String>,
}

impl Outcome {
    /// A measurement that could not be made: status `failed`, no results, the error.
    fn failed(e: &impl std::fmt::Display) -> Outcome {
        Outcome {
            status: "failed",
            results: Value::Null,
            lines: vec![format!("  error     {e}")],
            failure: Some(e.to_string()),
        }
    }
}

/// The image a single-image measurement (uniformity, ghosting) is made on: slice 7 of one
/// series or the one image given, with its phantom and the input files skipped on loading.
struct OneImage<'a> {
    p: Picked<'a>,
    outline: PhantomOutline,
    skipped: &'a [(PathBuf, String)],
}

impl<'a> OneImage<'a> {
    /// Picks the image of `series` for measurement `what` and finds its phantom.
    fn pick(
        series: &'a [Vec<DicomImage>],
        skipped: &'a [(PathBuf, String)],
        what: &str,
    ) -> Result<OneImage<'a>> {
        let takes = format!("{what} takes one ACR series (or one slice-7 image)");
        let p = one_series(series, &takes, &[7])?.swap_remove(0);
        let outline = detect(&p)?;
        Ok(OneImage {
            p,
            outline,
            skipped,
        })
    }

    /// The report: JSON `measurement` and `method`, the text headed by `title`, the image,
    /// scanner and phantom, then `outcome`; drawn as `panels`.
    fn report(
        &self,
        measurement: &str,
        method: &str,
        title: &str,
        outcome: Outcome,
        panels: Vec<Panel>,
    ) -> QaReport {
        let (p, img) = (&self.p, &self.p.img.image);
        let json = json!({
            "measurement": measurement,
            "method": method,
            "status": outcome.status,
            "error": outcome.failure,
            "inputs": [p.json()],
            "skipped": skipped_json(self.skipped),
            "scanner": scanner_json(p.img),
            "phantom": phantom_json(img, &self.outline),
            "results": outcome.results,
        });
        let mut text = vec![
            header_line(title, outcome.status),
            format!("  image     {}", p.label()),
            format!("  scanner   {}", scanner_text(p.img)),
            format!("  phantom   {}", phantom_text(img, &self.outline)),
        ];
        text.extend(outcome.lines);
        QaReport {
            json,
            text: text.join("\n"),
            panels,
            failure: outcome.failure,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Uniformity

/// ACR percent integral uniformity on slice 7 of one series (or on the one image given).
pub fn uniformity(inputs: &[PathBuf], opts: &QaOptions) -> Result<QaReport> {
    let loaded = load_inputs(inputs, opts.load)?;
    let series = group_series(loaded.images);
    let one = OneImage::pick(&series, &loaded.skipped, "uniformity")?;
    let (p, img, outline) = (&one.p, &one.p.img.image, &one.outline);
    let field = p.img.meta.field_strength_t;
    let result = uniformity::integral_uniformity(img, outline.centre, Some(outline.edge_level));
    let mut overlays = outline_overlays(outline);
    let outcome = match &result {
        Ok(u) => {
            let (status, limit_json, limit_text) = match field {
                Some(t) => {
                    let lim = piu_limit(t);
                    (
                        verdict(u.piu_percent >= lim),
                        json!({ "min": quantity(lim, "%"), "basis": format!("ACR limit at {t} T ({} 3 T)", if t >= 2.5 { "at or above" } else { "below" }) }),
                        format!("limit >= {lim} % at {t} T"),
                    )
                }
                None => (
                    "no_limit",
                    Value::Null,
                    "no limit: the image has no field strength (0018,0087)".to_string(),
                ),
            };
            overlays.extend(uniformity_overlays(u));
            Outcome {
                status,
                results: json!({
                    "piu": quantity(u.piu_percent, "%"),
                    "limit": limit_json,
                    "large_roi": roi_json(&u.large, img),
                    "min_roi": { "roi": roi_json(&u.min.roi, img), "mean": u.min.mean },
                    "max_roi": { "roi": roi_json(&u.max.roi, img), "mean": u.max.mean },
                    "small_roi_positions": u.positions,
                    "positions_skipped_below_half_signal": u.excluded,
                }),
                lines: vec![
                    format!("  PIU       {:.2} %  ({limit_text})", u.piu_percent),
                    format!(
                        "  min ROI   mean {:.1} at ({:.0}, {:.0}) px",
                        u.min.mean,
                        roi_centre(&u.min.roi).0,
                        roi_centre(&u.min.roi).1
                    ),
                    format!(
                        "  max ROI   mean {:.1} at ({:.0}, {:.0}) px",
                        u.max.mean,
                        roi_centre(&u.max.roi).0,
                        roi_centre(&u.max.roi).1
                    ),
                ],
                failure: None,
            }
        }
        Err(e) => Outcome::failed(e),
    };
    let panel_title = match &result {
        Ok(u) => format!("{}: PIU {:.2} %", p.short(), u.piu_percent),
        Err(_) => format!("{}: uniformity failed", p.short()),
    };
    let panels = vec![Panel {
        image: img.clone(),
        title: panel_title,
        overlays,
        window: None,
    }];
    Ok(one.report(
        "uniformity",
        "ACR percent integral uniformity (200 cm^2 ROI, 1 cm^2 sliding ROI)",
        "ACR percent integral uniformity",
        outcome,
        panels,
    ))
}

fn uniformity_overlays(u: &Uniformity) -> Vec<Overlay> {
    vec![
        Overlay::Roi {
            roi: u.large,
            colour: Colour::Red,
            label: None,
        },
        Overlay::Roi {
            roi: u.min.roi,
            colour: Colour::Cyan,
            label: Some(format!("min {:.0}", u.min.mean)),
        },
        Overlay::Roi {
            roi: u.max.roi,
            colour: Colour::Magenta,
            label: Some(format!("max {:.0}", u.max.mean)),
        },
    ]
}

fn roi_centre(r: &Roi) -> (f64, f64) {
    let (a, b, c, d) = r.bounds();
    (0.5 * (a + c), 0.5 * (b + d))
}

fn roi_json(r: &Roi, img: &Image) -> Value {
    let mut v = serde_json::to_value(r).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut v {
        let n = r.pixels(img.cols(), img.rows()).len() as f64;
        m.insert(
            "area".into(),
            quantity(n * img.dx() * img.dy() / 100.0, "cm^2"),
        );
    }
    v
}

// ---------------------------------------------------------------------------------------------
// Ghosting

/// ACR percent signal ghosting on slice 7 of one series (or on the one image given).
pub fn ghosting(inputs: &[PathBuf], opts: &QaOptions) -> Result<QaReport> {
    let loaded = load_inputs(inputs, opts.load)?;
    let series = group_series(loaded.images);
    let one = OneImage::pick(&series, &loaded.skipped, "ghosting")?;
    let (p, img, outline) = (&one.p, &one.p.img.image, &one.outline);
    let result = ghosting::percent_signal_ghosting(img, outline);
    let mut overlays = outline_overlays(outline);
    let outcome = match &result {
        Ok(g) => {
            overlays.extend(ghosting_overlays(g));
            let bg = |r: &ghosting::GhostRoi| {
                json!({
                    "roi": roi_json(&r.roi, img),
                    "mean": r.stats.mean,
                    "sd": r.stats.sd,
                    "reduced": r.reduced,
                })
            };
            Outcome {
                status: verdict(g.psg_percent <= PSG_LIMIT_PERCENT),
                results: json!({
                    "psg": quantity(g.psg_percent, "%"),
                    "limit": { "max": quantity(PSG_LIMIT_PERCENT, "%"), "basis": "ACR" },
                    "signal_roi": { "roi": roi_json(&g.signal_roi, img), "mean": g.signal.mean },
                    "top": bg(&g.top),
                    "bottom": bg(&g.bottom),
                    "left": bg(&g.left),
                    "right": bg(&g.right),
                    "phase_encoding_direction": p.img.meta.phase_encoding_direction,
                }),
                lines: vec![
                    format!(
                        "  PSG       {:.3} %  (limit <= {PSG_LIMIT_PERCENT} %)",
                        g.psg_percent
                    ),
                    format!(
                        "  means     signal {:.1}; top {:.2}, bottom {:.2}, left {:.2}, right {:.2}",
                        g.signal.mean,
                        g.top.stats.mean,
                        g.bottom.stats.mean,
                        g.left.stats.mean,
                        g.right.stats.mean
                    ),
                ],
                failure: None,
            }
        }
        Err(e) => Outcome::failed(e),
    };
    let head = match &result {
        Ok(g) => format!("{}: PSG {:.3} %", p.short(), g.psg_percent),
        Err(_) => format!("{}: ghosting failed", p.short()),
    };
    // Second panel: background enhanced so the ghosts and ROIs are visible.
    let window = (
        outline.background - 0.02 * (outline.signal - outline.background),
        outline.background + 0.05 * (outline.signal - outline.background),
    );
    let panels = vec![
        Panel {
            image: img.clone(),
            title: head,
            overlays: overlays.clone(),
            window: None,
        },
        Panel {
            image: img.clone(),
            title: "background x20".into(),
            overlays,
            window: Some(window),
        },
    ];
    Ok(one.report(
        "ghosting",
        "ACR percent signal ghosting (large ROI and four background ellipses)",
        "ACR percent signal ghosting",
        outcome,
        panels,
    ))
}

fn ghosting_overlays(g: &Ghosting) -> Vec<Overlay> {
    let mut v = vec![Overlay::Roi {
        roi: g.signal_roi,
        colour: Colour::Red,
        label: Some(format!("{:.0}", g.signal.mean)),
    }];
    for r in [&g.top, &g.bottom, &g.left, &g.right] {
        v.push(Overlay::Roi {
            roi: r.roi,
            colour: Colour::Cyan,
            label: Some(format!("{:.1}", r.stats.mean)),
        });
    }
    v
}

// ---------------------------------------------------------------------------------------------
// Geometry

/// ACR geometric accuracy: diameters on slices 1 (horizontal, vertical) and 5 (plus both
/// diagonals) of one series; with a single image, all four on that image.
pub fn geometry(inputs: &[PathBuf], opts: &QaOptions) -> Result<QaReport> {
    let loaded = load_inputs(inputs, opts.load)?;
    let series = group_series(loaded.images);
    let picked = one_series(
        &series,
        "geometry takes one ACR series (or one image)",
        &[1, 5],
    )?;
    // Diameters measured: 2 on slice 1 (horizontal, vertical), 4 on slice 5 or the one image.
    let counts: &[usize] = if picked.len() == 1 { &[4] } else { &[2, 4] };
    let picked: Vec<(Picked, usize)> = picked.into_iter().zip(counts.iter().copied()).collect();
    let mut measured: Vec<(&Picked, PhantomOutline, Result<Vec<Diameter>>)> = Vec::new();
    for (p, n) in &picked {
        let o = detect(p)?;
        let d = geometry::diameters(&p.img.image, &o, *n);
        measured.push((p, o, d));
    }
    let failure = measured
        .iter()
        .find_map(|(p, _, d)| d.as_ref().err().map(|e| format!("{}: {e}", p.short())));
    let all: Vec<f64> = measured
        .iter()
        .filter_map(|(_, _, d)| d.as_ref().ok())
        .flatten()
        .map(|d| d.length_mm)
        .collect();
    let within = |l: f64| (l - geometry::NOMINAL_DIAMETER_MM).abs() <= geometry::TOLERANCE_MM;
    let status = if failure.is_some() {
        "failed"
    } else {
        verdict(all.iter().all(|&l| within(l)))
    };
    let mut lengths = Vec::new();
    let mut lines = Vec::new();
    let mut panels = Vec::new();
    for (p, o, d) in &measured {
        let img = &p.img.image;
        let mut overlays = outline_overlays(o);
        if let Ok(ds) = d {
            for m in ds {
                let name = match p.acr_slice {
                    Some(k) => format!("slice {k} {}", m.direction),
                    None => m.direction.to_string(),
                };
                lengths.push(json!({
                    "name": name,
                    "file": p.img.path.display().to_string(),
                    "acr_slice": p.acr_slice,
                    "direction": m.direction,
                    "length": quantity(m.length_mm, "mm"),
                    "error": quantity(m.length_mm - geometry::NOMINAL_DIAMETER_MM, "mm"),
                    "status": verdict(within(m.length_mm)),
                    "from_px": [m.from.0, m.from.1],
                    "to_px": [m.to.0, m.to.1],
                }));
                lines.push(format!(
                    "  {name:<26} {:.2} mm  ({:+.2} mm) {}",
                    m.length_mm,
                    m.length_mm - geometry::NOMINAL_DIAMETER_MM,
                    verdict(within(m.length_mm)).to_uppercase()
                ));
                overlays.push(Overlay::Line {
                    from: m.from,
                    to: m.to,
                    colour: Colour::Red,
                    label: Some(format!("{:.1}", m.length_mm)),
                });
            }
        }
        panels.push(Panel {
            image: img.clone(),
            title: p.short(),
            overlays,
            window: None,
        });
    }
    let summary = if all.is_empty() {
        Value::Null
    } else {
        let n = all.len() as f64;
        let mean = all.iter().sum::<f64>() / n;
        let sd = (all.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / n).sqrt();
        let max_abs = all
            .iter()
            .map(|l| (l - geometry::NOMINAL_DIAMETER_MM).abs())
            .fold(0.0, f64::max);
        json!({
            "mean_error": quantity(mean - geometry::NOMINAL_DIAMETER_MM, "mm"),
            "max_abs_error": quantity(max_abs, "mm"),
            "cov": quantity(100.0 * sd / mean, "%"),
        })
    };
    let first = measured[0].0;
    let json = json!({
        "measurement": "geometry",
        "method": "ACR geometric accuracy (phantom diameters vs 190 mm)",
        "status": status,
        "error": failure,
        "inputs": measured.iter().map(|(p, _, _)| p.json()).collect::<Vec<_>>(),
        "skipped": skipped_json(&loaded.skipped),
        "scanner": scanner_json(first.img),
        "phantom": measured.iter().map(|(p, o, _)| phantom_json(&p.img.image, o)).collect::<Vec<_>>(),
        "results": {
            "nominal": quantity(geometry::NOMINAL_DIAMETER_MM, "mm"),
            "limit": { "max_abs_error": quantity(geometry::TOLERANCE_MM, "mm"), "basis": "ACR" },
            "lengths": lengths,
            "summary": summary,
        },
    });
    let mut text = vec![header_line("ACR geometric accuracy", status)];
    for (p, o, _) in &measured {
        text.push(format!("  image     {}", p.label()));
        text.push(format!("  phantom   {}", phantom_text(&p.img.image, o)));
    }
    text.push(format!("  scanner   {}", scanner_text(first.img)));
    text.push(format!(
        "  lengths (nominal {} mm, limit +-{} mm):",
        geometry::NOMINAL_DIAMETER_MM,
        geometry::TOLERANCE_MM
    ));
    text.extend(lines);
    if let Some(f) = &failure {
        text.push(format!("  error     {f}"));
    }
    Ok(QaReport {
        json,
        text: text.join("\n"),
        panels,
        failure,
    })
}

// ---------------------------------------------------------------------------------------------
// SNR

#[derive(Serialize)]
struct NormalisationJson {
    factor: f64,
    inputs: NormalisationInputs,
}

fn normalisation(img: &DicomImage) -> Result<NormalisationInputs> {
    let m = &img.meta;
    let need = |v: Option<f64>, name: &str, tag: &str| {
        v.ok_or_else(|| Error::Invalid {
            what: "normalised SNR".into(),
            message: format!("{} has no {name} {tag}", img.path.display()),
        })
    };
    Ok(NormalisationInputs {
        dx_mm: img.image.dx(),
        dy_mm: img.image.dy(),
        slice_thickness_mm: need(m.slice_thickness_mm, "Slice Thickness", "(0018,0050)")?,
        pixel_bandwidth_hz: need(m.pixel_bandwidth_hz, "Pixel Bandwidth", "(0018,0095)")?,
        columns: m.columns as f64,
        rows: m.rows as f64,
        tr_ms: need(m.tr_ms, "Repetition Time", "(0018,0080)")?,
        averages: need(m.averages, "Number of Averages", "(0018,0083)")?,
    })
}

/// The SNR `value` with `header`'s hazen normalisation: JSON fields `snr`, `normalised_snr` and
/// `normalisation`, and the text `value  (normalised ...)`.
fn snr_values(value: f64, header: &DicomImage) -> (serde_json::Map<String, Value>, String) {
    let norm = normalisation(header).and_then(|p| Ok((p, snr::normalisation_factor(&p)?)));
    let (norm_json, norm_value, norm_text) = match &norm {
        Ok((p, f)) => (
            serde_json::to_value(NormalisationJson {
                factor: *f,
                inputs: *p,
            })
            .unwrap_or(Value::Null),
            quantity(value * f, "1"),
            format!("normalised {:.2}", value * f),
        ),
        Err(e) => (
            json!({ "error": e.to_string() }),
            Value::Null,
            format!("normalised: not available ({e})"),
        ),
    };
    let mut map = serde_json::Map::new();
    map.insert("status".into(), json!("measured"));
    map.insert("snr".into(), quantity(value, "1"));
    map.insert("normalised_snr".into(), norm_value);
    map.insert("normalisation".into(), norm_json);
    (map, format!("{value:.2}  ({norm_text})"))
}

/// `(json, text)` of a measured SNR with `header`'s normalisation; ROIs are on `img`.
fn snr_block(m: &SnrMeasurement, header: &DicomImage, img: &Image) -> (Value, String) {
    let rois: Vec<Value> = m
        .rois
        .iter()
        .map(|r| {
            json!({
                "roi": roi_json(&r.roi, img),
                "signal_mean": r.signal.mean,
                "noise_sd": r.noise_sd,
                "snr": r.snr,
            })
        })
        .collect();
    let (mut map, text) = snr_values(m.snr, header);
    map.insert("rois".into(), Value::Array(rois));
    (Value::Object(map), text)
}

const BACKGROUND_METHOD: &str = "NEMA MS 1 single image: SNR = 0.655 S / SD(air)";

/// The NEMA single-image (background noise) SNR of one image: signal ROI, background ROIs and
/// measurement, or why it could not be made (with the corners that had no room).
struct BackgroundOutcome {
    placement: Option<snr::BackgroundPlacement>,
    result: Result<BackgroundSnr>,
}

fn measure_background(
    p: &Picked,
    outline: &PhantomOutline,
    centre: (f64, f64),
) -> BackgroundOutcome {
    let img = &p.img.image;
    let pe = PhaseEncoding::from_dicom(p.img.meta.phase_encoding_direction.as_deref());
    let signal_roi = match snr::nema_signal_roi(outline, centre) {
        Ok(r) => r,
        Err(e) => {
            return BackgroundOutcome {
                placement: None,
                result: Err(e),
            };
        }
    };
    let placement = snr::background_rois(img, outline, pe);
    let result = snr::snr_background(img, &signal_roi, &placement.rois).map_err(|e| {
        if placement.skipped.is_empty() {
            e
        } else {
            Error::Invalid {
                what: "SNR (background)".into(),
                message: format!("{e}; {}", placement.skipped.join("; ")),
            }
        }
    });
    BackgroundOutcome {
        placement: Some(placement),
        result,
    }
}

/// JSON, text line(s) and overlays of a background SNR outcome for image `p` with phantom
/// `outline`.
fn background_block(
    p: &Picked,
    outline: &PhantomOutline,
    o: &BackgroundOutcome,
) -> (Value, Vec<String>, Vec<Overlay>) {
    let (img, meta) = (&p.img.image, &p.img.meta);
    let pe = PhaseEncoding::from_dicom(meta.phase_encoding_direction.as_deref());
    let header = snr::BackgroundHeader {
        receive_coil: meta.receive_coil.clone(),
        transmit_coil: meta.transmit_coil.clone(),
        parallel_factor: meta.parallel_factor,
        image_type: meta.image_type.clone(),
    };
    let skipped = o
        .placement
        .as_ref()
        .map(|pl| pl.skipped.clone())
        .unwrap_or_default();
    let name = p.short();
    match &o.result {
        Ok(m) => {
            let flags = snr::background_flags(m, &header);
            let names = o
                .placement
                .as_ref()
                .map(|pl| pl.names.clone())
                .unwrap_or_default();
            let rois: Vec<Value> = m
                .background_rois
                .iter()
                .zip(&m.background)
                .zip(&names)
                .map(|((r, s), corner)| {
                    json!({
                        "corner": corner,
                        "roi": roi_json(r, img),
                        "mean": s.mean,
                        "sd": s.sd,
                        "pixels": s.pixels,
                    })
                })
                .collect();
            let (mut map, t) = snr_values(m.snr, p.img);
            let fraction = m.signal.pixels as f64 / outline.area_px.max(1) as f64;
            let fields = json!({
                "file": p.img.path.display().to_string(),
                "method": BACKGROUND_METHOD,
                "rayleigh_factor": snr::RAYLEIGH_SD_FACTOR,
                "signal_roi": {
                    "roi": roi_json(&m.signal_roi, img),
                    "mean": m.signal.mean,
                    "sd": m.signal.sd,
                    "fraction_of_phantom_area": fraction,
                },
                "background_rois": rois,
                "skipped_corners": skipped,
                "phase_encoding": pe,
                "background_pixels": m.background_pixels,
                "background_mean": m.background_mean,
                "background_sd": m.background_sd,
                "noise_sigma": m.noise_sigma,
                "mean_to_sd": { "value": m.mean_to_sd, "rayleigh": snr::RAYLEIGH_MEAN_TO_SD },
                "negative_pixels": m.negative_pixels,
                "zero_pixels": m.zero_pixels,
                "header": header,
                "assumption": snr::BACKGROUND_ASSUMPTION,
                "flagged": !flags.is_empty(),
                "flags": flags,
            });
            if let Value::Object(f) = fields {
                map.extend(f);
            }
            let mut lines = vec![
                format!("  background {name:<10} {t}"),
                format!(
                    "{:23}0.655 x S {:.1} ({:.0} % of the phantom) / SD(air) {:.2} ({} px in {} corners)",
                    "",
                    m.signal.mean,
                    100.0 * fraction,
                    m.background_sd,
                    m.background_pixels,
                    m.background_rois.len()
                ),
            ];
            if flags.is_empty() {
                lines.push(format!(
                    "{:23}air mean/SD {:.2} (Rayleigh {}): consistent with single-channel magnitude noise",
                    "",
                    m.mean_to_sd,
                    snr::RAYLEIGH_MEAN_TO_SD
                ));
            } else {
                for f in &flags {
                    lines.push(format!("{:23}FLAGGED: {f}", ""));
                }
            }
            let mut overlays = vec![Overlay::Roi {
                roi: m.signal_roi,
                colour: Colour::Magenta,
                label: Some(format!("S {:.0}", m.signal.mean)),
            }];
            for (r, s) in m.background_rois.iter().zip(&m.background) {
                overlays.push(Overlay::Roi {
                    roi: *r,
                    colour: Colour::Cyan,
                    label: Some(format!("sd {:.1}", s.sd)),
                });
            }
            (Value::Object(map), lines, overlays)
        }
        Err(e) => (
            json!({
                "file": p.img.path.display().to_string(),
                "status": "failed",
                "error": e.to_string(),
                "method": BACKGROUND_METHOD,
                "skipped_corners": skipped,
                "phase_encoding": pe,
                "header": header,
            }),
            vec![format!("  background {name:<10} failed: {e}")],
            o.placement
                .iter()
                .flat_map(|pl| &pl.rois)
                .map(|r| Overlay::Roi {
                    roi: *r,
                    colour: Colour::Cyan,
                    label: None,
                })
                .collect(),
        ),
    }
}

fn same_slice(a: &DicomImage, b: &DicomImage) -> bool {
    match (a.meta.slice_position(), b.meta.slice_position()) {
        (Some(p), Some(q)) => (p - q).abs() < 0.5,
        _ => false,
    }
}

/// SNR: with two images (or two series) by subtraction and by smoothing on each; with one, by
/// smoothing. ACR series use slice 7.
pub fn snr(inputs: &[PathBuf], opts: &QaOptions) -> Result<QaReport> {
    let loaded = load_inputs(inputs, opts.load)?;
    let mut series = group_series(loaded.images);
    // Two repeated acquisitions stored in one series: treat them as a pair.
    if series.len() == 1 && series[0].len() == 2 && same_slice(&series[0][0], &series[0][1]) {
        let second = series[0].pop().map(|d| vec![d]);
        series.extend(second);
    }
    if series.len() > 2 {
        return Err(series_count_error(
            &series,
            "snr takes one image or series (single-image method) or two (subtraction)",
        ));
    }
    let acr = match opts.phantom {
        PhantomKind::Acr => true,
        PhantomKind::Flood => false,
        PhantomKind::Auto => series.iter().any(|s| s.len() > 1),
    };
    let mut picked = Vec::new();
    for s in &series {
        if s.len() == 1 {
            picked.push(Picked {
                img: &s[0],
                acr_slice: None,
            });
        } else if acr {
            picked.extend(acr_slices(s, &[7])?);
        } else {
            return Err(Error::Invalid {
                what: describe_series(s),
                message: "several images in a flood-field series: give one image per acquisition"
                    .into(),
            });
        }
    }
    let kernel = opts.kernel.unwrap_or(if acr {
        snr::KERNEL_ACR
    } else {
        snr::KERNEL_FLOOD
    });
    let mut notes = Vec::new();
    if picked.len() == 2 {
        let (a, b) = (&picked[0].img.meta, &picked[1].img.meta);
        if a.tr_ms != b.tr_ms || a.te_ms != b.te_ms {
            notes.push(format!(
                "the two images differ in TR/TE ({:?}/{:?} ms vs {:?}/{:?} ms): subtraction assumes identical acquisitions",
                a.tr_ms, a.te_ms, b.tr_ms, b.te_ms
            ));
        }
        if !same_slice(picked[0].img, picked[1].img) {
            notes.push("the two images are not at the same slice position".into());
        }
    }
    // hazen: ROIs around the phantom centre in image 1 (ACR: Hough circle; flood: shape centre).
    let outlines: Vec<PhantomOutline> = picked.iter().map(detect).collect::<Result<_>>()?;
    let centre_of = |o: &PhantomOutline| if acr { o.centre } else { o.centroid };
    let mut failure: Option<String> = None;
    let mut text = Vec::new();
    let mut panels = Vec::new(); // the difference image, drawn after the images
    let subtraction = if picked.len() == 2 {
        let (i1, i2) = (&picked[0].img.image, &picked[1].img.image);
        let rois = snr::five_rois(i1, centre_of(&outlines[0]));
        match snr::snr_subtraction(i1, i2, &rois) {
            Ok(m) => {
                let (j, t) = snr_block(&m, picked[0].img, i1);
                text.push(format!("  subtraction           {t}"));
                if let Ok(diff) = i1.subtract(i2) {
                    panels.push(Panel {
                        image: diff,
                        title: format!("difference: SNR {:.1}", m.snr),
                        overlays: snr_overlays(&m.rois.iter().map(|r| r.roi).collect::<Vec<_>>()),
                        window: None,
                    });
                }
                j
            }
            Err(e) => {
                text.push(format!("  subtraction           failed: {e}"));
                failure = Some(e.to_string());
                json!({ "status": "failed", "error": e.to_string() })
            }
        }
    } else {
        Value::Null
    };
    let mut smoothing = Vec::new();
    let mut background = Vec::new();
    let mut background_text = Vec::new();
    let mut background_results = Vec::new();
    let mut image_panels = Vec::new();
    for (p, o) in picked.iter().zip(&outlines) {
        let img = &p.img.image;
        let rois = snr::five_rois(img, centre_of(o));
        let mut overlays = outline_overlays(o);
        let mut title = Vec::new();
        match snr::snr_smoothing(img, &rois, kernel) {
            Ok(m) => {
                let (mut j, t) = snr_block(&m, p.img, img);
                if let Value::Object(map) = &mut j {
                    map.insert("file".into(), json!(p.img.path.display().to_string()));
                    map.insert("kernel_px".into(), json!(kernel));
                }
                text.push(format!("  smoothing {:<11} {t}", p.short()));
                title.push(format!("smoothing {:.1}", m.snr));
                smoothing.push(j);
            }
            Err(e) => {
                text.push(format!("  smoothing {:<11} failed: {e}", p.short()));
                failure.get_or_insert_with(|| e.to_string());
                title.push("smoothing failed".into());
                smoothing.push(json!({
                    "file": p.img.path.display().to_string(),
                    "status": "failed",
                    "error": e.to_string(),
                }));
            }
        }
        // NEMA single-image background method: reported on its own; its failure (too little
        // air) does not fail the hazen-comparable methods above.
        let bg = measure_background(p, o, centre_of(o));
        let (j, lines, bg_overlays) = background_block(p, o, &bg);
        title.push(match &bg.result {
            Ok(m) => format!("background {:.1}", m.snr),
            Err(_) => "background failed".into(),
        });
        background.push(j);
        background_text.extend(lines);
        background_results.push(bg.result);
        overlays.extend(bg_overlays);
        overlays.extend(snr_overlays(&rois));
        image_panels.push(Panel {
            image: img.clone(),
            title: format!("{}: {}", p.short(), title.join(", ")),
            overlays,
            window: None,
        });
    }
    text.extend(background_text);
    // The difference image shows whether the noise in air matches the noise in the phantom.
    if let (Some(diff), Some(Ok(m))) = (panels.first_mut(), background_results.first()) {
        diff.overlays
            .extend(m.background_rois.iter().map(|r| Overlay::Roi {
                roi: *r,
                colour: Colour::Cyan,
                label: None,
            }));
    }
    image_panels.append(&mut panels);
    let panels = image_panels;
    let status = if failure.is_some() {
        "failed"
    } else {
        "no_limit"
    };
    let method = if picked.len() == 2 {
        "NEMA two-image subtraction, single-image smoothing (McCann 2013) and NEMA single-image background noise"
    } else {
        "single-image smoothing (McCann 2013) and NEMA single-image background noise"
    };
    let json = json!({
        "measurement": "snr",
        "method": method,
        "phantom": if acr { "acr" } else { "flood" },
        "status": status,
        "error": failure,
        "limit": Value::Null,
        "notes": notes,
        "inputs": picked.iter().map(|p| p.json()).collect::<Vec<_>>(),
        "skipped": skipped_json(&loaded.skipped),
        "scanner": scanner_json(picked[0].img),
        "phantom_outline": picked.iter().zip(&outlines).map(|(p, o)| phantom_json(&p.img.image, o)).collect::<Vec<_>>(),
        "results": {
            "subtraction": subtraction,
            "smoothing": smoothing,
            "smoothing_kernel_px": kernel,
            "background": background,
        },
    });
    let mut head = vec![header_line(
        "Signal-to-noise ratio",
        if failure.is_some() {
            "failed"
        } else {
            "measured"
        },
    )];
    if failure.is_none() {
        head[0].push_str(" (no ACR limit: compare with the scanner's baseline)");
    }
    for (p, o) in picked.iter().zip(&outlines) {
        head.push(format!("  image     {}", p.label()));
        head.push(format!("  phantom   {}", phantom_text(&p.img.image, o)));
    }
    head.push(format!("  scanner   {}", scanner_text(picked[0].img)));
    head.extend(text);
    for n in &notes {
        head.push(format!("  note      {n}"));
    }
    head.push(format!(
        "  note      background method {}",
        snr::BACKGROUND_ASSUMPTION
    ));
    Ok(QaReport {
        json,
        text: head.join("\n"),
        panels,
        failure,
    })
}

fn snr_overlays(rois: &[Roi]) -> Vec<Overlay> {
    rois.iter()
        .enumerate()
        .map(|(i, r)| Overlay::Roi {
            roi: *r,
            colour: Colour::Red,
            label: Some((i + 1).to_string()),
        })
        .collect()
}
