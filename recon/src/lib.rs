//! Accord reconstruction engine: from ISMRMRD raw data to images, with one configuration that
//! fully determines the pipeline so that every vendor's data gets the identical
//! reconstruction.
//!
//! Layers, bottom up (BART's folders as layers, sigpy's operators):
//! - [`backend`]: where buffers live and how the numerical kernels run (the CPU backend on
//!   rayon + rustfft; a CUDA backend slots in behind the same trait).
//! - [`linop`]: linear operators with forward, adjoint and normal, and the dot-product test
//!   every operator passes.
//! - [`solve`]: iterative solvers on those operators (CG-SENSE, FISTA, ADMM) with proximal
//!   operators and a power iteration.
//! - [`coils`]: coil sensitivity maps (ESPIRiT, adaptive Walsh / Inati).
//! - [`grappa`]: GRAPPA k-space completion from calibration lines.
//! - [`coil_compress`]: SVD coil compression to fewer virtual coils.
//! - [`partial_fourier`]: partial-Fourier completion (zero filling, homodyne, POCS).
//! - [`config`]: the one TOML file that fixes the pipeline for every vendor.
//! - [`conventions`]: the one definition of FFT centring and scaling, k-space centre, readout
//!   oversampling removal and output array layouts.
//! - [`kspace`]: Cartesian k-space assembly from ISMRMRD readouts by their counters (coil
//!   k-space, sampling mask, calibration lines, noise readouts, geometry).
//! - [`prewhiten`], [`oversampling`], [`combine`]: noise prewhitening, readout oversampling
//!   removal, coil combination; [`rss`]: the complete fully sampled RSS reconstruction.
//! - [`pipeline`]: the runner that applies a configuration's stages to raw data.
//! - [`nufft`]: the Kaiser–Bessel NUFFT operator and density compensation; [`noncart`]:
//!   non-Cartesian readouts with their trajectory, gridding and CG-SENSE reconstructions.
//! - [`metrics`]: NRMSE as the reference data define it.
//! - [`provenance`]: the JSON sidecar that ties every output to its config, input and backend.
//! - [`io`]: `.npy` files and NIfTI encoding.
//!
//! Algorithms never touch files; reading raw data and writing images is the caller's job (and
//! [`io`]'s).

pub mod backend;
pub mod coil_compress;
pub mod coils;
pub mod combine;
pub mod config;
pub mod conventions;
pub mod error;
pub mod grappa;
pub mod io;
pub mod kspace;
pub mod linop;
pub mod metrics;
pub mod noncart;
pub mod nufft;
pub mod oversampling;
pub mod partial_fourier;
pub mod pipeline;
pub mod prewhiten;
pub mod provenance;
pub mod rss;
pub mod scaling;
pub mod solve;

pub use backend::{Backend, C32, CpuBackend, Device, FftDirection};
pub use error::{ReconError, Result};
