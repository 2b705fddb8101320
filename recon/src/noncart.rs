//! Non-Cartesian readouts and their reconstructions: reading the samples and the trajectory
//! of every imaging readout ([`read_noncartesian`]), the density-compensated gridding
//! reconstruction ([`gridding_recon`]: adjoint [NUFFT](crate::nufft) per coil + RSS) and
//! CG-SENSE with given coil maps ([`cg_sense_recon`]: `(AᴴA + λI) x = Aᴴy`, `A` = NUFFT ·
//! coil maps, [`SenseNufft`], solved by [`crate::solve::cg()`]; Pruessmann et al., "Advances in
//! sensitivity encoding with arbitrary k-space trajectories", MRM 46:638–651, 2001). For the
//! pipeline: the noise readouts ([`read_noise`]) and whether data are non-Cartesian at all
//! ([`trajectory_evidence`]).
//!
//! # Trajectory units
//!
//! The NUFFT wants **cycles per pixel of the reconstruction grid** (`reconSpace.matrixSize`),
//! `[-0.5, 0.5)` covering that grid's k-space once. Readout oversampling is handled by this
//! scale alone: a 2× oversampled radial readout of 256 samples spans `[-0.5, 0.5)` cycles per
//! pixel of the 128-pixel recon grid (at twice the Cartesian sample density), so nothing is
//! cropped. ISMRMRD does not fix the units of `traj`; [`TrajectoryUnits::Auto`] takes them
//! from the header's `trajectoryDescription` parameter `traj_units` when it says "per
//! (reconstructed) pixel" or "per FOV", and otherwise from the range of the values: at most
//! 0.5 in magnitude → cycles per pixel; at most half the recon matrix → cycles per FOV (BART's
//! units), divided by the recon matrix size of each axis.
//!
//! Trajectory dimension 0 is `kx` (image axis `x`, the last), 1 is `ky`, 2 is `kz`; extra
//! trajectory dimensions beyond those of the recon matrix (e.g. a density weight or a zero
//! `kz` of 2-D data) are ignored.

use accord_ismrmrd::xml::{IsmrmrdHeader, Trajectory};
use accord_ismrmrd::{Acquisition, AcquisitionHeader};

use crate::backend::{Backend, C32};
use crate::combine;
use crate::error::{ReconError, Result};
use crate::kspace::{NoiseData, Role, check_channels, encoding_of, role};
use crate::linop::{LinOp, numel};
use crate::nufft::{Nufft, NufftOptions, pipe_menon_dcf, ramp_dcf};
use crate::rss::MagnitudeImages;
use crate::solve::{CgOptions, cg, max_eig};

/// Relative tolerance on the range checks of the trajectory units.
const RANGE_TOL: f32 = 1e-3;

/// The units of the ISMRMRD `traj` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TrajectoryUnits {
    /// From the header's `traj_units` parameter, else from the range of the values.
    #[default]
    Auto,
    /// Cycles per pixel of the recon grid (`[-0.5, 0.5)`).
    CyclesPerPixel,
    /// Cycles per field of view (`[-n/2, n/2)`, BART's units).
    CyclesPerFov,
}

/// Options of [`read_noncartesian`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NonCartOptions {
    /// The encoding space to read (`encoding_space_ref`; header `encoding[i]`).
    pub encoding: usize,
    /// The units of `traj`.
    pub units: TrajectoryUnits,
}

/// Non-Cartesian coil samples with their trajectory.
#[derive(Debug, Clone, PartialEq)]
pub struct NonCartesian {
    /// Samples, C order `[coil, sample]`; sample = the readouts' samples concatenated in file
    /// order (after `discard_pre` / `discard_post`).
    pub data: Vec<C32>,
    /// Positions in cycles per recon-grid pixel, `[sample, d]` in order `(kx, ky[, kz])`.
    pub coords: Vec<f32>,
    /// Number of coils.
    pub n_coils: usize,
    /// The recon grid, `[ny, nx]` or `[nz, ny, nx]`.
    pub image_shape: Vec<usize>,
    /// Number of readouts read.
    pub readouts: usize,
    /// The units `traj` was read in (resolved when [`TrajectoryUnits::Auto`]).
    pub units: TrajectoryUnits,
    /// Dwell time of the imaging readouts in µs (`sample_time_us` of the first; 0 when not
    /// set), for the bandwidth scaling of prewhitening.
    pub dwell_us: f32,
}

impl NonCartesian {
    /// Number of samples per coil.
    pub fn samples(&self) -> usize {
        self.data.len() / self.n_coils.max(1)
    }

    /// Number of spatial dimensions (2 or 3).
    pub fn dims(&self) -> usize {
        self.image_shape.len()
    }

    /// Checks that samples, trajectory, coils and image shape agree (they do when read by
    /// [`read_noncartesian`]; the fields are public, so the reconstructions check).
    pub fn validate(&self) -> Result<()> {
        let d = self.dims();
        let ok = (2..=3).contains(&d)
            && self.n_coils > 0
            && self.coords.len() % d == 0
            && self.data.len() == self.n_coils * (self.coords.len() / d);
        if ok {
            Ok(())
        } else {
            Err(ReconError::shape(
                "noncart",
                format!(
                    "{} samples for {} coils, {} trajectory values, image {:?}",
                    self.data.len(),
                    self.n_coils,
                    self.coords.len(),
                    self.image_shape
                ),
            ))
        }
    }
}

/// Noise, calibration-only, navigator-like readouts and other encoding spaces carry no image
/// samples for the non-Cartesian path.
fn skipped(h: &AcquisitionHeader, encoding: usize) -> bool {
    matches!(
        role(h, encoding),
        Role::Noise | Role::Skip | Role::Calibration
    )
}

/// The units named by the header's `traj_units` parameter, if any.
fn header_units(header: &IsmrmrdHeader, encoding: usize) -> Option<TrajectoryUnits> {
    let desc = header
        .encoding
        .get(encoding)?
        .trajectory_description
        .as_ref()?;
    let p = desc
        .user_parameter_string
        .iter()
        .find(|p| p.name == "traj_units")?;
    let v = p.value.to_ascii_lowercase();
    if v.contains("per pixel") || v.contains("per reconstructed pixel") {
        Some(TrajectoryUnits::CyclesPerPixel)
    } else if v.contains("per fov") || v.contains("1/fov") {
        Some(TrajectoryUnits::CyclesPerFov)
    } else {
        None
    }
}

/// Reads the samples and trajectory of every imaging readout of `acquisitions` (in file
/// order; the acquisition index in errors is the position in this slice) into
/// [`NonCartesian`] (see the [module docs](self) for the units).
///
/// Noise, calibration-only, navigator and similar readouts and those of other encoding spaces
/// are skipped. Averages and segments (interleaves) are merged; readouts of several slices,
/// contrasts, repetitions, sets or phases are an error (split them first). Errors, naming the
/// acquisition, for a missing trajectory (`trajectory_dimensions` below the recon matrix's
/// dimensions), sample or trajectory lengths that disagree with the header, a changing channel
/// count, non-finite values, and trajectory values outside the grid; also for a missing
/// encoding and data without imaging readouts.
pub fn read_noncartesian(
    header: &IsmrmrdHeader,
    acquisitions: &[Acquisition],
    options: &NonCartOptions,
) -> Result<NonCartesian> {
    let enc = encoding_of(header, options.encoding)?;
    let rm = &enc.recon_space.matrix_size;
    let recon = [usize::from(rm.x), usize::from(rm.y), usize::from(rm.z)];
    if recon.contains(&0) {
        return Err(ReconError::data(format!(
            "encoding {}: the recon matrix {recon:?} has a zero size",
            options.encoding
        )));
    }
    let d = if recon[2] > 1 { 3 } else { 2 };
    let image_shape: Vec<usize> = recon[..d].iter().rev().copied().collect();

    let mut n_coils: Option<(usize, u64)> = None;
    let mut counters: Option<([u16; 5], u64)> = None;
    let mut per_coil: Vec<Vec<C32>> = Vec::new();
    let mut coords: Vec<f32> = Vec::new();
    let mut readouts = 0usize;
    let mut dwell_us: Option<f32> = None;
    for (i, acq) in acquisitions.iter().enumerate() {
        let index = i as u64;
        let h = &acq.header;
        if skipped(h, options.encoding) {
            continue;
        }
        dwell_us.get_or_insert(h.sample_time_us);
        acq.check()
            .map_err(|(field, what)| ReconError::acquisition(index, format!("{field}: {what}")))?;
        let nc = check_channels(&mut n_coils, h, index)?;
        if per_coil.is_empty() {
            per_coil = vec![Vec::new(); nc];
        }
        let c = &h.idx;
        let here = [c.slice, c.contrast, c.repetition, c.set, c.phase];
        match counters {
            None => counters = Some((here, index)),
            Some((first, at)) if first != here => {
                return Err(ReconError::acquisition(
                    index,
                    format!(
                        "counters (slice, contrast, repetition, set, phase) = {here:?} differ \
                         from {first:?} of acquisition {at}; split the readouts by counter \
                         before a non-Cartesian reconstruction"
                    ),
                ));
            }
            _ => {}
        }
        let td = usize::from(h.trajectory_dimensions);
        if td < d || acq.traj.is_empty() {
            return Err(ReconError::acquisition(
                index,
                format!(
                    "no trajectory for {d}-D non-Cartesian data (trajectory_dimensions = {td})"
                ),
            ));
        }
        let ns = usize::from(h.number_of_samples);
        let (pre, post) = (usize::from(h.discard_pre), usize::from(h.discard_post));
        if pre + post >= ns {
            return Err(ReconError::acquisition(
                index,
                format!("discard_pre {pre} + discard_post {post} leave no sample of {ns}"),
            ));
        }
        let keep = pre..ns - post;
        for s in keep.clone() {
            let k = &acq.traj[s * td..s * td + d];
            if k.iter().any(|v| !v.is_finite()) {
                return Err(ReconError::acquisition(
                    index,
                    format!("trajectory of sample {s} is not finite: {k:?}"),
                ));
            }
            coords.extend_from_slice(k);
        }
        for (ch, dst) in per_coil.iter_mut().enumerate() {
            let line = &acq.data[ch * ns..(ch + 1) * ns];
            if let Some(s) = line[keep.clone()].iter().position(|v| !v.is_finite()) {
                return Err(ReconError::acquisition(
                    index,
                    format!("sample {} of channel {ch} is not finite", s + pre),
                ));
            }
            dst.extend_from_slice(&line[keep.clone()]);
        }
        readouts += 1;
    }
    let Some((n_coils, _)) = n_coils else {
        return Err(ReconError::data("the data have no imaging readouts"));
    };

    // Units: from the header, else from the range.
    let max_abs: Vec<f32> = (0..d)
        .map(|t| {
            coords
                .iter()
                .skip(t)
                .step_by(d)
                .fold(0f32, |m, v| m.max(v.abs()))
        })
        .collect();
    let units = match options.units {
        TrajectoryUnits::Auto => header_units(header, options.encoding).unwrap_or(
            if max_abs.iter().all(|&m| m <= 0.5 * (1.0 + RANGE_TOL)) {
                TrajectoryUnits::CyclesPerPixel
            } else {
                TrajectoryUnits::CyclesPerFov
            },
        ),
        u => u,
    };
    if units == TrajectoryUnits::CyclesPerFov {
        for (j, v) in coords.iter_mut().enumerate() {
            *v /= recon[j % d] as f32;
        }
    }
    // Every position must lie on the grid's k-space (cycles per pixel within ±0.5).
    let limit = 0.5 * (1.0 + RANGE_TOL);
    if let Some(j) = coords.iter().position(|v| v.abs() > limit) {
        return Err(ReconError::data(format!(
            "trajectory value {} (dimension {}) of sample {} is outside ±0.5 cycles per pixel \
             after reading it in {units:?}; maximum magnitude per dimension {max_abs:?} \
             (recon matrix {:?})",
            coords[j],
            j % d,
            j / d,
            &recon[..d]
        )));
    }
    Ok(NonCartesian {
        data: per_coil.concat(),
        coords,
        n_coils,
        image_shape,
        readouts,
        units,
        dwell_us: dwell_us.unwrap_or(0.0),
    })
}

/// The noise readouts (`ACQ_IS_NOISE_MEASUREMENT`) of `acquisitions`, `[coil, sample]`, for
/// prewhitening non-Cartesian data; `None` when there are none.
///
/// Errors, naming the acquisition, for a channel count other than `n_coils`, samples that do
/// not fit the header, and a dwell time that changes between noise readouts.
pub fn read_noise(
    header: &IsmrmrdHeader,
    acquisitions: &[Acquisition],
    n_coils: usize,
) -> Result<Option<NoiseData>> {
    let mut per_coil: Vec<Vec<C32>> = vec![Vec::new(); n_coils];
    let mut readouts = 0usize;
    let mut dwell: Option<f32> = None;
    for (i, acq) in acquisitions.iter().enumerate() {
        let index = i as u64;
        let h = &acq.header;
        if !h.is_noise() {
            continue;
        }
        acq.check()
            .map_err(|(field, what)| ReconError::acquisition(index, format!("{field}: {what}")))?;
        let nc = usize::from(h.active_channels);
        if nc != n_coils {
            return Err(ReconError::acquisition(
                index,
                format!("noise readout with {nc} channels; the imaging readouts have {n_coils}"),
            ));
        }
        let ns = usize::from(h.number_of_samples);
        for (c, dst) in per_coil.iter_mut().enumerate() {
            dst.extend_from_slice(&acq.data[c * ns..(c + 1) * ns]);
        }
        match dwell {
            None => dwell = Some(h.sample_time_us),
            Some(d) if (d - h.sample_time_us).abs() > 1e-4 * d.abs().max(1e-6) => {
                return Err(ReconError::acquisition(
                    index,
                    format!(
                        "noise readout dwell time {} µs differs from the first noise readout's {d} µs",
                        h.sample_time_us
                    ),
                ));
            }
            _ => {}
        }
        readouts += 1;
    }
    if readouts == 0 {
        return Ok(None);
    }
    let channel_labels = header
        .acquisition_system_information
        .as_ref()
        .filter(|a| !a.coil_label.is_empty())
        .map(|a| {
            let mut labels = vec![String::new(); n_coils];
            for (l, dst) in a.coil_label.iter().zip(labels.iter_mut()) {
                dst.clone_from(&l.coil_name);
            }
            labels
        })
        .unwrap_or_default();
    Ok(Some(NoiseData {
        n_samples: per_coil.first().map_or(0, Vec::len),
        data: per_coil.concat(),
        n_coils,
        dwell_us: dwell.unwrap_or(0.0),
        readouts,
        channel_labels,
    }))
}

/// Why raw data count as non-Cartesian (see [`trajectory_evidence`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrajectoryEvidence {
    /// The first imaging readout that carries a trajectory, when one does.
    pub acquisition: Option<u64>,
    /// A description: the header's trajectory and the readout's trajectory dimensions.
    pub what: String,
}

/// Whether the imaging readouts of encoding `encoding` are non-Cartesian: some carries a
/// trajectory (`trajectory_dimensions > 0`), or the header's encoding trajectory is radial,
/// golden-angle radial or spiral. `None` for Cartesian data.
pub fn trajectory_evidence(
    header: &IsmrmrdHeader,
    acquisitions: &[Acquisition],
    encoding: usize,
) -> Option<TrajectoryEvidence> {
    let kind = header.encoding.get(encoding).map(|e| e.trajectory.clone());
    let named = kind
        .as_ref()
        .map_or("cartesian", |t| t.as_str())
        .to_string();
    let with_traj = acquisitions.iter().enumerate().find(|(_, a)| {
        !skipped(&a.header, encoding) && a.header.trajectory_dimensions > 0 && !a.traj.is_empty()
    });
    if let Some((i, a)) = with_traj {
        return Some(TrajectoryEvidence {
            acquisition: Some(i as u64),
            what: format!(
                "encoding trajectory '{named}'; acquisition {i} carries a trajectory \
                 (trajectory_dimensions = {})",
                a.header.trajectory_dimensions
            ),
        });
    }
    match kind {
        Some(Trajectory::Radial | Trajectory::GoldenAngle | Trajectory::Spiral) => {
            Some(TrajectoryEvidence {
                acquisition: None,
                what: format!("encoding trajectory '{named}' (the readouts carry no trajectory)"),
            })
        }
        _ => None,
    }
}

/// Density compensation for [`gridding_recon`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dcf {
    /// No compensation (weights 1).
    None,
    /// The radial ramp `|k|` ([`ramp_dcf`]).
    Ramp,
    /// Pipe & Menon's iterative estimate with this many iterations ([`pipe_menon_dcf`]).
    PipeMenon(usize),
}

/// The density-compensation weights of `nc` (one per sample, shared by the coils).
pub fn dcf_weights(nc: &NonCartesian, dcf: Dcf, nufft: &NufftOptions) -> Result<Vec<f32>> {
    let n_pix = numel(&nc.image_shape);
    match dcf {
        Dcf::None => Ok(vec![1.0; nc.samples()]),
        Dcf::Ramp => ramp_dcf(&nc.coords, nc.dims(), n_pix),
        Dcf::PipeMenon(it) => {
            let op = Nufft::new(&nc.image_shape, &nc.coords, 1, *nufft)?;
            pipe_menon_dcf(&op, it)
        }
    }
}

fn magnitude(nc: &NonCartesian, data: Vec<f32>) -> MagnitudeImages {
    let axes: Vec<&'static str> = if nc.dims() == 3 {
        vec!["z", "y", "x"]
    } else {
        vec!["y", "x"]
    };
    MagnitudeImages {
        data,
        shape: nc.image_shape.clone(),
        axes,
    }
}

/// Gridding reconstruction: density-compensated adjoint NUFFT of every coil, then RSS; a
/// magnitude image `[(z), y, x]` on the recon grid.
pub fn gridding_recon<B: Backend>(
    nc: &NonCartesian,
    be: &B,
    dcf: Dcf,
    nufft: NufftOptions,
) -> Result<MagnitudeImages> {
    nc.validate()?;
    let w = dcf_weights(nc, dcf, &nufft)?;
    let op = Nufft::new(&nc.image_shape, &nc.coords, nc.n_coils, nufft)?;
    let mut y = be.upload(&nc.data);
    be.mul_real(&mut y, &w.repeat(nc.n_coils));
    let mut coils = be.zeros(numel(LinOp::<B>::ishape(&op)));
    op.adjoint(be, &y, &mut coils);
    let img = combine::rss(be, &coils, nc.n_coils)?;
    Ok(magnitude(nc, img))
}

/// CG-SENSE parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CgSenseOptions {
    /// Tikhonov weight `λ` relative to the largest eigenvalue of `AᴴA` (default 0.005).
    pub lambda: f64,
    /// Maximum number of CG iterations (default 50).
    pub iterations: usize,
    /// Stop when `‖r‖ ≤ tolerance·‖Aᴴy‖` (default 1e-6).
    pub tolerance: f64,
    /// NUFFT parameters.
    pub nufft: NufftOptions,
}

impl Default for CgSenseOptions {
    fn default() -> Self {
        CgSenseOptions {
            lambda: 0.005,
            iterations: 50,
            tolerance: 1e-6,
            nufft: NufftOptions::default(),
        }
    }
}

/// The SENSE operator of non-Cartesian data, `A = NUFFT · coil maps`: image `[(z), y, x]` →
/// samples `[coil, sample]`.
pub struct SenseNufft<B: Backend> {
    nufft: Nufft,
    maps: B::Buf,
    ishape: Vec<usize>,
    oshape: Vec<usize>,
}

impl<B: Backend> SenseNufft<B> {
    /// `A` from a NUFFT batched over the coils and the maps `[coil, (z), y, x]` on its image
    /// grid; errors when the sizes disagree.
    pub fn new(be: &B, nufft: Nufft, maps: B::Buf) -> Result<Self> {
        let ishape = nufft.image_shape().to_vec();
        let want = nufft.batch() * numel(&ishape);
        if be.len(&maps) != want {
            return Err(ReconError::shape(
                "sense_nufft",
                format!(
                    "{} map values for {} coils × image {ishape:?}",
                    be.len(&maps),
                    nufft.batch()
                ),
            ));
        }
        let oshape = vec![nufft.batch(), nufft.samples()];
        Ok(SenseNufft {
            nufft,
            maps,
            ishape,
            oshape,
        })
    }
}

impl<B: Backend> LinOp<B> for SenseNufft<B> {
    fn name(&self) -> String {
        format!(
            "Sense({} coils)·{}",
            self.oshape[0],
            LinOp::<B>::name(&self.nufft)
        )
    }
    fn ishape(&self) -> &[usize] {
        &self.ishape
    }
    fn oshape(&self) -> &[usize] {
        &self.oshape
    }
    fn forward(&self, be: &B, x: &B::Buf, y: &mut B::Buf) {
        let mut coils = be.zeros(be.len(&self.maps));
        be.expand_coils(&mut coils, x, &self.maps);
        self.nufft.forward(be, &coils, y);
    }
    fn adjoint(&self, be: &B, y: &B::Buf, x: &mut B::Buf) {
        let mut coils = be.zeros(be.len(&self.maps));
        self.nufft.adjoint(be, y, &mut coils);
        be.combine_coils(x, &coils, &self.maps);
    }
}

/// CG-SENSE with given coil `maps` (`[coil, (z), y, x]`, C order, on the recon grid):
/// solves `(AᴴA + λ·λmax I) x = Aᴴy` with `A` = NUFFT · maps (no density weighting) by
/// conjugate gradients ([`crate::solve::cg()`]) from zero; returns the complex image
/// `[(z), y, x]`.
///
/// Errors for maps whose size is not `coils × image`, and numerical failures.
pub fn cg_sense_recon<B: Backend>(
    nc: &NonCartesian,
    be: &B,
    maps: &[C32],
    options: &CgSenseOptions,
) -> Result<Vec<C32>> {
    nc.validate()?;
    let n_pix = numel(&nc.image_shape);
    if maps.len() != nc.n_coils * n_pix {
        return Err(ReconError::shape(
            "cg_sense",
            format!(
                "{} map values for {} coils × image {:?}",
                maps.len(),
                nc.n_coils,
                nc.image_shape
            ),
        ));
    }
    let nufft = Nufft::new(&nc.image_shape, &nc.coords, nc.n_coils, options.nufft)?;
    let op = SenseNufft::new(be, nufft, be.upload(maps))?;
    let y = be.upload(&nc.data);
    let lambda = options.lambda * max_eig(be, &op, 20);
    let mut x = be.zeros(n_pix);
    cg(
        be,
        &op,
        &y,
        lambda as f32,
        &mut x,
        &CgOptions {
            max_iter: options.iterations,
            tol: options.tolerance,
        },
        None,
    )?;
    if !be.all_finite(&x) {
        return Err(ReconError::numerical(
            "cg_sense",
            "the solution is not finite",
        ));
    }
    Ok(be.download(&x))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CpuBackend;
    use crate::linop::{adjoint_mismatch, pseudo_random};
    use accord_ismrmrd::xml::{Encoding, Trajectory};

    fn header(n: u16) -> IsmrmrdHeader {
        let mut enc = Encoding::default();
        enc.encoded_space.matrix_size.x = 2 * n;
        enc.encoded_space.matrix_size.y = 2 * n;
        enc.recon_space.matrix_size.x = n;
        enc.recon_space.matrix_size.y = n;
        enc.trajectory = Trajectory::Radial;
        let mut h = IsmrmrdHeader::default();
        h.encoding.push(enc);
        h
    }

    /// `spokes` radial readouts of `ns` samples, 2 coils, trajectory scaled by `scale`.
    fn radial(spokes: usize, ns: usize, scale: f32) -> Vec<Acquisition> {
        (0..spokes)
            .map(|s| {
                let mut h = AcquisitionHeader {
                    number_of_samples: ns as u16,
                    active_channels: 2,
                    available_channels: 2,
                    trajectory_dimensions: 2,
                    ..Default::default()
                };
                h.idx.kspace_encode_step_1 = s as u16;
                let mut a = Acquisition::new(h);
                let ang = std::f32::consts::PI * s as f32 / spokes as f32;
                for i in 0..ns {
                    let r = (i as f32 - (ns / 2) as f32) / ns as f32 * scale;
                    a.traj[2 * i] = r * ang.cos();
                    a.traj[2 * i + 1] = r * ang.sin();
                }
                a.data = pseudo_random(2 * ns, s as u64);
                a
            })
            .collect()
    }

    #[test]
    fn reads_samples_and_trajectory_in_both_units() {
        let h = header(16);
        let acqs = radial(8, 32, 1.0);
        let nc = read_noncartesian(&h, &acqs, &NonCartOptions::default()).unwrap();
        assert_eq!(nc.n_coils, 2);
        assert_eq!(nc.samples(), 8 * 32);
        assert_eq!(nc.image_shape, vec![16, 16]);
        assert_eq!(nc.units, TrajectoryUnits::CyclesPerPixel);
        // Coil 1, readout 3, sample 5.
        assert_eq!(nc.data[8 * 32 + 3 * 32 + 5], acqs[3].data[32 + 5]);
        // The same trajectory in cycles per FOV reads to the same positions.
        let fov = radial(8, 32, 16.0);
        let nf = read_noncartesian(&h, &fov, &NonCartOptions::default()).unwrap();
        assert_eq!(nf.units, TrajectoryUnits::CyclesPerFov);
        for (a, b) in nf.coords.iter().zip(&nc.coords) {
            assert!((a - b).abs() < 1e-6);
        }
        // Beyond half the matrix is an error.
        assert!(read_noncartesian(&h, &radial(8, 32, 40.0), &NonCartOptions::default()).is_err());
    }

    #[test]
    fn missing_trajectory_and_bad_lengths_name_the_acquisition() {
        let h = header(16);
        let mut acqs = radial(4, 32, 1.0);
        acqs[2].header.trajectory_dimensions = 0;
        acqs[2].traj.clear();
        let e = read_noncartesian(&h, &acqs, &NonCartOptions::default()).unwrap_err();
        assert!(
            matches!(
                e,
                ReconError::Data {
                    acquisition: Some(2),
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.to_string().contains("no trajectory"), "{e}");
        let mut acqs = radial(4, 32, 1.0);
        acqs[1].traj.pop();
        let e = read_noncartesian(&h, &acqs, &NonCartOptions::default()).unwrap_err();
        assert!(e.to_string().contains("acquisition 1"), "{e}");
        let mut acqs = radial(4, 32, 1.0);
        acqs[3].header.idx.slice = 1;
        let e = read_noncartesian(&h, &acqs, &NonCartOptions::default()).unwrap_err();
        assert!(e.to_string().contains("acquisition 3"), "{e}");
    }

    #[test]
    fn sense_operator_passes_the_dot_test() {
        let be = CpuBackend::new();
        let acqs = radial(6, 24, 1.0);
        let nc = read_noncartesian(&header(12), &acqs, &NonCartOptions::default()).unwrap();
        let nufft = Nufft::new(&nc.image_shape, &nc.coords, 2, NufftOptions::default()).unwrap();
        let op = SenseNufft::new(&be, nufft.clone(), pseudo_random(2 * 144, 3)).unwrap();
        assert!(SenseNufft::new(&be, nufft, pseudo_random(144, 3)).is_err());
        assert!(adjoint_mismatch(&be, &op, 1) < 1e-4);
    }

    #[test]
    fn cg_sense_recovers_an_image_from_noiseless_data() {
        let be = CpuBackend::new();
        let n = 12usize;
        let mut acqs = radial(24, 2 * n, 1.0);
        let nc0 = read_noncartesian(&header(n as u16), &acqs, &NonCartOptions::default()).unwrap();
        let maps = pseudo_random(2 * n * n, 8)
            .into_iter()
            .map(|m| m + C32::new(1.0, 0.0))
            .collect::<Vec<_>>();
        let truth = pseudo_random(n * n, 4);
        let nufft = Nufft::new(&nc0.image_shape, &nc0.coords, 2, NufftOptions::default()).unwrap();
        let mut coils = be.zeros(2 * n * n);
        be.expand_coils(&mut coils, &truth, &maps);
        let mut y = be.zeros(2 * nc0.samples());
        nufft.forward(&be, &coils, &mut y);
        // Write the simulated samples back into the readouts and read again.
        let ns = 2 * n;
        for (r, a) in acqs.iter_mut().enumerate() {
            for c in 0..2 {
                let src = &y[c * nc0.samples() + r * ns..][..ns];
                a.data[c * ns..(c + 1) * ns].copy_from_slice(src);
            }
        }
        let nc = read_noncartesian(&header(n as u16), &acqs, &NonCartOptions::default()).unwrap();
        let opts = CgSenseOptions {
            lambda: 0.0,
            iterations: 100,
            tolerance: 1e-7,
            ..Default::default()
        };
        let x = cg_sense_recon(&nc, &be, &maps, &opts).unwrap();
        let err: f32 = x.iter().zip(&truth).map(|(a, b)| (a - b).norm_sqr()).sum();
        let norm: f32 = truth.iter().map(|b| b.norm_sqr()).sum();
        assert!((err / norm).sqrt() < 1e-2, "{}", (err / norm).sqrt());
        assert!(cg_sense_recon(&nc, &be, &maps[1..], &opts).is_err());
        let mut bad = nc.clone();
        bad.data.pop();
        assert!(gridding_recon(&bad, &be, Dcf::Ramp, NufftOptions::default()).is_err());
        let g = gridding_recon(&nc, &be, Dcf::Ramp, NufftOptions::default()).unwrap();
        assert_eq!(g.shape, vec![n, n]);
    }
}
