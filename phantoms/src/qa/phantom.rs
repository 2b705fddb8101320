//! Finding the phantom in an image, the same way for every vendor: an Otsu threshold splits
//! object from background; the edge level is half-way between the background and object means
//! (the ACR "half the mean signal" convention); the largest connected object region, holes
//! filled, gives a centroid; 720 rays cast from the image border towards that centroid find the
//! outer edge with sub-pixel interpolation; a least-squares circle (Kasa fit) through those edge
//! points, refitted after trimming outliers (the filling stem, air bubbles, notches), gives the
//! centre and radius; their convex hull is the phantom outline that geometry measures.
//!
//! hazen finds the ACR phantom with OpenCV's Hough circle transform on a Laplacian image; this
//! method has no accumulator resolution or vote threshold to tune and yields sub-pixel
//! estimates. On the six ACR series of the reference set the two centres agree within about a
//! pixel (see `phantoms/README.md`).

use serde::Serialize;

use super::image::Image;
use crate::{Error, Result};

/// Number of rays used to trace the outer edge.
const RAYS: usize = 720;
/// Step along a ray, in pixels.
const RAY_STEP: f64 = 0.25;

/// Where the phantom is and what its signal levels are.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PhantomOutline {
    /// Centre of the fitted circle `(x, y)` in pixels.
    pub centre: (f64, f64),
    /// Radius of the fitted circle in pixels.
    pub radius_px: f64,
    /// Root-mean-square distance of the kept edge points from the circle, in pixels.
    pub fit_rms_px: f64,
    /// Centroid `(x, y)` of the object region (holes filled), in pixels.
    pub centroid: (f64, f64),
    /// Area of the object region (holes filled) in pixels.
    pub area_px: usize,
    /// Mean of the object pixels (above the Otsu threshold).
    pub signal: f64,
    /// Mean of the background pixels (below the Otsu threshold).
    pub background: f64,
    /// Edge level: half-way between `background` and `signal`.
    pub edge_level: f64,
    /// Whether the object touches the image border somewhere.
    pub touches_border: bool,
    /// Sub-pixel outer edge points `(x, y)`, one per ray that found an edge.
    #[serde(skip)]
    pub edge_points: Vec<(f64, f64)>,
    /// Convex hull of the edge points, counter-clockwise in image coordinates.
    #[serde(skip)]
    pub hull: Vec<(f64, f64)>,
}

impl PhantomOutline {
    /// Bounding box `(x_min, y_min, x_max, y_max)` of the outline (the hull), in pixels.
    pub fn extent(&self) -> (f64, f64, f64, f64) {
        self.hull.iter().fold(
            (
                f64::INFINITY,
                f64::INFINITY,
                f64::NEG_INFINITY,
                f64::NEG_INFINITY,
            ),
            |(a, b, c, d), &(x, y)| (a.min(x), b.min(y), c.max(x), d.max(y)),
        )
    }

    /// The two points where the line through `through` with direction `dir` crosses the
    /// outline (hull), ordered along `dir`; `None` if it misses.
    pub fn chord(&self, through: (f64, f64), dir: (f64, f64)) -> Option<((f64, f64), (f64, f64))> {
        let n = self.hull.len();
        if n < 3 {
            return None;
        }
        let (mut tmin, mut tmax) = (f64::INFINITY, f64::NEG_INFINITY);
        for i in 0..n {
            let (a, b) = (self.hull[i], self.hull[(i + 1) % n]);
            let e = (b.0 - a.0, b.1 - a.1);
            let den = dir.0 * e.1 - dir.1 * e.0;
            if den.abs() < 1e-12 {
                continue;
            }
            let w = (a.0 - through.0, a.1 - through.1);
            let t = (w.0 * e.1 - w.1 * e.0) / den; // along dir
            let u = (w.0 * dir.1 - w.1 * dir.0) / den; // along the edge
            if (-1e-9..=1.0 + 1e-9).contains(&u) {
                tmin = tmin.min(t);
                tmax = tmax.max(t);
            }
        }
        if !(tmin.is_finite() && tmax.is_finite()) || tmax - tmin < 1e-9 {
            return None;
        }
        let p = |t: f64| (through.0 + t * dir.0, through.1 + t * dir.1);
        Some((p(tmin), p(tmax)))
    }
}

/// Finds the phantom (the largest bright object) in `img`.
pub fn detect_phantom(img: &Image) -> Result<PhantomOutline> {
    let fail = |message: String| Error::Invalid {
        what: "phantom detection".to_string(),
        message,
    };
    let otsu = otsu_threshold(img.data())
        .ok_or_else(|| fail("the image has a single grey level: no object to find".into()))?;
    let (mut s, mut ns, mut b, mut nb) = (0.0, 0usize, 0.0, 0usize);
    for &v in img.data() {
        if v > otsu {
            s += v;
            ns += 1;
        } else {
            b += v;
            nb += 1;
        }
    }
    if ns == 0 || nb == 0 {
        return Err(fail("no object separates from the background".into()));
    }
    let (signal, background) = (s / ns as f64, b / nb as f64);
    let edge_level = background + 0.5 * (signal - background);

    let (cols, rows) = (img.cols(), img.rows());
    let above: Vec<bool> = img.data().iter().map(|&v| v > edge_level).collect();
    let object = phantom_region(&above, cols, rows);
    let filled = fill_holes(&object, cols, rows);
    let area_px = filled.iter().filter(|&&f| f).count();
    if area_px < 50 || area_px * 200 < cols * rows {
        return Err(fail(format!(
            "the largest object covers {area_px} pixels of {}: no phantom found",
            cols * rows
        )));
    }
    let touches_border = (0..cols).any(|x| filled[x] || filled[(rows - 1) * cols + x])
        || (0..rows).any(|y| filled[y * cols] || filled[y * cols + cols - 1]);
    let (mut sx, mut sy) = (0.0, 0.0);
    for (i, _) in filled.iter().enumerate().filter(|(_, f)| **f) {
        sx += (i % cols) as f64;
        sy += (i / cols) as f64;
    }
    let centroid = (sx / area_px as f64, sy / area_px as f64);

    let (edge_points, clipped) = trace_edge(img, centroid, edge_level, &filled);
    let fit_points: Vec<(f64, f64)> = edge_points
        .iter()
        .zip(&clipped)
        .filter(|(_, c)| !**c)
        .map(|(p, _)| *p)
        .collect();
    if fit_points.len() < RAYS / 4 {
        return Err(fail(format!(
            "only {} of {RAYS} rays found the object's edge inside the image",
            fit_points.len()
        )));
    }
    let (centre, radius_px, fit_rms_px) = robust_circle_fit(&fit_points)
        .ok_or_else(|| fail("the edge points do not determine a circle".into()))?;
    let hull = convex_hull(&edge_points);
    Ok(PhantomOutline {
        centre,
        radius_px,
        fit_rms_px,
        centroid,
        area_px,
        signal,
        background,
        edge_level,
        touches_border,
        edge_points,
        hull,
    })
}

/// Otsu's threshold over a 1024-bin histogram; `None` for a constant image.
pub fn otsu_threshold(values: &[f64]) -> Option<f64> {
    let (lo, hi) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    if hi <= lo {
        return None;
    }
    const BINS: usize = 1024;
    let width = (hi - lo) / BINS as f64;
    let mut hist = [0usize; BINS];
    for &v in values {
        hist[(((v - lo) / width) as usize).min(BINS - 1)] += 1;
    }
    let total = values.len() as f64;
    let centre = |i: usize| lo + (i as f64 + 0.5) * width;
    let sum_all: f64 = hist
        .iter()
        .enumerate()
        .map(|(i, &h)| h as f64 * centre(i))
        .sum();
    let (mut w0, mut sum0, mut best, mut best_i) = (0.0, 0.0, -1.0, 0);
    for (i, &h) in hist.iter().enumerate().take(BINS - 1) {
        w0 += h as f64;
        sum0 += h as f64 * centre(i);
        let w1 = total - w0;
        if w0 == 0.0 || w1 == 0.0 {
            continue;
        }
        let (m0, m1) = (sum0 / w0, (sum_all - sum0) / w1);
        let between = w0 * w1 * (m0 - m1).powi(2);
        if between > best {
            best = between;
            best_i = i;
        }
    }
    Some(lo + (best_i + 1) as f64 * width)
}

/// Regions of `mask` closer than this to the largest one belong to the phantom (pixels).
const ATTACH_PX: i64 = 8;

/// The largest 4-connected region of `mask` together with every other region that comes within
/// [`ATTACH_PX`] pixels of it (water cut off by the filling stem's cross bar lies 5-7 pixels
/// from the main volume; markers and other objects in the field of view lie farther).
fn phantom_region(mask: &[bool], cols: usize, rows: usize) -> Vec<bool> {
    let (label, best) = label_components(mask, cols, rows);
    let main: Vec<bool> = label.iter().map(|&l| l != 0 && l == best).collect();
    let mut attach = std::collections::HashSet::new();
    let r2 = ATTACH_PX * ATTACH_PX;
    for (i, &l) in label.iter().enumerate() {
        if l == 0 || l == best || attach.contains(&l) {
            continue;
        }
        let (x, y) = ((i % cols) as i64, (i / cols) as i64);
        'search: for dy in -ATTACH_PX..=ATTACH_PX {
            for dx in -ATTACH_PX..=ATTACH_PX {
                let (xx, yy) = (x + dx, y + dy);
                if dx * dx + dy * dy > r2
                    || xx < 0
                    || yy < 0
                    || xx >= cols as i64
                    || yy >= rows as i64
                {
                    continue;
                }
                if main[yy as usize * cols + xx as usize] {
                    attach.insert(l);
                    break 'search;
                }
            }
        }
    }
    label
        .iter()
        .map(|&l| l != 0 && (l == best || attach.contains(&l)))
        .collect()
}

/// 4-connected component labels of `mask` (0 = background) and the label of the largest.
fn label_components(mask: &[bool], cols: usize, rows: usize) -> (Vec<u32>, u32) {
    let mut label = vec![0u32; mask.len()];
    let (mut best_label, mut best_size, mut next) = (0u32, 0usize, 0u32);
    let mut stack = Vec::new();
    for start in 0..mask.len() {
        if !mask[start] || label[start] != 0 {
            continue;
        }
        next += 1;
        label[start] = next;
        stack.push(start);
        let mut size = 0;
        while let Some(i) = stack.pop() {
            size += 1;
            for j in neighbours(i, cols, rows) {
                if mask[j] && label[j] == 0 {
                    label[j] = next;
                    stack.push(j);
                }
            }
        }
        if size > best_size {
            best_size = size;
            best_label = next;
        }
    }
    (label, best_label)
}

/// `mask` with every region not connected to the image border set.
fn fill_holes(mask: &[bool], cols: usize, rows: usize) -> Vec<bool> {
    let mut outside = vec![false; mask.len()];
    let mut stack: Vec<usize> = (0..mask.len())
        .filter(|&i| {
            let (x, y) = (i % cols, i / cols);
            (x == 0 || y == 0 || x == cols - 1 || y == rows - 1) && !mask[i]
        })
        .collect();
    for &i in &stack {
        outside[i] = true;
    }
    while let Some(i) = stack.pop() {
        for j in neighbours(i, cols, rows) {
            if !mask[j] && !outside[j] {
                outside[j] = true;
                stack.push(j);
            }
        }
    }
    outside.iter().map(|&o| !o).collect()
}

fn neighbours(i: usize, cols: usize, rows: usize) -> impl Iterator<Item = usize> {
    let (x, y) = (i % cols, i / cols);
    [
        (x > 0).then(|| i - 1),
        (x + 1 < cols).then(|| i + 1),
        (y > 0).then(|| i - cols),
        (y + 1 < rows).then(|| i + cols),
    ]
    .into_iter()
    .flatten()
}

/// Casts rays from the image border towards `centre`; returns the first crossing of `level`
/// into the object region `object` on each ray (sub-pixel; other bright objects in the field
/// of view are passed over) and whether it was already above `level` at the border.
fn trace_edge(
    img: &Image,
    centre: (f64, f64),
    level: f64,
    object: &[bool],
) -> (Vec<(f64, f64)>, Vec<bool>) {
    let (cols, rows) = (img.cols(), img.rows());
    // Inside or touching the object: any of the four pixels around (x, y) belongs to it.
    let in_object = |x: f64, y: f64| {
        let (x0, y0) = (x.floor() as usize, y.floor() as usize);
        let (x1, y1) = ((x0 + 1).min(cols - 1), (y0 + 1).min(rows - 1));
        object[y0 * cols + x0]
            || object[y0 * cols + x1]
            || object[y1 * cols + x0]
            || object[y1 * cols + x1]
    };
    let (w, h) = ((img.cols() - 1) as f64, (img.rows() - 1) as f64);
    let mut points = Vec::with_capacity(RAYS);
    let mut clipped = Vec::with_capacity(RAYS);
    for k in 0..RAYS {
        let theta = 2.0 * std::f64::consts::PI * k as f64 / RAYS as f64;
        let (ux, uy) = (theta.cos(), theta.sin());
        // Distance from the centre to the image border along the ray.
        let mut s_max = f64::INFINITY;
        for (u, c, lim) in [(ux, centre.0, w), (uy, centre.1, h)] {
            if u > 1e-12 {
                s_max = s_max.min((lim - c) / u);
            } else if u < -1e-12 {
                s_max = s_max.min(-c / u);
            }
        }
        if !(s_max.is_finite() && s_max > 0.0) {
            continue;
        }
        let at = |s: f64| {
            let (x, y) = (centre.0 + s * ux, centre.1 + s * uy);
            img.bilinear(x, y).map(|v| (v, in_object(x, y)))
        };
        let mut prev: Option<(f64, f64)> = None;
        let mut s = s_max;
        while s >= 0.0 {
            if let Some((v, inside)) = at(s) {
                if v > level && inside {
                    let s_edge = match prev {
                        Some((sp, vp)) => sp - (level - vp) / (v - vp) * (sp - s),
                        None => s,
                    };
                    points.push((centre.0 + s_edge * ux, centre.1 + s_edge * uy));
                    clipped.push(prev.is_none());
                    break;
                }
                prev = Some((s, v.min(level)));
            }
            s -= RAY_STEP;
        }
    }
    (points, clipped)
}

/// Algebraic (Kasa) least-squares circle: `(centre, radius)`.
pub fn fit_circle(points: &[(f64, f64)]) -> Option<((f64, f64), f64)> {
    if points.len() < 3 {
        return None;
    }
    // Centre the coordinates for conditioning.
    let n = points.len() as f64;
    let (mx, my) = points
        .iter()
        .fold((0.0, 0.0), |(a, b), &(x, y)| (a + x / n, b + y / n));
    // Solve [sxx sxy sx; sxy syy sy; sx sy n] [D E F]' = -[sxz syz sz] with z = x^2 + y^2.
    let mut m = [[0.0f64; 4]; 3];
    for &(x, y) in points {
        let (x, y) = (x - mx, y - my);
        let z = x * x + y * y;
        let row = [x, y, 1.0];
        for i in 0..3 {
            for j in 0..3 {
                m[i][j] += row[i] * row[j];
            }
            m[i][3] -= row[i] * z;
        }
    }
    // Gaussian elimination with partial pivoting.
    for c in 0..3 {
        let p = (c..3).max_by(|&a, &b| m[a][c].abs().total_cmp(&m[b][c].abs()))?;
        m.swap(c, p);
        if m[c][c].abs() < 1e-12 {
            return None;
        }
        let pivot = m[c];
        for (r, row) in m.iter_mut().enumerate() {
            if r != c {
                let f = row[c] / pivot[c];
                for (x, p) in row.iter_mut().zip(pivot.iter()).skip(c) {
                    *x -= f * p;
                }
            }
        }
    }
    let (d, e, f) = (m[0][3] / m[0][0], m[1][3] / m[1][1], m[2][3] / m[2][2]);
    let (cx, cy) = (-d / 2.0, -e / 2.0);
    let r2 = cx * cx + cy * cy - f;
    (r2 > 0.0).then(|| ((cx + mx, cy + my), r2.sqrt()))
}

/// Circle fit refitted three times after dropping points farther than
/// `max(1 px, 3 * 1.4826 * MAD)` from the circle; returns `(centre, radius, rms)`.
fn robust_circle_fit(points: &[(f64, f64)]) -> Option<((f64, f64), f64, f64)> {
    let (mut c, mut r) = fit_circle(points)?;
    let mut kept: Vec<(f64, f64)> = points.to_vec();
    for _ in 0..3 {
        let dist = |p: &(f64, f64)| ((p.0 - c.0).hypot(p.1 - c.1) - r).abs();
        let mut d: Vec<f64> = points.iter().map(dist).collect();
        d.sort_by(f64::total_cmp);
        let mad = d[d.len() / 2];
        let cut = (3.0 * 1.4826 * mad).max(1.0);
        kept = points.iter().filter(|p| dist(p) <= cut).copied().collect();
        let (c2, r2) = fit_circle(&kept)?;
        c = c2;
        r = r2;
    }
    let rms = (kept
        .iter()
        .map(|p| ((p.0 - c.0).hypot(p.1 - c.1) - r).powi(2))
        .sum::<f64>()
        / kept.len() as f64)
        .sqrt();
    Some((c, r, rms))
}

/// Convex hull (Andrew's monotone chain), counter-clockwise, no repeated end point.
pub fn convex_hull(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut p = points.to_vec();
    p.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    p.dedup();
    if p.len() < 3 {
        return p;
    }
    let cross = |o: (f64, f64), a: (f64, f64), b: (f64, f64)| {
        (a.0 - o.0) * (b.1 - o.1) - (a.1 - o.1) * (b.0 - o.0)
    };
    let mut hull: Vec<(f64, f64)> = Vec::with_capacity(2 * p.len());
    for pass in 0..2 {
        let start = hull.len();
        let iter: Box<dyn Iterator<Item = &(f64, f64)>> = if pass == 0 {
            Box::new(p.iter())
        } else {
            Box::new(p.iter().rev())
        };
        for &q in iter {
            while hull.len() >= start + 2
                && cross(hull[hull.len() - 2], hull[hull.len() - 1], q) <= 0.0
            {
                hull.pop();
            }
            hull.push(q);
        }
        hull.pop();
    }
    hull
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::qa::image::Spacing;

    /// A disc of `radius` pixels centred at `(cx, cy)`, anti-aliased by 4x4 supersampling.
    pub(crate) fn disc(
        size: usize,
        cx: f64,
        cy: f64,
        radius: f64,
        inside: f64,
        outside: f64,
    ) -> Image {
        let mut data = vec![0.0; size * size];
        for y in 0..size {
            for x in 0..size {
                let mut hit = 0;
                for sy in 0..4 {
                    for sx in 0..4 {
                        let (px, py) = (
                            x as f64 - 0.375 + 0.25 * sx as f64,
                            y as f64 - 0.375 + 0.25 * sy as f64,
                        );
                        if (px - cx).powi(2) + (py - cy).powi(2) <= radius * radius {
                            hit += 1;
                        }
                    }
                }
                let f = hit as f64 / 16.0;
                data[y * size + x] = outside + f * (inside - outside);
            }
        }
        Image::new(size, size, data, Spacing::square(1.0)).unwrap()
    }

    #[test]
    fn finds_an_off_centre_disc_to_a_tenth_of_a_pixel() {
        let img = disc(200, 91.3, 110.6, 70.2, 1000.0, 10.0);
        let o = detect_phantom(&img).unwrap();
        assert!(
            (o.centre.0 - 91.3).abs() < 0.1 && (o.centre.1 - 110.6).abs() < 0.1,
            "{o:?}"
        );
        assert!((o.radius_px - 70.2).abs() < 0.1, "{}", o.radius_px);
        assert!(!o.touches_border);
    }

    #[test]
    fn a_notch_at_the_edge_does_not_move_the_centre_and_the_hull_bridges_it() {
        let mut img = disc(200, 100.0, 100.0, 80.0, 1000.0, 0.0);
        let mut data = img.data().to_vec();
        for y in 15..40 {
            for x in 94..106 {
                data[y * 200 + x] = 0.0; // dark stem reaching the edge
            }
        }
        img = Image::new(200, 200, data, Spacing::square(1.0)).unwrap();
        let o = detect_phantom(&img).unwrap();
        assert!(
            (o.centre.0 - 100.0).abs() < 0.15 && (o.centre.1 - 100.0).abs() < 0.15,
            "{o:?}"
        );
        let (a, b) = o.chord((100.0, 100.0), (0.0, 1.0)).unwrap();
        assert!((b.1 - a.1 - 160.0).abs() < 0.6, "{a:?} {b:?}");
    }

    #[test]
    fn a_marker_outside_the_phantom_is_ignored_but_water_beyond_the_stem_is_kept() {
        let base = disc(200, 100.0, 100.0, 80.0, 1000.0, 0.0);
        let mut data = base.data().to_vec();
        for y in 2..5 {
            for x in 150..153 {
                data[y * 200 + x] = 1500.0; // a marker far outside
            }
        }
        // A dark cross bar 5 px below the top edge, cutting off a thin layer of water.
        for y in 25..30 {
            for x in 70..130 {
                data[y * 200 + x] = 0.0;
            }
        }
        let img = Image::new(200, 200, data, Spacing::square(1.0)).unwrap();
        let o = detect_phantom(&img).unwrap();
        let (a, b) = o.chord((100.0, 100.0), (0.0, 1.0)).unwrap();
        assert!((b.1 - a.1 - 160.0).abs() < 0.6, "{a:?} {b:?}");
        assert!(o.extent().1 > 19.0, "{:?}", o.extent());
    }

    #[test]
    fn a_blank_image_is_an_error_not_a_panic() {
        let img = Image::new(10, 10, vec![3.0; 100], Spacing::square(1.0)).unwrap();
        let e = detect_phantom(&img).unwrap_err().to_string();
        assert!(e.contains("single grey level"), "{e}");
    }

    #[test]
    fn hull_of_a_square_with_an_inner_point() {
        let h = convex_hull(&[(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0), (0.5, 0.5)]);
        assert_eq!(h.len(), 4);
    }
}
