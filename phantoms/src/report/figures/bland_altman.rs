//! Bland–Altman plots, one per site pair (per ROI where at least two subjects were measured
//! at both sites, and for the pooled block): the mean of the pair on x, the difference on y,
//! the bias and the 95 % limits of agreement as lines with their 95 % CIs as bands. The
//! absolute differences (left) and the percent differences (right) are shown side by side:
//! the percent panel is the one to read when the error scales with the value (phantom spheres,
//! volumes), the absolute panel when it does not.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use rayon::prelude::*;

use crate::Result;
use crate::stats::bland_altman::BlandAltman;
use crate::stats::{BaPair, Results};

use super::super::Units;
use super::super::interpret::{ba_percent_reason, ba_reason, unit_suffix};
use super::{Axis, Figure, FigureKind, Plot, draw_mesh, font, font_c, perr, render, short, slug};

/// Colour of the bias line and its CI band.
const BIAS: RGBColor = RGBColor(0x1f, 0x5f, 0xa8);
/// Colour of the limits of agreement and their CI bands.
const LOA: RGBColor = RGBColor(0xc0, 0x39, 0x2b);

struct BaPlot<'a> {
    title: String,
    pair: &'a BaPair,
    unit: String,
}

/// (mean of the pair, difference) points of one panel.
fn points(pair: &BaPair, percent: bool) -> Vec<(f64, f64)> {
    pair.pairs
        .iter()
        .filter_map(|&(a, b)| {
            let m = (a + b) / 2.0;
            let d = if percent {
                if a + b == 0.0 {
                    return None;
                }
                100.0 * (a - b) / m.abs()
            } else {
                a - b
            };
            (m.is_finite() && d.is_finite()).then_some((m, d))
        })
        .collect()
}

fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    pts: &[(f64, f64)],
    ba: &BlandAltman,
    why: &str,
    x_desc: &str,
    y_desc: &str,
    heading: &str,
) -> Result<(), String> {
    let Some(s) = &ba.spread else {
        let (w, h) = area.dim_in_pixel();
        area.draw(&Text::new(
            format!("{heading}: undefined ({why})"),
            (w as i32 / 2, h as i32 / 2),
            font(14).pos(Pos::new(HPos::Center, VPos::Center)),
        ))
        .map_err(perr)?;
        return Ok(());
    };
    let bias = ba.bias.unwrap_or(0.0);
    let xs: Vec<f64> = pts.iter().map(|p| p.0).collect();
    let xa = Axis::auto(&xs, 0.06, 20.0);
    let mut ys: Vec<f64> = pts.iter().map(|p| p.1).collect();
    ys.extend([0.0, bias, s.loa_lower, s.loa_upper]);
    ys.extend(
        [s.bias_ci95, s.loa_lower_ci95, s.loa_upper_ci95]
            .iter()
            .flatten()
            .flatten(),
    );
    let ya = Axis::linear(ys, 0.1);
    let mut chart = ChartBuilder::on(area)
        .caption(heading, font(15))
        .margin(8)
        .margin_right(16)
        .x_label_area_size(44)
        .y_label_area_size(68)
        .build_cartesian_2d(xa.coord(), ya.coord())
        .map_err(perr)?;
    draw_mesh(&mut chart, &xa, &ya, x_desc, y_desc)?;
    let (x0, x1) = (xa.lo, xa.hi);
    let bands = [
        (s.loa_lower_ci95, LOA, 0.10),
        (s.loa_upper_ci95, LOA, 0.10),
        (s.bias_ci95, BIAS, 0.20),
    ];
    for (ci, colour, alpha) in bands {
        let [Some(lo), Some(hi)] = ci else { continue };
        if !(lo.is_finite() && hi.is_finite()) {
            continue;
        }
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(x0, lo), (x1, hi)],
                colour.mix(alpha).filled(),
            )))
            .map_err(perr)?;
        chart
            .draw_series([lo, hi].map(|y| {
                PathElement::new(vec![(x0, y), (x1, y)], colour.mix(0.35).stroke_width(1))
            }))
            .map_err(perr)?;
    }
    chart
        .draw_series(std::iter::once(PathElement::new(
            vec![(x0, 0.0), (x1, 0.0)],
            BLACK.mix(0.45).stroke_width(1),
        )))
        .map_err(perr)?;
    chart
        .draw_series(std::iter::once(PathElement::new(
            vec![(x0, bias), (x1, bias)],
            BIAS.stroke_width(2),
        )))
        .map_err(perr)?;
    for loa in [s.loa_lower, s.loa_upper] {
        chart
            .draw_series(DashedLineSeries::new(
                vec![(x0, loa), (x1, loa)],
                8,
                5,
                LOA.stroke_width(2),
            ))
            .map_err(perr)?;
    }
    chart
        .draw_series(
            pts.iter()
                .map(|&(m, d)| Circle::new((xa.t(m), d), 4, BLACK.mix(0.75).filled())),
        )
        .map_err(perr)?;
    let label = |text: String, y: f64, colour: RGBColor, below: bool| {
        EmptyElement::at((x1, y))
            + Text::new(
                text,
                (-6, if below { 5 } else { -5 }),
                font_c(12, &colour).pos(Pos::new(
                    HPos::Right,
                    if below { VPos::Top } else { VPos::Bottom },
                )),
            )
    };
    let fmt = |v: f64| super::super::interpret::num(v);
    chart
        .draw_series([
            label(format!("bias {}", fmt(bias)), bias, BIAS, false),
            label(
                format!("+1.96 SD {}", fmt(s.loa_upper)),
                s.loa_upper,
                LOA,
                false,
            ),
            label(
                format!("−1.96 SD {}", fmt(s.loa_lower)),
                s.loa_lower,
                LOA,
                true,
            ),
        ])
        .map_err(perr)?;
    Ok(())
}

impl Plot for BaPlot<'_> {
    fn size(&self) -> (u32, u32) {
        (1200, 480)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let area = root.titled(&self.title, font(17)).map_err(perr)?;
        let (w, _) = area.dim_in_pixel();
        let (left, right) = area.split_horizontally(w / 2);
        let (a, b) = (short(&self.pair.site_a, 24), short(&self.pair.site_b, 24));
        let unit = unit_suffix(&self.unit);
        let x_desc = format!("mean of {a} and {b}{unit}");
        let (ya, yb) = (short(&self.pair.site_a, 18), short(&self.pair.site_b, 18));
        panel(
            &left,
            &points(self.pair, false),
            &self.pair.absolute,
            &ba_reason(&self.pair.absolute),
            &x_desc,
            &format!("{ya} − {yb}{unit}"),
            "absolute difference",
        )?;
        panel(
            &right,
            &points(self.pair, true),
            &self.pair.percent,
            &ba_percent_reason(self.pair),
            &x_desc,
            "difference, % of the pair mean",
            "percent difference",
        )?;
        Ok(())
    }
}

/// Caption of a Bland–Altman figure.
fn caption(pair: &BaPair, log_x: bool) -> String {
    let mut c = format!(
        "{} − {} on cell means (sessions averaged), n = {}. Solid blue: bias with its 95 % CI \
         (band); dashed red: limits of agreement (bias ± 1.96 SD) with their 95 % CIs (bands, \
         ±t·√(3 SD²/n)). Left: absolute differences; right: percent of the pair mean.",
        pair.site_a, pair.site_b, pair.absolute.n
    );
    if log_x {
        c.push_str(" The x axis is logarithmic: the pair means span more than a factor of 20.");
    }
    c
}

fn one(title: String, stem: String, pair: &BaPair, unit: &str, kind: FigureKind) -> Result<Figure> {
    let plot = BaPlot {
        title: title.clone(),
        pair,
        unit: unit.to_string(),
    };
    let (png, svg) = render(&plot, &stem)?;
    let xs: Vec<f64> = points(pair, false).iter().map(|p| p.0).collect();
    let log_x = Axis::auto(&xs, 0.0, 20.0).log;
    Ok(Figure {
        kind,
        stem,
        title,
        caption: caption(pair, log_x),
        png,
        svg,
    })
}

/// Every Bland–Altman figure: per ROI (pairs with at least two paired subjects) in table
/// order, then the pooled block's pairs.
///
/// # Errors
/// [`crate::Error::Plot`] when a figure cannot be drawn.
pub fn figures(results: &Results, units: &Units) -> Result<Vec<Figure>> {
    // (title, stem, pair, unit, kind) of every figure, rendered in parallel in this order.
    let mut jobs: Vec<(String, String, &BaPair, &str, FigureKind)> = Vec::new();
    for (i, r) in results.per_roi.iter().enumerate() {
        let unit = units.get(&r.roi).map(String::as_str).unwrap_or("");
        for (j, p) in r.bland_altman.iter().enumerate() {
            if p.absolute.spread.is_none() {
                continue;
            }
            jobs.push((
                format!(
                    "{} — {} vs {}",
                    short(&r.roi, 40),
                    short(&p.site_a, 30),
                    short(&p.site_b, 30)
                ),
                format!(
                    "ba_{}_{}_vs_{}",
                    slug(&r.roi),
                    slug(&p.site_a),
                    slug(&p.site_b)
                ),
                p,
                unit,
                FigureKind::BlandAltman {
                    roi: Some(i),
                    pair: j,
                },
            ));
        }
    }
    if let Some(pooled) = &results.pooled_subject_x_roi {
        for (j, p) in pooled.bland_altman.iter().enumerate() {
            if p.absolute.spread.is_none() {
                continue;
            }
            jobs.push((
                format!(
                    "pooled subject × ROI — {} vs {}",
                    short(&p.site_a, 30),
                    short(&p.site_b, 30)
                ),
                format!("ba_pooled_{}_vs_{}", slug(&p.site_a), slug(&p.site_b)),
                p,
                &pooled.unit,
                FigureKind::BlandAltman { roi: None, pair: j },
            ));
        }
    }
    jobs.into_par_iter()
        .map(|(title, stem, pair, unit, kind)| one(title, stem, pair, unit, kind))
        .collect()
}
