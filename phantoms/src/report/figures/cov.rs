//! Bar chart of the between-site CoV (reproducibility) per ROI, with the within-site CoV
//! (repeatability) next to it where sessions were repeated, and the pooled block last.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::Result;
use crate::stats::Results;

use super::{
    Figure, FigureKind, Plot, Ticked, colour, font, nice_ticks, perr, render, short, tick_label,
};

struct Bar {
    label: String,
    between: Option<f64>,
    within: Option<f64>,
}

struct CovPlot {
    bars: Vec<Bar>,
    any_within: bool,
}

impl CovPlot {
    fn label_width(&self) -> usize {
        self.bars
            .iter()
            .map(|b| b.label.chars().count())
            .max()
            .unwrap_or(1)
    }

    /// Whether the ROI labels must be written vertically to fit.
    fn vertical(&self) -> bool {
        let slot = self.plot_width() as f64 / self.bars.len().max(1) as f64;
        self.label_width() as f64 * 7.5 > slot - 6.0
    }

    fn plot_width(&self) -> u32 {
        (130 + 78 * self.bars.len() as u32).clamp(760, 1800) - 110
    }
}

impl Plot for CovPlot {
    fn size(&self) -> (u32, u32) {
        let extra = if self.vertical() {
            (self.label_width() as u32 * 8).min(220)
        } else {
            0
        };
        (
            (130 + 78 * self.bars.len() as u32).clamp(760, 1800),
            460 + extra,
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let n = self.bars.len().max(1);
        let max = self
            .bars
            .iter()
            .flat_map(|b| [b.between, b.within])
            .flatten()
            .filter(|v| v.is_finite())
            .fold(0.0f64, f64::max);
        let top = if max > 0.0 { max * 1.18 } else { 1.0 };
        let vertical = self.vertical();
        let x_area = if vertical {
            (self.label_width() as u32 * 8).min(220) + 30
        } else {
            48
        };
        let centres: Vec<f64> = (0..n).map(|i| i as f64 + 0.5).collect();
        let mut chart = ChartBuilder::on(root)
            .caption("Coefficient of variation per ROI", font(18))
            .margin(12)
            .x_label_area_size(x_area)
            .y_label_area_size(70)
            .build_cartesian_2d(
                Ticked::new(0.0, n as f64, centres),
                Ticked::new(0.0, top, nice_ticks(0.0, top, 6)),
            )
            .map_err(perr)?;
        let labels: Vec<String> = self.bars.iter().map(|b| b.label.clone()).collect();
        let label_of = move |v: &f64| {
            let i = v.floor().max(0.0) as usize;
            labels.get(i).cloned().unwrap_or_default()
        };
        let x_style = if vertical {
            font(13).transform(FontTransform::Rotate90)
        } else {
            font(13)
        };
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_label_formatter(&label_of)
            .y_label_formatter(&|v| tick_label(*v))
            .x_label_style(x_style)
            .y_label_style(font(12))
            .y_desc("CoV (%)")
            .axis_desc_style(font(13))
            .bold_line_style(BLACK.mix(0.08))
            .light_line_style(TRANSPARENT)
            .draw()
            .map_err(perr)?;
        let between_colour = colour(0);
        let within_colour = colour(1);
        let (bw0, bw1) = if self.any_within {
            (0.1, 0.5)
        } else {
            (0.2, 0.8)
        };
        chart
            .draw_series(self.bars.iter().enumerate().filter_map(|(i, b)| {
                let v = b.between.filter(|v| v.is_finite())?;
                let x = i as f64;
                Some(Rectangle::new(
                    [(x + bw0, 0.0), (x + bw1, v)],
                    between_colour.filled(),
                ))
            }))
            .map_err(perr)?
            .label("between-site CoV (reproducibility)")
            .legend(move |(x, y)| {
                Rectangle::new([(x, y - 6), (x + 14, y + 6)], between_colour.filled())
            });
        if self.any_within {
            chart
                .draw_series(self.bars.iter().enumerate().filter_map(|(i, b)| {
                    let v = b.within.filter(|v| v.is_finite())?;
                    let x = i as f64;
                    Some(Rectangle::new(
                        [(x + 0.5, 0.0), (x + 0.9, v)],
                        within_colour.filled(),
                    ))
                }))
                .map_err(perr)?
                .label("within-site CoV (repeatability)")
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 6), (x + 14, y + 6)], within_colour.filled())
                });
        }
        // Values above the bars (or "undefined" where a CoV is not defined).
        let value_size = if n > 14 { 10 } else { 11 };
        let mut texts = Vec::new();
        for (i, b) in self.bars.iter().enumerate() {
            let x = i as f64;
            let mut put = |v: Option<f64>, centre: f64| {
                let (text, y) = match v.filter(|v| v.is_finite()) {
                    Some(v) => (format!("{v:.2}"), v),
                    None => ("undef.".to_string(), 0.0),
                };
                texts.push(Text::new(
                    text,
                    (x + centre, y),
                    font(value_size).pos(Pos::new(HPos::Center, VPos::Bottom)),
                ));
            };
            put(b.between, (bw0 + bw1) / 2.0);
            if self.any_within {
                put(b.within, 0.7);
            }
        }
        chart.draw_series(texts).map_err(perr)?;
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .label_font(font(13))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.3))
            .draw()
            .map_err(perr)?;
        Ok(())
    }
}

/// The CoV bar chart of all ROIs (and the pooled block).
///
/// # Errors
/// [`crate::Error::Plot`] when it cannot be drawn.
pub fn figure(results: &Results) -> Result<Figure> {
    let mut bars: Vec<Bar> = results
        .per_roi
        .iter()
        .map(|r| Bar {
            label: short(&r.roi, 28),
            between: r.variability.cov_between_pct,
            within: r.variability.cov_within_pct,
        })
        .collect();
    if let Some(p) = &results.pooled_subject_x_roi {
        bars.push(Bar {
            label: "pooled".into(),
            between: p.variability.cov_between_pct,
            within: p.variability.cov_within_pct,
        });
    }
    let any_within = bars.iter().any(|b| b.within.is_some_and(f64::is_finite));
    let plot = CovPlot { bars, any_within };
    let stem = "cov_per_roi".to_string();
    let (png, svg) = render(&plot, &stem)?;
    let mut caption = String::from(
        "Between-site CoV: per subject, SD of the site means over their mean, root mean square \
         over subjects (reproducibility).",
    );
    if any_within {
        caption.push_str(
            " Within-site CoV: per subject × site, SD over sessions over their mean, root mean \
             square over cells (repeatability).",
        );
    } else {
        caption.push_str(" No within-site CoV: no session was repeated.");
    }
    Ok(Figure {
        kind: FigureKind::Cov,
        stem,
        title: "Coefficient of variation per ROI".into(),
        caption,
        png,
        svg,
    })
}
