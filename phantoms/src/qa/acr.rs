//! Which ACR slice (1-11) each image of an ACR large-phantom series is. Images are ordered by
//! position along the slice normal; the end that holds slice 1 is the one showing its
//! signature, the thin dark bar of the slice-thickness ramps that crosses almost the whole
//! phantom (no other ACR slice has a dark line across more than half the phantom's width).
//! A full 11-image series is then numbered in order; a subset (e.g. only slices 1, 5 and 7) is
//! numbered by its distance from slice 1 in units of the protocol's 10 mm slice spacing. When
//! slice 1 is not among the images, Instance Numbers 1-11 are used if they agree with the
//! positions.

use super::image::Image;
use super::phantom::{PhantomOutline, detect_phantom};
use crate::{Error, Result};

/// Slices in the ACR axial series.
pub const SLICES: usize = 11;
/// Centre-to-centre slice spacing of the ACR axial series in mm (5 mm slices, 5 mm gaps).
pub const SLICE_SPACING_MM: f64 = 10.0;

/// What is known about one image of the series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SliceKey {
    /// Position along the slice normal in mm.
    pub position_mm: Option<f64>,
    /// DICOM Instance Number.
    pub instance_number: Option<i64>,
}

/// The slice-1 bar test: `(longest, band_mm)` where `longest` is the largest fraction of the
/// phantom's diameter that is dark in one row (rows within 60 % of the radius from the centre)
/// and `band_mm` the height of the rows that are dark over more than 60 % of it. ACR slice 1:
/// about 0.9 over 5-10 mm; slice 5's grid block is dark over ~70 % but ~130 mm high.
pub fn dark_bar(img: &Image, phantom: &PhantomOutline) -> (f64, f64) {
    let (cx, cy) = phantom.centre;
    let r = phantom.radius_px;
    let (mut best, mut rows_over): (f64, usize) = (0.0, 0);
    let y0 = (cy - 0.6 * r).ceil().max(0.0) as usize;
    let y1 = (cy + 0.6 * r).floor().min((img.rows() - 1) as f64) as usize;
    for y in y0..=y1 {
        let half = (r * r - (y as f64 - cy).powi(2)).max(0.0).sqrt() * 0.95;
        let xa = (cx - half).ceil().max(0.0) as usize;
        let xb = (cx + half).floor().min((img.cols() - 1) as f64) as usize;
        if xb <= xa {
            continue;
        }
        let dark = (xa..=xb)
            .filter(|&x| img.at(x, y) < phantom.edge_level)
            .count();
        let fraction = dark as f64 / (2.0 * r);
        best = best.max(fraction);
        if fraction > 0.6 {
            rows_over += 1;
        }
    }
    (best, rows_over as f64 * img.dy())
}

/// Whether `img` looks like ACR slice 1 (see [`dark_bar`]).
pub fn is_slice_one(img: &Image) -> bool {
    detect_phantom(img)
        .map(|p| {
            let (longest, band_mm) = dark_bar(img, &p);
            longest > 0.75 && (1.5..=20.0).contains(&band_mm)
        })
        .unwrap_or(false)
}

/// The ACR slice number (1-11) of each image, in input order. `images[i]` belongs to `keys[i]`.
pub fn number_slices(keys: &[SliceKey], images: &[&Image]) -> Result<Vec<usize>> {
    let fail = |message: String| Error::Invalid {
        what: "ACR slice numbering".into(),
        message,
    };
    let n = keys.len();
    if n == 0 || n != images.len() {
        return Err(fail(format!("{n} slice keys for {} images", images.len())));
    }
    if n > SLICES {
        return Err(fail(format!(
            "{n} images in one series; the ACR axial series has {SLICES} (a multi-echo series? \
             give one echo's images)"
        )));
    }
    let positions: Option<Vec<f64>> = keys.iter().map(|k| k.position_mm).collect();
    let Some(positions) = positions else {
        return by_instance(keys, None)
            .ok_or_else(|| fail("images have neither positions nor Instance Numbers 1-11".into()));
    };
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| positions[a].total_cmp(&positions[b]));
    for w in order.windows(2) {
        if (positions[w[1]] - positions[w[0]]).abs() < 0.5 {
            return Err(fail(format!(
                "two images at the same slice position ({:.1} mm): a repeated or multi-echo \
                 acquisition? give one image per slice",
                positions[w[0]]
            )));
        }
    }
    let (first, last) = (order[0], order[n - 1]);
    let one_first = is_slice_one(images[first]);
    let one_last = n > 1 && is_slice_one(images[last]);
    let anchor = match (one_first, one_last) {
        (true, false) => Some(first),
        (false, true) => Some(last),
        _ => None,
    };
    if let Some(a) = anchor {
        if n == SLICES {
            let mut numbers = vec![0; n];
            let ranked: Vec<usize> = if a == first {
                order.clone()
            } else {
                order.iter().rev().copied().collect()
            };
            for (rank, &i) in ranked.iter().enumerate() {
                numbers[i] = rank + 1;
            }
            return Ok(numbers);
        }
        let mut numbers = Vec::with_capacity(n);
        for &p in &positions {
            let steps = (p - positions[a]).abs() / SLICE_SPACING_MM;
            let k = steps.round();
            if (steps - k).abs() * SLICE_SPACING_MM > 2.5 || k as usize >= SLICES {
                return Err(fail(format!(
                    "an image lies {:.1} mm from slice 1, not a multiple of the ACR slice \
                     spacing ({SLICE_SPACING_MM} mm) within 11 slices",
                    (p - positions[a]).abs()
                )));
            }
            numbers.push(k as usize + 1);
        }
        return Ok(numbers);
    }
    if n == 1 {
        return Err(fail(
            "a single image that is not slice 1: cannot tell which ACR slice it is".into(),
        ));
    }
    by_instance(keys, Some(&positions)).ok_or_else(|| {
        fail(
            "slice 1 is not among the images and their Instance Numbers are not ACR slice \
             numbers consistent with the 10 mm spacing: give the whole 11-slice series"
                .into(),
        )
    })
}

/// Instance Numbers as slice numbers, when they are 1-11, distinct and (with positions)
/// 10 mm apart per step.
fn by_instance(keys: &[SliceKey], positions: Option<&[f64]>) -> Option<Vec<usize>> {
    let numbers: Vec<usize> = keys
        .iter()
        .map(|k| {
            k.instance_number
                .filter(|i| (1..=SLICES as i64).contains(i))
                .map(|i| i as usize)
        })
        .collect::<Option<_>>()?;
    let mut sorted = numbers.clone();
    sorted.sort();
    sorted.dedup();
    if sorted.len() != numbers.len() {
        return None;
    }
    if let Some(p) = positions {
        for i in 1..numbers.len() {
            let want = (numbers[i] as f64 - numbers[0] as f64).abs() * SLICE_SPACING_MM;
            if ((p[i] - p[0]).abs() - want).abs() > 2.5 {
                return None;
            }
        }
    }
    Some(numbers)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qa::image::Spacing;
    use crate::qa::phantom::tests::disc;

    fn slice_one() -> Image {
        let base = disc(256, 128.0, 128.0, 97.0, 1000.0, 0.0);
        let mut d = base.data().to_vec();
        for y in 100..108 {
            for x in 45..211 {
                d[y * 256 + x] = 0.0;
            }
        }
        Image::new(256, 256, d, Spacing::square(1.0)).unwrap()
    }

    fn key(p: f64, i: i64) -> SliceKey {
        SliceKey {
            position_mm: Some(p),
            instance_number: Some(i),
        }
    }

    #[test]
    fn slice_one_is_recognised_by_its_thin_bar_and_a_large_block_is_not() {
        assert!(is_slice_one(&slice_one()));
        assert!(!is_slice_one(&disc(256, 128.0, 128.0, 97.0, 1000.0, 0.0)));
        let base = disc(256, 128.0, 128.0, 97.0, 1000.0, 0.0);
        let mut d = base.data().to_vec();
        for y in 75..181 {
            for x in 53..203 {
                d[y * 256 + x] = 0.0;
            }
        }
        let block = Image::new(256, 256, d, Spacing::square(1.0)).unwrap();
        let p = detect_phantom(&block).unwrap();
        let (longest, band_mm) = dark_bar(&block, &p);
        assert!(longest > 0.75 && band_mm > 100.0, "{longest} {band_mm}");
        assert!(!is_slice_one(&block));
    }

    #[test]
    fn a_subset_is_numbered_from_slice_one_either_way_round() {
        let (one, plain) = (slice_one(), disc(256, 128.0, 128.0, 97.0, 1000.0, 0.0));
        let imgs = [&plain, &one, &plain];
        // Slice 1 at the top (highest position), given out of order, instance numbers useless.
        let keys = [key(20.0, 99), key(60.0, 98), key(0.0, 97)];
        assert_eq!(number_slices(&keys, &imgs).unwrap(), vec![5, 1, 7]);
    }

    #[test]
    fn without_slice_one_instance_numbers_must_agree_with_positions() {
        let plain = disc(256, 128.0, 128.0, 97.0, 1000.0, 0.0);
        let imgs = [&plain, &plain];
        assert_eq!(
            number_slices(&[key(-5.0, 5), key(15.0, 7)], &imgs).unwrap(),
            vec![5, 7]
        );
        let e = number_slices(&[key(-5.0, 5), key(0.0, 7)], &imgs)
            .unwrap_err()
            .to_string();
        assert!(e.contains("give the whole 11-slice series"), "{e}");
        let e = number_slices(&[key(0.0, 5), key(0.0, 6)], &imgs)
            .unwrap_err()
            .to_string();
        assert!(e.contains("same slice position"), "{e}");
    }
}
