//! SENSE encoding (Pruessmann 1999/2001): an image is multiplied by each coil's sensitivity map,
//! Fourier transformed over the image axes and sampled, `y = P F S x`. [`SenseOp`] is that
//! operator with an efficient normal `Sᴴ Fᴴ (PᴴP) F S` that never forms the sampled data
//! (`PᴴP` is the mask squared, or the per-point sample counts of an index list);
//! [`CoilExpand`] is the coil multiplication `S` alone.
//!
//! Maps have shape `[coil, ...img]` (coil axis first, [`crate::conventions`]); the image
//! `img`; the k-space of the [`SenseSampling::Full`] and [`SenseSampling::Mask`] variants
//! `[coil, ...img]` (unsampled points zero), of the [`SenseSampling::Indices`] variant
//! `[coil, n_samples]`.
//!
//! # References
//! - K. P. Pruessmann, M. Weiger, M. B. Scheidegger, P. Boesiger, "SENSE: sensitivity encoding
//!   for fast MRI", Magn. Reson. Med. 42 (1999) 952–962.
//! - K. P. Pruessmann, M. Weiger, P. Börnert, P. Boesiger, "Advances in sensitivity encoding
//!   with arbitrary k-space trajectories", Magn. Reson. Med. 46 (2001) 638–651.

use crate::backend::{Backend, C32, FftDirection};
use crate::error::{ReconError, Result};

use super::sampling::{index_counts, real_buf};
use super::scratch::Scratch;
use super::{LinOp, numel};

/// Which k-space points a [`SenseOp`] keeps (the same for every coil).
#[derive(Debug, Clone)]
pub enum SenseSampling {
    /// Every grid point (fully sampled Cartesian k-space).
    Full,
    /// Real weights (a 0/1 mask) over the image grid, C order; output on the full grid.
    Mask(Vec<f32>),
    /// Flat C-order indices into the image grid; output `[coil, indices.len()]`.
    Indices(Vec<u32>),
}

/// Checks maps of shape `map_shape = [coil, ...img]` against their buffer length.
fn check_maps(op: &'static str, n_maps: usize, map_shape: &[usize]) -> Result<()> {
    if map_shape.len() < 2 || numel(map_shape) == 0 {
        return Err(ReconError::shape(
            op,
            format!("maps of shape {map_shape:?}; want a non-empty [coil, ...img]"),
        ));
    }
    if n_maps != numel(map_shape) {
        return Err(ReconError::shape(
            op,
            format!("{n_maps} map values for a shape {map_shape:?}"),
        ));
    }
    Ok(())
}

#[derive(Debug)]
enum Keep<B: Backend> {
    Full,
    Mask(B::Buf),
    Indices(B::Idx),
}

/// SENSE encoding `x[img] → P F S x` with coil maps `S` of shape `[coil, ...img]`.
#[derive(Debug)]
pub struct SenseOp<B: Backend> {
    ishape: Vec<usize>,
    kshape: Vec<usize>,
    oshape: Vec<usize>,
    axes: Vec<usize>,
    maps: B::Buf,
    keep: Keep<B>,
    /// Diagonal of `PᴴP` on the image grid, the same for every coil (`None` for full
    /// sampling: the identity).
    weights: Option<B::Buf>,
    /// Axes of the coil grid the normal operator transforms: those along which `PᴴP` varies.
    /// Along the others `Fᴴ·Fᴴ` cancels (a Cartesian mask that keeps whole readouts needs no
    /// FFT along the readout in `AᴴA`).
    normal_axes: Vec<usize>,
    /// `max_r Σ_c |S_c(r)|² · max PᴴP`, an upper bound of `‖AᴴA‖` (`‖F‖ = 1`).
    normal_bound: f64,
    scratch: Scratch<B>,
}

/// The axes (1-based, as on the coil grid `[coil, ...img]`) along which the weights `w` on the
/// image grid `img` are not constant.
fn varying_axes(w: &[f32], img: &[usize]) -> Vec<usize> {
    (0..img.len())
        .filter(|&a| {
            let inner: usize = img[a + 1..].iter().product();
            let n = img[a];
            w.chunks_exact(n * inner).any(|block| {
                (1..n).any(|t| {
                    block[t * inner..(t + 1) * inner]
                        .iter()
                        .zip(&block[..inner])
                        .any(|(u, v)| u != v)
                })
            })
        })
        .map(|a| a + 1)
        .collect()
}

impl<B: Backend> SenseOp<B> {
    /// The SENSE operator of `maps` (shape `map_shape = [coil, ...img]`, C order) and a
    /// sampling pattern on the image grid.
    pub fn new(be: &B, maps: &[C32], map_shape: &[usize], sampling: SenseSampling) -> Result<Self> {
        check_maps("SenseOp", maps.len(), map_shape)?;
        Self::from_buffer(be, be.upload(maps), map_shape, sampling)
    }

    /// [`SenseOp::new`] with maps already in a backend buffer, taken over (no second copy of
    /// the maps).
    pub fn from_buffer(
        be: &B,
        maps: B::Buf,
        map_shape: &[usize],
        sampling: SenseSampling,
    ) -> Result<Self> {
        check_maps("SenseOp", be.len(&maps), map_shape)?;
        let nc = map_shape[0];
        let img = &map_shape[1..];
        let n = numel(img);
        let all_axes: Vec<usize> = (1..map_shape.len()).collect();
        let map_power = be
            .rss(&maps, nc)
            .iter()
            .fold(0.0f64, |m, &r| m.max(f64::from(r) * f64::from(r)));
        let (keep, weights, oshape, normal_axes, max_weight) = match sampling {
            SenseSampling::Full => (Keep::Full, None, map_shape.to_vec(), Vec::new(), 1.0),
            SenseSampling::Mask(w) => {
                if w.len() != n {
                    return Err(ReconError::shape(
                        "SenseOp",
                        format!("a mask of {} points for an image {img:?}", w.len()),
                    ));
                }
                let w2: Vec<f32> = w.iter().map(|v| v * v).collect();
                let normal_axes = varying_axes(&w2, img);
                let max_weight = w2.iter().fold(0.0f32, |m, &v| m.max(v));
                (
                    Keep::Mask(real_buf(be, &w)),
                    Some(real_buf(be, &w2)),
                    map_shape.to_vec(),
                    normal_axes,
                    max_weight,
                )
            }
            SenseSampling::Indices(idx) => {
                let counts = index_counts("SenseOp", &idx, n)?;
                if (nc * n) > u32::MAX as usize {
                    return Err(ReconError::shape(
                        "SenseOp",
                        format!("{nc} × {n} k-space points do not fit 32-bit indices"),
                    ));
                }
                let full: Vec<u32> = (0..nc)
                    .flat_map(|c| idx.iter().map(move |&i| (c * n) as u32 + i))
                    .collect();
                let max_count = counts.iter().fold(0.0f32, |m, &v| m.max(v));
                (
                    Keep::Indices(be.upload_idx(&full)),
                    Some(real_buf(be, &counts)),
                    vec![nc, idx.len()],
                    varying_axes(&counts, img),
                    max_count,
                )
            }
        };
        Ok(SenseOp {
            ishape: img.to_vec(),
            kshape: map_shape.to_vec(),
            oshape,
            axes: all_axes,
            maps,
            keep,
            weights,
            normal_axes,
            normal_bound: map_power * f64::from(max_weight),
            scratch: Scratch::new(),
        })
    }

    /// Number of coils.
    pub fn n_coils(&self) -> usize {
        self.kshape[0]
    }

    /// `k = F S x` on the full coil grid.
    fn encode_full(&self, be: &B, x: &B::Buf, k: &mut B::Buf) {
        be.expand_coils(k, x, &self.maps);
        be.fft(k, &self.kshape, &self.axes, FftDirection::Forward);
    }

    /// `x = Sᴴ Fᴴ k` (`k` is destroyed).
    fn decode_full(&self, be: &B, k: &mut B::Buf, x: &mut B::Buf) {
        be.fft(k, &self.kshape, &self.axes, FftDirection::Inverse);
        be.combine_coils(x, k, &self.maps);
    }
}

impl<B: Backend> LinOp<B> for SenseOp<B> {
    fn name(&self) -> String {
        format!("Sense({} coils, {:?})", self.n_coils(), self.ishape)
    }

    fn ishape(&self) -> &[usize] {
        &self.ishape
    }

    fn oshape(&self) -> &[usize] {
        &self.oshape
    }

    fn forward(&self, be: &B, x: &B::Buf, y: &mut B::Buf) {
        match &self.keep {
            Keep::Full => self.encode_full(be, x, y),
            Keep::Mask(m) => {
                self.encode_full(be, x, y);
                be.mul_broadcast(y, m);
            }
            Keep::Indices(idx) => {
                let mut k = self.scratch.take(be, numel(&self.kshape));
                self.encode_full(be, x, &mut k);
                be.gather(y, &k, idx);
                self.scratch.put(k);
            }
        }
    }

    fn adjoint(&self, be: &B, y: &B::Buf, x: &mut B::Buf) {
        let mut k = self.scratch.take(be, numel(&self.kshape));
        match &self.keep {
            Keep::Full => be.copy(&mut k, y),
            Keep::Mask(m) => {
                be.copy(&mut k, y);
                be.mul_broadcast(&mut k, m);
            }
            Keep::Indices(idx) => {
                be.fill(&mut k, C32::new(0.0, 0.0));
                be.scatter_add(&mut k, y, idx);
            }
        }
        self.decode_full(be, &mut k, x);
        self.scratch.put(k);
    }

    fn normal(&self, be: &B, x: &B::Buf, out: &mut B::Buf) {
        let mut k = self.scratch.take(be, numel(&self.kshape));
        match &self.weights {
            // Fully sampled: FᴴF = I, so AᴴA = SᴴS.
            None => {
                be.expand_coils(&mut k, x, &self.maps);
                be.combine_coils(out, &k, &self.maps);
            }
            Some(w) => {
                be.expand_coils(&mut k, x, &self.maps);
                be.fft(
                    &mut k,
                    &self.kshape,
                    &self.normal_axes,
                    FftDirection::Forward,
                );
                be.mul_broadcast(&mut k, w);
                be.fft(
                    &mut k,
                    &self.kshape,
                    &self.normal_axes,
                    FftDirection::Inverse,
                );
                be.combine_coils(out, &k, &self.maps);
            }
        }
        self.scratch.put(k);
    }

    fn normal_bound(&self, _be: &B) -> Option<f64> {
        Some(self.normal_bound)
    }
}

/// Coil expansion `x[img] → S x` (`[coil, ...img]`), the adjoint the coil combination
/// `Σ_c conj(S_c) y_c`; the normal is the multiplication by `Σ_c |S_c|²`.
#[derive(Debug)]
pub struct CoilExpand<B: Backend> {
    ishape: Vec<usize>,
    oshape: Vec<usize>,
    maps: B::Buf,
    sos: B::Buf,
}

impl<B: Backend> CoilExpand<B> {
    /// The expansion by `maps` of shape `map_shape = [coil, ...img]` (C order).
    pub fn new(be: &B, maps: &[C32], map_shape: &[usize]) -> Result<Self> {
        check_maps("CoilExpand", maps.len(), map_shape)?;
        let n = numel(&map_shape[1..]);
        let mut sos = vec![0f32; n];
        for chunk in maps.chunks_exact(n) {
            for (s, m) in sos.iter_mut().zip(chunk) {
                *s += m.norm_sqr();
            }
        }
        Ok(CoilExpand {
            ishape: map_shape[1..].to_vec(),
            oshape: map_shape.to_vec(),
            maps: be.upload(maps),
            sos: real_buf(be, &sos),
        })
    }
}

impl<B: Backend> LinOp<B> for CoilExpand<B> {
    fn name(&self) -> String {
        format!("CoilExpand({} coils)", self.oshape[0])
    }

    fn ishape(&self) -> &[usize] {
        &self.ishape
    }

    fn oshape(&self) -> &[usize] {
        &self.oshape
    }

    fn forward(&self, be: &B, x: &B::Buf, y: &mut B::Buf) {
        be.expand_coils(y, x, &self.maps);
    }

    fn adjoint(&self, be: &B, y: &B::Buf, x: &mut B::Buf) {
        be.combine_coils(x, y, &self.maps);
    }

    fn normal(&self, be: &B, x: &B::Buf, out: &mut B::Buf) {
        be.copy(out, x);
        be.mul(out, &self.sos);
    }
}
