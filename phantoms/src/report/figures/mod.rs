//! The report's figures. Each is drawn by one backend-generic function and rendered twice,
//! to PNG (RGB canvas with the embedded DejaVu font, [`crate::figure::encode_png`]) and to
//! SVG, so the two files always show the same thing. Pure: data in, bytes out.
//!
//! - [`bland_altman`]: one figure per site pair (per ROI and pooled), absolute and percent
//!   differences side by side.
//! - [`cov`]: between-site CoV per ROI, within-site CoV next to it.
//! - [`forest`]: ICC(A,1) and ICC(C,1) with 95 % CIs per ROI over the Koo & Li bands.
//! - [`reference`](mod@reference): measured site means against reference values, and their deviation.

pub mod bland_altman;
pub mod cov;
pub mod forest;
pub mod reference;

use std::ops::Range;

use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::prelude::*;

use crate::figure::{FONT, encode_png, ensure_font};
use crate::stats::Analysis;
use crate::{Error, Result};

use super::Units;

/// Where a figure belongs in the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FigureKind {
    /// The ICC forest plot.
    Forest,
    /// The CoV bar chart.
    Cov,
    /// Measured against reference values.
    Reference,
    /// Bland–Altman of one site pair: `roi` is the ROI's index in `per_roi`, `None` for the
    /// pooled block; `pair` indexes that block's `bland_altman` list.
    BlandAltman {
        /// ROI index, `None` = pooled.
        roi: Option<usize>,
        /// Pair index.
        pair: usize,
    },
}

/// One rendered figure.
#[derive(Debug, Clone)]
pub struct Figure {
    /// What it shows and where it goes.
    pub kind: FigureKind,
    /// File name without extension (`.png` and `.svg` are added); safe on every file system.
    pub stem: String,
    /// Short title for the report.
    pub title: String,
    /// What is drawn, in a sentence or two.
    pub caption: String,
    /// PNG bytes.
    pub png: Vec<u8>,
    /// SVG document.
    pub svg: String,
}

/// A figure drawable on any plotters backend.
pub(crate) trait Plot {
    /// Canvas size in pixels.
    fn size(&self) -> (u32, u32);
    /// Draws the whole figure on `root` (already filled white).
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String>;
}

/// Maps any plotters error to its message.
pub(crate) fn perr<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

fn plot_error(stem: &str, message: String) -> Error {
    Error::Plot {
        figure: stem.to_string(),
        message,
    }
}

/// Renders `plot` to PNG bytes and an SVG string.
pub(crate) fn render<P: Plot>(plot: &P, stem: &str) -> Result<(Vec<u8>, String)> {
    ensure_font();
    let (w, h) = plot.size();
    let drawn = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut buf = vec![0u8; w as usize * h as usize * 3];
        {
            let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
            root.fill(&WHITE).map_err(perr)?;
            plot.draw(&root)?;
            root.present().map_err(perr)?;
        }
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
            root.fill(&WHITE).map_err(perr)?;
            plot.draw(&root)?;
            root.present().map_err(perr)?;
        }
        Ok::<_, String>((buf, svg))
    }));
    let (buf, svg) = match drawn {
        Ok(Ok(x)) => x,
        Ok(Err(m)) => return Err(plot_error(stem, m)),
        Err(_) => return Err(plot_error(stem, "the plotting library panicked".into())),
    };
    let png = encode_png(&buf, w, h, &format!("{stem}.png"))?;
    // Prefer DejaVu Sans (the PNG's font) or a font of similar width where it is installed.
    let svg = svg.replace(
        "font-family=\"sans-serif\"",
        "font-family=\"DejaVu Sans, Verdana, sans-serif\"",
    );
    Ok((png, svg))
}

/// The categorical palette (Tableau 10), cycled.
pub(crate) const PALETTE: [RGBColor; 10] = [
    RGBColor(0x4e, 0x79, 0xa7),
    RGBColor(0xf2, 0x8e, 0x2b),
    RGBColor(0xe1, 0x57, 0x59),
    RGBColor(0x76, 0xb7, 0xb2),
    RGBColor(0x59, 0xa1, 0x4f),
    RGBColor(0xed, 0xc9, 0x48),
    RGBColor(0xb0, 0x7a, 0xa1),
    RGBColor(0xff, 0x9d, 0xa7),
    RGBColor(0x9c, 0x75, 0x5f),
    RGBColor(0xba, 0xb0, 0xac),
];

/// Colour number `i` of the palette.
pub(crate) fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// Text style in the embedded font.
pub(crate) fn font(size: u32) -> TextStyle<'static> {
    (FONT, size).into_font().color(&BLACK)
}

/// Text style in the embedded font, in colour `c`.
pub(crate) fn font_c<C: Color>(size: u32, c: &C) -> TextStyle<'static> {
    let mut style = font(size);
    style.color = c.to_backend_color();
    style
}

/// Draws the mesh of `chart` in the report's style: tick labels from the axes `x` and `y`, the
/// axis descriptions, faint major grid lines and no minor ones.
pub(crate) fn draw_mesh<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<Ticked, Ticked>>,
    x: &Axis,
    y: &Axis,
    x_desc: &str,
    y_desc: &str,
) -> Result<(), String> {
    chart
        .configure_mesh()
        .x_label_formatter(&|v| x.label(*v))
        .y_label_formatter(&|v| y.label(*v))
        .x_desc(x_desc)
        .y_desc(y_desc)
        .label_style(font(12))
        .axis_desc_style(font(13))
        .bold_line_style(BLACK.mix(0.08))
        .light_line_style(TRANSPARENT)
        .draw()
        .map_err(perr)
}

/// `s` cut to `n` characters with an ellipsis.
pub(crate) fn short(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// A file-name-safe slug of table-derived text: ASCII letters, digits, `-`, `.`, `_`.
pub fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        let c = if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
            c
        } else {
            '_'
        };
        if !(c == '_' && out.ends_with('_')) {
            out.push(c);
        }
        if out.len() >= 40 {
            break;
        }
    }
    let out = out.trim_matches(|c| c == '_' || c == '.').to_string();
    if out.is_empty() { "x".into() } else { out }
}

/// A linear coordinate with tick positions chosen by the caller (no light mesh lines); the
/// labels come from the chart's label formatters.
#[derive(Debug, Clone)]
pub(crate) struct Ticked {
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
}

impl Ticked {
    /// The range [lo, hi] with ticks at `ticks`.
    pub fn new(lo: f64, hi: f64, ticks: Vec<f64>) -> Ticked {
        Ticked { lo, hi, ticks }
    }
}

impl Ranged for Ticked {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let span = self.hi - self.lo;
        let frac = if span > 0.0 && span.is_finite() {
            (value - self.lo) / span
        } else {
            0.5
        };
        let frac = if frac.is_finite() {
            frac.clamp(-10.0, 11.0)
        } else {
            0.5
        };
        let len = f64::from(limit.1 - limit.0);
        limit.0 + (len * frac + 1e-3).floor() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}

/// A plot axis: linear or log10, with its range and tick positions in drawing coordinates.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Axis {
    /// Lower end (transformed).
    pub lo: f64,
    /// Upper end (transformed).
    pub hi: f64,
    /// log10 axis.
    pub log: bool,
}

impl Axis {
    /// A linear axis covering the finite `values` with `pad` of the span on each side.
    pub fn linear(values: impl IntoIterator<Item = f64>, pad: f64) -> Axis {
        let (lo, hi) = finite_range(values);
        let (lo, hi) = match (lo, hi) {
            (Some(lo), Some(hi)) => (lo, hi),
            _ => (0.0, 1.0),
        };
        let span = hi - lo;
        let (lo, hi) = if !span.is_finite() {
            (-1.0, 1.0)
        } else if span == 0.0 {
            let d = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
            (lo - d, hi + d)
        } else {
            (lo - pad * span, hi + pad * span)
        };
        Axis { lo, hi, log: false }
    }

    /// A log10 axis when every value is positive and they span more than `ratio`, else linear.
    pub fn auto(values: &[f64], pad: f64, ratio: f64) -> Axis {
        let (lo, hi) = finite_range(values.iter().copied());
        match (lo, hi) {
            (Some(lo), Some(hi)) if lo > 0.0 && hi / lo > ratio && hi.is_finite() => {
                let (l, h) = (lo.log10(), hi.log10());
                let span = h - l;
                Axis {
                    lo: l - pad * span,
                    hi: h + pad * span,
                    log: true,
                }
            }
            _ => Axis::linear(values.iter().copied(), pad),
        }
    }

    /// Data value → drawing coordinate.
    pub fn t(&self, v: f64) -> f64 {
        if self.log { v.log10() } else { v }
    }

    /// The drawing coordinate with this axis's ticks.
    pub fn coord(&self) -> Ticked {
        Ticked::new(self.lo, self.hi, self.ticks())
    }

    /// Tick positions (drawing coordinates): 1-2-5 steps, or 1-2-5 × 10^k on log axes.
    pub fn ticks(&self) -> Vec<f64> {
        if self.log {
            let mut t = Vec::new();
            let (a, b) = (self.lo.floor() as i32, self.hi.ceil() as i32);
            let mults: &[f64] = if b - a > 4 { &[1.0] } else { &[1.0, 2.0, 5.0] };
            for e in a..=b {
                for m in mults {
                    let v = (m * 10f64.powi(e)).log10();
                    if v >= self.lo && v <= self.hi {
                        t.push(v);
                    }
                }
            }
            t
        } else {
            nice_ticks(self.lo, self.hi, 6)
        }
    }

    /// Label of a tick (drawing coordinate → data value text).
    pub fn label(&self, v: f64) -> String {
        let x = if self.log { 10f64.powf(v) } else { v };
        tick_label(x)
    }
}

fn finite_range(values: impl IntoIterator<Item = f64>) -> (Option<f64>, Option<f64>) {
    let mut lo: Option<f64> = None;
    let mut hi: Option<f64> = None;
    for v in values.into_iter().filter(|v| v.is_finite()) {
        lo = Some(lo.map_or(v, |l| l.min(v)));
        hi = Some(hi.map_or(v, |h| h.max(v)));
    }
    (lo, hi)
}

/// About `n` ticks at 1-2-5 steps inside [lo, hi].
pub(crate) fn nice_ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    let span = hi - lo;
    if !(span.is_finite() && span > 0.0) {
        return vec![lo];
    }
    let raw = span / n.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| span / s <= n as f64 + 0.5)
        .unwrap_or(10.0 * mag);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    if last - first > 50 {
        return vec![lo, hi];
    }
    (first..=last)
        .map(|i| {
            let v = i as f64 * step;
            if v.abs() < step * 1e-9 { 0.0 } else { v }
        })
        .collect()
}

/// Compact tick label: trims trailing zeros, switches to exponent form for extremes.
pub(crate) fn tick_label(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return "0".into();
    }
    let a = x.abs();
    if !(1e-3..1e6).contains(&a) {
        return format!("{x:.1e}");
    }
    let s = format!("{x:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

/// Renders every figure of an analysis (none for an invalid table).
///
/// # Errors
/// [`Error::Plot`] when a figure cannot be drawn.
pub fn all(analysis: &Analysis, units: &Units) -> Result<Vec<Figure>> {
    let Some(results) = &analysis.results else {
        return Ok(Vec::new());
    };
    let mut figures = Vec::new();
    figures.push(forest::figure(results)?);
    figures.push(cov::figure(results)?);
    if let Some(fig) = reference::figure(results, units)? {
        figures.push(fig);
    }
    figures.extend(bland_altman::figures(results, units)?);
    // Stems are unique by construction up to slug collisions: make them unique.
    let mut seen = std::collections::HashSet::new();
    for f in &mut figures {
        let base = f.stem.clone();
        let mut i = 2;
        while !seen.insert(f.stem.to_ascii_lowercase()) {
            f.stem = format!("{base}-{i}");
            i += 1;
        }
    }
    Ok(figures)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_safe() {
        assert_eq!(slug("T1-1"), "T1-1");
        assert_eq!(slug("a b/c<d>"), "a_b_c_d");
        assert_eq!(slug("../.."), "x");
        assert_eq!(slug(""), "x");
        assert!(slug(&"é".repeat(100)).len() <= 40);
    }

    #[test]
    fn ticks_are_nice() {
        assert_eq!(
            nice_ticks(0.0, 10.0, 5),
            vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]
        );
        let log = Axis::auto(&[20.0, 2000.0], 0.0, 20.0);
        assert!(log.log);
        let labels: Vec<String> = log.ticks().iter().map(|t| log.label(*t)).collect();
        assert!(labels.contains(&"100".to_string()), "{labels:?}");
        let flat = Axis::linear([5.0, 5.0], 0.1);
        assert!(flat.lo < 5.0 && flat.hi > 5.0);
        let none = Axis::linear([f64::NAN], 0.1);
        assert!(none.lo < 0.0 && none.hi > 1.0 && !none.log);
    }
}
