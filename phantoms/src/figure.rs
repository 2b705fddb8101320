//! Shared figure plumbing: the embedded font (DejaVu Sans, so PNGs render the same on every
//! machine without fontconfig) and encoding of an RGB canvas to PNG bytes.

use std::sync::Once;

use crate::{Error, Result};

/// The font family name figures use; registered once from the embedded DejaVu Sans.
pub const FONT: &str = "sans-serif";

static DEJAVU_SANS: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");
static REGISTER: Once = Once::new();

/// Registers the embedded font with plotters (idempotent); call before drawing text.
pub fn ensure_font() {
    REGISTER.call_once(|| {
        // The font is compiled in and known to be valid; a failure here would be a build defect.
        let _ =
            plotters::style::register_font(FONT, plotters::style::FontStyle::Normal, DEJAVU_SANS);
    });
}

/// Encodes a packed 8-bit RGB buffer (`width * height * 3` bytes) as PNG bytes.
pub fn encode_png(rgb: &[u8], width: u32, height: u32, figure: &str) -> Result<Vec<u8>> {
    let expected = width as usize * height as usize * 3;
    if rgb.len() != expected {
        return Err(Error::Plot {
            figure: figure.to_string(),
            message: format!("RGB buffer has {} bytes, expected {expected}", rgb.len()),
        });
    }
    let mut out = Vec::new();
    {
        let encoder = image::codecs::png::PngEncoder::new(&mut out);
        image::ImageEncoder::write_image(encoder, rgb, width, height, image::ColorType::Rgb8)
            .map_err(|e| Error::Plot {
                figure: figure.to_string(),
                message: e.to_string(),
            })?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use plotters::prelude::*;

    use super::*;

    #[test]
    fn draws_text_with_the_embedded_font_and_encodes_png() {
        ensure_font();
        let (w, h) = (120u32, 40u32);
        let mut buf = vec![0u8; (w * h * 3) as usize];
        {
            let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
            root.fill(&WHITE).unwrap();
            root.draw(&Text::new("ICC 0.95", (5, 10), (FONT, 16).into_font()))
                .unwrap();
            root.present().unwrap();
        }
        // Text drew something dark on the white canvas.
        assert!(buf.chunks(3).any(|p| p[0] < 128), "no text pixels");
        let png = encode_png(&buf, w, h, "t.png").unwrap();
        assert_eq!(&png[1..4], b"PNG");
    }
}
