//! ICC forest plot: per ROI (and for the pooled block) ICC(A,1) and ICC(C,1) between sites
//! with their 95 % CIs, over the Koo & Li (2016) bands (poor < 0.5, moderate 0.5–0.75, good
//! 0.75–0.9, excellent > 0.9). A gap between the two estimates is systematic site bias.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::Result;
use crate::stats::{IccBlock, Results};

use super::super::interpret::icc_reason;
use super::{Figure, FigureKind, Plot, Ticked, font, font_c, perr, render, short};

/// Colour of ICC(A,1).
const AGREEMENT: RGBColor = RGBColor(0x1f, 0x5f, 0xa8);
/// Colour of ICC(C,1).
const CONSISTENCY: RGBColor = RGBColor(0xd3, 0x6b, 0x00);

/// One estimate with its CI, all finite.
#[derive(Clone, Copy)]
struct Est {
    icc: f64,
    lo: Option<f64>,
    hi: Option<f64>,
}

struct Row {
    label: String,
    a: Option<Est>,
    c: Option<Est>,
    note: Option<String>,
}

struct ForestPlot {
    rows: Vec<Row>,
    lo: f64,
    hi: f64,
}

fn est(block: &IccBlock, form: &str) -> Option<Est> {
    let f = block.form(form)?;
    let icc = f.icc.filter(|v| v.is_finite())?;
    Some(Est {
        icc,
        lo: f.ci95[0].filter(|v| v.is_finite()),
        hi: f.ci95[1].filter(|v| v.is_finite()),
    })
}

fn row(label: String, block: &IccBlock) -> Row {
    let a = est(block, "ICC(2,1)");
    let c = est(block, "ICC(3,1)");
    let note = (a.is_none() && c.is_none()).then(|| format!("undefined ({})", icc_reason(block)));
    Row { label, a, c, note }
}

impl ForestPlot {
    fn label_area(&self) -> u32 {
        let chars = self
            .rows
            .iter()
            .map(|r| r.label.chars().count())
            .max()
            .unwrap_or(4);
        (chars as u32 * 8 + 24).clamp(80, 300)
    }
}

impl Plot for ForestPlot {
    fn size(&self) -> (u32, u32) {
        (1000, (170 + 52 * self.rows.len() as u32).max(320))
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let n = self.rows.len().max(1);
        let nf = n as f64;
        let centres: Vec<f64> = (0..n).map(|i| i as f64 + 0.5).collect();
        let ticks: Vec<f64> = [-1.0, -0.75, -0.5, -0.25, 0.0, 0.25, 0.5, 0.75, 0.9, 1.0]
            .into_iter()
            .filter(|t| *t >= self.lo - 1e-9 && *t <= self.hi + 1e-9)
            .collect();
        let mut chart = ChartBuilder::on(root)
            .caption("ICC between sites with 95 % CI", font(18))
            .margin(12)
            .margin_right(24)
            .x_label_area_size(70)
            .y_label_area_size(self.label_area())
            .build_cartesian_2d(
                Ticked::new(self.lo, self.hi, ticks),
                Ticked::new(0.0, nf + 0.6, centres),
            )
            .map_err(perr)?;
        // Rows top-down: row i is drawn at y = n - i - 0.5.
        let labels: Vec<String> = self.rows.iter().map(|r| r.label.clone()).collect();
        let label_of = move |v: &f64| {
            let k = v.floor();
            if k < 0.0 || k >= nf {
                return String::new();
            }
            labels.get(n - 1 - k as usize).cloned().unwrap_or_default()
        };
        let (lo, hi) = (self.lo, self.hi);
        // Koo & Li bands.
        let bands = [
            (lo, 0.5, RGBColor(0xf6, 0xd5, 0xd1), "poor"),
            (0.5, 0.75, RGBColor(0xfb, 0xe8, 0xc8), "moderate"),
            (0.75, 0.9, RGBColor(0xe6, 0xf2, 0xd0), "good"),
            (0.9, hi, RGBColor(0xc8, 0xe8, 0xc8), "excellent"),
        ];
        let top = nf + 0.6;
        chart
            .draw_series(bands.iter().filter(|b| b.1 > b.0).map(|&(a, b, c, _)| {
                Rectangle::new([(a.max(lo), 0.0), (b.min(hi), top)], c.filled())
            }))
            .map_err(perr)?;
        chart
            .draw_series(
                bands
                    .iter()
                    .filter(|b| b.1 > b.0 + 0.05)
                    .map(|&(a, b, _, name)| {
                        Text::new(
                            name,
                            ((a.max(lo) + b.min(hi)) / 2.0, top - 0.04),
                            font_c(12, &BLACK.mix(0.6)).pos(Pos::new(HPos::Center, VPos::Top)),
                        )
                    }),
            )
            .map_err(perr)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .x_label_formatter(&|v| format!("{v}"))
            .y_label_formatter(&label_of)
            .label_style(font(13))
            .axis_desc_style(font(13))
            .bold_line_style(BLACK.mix(0.12))
            .light_line_style(TRANSPARENT)
            .draw()
            .map_err(perr)?;
        if lo < 0.0 {
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(0.0, 0.0), (0.0, top)],
                    BLACK.mix(0.5).stroke_width(1),
                )))
                .map_err(perr)?;
        }
        let clip = |v: f64| v.clamp(lo, hi);
        for (i, r) in self.rows.iter().enumerate() {
            let y = nf - i as f64 - 0.5;
            for (e, dy, colour, square) in [
                (r.a, 0.14, AGREEMENT, false),
                (r.c, -0.14, CONSISTENCY, true),
            ] {
                let Some(e) = e else { continue };
                let yy = y + dy;
                if let (Some(a), Some(b)) = (e.lo, e.hi) {
                    chart
                        .draw_series([
                            PathElement::new(
                                vec![(clip(a), yy), (clip(b), yy)],
                                colour.stroke_width(2),
                            ),
                            PathElement::new(
                                vec![(clip(a), yy - 0.08), (clip(a), yy + 0.08)],
                                colour.stroke_width(2),
                            ),
                            PathElement::new(
                                vec![(clip(b), yy - 0.08), (clip(b), yy + 0.08)],
                                colour.stroke_width(2),
                            ),
                        ])
                        .map_err(perr)?;
                    if a < lo {
                        chart
                            .draw_series(std::iter::once(Text::new(
                                "◀",
                                (lo, yy),
                                font_c(12, &colour).pos(Pos::new(HPos::Left, VPos::Center)),
                            )))
                            .map_err(perr)?;
                    }
                }
                let p = (clip(e.icc), yy);
                if square {
                    chart
                        .draw_series(std::iter::once(
                            EmptyElement::at(p)
                                + Rectangle::new([(-5, -5), (5, 5)], colour.filled()),
                        ))
                        .map_err(perr)?;
                } else {
                    chart
                        .draw_series(std::iter::once(Circle::new(p, 6, colour.filled())))
                        .map_err(perr)?;
                }
            }
            if let Some(note) = &r.note {
                chart
                    .draw_series(std::iter::once(Text::new(
                        note.clone(),
                        (lo + 0.02 * (hi - lo), y),
                        font_c(13, &BLACK.mix(0.75)).pos(Pos::new(HPos::Left, VPos::Center)),
                    )))
                    .map_err(perr)?;
            }
        }
        // Legend, drawn by hand below the axis.
        let legend = [
            ("ICC(A,1) absolute agreement (headline)", AGREEMENT, false),
            ("ICC(C,1) consistency", CONSISTENCY, true),
        ];
        let (pw, ph) = root.dim_in_pixel();
        let mut x = (self.label_area() as i32 + 20).min(pw as i32 / 3);
        let yl = ph as i32 - 18;
        for (text, c, square) in legend {
            if square {
                root.draw(&Rectangle::new(
                    [(x - 5, yl - 5), (x + 5, yl + 5)],
                    c.filled(),
                ))
                .map_err(perr)?;
            } else {
                root.draw(&Circle::new((x, yl), 6, c.filled()))
                    .map_err(perr)?;
            }
            root.draw(&Text::new(
                text,
                (x + 12, yl),
                font(13).pos(Pos::new(HPos::Left, VPos::Center)),
            ))
            .map_err(perr)?;
            x += 12 + text.chars().count() as i32 * 8 + 30;
        }
        Ok(())
    }
}

/// The forest plot of every ROI's between-site ICC (and the pooled block's).
///
/// # Errors
/// [`crate::Error::Plot`] when it cannot be drawn.
pub fn figure(results: &Results) -> Result<Figure> {
    let mut rows: Vec<Row> = results
        .per_roi
        .iter()
        .map(|r| row(short(&r.roi, 32), &r.icc_between_sites))
        .collect();
    if let Some(p) = &results.pooled_subject_x_roi {
        rows.push(row("pooled (subject × ROI)".into(), &p.icc_between_sites));
    }
    let values: Vec<f64> = rows
        .iter()
        .flat_map(|r| [r.a, r.c])
        .flatten()
        .flat_map(|e| [Some(e.icc), e.lo, e.hi])
        .flatten()
        .collect();
    let min = values.iter().copied().fold(0.0f64, f64::min);
    let max = values.iter().copied().fold(1.0f64, f64::max);
    let lo = ((min / 0.25).floor() * 0.25).max(-1.0);
    let lo = if lo >= 0.0 { 0.0 } else { lo - 0.05 };
    let hi = max.min(1.2) + 0.03;
    let plot = ForestPlot { rows, lo, hi };
    let stem = "icc_forest".to_string();
    let (png, svg) = render(&plot, &stem)?;
    Ok(Figure {
        kind: FigureKind::Forest,
        stem,
        title: "ICC forest plot".into(),
        caption: "ICC(A,1) = ICC(2,1) (two-way random, absolute agreement, single measurement; \
                  circles) and ICC(C,1) = ICC(3,1) (consistency; squares) between sites on cell \
                  means, with 95 % CIs. Shaded: Koo & Li bands (poor < 0.5, moderate 0.5–0.75, \
                  good 0.75–0.9, excellent > 0.9), to be judged on the CI. A lower ICC(A,1) than \
                  ICC(C,1) means systematic site offsets. ◀: CI continues below the axis."
            .into(),
        png,
        svg,
    })
}
