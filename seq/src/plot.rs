//! The sequence diagram behind `accord seq plot`: stacked panels sharing one time axis (ms from
//! the sequence start) — ADC gates and samples, RF magnitude (Hz), RF phase (rad), Gx, Gy, Gz
//! (mT/m, converted from Hz/m with γ = 42.576 MHz/T) — for the whole sequence, a range of blocks
//! or a time window. Returns encoded PNG or SVG bytes; touches no file.
//!
//! Gradients come from [`gradient_waveforms`] (exact corners; decimated to min/max per pixel
//! column when denser than the picture). RF samples lie at `(n+0.5)·Δrf` or at the time shape's
//! points after the RF delay (the conventions of [`Sequence::rf_center`]); the complex signal is
//! `amp·mag·exp(i·(2π·phase_shape + phase + 2π·freq·t))` with `t` from the shape start, as
//! pypulseq plots it (ppm offsets, which need B0, are left out). Text uses DejaVu Sans, embedded
//! (the one copy lives in `phantoms/assets/fonts/`), so PNGs look the same on every machine.

use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::{Result, SeqError};
use crate::sequence::Sequence;
use crate::waveforms::{Waveform, gradient_waveforms};

/// Gyromagnetic ratio γ/2π of ¹H used to convert gradients from Hz/m to mT/m.
pub const GAMMA_HZ_PER_T: f64 = 42.576e6;

/// The font family name the plot uses (DejaVu Sans, registered from the embedded file).
const FONT: &str = "sans-serif";
static DEJAVU_SANS: &[u8] = include_bytes!("../../phantoms/assets/fonts/DejaVuSans.ttf");
static REGISTER: Once = Once::new();

fn ensure_font() {
    REGISTER.call_once(|| {
        // The font is compiled in and valid; registering the same family twice is harmless.
        let _ =
            plotters::style::register_font(FONT, plotters::style::FontStyle::Normal, DEJAVU_SANS);
    });
}

/// Output encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlotFormat {
    /// PNG (RGB).
    Png,
    /// SVG text.
    Svg,
}

/// The part of the sequence to draw.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PlotRange {
    /// The whole sequence.
    All,
    /// Blocks `first..=last`, numbered from 1 in file order.
    Blocks {
        /// First block number (1-based).
        first: usize,
        /// Last block number (1-based, inclusive).
        last: usize,
    },
    /// The time window `t0..t1` in seconds from the sequence start.
    Time {
        /// Start (s).
        t0: f64,
        /// End (s).
        t1: f64,
    },
}

impl PlotRange {
    /// Parses `A..B` (1-based inclusive block numbers, e.g. `1..10`).
    pub fn parse_blocks(s: &str) -> Result<Self> {
        let bad = |why: &str| SeqError::invalid(format!("--blocks {s:?}: {why}"));
        let (a, b) = s
            .split_once("..")
            .ok_or_else(|| bad("expected FIRST..LAST, e.g. 1..10"))?;
        let num = |x: &str| {
            x.trim()
                .parse::<usize>()
                .map_err(|_| bad(&format!("{x:?} is not a block number")))
        };
        Ok(PlotRange::Blocks {
            first: num(a)?,
            last: num(b)?,
        })
    }

    /// Parses `T0..T1` in seconds (`0..20e-3`), or with a unit `s`, `ms` or `us` on either side
    /// (`0..20ms`; a unit given only on the right applies to both sides).
    pub fn parse_time(s: &str) -> Result<Self> {
        let bad = |why: &str| SeqError::invalid(format!("--time {s:?}: {why}"));
        let (a, b) = s
            .split_once("..")
            .ok_or_else(|| bad("expected T0..T1 in seconds, e.g. 0..20e-3 or 0..20ms"))?;
        let split = |x: &str| -> (String, Option<f64>) {
            let x = x.trim();
            for (suffix, scale) in [("ms", 1e-3), ("us", 1e-6), ("µs", 1e-6), ("s", 1.0)] {
                if let Some(v) = x.strip_suffix(suffix) {
                    return (v.trim().to_string(), Some(scale));
                }
            }
            (x.to_string(), None)
        };
        let ((va, ua), (vb, ub)) = (split(a), split(b));
        let scale_b = ub.unwrap_or(1.0);
        let scale_a = ua.unwrap_or(scale_b);
        let num = |v: &str| {
            v.parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| bad(&format!("{v:?} is not a time")))
        };
        Ok(PlotRange::Time {
            t0: num(&va)? * scale_a,
            t1: num(&vb)? * scale_b,
        })
    }
}

/// Options of [`plot`].
#[derive(Debug, Clone, PartialEq)]
pub struct PlotOptions {
    /// Encoding.
    pub format: PlotFormat,
    /// Part to draw.
    pub range: PlotRange,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Title line (e.g. the file name); the range is appended.
    pub title: String,
}

impl Default for PlotOptions {
    fn default() -> Self {
        PlotOptions {
            format: PlotFormat::Png,
            range: PlotRange::All,
            width: 1400,
            height: 1300,
            title: String::new(),
        }
    }
}

/// Panel labels, top to bottom (also the SVG's text).
pub const PANEL_LABELS: [&str; 6] = [
    "ADC",
    "RF |B1| (Hz)",
    "RF phase (rad)",
    "Gx (mT/m)",
    "Gy (mT/m)",
    "Gz (mT/m)",
];

/// Height of the title strip in pixels.
const TITLE_PX: u32 = 44;
/// Extra height of the bottom panel for the time axis labels.
const XAXIS_PX: u32 = 56;
/// Width of the y label area.
const YLABEL_PX: u32 = 100;

/// The time window in ns `[t0, t1]` a range selects, checked against the sequence.
pub fn window_ns(seq: &Sequence, range: PlotRange) -> Result<(f64, f64)> {
    let total = seq.total_duration().0 as f64;
    let n = seq.blocks.len();
    let (t0, t1) = match range {
        PlotRange::All => (0.0, total),
        PlotRange::Blocks { first, last } => {
            if first == 0 {
                return Err(SeqError::invalid(format!(
                    "--blocks {first}..{last}: block numbers start at 1"
                )));
            }
            if last < first {
                return Err(SeqError::invalid(format!(
                    "--blocks {first}..{last}: the last block is before the first"
                )));
            }
            if last > n {
                return Err(SeqError::invalid(format!(
                    "--blocks {first}..{last}: the sequence has {n} blocks"
                )));
            }
            let starts = seq.block_starts();
            let end = starts[last - 1] + seq.blocks[last - 1].duration;
            (starts[first - 1].0 as f64, end.0 as f64)
        }
        PlotRange::Time { t0, t1 } => {
            if t0 < 0.0 || t1 <= t0 {
                return Err(SeqError::invalid(format!(
                    "--time {t0}..{t1} s: need 0 <= T0 < T1"
                )));
            }
            if t0 * 1e9 >= total {
                return Err(SeqError::invalid(format!(
                    "--time {t0}..{t1} s: the sequence lasts {} s",
                    total * 1e-9
                )));
            }
            (t0 * 1e9, (t1 * 1e9).min(total))
        }
    };
    if t1 <= t0 {
        return Err(SeqError::invalid(
            "nothing to plot: the selected blocks last 0 s",
        ));
    }
    Ok((t0, t1))
}

/// A waveform's points inside `[t0, t1]` (ns), framed by its values at both ends.
fn clip(w: &Waveform, t0: f64, t1: f64) -> Vec<(f64, f64)> {
    let a = w.t.partition_point(|&t| t <= t0);
    let b = w.t.partition_point(|&t| t < t1);
    let mut p = Vec::with_capacity(b.saturating_sub(a) + 2);
    p.push((t0, w.eval(t0)));
    p.extend((a..b).map(|i| (w.t[i], w.g[i])));
    // The value just before t1 (before a jump exactly at t1).
    let end = match w.t.get(b) {
        Some(&tb) if tb == t1 && b > 0 && b < w.t.len() => {
            let (ta, ga, gb) = (w.t[b - 1], w.g[b - 1], w.g[b]);
            if tb > ta {
                ga + (gb - ga) * (t1 - ta) / (tb - ta)
            } else {
                gb
            }
        }
        _ => w.eval(t1),
    };
    p.push((t1, end));
    p
}

/// Keeps the first, smallest, largest and last point per pixel column when a polyline has far
/// more points than the picture has columns (the drawn envelope is unchanged).
fn decimate(p: Vec<(f64, f64)>, t0: f64, t1: f64, columns: usize) -> Vec<(f64, f64)> {
    if p.len() <= 4 * columns || columns == 0 {
        return p;
    }
    let col = |t: f64| (((t - t0) / (t1 - t0)) * columns as f64).floor() as i64;
    let mut out = Vec::with_capacity(4 * columns + 4);
    let mut i = 0;
    while i < p.len() {
        let c = col(p[i].0);
        let mut j = i;
        let (mut lo, mut hi) = (i, i);
        while j < p.len() && col(p[j].0) == c {
            if p[j].1 < p[lo].1 {
                lo = j;
            }
            if p[j].1 > p[hi].1 {
                hi = j;
            }
            j += 1;
        }
        let mut idx = [i, lo, hi, j - 1];
        idx.sort_unstable();
        let mut last = usize::MAX;
        for k in idx {
            if k != last {
                out.push(p[k]);
                last = k;
            }
        }
        i = j;
    }
    out
}

/// One RF pulse: times (ns, absolute), magnitude (Hz), phase (rad).
struct RfPulse {
    t: Vec<f64>,
    mag: Vec<f64>,
    phase: Vec<f64>,
    start: f64,
    end: f64,
}

/// The drawable content of a window.
struct Content {
    adc_gates: Vec<(f64, f64)>,
    adc_samples: Vec<f64>,
    rf: Vec<RfPulse>,
    grads: [Vec<(f64, f64)>; 3],
}

fn content(seq: &Sequence, t0: f64, t1: f64, columns: usize) -> Content {
    let starts = seq.block_starts();
    let mut c = Content {
        adc_gates: Vec::new(),
        adc_samples: Vec::new(),
        rf: Vec::new(),
        grads: Default::default(),
    };
    let first = starts
        .partition_point(|s| (s.0 as f64) < t0)
        .saturating_sub(1);
    for (b, s) in seq.blocks.iter().zip(&starts).skip(first) {
        let s = s.0 as f64;
        if s > t1 {
            break;
        }
        if let Some(a) = seq.adc.get(&b.adc) {
            let g0 = s + a.delay.0 as f64;
            let dw = a.dwell.0 as f64;
            let g1 = g0 + a.num as f64 * dw;
            if g1 >= t0 && g0 <= t1 {
                c.adc_gates.push((g0.max(t0), g1.min(t1)));
                c.adc_samples.extend(
                    (0..a.num)
                        .map(|i| g0 + (i as f64 + 0.5) * dw)
                        .filter(|t| (t0..=t1).contains(t)),
                );
            }
        }
        if let Some(rf) = seq.rf.get(&b.rf) {
            let mag = seq
                .shapes
                .get(&rf.mag_id)
                .map_or(&[][..], |x| &x.samples[..]);
            let ph = seq.shapes.get(&rf.phase_id).map(|x| &x.samples[..]);
            let ts = seq.rf_sample_times_ns(rf);
            let start = s + rf.delay.0 as f64;
            let end = s + seq.rf_duration(rf).0 as f64;
            if end >= t0 && start <= t1 {
                let mut p = RfPulse {
                    t: Vec::new(),
                    mag: Vec::new(),
                    phase: Vec::new(),
                    start,
                    end,
                };
                for (i, (&m, &tr)) in mag.iter().zip(&ts).enumerate() {
                    let cyc = ph.and_then(|x| x.get(i)).copied().unwrap_or(0.0);
                    let arg = 2.0 * std::f64::consts::PI * (cyc + rf.freq * tr * 1e-9) + rf.phase;
                    let (re, im) = (rf.amp * m * arg.cos(), rf.amp * m * arg.sin());
                    if !(t0..=t1).contains(&(start + tr)) {
                        continue;
                    }
                    p.t.push(start + tr);
                    p.mag.push(re.hypot(im));
                    p.phase.push(im.atan2(re));
                }
                c.rf.push(p);
            }
        }
    }
    let w = gradient_waveforms(seq);
    let to_mt = 1e3 / GAMMA_HZ_PER_T;
    for (a, g) in c.grads.iter_mut().enumerate() {
        let p = clip(&w[a], t0, t1)
            .into_iter()
            .map(|(t, v)| (t, v * to_mt))
            .collect();
        *g = decimate(p, t0, t1, columns);
    }
    c
}

fn plot_err(e: impl std::fmt::Display) -> SeqError {
    SeqError::invalid(format!("drawing the sequence plot: {e}"))
}

/// A symmetric or one-sided y range with 10 % headroom (`[-1, 1]` / `[0, 1]` when all zero).
fn y_range(max_abs: f64, symmetric: bool) -> (f64, f64) {
    let m = if max_abs > 0.0 && max_abs.is_finite() {
        max_abs * 1.12
    } else {
        1.0
    };
    if symmetric { (-m, m) } else { (0.0, m) }
}

/// Draws the panels on a drawing area.
fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    c: &Content,
    (t0, t1): (f64, f64),
    title: &str,
    columns: usize,
    segments: bool,
) -> Result<()> {
    root.fill(&WHITE).map_err(plot_err)?;
    let (_, h) = root.dim_in_pixel();
    let (top, rest) = root.split_vertically(TITLE_PX);
    top.draw(&Text::new(
        title.to_string(),
        (12, 12),
        (FONT, 19).into_font().color(&BLACK),
    ))
    .map_err(plot_err)?;
    let panel_h = (h - TITLE_PX - XAXIS_PX) / 6;
    let breaks: Vec<u32> = (1..6).map(|i| i * panel_h).collect();
    let panels = rest.split_by_breakpoints::<u32, u32, _, _>([], breaks);
    let (x0, x1) = (t0 * 1e-6, t1 * 1e-6);
    let show_samples = c.adc_samples.len() * 4 <= columns;
    let colors = [
        RGBColor(200, 30, 30),
        RGBColor(30, 90, 200),
        RGBColor(120, 60, 170),
        RGBColor(0, 130, 60),
        RGBColor(200, 110, 0),
        RGBColor(20, 140, 160),
    ];
    for (k, area) in panels.iter().enumerate() {
        let bottom = k == 5;
        let (lo, hi) = match k {
            0 => (0.0, 1.0),
            1 => {
                let m =
                    c.rf.iter()
                        .flat_map(|p| &p.mag)
                        .fold(0.0f64, |m, x| m.max(*x));
                y_range(m, false)
            }
            2 => (-3.6, 3.6),
            g => {
                let m = c.grads[g - 3].iter().fold(0.0f64, |m, p| m.max(p.1.abs()));
                y_range(m, true)
            }
        };
        let mut chart = ChartBuilder::on(area)
            .margin_right(24)
            .margin_left(10)
            .margin_top(6)
            .x_label_area_size(if bottom { XAXIS_PX } else { 0 })
            .y_label_area_size(YLABEL_PX)
            .build_cartesian_2d(x0..x1, lo..hi)
            .map_err(plot_err)?;
        let mut mesh = chart.configure_mesh();
        mesh.x_labels(12)
            .y_labels(if k == 0 { 0 } else { 5 })
            .light_line_style(WHITE)
            .bold_line_style(RGBColor(225, 225, 225))
            .label_style((FONT, 14))
            .axis_desc_style((FONT, 16))
            .y_desc(PANEL_LABELS[k])
            .y_label_formatter(&|v: &f64| short_num(*v));
        if bottom {
            mesh.x_desc("time (ms)")
                .x_label_formatter(&|v: &f64| short_num(*v));
        } else {
            mesh.x_label_formatter(&|_| String::new());
        }
        mesh.draw().map_err(plot_err)?;
        let color = colors[k];
        match k {
            0 => {
                chart
                    .draw_series(c.adc_gates.iter().map(|&(a, b)| {
                        Rectangle::new(
                            [(a * 1e-6, 0.15), (b * 1e-6, 0.85)],
                            color.mix(0.25).filled(),
                        )
                    }))
                    .map_err(plot_err)?;
                if show_samples {
                    chart
                        .draw_series(c.adc_samples.iter().map(|&t| {
                            PathElement::new(
                                vec![(t * 1e-6, 0.3), (t * 1e-6, 0.7)],
                                color.stroke_width(1),
                            )
                        }))
                        .map_err(plot_err)?;
                }
            }
            1 => {
                let inside = |t: f64| (t0..=t1).contains(&t);
                for p in &c.rf {
                    // Framed by zeros at the pulse's start and end where those are visible.
                    let mut pts = Vec::with_capacity(p.t.len() + 2);
                    if inside(p.start) {
                        pts.push((p.start * 1e-6, 0.0));
                    }
                    pts.extend(
                        p.t.iter()
                            .zip(&p.mag)
                            .filter(|(t, _)| inside(**t))
                            .map(|(t, m)| (t * 1e-6, *m)),
                    );
                    if inside(p.end) {
                        pts.push((p.end * 1e-6, 0.0));
                    }
                    chart
                        .draw_series(polyline(pts, color.stroke_width(2), segments))
                        .map_err(plot_err)?;
                }
            }
            2 => {
                for p in &c.rf {
                    let pts: Vec<(f64, f64)> =
                        p.t.iter()
                            .zip(&p.phase)
                            .filter(|(t, _)| (t0..=t1).contains(*t))
                            .map(|(t, v)| (t * 1e-6, *v))
                            .collect();
                    if pts.len() <= columns / 4 {
                        chart
                            .draw_series(pts.iter().map(|&q| Circle::new(q, 2, color.filled())))
                            .map_err(plot_err)?;
                    } else {
                        chart
                            .draw_series(polyline(pts, color.stroke_width(1), segments))
                            .map_err(plot_err)?;
                    }
                }
            }
            g => {
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(x0, 0.0), (x1, 0.0)],
                        RGBColor(150, 150, 150).stroke_width(1),
                    )))
                    .map_err(plot_err)?;
                let pts: Vec<(f64, f64)> =
                    c.grads[g - 3].iter().map(|&(t, v)| (t * 1e-6, v)).collect();
                chart
                    .draw_series(polyline(pts, color.stroke_width(2), segments))
                    .map_err(plot_err)?;
            }
        }
    }
    root.present().map_err(plot_err)?;
    Ok(())
}

/// A polyline as path elements: one per segment when `segments` (the bitmap backend joins
/// thick lines with unlimited miters, which shoot far out of the panel where a dense
/// waveform turns back on itself), else one path. Repeated points are dropped.
fn polyline(
    mut pts: Vec<(f64, f64)>,
    style: ShapeStyle,
    segments: bool,
) -> Vec<PathElement<(f64, f64)>> {
    pts.dedup();
    if segments {
        pts.windows(2)
            .map(|w| PathElement::new(w.to_vec(), style))
            .collect()
    } else {
        vec![PathElement::new(pts, style)]
    }
}

/// Tick label: up to 4 significant digits, no trailing zeros.
fn short_num(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let s = if v.abs() >= 1e7 || v.abs() < 1e-3 {
        format!("{v:.2e}")
    } else {
        let d = (3 - v.abs().log10().floor() as i32).clamp(0, 6) as usize;
        format!("{v:.d$}")
    };
    if s.contains('.') && !s.contains('e') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Encodes a packed 8-bit RGB buffer as PNG (a ~10-line twin of `accord_phantoms::figure`'s
/// encoder: `accord-seq` must not depend on `accord-phantoms`).
fn encode_png(rgb: &[u8], width: u32, height: u32) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let encoder = image::codecs::png::PngEncoder::new(&mut out);
    image::ImageEncoder::write_image(encoder, rgb, width, height, image::ColorType::Rgb8)
        .map_err(|e| SeqError::invalid(format!("encoding the PNG: {e}")))?;
    Ok(out)
}

/// Draws the sequence diagram of `seq` and returns the encoded PNG or SVG bytes.
pub fn plot(seq: &Sequence, opts: &PlotOptions) -> Result<Vec<u8>> {
    let (t0, t1) = window_ns(seq, opts.range)?;
    let (w, h) = (
        opts.width.max(400),
        opts.height.max(6 * 80 + TITLE_PX + XAXIS_PX),
    );
    let columns = (w - YLABEL_PX) as usize;
    let c = content(seq, t0, t1, columns);
    let what = match opts.range {
        PlotRange::All => format!("{} blocks", seq.blocks.len()),
        PlotRange::Blocks { first, last } => format!("blocks {first}..{last}"),
        PlotRange::Time { .. } => "time window".to_string(),
    };
    let title = format!(
        "{}{}{what}, {} – {} ms   (gradients: mT/m with γ = 42.576 MHz/T)",
        opts.title,
        if opts.title.is_empty() { "" } else { ": " },
        short_num(t0 * 1e-6),
        short_num(t1 * 1e-6),
    );
    ensure_font();
    match opts.format {
        PlotFormat::Png => {
            let mut buf = vec![0u8; w as usize * h as usize * 3];
            {
                let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
                draw(&root, &c, (t0, t1), &title, columns, true)?;
            }
            encode_png(&buf, w, h)
        }
        PlotFormat::Svg => {
            let mut s = String::new();
            {
                let root = SVGBackend::with_string(&mut s, (w, h)).into_drawing_area();
                draw(&root, &c, (t0, t1), &title, columns, false)?;
            }
            Ok(s.into_bytes())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ranges() {
        assert_eq!(
            PlotRange::parse_blocks("1..10").unwrap(),
            PlotRange::Blocks { first: 1, last: 10 }
        );
        assert!(PlotRange::parse_blocks("1-10").is_err());
        assert!(PlotRange::parse_blocks("a..3").is_err());
        assert_eq!(
            PlotRange::parse_time("0..20e-3").unwrap(),
            PlotRange::Time { t0: 0.0, t1: 0.02 }
        );
        assert_eq!(
            PlotRange::parse_time("5..20ms").unwrap(),
            PlotRange::Time {
                t0: 0.005,
                t1: 0.02
            }
        );
        assert_eq!(
            PlotRange::parse_time("1s..1500ms").unwrap(),
            PlotRange::Time { t0: 1.0, t1: 1.5 }
        );
        assert!(PlotRange::parse_time("0..x").is_err());
    }

    #[test]
    fn clips_and_decimates_a_waveform() {
        let w = Waveform {
            t: vec![0.0, 10.0, 20.0, 20.0, 30.0],
            g: vec![0.0, 10.0, 10.0, 0.0, 0.0],
        };
        assert_eq!(
            clip(&w, 5.0, 20.0),
            vec![(5.0, 5.0), (10.0, 10.0), (20.0, 10.0)]
        );
        let p: Vec<(f64, f64)> = (0..1000).map(|i| (i as f64, (i % 7) as f64)).collect();
        let d = decimate(p, 0.0, 1000.0, 10);
        assert!(d.len() <= 40, "{}", d.len());
        assert_eq!(d.iter().fold(0.0f64, |m, q| m.max(q.1)), 6.0);
        assert_eq!(d.first(), Some(&(0.0, 0.0)));
        assert_eq!(d.last(), Some(&(999.0, (999 % 7) as f64)));
    }

    /// Rows (y pixels) per panel that hold a coloured (not grey, not white) pixel.
    fn coloured_rows_per_panel(png: &[u8]) -> Vec<usize> {
        let img = image::load_from_memory(png).unwrap().to_rgb8();
        let panel_h = (img.height() - TITLE_PX - XAXIS_PX) / 6;
        (0..6)
            .map(|k| {
                let y0 = TITLE_PX + k * panel_h;
                (y0..y0 + panel_h)
                    .filter(|&y| {
                        (YLABEL_PX..img.width()).any(|x| {
                            let p = img.get_pixel(x, y).0;
                            let (hi, lo) = (p.iter().max().unwrap(), p.iter().min().unwrap());
                            hi - lo > 40
                        })
                    })
                    .count()
            })
            .collect()
    }

    #[test]
    fn draws_every_panel_of_a_corpus_gre() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/data/pulseq/pypulseq150_write_gre.seq"
        );
        let seq = crate::read_file(path).unwrap();
        let opts = PlotOptions {
            range: PlotRange::Blocks { first: 1, last: 12 },
            ..PlotOptions::default()
        };
        let png = plot(&seq, &opts).unwrap();
        let img = image::load_from_memory(&png).unwrap();
        assert_eq!((img.width(), img.height()), (1400, 1300));
        // Every panel has a drawing that spans rows (a flat line alone would cover 2-3).
        let rows = coloured_rows_per_panel(&png);
        assert!(rows.iter().all(|&n| n >= 20), "{rows:?}");
        let svg = String::from_utf8(
            plot(
                &seq,
                &PlotOptions {
                    format: PlotFormat::Svg,
                    ..opts
                },
            )
            .unwrap(),
        )
        .unwrap();
        assert!(svg.starts_with("<svg"));
        for label in PANEL_LABELS {
            assert!(svg.contains(label), "{label}");
        }
        // An RF-only window: the gradient panels then hold only their flat zero line.
        let rows = coloured_rows_per_panel(
            &plot(
                &seq,
                &PlotOptions {
                    range: PlotRange::Time {
                        t0: 0.0,
                        t1: 0.5e-3,
                    },
                    ..PlotOptions::default()
                },
            )
            .unwrap(),
        );
        assert!(rows[1] >= 20 && rows[3] < 8, "{rows:?}");
    }

    #[test]
    fn rejects_ranges_outside_the_sequence() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/data/pulseq/pypulseq150_write_gre.seq"
        );
        let seq = crate::read_file(path).unwrap();
        let n = seq.blocks.len();
        for (range, needle) in [
            (PlotRange::Blocks { first: 0, last: 3 }, "start at 1"),
            (PlotRange::Blocks { first: 5, last: 3 }, "before the first"),
            (
                PlotRange::Blocks {
                    first: 1,
                    last: n + 1,
                },
                "blocks",
            ),
            (PlotRange::Time { t0: 1e3, t1: 2e3 }, "lasts"),
            (PlotRange::Time { t0: 0.2, t1: 0.1 }, "T0 < T1"),
        ] {
            let e = window_ns(&seq, range).unwrap_err().to_string();
            assert!(e.contains(needle), "{e}");
        }
        assert_eq!(
            window_ns(&seq, PlotRange::Blocks { first: 1, last: n }).unwrap(),
            (0.0, seq.total_duration().0 as f64)
        );
    }

    #[test]
    fn short_numbers() {
        assert_eq!(short_num(12.5), "12.5");
        assert_eq!(short_num(0.0), "0");
        assert_eq!(short_num(-3.0), "-3");
        assert_eq!(short_num(1234.5678), "1235");
    }
}
