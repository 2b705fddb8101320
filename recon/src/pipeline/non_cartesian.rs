//! The non-Cartesian path of the pipeline (radial, spiral: readouts with a trajectory), taken
//! when the configuration has a `nufft` stage.
//!
//! Readouts and trajectory ([`read_noncartesian`]) → `prewhiten` (noise readouts, when
//! configured) → `coil_compress` (SVD of all samples, [`crate::coil_compress`]) → density
//! compensation per the `nufft` stage, then:
//! - no `sense`/`cs` stage: the density-compensated adjoint NUFFT of every coil, combined by
//!   `combine` (RSS by default; BART `nufft -a` + RSS);
//! - `sensitivities` + `sense`: maps (ESPIRiT by default) from the Cartesian k-space of the
//!   inverse NUFFT of every coil (least squares by CG → centred FFT; BART: `nufft -i` →
//!   `fft -u` → `ecalib -r 24`), then CG-SENSE on `(AᴴA + λI) x = Aᴴy` with `A = NUFFT · maps` and no
//!   density weighting, with BART's data scaling (BART `pics -l2 -t`);
//! - `sensitivities` + `cs`: l1-wavelet FISTA (or TV / wavelet ADMM) on the same operator.
//!
//! Readout oversampling needs no removal: the trajectory is read in cycles per pixel of the
//! recon matrix, which is the NUFFT's image grid. GRAPPA needs Cartesian k-space and is an
//! error here.

use accord_ismrmrd::Acquisition;
use accord_ismrmrd::xml::IsmrmrdHeader;

use super::{ImageGeometry, Progress, ReconOutput, adjoint_scale, estimate_maps, solve_with};
use crate::backend::{Backend, C32, FftDirection};
use crate::coil_compress::{CoilCompression, check_virtual_coils};
use crate::config::{CombineMethod, DensityCompensation, NoiseRequirement, ReconConfig, Stage};
use crate::error::{ReconError, Result};
use crate::linop::{LinOp, numel};
use crate::noncart::{
    Dcf, NonCartOptions, NonCartesian, SenseNufft, TrajectoryEvidence, dcf_weights, read_noise,
    read_noncartesian,
};
use crate::nufft::{DEFAULT_PIPE_MENON_ITERATIONS, Nufft, NufftOptions};
use crate::prewhiten::{BandwidthScaling, Prewhitener};
use crate::provenance::StageRecord;
use crate::solve::{CgOptions, cg};

/// The calibration region of the maps when the stage says 0 (BART `ecalib -r 24`).
const DEFAULT_CALIBRATION: usize = 24;

/// Conjugate-gradient iterations of the inverse NUFFT that gives the maps' k-space (BART
/// `nufft -i`: 50, no regularisation).
const INVERSE_NUFFT_ITERATIONS: usize = 50;

/// What the stages ask for, collected before the reconstruction runs.
struct Plan {
    nufft: NufftOptions,
    density: Dcf,
    maps: Option<(Stage, usize)>,
    solver: Option<Stage>,
    combine: CombineMethod,
}

/// Runs `cfg` on non-Cartesian raw data (`evidence` says why they are).
pub(super) fn run<B: Backend>(
    cfg: &ReconConfig,
    header: &IsmrmrdHeader,
    acquisitions: &[Acquisition],
    be: &B,
    evidence: &TrajectoryEvidence,
    progress: Progress<'_>,
) -> Result<ReconOutput> {
    progress("non-Cartesian reconstruction", 0, 3);
    let options = NonCartOptions::default();
    let mut nc = read_noncartesian(header, acquisitions, &options)?;
    let mut records = vec![StageRecord {
        kind: "read_noncartesian".into(),
        decision: format!(
            "{}: {} readouts, {} samples per coil, {} coil(s), trajectory read in {:?}, image {:?}",
            evidence.what,
            nc.readouts,
            nc.samples(),
            nc.n_coils,
            nc.units,
            nc.image_shape
        ),
    }];
    let mut plan = Plan {
        nufft: NufftOptions::default(),
        density: Dcf::Ramp,
        maps: None,
        solver: None,
        combine: CombineMethod::Rss,
    };
    for (i, stage) in cfg.stages.iter().enumerate() {
        let decision = match stage {
            Stage::Prewhiten { noise } => prewhiten(be, &mut nc, header, acquisitions, *noise)?,
            Stage::RemoveOversampling => "non-Cartesian: the trajectory is read in cycles per \
                 recon-matrix pixel, so the NUFFT grid is the recon matrix; nothing to remove"
                .into(),
            Stage::Nufft {
                oversampling,
                kernel_width,
                density,
            } => {
                plan.nufft = NufftOptions {
                    oversampling: *oversampling,
                    width: *kernel_width,
                };
                plan.density = match density {
                    DensityCompensation::Ramp => Dcf::Ramp,
                    DensityCompensation::Pipe => Dcf::PipeMenon(DEFAULT_PIPE_MENON_ITERATIONS),
                    DensityCompensation::None => Dcf::None,
                };
                format!(
                    "Kaiser–Bessel NUFFT, grid oversampling {oversampling}, kernel width \
                     {kernel_width}; density compensation {:?} (for the gridding without \
                     sense/cs; SENSE/CS and the maps use the unweighted data)",
                    plan.density
                )
            }
            Stage::Sensitivities { calibration, .. } => {
                let smallest = nc.image_shape.iter().copied().min().unwrap_or(1);
                let calib = if *calibration > 0 {
                    *calibration
                } else {
                    DEFAULT_CALIBRATION
                }
                .min(smallest);
                plan.maps = Some((stage.clone(), calib));
                format!(
                    "from the Cartesian k-space of the inverse NUFFT of every coil (CG, \
                     {INVERSE_NUFFT_ITERATIONS} iterations, like BART nufft -i), calibration \
                     region {calib} per axis"
                )
            }
            Stage::Grappa { .. } => {
                return Err(ReconError::stage(
                    "grappa",
                    format!(
                        "GRAPPA needs Cartesian k-space and the data are non-Cartesian ({}); \
                         use 'sensitivities' with 'sense' or 'cs' instead",
                        evidence.what
                    ),
                ));
            }
            Stage::Sense { .. } | Stage::Cs { .. } => {
                plan.solver = Some(stage.clone());
                "see the solver record".into()
            }
            Stage::Combine { method } => {
                plan.combine = *method;
                format!("{method:?}")
            }
            Stage::CoilCompress { virtual_coils } => {
                check_virtual_coils(
                    *virtual_coils,
                    nc.n_coils,
                    &format!("stage[{i}].virtual_coils"),
                )?;
                let cc = CoilCompression::from_samples(&nc.data, nc.n_coils, *virtual_coils)?;
                nc.data = cc.apply_host(&nc.data)?;
                nc.n_coils = cc.n_virtual;
                cc.describe()
            }
            Stage::PartialFourier { .. } => {
                return Err(ReconError::stage(
                    "partial_fourier",
                    format!(
                        "partial Fourier completes asymmetrically sampled Cartesian k-space; the \
                         data are non-Cartesian ({}): remove partial_fourier",
                        evidence.what
                    ),
                ));
            }
        };
        records.push(StageRecord {
            kind: stage.kind().into(),
            decision,
        });
    }
    nc.validate()?;
    let out = reconstruct(be, &nc, &plan, &mut records, progress)?;
    let enc = header.encoding.get(options.encoding);
    let fov = enc.map_or([0.0; 3], |e| {
        let f = &e.recon_space.field_of_view_mm;
        [f.x, f.y, f.z]
    });
    progress("non-Cartesian reconstruction", 3, 3);
    Ok(ReconOutput {
        stages: records,
        geometry: ImageGeometry::from_acquisitions(fov, acquisitions),
        ..out
    })
}

/// Gridding, maps and the solver or the coil combination.
fn reconstruct<B: Backend>(
    be: &B,
    nc: &NonCartesian,
    plan: &Plan,
    records: &mut Vec<StageRecord>,
    progress: Progress<'_>,
) -> Result<ReconOutput> {
    let grid = nc.image_shape.clone();
    let n_pix = numel(&grid);
    let n_coils = nc.n_coils;
    let cshape: Vec<usize> = std::iter::once(n_coils)
        .chain(grid.iter().copied())
        .collect();
    let spatial: Vec<usize> = (1..cshape.len()).collect();
    let nufft = Nufft::new(&grid, &nc.coords, n_coils, plan.nufft)?;
    let y = be.upload(&nc.data);

    // Maps from the Cartesian k-space of the inverse NUFFT of every coil.
    let maps = match &plan.maps {
        Some((stage, calib)) => {
            let mut k = be.zeros(n_coils * n_pix);
            cg(
                be,
                &nufft,
                &y,
                0.0,
                &mut k,
                &CgOptions {
                    max_iter: INVERSE_NUFFT_ITERATIONS,
                    tol: 0.0,
                },
                None,
            )?;
            be.fft(&mut k, &cshape, &spatial, FftDirection::Forward);
            Some(estimate_maps(be, &k, &cshape, stage, *calib)?)
        }
        None => None,
    };
    progress("non-Cartesian reconstruction", 1, 3);

    // Without a solver: density-compensated gridding of every coil.
    let coils = if plan.solver.is_none() {
        let w = dcf_weights(nc, plan.density, &plan.nufft)?;
        let mut yw = be.upload(&nc.data);
        be.mul_real(&mut yw, &w.repeat(n_coils));
        let mut coils = be.zeros(n_coils * n_pix);
        nufft.adjoint(be, &yw, &mut coils);
        coils
    } else {
        be.zeros(0)
    };
    progress("non-Cartesian reconstruction", 2, 3);

    let keeps_phase = plan.solver.is_some() || plan.combine == CombineMethod::Sensitivity;
    let image: Vec<C32> = match (&plan.solver, maps) {
        (Some(solver), Some(m)) => {
            let op = SenseNufft::new(be, nufft, m.maps)?;
            let s = adjoint_scale(be, &op, &y);
            let (x, note) = solve_with(be, &op, y, &grid, solver, 1.0 / s)?;
            records.push(StageRecord {
                kind: solver.kind().into(),
                decision: format!("{note}; A = {}", LinOp::<B>::name(&op)),
            });
            be.download(&x)
        }
        (Some(solver), None) => {
            return Err(ReconError::stage(
                solver.kind(),
                "needs coil maps: add a 'sensitivities' stage",
            ));
        }
        (None, maps) => match (plan.combine, maps) {
            (CombineMethod::Rss, _) => be
                .rss(&coils, n_coils)
                .into_iter()
                .map(|m| C32::new(m, 0.0))
                .collect(),
            (CombineMethod::Sensitivity, Some(m)) => {
                let mut x = be.zeros(n_pix);
                be.combine_coils(&mut x, &coils, &m.maps);
                be.download(&x)
            }
            (CombineMethod::Sensitivity, None) => {
                return Err(ReconError::stage(
                    "combine",
                    "method = \"sensitivity\" needs a 'sensitivities' stage",
                ));
            }
        },
    };
    if image
        .iter()
        .any(|v| !(v.re.is_finite() && v.im.is_finite()))
    {
        return Err(ReconError::numerical(
            "pipeline",
            "the non-Cartesian reconstruction produced non-finite values",
        ));
    }
    let axes: Vec<String> = if grid.len() == 3 {
        vec!["z".into(), "y".into(), "x".into()]
    } else {
        vec!["y".into(), "x".into()]
    };
    Ok(ReconOutput {
        magnitude: image.iter().map(|c| c.norm()).collect(),
        complex: keeps_phase.then_some(image),
        shape: grid,
        axes,
        stages: Vec::new(),
        geometry: ImageGeometry::default(),
    })
}

/// Whitens the samples `[coil, sample]` with the noise readouts' covariance.
fn prewhiten<B: Backend>(
    be: &B,
    nc: &mut NonCartesian,
    header: &IsmrmrdHeader,
    acquisitions: &[Acquisition],
    need: NoiseRequirement,
) -> Result<String> {
    let Some(noise) = read_noise(header, acquisitions, nc.n_coils)? else {
        return match need {
            NoiseRequirement::Required => Err(ReconError::stage(
                "prewhiten",
                "the data have no noise readouts (ACQ_IS_NOISE_MEASUREMENT) and the config sets noise = \"required\"",
            )),
            NoiseRequirement::IfPresent => Ok("skipped: no noise readouts".into()),
        };
    };
    let pw = Prewhitener::from_noise(&noise, nc.dwell_us, BandwidthScaling::Dwell)?;
    nc.data = be.download(&pw.apply(be, &be.upload(&nc.data))?);
    Ok(format!(
        "{} noise readouts of {} samples, bandwidth factor {:.4}",
        noise.readouts, noise.n_samples, pw.bandwidth_factor
    ))
}
