//! The simplest complete reconstruction: fully sampled Cartesian data to root-sum-of-squares
//! magnitude images (the reference `rss` / `rss_whitened` methods).
//!
//! Steps: [assembly](crate::kspace::assemble) → optional [prewhitening](crate::prewhiten)
//! with the noise readouts → inverse FFT along x → [readout crop](crate::oversampling) to
//! `reconSpace.matrixSize.x` → inverse FFT along y (and z) → central crop of y (z) to the
//! recon matrix where it is smaller than the encoded one → [RSS](crate::combine::rss).
//!
//! # Output layout
//!
//! float32 magnitude, C order, `[<counter axes>, (z), y, x]`: the leading axes are the
//! counters whose size is larger than 1, in the fixed order slice, contrast, repetition,
//! average, set, phase, segment ([`crate::kspace::COUNTER_ORDER`]; averages are averaged
//! unless kept, see [`crate::kspace::AssemblyOptions`]); `z` only for 3-D encodings (encoded
//! z > 1). So a single 2-D image is `[y, x]`, three repetitions `[repetition, y, x]`, and
//! 2 slices × 2 contrasts `[slice, contrast, y, x]` — the layouts of the reference data.

use accord_ismrmrd::Acquisition;
use accord_ismrmrd::xml::IsmrmrdHeader;

use crate::backend::{Backend, FftDirection};
use crate::combine;
use crate::error::{ReconError, Result};
use crate::kspace::{AssemblyOptions, CoilKspace, assemble};
use crate::oversampling::{crop_axis_centre, crop_readout};
use crate::prewhiten::{BandwidthScaling, Prewhitener};

/// Magnitude images with their shape and axis names.
#[derive(Debug, Clone, PartialEq)]
pub struct MagnitudeImages {
    /// Pixels, C order.
    pub data: Vec<f32>,
    /// The shape, `[<counter axes>, (z), y, x]`.
    pub shape: Vec<usize>,
    /// The name of every axis (`slice`, …, `z`, `y`, `x`).
    pub axes: Vec<&'static str>,
}

impl MagnitudeImages {
    /// Number of pixels of one `[(z), y, x]` image or volume.
    pub fn image_len(&self) -> usize {
        let spatial = self.axes.iter().filter(|a| matches!(**a, "z" | "y" | "x"));
        self.shape[self.shape.len() - spatial.count()..]
            .iter()
            .product()
    }
}

/// RSS reconstruction of fully sampled Cartesian raw data (see the [module docs](self));
/// `whiten` prewhitens with the noise readouts first (an error when the data have none).
pub fn rss_recon<B: Backend>(
    header: &IsmrmrdHeader,
    acquisitions: &[Acquisition],
    be: &B,
    whiten: bool,
) -> Result<MagnitudeImages> {
    let ks = assemble(header, acquisitions, &AssemblyOptions::default())?;
    rss_from_kspace(&ks, be, whiten)
}

/// RSS reconstruction of assembled k-space (the steps after assembly of [`rss_recon`]).
pub fn rss_from_kspace<B: Backend>(
    ks: &CoilKspace,
    be: &B,
    whiten: bool,
) -> Result<MagnitudeImages> {
    let mut buf = be.upload(&ks.data);
    if whiten {
        let noise = ks.noise.as_ref().ok_or_else(|| {
            ReconError::stage(
                "prewhiten",
                "the data have no noise readouts (ACQ_IS_NOISE_MEASUREMENT)",
            )
        })?;
        let pw = Prewhitener::from_noise(noise, ks.geometry.dwell_us, BandwidthScaling::Dwell)?;
        buf = pw.apply(be, &buf)?;
    }
    let shape = ks.shape();
    let d = shape.len();
    let (ax_z, ax_y, ax_x) = (d - 3, d - 2, d - 1);
    be.fft(&mut buf, &shape, &[ax_x], FftDirection::Inverse);
    let [rx, ry, rz] = ks.geometry.recon_matrix;
    let (mut buf, shape) = crop_readout(be, &buf, &shape, rx.min(shape[ax_x]))?;
    be.fft(&mut buf, &shape, &[ax_z, ax_y], FftDirection::Inverse);
    let (buf, shape) = crop_axis_centre(be, &buf, &shape, ax_y, ry.min(shape[ax_y]))?;
    let (buf, mut shape) = crop_axis_centre(be, &buf, &shape, ax_z, rz.min(shape[ax_z]))?;
    let data = combine::rss(be, &buf, ks.n_coils)?;

    shape.remove(0); // coil
    let mut axes: Vec<&'static str> = ks.counter_axes.iter().map(|a| a.counter.name()).collect();
    axes.extend(["z", "y", "x"]);
    if ks.matrix[0] == 1 {
        let z = shape.len() - 3;
        shape.remove(z);
        axes.retain(|a| *a != "z");
    }
    Ok(MagnitudeImages { data, shape, axes })
}
