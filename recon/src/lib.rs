//! Accord reconstruction engine: from ISMRMRD raw data to images, with one configuration that
//! fully determines the pipeline so that every vendor's data gets the identical
//! reconstruction.
//!
//! Layers, bottom up (BART's folders as layers, sigpy's operators):
//! - [`backend`]: where buffers live and how the numerical kernels run (the CPU backend on
//!   rayon + rustfft; a CUDA backend slots in behind the same trait).
//! - [`linop`]: linear operators with forward, adjoint and normal, and the dot-product test
//!   every operator passes.
//! - [`coils`]: coil sensitivity maps (ESPIRiT, adaptive Walsh / Inati).
//! - [`grappa`]: GRAPPA k-space completion from calibration lines.
//! - [`conventions`]: the one definition of FFT centring and scaling, k-space centre, readout
//!   oversampling removal and output array layouts.
//!
//! Algorithms never touch files; reading raw data and writing images is the caller's job.

pub mod backend;
pub mod coils;
pub mod conventions;
pub mod error;
pub mod grappa;
pub mod linop;

pub use backend::{Backend, C32, CpuBackend, Device, FftDirection};
pub use error::{ReconError, Result};
