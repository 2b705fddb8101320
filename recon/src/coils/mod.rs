//! Coil sensitivity maps: ESPIRiT calibration ([`espirit()`], like `bart ecalib -m1`) and the
//! adaptive Walsh / Inati combination weights ([`walsh()`]), plus the pieces they share: the
//! per-pixel dominant eigenvector of a small Hermitian coil × coil matrix, phase normalisation
//! and low-resolution coil images from the k-space centre.
//!
//! Layouts follow [`crate::conventions`]: k-space and maps are `[coil, y, x]` (2-D) or
//! `[coil, z, y, x]` (3-D), C order. Maps come back as a backend buffer in a [`CoilMaps`].
//!
//! The numerical inner loops (calibration matrix, per-pixel eigenproblems) run on the host
//! (rayon over pixels, `faer` for the dense linear algebra); only the FFTs go through the
//! [`Backend`]. A device implementation of the per-pixel step is a later issue.
//!
//! # References
//! - Uecker M, Lai P, Murphy MJ, Virtue P, Elad M, Pauly JM, Vasanawala SS, Lustig M.
//!   ESPIRiT — an eigenvalue approach to autocalibrating parallel MRI: where SENSE meets
//!   GRAPPA. Magn Reson Med 2014;71:990–1001.
//! - Walsh DO, Gmitro AF, Marcellin MW. Adaptive reconstruction of phased array MR imagery.
//!   Magn Reson Med 2000;43:682–690.
//! - Inati SJ, Hansen MS, Kellman P. A fast optimal method for coil sensitivity estimation and
//!   adaptive coil combination for complex images. ISMRM 2014, p. 4407.

pub mod espirit;
pub mod walsh;

pub use espirit::{EspiritOptions, espirit, espirit_from_calibration};
pub use walsh::{WalshOptions, lowres_coil_images, walsh};

use rayon::prelude::*;

use crate::backend::{Backend, C32, C64, FftDirection};
use crate::error::{ReconError, Result};

/// Coil sensitivity maps on a backend, with the per-pixel dominant eigenvalue.
#[derive(Debug)]
pub struct CoilMaps<B: Backend> {
    /// The maps, `[coil, (z,) y, x]` (unit norm over coils where not cropped).
    pub maps: B::Buf,
    /// The shape of `maps`.
    pub shape: Vec<usize>,
    /// Per pixel `[(z,) y, x]`: the dominant eigenvalue (ESPIRiT: ≈1 inside the object; Walsh:
    /// the signal energy in the smoothing window).
    pub eigenvalues: Vec<f32>,
}

/// How the global phase of the maps is fixed at every pixel (an eigenvector has an arbitrary
/// phase per pixel).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PhaseReference {
    /// Coil `i` gets phase zero.
    Coil(usize),
    /// The coil with the most energy in the maps gets phase zero (Inati's choice).
    Strongest,
    /// The projection onto the first principal component of the maps over all pixels gets
    /// phase zero (like BART's default `rotphase`, which uses the calibration data's first
    /// principal component).
    #[default]
    PrincipalComponent,
}

/// Splits a coil array shape `[coil, y, x]` or `[coil, z, y, x]` into the coil count and the
/// spatial dims `[z, y, x]` (`z = 1` in 2-D).
pub(crate) fn split_shape(op: &'static str, shape: &[usize]) -> Result<(usize, [usize; 3])> {
    let (nc, dims) = match *shape {
        [c, y, x] => (c, [1, y, x]),
        [c, z, y, x] => (c, [z, y, x]),
        _ => {
            return Err(ReconError::shape(
                op,
                format!("expected [coil, y, x] or [coil, z, y, x], got {shape:?}"),
            ));
        }
    };
    if nc == 0 || dims.contains(&0) {
        return Err(ReconError::shape(op, format!("empty array {shape:?}")));
    }
    Ok((nc, dims))
}

/// Workspace of [`dominant_eigen`].
#[derive(Debug, Default, Clone)]
pub(crate) struct EigenWork {
    a: Vec<C64>,
    b: Vec<C64>,
    t: Vec<C64>,
}

/// Most repeated squarings in [`dominant_eigen`] (the power iteration then runs on up to
/// `G^(2^SQUARINGS)`); squaring stops early once the normalised power is rank one to 1e-12.
const SQUARINGS: usize = 8;
/// Power iterations on the squared matrix.
const POWER_STEPS: usize = 4;

/// The dominant eigenpair of the Hermitian positive semi-definite `n × n` matrix `g` (row
/// major): returns the eigenvalue and writes the unit eigenvector to `v`.
///
/// Repeated squaring (`G → G²`, normalised by the trace, up to [`SQUARINGS`] times, stopping
/// when `trace(A²) ≈ 1`, i.e. the normalised power is rank one) followed by a few power steps
/// from the column with the largest diagonal: the error decays like
/// `(λ₂/λ₁)^(2^squarings · (POWER_STEPS + 1))`, robust where plain power iteration is slow.
/// A zero matrix gives eigenvalue 0 and a zero vector.
pub(crate) fn dominant_eigen(g: &[C64], n: usize, v: &mut [C64], w: &mut EigenWork) -> f64 {
    let nn = n * n;
    let tr: f64 = (0..n).map(|i| g[i * n + i].re).sum();
    if !(tr > 0.0 && tr.is_finite()) {
        v.fill(C64::new(0.0, 0.0));
        return 0.0;
    }
    w.a.clear();
    w.a.extend(g.iter().map(|&x| x / tr));
    w.b.resize(nn, C64::new(0.0, 0.0));
    for _ in 0..SQUARINGS {
        // b = a · a (a Hermitian, so b is Hermitian PSD).
        for i in 0..n {
            for j in i..n {
                let mut s = C64::new(0.0, 0.0);
                for k in 0..n {
                    s += w.a[i * n + k] * w.a[k * n + j];
                }
                w.b[i * n + j] = s;
                w.b[j * n + i] = s.conj();
            }
        }
        let t: f64 = (0..n).map(|i| w.b[i * n + i].re).sum();
        if t.is_nan() || t <= 1e-300 {
            break;
        }
        for (a, b) in w.a.iter_mut().zip(&w.b) {
            *a = b / t;
        }
        // trace(A²) of the trace-normalised A is Σλ²/(Σλ)²: 1 exactly when A is rank one.
        let purity: f64 = w.a.iter().map(|x| x.norm_sqr()).sum();
        if purity > 1.0 - 1e-12 {
            break;
        }
    }
    let j = (0..n)
        .max_by(|&p, &q| w.a[p * n + p].re.total_cmp(&w.a[q * n + q].re))
        .unwrap_or(0);
    for (i, vi) in v.iter_mut().enumerate().take(n) {
        *vi = w.a[i * n + j];
    }
    w.t.resize(n, C64::new(0.0, 0.0));
    for _ in 0..POWER_STEPS {
        normalise(v);
        for i in 0..n {
            w.t[i] = (0..n).map(|k| w.a[i * n + k] * v[k]).sum();
        }
        v.copy_from_slice(&w.t[..n]);
    }
    if normalise(v) == 0.0 {
        return 0.0;
    }
    // Rayleigh quotient with the original matrix.
    let mut lambda = 0.0;
    for i in 0..n {
        let gv: C64 = (0..n).map(|k| g[i * n + k] * v[k]).sum();
        lambda += (v[i].conj() * gv).re;
    }
    lambda
}

/// Scales `v` to unit norm; returns the norm before (0 leaves `v` alone).
fn normalise(v: &mut [C64]) -> f64 {
    let nrm = v.iter().map(|x| x.norm_sqr()).sum::<f64>().sqrt();
    if nrm > 0.0 {
        v.iter_mut().for_each(|x| *x /= nrm);
    }
    nrm
}

/// Fixes the phase of pixel-major maps (`nc` values per pixel) per `reference`; pixels with a
/// zero reference projection are left as they are.
pub(crate) fn normalise_phase(
    maps: &mut [C32],
    nc: usize,
    reference: PhaseReference,
) -> Result<()> {
    let weights: Vec<C32> = match reference {
        PhaseReference::Coil(i) => {
            if i >= nc {
                return Err(ReconError::config(
                    "phase_reference",
                    format!("reference coil {i} does not exist ({nc} coils)"),
                ));
            }
            let mut w = vec![C32::new(0.0, 0.0); nc];
            w[i] = C32::new(1.0, 0.0);
            w
        }
        PhaseReference::Strongest => {
            let energy = maps
                .par_chunks(nc * 4096)
                .map(|chunk| {
                    let mut e = vec![0.0f64; nc];
                    for px in chunk.chunks_exact(nc) {
                        for (ec, s) in e.iter_mut().zip(px) {
                            *ec += f64::from(s.norm_sqr());
                        }
                    }
                    e
                })
                .reduce(
                    || vec![0.0; nc],
                    |a, b| a.iter().zip(&b).map(|(x, y)| x + y).collect(),
                );
            let i = (0..nc)
                .max_by(|&p, &q| energy[p].total_cmp(&energy[q]))
                .unwrap_or(0);
            let mut w = vec![C32::new(0.0, 0.0); nc];
            w[i] = C32::new(1.0, 0.0);
            w
        }
        PhaseReference::PrincipalComponent => {
            // C = Σ_r s(r) s(r)ᴴ, its dominant eigenvector u; the phase reference is uᴴ s.
            let cov = maps
                .par_chunks(nc * 4096)
                .map(|chunk| {
                    let mut c = vec![C64::new(0.0, 0.0); nc * nc];
                    for px in chunk.chunks_exact(nc) {
                        for i in 0..nc {
                            let si = C64::new(f64::from(px[i].re), f64::from(px[i].im));
                            for j in 0..nc {
                                let sj = C64::new(f64::from(px[j].re), f64::from(px[j].im));
                                c[i * nc + j] += si * sj.conj();
                            }
                        }
                    }
                    c
                })
                .reduce(
                    || vec![C64::new(0.0, 0.0); nc * nc],
                    |a, b| a.iter().zip(&b).map(|(x, y)| x + y).collect(),
                );
            let mut u = vec![C64::new(0.0, 0.0); nc];
            dominant_eigen(&cov, nc, &mut u, &mut EigenWork::default());
            u.iter()
                .map(|x| C32::new(x.re as f32, x.im as f32))
                .collect()
        }
    };
    maps.par_chunks_mut(nc).for_each(|px| {
        // p = wᴴ s; multiply s by conj(p)/|p|.
        let p: C32 = weights
            .iter()
            .zip(px.iter())
            .map(|(w, s)| w.conj() * s)
            .sum();
        let m = p.norm();
        if m > 0.0 && m.is_finite() {
            let rot = p.conj() / m;
            px.iter_mut().for_each(|s| *s *= rot);
        }
    });
    Ok(())
}

/// Per pixel, the dominant eigenvector of the Hermitian coil × coil matrix whose upper
/// triangle `(c, d)` in `pairs` is held as full-grid planes (`planes[k * npix + i]`): pixel-major
/// maps `[pixel, coil]` and the eigenvalues. Pixels whose eigenvalue is not above `crop` get a
/// zero map (ESPIRiT); `f32::NEG_INFINITY` keeps every pixel (Walsh).
pub(crate) fn dominant_per_pixel(
    planes: &[C32],
    pairs: &[(usize, usize)],
    nc: usize,
    npix: usize,
    crop: f32,
) -> (Vec<C32>, Vec<f32>) {
    let mut maps = vec![C32::new(0.0, 0.0); npix * nc];
    let mut eigenvalues = vec![0.0f32; npix];
    maps.par_chunks_mut(nc)
        .zip(eigenvalues.par_iter_mut())
        .enumerate()
        .for_each_init(
            || {
                (
                    vec![C64::new(0.0, 0.0); nc * nc],
                    vec![C64::new(0.0, 0.0); nc],
                    EigenWork::default(),
                )
            },
            |(g, v, work), (i, (px, ev))| {
                for (k, &(c, d)) in pairs.iter().enumerate() {
                    let x = planes[k * npix + i];
                    let x = C64::new(f64::from(x.re), f64::from(x.im));
                    g[c * nc + d] = x;
                    g[d * nc + c] = x.conj();
                }
                for c in 0..nc {
                    g[c * nc + c].im = 0.0;
                }
                let lambda = dominant_eigen(g, nc, v, work) as f32;
                *ev = lambda;
                if lambda > crop {
                    for (m, x) in px.iter_mut().zip(v.iter()) {
                        *m = C32::new(x.re as f32, x.im as f32);
                    }
                }
            },
        );
    (maps, eigenvalues)
}

/// Transposes pixel-major `[pixel, coil]` values to coil-major `[coil, pixel]`.
pub(crate) fn pixel_major_to_coil_major(px: &[C32], nc: usize) -> Vec<C32> {
    let npix = px.len() / nc;
    let mut out = vec![C32::new(0.0, 0.0); px.len()];
    out.par_chunks_mut(npix.max(1))
        .enumerate()
        .for_each(|(c, plane)| {
            for (i, v) in plane.iter_mut().enumerate() {
                *v = px[i * nc + c];
            }
        });
    out
}

/// Transposes coil-major `[coil, pixel]` values to pixel-major `[pixel, coil]`.
pub(crate) fn coil_major_to_pixel_major(planes: &[C32], nc: usize) -> Vec<C32> {
    let npix = planes.len() / nc;
    let mut out = vec![C32::new(0.0, 0.0); planes.len()];
    out.par_chunks_mut(nc).enumerate().for_each(|(i, px)| {
        for (c, v) in px.iter_mut().enumerate() {
            *v = planes[c * npix + i];
        }
    });
    out
}

/// Rows per block when accumulating a Gram matrix (bounds the memory of the row block).
const GRAM_BLOCK_ROWS: usize = 2048;

/// `G = Aᴴ A` (`ncols × ncols`, f64) of an `nrows × ncols` matrix whose rows `fill(row, out)`
/// writes, accumulated over blocks of [`GRAM_BLOCK_ROWS`] rows (rows filled in parallel, the
/// product by `faer` on rayon).
pub(crate) fn gram_of_rows<F>(nrows: usize, ncols: usize, fill: F) -> faer::Mat<C64>
where
    F: Fn(usize, &mut [C64]) + Sync,
{
    let mut g = faer::Mat::<C64>::zeros(ncols, ncols);
    let mut block = Vec::new();
    let mut start = 0;
    while start < nrows {
        let rows = GRAM_BLOCK_ROWS.min(nrows - start);
        block.clear();
        block.resize(rows * ncols, C64::new(0.0, 0.0));
        block
            .par_chunks_mut(ncols)
            .enumerate()
            .for_each(|(r, row)| fill(start + r, row));
        let a = faer::MatRef::from_row_major_slice(&block, rows, ncols);
        faer::linalg::matmul::matmul(
            g.as_mut(),
            faer::Accum::Add,
            a.adjoint(),
            a,
            C64::new(1.0, 0.0),
            faer::Par::rayon(0),
        );
        start += rows;
    }
    g
}

/// Inverse centred FFT over the spatial axes of a `[batch, z, y, x]` host array via the
/// backend, scaled by `scale`.
pub(crate) fn inverse_fft_spatial<B: Backend>(
    be: &B,
    host: &[C32],
    batch: usize,
    dims: [usize; 3],
    scale: f32,
) -> Vec<C32> {
    let mut buf = be.upload(host);
    be.fft(
        &mut buf,
        &[batch, dims[0], dims[1], dims[2]],
        &[1, 2, 3],
        FftDirection::Inverse,
    );
    if scale != 1.0 {
        be.scale(&mut buf, C32::new(scale, 0.0));
    }
    be.download(&buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dominant_eigen_of_a_known_matrix() {
        // G = 2·u uᴴ + 0.9·w wᴴ with orthonormal u, w in C³: close eigenvalues on purpose.
        let s = 1.0 / 2f64.sqrt();
        let u = [C64::new(s, 0.0), C64::new(0.0, s), C64::new(0.0, 0.0)];
        let w = [C64::new(0.0, 0.0), C64::new(0.0, 0.0), C64::new(0.6, 0.8)];
        let mut g = vec![C64::new(0.0, 0.0); 9];
        for i in 0..3 {
            for j in 0..3 {
                g[i * 3 + j] = 2.0 * u[i] * u[j].conj() + 1.9 * w[i] * w[j].conj();
            }
        }
        let mut v = vec![C64::new(0.0, 0.0); 3];
        let lambda = dominant_eigen(&g, 3, &mut v, &mut EigenWork::default());
        assert!((lambda - 2.0).abs() < 1e-9, "lambda {lambda}");
        let overlap: C64 = u.iter().zip(&v).map(|(a, b)| a.conj() * b).sum();
        assert!((overlap.norm() - 1.0).abs() < 1e-6, "overlap {overlap}");
        let zero = vec![C64::new(0.0, 0.0); 9];
        assert_eq!(
            dominant_eigen(&zero, 3, &mut v, &mut EigenWork::default()),
            0.0
        );
    }

    #[test]
    fn phase_reference_coil_gets_zero_phase() {
        let mut maps = vec![
            C32::new(0.0, 1.0),
            C32::new(1.0, 0.0),
            C32::new(-1.0, 0.0),
            C32::new(0.0, -1.0),
        ];
        normalise_phase(&mut maps, 2, PhaseReference::Coil(0)).unwrap();
        for px in maps.chunks_exact(2) {
            assert!(px[0].im.abs() < 1e-6 && px[0].re > 0.0);
        }
        assert!(normalise_phase(&mut maps, 2, PhaseReference::Coil(2)).is_err());
    }
}
