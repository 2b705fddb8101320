//! The pipeline runner: a [`ReconConfig`] applied to ISMRMRD raw data, stage by stage, with a
//! record of what every stage did (for the provenance).
//!
//! Cartesian data: [assembly](crate::kspace::assemble) → `prewhiten` → `remove_oversampling` →
//! per k-space volume (every combination of the counters present): the coil images, combined
//! by `combine` (RSS by default). Images are cropped to the recon matrix and laid out as
//! [`crate::conventions`] says: `[<counter axes>, (z), y, x]`.

use accord_ismrmrd::Acquisition;
use accord_ismrmrd::xml::IsmrmrdHeader;

use crate::backend::{Backend, C32, FftDirection};
use crate::config::{CombineMethod, NoiseRequirement, ReconConfig, Stage};
use crate::error::{ReconError, Result};
use crate::kspace::{AssemblyOptions, CoilKspace, assemble};
use crate::oversampling::{crop_axis_centre, crop_readout, remove_oversampling_kspace};
use crate::prewhiten::{BandwidthScaling, Prewhitener};
use crate::provenance::StageRecord;

/// Reconstructed images with their layout and the record of the run.
#[derive(Debug, Clone, PartialEq)]
pub struct ReconOutput {
    /// Complex images (C order), when the last stage produced phase (SENSE, CS, sensitivity
    /// combination); RSS gives magnitude only.
    pub complex: Option<Vec<C32>>,
    /// Magnitude images (C order).
    pub magnitude: Vec<f32>,
    /// The shape, `[<counter axes>, (z), y, x]`.
    pub shape: Vec<usize>,
    /// Axis names, outermost first.
    pub axes: Vec<String>,
    /// What each stage did.
    pub stages: Vec<StageRecord>,
    /// Scanner geometry of the images.
    pub geometry: ImageGeometry,
}

/// Where the images are in the scanner (from the headers), LPS millimetres.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ImageGeometry {
    /// `reconSpace.fieldOfView_mm` `[x, y, z]`.
    pub fov_mm: [f32; 3],
    /// Centre of each slice (by `idx.slice`, ascending), from its first imaging readout.
    pub slice_positions: Vec<[f32; 3]>,
    /// Read (x) direction cosines.
    pub read_dir: [f32; 3],
    /// Phase (y) direction cosines.
    pub phase_dir: [f32; 3],
    /// Slice (z) direction cosines.
    pub slice_dir: [f32; 3],
}

impl ImageGeometry {
    /// The geometry of the first imaging readout of every slice.
    pub fn from_acquisitions(fov_mm: [f32; 3], acquisitions: &[Acquisition]) -> Self {
        let mut slices: std::collections::BTreeMap<u16, [f32; 3]> = Default::default();
        let mut g = ImageGeometry {
            fov_mm,
            ..Default::default()
        };
        for a in acquisitions.iter().filter(|a| a.header.is_imaging()) {
            if slices.is_empty() {
                g.read_dir = a.header.read_dir;
                g.phase_dir = a.header.phase_dir;
                g.slice_dir = a.header.slice_dir;
            }
            slices
                .entry(a.header.idx.slice)
                .or_insert(a.header.position);
        }
        g.slice_positions = slices.into_values().collect();
        g
    }
}

/// Progress of long work: `(what, done, total)`.
pub type Progress<'a> = &'a (dyn Fn(&str, usize, usize) + Sync);

/// Runs `cfg` on the raw data (header + acquisitions) on backend `be`.
pub fn run<B: Backend>(
    cfg: &ReconConfig,
    header: &IsmrmrdHeader,
    acquisitions: &[Acquisition],
    be: &B,
    progress: Progress<'_>,
) -> Result<ReconOutput> {
    let mut records = Vec::new();
    let mut ks = assemble(header, acquisitions, &AssemblyOptions::default())?;
    records.push(StageRecord {
        kind: "assemble".into(),
        decision: format!(
            "{} readouts into {} coil(s) × {:?} [kz, ky, kx] × {} volume(s); {:.1} % of the lines sampled; {} readout(s) skipped",
            ks.readouts,
            ks.n_coils,
            ks.matrix,
            ks.n_volumes(),
            100.0 * ks.sampled_fraction(),
            ks.skipped
        ),
    });
    let mut combine = CombineMethod::Rss;
    for stage in &cfg.stages {
        let decision = match stage {
            Stage::Prewhiten { noise } => prewhiten(be, &mut ks, *noise)?,
            Stage::RemoveOversampling => {
                let before = ks.matrix[2];
                remove_oversampling_kspace(be, &mut ks)?;
                if ks.matrix[2] == before {
                    format!("readout {before} samples = recon matrix: nothing to remove")
                } else {
                    format!("readout {before} → {} samples", ks.matrix[2])
                }
            }
            Stage::Combine { method } => {
                combine = *method;
                format!("{method:?}")
            }
            other => {
                return Err(ReconError::stage(
                    other.kind(),
                    "this stage is not available in this build yet",
                ));
            }
        };
        records.push(StageRecord {
            kind: stage.kind().into(),
            decision,
        });
    }
    let out = coil_images_combined(be, &ks, combine, progress)?;
    Ok(ReconOutput {
        stages: records,
        geometry: ImageGeometry::from_acquisitions(ks.geometry.recon_fov_mm, acquisitions),
        ..out
    })
}

fn prewhiten<B: Backend>(be: &B, ks: &mut CoilKspace, need: NoiseRequirement) -> Result<String> {
    let Some(noise) = &ks.noise else {
        return match need {
            NoiseRequirement::Required => Err(ReconError::stage(
                "prewhiten",
                "the data have no noise readouts (ACQ_IS_NOISE_MEASUREMENT) and the config sets noise = \"required\"",
            )),
            NoiseRequirement::IfPresent => Ok("skipped: no noise readouts".into()),
        };
    };
    let pw = Prewhitener::from_noise(noise, ks.geometry.dwell_us, BandwidthScaling::Dwell)?;
    let what = format!(
        "{} noise readouts of {} samples, bandwidth factor {:.4}",
        noise.readouts, noise.n_samples, pw.bandwidth_factor
    );
    ks.data = be.download(&pw.apply(be, &be.upload(&ks.data))?);
    if let Some(cal) = &mut ks.calibration {
        cal.data = be.download(&pw.apply(be, &be.upload(&cal.data))?);
    }
    Ok(what)
}

/// Coil images of every volume, cropped to the recon matrix and combined.
fn coil_images_combined<B: Backend>(
    be: &B,
    ks: &CoilKspace,
    method: CombineMethod,
    progress: Progress<'_>,
) -> Result<ReconOutput> {
    if method != CombineMethod::Rss {
        return Err(ReconError::stage(
            "combine",
            "sensitivity-weighted combination needs a 'sensitivities' stage",
        ));
    }
    progress("coil images", 0, 1);
    let mut buf = be.upload(&ks.data);
    let shape = ks.shape();
    let d = shape.len();
    let (ax_z, ax_y, ax_x) = (d - 3, d - 2, d - 1);
    be.fft(&mut buf, &shape, &[ax_x], FftDirection::Inverse);
    let [rx, ry, rz] = ks.geometry.recon_matrix;
    let (mut buf, shape) = crop_readout(be, &buf, &shape, rx.min(shape[ax_x]))?;
    be.fft(&mut buf, &shape, &[ax_z, ax_y], FftDirection::Inverse);
    let (buf, shape) = crop_axis_centre(be, &buf, &shape, ax_y, ry.min(shape[ax_y]))?;
    let (buf, mut shape) = crop_axis_centre(be, &buf, &shape, ax_z, rz.min(shape[ax_z]))?;
    let magnitude = be.rss(&buf, ks.n_coils);
    progress("coil images", 1, 1);
    shape.remove(0);
    let mut axes: Vec<String> = ks
        .counter_axes
        .iter()
        .map(|a| a.counter.name().to_string())
        .collect();
    axes.extend(["z", "y", "x"].map(String::from));
    if ks.matrix[0] == 1 {
        let z = shape.len() - 3;
        shape.remove(z);
        axes.retain(|a| a != "z");
    }
    Ok(ReconOutput {
        complex: None,
        magnitude,
        shape,
        axes,
        stages: Vec::new(),
        geometry: ImageGeometry::default(),
    })
}
