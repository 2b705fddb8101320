//! Coil compression: SVD / PCA "software channel compression" (Buehrer 2007, Huang 2008; BART
//! `cc -S`) of multi-coil data to fewer virtual coils, so that the later stages (maps, GRAPPA,
//! SENSE, CS) run on fewer channels.
//!
//! With coil vectors `x[s] ∈ ℂⁿᶜ` (one per k-space sample `s`):
//!
//! ```text
//! C = Σ_s x[s] x[s]ᴴ                (coil × coil, accumulated in f64)
//! C = V Λ Vᴴ                        (eigenvalues λ₁ ≥ λ₂ ≥ … ≥ 0)
//! A = V_Nᴴ                          (the N eigenvectors of the largest eigenvalues, N × nc)
//! y[s] = A x[s]                     (N virtual coils)
//! ```
//!
//! The virtual coils are uncorrelated (`Σ y yᴴ = diag(λ₁ … λ_N)`) and ordered by energy; the
//! fraction of the energy kept is `Σ_{i≤N} λᵢ / Σᵢ λᵢ`. The rows of `A` are orthonormal, so white
//! noise stays white with the same variance: prewhitening (which comes first in the pipeline)
//! and compression commute with the noise model of the later stages. With `N = nc`, `A` is
//! unitary and root-sum-of-squares images do not change.
//!
//! Each eigenvector's phase is fixed so that its largest-magnitude coefficient is real and
//! positive (an eigenvector has an arbitrary phase; this makes the matrix reproducible). BART's
//! matrix differs from this one by such a phase per virtual coil, which changes neither the
//! subspace nor RSS images.
//!
//! # Which samples give the covariance
//! [`CoilCompression::from_kspace`]: the calibration (ACS) lines when the data have any
//! (`ACQ_IS_PARALLEL_CALIBRATION(_AND_IMAGING)`; every readout sample of those lines, all
//! volumes), else every sampled line of the imaging k-space (all volumes). BART's `cc` uses a
//! 24-sample calibration box by default (`-A` for all data); the energy near the k-space centre
//! dominates either way. [`CoilCompression::from_samples`] takes any `[coil, sample]` data (the
//! non-Cartesian path uses all samples). One matrix is computed per file and applied to every
//! volume, the calibration lines and the noise readouts.
//!
//! # References
//! - Buehrer M, Pruessmann KP, Boesiger P, Kozerke S. Array compression for MRI with large coil
//!   arrays. Magn Reson Med 2007;57:1131–1139.
//! - Huang F, Vijayakumar S, Li Y, Hertel S, Duensing GR. A software channel compression
//!   technique for faster reconstruction with many channels. Magn Reson Imaging
//!   2008;26:133–141.

use rayon::prelude::*;

use crate::backend::{Backend, C32, C64};
use crate::coils::gram_of_rows;
use crate::error::{ReconError, Result};
use crate::kspace::CoilKspace;

const STAGE: &str = "coil_compress";

/// Samples per block of [`CoilCompression::apply_host`].
const APPLY_BLOCK: usize = 4096;

/// Where the covariance of a compression came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CovarianceSource {
    /// The calibration (ACS) lines.
    Calibration,
    /// Every sampled line of the imaging k-space.
    SampledData,
    /// Samples given by the caller (e.g. non-Cartesian readouts).
    Samples,
}

impl CovarianceSource {
    /// A short description for the provenance.
    pub fn describe(self) -> &'static str {
        match self {
            CovarianceSource::Calibration => "the calibration lines",
            CovarianceSource::SampledData => "all sampled k-space lines",
            CovarianceSource::Samples => "all samples",
        }
    }
}

/// An SVD coil-compression matrix (see the [module docs](self)).
#[derive(Debug, Clone, PartialEq)]
pub struct CoilCompression {
    /// Number of physical (input) coils.
    pub n_physical: usize,
    /// Number of virtual (output) coils.
    pub n_virtual: usize,
    /// `A = V_Nᴴ`, row major, `n_virtual × n_physical`.
    pub matrix: Vec<C32>,
    /// All eigenvalues of the coil covariance, largest first (`n_physical` of them).
    pub eigenvalues: Vec<f64>,
    /// Number of coil vectors (samples) in the covariance.
    pub samples: usize,
    /// Where the covariance came from.
    pub source: CovarianceSource,
}

impl CoilCompression {
    /// The compression of the coil covariance `cov` (`nc × nc`, row major, Hermitian PSD, as
    /// `Σ x xᴴ`) to `n_virtual` coils.
    pub fn from_covariance(
        cov: &[C64],
        n_coils: usize,
        n_virtual: usize,
        samples: usize,
        source: CovarianceSource,
    ) -> Result<Self> {
        check_virtual_coils(n_virtual, n_coils, "virtual_coils")?;
        if cov.len() != n_coils * n_coils {
            return Err(ReconError::shape(
                STAGE,
                format!("covariance of {} elements for {n_coils} coils", cov.len()),
            ));
        }
        if cov.iter().any(|v| !(v.re.is_finite() && v.im.is_finite())) {
            return Err(ReconError::numerical(
                STAGE,
                "the coil covariance is not finite",
            ));
        }
        let m = faer::Mat::<C64>::from_fn(n_coils, n_coils, |i, j| cov[i * n_coils + j]);
        let evd = m.self_adjoint_eigen(faer::Side::Lower).map_err(|e| {
            ReconError::numerical(STAGE, format!("coil covariance eigendecomposition: {e:?}"))
        })?;
        let vals = evd.S().column_vector();
        let u = evd.U();
        // faer sorts ascending: the largest is last.
        let eigenvalues: Vec<f64> = (0..n_coils).rev().map(|i| vals[i].re.max(0.0)).collect();
        if eigenvalues[0] <= 0.0 {
            return Err(ReconError::stage(
                STAGE,
                "the data have no signal to compute a coil covariance from",
            ));
        }
        let mut matrix = Vec::with_capacity(n_virtual * n_coils);
        for v in 0..n_virtual {
            let col = n_coils - 1 - v;
            // Phase: the largest-magnitude coefficient real and positive.
            let big = (0..n_coils)
                .max_by(|&a, &b| u[(a, col)].norm_sqr().total_cmp(&u[(b, col)].norm_sqr()))
                .unwrap_or(0);
            let p = u[(big, col)];
            let phase = if p.norm() > 0.0 {
                p.conj() / p.norm()
            } else {
                C64::new(1.0, 0.0)
            };
            // Row v of A = conj(column of V) (times the phase fix, conjugated).
            for c in 0..n_coils {
                let e = (u[(c, col)] * phase).conj();
                matrix.push(C32::new(e.re as f32, e.im as f32));
            }
        }
        Ok(CoilCompression {
            n_physical: n_coils,
            n_virtual,
            matrix,
            eigenvalues,
            samples,
            source,
        })
    }

    /// The compression of coil data `[coil, sample]` (every sample a coil vector; zero
    /// samples contribute nothing) to `n_virtual` coils.
    pub fn from_samples(data: &[C32], n_coils: usize, n_virtual: usize) -> Result<Self> {
        if n_coils == 0 || data.is_empty() || data.len() % n_coils != 0 {
            return Err(ReconError::shape(
                STAGE,
                format!("{} samples for {n_coils} coils", data.len()),
            ));
        }
        let s = data.len() / n_coils;
        let cov = covariance(n_coils, s, |r, row| {
            for (c, v) in row.iter_mut().enumerate() {
                let x = data[c * s + r];
                *v = C64::new(f64::from(x.re), -f64::from(x.im));
            }
        });
        Self::from_covariance(&cov, n_coils, n_virtual, s, CovarianceSource::Samples)
    }

    /// The compression of assembled Cartesian k-space to `n_virtual` coils, from the
    /// calibration lines when there are any, else from every sampled line (see the
    /// [module docs](self)).
    pub fn from_kspace(ks: &CoilKspace, n_virtual: usize) -> Result<Self> {
        let nc = ks.n_coils;
        check_virtual_coils(n_virtual, nc, "virtual_coils")?;
        let nx = ks.matrix[2];
        let n_lines = ks.mask.len();
        if nc == 0 || nx == 0 || ks.data.len() != nc * n_lines * nx {
            return Err(ReconError::shape(
                STAGE,
                format!(
                    "{} samples for {nc} coils × {n_lines} lines × {nx}",
                    ks.data.len()
                ),
            ));
        }
        let (data, lines, source): (&[C32], Vec<usize>, _) = match &ks.calibration {
            Some(cal) if cal.mask.iter().any(|&m| m) && cal.data.len() == ks.data.len() => (
                &cal.data,
                (0..n_lines).filter(|&l| cal.mask[l]).collect(),
                CovarianceSource::Calibration,
            ),
            _ => (
                &ks.data,
                (0..n_lines).filter(|&l| ks.mask[l]).collect(),
                CovarianceSource::SampledData,
            ),
        };
        let coil_stride = n_lines * nx;
        let rows = lines.len() * nx;
        let cov = covariance(nc, rows, |r, row| {
            let (l, x) = (lines[r / nx], r % nx);
            for (c, v) in row.iter_mut().enumerate() {
                let s = data[c * coil_stride + l * nx + x];
                *v = C64::new(f64::from(s.re), -f64::from(s.im));
            }
        });
        Self::from_covariance(&cov, nc, n_virtual, rows, source)
    }

    /// Fraction of the covariance energy the virtual coils keep, `Σ_{i≤N} λᵢ / Σᵢ λᵢ`.
    pub fn energy_fraction(&self) -> f64 {
        let total: f64 = self.eigenvalues.iter().sum();
        if total > 0.0 {
            self.eigenvalues[..self.n_virtual].iter().sum::<f64>() / total
        } else {
            0.0
        }
    }

    /// Compresses coil data `[coil, rest…]` (coil axis first) on the backend: `out[v, i] =
    /// Σ_c A[v, c] · x[c, i]`. Returns `[virtual coil, rest…]`.
    pub fn apply<B: Backend>(&self, be: &B, x: &B::Buf) -> Result<B::Buf> {
        let len = be.len(x);
        let nc = self.n_physical;
        if nc == 0 || len % nc != 0 {
            return Err(ReconError::shape(
                STAGE,
                format!("{len} samples are not a whole number of {nc}-coil samples"),
            ));
        }
        let n = len / nc;
        let a = be.upload(&self.matrix);
        let mut out = be.zeros(self.n_virtual * n);
        be.batched_matmul(&mut out, &a, x, 1, [self.n_virtual, nc, n]);
        Ok(out)
    }

    /// Compresses host coil data `[coil, rest…]` (see [`CoilCompression::apply`]), rayon over
    /// virtual coils and blocks of samples.
    pub fn apply_host(&self, x: &[C32]) -> Result<Vec<C32>> {
        let nc = self.n_physical;
        if nc == 0 || x.len() % nc != 0 {
            return Err(ReconError::shape(
                STAGE,
                format!(
                    "{} samples are not a whole number of {nc}-coil samples",
                    x.len()
                ),
            ));
        }
        let n = x.len() / nc;
        let mut out = vec![C32::new(0.0, 0.0); self.n_virtual * n];
        if n == 0 {
            return Ok(out);
        }
        out.par_chunks_mut(n).enumerate().for_each(|(v, row)| {
            let a = &self.matrix[v * nc..(v + 1) * nc];
            row.par_chunks_mut(APPLY_BLOCK)
                .enumerate()
                .for_each(|(b, seg)| {
                    let start = b * APPLY_BLOCK;
                    for (c, &av) in a.iter().enumerate() {
                        let src = &x[c * n + start..c * n + start + seg.len()];
                        for (o, &s) in seg.iter_mut().zip(src) {
                            *o += av * s;
                        }
                    }
                });
        });
        Ok(out)
    }

    /// Compresses assembled k-space in place: the imaging data, the calibration lines and the
    /// noise readouts; `n_coils` becomes the number of virtual coils.
    pub fn apply_kspace(&self, ks: &mut CoilKspace) -> Result<()> {
        if ks.n_coils != self.n_physical {
            return Err(ReconError::shape(
                STAGE,
                format!(
                    "a compression of {} coils applied to data of {}",
                    self.n_physical, ks.n_coils
                ),
            ));
        }
        ks.data = self.apply_host(&ks.data)?;
        if let Some(cal) = &mut ks.calibration {
            cal.data = self.apply_host(&cal.data)?;
        }
        if let Some(noise) = &mut ks.noise
            && noise.n_coils == self.n_physical
        {
            noise.data = self.apply_host(&noise.data)?;
            noise.n_coils = self.n_virtual;
            noise.channel_labels.clear();
        }
        ks.n_coils = self.n_virtual;
        Ok(())
    }

    /// A one-line account for the provenance: coils, energy kept, where the covariance came
    /// from.
    pub fn describe(&self) -> String {
        format!(
            "{} → {} virtual coils (SVD), {:.3} % of the energy kept, covariance of {} samples of {}",
            self.n_physical,
            self.n_virtual,
            100.0 * self.energy_fraction(),
            self.samples,
            self.source.describe()
        )
    }
}

/// Checks that `n_virtual` is in `1 ..= n_coils` (the physical coils); the error names the
/// configuration key `key` (e.g. `stage[2].virtual_coils`).
pub fn check_virtual_coils(n_virtual: usize, n_coils: usize, key: &str) -> Result<()> {
    if n_virtual == 0 || n_virtual > n_coils {
        return Err(ReconError::config(
            key,
            format!(
                "{n_virtual} virtual coils asked for, the data have {n_coils} physical coils; \
                 use 1 to {n_coils}"
            ),
        ));
    }
    Ok(())
}

/// `Σ_s x[s] x[s]ᴴ` (row major) over `rows` coil vectors whose conjugates `fill` writes.
fn covariance<F>(nc: usize, rows: usize, fill: F) -> Vec<C64>
where
    F: Fn(usize, &mut [C64]) + Sync,
{
    let g = gram_of_rows(rows, nc, fill);
    let mut out = Vec::with_capacity(nc * nc);
    for i in 0..nc {
        for j in 0..nc {
            out.push(g[(i, j)]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CpuBackend;

    /// `[coil, sample]` data of `rank` independent sources mixed into `nc` coils plus a little
    /// noise (deterministic).
    fn mixed(nc: usize, s: usize, rank: usize) -> Vec<C32> {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 11) as f32 / (1u64 << 53) as f32 - 0.5
        };
        let mix: Vec<C32> = (0..nc * rank).map(|_| C32::new(next(), next())).collect();
        let src: Vec<C32> = (0..rank * s)
            .map(|i| C32::new(next(), next()) * (1.0 + (i / s) as f32 * 3.0))
            .collect();
        let mut out = vec![C32::new(0.0, 0.0); nc * s];
        for c in 0..nc {
            for t in 0..s {
                let mut v: C32 = (0..rank).map(|r| mix[c * rank + r] * src[r * s + t]).sum();
                v += C32::new(next(), next()) * 1e-3;
                out[c * s + t] = v;
            }
        }
        out
    }

    #[test]
    fn compressed_coils_are_uncorrelated_and_keep_the_signal_subspace() {
        let (nc, s, rank) = (8, 4000, 3);
        let x = mixed(nc, s, rank);
        let cc = CoilCompression::from_samples(&x, nc, rank).unwrap();
        assert_eq!(cc.eigenvalues.len(), nc);
        assert!(cc.eigenvalues.windows(2).all(|w| w[0] >= w[1]));
        // Three sources and noise of 1e-3: the energy is in three virtual coils.
        assert!(cc.energy_fraction() > 0.9999, "{}", cc.energy_fraction());
        let be = CpuBackend::new();
        let y = cc.apply_host(&x).unwrap();
        assert_eq!(y.len(), rank * s);
        // The backend path agrees with the host path.
        let yb = be.download(&cc.apply(&be, &be.upload(&x)).unwrap());
        let diff = crate::metrics::max_abs_diff(&y, &yb).unwrap();
        assert!(diff < 1e-5, "host and backend differ by {diff}");
        // Virtual-coil covariance: diagonal with the top eigenvalues.
        for i in 0..rank {
            for j in 0..rank {
                let v: C64 = (0..s)
                    .map(|t| {
                        let (a, b) = (y[i * s + t], y[j * s + t]);
                        C64::new(f64::from(a.re), f64::from(a.im))
                            * C64::new(f64::from(b.re), -f64::from(b.im))
                    })
                    .sum();
                let want = if i == j { cc.eigenvalues[i] } else { 0.0 };
                assert!(
                    (v - C64::new(want, 0.0)).norm() < 1e-4 * cc.eigenvalues[0],
                    "cov[{i}][{j}] = {v}, want {want}"
                );
            }
        }
        // Rows of A orthonormal; the largest coefficient of every row real positive.
        for i in 0..rank {
            let row = &cc.matrix[i * nc..(i + 1) * nc];
            let big = row
                .iter()
                .max_by(|a, b| a.norm_sqr().total_cmp(&b.norm_sqr()))
                .unwrap();
            assert!(big.im.abs() < 1e-6 && big.re > 0.0, "{big}");
            for j in 0..rank {
                let d: C32 = row
                    .iter()
                    .zip(&cc.matrix[j * nc..(j + 1) * nc])
                    .map(|(a, b)| a * b.conj())
                    .sum();
                let want = if i == j { 1.0 } else { 0.0 };
                assert!(
                    (d - C32::new(want, 0.0)).norm() < 1e-5,
                    "<a{i}, a{j}> = {d}"
                );
            }
        }
        // Every coil vector is reproduced from its compressed form: x ≈ Aᴴ y.
        let mut err = 0f64;
        let mut norm = 0f64;
        for t in 0..s {
            for c in 0..nc {
                let back: C32 = (0..rank)
                    .map(|v| cc.matrix[v * nc + c].conj() * y[v * s + t])
                    .sum();
                err += f64::from((back - x[c * s + t]).norm_sqr());
                norm += f64::from(x[c * s + t].norm_sqr());
            }
        }
        assert!(
            (err / norm).sqrt() < 1e-2,
            "relative error {}",
            (err / norm).sqrt()
        );
    }

    #[test]
    fn too_many_virtual_coils_name_the_key() {
        let x = mixed(4, 100, 2);
        let e = CoilCompression::from_samples(&x, 4, 5)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("virtual_coils") && e.contains("4 physical"),
            "{e}"
        );
        assert!(CoilCompression::from_samples(&x, 4, 0).is_err());
        assert!(CoilCompression::from_samples(&vec![C32::new(0.0, 0.0); 400], 4, 2).is_err());
        assert!(CoilCompression::from_samples(&x[..399], 4, 2).is_err());
    }
}
