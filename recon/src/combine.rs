//! Coil combination of coil images `[coil, …]` (coil axis first): root sum of squares
//! ([`rss`]) and the adaptive (Walsh) combination ([`adaptive_combine`]).

use crate::backend::{Backend, C32, C64};
use crate::error::{ReconError, Result};

/// Root sum of squares over the leading coil axis of `coils` (`n_coils` coils):
/// `out[i] = sqrt(Σ_c |coils[c, i]|²)`, float32 magnitude of the remaining shape.
pub fn rss<B: Backend>(be: &B, coils: &B::Buf, n_coils: usize) -> Result<Vec<f32>> {
    let len = be.len(coils);
    if n_coils == 0 || len % n_coils != 0 {
        return Err(ReconError::shape(
            "rss",
            format!("{len} samples are not a whole number of {n_coils}-coil images"),
        ));
    }
    Ok(be.rss(coils, n_coils))
}

/// Adaptive coil combination (Walsh, Gmitro & Marcellin 2000) of host coil images `coils`,
/// shape `[coil, …, y, x]` with `image_shape = [… , y, x]` (at least 2-D; leading axes are
/// separate images). Per pixel, the coil correlation matrix `R = Σ_w x xᴴ` over a
/// `kernel × kernel` window (clipped at the edges) gives its dominant eigenvector `v` (power
/// iteration, unit norm, phase of coil 0 removed); the combined pixel is `vᴴ x`. For data
/// `x = ρ·S` with smooth sensitivities this is `ρ·|S|` up to a slowly varying phase: the
/// magnitude of RSS with a better noise behaviour. Returns complex images of `image_shape`.
pub fn adaptive_combine(
    coils: &[C32],
    n_coils: usize,
    image_shape: &[usize],
    kernel: usize,
) -> Result<Vec<C32>> {
    let n: usize = image_shape.iter().product();
    if image_shape.len() < 2 || n_coils == 0 || coils.len() != n_coils * n || kernel == 0 {
        return Err(ReconError::shape(
            "adaptive_combine",
            format!(
                "{} samples for {n_coils} coils of images {image_shape:?} (kernel {kernel})",
                coils.len()
            ),
        ));
    }
    let (ny, nx) = (
        image_shape[image_shape.len() - 2],
        image_shape[image_shape.len() - 1],
    );
    let plane = ny * nx;
    let nc = n_coils;
    let to64 = |v: C32| C64::new(f64::from(v.re), f64::from(v.im));
    let half = kernel / 2;
    let mut out = vec![C32::new(0.0, 0.0); n];
    // Lower triangle of R per pixel of one image, box-filtered separably.
    let pairs: Vec<(usize, usize)> = (0..nc).flat_map(|i| (0..=i).map(move |j| (i, j))).collect();
    let mut corr = vec![C64::new(0.0, 0.0); pairs.len() * plane];
    let mut tmp = vec![C64::new(0.0, 0.0); plane];
    for img in 0..n / plane {
        let px = |c: usize, p: usize| to64(coils[c * n + img * plane + p]);
        for (q, &(i, j)) in pairs.iter().enumerate() {
            let r = &mut corr[q * plane..(q + 1) * plane];
            for (p, v) in r.iter_mut().enumerate() {
                *v = px(i, p) * px(j, p).conj();
            }
            box_filter(r, &mut tmp, ny, nx, half);
        }
        let mut rm = vec![C64::new(0.0, 0.0); nc * nc];
        let mut v = vec![C64::new(0.0, 0.0); nc];
        let mut w = vec![C64::new(0.0, 0.0); nc];
        for p in 0..plane {
            for (q, &(i, j)) in pairs.iter().enumerate() {
                let c = corr[q * plane + p];
                rm[i * nc + j] = c;
                rm[j * nc + i] = c.conj();
            }
            // Start from the column of the largest diagonal, then power iterations.
            let k0 = (0..nc)
                .max_by(|&a, &b| rm[a * nc + a].re.total_cmp(&rm[b * nc + b].re))
                .unwrap_or(0);
            for (i, vi) in v.iter_mut().enumerate() {
                *vi = rm[i * nc + k0];
            }
            for _ in 0..8 {
                let norm = v.iter().map(|z| z.norm_sqr()).sum::<f64>().sqrt();
                if norm == 0.0 || !norm.is_finite() {
                    break;
                }
                v.iter_mut().for_each(|z| *z /= norm);
                for (i, wi) in w.iter_mut().enumerate() {
                    *wi = (0..nc).map(|k| rm[i * nc + k] * v[k]).sum();
                }
                std::mem::swap(&mut v, &mut w);
            }
            let norm = v.iter().map(|z| z.norm_sqr()).sum::<f64>().sqrt();
            if norm == 0.0 || !norm.is_finite() {
                continue; // no signal in the window
            }
            let phase = if v[0].norm() > 0.0 {
                v[0].conj() / v[0].norm()
            } else {
                C64::new(1.0, 0.0)
            };
            let combined: C64 = (0..nc)
                .map(|c| (v[c] * phase / norm).conj() * px(c, p))
                .sum();
            out[img * plane + p] = C32::new(combined.re as f32, combined.im as f32);
        }
    }
    Ok(out)
}

/// In-place box filter of half-width `half` (window clipped at the edges) of a `[ny, nx]` plane.
fn box_filter(r: &mut [C64], tmp: &mut [C64], ny: usize, nx: usize, half: usize) {
    for y in 0..ny {
        let row = &r[y * nx..(y + 1) * nx];
        for x in 0..nx {
            let (a, b) = (x.saturating_sub(half), (x + half + 1).min(nx));
            tmp[y * nx + x] = row[a..b].iter().sum();
        }
    }
    for x in 0..nx {
        for y in 0..ny {
            let (a, b) = (y.saturating_sub(half), (y + half + 1).min(ny));
            r[y * nx + x] = (a..b).map(|k| tmp[k * nx + x]).sum();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CpuBackend;
    use crate::backend::C32;

    #[test]
    fn rss_of_two_coils() {
        let be = CpuBackend::new();
        let x = be.upload(&[
            C32::new(3.0, 0.0),
            C32::new(0.0, 1.0),
            C32::new(0.0, 4.0),
            C32::new(0.0, 0.0),
        ]);
        assert_eq!(rss(&be, &x, 2).unwrap(), vec![5.0, 1.0]);
        assert!(rss(&be, &x, 3).is_err());
    }

    #[test]
    fn adaptive_combination_of_smooth_sensitivities_matches_rss_magnitude() {
        let (nc, ny, nx) = (4, 24, 20);
        let n = ny * nx;
        let mut coils = vec![C32::new(0.0, 0.0); nc * n];
        for c in 0..nc {
            let (cy, cx) = ((c / 2) as f32 * 24.0, (c % 2) as f32 * 20.0);
            for y in 0..ny {
                for x in 0..nx {
                    let rho = if (6..18).contains(&y) && (4..16).contains(&x) {
                        1.0 + 0.02 * x as f32
                    } else {
                        0.0
                    };
                    let d2 = ((y as f32 - cy).powi(2) + (x as f32 - cx).powi(2)) / 800.0;
                    let s = C32::from_polar((-d2).exp(), 0.3 * c as f32 + 0.01 * (x + y) as f32);
                    coils[c * n + y * nx + x] = s * rho;
                }
            }
        }
        let ac = adaptive_combine(&coils, nc, &[ny, nx], 5).unwrap();
        let be = CpuBackend::new();
        let r = rss(&be, &be.upload(&coils), nc).unwrap();
        for p in 0..n {
            let (a, b) = (ac[p].norm(), r[p]);
            assert!(
                (a - b).abs() <= 0.01 * b + 1e-6,
                "pixel {p}: adaptive {a}, rss {b}"
            );
        }
        assert!(adaptive_combine(&coils, nc, &[ny], 5).is_err());
    }
}
