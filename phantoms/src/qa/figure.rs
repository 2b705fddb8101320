//! QA figures: each measured image in grey with its ROIs, lines and outline drawn on top, panels
//! side by side, encoded as PNG. Pixel coordinates are those of [`super::roi`]; small images are
//! magnified by a whole factor so that ROIs stay legible.

use plotters::prelude::*;

use super::image::Image;
use super::roi::Roi;
use crate::figure::{FONT, encode_png, ensure_font};
use crate::{Error, Result};

/// Colours used for overlays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Colour {
    /// Signal ROIs.
    Red,
    /// Background ROIs.
    Cyan,
    /// Extremes and highlights.
    Yellow,
    /// Outlines and lengths.
    Green,
    /// Second highlight.
    Magenta,
}

impl Colour {
    fn rgb(self) -> RGBColor {
        match self {
            Colour::Red => RGBColor(255, 40, 40),
            Colour::Cyan => RGBColor(0, 220, 255),
            Colour::Yellow => RGBColor(255, 220, 0),
            Colour::Green => RGBColor(40, 230, 60),
            Colour::Magenta => RGBColor(255, 60, 220),
        }
    }
}

/// Something drawn over an image.
#[derive(Debug, Clone, PartialEq)]
pub enum Overlay {
    /// An ROI with an optional label.
    Roi {
        /// The ROI.
        roi: Roi,
        /// Colour.
        colour: Colour,
        /// Text drawn beside it.
        label: Option<String>,
    },
    /// A line segment between two pixel positions.
    Line {
        /// Start `(x, y)`.
        from: (f64, f64),
        /// End `(x, y)`.
        to: (f64, f64),
        /// Colour.
        colour: Colour,
        /// Text drawn at its end.
        label: Option<String>,
    },
    /// A cross marking a point.
    Marker {
        /// Position `(x, y)`.
        at: (f64, f64),
        /// Colour.
        colour: Colour,
    },
    /// A closed polygon.
    Outline {
        /// Vertices `(x, y)`.
        points: Vec<(f64, f64)>,
        /// Colour.
        colour: Colour,
    },
}

/// One image with its overlays and a title.
#[derive(Debug, Clone)]
pub struct Panel {
    /// The image.
    pub image: Image,
    /// Title above it.
    pub title: String,
    /// What to draw on it.
    pub overlays: Vec<Overlay>,
    /// Grey-level window `(black, white)`; `None` for the 0.5-99.5 % quantiles.
    pub window: Option<(f64, f64)>,
}

const TITLE_H: u32 = 28;
const GAP: u32 = 10;

/// Renders `panels` side by side and returns PNG bytes; `figure` names it in errors.
pub fn render_png(panels: &[Panel], figure: &str) -> Result<Vec<u8>> {
    if panels.is_empty() {
        return Err(Error::Plot {
            figure: figure.to_string(),
            message: "nothing to draw".into(),
        });
    }
    ensure_font();
    let scale: Vec<u32> = panels
        .iter()
        .map(|p| (512 / p.image.cols().max(p.image.rows()).max(1)).max(1) as u32)
        .collect();
    let sizes: Vec<(u32, u32)> = panels
        .iter()
        .zip(&scale)
        .map(|(p, &s)| (p.image.cols() as u32 * s, p.image.rows() as u32 * s))
        .collect();
    let width = sizes.iter().map(|s| s.0).sum::<u32>() + GAP * (panels.len() as u32 + 1);
    let height = sizes.iter().map(|s| s.1).max().unwrap_or(1) + TITLE_H + GAP;
    let mut buf = vec![0u8; width as usize * height as usize * 3];

    // Grey images first, straight into the buffer.
    let mut ox = GAP;
    let mut origins = Vec::with_capacity(panels.len());
    for ((p, &s), &(w, h)) in panels.iter().zip(&scale).zip(&sizes) {
        let (lo, hi) = p
            .window
            .unwrap_or_else(|| (p.image.quantile(0.005), p.image.quantile(0.995)));
        let hi = hi.max(lo + f64::EPSILON);
        for cy in 0..h {
            for cx in 0..w {
                let v = p.image.at((cx / s) as usize, (cy / s) as usize);
                let g = (((v - lo) / (hi - lo)).clamp(0.0, 1.0) * 255.0).round() as u8;
                let i = (((cy + TITLE_H) * width + ox + cx) * 3) as usize;
                buf[i..i + 3].copy_from_slice(&[g, g, g]);
            }
        }
        origins.push(ox);
        ox += w + GAP;
    }
    let plot_err = |e: &dyn std::fmt::Display| Error::Plot {
        figure: figure.to_string(),
        message: e.to_string(),
    };
    {
        let root = BitMapBackend::with_buffer(&mut buf, (width, height)).into_drawing_area();
        for ((p, &s), &ox) in panels.iter().zip(&scale).zip(&origins) {
            let s = s as f64;
            let map = |(x, y): (f64, f64)| -> (i32, i32) {
                (
                    (ox as f64 + (x + 0.5) * s).round() as i32,
                    (TITLE_H as f64 + (y + 0.5) * s).round() as i32,
                )
            };
            root.draw(&Text::new(
                p.title.clone(),
                (ox as i32, 6),
                (FONT, 16).into_font().color(&WHITE),
            ))
            .map_err(|e| plot_err(&e))?;
            for o in &p.overlays {
                match o {
                    Overlay::Roi { roi, colour, label } => {
                        let style = colour.rgb().stroke_width(2);
                        let label_at = match *roi {
                            Roi::Rect {
                                x0,
                                y0,
                                width,
                                height,
                            } => {
                                let a = map((x0 as f64 - 0.5, y0 as f64 - 0.5));
                                let b =
                                    map(((x0 + width) as f64 - 0.5, (y0 + height) as f64 - 0.5));
                                root.draw(&Rectangle::new([a, b], style))
                                    .map_err(|e| plot_err(&e))?;
                                // Beside the rectangle, or inside it where that would leave
                                // the panel (about 7 px per character).
                                let text_w = 7 * label.as_ref().map_or(0, |l| l.len()) as i32;
                                let right = ox as i32 + (p.image.cols() as f64 * s) as i32;
                                if b.0 + 3 + text_w > right {
                                    (a.0 + 3, a.1 + 2)
                                } else {
                                    (b.0 + 3, a.1)
                                }
                            }
                            Roi::Circle { cx, cy, r } => {
                                let pts = ellipse_points(cx, cy, r, r, &map);
                                root.draw(&PathElement::new(pts, style))
                                    .map_err(|e| plot_err(&e))?;
                                map((cx + r * 0.75, cy - r * 0.75))
                            }
                            Roi::Ellipse { cx, cy, rx, ry } => {
                                let pts = ellipse_points(cx, cy, rx, ry, &map);
                                root.draw(&PathElement::new(pts, style))
                                    .map_err(|e| plot_err(&e))?;
                                map((cx + rx * 0.7, cy - ry * 0.7))
                            }
                        };
                        if let Some(l) = label {
                            root.draw(&Text::new(
                                l.clone(),
                                label_at,
                                (FONT, 13).into_font().color(&colour.rgb()),
                            ))
                            .map_err(|e| plot_err(&e))?;
                        }
                    }
                    Overlay::Line {
                        from,
                        to,
                        colour,
                        label,
                    } => {
                        let (a, b) = (map(*from), map(*to));
                        root.draw(&PathElement::new(vec![a, b], colour.rgb().stroke_width(2)))
                            .map_err(|e| plot_err(&e))?;
                        if let Some(l) = label {
                            root.draw(&Text::new(
                                l.clone(),
                                (b.0 + 3, b.1 - 14),
                                (FONT, 13).into_font().color(&colour.rgb()),
                            ))
                            .map_err(|e| plot_err(&e))?;
                        }
                    }
                    Overlay::Marker { at, colour } => {
                        let (x, y) = map(*at);
                        for seg in [[(x - 6, y), (x + 6, y)], [(x, y - 6), (x, y + 6)]] {
                            root.draw(&PathElement::new(
                                seg.to_vec(),
                                colour.rgb().stroke_width(2),
                            ))
                            .map_err(|e| plot_err(&e))?;
                        }
                    }
                    Overlay::Outline { points, colour } => {
                        if points.len() >= 2 {
                            let mut pts: Vec<(i32, i32)> = points.iter().map(|&p| map(p)).collect();
                            pts.push(pts[0]);
                            root.draw(&PathElement::new(pts, colour.rgb().stroke_width(1)))
                                .map_err(|e| plot_err(&e))?;
                        }
                    }
                }
            }
        }
        root.present().map_err(|e| plot_err(&e))?;
    }
    encode_png(&buf, width, height, figure)
}

fn ellipse_points(
    cx: f64,
    cy: f64,
    rx: f64,
    ry: f64,
    map: &dyn Fn((f64, f64)) -> (i32, i32),
) -> Vec<(i32, i32)> {
    (0..=96)
        .map(|k| {
            let t = 2.0 * std::f64::consts::PI * k as f64 / 96.0;
            map((cx + rx * t.cos(), cy + ry * t.sin()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qa::phantom::tests::disc;

    #[test]
    fn draws_rois_in_colour_over_the_grey_image() {
        let img = disc(128, 64.0, 64.0, 40.0, 100.0, 0.0);
        let panel = Panel {
            image: img,
            title: "test".into(),
            overlays: vec![
                Overlay::Roi {
                    roi: Roi::Rect {
                        x0: 54,
                        y0: 54,
                        width: 20,
                        height: 20,
                    },
                    colour: Colour::Red,
                    label: Some("1".into()),
                },
                Overlay::Roi {
                    roi: Roi::Ellipse {
                        cx: 10.0,
                        cy: 64.0,
                        rx: 4.0,
                        ry: 20.0,
                    },
                    colour: Colour::Cyan,
                    label: None,
                },
                Overlay::Marker {
                    at: (64.0, 64.0),
                    colour: Colour::Yellow,
                },
            ],
            window: None,
        };
        let png = render_png(&[panel.clone(), panel], "t.png").unwrap();
        assert_eq!(&png[1..4], b"PNG");
        let decoded = image::load_from_memory(&png).unwrap().to_rgb8();
        // Magnified 4x: 2 x 512 + 3 gaps wide.
        assert_eq!(decoded.width(), 2 * 512 + 3 * GAP);
        assert!(
            decoded.pixels().any(|p| p.0 == [255, 40, 40]),
            "no red ROI pixels"
        );
    }
}
