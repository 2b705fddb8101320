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
//! - [`conventions`]: the one definition of FFT centring and scaling, k-space centre, readout
//!   oversampling removal and output array layouts.
//!
//! Algorithms never touch files; reading raw data and writing images is the caller's job.

pub mod backend;
pub mod conventions;
pub mod error;
pub mod linop;
pub mod solve;

pub use backend::{Backend, C32, CpuBackend, Device, FftDirection};
pub use error::{ReconError, Result};
