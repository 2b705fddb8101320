//! Noise prewhitening: the receiver-noise covariance from the noise readouts, the inverse of
//! its Cholesky factor, and its application to coil data (Gadgetron's `NoiseAdjustGadget`).
//!
//! With noise samples `n_c[s]` (`S` of them per coil, `[coil, sample]`):
//!
//! ```text
//! Ψ = (1/S) Σ_s n[s] n[s]ᴴ          (coil × coil, accumulated in f64)
//! Ψ = L Lᴴ                          (Cholesky, L lower triangular)
//! W = β · L⁻¹                       (the prewhitening matrix; data ← W · data per sample)
//! ```
//!
//! so that whitened noise has identity covariance (`W Ψ Wᴴ = β² I`). The bandwidth factor β
//! accounts for noise acquired with a different dwell time than the imaging data: noise power
//! per sample scales with the receiver bandwidth `1/dwell`, so the imaging noise covariance is
//! `Ψ · t_noise/t_acq` and
//!
//! - [`BandwidthScaling::Dwell`] (default): `β = sqrt(t_acq / t_noise)` — whitened imaging
//!   noise has unit variance per sample;
//! - [`BandwidthScaling::Gadgetron`]: `β = sqrt(2 · t_acq / t_noise · relativeReceiverNoiseBandwidth)`,
//!   exactly Gadgetron's `noise_bw_scale_factor` (its extra `2 · rbw` is a constant scale).
//!
//! with `t_acq`, `t_noise` the readouts' `sample_time_us`; β = 1 when either is 0 (unset).
//! Gadgetron divides Ψ by `S − 1`; the reference data (`rss_whitened`) and this module by `S`.

use crate::backend::{Backend, C32, C64};
use crate::error::{ReconError, Result};
use crate::kspace::NoiseData;

/// How the prewhitening matrix is scaled for the dwell-time difference (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum BandwidthScaling {
    /// `β = sqrt(t_acq / t_noise)`: unit noise variance in the whitened imaging data.
    #[default]
    Dwell,
    /// Gadgetron's `β = sqrt(2 · t_acq / t_noise · relative_bandwidth)`.
    Gadgetron {
        /// `acquisitionSystemInformation.relativeReceiverNoiseBandwidth` (Gadgetron: 0.793
        /// when absent).
        relative_bandwidth: f32,
    },
}

impl BandwidthScaling {
    /// The factor β for noise dwell `noise_dwell_us` and imaging dwell `acq_dwell_us`.
    pub fn factor(self, noise_dwell_us: f32, acq_dwell_us: f32) -> f64 {
        if !(noise_dwell_us > 0.0 && acq_dwell_us > 0.0) {
            return 1.0;
        }
        let ratio = f64::from(acq_dwell_us) / f64::from(noise_dwell_us);
        match self {
            BandwidthScaling::Dwell => ratio.sqrt(),
            BandwidthScaling::Gadgetron { relative_bandwidth } => {
                (2.0 * ratio * f64::from(relative_bandwidth)).sqrt()
            }
        }
    }
}

/// Noise covariance `Ψ = (1/S) Σ_s n nᴴ` of `[coil, sample]` noise, row major (`Ψ[i][j] =
/// (1/S) Σ_s n_i[s] · conj(n_j[s])`).
pub fn noise_covariance(noise: &[C32], n_coils: usize) -> Result<Vec<C64>> {
    if n_coils == 0 || noise.is_empty() || noise.len() % n_coils != 0 {
        return Err(ReconError::shape(
            "noise_covariance",
            format!("{} noise samples for {n_coils} coils", noise.len()),
        ));
    }
    let s = noise.len() / n_coils;
    let to64 = |v: C32| C64::new(f64::from(v.re), f64::from(v.im));
    let mut psi = vec![C64::new(0.0, 0.0); n_coils * n_coils];
    for i in 0..n_coils {
        let ni = &noise[i * s..(i + 1) * s];
        for j in 0..=i {
            let nj = &noise[j * s..(j + 1) * s];
            let acc: C64 = ni
                .iter()
                .zip(nj)
                .map(|(&a, &b)| to64(a) * to64(b).conj())
                .sum();
            let v = acc / s as f64;
            psi[i * n_coils + j] = v;
            psi[j * n_coils + i] = v.conj();
        }
    }
    Ok(psi)
}

/// Lower Cholesky factor `L` of a Hermitian matrix (`a = L Lᴴ`), row major. Fails on the first
/// channel whose pivot is not positive (relative to its diagonal).
fn cholesky(a: &[C64], n: usize, labels: &[String]) -> Result<Vec<C64>> {
    let mut l = vec![C64::new(0.0, 0.0); n * n];
    for j in 0..n {
        let diag = a[j * n + j].re;
        let name = channel_name(j, labels);
        if !diag.is_finite() || diag <= 0.0 {
            return Err(ReconError::numerical(
                "prewhiten",
                format!(
                    "noise covariance is not positive definite: {name} has noise variance {diag:e} \
                     (a dead or disconnected channel?)"
                ),
            ));
        }
        let mut d = diag;
        for k in 0..j {
            d -= l[j * n + k].norm_sqr();
        }
        if !d.is_finite() || d <= diag * 1e-10 {
            return Err(ReconError::numerical(
                "prewhiten",
                format!(
                    "noise covariance is not positive definite at {name}: its noise is a linear \
                     combination of the preceding channels (Cholesky pivot {d:e}, variance {diag:e})"
                ),
            ));
        }
        let djj = d.sqrt();
        l[j * n + j] = C64::new(djj, 0.0);
        for i in j + 1..n {
            let mut v = a[i * n + j];
            for k in 0..j {
                v -= l[i * n + k] * l[j * n + k].conj();
            }
            l[i * n + j] = v / djj;
        }
    }
    Ok(l)
}

/// Inverse of a lower-triangular matrix with a positive real diagonal (forward substitution).
fn invert_lower(l: &[C64], n: usize) -> Vec<C64> {
    let mut w = vec![C64::new(0.0, 0.0); n * n];
    for col in 0..n {
        w[col * n + col] = C64::new(1.0, 0.0) / l[col * n + col];
        for i in col + 1..n {
            let mut v = C64::new(0.0, 0.0);
            for k in col..i {
                v += l[i * n + k] * w[k * n + col];
            }
            w[i * n + col] = -v / l[i * n + i];
        }
    }
    w
}

fn channel_name(j: usize, labels: &[String]) -> String {
    match labels.get(j).filter(|s| !s.is_empty()) {
        Some(l) => format!("channel {j} ('{l}')"),
        None => format!("channel {j}"),
    }
}

/// The prewhitening matrix `W = β · L⁻¹` for a fixed number of coils.
#[derive(Debug, Clone, PartialEq)]
pub struct Prewhitener {
    /// Number of coils.
    pub n_coils: usize,
    /// Noise covariance Ψ (before bandwidth scaling), row major, `n_coils × n_coils`.
    pub covariance: Vec<C64>,
    /// `W`, lower triangular, row major, `n_coils × n_coils`.
    pub matrix: Vec<C32>,
    /// The bandwidth factor β applied to `W`.
    pub bandwidth_factor: f64,
}

impl Prewhitener {
    /// Prewhitener from noise samples `[coil, sample]` with per-channel names for errors
    /// (`labels` may be empty) and the bandwidth factor `beta`.
    pub fn from_samples(
        noise: &[C32],
        n_coils: usize,
        labels: &[String],
        beta: f64,
    ) -> Result<Self> {
        if let Some(p) = noise
            .iter()
            .position(|v| !(v.re.is_finite() && v.im.is_finite()))
        {
            let s = noise.len() / n_coils.max(1);
            return Err(ReconError::numerical(
                "prewhiten",
                format!(
                    "non-finite noise sample at {}",
                    channel_name(p / s.max(1), labels)
                ),
            ));
        }
        let covariance = noise_covariance(noise, n_coils)?;
        let l = cholesky(&covariance, n_coils, labels)?;
        let w = invert_lower(&l, n_coils);
        let matrix = w
            .iter()
            .map(|v| C32::new((v.re * beta) as f32, (v.im * beta) as f32))
            .collect();
        Ok(Prewhitener {
            n_coils,
            covariance,
            matrix,
            bandwidth_factor: beta,
        })
    }

    /// Prewhitener from the assembled noise readouts, for imaging data of dwell time
    /// `acq_dwell_us` (see the module docs for the scaling).
    pub fn from_noise(
        noise: &NoiseData,
        acq_dwell_us: f32,
        scaling: BandwidthScaling,
    ) -> Result<Self> {
        let beta = scaling.factor(noise.dwell_us, acq_dwell_us);
        Self::from_samples(&noise.data, noise.n_coils, &noise.channel_labels, beta)
    }

    /// Whitens coil data `[coil, rest…]` (coil axis first): `out[c, i] = Σ_k W[c, k] · x[k, i]`,
    /// one matrix product on the backend. Returns the whitened buffer.
    pub fn apply<B: Backend>(&self, be: &B, x: &B::Buf) -> Result<B::Buf> {
        let len = be.len(x);
        let nc = self.n_coils;
        if nc == 0 || len % nc != 0 {
            return Err(ReconError::shape(
                "prewhiten",
                format!("{len} samples are not a whole number of {nc}-coil samples"),
            ));
        }
        let n = len / nc;
        let w = be.upload(&self.matrix);
        let mut out = be.zeros(len);
        be.batched_matmul(&mut out, &w, x, 1, [nc, nc, n]);
        Ok(out)
    }

    /// Whitens host coil data `[coil, rest…]` in place (see [`Prewhitener::apply`]).
    pub fn apply_host(&self, x: &mut [C32]) -> Result<()> {
        let nc = self.n_coils;
        if nc == 0 || x.len() % nc != 0 {
            return Err(ReconError::shape(
                "prewhiten",
                format!(
                    "{} samples are not a whole number of {nc}-coil samples",
                    x.len()
                ),
            ));
        }
        let n = x.len() / nc;
        let mut col = vec![C32::new(0.0, 0.0); nc];
        for i in 0..n {
            for (k, v) in col.iter_mut().enumerate() {
                *v = x[k * n + i];
            }
            for c in 0..nc {
                // W is lower triangular: only k ≤ c contribute.
                let row = &self.matrix[c * nc..c * nc + c + 1];
                x[c * n + i] = row.iter().zip(&col).map(|(&a, &b)| a * b).sum();
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CpuBackend;

    /// A small deterministic generator (xorshift + Box-Muller) for complex Gaussian noise.
    struct Rng(u64);
    impl Rng {
        fn uniform(&mut self) -> f64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            ((self.0 >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        }
        fn gauss(&mut self) -> C64 {
            let (u, v) = (self.uniform(), self.uniform());
            let r = (-2.0 * u.ln()).sqrt() * std::f64::consts::FRAC_1_SQRT_2;
            let t = 2.0 * std::f64::consts::PI * v;
            C64::new(r * t.cos(), r * t.sin())
        }
    }

    /// Correlated noise `n = M w` with unequal channel variances, `[coil, sample]`.
    fn correlated_noise(nc: usize, s: usize, seed: u64) -> Vec<C32> {
        let mut rng = Rng(seed);
        let m: Vec<C64> = (0..nc * nc)
            .map(|k| {
                let (i, j) = (k / nc, k % nc);
                if i == j {
                    C64::new(1.0 + i as f64 * 0.7, 0.0)
                } else {
                    C64::new(
                        0.3 / (1.0 + (i + j) as f64),
                        0.2 * (i as f64 - j as f64) / nc as f64,
                    )
                }
            })
            .collect();
        let mut out = vec![C32::new(0.0, 0.0); nc * s];
        let mut w = vec![C64::new(0.0, 0.0); nc];
        for t in 0..s {
            w.iter_mut().for_each(|v| *v = rng.gauss());
            for i in 0..nc {
                let v: C64 = (0..nc).map(|k| m[i * nc + k] * w[k]).sum();
                out[i * s + t] = C32::new(v.re as f32, v.im as f32);
            }
        }
        out
    }

    #[test]
    fn whitened_noise_has_identity_covariance() {
        let (nc, s) = (8, 20_000);
        let noise = correlated_noise(nc, s, 0x1234_5678);
        let pw = Prewhitener::from_samples(&noise, nc, &[], 1.0).unwrap();
        // Independent noise of the same distribution, whitened with the estimated matrix.
        let fresh = correlated_noise(nc, s, 0x9abc_def0);
        let be = CpuBackend::new();
        let white = be.download(&pw.apply(&be, &be.upload(&fresh)).unwrap());
        let cov = noise_covariance(&white, nc).unwrap();
        for i in 0..nc {
            for j in 0..nc {
                let want = if i == j { 1.0 } else { 0.0 };
                let got = cov[i * nc + j];
                assert!(
                    (got - C64::new(want, 0.0)).norm() < 0.05,
                    "whitened covariance[{i}][{j}] = {got}"
                );
            }
        }
        // The original covariance was far from identity.
        let raw = noise_covariance(&fresh, nc).unwrap();
        assert!((raw[nc * nc - 1].re - 1.0).abs() > 1.0);
        // The host path agrees with the backend path.
        let mut host = fresh.clone();
        pw.apply_host(&mut host).unwrap();
        let err = crate::metrics::max_abs_diff(&host, &white).unwrap();
        assert!(err < 1e-4, "host and backend whitening differ by {err}");
    }

    #[test]
    fn bandwidth_factor_follows_the_dwell_times() {
        assert_eq!(BandwidthScaling::Dwell.factor(5.0, 5.0), 1.0);
        assert!((BandwidthScaling::Dwell.factor(2.0, 8.0) - 2.0).abs() < 1e-12);
        assert_eq!(BandwidthScaling::Dwell.factor(0.0, 8.0), 1.0);
        let g = BandwidthScaling::Gadgetron {
            relative_bandwidth: 0.5,
        };
        assert!((g.factor(2.0, 8.0) - 2.0).abs() < 1e-12);
    }

    #[test]
    fn singular_covariance_names_the_channel() {
        let (nc, s) = (3, 1000);
        let mut noise = correlated_noise(nc, s, 42);
        // Channel 2 = channel 0 × 2: linearly dependent.
        for t in 0..s {
            noise[2 * s + t] = noise[t] * 2.0;
        }
        let labels = vec!["H1".to_string(), "H2".to_string(), "H3".to_string()];
        let e = Prewhitener::from_samples(&noise, nc, &labels, 1.0)
            .unwrap_err()
            .to_string();
        assert!(e.contains("channel 2 ('H3')"), "{e}");
        // A dead channel.
        let mut dead = correlated_noise(nc, s, 43);
        dead[s..2 * s].fill(C32::new(0.0, 0.0));
        let e = Prewhitener::from_samples(&dead, nc, &[], 1.0)
            .unwrap_err()
            .to_string();
        assert!(e.contains("channel 1"), "{e}");
    }
}
