//! The CPU backend: flat `Vec` buffers, rayon for parallel loops, rustfft for the FFTs.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rayon::prelude::*;
use rustfft::{Fft, FftPlanner};

use super::{Backend, C32, C64, FftDirection};

/// Elements per parallel task of the elementwise kernels (below this, one thread).
const GRAIN: usize = 1 << 14;
/// Columns gathered per tile by the strided-axis FFT.
const TILE: usize = 64;

/// FFT plans by (length, inverse).
type PlanCache = HashMap<(usize, bool), Arc<dyn Fft<f32>>>;

/// The CPU backend (rayon + rustfft). FFT plans are cached per length and direction.
pub struct CpuBackend {
    plans: Mutex<PlanCache>,
    planner: Mutex<FftPlanner<f32>>,
}

impl std::fmt::Debug for CpuBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CpuBackend")
    }
}

impl Default for CpuBackend {
    fn default() -> Self {
        CpuBackend {
            plans: Mutex::new(HashMap::new()),
            planner: Mutex::new(FftPlanner::new()),
        }
    }
}

impl CpuBackend {
    /// A CPU backend using rayon's global thread pool.
    pub fn new() -> Self {
        Self::default()
    }

    fn plan(&self, n: usize, dir: FftDirection) -> Arc<dyn Fft<f32>> {
        let inverse = dir == FftDirection::Inverse;
        let mut plans = self.plans.lock().unwrap_or_else(|e| e.into_inner());
        plans
            .entry((n, inverse))
            .or_insert_with(|| {
                let mut p = self.planner.lock().unwrap_or_else(|e| e.into_inner());
                if inverse {
                    p.plan_fft_inverse(n)
                } else {
                    p.plan_fft_forward(n)
                }
            })
            .clone()
    }

    /// Centred orthonormal FFT of consecutive lines of length `n` in `lines`.
    fn fft_lines(&self, lines: &mut [C32], n: usize, dir: FftDirection) {
        let fft = self.plan(n, dir);
        let scale = 1.0 / (n as f32).sqrt();
        let half = n / 2;
        let per_task = (GRAIN / n).max(1) * n;
        lines.par_chunks_mut(per_task).for_each_init(
            || vec![C32::new(0.0, 0.0); fft.get_inplace_scratch_len()],
            |scratch, chunk| {
                for line in chunk.chunks_exact_mut(n) {
                    line.rotate_left(half); // ifftshift
                }
                fft.process_with_scratch(chunk, scratch);
                for line in chunk.chunks_exact_mut(n) {
                    line.rotate_right(half); // fftshift
                    for v in line.iter_mut() {
                        *v *= scale;
                    }
                }
            },
        );
    }

    /// FFT along the middle axis of `[outer, n, inner]` blocks, one block per task: tiles of
    /// [`TILE`] columns are gathered into contiguous lines, transformed and scattered back,
    /// so no array-sized temporary is needed.
    fn fft_axis_tiled(&self, x: &mut [C32], n: usize, inner: usize, dir: FftDirection) {
        let fft = self.plan(n, dir);
        let scale = 1.0 / (n as f32).sqrt();
        let half = n / 2;
        x.par_chunks_mut(n * inner).for_each_init(
            || {
                (
                    vec![C32::new(0.0, 0.0); TILE * n],
                    vec![C32::new(0.0, 0.0); fft.get_inplace_scratch_len()],
                )
            },
            |(buf, scratch), blk| {
                for j0 in (0..inner).step_by(TILE) {
                    let w = TILE.min(inner - j0);
                    for i in 0..n {
                        // ifftshift on the way in, fftshift on the way out: sample i sits at
                        // position (i − n/2) mod n of the transformed line.
                        let di = (i + n - half) % n;
                        let row = &blk[i * inner + j0..i * inner + j0 + w];
                        for (t, &v) in row.iter().enumerate() {
                            buf[t * n + di] = v;
                        }
                    }
                    fft.process_with_scratch(&mut buf[..w * n], scratch);
                    for i in 0..n {
                        let di = (i + n - half) % n;
                        let row = &mut blk[i * inner + j0..i * inner + j0 + w];
                        for (t, v) in row.iter_mut().enumerate() {
                            *v = buf[t * n + di] * scale;
                        }
                    }
                }
            },
        );
    }

    /// FFT along one axis of a C-order array.
    fn fft_axis(&self, x: &mut [C32], shape: &[usize], axis: usize, dir: FftDirection) {
        let n = shape[axis];
        if n <= 1 {
            return;
        }
        let inner: usize = shape[axis + 1..].iter().product();
        if inner == 1 {
            self.fft_lines(x, n, dir);
            return;
        }
        let block = n * inner;
        if x.len() / block >= rayon::current_num_threads() {
            self.fft_axis_tiled(x, n, inner, dir);
            return;
        }
        // Few blocks (e.g. the first axis of one volume): transpose every [n × inner] block into
        // lines of length n, transform, transpose back.
        let mut t = vec![C32::new(0.0, 0.0); x.len()];
        {
            let src = &*x;
            t.par_chunks_mut(n).enumerate().for_each(|(l, line)| {
                let (o, j) = (l / inner, l % inner);
                let base = o * block + j;
                for (i, v) in line.iter_mut().enumerate() {
                    *v = src[base + i * inner];
                }
            });
        }
        self.fft_lines(&mut t, n, dir);
        x.par_chunks_mut(inner).enumerate().for_each(|(r, row)| {
            let (o, i) = (r / n, r % n);
            let base = o * block;
            for (j, v) in row.iter_mut().enumerate() {
                *v = t[base + j * n + i];
            }
        });
    }
}

fn zip_mut(y: &mut [C32], x: &[C32], f: impl Fn(&mut C32, C32) + Sync + Send) {
    assert_eq!(y.len(), x.len(), "buffer lengths differ");
    y.par_chunks_mut(GRAIN)
        .zip(x.par_chunks(GRAIN))
        .for_each(|(yc, xc)| yc.iter_mut().zip(xc).for_each(|(a, &b)| f(a, b)));
}

impl Backend for CpuBackend {
    type Buf = Vec<C32>;
    type Idx = Vec<u32>;

    fn name(&self) -> String {
        "cpu".into()
    }

    fn zeros(&self, n: usize) -> Vec<C32> {
        vec![C32::new(0.0, 0.0); n]
    }

    fn upload(&self, host: &[C32]) -> Vec<C32> {
        host.to_vec()
    }

    fn upload_vec(&self, host: Vec<C32>) -> Vec<C32> {
        host
    }

    fn download(&self, buf: &Vec<C32>) -> Vec<C32> {
        buf.clone()
    }

    fn upload_idx(&self, host: &[u32]) -> Vec<u32> {
        host.to_vec()
    }

    fn len(&self, buf: &Vec<C32>) -> usize {
        buf.len()
    }

    fn copy(&self, dst: &mut Vec<C32>, src: &Vec<C32>) {
        zip_mut(dst, src, |a, b| *a = b);
    }

    fn fill(&self, x: &mut Vec<C32>, v: C32) {
        x.par_chunks_mut(GRAIN).for_each(|c| c.fill(v));
    }

    fn scale(&self, x: &mut Vec<C32>, a: C32) {
        x.par_chunks_mut(GRAIN)
            .for_each(|c| c.iter_mut().for_each(|v| *v *= a));
    }

    fn axpy(&self, y: &mut Vec<C32>, a: C32, x: &Vec<C32>) {
        zip_mut(y, x, |y, x| *y += a * x);
    }

    fn xpay(&self, y: &mut Vec<C32>, a: C32, x: &Vec<C32>) {
        zip_mut(y, x, |y, x| *y = x + a * *y);
    }

    fn mul(&self, y: &mut Vec<C32>, x: &Vec<C32>) {
        zip_mut(y, x, |y, x| *y *= x);
    }

    fn mul_broadcast(&self, y: &mut Vec<C32>, x: &Vec<C32>) {
        let n = x.len();
        assert!(n > 0 && y.len() % n == 0, "broadcast lengths differ");
        y.par_chunks_mut(n.max(GRAIN / n * n)).for_each(|chunk| {
            for part in chunk.chunks_exact_mut(n) {
                part.iter_mut().zip(x).for_each(|(y, x)| *y *= x);
            }
        });
    }

    fn mul_conj(&self, y: &mut Vec<C32>, x: &Vec<C32>) {
        zip_mut(y, x, |y, x| *y *= x.conj());
    }

    fn mul_real(&self, y: &mut Vec<C32>, w: &[f32]) {
        assert_eq!(y.len(), w.len(), "buffer lengths differ");
        y.par_chunks_mut(GRAIN)
            .zip(w.par_chunks(GRAIN))
            .for_each(|(yc, wc)| yc.iter_mut().zip(wc).for_each(|(a, &b)| *a *= b));
    }

    fn dot(&self, x: &Vec<C32>, y: &Vec<C32>) -> C64 {
        assert_eq!(x.len(), y.len(), "buffer lengths differ");
        x.par_chunks(GRAIN)
            .zip(y.par_chunks(GRAIN))
            .map(|(xc, yc)| {
                xc.iter().zip(yc).fold(C64::new(0.0, 0.0), |acc, (a, b)| {
                    let p = a.conj() * b;
                    acc + C64::new(f64::from(p.re), f64::from(p.im))
                })
            })
            .reduce(|| C64::new(0.0, 0.0), |a, b| a + b)
    }

    fn norm_sq(&self, x: &Vec<C32>) -> f64 {
        x.par_chunks(GRAIN)
            .map(|c| c.iter().map(|v| f64::from(v.norm_sqr())).sum::<f64>())
            .sum()
    }

    fn all_finite(&self, x: &Vec<C32>) -> bool {
        x.par_chunks(GRAIN)
            .all(|c| c.iter().all(|v| v.re.is_finite() && v.im.is_finite()))
    }

    fn soft_threshold(&self, x: &mut Vec<C32>, t: f32) {
        x.par_chunks_mut(GRAIN).for_each(|c| {
            for v in c.iter_mut() {
                let m = v.norm();
                *v = if m > t {
                    *v * ((m - t) / m)
                } else {
                    C32::new(0.0, 0.0)
                };
            }
        });
    }

    fn fft(&self, x: &mut Vec<C32>, shape: &[usize], axes: &[usize], dir: FftDirection) {
        assert_eq!(
            x.len(),
            shape.iter().product::<usize>(),
            "buffer length and shape differ"
        );
        for &a in axes {
            assert!(a < shape.len(), "FFT axis {a} of a {}-D array", shape.len());
            self.fft_axis(x, shape, a, dir);
        }
    }

    fn expand_coils(&self, out: &mut Vec<C32>, img: &Vec<C32>, maps: &Vec<C32>) {
        let n = img.len();
        assert!(
            n > 0 && maps.len() % n == 0 && out.len() == maps.len(),
            "coil shapes differ"
        );
        out.par_chunks_mut(n)
            .zip(maps.par_chunks(n))
            .for_each(|(o, m)| {
                for ((o, &m), &x) in o.iter_mut().zip(m).zip(img.iter()) {
                    *o = m * x;
                }
            });
    }

    fn combine_coils(&self, out: &mut Vec<C32>, coils: &Vec<C32>, maps: &Vec<C32>) {
        let n = out.len();
        assert!(
            n > 0 && coils.len() == maps.len() && coils.len() % n == 0,
            "coil shapes differ"
        );
        let nc = coils.len() / n;
        // Coil by coil over a chunk of pixels: every coil plane is read as one contiguous run.
        out.par_chunks_mut(GRAIN).enumerate().for_each(|(k, o)| {
            let start = k * GRAIN;
            o.fill(C32::new(0.0, 0.0));
            for c in 0..nc {
                let at = c * n + start;
                let m = &maps[at..at + o.len()];
                let d = &coils[at..at + o.len()];
                for ((v, m), d) in o.iter_mut().zip(m).zip(d) {
                    *v += m.conj() * d;
                }
            }
        });
    }

    fn rss(&self, coils: &Vec<C32>, n_coils: usize) -> Vec<f32> {
        assert!(
            n_coils > 0 && coils.len() % n_coils == 0,
            "coil shapes differ"
        );
        let n = coils.len() / n_coils;
        let mut out = vec![0f32; n];
        out.par_chunks_mut(GRAIN).enumerate().for_each(|(k, o)| {
            let start = k * GRAIN;
            let mut acc = vec![0f64; o.len()];
            for c in 0..n_coils {
                let at = c * n + start;
                for (a, v) in acc.iter_mut().zip(&coils[at..at + o.len()]) {
                    *a += f64::from(v.norm_sqr());
                }
            }
            for (v, a) in o.iter_mut().zip(&acc) {
                *v = a.sqrt() as f32;
            }
        });
        out
    }

    fn gather(&self, out: &mut Vec<C32>, x: &Vec<C32>, idx: &Vec<u32>) {
        assert_eq!(out.len(), idx.len(), "gather lengths differ");
        out.par_chunks_mut(GRAIN)
            .zip(idx.par_chunks(GRAIN))
            .for_each(|(o, ix)| {
                for (o, &i) in o.iter_mut().zip(ix) {
                    *o = x[i as usize];
                }
            });
    }

    fn scatter_add(&self, x: &mut Vec<C32>, v: &Vec<C32>, idx: &Vec<u32>) {
        assert_eq!(v.len(), idx.len(), "scatter lengths differ");
        // Sequential: indices may repeat (deterministic order of accumulation).
        for (&i, &val) in idx.iter().zip(v.iter()) {
            x[i as usize] += val;
        }
    }

    fn batched_matmul(
        &self,
        c: &mut Vec<C32>,
        a: &Vec<C32>,
        x: &Vec<C32>,
        batch: usize,
        [m, k, n]: [usize; 3],
    ) {
        let shared = a.len() == m * k;
        assert!(
            shared || a.len() == batch * m * k,
            "matrix a has the wrong size"
        );
        assert_eq!(x.len(), batch * k * n, "matrix x has the wrong size");
        assert_eq!(c.len(), batch * m * n, "matrix c has the wrong size");
        if batch == 0 || m * n == 0 {
            return;
        }
        c.par_chunks_mut(m * n).enumerate().for_each(|(b, cb)| {
            let ab = if shared {
                &a[..]
            } else {
                &a[b * m * k..(b + 1) * m * k]
            };
            let xb = &x[b * k * n..(b + 1) * k * n];
            for i in 0..m {
                let row = &mut cb[i * n..(i + 1) * n];
                row.fill(C32::new(0.0, 0.0));
                for l in 0..k {
                    let av = ab[i * k + l];
                    for (r, &xv) in row.iter_mut().zip(&xb[l * n..(l + 1) * n]) {
                        *r += av * xv;
                    }
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive_centred_dft(x: &[C32], inverse: bool) -> Vec<C32> {
        // fftshift(dft(ifftshift(x))) / sqrt(n), computed directly on centred indices.
        let n = x.len() as i64;
        let c = n / 2;
        let sign = if inverse { 1.0 } else { -1.0 };
        (0..n)
            .map(|k| {
                let mut acc = num_complex::Complex64::new(0.0, 0.0);
                for (j, v) in x.iter().enumerate() {
                    let ph = sign * 2.0 * std::f64::consts::PI * ((k - c) * (j as i64 - c)) as f64
                        / n as f64;
                    acc += num_complex::Complex64::new(f64::from(v.re), f64::from(v.im))
                        * num_complex::Complex64::from_polar(1.0, ph);
                }
                acc /= (n as f64).sqrt();
                C32::new(acc.re as f32, acc.im as f32)
            })
            .collect()
    }

    fn signal(n: usize, seed: u32) -> Vec<C32> {
        (0..n)
            .map(|i| {
                let a = ((i as u32).wrapping_mul(2654435761).wrapping_add(seed) % 1000) as f32;
                C32::new(a / 500.0 - 1.0, ((a * 7.0) % 13.0) / 6.5 - 1.0)
            })
            .collect()
    }

    #[test]
    fn centred_fft_matches_the_definition_for_even_and_odd_lengths() {
        let be = CpuBackend::new();
        for n in [1usize, 2, 5, 8, 15, 64] {
            let x = signal(n, 3);
            for (dir, inv) in [
                (FftDirection::Forward, false),
                (FftDirection::Inverse, true),
            ] {
                let mut y = x.clone();
                be.fft(&mut y, &[n], &[0], dir);
                let want = naive_centred_dft(&x, inv);
                for (a, b) in y.iter().zip(&want) {
                    assert!((a - b).norm() < 1e-4, "n {n} {dir:?}: {a} vs {b}");
                }
            }
        }
    }

    #[test]
    fn fft_over_middle_axes_is_separable_and_invertible() {
        let be = CpuBackend::new();
        let shape = [3usize, 6, 5, 4];
        let x = signal(shape.iter().product(), 11);
        // Transform axis 1 and compare with a per-line transform.
        let mut y = x.clone();
        be.fft(&mut y, &shape, &[1], FftDirection::Forward);
        for o in 0..3 {
            for j in 0..20 {
                let line: Vec<C32> = (0..6).map(|i| x[o * 120 + i * 20 + j]).collect();
                let want = naive_centred_dft(&line, false);
                for i in 0..6 {
                    assert!((y[o * 120 + i * 20 + j] - want[i]).norm() < 1e-4);
                }
            }
        }
        // Orthonormal: norm kept; inverse over the same axes restores x.
        let mut z = x.clone();
        be.fft(&mut z, &shape, &[0, 1, 2, 3], FftDirection::Forward);
        assert!((be.norm_sq(&z) - be.norm_sq(&x)).abs() < 1e-3 * be.norm_sq(&x));
        be.fft(&mut z, &shape, &[3, 2, 1, 0], FftDirection::Inverse);
        for (a, b) in z.iter().zip(&x) {
            assert!((a - b).norm() < 1e-4);
        }
    }

    #[test]
    fn strided_axis_fft_matches_the_definition_for_odd_lengths_and_partial_tiles() {
        let be = CpuBackend::new();
        // Many blocks (the tiled path) and one block (the transposing path), odd n, inner not
        // a multiple of the tile.
        for shape in [[8usize, 7, 33], [1, 9, 35]] {
            let [outer, n, inner] = shape;
            let x = signal(outer * n * inner, 5);
            for (dir, inv) in [
                (FftDirection::Forward, false),
                (FftDirection::Inverse, true),
            ] {
                let mut y = x.clone();
                be.fft(&mut y, &shape, &[1], dir);
                for o in 0..outer {
                    for j in 0..inner {
                        let at = |i: usize| (o * n + i) * inner + j;
                        let line: Vec<C32> = (0..n).map(|i| x[at(i)]).collect();
                        let want = naive_centred_dft(&line, inv);
                        for (i, w) in want.iter().enumerate() {
                            assert!((y[at(i)] - w).norm() < 1e-4, "{shape:?} {dir:?}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn broadcast_multiplies_every_coil_plane() {
        let be = CpuBackend::new();
        let (nc, n) = (3usize, 40_000usize);
        let mut y = signal(nc * n, 1);
        let w = signal(n, 2);
        let want: Vec<C32> = y.iter().enumerate().map(|(i, v)| v * w[i % n]).collect();
        be.mul_broadcast(&mut y, &w);
        assert_eq!(y, want);
    }

    #[test]
    fn elementwise_reductions_and_coils() {
        let be = CpuBackend::new();
        let x = signal(40_000, 1);
        let mut y = signal(40_000, 2);
        let d = be.dot(&x, &y);
        let want: C64 = x
            .iter()
            .zip(&y)
            .map(|(a, b)| {
                let p = a.conj() * b;
                C64::new(f64::from(p.re), f64::from(p.im))
            })
            .sum();
        assert!((d - want).norm() < 1e-6 * want.norm().max(1.0));
        be.axpy(&mut y, C32::new(0.0, 2.0), &x);
        assert!((y[7] - (signal(8, 2)[7] + C32::new(0.0, 2.0) * x[7])).norm() < 1e-6);
        let mut t = vec![C32::new(3.0, 4.0), C32::new(0.3, 0.4)];
        be.soft_threshold(&mut t, 1.0);
        assert!((t[0] - C32::new(2.4, 3.2)).norm() < 1e-6 && t[1] == C32::new(0.0, 0.0));
        // Coils: expand then combine with unit-norm maps gives the image back.
        let img = signal(6, 5);
        let maps: Vec<C32> = (0..12)
            .map(|i| {
                if i < 6 {
                    C32::new(0.6, 0.0)
                } else {
                    C32::new(0.0, 0.8)
                }
            })
            .collect();
        let mut coils = be.zeros(12);
        be.expand_coils(&mut coils, &img, &maps);
        let mut back = be.zeros(6);
        be.combine_coils(&mut back, &coils, &maps);
        for (a, b) in back.iter().zip(&img) {
            assert!((a - b).norm() < 1e-6);
        }
        let r = be.rss(&coils, 2);
        assert!((r[0] - img[0].norm()).abs() < 1e-6);
    }

    #[test]
    fn gather_scatter_and_batched_matmul() {
        let be = CpuBackend::new();
        let x = signal(10, 4);
        let idx = vec![3u32, 3, 9];
        let mut g = be.zeros(3);
        be.gather(&mut g, &x, &idx);
        assert_eq!(g, vec![x[3], x[3], x[9]]);
        let mut s = be.zeros(10);
        be.scatter_add(&mut s, &g, &idx);
        assert_eq!(s[3], x[3] + x[3]);
        // Two batches of a shared 2×3 matrix times 3×1 vectors.
        let a: Vec<C32> = (1..=6).map(|v| C32::new(v as f32, 0.0)).collect();
        let xs: Vec<C32> = (1..=6).map(|v| C32::new(0.0, v as f32)).collect();
        let mut c = be.zeros(4);
        be.batched_matmul(&mut c, &a, &xs, 2, [2, 3, 1]);
        assert_eq!(c[0], C32::new(0.0, 14.0)); // 1·1 + 2·2 + 3·3
        assert_eq!(c[3], C32::new(0.0, 77.0)); // 4·4 + 5·5 + 6·6
    }
}
