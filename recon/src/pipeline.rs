//! The pipeline runner: a [`ReconConfig`] applied to ISMRMRD raw data, stage by stage, with a
//! record of what every stage did (for the provenance).
//!
//! Cartesian data: [assembly](crate::kspace::assemble) → `prewhiten` → `remove_oversampling` →
//! `coil_compress` ([`crate::coil_compress`], one matrix for the file) → per k-space volume
//! (every combination of the counters present): `grappa` → `partial_fourier`
//! ([`crate::partial_fourier`]; refused with `sense`/`cs`) → maps → `sense`/`cs`, or the coil
//! images, combined by `combine` (RSS by default). Images are cropped to the recon matrix and
//! laid out as [`crate::conventions`] says: `[<counter axes>, (z), y, x]`.
//!
//! Non-Cartesian data (a trajectory in the readouts, or a radial / spiral encoding) need a
//! `nufft` stage and take the path of [`non_cartesian`]: readouts with their trajectory →
//! `prewhiten` → density-compensated adjoint NUFFT → RSS, or ESPIRiT maps from the gridded
//! k-space and CG-SENSE / l1-wavelet FISTA on `A = NUFFT · maps`. A `nufft` stage on Cartesian
//! data is an error, and so is non-Cartesian data without one.

mod non_cartesian;

use accord_ismrmrd::Acquisition;
use accord_ismrmrd::xml::IsmrmrdHeader;

use crate::backend::{Backend, C32, FftDirection};
use crate::coil_compress::{CoilCompression, check_virtual_coils};
use crate::coils::CoilMaps;
use crate::coils::direct::direct_maps;
use crate::coils::espirit::{EspiritOptions, espirit};
use crate::coils::walsh::{WalshOptions, lowres_coil_images, walsh};
use crate::config::{
    CombineMethod, CsAlgorithm, MapsMethod, NoiseRequirement, PartialFourierMethod, ReconConfig,
    Regulariser, Stage,
};
use crate::error::{ReconError, Result};
use crate::grappa::{Grappa, GrappaOptions};
use crate::kspace::{AssemblyOptions, Calibration, CoilKspace, assemble};
use crate::linop::wavelet_frame::DEFAULT_MIN_BAND;
use crate::linop::{
    Daubechies, FiniteDifference, LinOp, SenseOp, SenseSampling, SymmetricWavelet, WaveletOp,
    WaveletThreshold,
};
use crate::noncart::trajectory_evidence;
use crate::oversampling::{crop_axis_centre, remove_oversampling_kspace};
use crate::partial_fourier::{self, AxisExtent, PartialFourierAxes};
use crate::prewhiten::{BandwidthScaling, Prewhitener};
use crate::provenance::StageRecord;
use crate::scaling::{cartesian_calibration_scale, scale_from_magnitudes};
use crate::solve::{AdmmOptions, CgOptions, FistaOptions, L1, admm, cg, fista};

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
    let has_nufft = cfg.stages.iter().any(|s| matches!(s, Stage::Nufft { .. }));
    let encoding = AssemblyOptions::default().encoding;
    match (
        trajectory_evidence(header, acquisitions, encoding),
        has_nufft,
    ) {
        (Some(evidence), true) => {
            return non_cartesian::run(cfg, header, acquisitions, be, &evidence, progress);
        }
        (Some(evidence), false) => {
            let what = format!(
                "the data are non-Cartesian ({}); the configuration has no 'nufft' stage: add \
                 one ([[stage]] kind = \"nufft\") to reconstruct them",
                evidence.what
            );
            return Err(match evidence.acquisition {
                Some(i) => ReconError::acquisition(i, what),
                None => ReconError::data(what),
            });
        }
        (None, true) => {
            return Err(ReconError::stage(
                "nufft",
                "the data are Cartesian (no trajectory); remove the nufft stage",
            ));
        }
        (None, false) => {}
    }
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
    // The readout extent as assembled (asymmetric echoes), before anything mixes samples.
    let readout = cfg
        .stages
        .iter()
        .any(|s| matches!(s, Stage::PartialFourier { .. }))
        .then(|| partial_fourier::readout_extent(&ks))
        .flatten();
    let mut plan = Plan::default();
    for (i, stage) in cfg.stages.iter().enumerate() {
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
                plan.combine = *method;
                format!("{method:?}")
            }
            Stage::Sensitivities { calibration, .. } => {
                let calib = calibration_size(&ks, *calibration);
                plan.maps = Some((stage.clone(), calib));
                format!("calibration region {calib} per axis")
            }
            Stage::Grappa { kernel, lambda } => {
                let cal = ks
                    .calibration
                    .as_ref()
                    .map(|c| c.ky_range.len())
                    .unwrap_or(0);
                plan.grappa = Some((*kernel, *lambda));
                format!("kernel {kernel:?}, lambda {lambda}, {cal} calibration lines")
            }
            Stage::Sense { .. } | Stage::Cs { .. } => {
                plan.solver = Some(stage.clone());
                "see the per-volume record".into()
            }
            Stage::CoilCompress { virtual_coils } => {
                check_virtual_coils(
                    *virtual_coils,
                    ks.n_coils,
                    &format!("stage[{i}].virtual_coils"),
                )?;
                let cc = CoilCompression::from_kspace(&ks, *virtual_coils)?;
                cc.apply_kspace(&mut ks)?;
                cc.describe()
            }
            Stage::PartialFourier { method, iterations } => {
                if cfg
                    .stages
                    .iter()
                    .any(|s| matches!(s, Stage::Sense { .. } | Stage::Cs { .. }))
                {
                    return Err(ReconError::stage(
                        "partial_fourier",
                        "SENSE/CS model the unsampled k-space already; remove partial_fourier",
                    ));
                }
                let readout = readout.map(|e| e.rescaled(ks.matrix[2]));
                plan.partial_fourier = Some(PartialFourierPlan {
                    method: *method,
                    iterations: *iterations,
                    readout,
                });
                let what = match method {
                    PartialFourierMethod::ZeroFill => "zero filling".to_string(),
                    PartialFourierMethod::Homodyne => "homodyne detection".to_string(),
                    PartialFourierMethod::Pocs => format!("POCS, {iterations} iterations"),
                };
                format!("{what}; the asymmetry found in the per-volume record")
            }
            Stage::Nufft { .. } => {
                return Err(ReconError::stage(
                    "nufft",
                    "the data are Cartesian (no trajectory); remove the nufft stage",
                ));
            }
        };
        records.push(StageRecord {
            kind: stage.kind().into(),
            decision,
        });
    }
    let geometry = ImageGeometry::from_acquisitions(ks.geometry.recon_fov_mm, acquisitions);
    let simple = plan.maps.is_none()
        && plan.grappa.is_none()
        && plan.solver.is_none()
        && plan.partial_fourier.is_none();
    if simple && ks.sampled_fraction() >= 1.0 {
        let out = coil_images_combined(be, &ks, plan.combine, progress)?;
        return Ok(ReconOutput {
            stages: records,
            geometry,
            ..out
        });
    }
    merge_calibration(&mut ks);
    let out = per_volume(be, ks, &plan, &mut records, progress)?;
    Ok(ReconOutput {
        stages: records,
        geometry,
        ..out
    })
}

/// The stages after assembly, prewhitening and oversampling removal, as they apply per volume.
#[derive(Default)]
struct Plan {
    /// The sensitivities stage and its calibration size.
    maps: Option<(Stage, usize)>,
    /// GRAPPA kernel and lambda.
    grappa: Option<([usize; 2], f64)>,
    /// SENSE or CS.
    solver: Option<Stage>,
    /// Partial Fourier.
    partial_fourier: Option<PartialFourierPlan>,
    combine: CombineMethod,
}

/// The partial-Fourier stage: method, POCS iterations and the readout extent on the current
/// `kx` grid.
struct PartialFourierPlan {
    method: PartialFourierMethod,
    iterations: usize,
    readout: Option<AxisExtent>,
}

/// The calibration region size: the configured one, else the calibration lines' extent, else
/// the fully sampled centre of the sampling mask, at most 24 (BART `ecalib -r` default).
fn calibration_size(ks: &CoilKspace, configured: usize) -> usize {
    if configured > 0 {
        return configured;
    }
    if let Some(c) = &ks.calibration {
        return c.ky_range.len().max(1);
    }
    let [nz, ny, _] = ks.matrix;
    let mask = &ks.mask[..nz * ny]; // the first volume
    let (cz, cy) = (nz / 2, ny / 2);
    let mut size = 1;
    while size < ny.max(nz) {
        let next = size + 1;
        let half = next / 2;
        let ok = (0..next).all(|dy| {
            let y = (cy + dy).checked_sub(half);
            let zs = if nz > 1 { next } else { 1 };
            (0..zs).all(|dz| {
                let z = if nz > 1 {
                    (cz + dz).checked_sub(half)
                } else {
                    Some(0)
                };
                matches!((z, y), (Some(z), Some(y)) if z < nz && y < ny && mask[z * ny + y])
            })
        });
        if !ok {
            break;
        }
        size = next;
    }
    size.min(24)
}

/// Copies calibration-only lines into the imaging k-space (embedded calibration is used for
/// data consistency too).
fn merge_calibration(ks: &mut CoilKspace) {
    let Some(cal) = &ks.calibration else {
        return;
    };
    let nx = ks.matrix[2];
    let lines = ks.mask.len();
    for (l, (m, c)) in ks.mask.iter_mut().zip(&cal.mask).enumerate() {
        if !*m && *c {
            *m = true;
            for coil in 0..ks.n_coils {
                let off = (coil * lines + l) * nx;
                ks.data[off..off + nx].copy_from_slice(&cal.data[off..off + nx]);
            }
        }
    }
}

/// One k-space volume: `[coil, kz, ky, kx]` and its `[kz, ky]` sampling mask. A single volume
/// is moved out of `ks` (no copy of the k-space), several are copied one at a time.
fn volume(ks: &mut CoilKspace, v: usize) -> (Vec<C32>, Vec<bool>) {
    let [nz, ny, nx] = ks.matrix;
    let len = nz * ny * nx;
    let nv = ks.n_volumes();
    if nv == 1 {
        return (std::mem::take(&mut ks.data), ks.mask.clone());
    }
    let mut data = Vec::with_capacity(ks.n_coils * len);
    for c in 0..ks.n_coils {
        let off = (c * nv + v) * len;
        data.extend_from_slice(&ks.data[off..off + len]);
    }
    (data, ks.mask[v * nz * ny..(v + 1) * nz * ny].to_vec())
}

/// Reconstructs every volume with maps / GRAPPA / SENSE / CS and combines.
fn per_volume<B: Backend>(
    be: &B,
    mut ks: CoilKspace,
    plan: &Plan,
    records: &mut Vec<StageRecord>,
    progress: Progress<'_>,
) -> Result<ReconOutput> {
    let [nz, ny, nx] = ks.matrix;
    let nc = ks.n_coils;
    let three_d = nz > 1;
    let grid: Vec<usize> = if three_d {
        vec![nz, ny, nx]
    } else {
        vec![ny, nx]
    };
    let cshape: Vec<usize> = std::iter::once(nc).chain(grid.iter().copied()).collect();
    let spatial: Vec<usize> = (1..cshape.len()).collect();
    let [rx, ry, rz] = ks.geometry.recon_matrix;
    let keep = [rz.min(nz), ry.min(ny), rx.min(nx)];
    let out_len = keep.iter().product::<usize>();
    let nv = ks.n_volumes();
    let mut magnitude = Vec::with_capacity(nv * out_len);
    let mut complex: Vec<C32> = Vec::new();
    let keeps_phase = plan.solver.is_some() || plan.combine == CombineMethod::Sensitivity;
    // GRAPPA's calibration blocks, one per volume; the full-grid calibration copy is dropped
    // (the calibration lines are merged into the k-space already).
    let mut cal_blocks = match plan.grappa {
        Some(_) => {
            let cal = ks.calibration.as_ref().ok_or_else(|| {
                ReconError::stage(
                    "grappa",
                    "the data have no calibration lines (ACQ_IS_PARALLEL_CALIBRATION); GRAPPA needs them",
                )
            })?;
            (0..nv).map(|v| calibration_block(&ks, cal, v)).collect()
        }
        None => Vec::new(),
    }
    .into_iter();
    ks.calibration = None;
    for v in 0..nv {
        progress("volumes", v, nv);
        let (mut data, mask) = volume(&mut ks, v);
        if let Some((kernel, lambda)) = plan.grappa {
            let (cdata, cshape_cal) = cal_blocks.next().ok_or_else(|| {
                ReconError::stage(
                    "grappa",
                    format!("internal: no calibration block for volume {v}"),
                )
            })?;
            let opts = GrappaOptions {
                kernel: if three_d {
                    vec![kernel[0], kernel[0], kernel[1]]
                } else {
                    kernel.to_vec()
                },
                lamda: lambda,
                ..GrappaOptions::default()
            };
            // Filled in place on the host copy: no download / upload of the k-space around it.
            Grappa::calibrate(be, &be.upload(&cdata), &cshape_cal, &opts)?
                .fill_host(&mut data, &cshape)?;
        }
        // BART's data scale, from the host copy before it is handed to the backend.
        let data_scale = plan.solver.as_ref().map(|_| {
            let dims = if three_d { [nz, ny, nx] } else { [1, ny, nx] };
            cartesian_calibration_scale(be, &data, nc, dims, &mask)
        });
        let mut k = be.upload_vec(data);
        if let Some(pf) = &plan.partial_fourier {
            let axes = PartialFourierAxes::detect(&mask, nz, ny, pf.readout)?;
            partial_fourier::check_filled(&axes, pf.method, plan.grappa.is_some())?;
            let (completed, note) =
                partial_fourier::complete(be, &k, &cshape, &axes, pf.method, pf.iterations)?;
            k = completed;
            if v == 0 {
                records.push(StageRecord {
                    kind: "partial_fourier".into(),
                    decision: note,
                });
            }
        }
        let maps = match &plan.maps {
            Some((stage, calib)) => Some(estimate_maps(be, &k, &cshape, stage, *calib)?),
            None => None,
        };
        let image: B::Buf = match (&plan.solver, maps) {
            (Some(solver), Some(m)) => {
                let scale = data_scale.unwrap_or(1.0);
                let (x, note) = solve(be, k, &mask, m, solver, scale)?;
                if v == 0 {
                    records.push(StageRecord {
                        kind: solver.kind().into(),
                        decision: note,
                    });
                }
                x
            }
            (Some(solver), None) => {
                return Err(ReconError::stage(
                    solver.kind(),
                    "needs coil maps: add a 'sensitivities' stage",
                ));
            }
            (None, maps) => {
                let mut coils = k;
                be.fft(&mut coils, &cshape, &spatial, FftDirection::Inverse);
                match (plan.combine, maps) {
                    (CombineMethod::Sensitivity, Some(m)) => {
                        let mut x = be.zeros(grid.iter().product());
                        be.combine_coils(&mut x, &coils, &m.maps);
                        x
                    }
                    (CombineMethod::Sensitivity, None) => {
                        return Err(ReconError::stage(
                            "combine",
                            "method = \"sensitivity\" needs a 'sensitivities' stage",
                        ));
                    }
                    (CombineMethod::Rss, _) => {
                        let r = be.rss(&coils, nc);
                        be.upload(&r.iter().map(|&m| C32::new(m, 0.0)).collect::<Vec<_>>())
                    }
                }
            }
        };
        // Crop to the recon matrix.
        let mut shape3 = vec![nz, ny, nx];
        let mut img = image;
        for (axis, &n) in keep.iter().enumerate() {
            let (c, s) = crop_axis_centre(be, &img, &shape3, axis, n)?;
            img = c;
            shape3 = s;
        }
        let host = be.download(&img);
        magnitude.extend(host.iter().map(|c| c.norm()));
        if keeps_phase {
            complex.extend_from_slice(&host);
        }
    }
    progress("volumes", nv, nv);
    let mut shape: Vec<usize> = ks.counter_axes.iter().map(|a| a.size).collect();
    let mut axes: Vec<String> = ks
        .counter_axes
        .iter()
        .map(|a| a.counter.name().to_string())
        .collect();
    if three_d {
        shape.push(keep[0]);
        axes.push("z".into());
    }
    shape.extend([keep[1], keep[2]]);
    axes.extend(["y".to_string(), "x".to_string()]);
    Ok(ReconOutput {
        complex: keeps_phase.then_some(complex),
        magnitude,
        shape,
        axes,
        stages: Vec::new(),
        geometry: ImageGeometry::default(),
    })
}

/// The calibration block of volume `v`: `[coil, (kz,) ky_cal, kx]`.
fn calibration_block(ks: &CoilKspace, cal: &Calibration, v: usize) -> (Vec<C32>, Vec<usize>) {
    let [nz, ny, nx] = ks.matrix;
    let nv = ks.n_volumes();
    let (zr, yr) = (cal.kz_range.clone(), cal.ky_range.clone());
    let mut out = Vec::new();
    for c in 0..ks.n_coils {
        let base = (c * nv + v) * nz * ny * nx;
        for z in zr.clone() {
            for y in yr.clone() {
                let off = base + (z * ny + y) * nx;
                out.extend_from_slice(&cal.data[off..off + nx]);
            }
        }
    }
    let mut shape = vec![ks.n_coils];
    if nz > 1 {
        shape.push(zr.len());
    }
    shape.extend([yr.len(), nx]);
    (out, shape)
}

fn estimate_maps<B: Backend>(
    be: &B,
    k: &B::Buf,
    cshape: &[usize],
    stage: &Stage,
    calib: usize,
) -> Result<CoilMaps<B>> {
    let Stage::Sensitivities {
        method,
        kernel,
        threshold,
        crop,
        window,
        ..
    } = stage
    else {
        return Err(ReconError::stage(
            "sensitivities",
            "internal: not a sensitivities stage",
        ));
    };
    match method {
        MapsMethod::Espirit => espirit(
            be,
            k,
            cshape,
            &EspiritOptions {
                calib,
                kernel: *kernel,
                threshold: *threshold,
                crop: *crop as f32,
                ..EspiritOptions::default()
            },
        ),
        MapsMethod::Direct => direct_maps(be, k, cshape, calib),
        MapsMethod::Walsh => {
            let images = lowres_coil_images(be, k, cshape, calib)?;
            walsh(
                be,
                &images,
                cshape,
                &WalshOptions {
                    window: *window,
                    ..WalshOptions::default()
                },
            )
        }
    }
}

/// SENSE or CS of one Cartesian volume `k` (`[coil, (z,) y, x]`, taken over and scaled in
/// place by `scale`, BART's data scale) with the maps `maps` (moved into the operator); returns
/// the image `[(z,) y, x]` and a record line.
fn solve<B: Backend>(
    be: &B,
    k: B::Buf,
    mask: &[bool],
    maps: CoilMaps<B>,
    solver: &Stage,
    scale: f32,
) -> Result<(B::Buf, String)> {
    let grid = maps.shape[1..].to_vec();
    let nx = *grid.last().unwrap_or(&1);
    let weights: Vec<f32> = mask
        .iter()
        .flat_map(|&m| std::iter::repeat_n(if m { 1.0 } else { 0.0 }, nx))
        .collect();
    let op = SenseOp::from_buffer(be, maps.maps, &maps.shape, SenseSampling::Mask(weights))?;
    solve_with(be, &op, k, &grid, solver, 1.0 / scale)
}

/// BART's data scale for non-Cartesian data: from the magnitudes of the adjoint image.
pub(crate) fn adjoint_scale<B: Backend, A: LinOp<B>>(be: &B, op: &A, k: &B::Buf) -> f32 {
    let mut x0 = be.zeros(crate::linop::numel(op.ishape()));
    op.adjoint(be, k, &mut x0);
    let mut mags: Vec<f32> = be.download(&x0).iter().map(|c| c.norm()).collect();
    scale_from_magnitudes(&mut mags)
}

/// SENSE or CS with the encoding operator `op` (image `grid` → data like `k`) on the data `k`
/// (taken over) multiplied by `scale` (BART's automatic scaling, [`crate::scaling`]); returns the image
/// (scaled back) and a record line.
pub(crate) fn solve_with<B: Backend, A: LinOp<B>>(
    be: &B,
    op: &A,
    k: B::Buf,
    grid: &[usize],
    solver: &Stage,
    scale: f32,
) -> Result<(B::Buf, String)> {
    let n: usize = grid.iter().product();
    let mut y = k;
    be.scale(&mut y, C32::new(scale, 0.0));
    let mut x = be.zeros(n);
    let note = match solver {
        Stage::Sense {
            lambda,
            iterations,
            tolerance,
        } => {
            let r = cg(
                be,
                op,
                &y,
                *lambda as f32,
                &mut x,
                &CgOptions {
                    max_iter: *iterations,
                    tol: *tolerance,
                },
                None,
            )?;
            format!(
                "CG-SENSE, {} iterations, data scale {scale:.4e}",
                r.iterations
            )
        }
        Stage::Cs {
            regulariser,
            lambda,
            iterations,
            algorithm,
            random_shift,
            fista_order,
        } => {
            let axes: Vec<usize> = (0..grid.len()).collect();
            match (regulariser, algorithm) {
                (Regulariser::Wavelet, CsAlgorithm::Fista) => {
                    let wavelet =
                        SymmetricWavelet::new(grid, &axes, Daubechies::Db2, DEFAULT_MIN_BAND)?;
                    let levels = wavelet.levels_per_axis();
                    let mut prox = WaveletThreshold::new(wavelet, *lambda as f32)?;
                    if *random_shift {
                        prox = prox.with_random_shifts();
                    }
                    let r = fista(
                        be,
                        op,
                        &y,
                        &prox,
                        &mut x,
                        &FistaOptions {
                            max_iter: *iterations,
                            order: *fista_order,
                            ..FistaOptions::default()
                        },
                        None,
                    )?;
                    format!(
                        "l1-wavelet (db2, symmetric boundaries, levels {levels:?}{}) FISTA ({fista_order}), {} iterations, data scale {scale:.4e}",
                        if *random_shift {
                            ", random cycle spinning"
                        } else {
                            ""
                        },
                        r.iterations
                    )
                }
                (Regulariser::Tv, _) | (Regulariser::Wavelet, CsAlgorithm::Admm) => {
                    let prox = L1::new(*lambda as f32);
                    let opts = AdmmOptions {
                        max_iter: *iterations,
                        ..AdmmOptions::default()
                    };
                    let r = match regulariser {
                        Regulariser::Tv => {
                            let g = FiniteDifference::new(be, grid, &axes)?;
                            admm(be, op, &g, &prox, &y, &mut x, &opts, None)?
                        }
                        Regulariser::Wavelet => {
                            let g = WaveletOp::with_wavelet(
                                grid,
                                &axes,
                                WAVELET_LEVELS,
                                Daubechies::Db2,
                            )?
                            .with_min_band(WAVELET_MIN_BAND);
                            admm(be, op, &g, &prox, &y, &mut x, &opts, None)?
                        }
                    };
                    format!(
                        "{regulariser:?} ADMM, {} iterations, data scale {scale:.4e}",
                        r.iterations
                    )
                }
            }
        }
        other => {
            return Err(ReconError::stage(
                other.kind(),
                "internal: not a solver stage",
            ));
        }
    };
    be.scale(&mut x, C32::new(1.0 / scale, 0.0));
    if !be.all_finite(&x) {
        return Err(ReconError::numerical(
            "pipeline",
            format!("{} produced non-finite values", solver.kind()),
        ));
    }
    Ok((x, note))
}

/// Most levels of the periodic wavelet in ADMM's wavelet regulariser (FISTA uses BART's
/// symmetric-boundary frame, [`SymmetricWavelet`]).
const WAVELET_LEVELS: usize = 4;
/// Shortest periodic wavelet band in ADMM: an axis is not decomposed below 16 samples.
const WAVELET_MIN_BAND: usize = 16;

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
    let img = crate::rss::rss_from_kspace(ks, be, false)?;
    progress("coil images", 1, 1);
    Ok(ReconOutput {
        complex: None,
        magnitude: img.data,
        shape: img.shape,
        axes: img.axes.iter().map(|a| a.to_string()).collect(),
        stages: Vec::new(),
        geometry: ImageGeometry::default(),
    })
}
