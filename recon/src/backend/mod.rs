//! Backends: where complex buffers live and how the numerical kernels run.
//!
//! Every algorithm of the crate is written once against [`Backend`] (BART's `vec_ops`, candle's
//! device switch): buffers, elementwise complex arithmetic, reductions, the centred orthonormal
//! N-D FFT over chosen axes, coil broadcasting, gather/scatter and small batched matrix
//! products. [`CpuBackend`] implements it with rayon and rustfft; a CUDA backend (feature
//! `cuda`, a later issue) implements the same trait, and [`Device`] picks one at run time.
//!
//! Shapes are C-order (`[..., y, x]`, last axis fastest), given beside the flat buffers.
//! Reductions accumulate in `f64`.

mod cpu;

pub use cpu::CpuBackend;

use crate::error::{ReconError, Result};

/// Single-precision complex sample, the storage type of k-space and images.
pub type C32 = num_complex::Complex32;
/// Double-precision complex, the accumulator type of reductions.
pub type C64 = num_complex::Complex64;

/// Direction of an FFT in the centred orthonormal convention (see [`crate::conventions`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FftDirection {
    /// Image → k-space: `fftshift(fft(ifftshift(x))) / sqrt(N)`.
    Forward,
    /// k-space → image: `fftshift(ifft(ifftshift(k))) · sqrt(N)` (numpy's `ifft` has `1/N`).
    Inverse,
}

/// The numerical kernels every algorithm is written against.
///
/// `Buf` is a flat buffer of [`C32`] on the backend's device; `Idx` a buffer of sample
/// indices (for sampling masks and gridding). All element counts must agree where an
/// operation combines buffers; a mismatch is a caller bug and panics.
pub trait Backend: Send + Sync + std::fmt::Debug {
    /// A complex buffer on this backend.
    type Buf: Send + Sync + std::fmt::Debug;
    /// An index buffer on this backend.
    type Idx: Send + Sync + std::fmt::Debug;

    /// Short name for provenance and messages (`cpu`, `cuda:0`).
    fn name(&self) -> String;

    /// A buffer of `n` zeros.
    fn zeros(&self, n: usize) -> Self::Buf;
    /// A buffer holding `host`.
    fn upload(&self, host: &[C32]) -> Self::Buf;
    /// A buffer holding `host`, taking the vector over (no copy where the buffer is a host
    /// vector; the default copies).
    fn upload_vec(&self, host: Vec<C32>) -> Self::Buf {
        self.upload(&host)
    }
    /// Copies `buf` to the host.
    fn download(&self, buf: &Self::Buf) -> Vec<C32>;
    /// An index buffer holding `host`.
    fn upload_idx(&self, host: &[u32]) -> Self::Idx;
    /// Number of elements of `buf`.
    fn len(&self, buf: &Self::Buf) -> usize;

    /// `dst = src`.
    fn copy(&self, dst: &mut Self::Buf, src: &Self::Buf);
    /// `x = v` everywhere.
    fn fill(&self, x: &mut Self::Buf, v: C32);
    /// `x *= a`.
    fn scale(&self, x: &mut Self::Buf, a: C32);
    /// `y += a·x`.
    fn axpy(&self, y: &mut Self::Buf, a: C32, x: &Self::Buf);
    /// `y = x + a·y`.
    fn xpay(&self, y: &mut Self::Buf, a: C32, x: &Self::Buf);
    /// `y ∘= x` (elementwise product).
    fn mul(&self, y: &mut Self::Buf, x: &Self::Buf);
    /// `y[i] ∘= x[i mod len(x)]`: `x` repeated over the leading axis of `y` (a per-pixel
    /// weight applied to every coil); `len(x)` must divide `len(y)`.
    fn mul_broadcast(&self, y: &mut Self::Buf, x: &Self::Buf);
    /// `y ∘= conj(x)`.
    fn mul_conj(&self, y: &mut Self::Buf, x: &Self::Buf);
    /// `y ∘= w` with a real weight per element.
    fn mul_real(&self, y: &mut Self::Buf, w: &[f32]);

    /// `Σ conj(x)·y`.
    fn dot(&self, x: &Self::Buf, y: &Self::Buf) -> C64;
    /// `Σ |x|²`.
    fn norm_sq(&self, x: &Self::Buf) -> f64;
    /// Whether every element is finite.
    fn all_finite(&self, x: &Self::Buf) -> bool;

    /// Complex soft threshold: `x ← x/|x| · max(|x| − t, 0)` (the l1 proximal operator).
    fn soft_threshold(&self, x: &mut Self::Buf, t: f32);

    /// In-place centred orthonormal FFT of `x` (shape `shape`, C order) over `axes`.
    fn fft(&self, x: &mut Self::Buf, shape: &[usize], axes: &[usize], dir: FftDirection);

    /// Coil expansion: `out[c, i] = maps[c, i] · img[i]` for `n_coils` coils of `img.len()`.
    fn expand_coils(&self, out: &mut Self::Buf, img: &Self::Buf, maps: &Self::Buf);
    /// Coil combination: `out[i] = Σ_c conj(maps[c, i]) · coils[c, i]`.
    fn combine_coils(&self, out: &mut Self::Buf, coils: &Self::Buf, maps: &Self::Buf);
    /// Root sum of squares over the leading coil axis: `out[i] = sqrt(Σ_c |coils[c, i]|²)`.
    fn rss(&self, coils: &Self::Buf, n_coils: usize) -> Vec<f32>;

    /// `out[k] = x[idx[k]]`.
    fn gather(&self, out: &mut Self::Buf, x: &Self::Buf, idx: &Self::Idx);
    /// `x[idx[k]] += v[k]` (indices may repeat).
    fn scatter_add(&self, x: &mut Self::Buf, v: &Self::Buf, idx: &Self::Idx);

    /// Batched small matrix product: for each of `batch` problems, `c[b] = a[b] · x[b]` with
    /// `a[b]` an `m × k` matrix (row major) shared (`a` of `m·k`) or per batch (`batch·m·k`),
    /// `x[b]` a `k × n` matrix and `c[b]` an `m × n` matrix.
    fn batched_matmul(
        &self,
        c: &mut Self::Buf,
        a: &Self::Buf,
        x: &Self::Buf,
        batch: usize,
        dims: [usize; 3],
    );
}

/// Where a reconstruction runs, chosen at run time (`--backend cpu|cuda[:N]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Device {
    /// The CPU backend (rayon + rustfft).
    #[default]
    Cpu,
    /// A CUDA device by ordinal.
    Cuda(usize),
}

impl Device {
    /// Parses `cpu`, `cuda` or `cuda:N`.
    pub fn parse(s: &str) -> Result<Device> {
        match s {
            "cpu" => Ok(Device::Cpu),
            "cuda" | "gpu" => Ok(Device::Cuda(0)),
            _ => match s.strip_prefix("cuda:").map(str::parse) {
                Some(Ok(n)) => Ok(Device::Cuda(n)),
                _ => Err(ReconError::config(
                    "backend",
                    format!("'{s}' is not a backend; use cpu, cuda or cuda:N"),
                )),
            },
        }
    }

    /// Checks that the device can be used by this build on this machine.
    pub fn check_available(self) -> Result<()> {
        match self {
            Device::Cpu => Ok(()),
            Device::Cuda(n) => Err(ReconError::BackendUnavailable {
                backend: format!("cuda:{n}"),
                why: if cfg!(feature = "cuda") {
                    "the CUDA backend is not implemented yet".into()
                } else {
                    "this build has no CUDA support (rebuild with --features cuda)".into()
                },
            }),
        }
    }
}

impl std::fmt::Display for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Device::Cpu => write!(f, "cpu"),
            Device::Cuda(n) => write!(f, "cuda:{n}"),
        }
    }
}
