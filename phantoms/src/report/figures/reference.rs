//! Measured against reference values (tables with `ref_value`): left, each site's mean per
//! ROI against the reference with the identity line; right, the percent deviation from the
//! reference. One colour per site. Axes turn logarithmic when the reference values span more
//! than a decade (phantom T1/T2 spheres).

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::Result;
use crate::stats::Results;

use super::super::Units;
use super::super::interpret::unit_suffix;
use super::{Axis, Figure, FigureKind, Plot, Ticked, colour, draw_mesh, font, perr, render, short};

struct Point {
    site: usize,
    reference: f64,
    mean: f64,
    /// NaN when undefined (reference 0): not drawn in the deviation panel.
    deviation: f64,
}

struct RefPlot {
    sites: Vec<String>,
    points: Vec<Point>,
    unit: String,
}

impl RefPlot {
    fn log(&self) -> bool {
        let refs: Vec<f64> = self.points.iter().map(|p| p.reference).collect();
        let means: Vec<f64> = self.points.iter().map(|p| p.mean).collect();
        Axis::auto(&refs, 0.0, 10.0).log && Axis::auto(&means, 0.0, 1.0).log
    }
}

/// A chart of one panel on `area` with axes `x` and `y`, its mesh drawn.
fn panel_chart<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    x: &Axis,
    y: &Axis,
    x_desc: &str,
    y_desc: &str,
) -> Result<ChartContext<'a, DB, Cartesian2d<Ticked, Ticked>>, String> {
    let mut chart = ChartBuilder::on(area)
        .margin(10)
        .margin_right(18)
        .x_label_area_size(44)
        .y_label_area_size(70)
        .build_cartesian_2d(x.coord(), y.coord())
        .map_err(perr)?;
    draw_mesh(&mut chart, x, y, x_desc, y_desc)?;
    Ok(chart)
}

impl Plot for RefPlot {
    fn size(&self) -> (u32, u32) {
        (1200, 540)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let area = root
            .titled("Measured against reference values", font(18))
            .map_err(perr)?;
        let (w, _) = area.dim_in_pixel();
        let (left, right) = area.split_horizontally(w / 2);
        let log = self.log();
        let unit = unit_suffix(&self.unit);
        let make = |values: &[f64]| {
            if log {
                Axis::auto(values, 0.05, 1.0)
            } else {
                Axis::linear(values.iter().copied(), 0.05)
            }
        };

        // Left: measured vs reference, identity line.
        let mut both: Vec<f64> = self.points.iter().map(|p| p.reference).collect();
        both.extend(self.points.iter().map(|p| p.mean));
        let ax = make(&both);
        let mut chart = panel_chart(
            &left,
            &ax,
            &ax,
            &format!("reference{unit}"),
            &format!("site mean{unit}"),
        )?;
        chart
            .draw_series(DashedLineSeries::new(
                vec![(ax.lo, ax.lo), (ax.hi, ax.hi)],
                6,
                4,
                BLACK.mix(0.5).stroke_width(1),
            ))
            .map_err(perr)?
            .label("identity")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], BLACK.mix(0.5)));
        for (s, name) in self.sites.iter().enumerate() {
            let c = colour(s);
            chart
                .draw_series(
                    self.points
                        .iter()
                        .filter(|p| p.site == s)
                        .map(|p| Circle::new((ax.t(p.reference), ax.t(p.mean)), 5, c.filled())),
                )
                .map_err(perr)?
                .label(short(name, 30))
                .legend(move |(x, y)| Circle::new((x + 8, y), 5, c.filled()));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .label_font(font(12))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.3))
            .draw()
            .map_err(perr)?;

        // Right: deviation from reference, percent.
        let refs: Vec<f64> = self.points.iter().map(|p| p.reference).collect();
        let xa = make(&refs);
        let mut devs: Vec<f64> = self
            .points
            .iter()
            .map(|p| p.deviation)
            .filter(|d| d.is_finite())
            .collect();
        devs.push(0.0);
        let ya = Axis::linear(devs, 0.1);
        let mut chart = panel_chart(
            &right,
            &xa,
            &ya,
            &format!("reference{unit}"),
            "100 (site mean − reference) / reference (%)",
        )?;
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(xa.lo, 0.0), (xa.hi, 0.0)],
                BLACK.mix(0.5).stroke_width(1),
            )))
            .map_err(perr)?;
        for s in 0..self.sites.len() {
            let c = colour(s);
            let mut pts: Vec<(f64, f64)> = self
                .points
                .iter()
                .filter(|p| p.site == s && p.deviation.is_finite() && p.reference.is_finite())
                .filter(|p| !log || p.reference > 0.0)
                .map(|p| (xa.t(p.reference), p.deviation))
                .collect();
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            chart
                .draw_series(LineSeries::new(pts.clone(), c.mix(0.5).stroke_width(1)))
                .map_err(perr)?;
            chart
                .draw_series(pts.iter().map(|&p| Circle::new(p, 5, c.filled())))
                .map_err(perr)?;
        }
        Ok(())
    }
}

/// The measured-vs-reference figure, when the table has reference values.
///
/// # Errors
/// [`crate::Error::Plot`] when it cannot be drawn.
pub fn figure(results: &Results, units: &Units) -> Result<Option<Figure>> {
    let Some(rc) = &results.reference_comparison else {
        return Ok(None);
    };
    let sites = results.design.sites.clone();
    let points: Vec<Point> = rc
        .per_site_roi
        .iter()
        .filter(|d| d.mean.is_finite() && d.ref_value.is_finite())
        .filter_map(|d| {
            Some(Point {
                site: sites.iter().position(|s| *s == d.site)?,
                reference: d.ref_value,
                mean: d.mean,
                deviation: d.deviation_pct.unwrap_or(f64::NAN),
            })
        })
        .collect();
    if points.is_empty() {
        return Ok(None);
    }
    // One unit label when all ROIs with a reference share it.
    let mut roi_units: Vec<&str> = rc
        .per_site_roi
        .iter()
        .map(|d| units.get(&d.roi).map(String::as_str).unwrap_or(""))
        .collect();
    roi_units.dedup();
    let unit = if roi_units.windows(2).all(|w| w[0] == w[1]) {
        roi_units.first().copied().unwrap_or("").to_string()
    } else {
        String::new()
    };
    let plot = RefPlot {
        sites,
        points,
        unit,
    };
    let log = plot.log();
    let stem = "reference_scatter".to_string();
    let (png, svg) = render(&plot, &stem)?;
    let mut caption = String::from(
        "Left: each site's mean per ROI (mean over subjects of the session-averaged value) \
         against the reference value, with the identity line. Right: the deviation from the \
         reference in percent, the headline for phantoms whose ROIs span a wide range.",
    );
    if log {
        caption.push_str(" Reference and measured axes are logarithmic.");
    }
    Ok(Some(Figure {
        kind: FigureKind::Reference,
        stem,
        title: "Measured against reference values".into(),
        caption,
        png,
        svg,
    }))
}
