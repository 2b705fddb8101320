//! The reconstruction configuration: one TOML file fully determines the pipeline, so that every
//! vendor's raw data of a protocol is reconstructed by the same algorithms with the same
//! parameters.
//!
//! ```toml
//! schema_version = 1
//!
//! [[stage]]
//! kind = "prewhiten"            # noise covariance from the noise readouts
//!
//! [[stage]]
//! kind = "remove_oversampling"
//!
//! [[stage]]
//! kind = "sensitivities"
//! method = "espirit"
//!
//! [[stage]]
//! kind = "sense"
//! lambda = 0.001
//! iterations = 50
//! ```
//!
//! Every parameter has a documented default; [`ReconConfig::explain`] prints the resolved
//! pipeline with all of them. Unknown keys and unknown stage kinds are errors with the line.

use serde::{Deserialize, Serialize};

use crate::error::{ReconError, Result};
use crate::solve::FistaOrder;

/// The configuration schema this build reads.
pub const SCHEMA_VERSION: u32 = 1;

/// A whole reconstruction configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReconConfig {
    /// Must be [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Where it runs.
    #[serde(default)]
    pub backend: BackendConfig,
    /// The stages, in order.
    #[serde(rename = "stage", default)]
    pub stages: Vec<Stage>,
    /// What is written.
    #[serde(default)]
    pub output: OutputConfig,
}

/// `[backend]`: the device (the command line's `--backend` overrides it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackendConfig {
    /// `cpu`, `cuda` or `cuda:N`.
    #[serde(default = "default_device")]
    pub device: String,
}

impl Default for BackendConfig {
    fn default() -> Self {
        BackendConfig {
            device: default_device(),
        }
    }
}

fn default_device() -> String {
    "cpu".into()
}

/// `[output]`: what the images are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct OutputConfig {
    /// Write complex images instead of magnitude (`.npy`: complex64; the command line's
    /// `--complex` sets it too).
    #[serde(default)]
    pub complex: bool,
}

/// When the noise prewhitening stage finds no noise readouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum NoiseRequirement {
    /// Whiten when noise readouts exist, else skip the stage (recorded in the provenance).
    #[default]
    IfPresent,
    /// Fail without noise readouts.
    Required,
}

/// Coil-sensitivity estimation methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MapsMethod {
    /// ESPIRiT (Uecker 2014), like `bart ecalib -m1`.
    Espirit,
    /// Adaptive (Walsh 2000 / Inati) from a low-resolution image.
    Walsh,
    /// Direct (McKenzie 2002): Kaiser–Bessel-windowed calibration region / its RSS, like
    /// `bart caldir`.
    Direct,
}

/// Coil combination methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CombineMethod {
    /// Root sum of squares.
    #[default]
    Rss,
    /// Sensitivity-weighted (`Σ conj(S)·x`, with the estimated maps).
    Sensitivity,
}

/// Sparsifying transforms of compressed sensing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Regulariser {
    /// l1 norm of an orthonormal Daubechies wavelet transform.
    Wavelet,
    /// Total variation (l1 norm of finite differences).
    Tv,
}

/// Solvers of compressed sensing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CsAlgorithm {
    /// FISTA (Beck & Teboulle 2009).
    Fista,
    /// ADMM (Boyd 2011) with inner CG.
    Admm,
}

/// Partial-Fourier methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartialFourierMethod {
    /// Zero filling.
    ZeroFill,
    /// Homodyne detection.
    Homodyne,
    /// Projection onto convex sets.
    Pocs,
}

/// Density compensation of non-Cartesian data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DensityCompensation {
    /// |k| ramp (radial).
    Ramp,
    /// Iterative (Pipe & Menon 1999).
    Pipe,
    /// None.
    None,
}

/// One stage of the pipeline, by `kind`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Stage {
    /// Noise prewhitening with the covariance of the noise readouts, bandwidth-scaled.
    Prewhiten {
        /// What to do without noise readouts.
        #[serde(default)]
        noise: NoiseRequirement,
    },
    /// Readout oversampling removal (iFFT along x, keep the central recon x samples).
    RemoveOversampling,
    /// Coil compression by SVD/PCA of the k-space data to `virtual_coils`.
    CoilCompress {
        /// Number of virtual coils.
        virtual_coils: usize,
    },
    /// Coil sensitivity estimation.
    Sensitivities {
        /// ESPIRiT, Walsh or direct.
        #[serde(default = "default_maps_method")]
        method: MapsMethod,
        /// Calibration region size per phase-encoding axis (0 = the data's ACS block).
        #[serde(default)]
        calibration: usize,
        /// ESPIRiT kernel size.
        #[serde(default = "default_espirit_kernel")]
        kernel: usize,
        /// ESPIRiT singular-value threshold (relative), BART `ecalib -t`.
        #[serde(default = "default_espirit_threshold")]
        threshold: f64,
        /// ESPIRiT eigenvalue crop, BART `ecalib -c`.
        #[serde(default = "default_espirit_crop")]
        crop: f64,
        /// Walsh smoothing window (pixels).
        #[serde(default = "default_walsh_window")]
        window: usize,
    },
    /// GRAPPA with a Tikhonov-regularised calibration.
    Grappa {
        /// Kernel size `[ky, kx]` (pygrappa's `kernel_size`).
        #[serde(default = "default_grappa_kernel")]
        kernel: [usize; 2],
        /// Tikhonov regularisation relative to the calibration matrix norm (pygrappa's `lamda`).
        #[serde(default = "default_grappa_lambda")]
        lambda: f64,
    },
    /// CG-SENSE: `min ‖A x − y‖² + λ‖x‖²`.
    Sense {
        /// Tikhonov weight.
        #[serde(default = "default_sense_lambda")]
        lambda: f64,
        /// CG iterations.
        #[serde(default = "default_sense_iterations")]
        iterations: usize,
        /// Stop when the residual falls below this fraction of the initial one (0 = never).
        #[serde(default)]
        tolerance: f64,
    },
    /// Compressed sensing: `min ½‖A x − y‖² + λ R(x)`.
    Cs {
        /// Wavelet or total variation.
        #[serde(default = "default_regulariser")]
        regulariser: Regulariser,
        /// Regularisation weight.
        #[serde(default = "default_cs_lambda")]
        lambda: f64,
        /// Iterations.
        #[serde(default = "default_cs_iterations")]
        iterations: usize,
        /// FISTA or ADMM.
        #[serde(default = "default_cs_algorithm")]
        algorithm: CsAlgorithm,
        /// Random cycle spinning of the wavelet (BART `pics -R W` without `-n`; fixed seed):
        /// wavelet regulariser with FISTA only.
        #[serde(default)]
        random_shift: bool,
        /// Order of the FISTA steps: `"bart"` (threshold, momentum, gradient step; the result
        /// is the last gradient step, as `bart pics` returns) or `"beck_teboulle"` (the result
        /// is the last threshold step); FISTA only.
        #[serde(default = "default_fista_order")]
        fista_order: FistaOrder,
    },
    /// Non-Cartesian gridding (Kaiser–Bessel) with deapodisation and density compensation.
    Nufft {
        /// Grid oversampling factor.
        #[serde(default = "default_nufft_oversampling")]
        oversampling: f64,
        /// Kernel width in grid samples.
        #[serde(default = "default_nufft_width")]
        kernel_width: usize,
        /// Density compensation of the adjoint.
        #[serde(default = "default_density")]
        density: DensityCompensation,
    },
    /// Partial Fourier.
    PartialFourier {
        /// Zero filling, homodyne or POCS.
        method: PartialFourierMethod,
        /// POCS iterations.
        #[serde(default = "default_pocs_iterations")]
        iterations: usize,
    },
    /// Coil combination (when no SENSE/CS stage combines the coils).
    Combine {
        /// RSS or sensitivity-weighted.
        #[serde(default = "default_combine")]
        method: CombineMethod,
    },
}

fn default_maps_method() -> MapsMethod {
    MapsMethod::Espirit
}
fn default_espirit_kernel() -> usize {
    6
}
fn default_espirit_threshold() -> f64 {
    0.001
}
fn default_espirit_crop() -> f64 {
    0.8
}
fn default_walsh_window() -> usize {
    7
}
fn default_grappa_kernel() -> [usize; 2] {
    [5, 5]
}
fn default_grappa_lambda() -> f64 {
    0.01
}
fn default_sense_lambda() -> f64 {
    0.001
}
fn default_sense_iterations() -> usize {
    50
}
fn default_regulariser() -> Regulariser {
    Regulariser::Wavelet
}
fn default_cs_lambda() -> f64 {
    0.005
}
fn default_cs_iterations() -> usize {
    100
}
fn default_cs_algorithm() -> CsAlgorithm {
    CsAlgorithm::Fista
}
fn default_fista_order() -> FistaOrder {
    FistaOrder::Bart
}
fn default_nufft_oversampling() -> f64 {
    2.0
}
fn default_nufft_width() -> usize {
    4
}
fn default_density() -> DensityCompensation {
    DensityCompensation::Ramp
}
fn default_pocs_iterations() -> usize {
    10
}
fn default_combine() -> CombineMethod {
    CombineMethod::Rss
}

impl Stage {
    /// The stage's `kind` as written in the file.
    pub fn kind(&self) -> &'static str {
        match self {
            Stage::Prewhiten { .. } => "prewhiten",
            Stage::RemoveOversampling => "remove_oversampling",
            Stage::CoilCompress { .. } => "coil_compress",
            Stage::Sensitivities { .. } => "sensitivities",
            Stage::Grappa { .. } => "grappa",
            Stage::Sense { .. } => "sense",
            Stage::Cs { .. } => "cs",
            Stage::Nufft { .. } => "nufft",
            Stage::PartialFourier { .. } => "partial_fourier",
            Stage::Combine { .. } => "combine",
        }
    }

    /// Where the stage may stand: stages of a lower rank come first.
    fn rank(&self) -> u8 {
        match self {
            Stage::Prewhiten { .. } => 0,
            Stage::RemoveOversampling => 1,
            Stage::CoilCompress { .. } => 2,
            Stage::Nufft { .. } => 3,
            Stage::Sensitivities { .. } => 4,
            Stage::Grappa { .. } | Stage::PartialFourier { .. } => 5,
            Stage::Sense { .. } | Stage::Cs { .. } => 6,
            Stage::Combine { .. } => 7,
        }
    }
}

impl ReconConfig {
    /// Parses and checks a configuration; `origin` names it in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<ReconConfig> {
        let cfg: ReconConfig = toml::from_str(text).map_err(|e| {
            let msg = e.message().to_string();
            let line = offending_line(text, &msg).or_else(|| {
                e.span()
                    .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
            });
            let key = line.map_or_else(String::new, |l| format!("line {l}"));
            ReconError::config(key, msg).with_file(origin)
        })?;
        cfg.check().map_err(|e| e.with_file(origin))?;
        Ok(cfg)
    }

    /// Checks values and stage order.
    pub fn check(&self) -> Result<()> {
        if self.schema_version != SCHEMA_VERSION {
            return Err(ReconError::config(
                "schema_version",
                format!(
                    "{} is not supported; this build reads schema_version = {SCHEMA_VERSION}",
                    self.schema_version
                ),
            ));
        }
        crate::backend::Device::parse(&self.backend.device)?;
        if self.stages.is_empty() {
            return Err(ReconError::config(
                "stage",
                "no stages; give at least one [[stage]] (e.g. kind = \"combine\")",
            ));
        }
        for (i, pair) in self.stages.windows(2).enumerate() {
            if pair[1].rank() < pair[0].rank() {
                return Err(ReconError::config(
                    format!("stage[{}]", i + 1),
                    format!(
                        "'{}' cannot come after '{}'; the order is prewhiten, remove_oversampling, coil_compress, nufft, sensitivities, grappa/partial_fourier, sense/cs, combine",
                        pair[1].kind(),
                        pair[0].kind()
                    ),
                ));
            }
        }
        for (i, s) in self.stages.iter().enumerate() {
            if self.stages[..i].iter().any(|t| t.kind() == s.kind()) {
                return Err(ReconError::config(
                    format!("stage[{i}]"),
                    format!("'{}' appears twice", s.kind()),
                ));
            }
            let key = |k: &str| format!("stage[{i}].{k}");
            let positive = |k: &str, v: f64| {
                if v.is_finite() && v > 0.0 {
                    Ok(())
                } else {
                    Err(ReconError::config(key(k), format!("{v} must be positive")))
                }
            };
            let nonneg = |k: &str, v: f64| {
                if v.is_finite() && v >= 0.0 {
                    Ok(())
                } else {
                    Err(ReconError::config(key(k), format!("{v} must be ≥ 0")))
                }
            };
            match s {
                Stage::CoilCompress { virtual_coils } => {
                    positive("virtual_coils", *virtual_coils as f64)?
                }
                Stage::Sensitivities {
                    kernel,
                    threshold,
                    crop,
                    window,
                    ..
                } => {
                    positive("kernel", *kernel as f64)?;
                    nonneg("threshold", *threshold)?;
                    if !(0.0..1.0).contains(crop) {
                        return Err(ReconError::config(
                            key("crop"),
                            format!("{crop} must be in [0, 1)"),
                        ));
                    }
                    positive("window", *window as f64)?;
                }
                Stage::Grappa { kernel, lambda } => {
                    positive("kernel", (kernel[0] * kernel[1]) as f64)?;
                    nonneg("lambda", *lambda)?;
                }
                Stage::Sense {
                    lambda,
                    iterations,
                    tolerance,
                } => {
                    nonneg("lambda", *lambda)?;
                    positive("iterations", *iterations as f64)?;
                    nonneg("tolerance", *tolerance)?;
                }
                Stage::Cs {
                    lambda,
                    iterations,
                    regulariser,
                    algorithm,
                    random_shift,
                    ..
                } => {
                    nonneg("lambda", *lambda)?;
                    positive("iterations", *iterations as f64)?;
                    if *random_shift
                        && (*regulariser != Regulariser::Wavelet
                            || *algorithm != CsAlgorithm::Fista)
                    {
                        return Err(ReconError::config(
                            key("random_shift"),
                            "cycle spinning applies to the wavelet regulariser with FISTA only",
                        ));
                    }
                }
                Stage::Nufft {
                    oversampling,
                    kernel_width,
                    ..
                } => {
                    if !(*oversampling >= 1.0 && *oversampling <= 4.0) {
                        return Err(ReconError::config(
                            key("oversampling"),
                            format!("{oversampling} must be in [1, 4]"),
                        ));
                    }
                    positive("kernel_width", *kernel_width as f64)?;
                }
                Stage::PartialFourier { iterations, .. } => {
                    positive("iterations", *iterations as f64)?
                }
                Stage::Prewhiten { .. } | Stage::RemoveOversampling | Stage::Combine { .. } => {}
            }
        }
        let has = |k: &str| self.stages.iter().any(|s| s.kind() == k);
        if (has("sense") || has("cs")) && !has("sensitivities") {
            return Err(ReconError::config(
                "stage",
                "sense and cs need coil maps: add a 'sensitivities' stage before them",
            ));
        }
        Ok(())
    }

    /// The resolved configuration with every default written out (TOML), for `--explain` and
    /// the provenance.
    pub fn resolved_toml(&self) -> String {
        toml::to_string(self).unwrap_or_else(|e| format!("# cannot print: {e}\n"))
    }

    /// A human-readable account of the pipeline: each stage, what it does, all parameters.
    pub fn explain(&self) -> String {
        let mut out =
            String::from("# Resolved reconstruction pipeline (all defaults written out)\n");
        for (i, s) in self.stages.iter().enumerate() {
            out.push_str(&format!("# stage[{i}] {}: {}\n", s.kind(), describe(s)));
        }
        out.push('\n');
        out.push_str(&self.resolved_toml());
        out
    }
}

/// The line of the key or value a serde message names (`unknown field \`x\``, `unknown variant
/// \`y\``): toml's span covers the whole table of an array element, not the key.
fn offending_line(text: &str, msg: &str) -> Option<usize> {
    let name = msg.split('`').nth(1)?;
    let (is_field, is_variant) = (
        msg.starts_with("unknown field"),
        msg.starts_with("unknown variant"),
    );
    text.lines()
        .position(|l| {
            let t = l.trim_start();
            (is_field
                && t.strip_prefix(name)
                    .is_some_and(|r| r.trim_start().starts_with('=')))
                || (is_variant && t.contains(&format!("\"{name}\"")))
        })
        .map(|i| i + 1)
}

fn describe(s: &Stage) -> &'static str {
    match s {
        Stage::Prewhiten { .. } => {
            "noise covariance from ACQ_IS_NOISE_MEASUREMENT readouts (bandwidth-scaled), data whitened by its inverse Cholesky factor"
        }
        Stage::RemoveOversampling => {
            "inverse FFT along x, keep the central reconSpace x samples, FFT back"
        }
        Stage::CoilCompress { .. } => "SVD of the coil data, keep the strongest virtual coils",
        Stage::Sensitivities { .. } => "coil sensitivity maps from the calibration region",
        Stage::Grappa { .. } => "GRAPPA kernel calibrated on the ACS lines fills the missing lines",
        Stage::Sense { .. } => "CG-SENSE: conjugate gradient on (AᴴA + λI) x = Aᴴy",
        Stage::Cs { .. } => "compressed sensing: ½‖Ax − y‖² + λR(x)",
        Stage::Nufft { .. } => "Kaiser–Bessel gridding, deapodisation, density compensation",
        Stage::PartialFourier { .. } => "partial-Fourier reconstruction of the unsampled part",
        Stage::Combine { .. } => "coil combination",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SENSE: &str = "schema_version = 1\n\n[[stage]]\nkind = \"prewhiten\"\n\n[[stage]]\nkind = \"sensitivities\"\n\n[[stage]]\nkind = \"sense\"\niterations = 30\n";

    #[test]
    fn defaults_are_filled_and_explained() {
        let c = ReconConfig::from_toml(SENSE, "s.toml").unwrap();
        assert_eq!(c.stages.len(), 3);
        assert_eq!(
            c.stages[2],
            Stage::Sense {
                lambda: 0.001,
                iterations: 30,
                tolerance: 0.0
            }
        );
        let e = c.explain();
        assert!(
            e.contains("crop = 0.8") && e.contains("threshold = 0.001"),
            "{e}"
        );
        // The resolved TOML reads back to the same configuration.
        let back = ReconConfig::from_toml(&c.resolved_toml(), "r.toml").unwrap();
        assert_eq!(back, c);
    }

    /// The message of the error of parsing `text` as `s.toml`.
    fn config_error(text: &str) -> String {
        ReconConfig::from_toml(text, "s.toml")
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn unknown_keys_stages_and_bad_values_are_errors_with_the_place() {
        let e = config_error(&SENSE.replace("iterations", "iteration"));
        assert!(
            e.contains("s.toml") && e.contains("line 11") && e.contains("iteration"),
            "{e}"
        );
        let e = config_error(&SENSE.replace("\"sense\"", "\"sensible\""));
        assert!(e.contains("sensible"), "{e}");
        let e = config_error(&SENSE.replace("30", "0"));
        assert!(e.contains("stage[2].iterations"), "{e}");
        let e = config_error("schema_version = 1\n[[stage]]\nkind = \"sense\"\n");
        assert!(e.contains("add a 'sensitivities' stage"), "{e}");
        let e = config_error(
            "schema_version = 1\n[[stage]]\nkind = \"combine\"\n[[stage]]\nkind = \"prewhiten\"\n",
        );
        assert!(
            e.contains("stage[1]") && e.contains("cannot come after"),
            "{e}"
        );
        let e = config_error("schema_version = 2\n[[stage]]\nkind = \"combine\"\n");
        assert!(e.contains("schema_version"), "{e}");
        let e = config_error(
            "schema_version = 1\n[[stage]]\nkind = \"sensitivities\"\n[[stage]]\nkind = \"cs\"\nregulariser = \"tv\"\nrandom_shift = true\n",
        );
        assert!(
            e.contains("stage[1].random_shift") && e.contains("FISTA only"),
            "{e}"
        );
        let e = config_error(
            "schema_version = 1\n[[stage]]\nkind = \"sensitivities\"\n[[stage]]\nkind = \"cs\"\nfista_order = \"nesterov\"\n",
        );
        assert!(
            e.contains("s.toml") && e.contains("nesterov") && e.contains("beck_teboulle"),
            "{e}"
        );
        let e = config_error(
            "schema_version = 1\n[backend]\ndevice = \"tpu\"\n[[stage]]\nkind = \"combine\"\n",
        );
        assert!(e.contains("tpu"), "{e}");
    }
}
