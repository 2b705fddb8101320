//! Piecewise-linear gradient waveforms of a whole sequence, one per axis (x, y, z), in Hz/m over
//! absolute time in nanoseconds (as `f64`, exact for the integer and half-integer instants used).
//!
//! Corner points per event: trapezoids give their corners; default-raster arbitrary gradients
//! their samples at raster centres `(i+0.5)·dt` framed by the `first`/`last` edge values at
//! `delay` and `delay + N·dt` (edges from [`Sequence::gradient_edges`], reconstructed for <1.5
//! files as pypulseq does); 2×-oversampled gradients (`time_id −1`) their samples at
//! `(i+1)·dt/2` framed by `first` at `delay` and `last` at `delay + (N+1)·dt/2`; time-shaped
//! gradients (extended trapezoids) their time points, with the file's `first`/`last` (1.5) as
//! the end values. Between events the gradient is 0.
//! Blocks with a ROTATIONS extension have their gradient vector rotated by the (normalised)
//! quaternion at every corner point of the three axes.

use crate::events::Gradient;
use crate::sequence::Sequence;

/// One axis' piecewise-linear waveform: corner times (ns, non-decreasing; a repeated time is a
/// jump) and values (Hz/m). Outside the corner points and between separate events it is 0.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Waveform {
    /// Corner times in ns from the sequence start.
    pub t: Vec<f64>,
    /// Gradient values in Hz/m at the corners.
    pub g: Vec<f64>,
}

impl Waveform {
    /// Number of corner points.
    pub fn n_points(&self) -> usize {
        self.t.len()
    }

    /// Appends one event's corner points, inserting zeros where it does not join the previous.
    fn append(&mut self, pts: &[(f64, f64)]) {
        let Some(&(t0, g0)) = pts.first() else {
            return;
        };
        if let (Some(&tl), Some(&gl)) = (self.t.last(), self.g.last()) {
            if t0 > tl {
                if gl != 0.0 {
                    self.push(tl, 0.0);
                }
                if g0 != 0.0 {
                    self.push(t0, 0.0);
                }
            }
        } else if g0 != 0.0 {
            self.push(t0, 0.0);
        }
        for &(t, g) in pts {
            self.push(t, g);
        }
    }

    fn push(&mut self, t: f64, g: f64) {
        if self.t.last() == Some(&t) && self.g.last() == Some(&g) {
            return;
        }
        self.t.push(t);
        self.g.push(g);
    }

    /// Closes the waveform with a zero if it ends on a non-zero value.
    fn finish(&mut self) {
        if let (Some(&tl), Some(&gl)) = (self.t.last(), self.g.last()) {
            if gl != 0.0 {
                self.t.push(tl);
                self.g.push(0.0);
            }
        }
    }

    /// Trapezoidal integral over the whole waveform in (Hz/m)·s, i.e. 1/m.
    pub fn integral(&self) -> f64 {
        let mut s = 0.0;
        for i in 1..self.t.len() {
            s += (self.t[i] - self.t[i - 1]) * (self.g[i] + self.g[i - 1]) * 0.5;
        }
        s * 1e-9
    }

    /// Largest absolute value (Hz/m).
    pub fn max_abs(&self) -> f64 {
        self.g.iter().fold(0.0, |m, x| m.max(x.abs()))
    }

    /// Value at `t_ns` (linear between corners; at a jump the value after it; 0 outside).
    pub fn eval(&self, t_ns: f64) -> f64 {
        let n = self.t.len();
        let i = self.t.partition_point(|&x| x <= t_ns);
        if i == 0 {
            return 0.0;
        }
        if i == n {
            return if self.t[n - 1] == t_ns {
                self.g[n - 1]
            } else {
                0.0
            };
        }
        let (ta, tb, ga, gb) = (self.t[i - 1], self.t[i], self.g[i - 1], self.g[i]);
        ga + (gb - ga) * (t_ns - ta) / (tb - ta)
    }

    /// Cumulative integrals (1/m) from the start up to each corner point.
    pub fn cumulative(&self) -> Vec<f64> {
        let mut c = Vec::with_capacity(self.t.len());
        let mut s = 0.0;
        for i in 0..self.t.len() {
            if i > 0 {
                s += (self.t[i] - self.t[i - 1]) * (self.g[i] + self.g[i - 1]) * 0.5e-9;
            }
            c.push(s);
        }
        c
    }
}

/// Corner points `(t_ns, Hz/m)` of one gradient event relative to its block start.
fn event_points(seq: &Sequence, g: &Gradient, edges: Option<(f64, f64)>) -> Vec<(f64, f64)> {
    match g {
        Gradient::Trap(t) => {
            let d = t.delay.0 as f64;
            let (r, f, fa) = (t.rise.0 as f64, t.flat.0 as f64, t.fall.0 as f64);
            vec![
                (d, 0.0),
                (d + r, t.amp),
                (d + r + f, t.amp),
                (d + r + f + fa, 0.0),
            ]
        }
        Gradient::Arb(a) => {
            let w = seq
                .shapes
                .get(&a.shape_id)
                .map_or(&[][..], |s| &s.samples[..]);
            let d = a.delay.0 as f64;
            let dt = seq.rasters.grad.0 as f64;
            let (first, last) = edges.unwrap_or((0.0, 0.0));
            let n = w.len() as f64;
            match a.time_id {
                0 => {
                    let mut p = Vec::with_capacity(w.len() + 2);
                    p.push((d, first));
                    p.extend(
                        w.iter()
                            .enumerate()
                            .map(|(i, x)| (d + (i as f64 + 0.5) * dt, a.amp * x)),
                    );
                    p.push((d + n * dt, last));
                    p
                }
                -1 => {
                    let mut p = Vec::with_capacity(w.len() + 2);
                    p.push((d, first));
                    p.extend(
                        w.iter()
                            .enumerate()
                            .map(|(i, x)| (d + (i as f64 + 1.0) * dt * 0.5, a.amp * x)),
                    );
                    p.push((d + (n + 1.0) * dt * 0.5, last));
                    p
                }
                id if id > 0 => {
                    let ts = seq
                        .shapes
                        .get(&(id as u32))
                        .map_or(&[][..], |s| &s.samples[..]);
                    let mut p: Vec<(f64, f64)> = ts
                        .iter()
                        .zip(w)
                        .map(|(t, x)| (d + (t * dt).round(), a.amp * x))
                        .collect();
                    // The file's edge values (1.5) are exact where `amp × shape` carries the
                    // amplitude's 6-digit rounding: a split extended trapezoid then joins its
                    // neighbour without a spurious jump.
                    if let (Some(f), Some(l)) = (a.first, a.last) {
                        if let Some(q) = p.first_mut().filter(|q| q.0 == d) {
                            q.1 = f;
                        }
                        if let Some(q) = p.last_mut() {
                            q.1 = l;
                        }
                    }
                    p
                }
                _ => Vec::new(),
            }
        }
    }
}

/// Evaluates a block-relative polyline at `t` (0 outside it).
fn eval_pts(p: &[(f64, f64)], t: f64) -> f64 {
    let i = p.partition_point(|&(x, _)| x <= t);
    if i == 0 {
        return 0.0;
    }
    if i == p.len() {
        return if p[i - 1].0 == t { p[i - 1].1 } else { 0.0 };
    }
    let ((ta, ga), (tb, gb)) = (p[i - 1], p[i]);
    ga + (gb - ga) * (t - ta) / (tb - ta)
}

/// Rotation matrix of a quaternion `[w, x, y, z]` (normalised here; identity if zero).
pub fn quaternion_matrix(q: [f64; 4]) -> [[f64; 3]; 3] {
    let n = (q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]).sqrt();
    if n == 0.0 || !n.is_finite() {
        return [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
    }
    let (w, x, y, z) = (q[0] / n, q[1] / n, q[2] / n, q[3] / n);
    [
        [
            1.0 - 2.0 * (y * y + z * z),
            2.0 * (x * y - w * z),
            2.0 * (x * z + w * y),
        ],
        [
            2.0 * (x * y + w * z),
            1.0 - 2.0 * (x * x + z * z),
            2.0 * (y * z - w * x),
        ],
        [
            2.0 * (x * z - w * y),
            2.0 * (y * z + w * x),
            1.0 - 2.0 * (x * x + y * y),
        ],
    ]
}

/// The rotation quaternion of a block (ROTATIONS extension), if any.
fn block_rotation(seq: &Sequence, ext: u32) -> Option<[f64; 4]> {
    if ext == 0 || seq.rotations.is_empty() {
        return None;
    }
    seq.extension_list(ext).into_iter().find_map(|node| {
        seq.extension_spec(node.type_id)
            .filter(|s| s.name == "ROTATIONS")
            .and_then(|_| seq.rotations.get(&node.ref_id).copied())
    })
}

/// The gradient waveforms of all blocks, `[x, y, z]`.
pub fn gradient_waveforms(seq: &Sequence) -> [Waveform; 3] {
    let edges = seq.gradient_edges();
    let starts = seq.block_starts();
    let mut out: [Waveform; 3] = Default::default();
    for ((b, s), e) in seq.blocks.iter().zip(&starts).zip(&edges) {
        let t0 = s.0 as f64;
        let mut pts: [Vec<(f64, f64)>; 3] = Default::default();
        for (axis, gid) in [b.gx, b.gy, b.gz].into_iter().enumerate() {
            if let Some(g) = seq.grad.get(&gid) {
                pts[axis] = event_points(seq, g, e[axis]);
            }
        }
        if let Some(q) = block_rotation(seq, b.ext) {
            let m = quaternion_matrix(q);
            let mut ts: Vec<f64> = pts.iter().flatten().map(|p| p.0).collect();
            ts.sort_by(f64::total_cmp);
            ts.dedup();
            let mut rot: [Vec<(f64, f64)>; 3] = Default::default();
            for &t in &ts {
                let v = [0, 1, 2].map(|a| eval_pts(&pts[a], t));
                for (a, r) in rot.iter_mut().enumerate() {
                    let x = m[a][0] * v[0] + m[a][1] * v[1] + m[a][2] * v[2];
                    r.push((t, x));
                }
            }
            // Axes that stay zero throughout carry no event.
            for r in rot.iter_mut() {
                if r.iter().all(|p| p.1 == 0.0) {
                    r.clear();
                }
            }
            pts = rot;
        }
        for (axis, p) in pts.iter().enumerate() {
            let abs: Vec<(f64, f64)> = p.iter().map(|&(t, g)| (t0 + t, g)).collect();
            out[axis].append(&abs);
        }
    }
    for w in out.iter_mut() {
        w.finish();
    }
    out
}
