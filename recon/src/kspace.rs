//! Cartesian k-space assembly: sorts ISMRMRD readouts into per-coil k-space arrays by their
//! encoding counters (Gadgetron's `BucketToBufferGadget`, done in one pass over the readouts).
//!
//! Input is the parsed header and the readouts ([`assemble`]); this module never touches files.
//!
//! # Layout
//!
//! [`CoilKspace::data`] is C order with shape
//!
//! ```text
//! [coil, <counter axes>, kz, ky, kx]
//! ```
//!
//! where `<counter axes>` are those of [`COUNTER_ORDER`] — slice, contrast, repetition,
//! average, set, phase, segment, in that fixed order — whose size is larger than 1
//! ([`CoilKspace::counter_axes`] lists them with their sizes; averages and segments only when
//! [`AssemblyOptions`] keeps them). `kz`, `ky` and `kx` are always present (`kz` of size 1 for
//! 2-D data). Sizes:
//!
//! - `kx`: `encodedSpace.matrixSize.x` (readout oversampling included, as ISMRMRD stores it);
//!   sample `s` of a readout lands on `kx = s − center_sample + nx/2`, so `center_sample` is on
//!   `nx/2` ([`crate::conventions`]). Samples before `discard_pre` and after
//!   `number_of_samples − discard_post` are dropped (their positions stay zero).
//! - `ky` / `kz`: `encodedSpace.matrixSize.y` / `.z`; readout `kspace_encode_step_1 = e` lands
//!   on `ky = e − center + ny/2` with `center` from `encodingLimits.kspace_encoding_step_1`
//!   (likewise `kz`), so the limit's centre is on `ny/2`. Without a limit (or with a zero centre
//!   while the limit spans several lines, which some writers leave unset) the offset is 0.
//! - counter axes: `encodingLimits.<counter>.maximum + 1` when the limit is given, else the
//!   largest value seen + 1. A counter above its limit's maximum (or below its minimum) is an
//!   error naming the acquisition.
//!
//! Readouts landing on the same cell (same counters, `kz`, `ky`) are **averaged** (summed and
//! divided by their number): with [`AverageMode::Mean`] (the default) that is how repeated
//! averages are combined, so partially averaged lines keep the scale of the others;
//! [`AverageMode::Keep`] keeps `average` as an axis instead. Segments are kept as an axis by
//! default ([`SegmentMode::Keep`]); [`SegmentMode::Merge`] places all segments in one k-space
//! (multi-shot readouts that tile `ky`).
//!
//! # Which readouts go where
//!
//! - `ACQ_IS_NOISE_MEASUREMENT`: [`CoilKspace::noise`] only (`[coil, sample]`).
//! - `ACQ_IS_PARALLEL_CALIBRATION`: [`CoilKspace::calibration`] only.
//! - `ACQ_IS_PARALLEL_CALIBRATION_AND_IMAGING`: both the imaging k-space and the calibration.
//! - navigator, phase-correction, feedback, dummy-scan, surface-coil-correction and
//!   phase-stabilisation readouts, and readouts of other encoding spaces: skipped (counted in
//!   [`CoilKspace::skipped`]).
//! - `ACQ_IS_REVERSE` readouts are placed as stored (EPI reversal is a later stage's job).

use std::ops::Range;

use accord_ismrmrd::xml::{EncodingLimits, IsmrmrdHeader, Limit, Trajectory};
use accord_ismrmrd::{Acquisition, AcquisitionFlag, AcquisitionHeader, EncodingCounters};

use crate::backend::C32;
use crate::error::{ReconError, Result};

/// A non-spatial encoding counter that can become an axis of the k-space array.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Counter {
    /// `idx.slice`
    Slice,
    /// `idx.contrast`
    Contrast,
    /// `idx.repetition`
    Repetition,
    /// `idx.average`
    Average,
    /// `idx.set`
    Set,
    /// `idx.phase`
    Phase,
    /// `idx.segment`
    Segment,
}

/// The fixed order of the counter axes in every k-space and image array.
pub const COUNTER_ORDER: [Counter; 7] = [
    Counter::Slice,
    Counter::Contrast,
    Counter::Repetition,
    Counter::Average,
    Counter::Set,
    Counter::Phase,
    Counter::Segment,
];

impl Counter {
    /// The ISMRMRD name of the counter (`slice`, `contrast`, …).
    pub fn name(self) -> &'static str {
        match self {
            Counter::Slice => "slice",
            Counter::Contrast => "contrast",
            Counter::Repetition => "repetition",
            Counter::Average => "average",
            Counter::Set => "set",
            Counter::Phase => "phase",
            Counter::Segment => "segment",
        }
    }

    /// The counter's value in a readout's `idx`.
    pub fn value(self, idx: &EncodingCounters) -> u16 {
        match self {
            Counter::Slice => idx.slice,
            Counter::Contrast => idx.contrast,
            Counter::Repetition => idx.repetition,
            Counter::Average => idx.average,
            Counter::Set => idx.set,
            Counter::Phase => idx.phase,
            Counter::Segment => idx.segment,
        }
    }

    /// The counter's limit in the header's `encodingLimits`, if given.
    pub fn limit(self, limits: &EncodingLimits) -> Option<&Limit> {
        match self {
            Counter::Slice => limits.slice.as_ref(),
            Counter::Contrast => limits.contrast.as_ref(),
            Counter::Repetition => limits.repetition.as_ref(),
            Counter::Average => limits.average.as_ref(),
            Counter::Set => limits.set.as_ref(),
            Counter::Phase => limits.phase.as_ref(),
            Counter::Segment => limits.segment.as_ref(),
        }
    }
}

impl std::fmt::Display for Counter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One counter axis present in the k-space array.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CounterAxis {
    /// Which counter.
    pub counter: Counter,
    /// Its size (number of positions).
    pub size: usize,
}

/// How readouts of different `average` counters are combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AverageMode {
    /// Average them into one k-space (sum divided by the number of readouts per line).
    #[default]
    Mean,
    /// Keep `average` as an axis.
    Keep,
}

/// How readouts of different `segment` counters are placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SegmentMode {
    /// Keep `segment` as an axis.
    #[default]
    Keep,
    /// Place all segments into one k-space (segments that tile `ky`).
    Merge,
}

/// Options of [`assemble`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AssemblyOptions {
    /// The encoding space to assemble (`encoding_space_ref`; header `encoding[i]`).
    pub encoding: usize,
    /// Averages: mean or axis.
    pub averages: AverageMode,
    /// Segments: axis or merged.
    pub segments: SegmentMode,
}

/// Geometry of the assembled k-space, from the header and the readouts.
#[derive(Debug, Clone, PartialEq)]
pub struct Geometry {
    /// `encodedSpace.matrixSize` as `[x, y, z]`.
    pub encoded_matrix: [usize; 3],
    /// `reconSpace.matrixSize` as `[x, y, z]`.
    pub recon_matrix: [usize; 3],
    /// `encodedSpace.fieldOfView_mm` as `[x, y, z]`.
    pub encoded_fov_mm: [f32; 3],
    /// `reconSpace.fieldOfView_mm` as `[x, y, z]`.
    pub recon_fov_mm: [f32; 3],
    /// The `kspace_encode_step_1` counter value of the k-space centre (limit centre).
    pub center_line: usize,
    /// The `kspace_encode_step_2` counter value of the k-space centre (limit centre).
    pub center_partition: usize,
    /// `ky` index = `kspace_encode_step_1 + ky_offset`.
    pub ky_offset: isize,
    /// `kz` index = `kspace_encode_step_2 + kz_offset`.
    pub kz_offset: isize,
    /// `center_sample` of the imaging readouts (after the zero-centre fallback, see [`assemble`]).
    pub center_sample: usize,
    /// `number_of_samples` of the imaging readouts.
    pub readout_samples: usize,
    /// Dwell time of the imaging readouts in µs (`sample_time_us`; 0 when not set).
    pub dwell_us: f32,
}

/// Calibration (ACS) readouts, on the same grid and layout as the imaging k-space.
#[derive(Debug, Clone, PartialEq)]
pub struct Calibration {
    /// Calibration samples, `[coil, <counter axes>, kz, ky, kx]` like [`CoilKspace::data`]
    /// (zero where no calibration line was acquired).
    pub data: Vec<C32>,
    /// Which lines hold calibration data, `[<counter axes>, kz, ky]`.
    pub mask: Vec<bool>,
    /// The `ky` range spanned by the calibration lines.
    pub ky_range: Range<usize>,
    /// The `kz` range spanned by the calibration lines.
    pub kz_range: Range<usize>,
    /// Number of calibration readouts.
    pub readouts: usize,
}

/// Noise readouts (`ACQ_IS_NOISE_MEASUREMENT`), concatenated per coil.
#[derive(Debug, Clone, PartialEq)]
pub struct NoiseData {
    /// Noise samples, `[coil, sample]`.
    pub data: Vec<C32>,
    /// Number of coils.
    pub n_coils: usize,
    /// Number of samples per coil.
    pub n_samples: usize,
    /// Dwell time of the noise readouts in µs (0 when not set).
    pub dwell_us: f32,
    /// Number of noise readouts.
    pub readouts: usize,
    /// Channel names from the header's `coilLabel`s, by channel (empty when absent).
    pub channel_labels: Vec<String>,
}

/// Per-coil Cartesian k-space assembled from readouts (layout in the [module docs](self)).
#[derive(Debug, Clone, PartialEq)]
pub struct CoilKspace {
    /// Samples, `[coil, <counter axes>, kz, ky, kx]`, C order.
    pub data: Vec<C32>,
    /// Number of coils (active channels).
    pub n_coils: usize,
    /// The counter axes present (size > 1), in [`COUNTER_ORDER`].
    pub counter_axes: Vec<CounterAxis>,
    /// `[kz, ky, kx]` sizes.
    pub matrix: [usize; 3],
    /// Which `(counters, kz, ky)` lines were acquired, `[<counter axes>, kz, ky]`.
    pub mask: Vec<bool>,
    /// Calibration lines, when any readout is flagged as calibration.
    pub calibration: Option<Calibration>,
    /// Noise readouts, when any.
    pub noise: Option<NoiseData>,
    /// Geometry from the header and the readouts.
    pub geometry: Geometry,
    /// Number of imaging readouts placed.
    pub readouts: usize,
    /// Number of readouts skipped (navigators, other encodings, …).
    pub skipped: usize,
}

impl CoilKspace {
    /// The full shape `[coil, <counter axes>, kz, ky, kx]`.
    pub fn shape(&self) -> Vec<usize> {
        let mut s = vec![self.n_coils];
        s.extend(self.counter_axes.iter().map(|a| a.size));
        s.extend(self.matrix);
        s
    }

    /// The shape of the sampling mask, `[<counter axes>, kz, ky]`.
    pub fn mask_shape(&self) -> Vec<usize> {
        let mut s: Vec<usize> = self.counter_axes.iter().map(|a| a.size).collect();
        s.extend(&self.matrix[..2]);
        s
    }

    /// Number of k-space volumes per coil (the product of the counter-axis sizes).
    pub fn n_volumes(&self) -> usize {
        self.counter_axes.iter().map(|a| a.size).product()
    }

    /// Fraction of the `(kz, ky)` lines acquired, over all volumes.
    pub fn sampled_fraction(&self) -> f64 {
        if self.mask.is_empty() {
            return 0.0;
        }
        self.mask.iter().filter(|&&m| m).count() as f64 / self.mask.len() as f64
    }
}

/// Readout flags that are neither imaging, calibration nor noise data.
const SKIPPED_FLAGS: [AcquisitionFlag; 8] = [
    AcquisitionFlag::IsNavigationData,
    AcquisitionFlag::IsPhasecorrData,
    AcquisitionFlag::IsHpfeedbackData,
    AcquisitionFlag::IsDummyscanData,
    AcquisitionFlag::IsRtfeedbackData,
    AcquisitionFlag::IsSurfacecoilcorrectionscanData,
    AcquisitionFlag::IsPhaseStabilizationReference,
    AcquisitionFlag::IsPhaseStabilization,
];

/// The encoding `index` of the header, or an error naming how many there are.
pub(crate) fn encoding_of(
    header: &IsmrmrdHeader,
    index: usize,
) -> Result<&accord_ismrmrd::xml::Encoding> {
    header.encoding.get(index).ok_or_else(|| {
        ReconError::config(
            "encoding",
            format!(
                "encoding {index} requested, the header has {}",
                header.encoding.len()
            ),
        )
    })
}

/// Checks that readout `index` has as many active channels as the first readout (recorded in
/// `seen` as `(channels, index)`) and more than zero; returns the channel count.
pub(crate) fn check_channels(
    seen: &mut Option<(usize, u64)>,
    h: &AcquisitionHeader,
    index: u64,
) -> Result<usize> {
    let nc = usize::from(h.active_channels);
    match *seen {
        None => *seen = Some((nc, index)),
        Some((prev, first)) if prev != nc => {
            return Err(ReconError::acquisition(
                index,
                format!(
                    "active_channels changed from {prev} (acquisition {first}) to {nc}; \
                     the channel count must not change within a file"
                ),
            ));
        }
        _ => {}
    }
    if nc == 0 {
        return Err(ReconError::acquisition(index, "active_channels is 0"));
    }
    Ok(nc)
}

/// What a readout is used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Noise,
    Calibration,
    CalibrationAndImaging,
    Imaging,
    Skip,
}

/// The role of a readout of encoding space `encoding`.
pub(crate) fn role(h: &AcquisitionHeader, encoding: usize) -> Role {
    if h.is_noise() {
        return Role::Noise;
    }
    if usize::from(h.encoding_space_ref) != encoding
        || SKIPPED_FLAGS.iter().any(|&f| h.is_flag_set(f))
    {
        return Role::Skip;
    }
    if h.is_flag_set(AcquisitionFlag::IsParallelCalibrationAndImaging) {
        Role::CalibrationAndImaging
    } else if h.is_flag_set(AcquisitionFlag::IsParallelCalibration) {
        Role::Calibration
    } else {
        Role::Imaging
    }
}

/// Placement of one phase-encode axis (`ky` or `kz`): size, offset and limit.
#[derive(Debug, Clone, Copy)]
struct EncodeAxis {
    name: &'static str,
    size: usize,
    offset: isize,
    center: usize,
    range: Option<(u16, u16)>,
}

impl EncodeAxis {
    fn new(name: &'static str, size: usize, limit: Option<&Limit>) -> Self {
        let half = (size / 2) as isize;
        match limit {
            Some(l) if !(l.center == 0 && l.maximum > l.minimum) => EncodeAxis {
                name,
                size,
                offset: half - l.center as isize,
                center: usize::from(l.center),
                range: Some((l.minimum, l.maximum)),
            },
            Some(l) => EncodeAxis {
                name,
                size,
                offset: 0,
                center: size / 2,
                range: Some((l.minimum, l.maximum)),
            },
            None => EncodeAxis {
                name,
                size,
                offset: 0,
                center: size / 2,
                range: None,
            },
        }
    }

    /// The array index of counter value `v`, or the reason it has none.
    fn index(&self, v: u16) -> std::result::Result<usize, String> {
        if let Some((lo, hi)) = self.range
            && (v < lo || v > hi)
        {
            return Err(format!(
                "{} = {v} is beyond the encoding limits [{lo}, {hi}]",
                self.name
            ));
        }
        let i = v as isize + self.offset;
        if i < 0 || i as usize >= self.size {
            return Err(format!(
                "{} = {v} lands on index {i}, outside the encoded matrix of {} (limit centre {})",
                self.name, self.size, self.center
            ));
        }
        Ok(i as usize)
    }
}

/// Checks every sample of a readout is finite; the error names channel and sample.
fn check_finite(index: u64, acq: &Acquisition, n_samples: usize) -> Result<()> {
    if let Some(p) = acq
        .data
        .iter()
        .position(|v| !(v.re.is_finite() && v.im.is_finite()))
    {
        let (c, s) = (p / n_samples.max(1), p % n_samples.max(1));
        return Err(ReconError::acquisition(
            index,
            format!(
                "non-finite sample {} at channel {c}, sample {s}",
                acq.data[p]
            ),
        ));
    }
    Ok(())
}

/// Assembles per-coil Cartesian k-space from `acquisitions` (in file order; the acquisition
/// index in errors is the position in this slice).
///
/// Errors (never panics), naming the acquisition: a counter beyond its encoding limit or
/// outside the encoded matrix, the number of active channels changing, a non-finite sample, a
/// readout that does not fit the encoded matrix in x (`number_of_samples`, `center_sample`,
/// `discard_pre/post`), sample and header lengths that disagree. Also errors for a
/// non-Cartesian trajectory (`radial`, `spiral`, … need gridding), a missing encoding, and
/// data without any imaging readout.
///
/// `center_sample = 0` on a readout of exactly `encodedSpace.matrixSize.x` samples is taken as
/// unset and replaced by `nx/2` (several writers leave it zero on symmetric readouts).
pub fn assemble(
    header: &IsmrmrdHeader,
    acquisitions: &[Acquisition],
    options: &AssemblyOptions,
) -> Result<CoilKspace> {
    let enc = encoding_of(header, options.encoding)?;
    match &enc.trajectory {
        Trajectory::Cartesian | Trajectory::Epi => {}
        other => {
            return Err(ReconError::stage(
                "kspace",
                format!(
                    "trajectory '{}' is not Cartesian; it needs gridding, not assembly",
                    other.as_str()
                ),
            ));
        }
    }
    let em = &enc.encoded_space.matrix_size;
    let rm = &enc.recon_space.matrix_size;
    let encoded_matrix = [usize::from(em.x), usize::from(em.y), usize::from(em.z)];
    let recon_matrix = [usize::from(rm.x), usize::from(rm.y), usize::from(rm.z)];
    if encoded_matrix.contains(&0) || recon_matrix.contains(&0) {
        return Err(ReconError::data(format!(
            "encoding {}: matrix sizes must be positive (encoded {encoded_matrix:?}, recon {recon_matrix:?})",
            options.encoding
        )));
    }
    let [nx, ny, nz] = encoded_matrix;
    let limits = &enc.encoding_limits;
    let ky_axis = EncodeAxis::new(
        "kspace_encode_step_1",
        ny,
        limits.kspace_encoding_step_1.as_ref(),
    );
    let kz_axis = EncodeAxis::new(
        "kspace_encode_step_2",
        nz,
        limits.kspace_encoding_step_2.as_ref(),
    );

    // Pass 1: roles, channel count, sample checks, counter sizes.
    let mut n_coils: Option<(usize, u64)> = None;
    let mut roles = Vec::with_capacity(acquisitions.len());
    let mut seen_max = [0usize; 7];
    let mut imaging_header: Option<&AcquisitionHeader> = None;
    let mut skipped = 0usize;
    for (i, acq) in acquisitions.iter().enumerate() {
        let index = i as u64;
        let h = &acq.header;
        let r = role(h, options.encoding);
        if r == Role::Skip {
            skipped += 1;
            roles.push(r);
            continue;
        }
        acq.check()
            .map_err(|(field, what)| ReconError::acquisition(index, format!("{field}: {what}")))?;
        check_channels(&mut n_coils, h, index)?;
        check_finite(index, acq, usize::from(h.number_of_samples))?;
        if r != Role::Noise {
            for (k, c) in COUNTER_ORDER.iter().enumerate() {
                let v = c.value(&h.idx);
                if let Some(l) = c.limit(limits)
                    && (v < l.minimum || v > l.maximum)
                {
                    return Err(ReconError::acquisition(
                        index,
                        format!(
                            "{c} = {v} is beyond the encoding limits [{}, {}]",
                            l.minimum, l.maximum
                        ),
                    ));
                }
                seen_max[k] = seen_max[k].max(usize::from(v));
            }
            if matches!(r, Role::Imaging | Role::CalibrationAndImaging) && imaging_header.is_none()
            {
                imaging_header = Some(h);
            }
        }
        roles.push(r);
    }
    let Some(first_imaging) = imaging_header else {
        return Err(ReconError::data(format!(
            "no imaging readouts in encoding {} ({} readouts, {} skipped)",
            options.encoding,
            acquisitions.len(),
            skipped
        )));
    };
    let n_coils = n_coils.map_or(0, |(n, _)| n);

    // Counter axes.
    let mut counter_axes = Vec::new();
    let mut counter_index: [Option<usize>; 7] = [None; 7];
    for (k, c) in COUNTER_ORDER.iter().enumerate() {
        let dropped = (*c == Counter::Average && options.averages == AverageMode::Mean)
            || (*c == Counter::Segment && options.segments == SegmentMode::Merge);
        if dropped {
            continue;
        }
        let size = match c.limit(limits) {
            Some(l) => usize::from(l.maximum) + 1,
            None => seen_max[k] + 1,
        };
        if size > 1 {
            counter_index[k] = Some(counter_axes.len());
            counter_axes.push(CounterAxis { counter: *c, size });
        }
    }
    let n_volumes: usize = counter_axes.iter().map(|a| a.size).product();
    let n_lines = n_volumes * nz * ny; // lines per coil
    let coil_stride = n_lines * nx;

    let geometry_center = effective_center(first_imaging, nx);
    let geometry = Geometry {
        encoded_matrix,
        recon_matrix,
        encoded_fov_mm: fov(&enc.encoded_space.field_of_view_mm),
        recon_fov_mm: fov(&enc.recon_space.field_of_view_mm),
        center_line: ky_axis.center,
        center_partition: kz_axis.center,
        ky_offset: ky_axis.offset,
        kz_offset: kz_axis.offset,
        center_sample: geometry_center,
        readout_samples: usize::from(first_imaging.number_of_samples),
        dwell_us: first_imaging.sample_time_us,
    };

    // Pass 2: placement.
    let mut data = vec![C32::new(0.0, 0.0); n_coils * coil_stride];
    let mut count = vec![0u32; n_lines];
    let has_cal = roles
        .iter()
        .any(|r| matches!(r, Role::Calibration | Role::CalibrationAndImaging));
    let mut cal_data = if has_cal {
        vec![C32::new(0.0, 0.0); n_coils * coil_stride]
    } else {
        Vec::new()
    };
    let mut cal_count = if has_cal {
        vec![0u32; n_lines]
    } else {
        Vec::new()
    };
    let (mut cal_ky, mut cal_kz) = ((usize::MAX, 0usize), (usize::MAX, 0usize));
    let mut cal_readouts = 0usize;
    let mut noise: Vec<Vec<C32>> = vec![Vec::new(); n_coils];
    let mut noise_readouts = 0usize;
    let mut noise_dwell: Option<f32> = None;
    let mut readouts = 0usize;

    for (i, (acq, &r)) in acquisitions.iter().zip(&roles).enumerate() {
        let index = i as u64;
        let h = &acq.header;
        let ns = usize::from(h.number_of_samples);
        match r {
            Role::Skip => continue,
            Role::Noise => {
                for (c, line) in noise.iter_mut().enumerate() {
                    line.extend_from_slice(&acq.data[c * ns..(c + 1) * ns]);
                }
                noise_readouts += 1;
                match noise_dwell {
                    None => noise_dwell = Some(h.sample_time_us),
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
                continue;
            }
            _ => {}
        }
        let ky = ky_axis
            .index(h.idx.kspace_encode_step_1)
            .map_err(|w| ReconError::acquisition(index, w))?;
        let kz = kz_axis
            .index(h.idx.kspace_encode_step_2)
            .map_err(|w| ReconError::acquisition(index, w))?;
        // Readout placement: kx = s − centre + nx/2 for the kept samples.
        let centre = effective_center(h, nx);
        let first = usize::from(h.discard_pre);
        let end = ns.saturating_sub(usize::from(h.discard_post));
        if first >= end {
            return Err(ReconError::acquisition(
                index,
                format!(
                    "discard_pre {} + discard_post {} leave no samples of {ns}",
                    h.discard_pre, h.discard_post
                ),
            ));
        }
        let shift = (nx / 2) as isize - centre as isize;
        let (lo, hi) = (first as isize + shift, end as isize + shift);
        if lo < 0 || hi > nx as isize {
            return Err(ReconError::acquisition(
                index,
                format!(
                    "readout of {ns} samples (kept {first}..{end}, center_sample {centre}) does not fit \
                     the encoded matrix x = {nx}: it would span kx {lo}..{hi}"
                ),
            ));
        }
        let mut vol = 0usize;
        for (k, c) in COUNTER_ORDER.iter().enumerate() {
            if let Some(a) = counter_index[k] {
                let v = usize::from(c.value(&h.idx));
                if v >= counter_axes[a].size {
                    return Err(ReconError::acquisition(
                        index,
                        format!(
                            "{c} = {v} is beyond the {} positions of the axis",
                            counter_axes[a].size
                        ),
                    ));
                }
                vol = vol * counter_axes[a].size + v;
            }
        }
        let line = (vol * nz + kz) * ny + ky;
        let place = |buf: &mut [C32], cnt: &mut [u32]| {
            for c in 0..n_coils {
                let src = &acq.data[c * ns + first..c * ns + end];
                let dst_start = c * coil_stride + line * nx + lo as usize;
                for (d, s) in buf[dst_start..dst_start + src.len()].iter_mut().zip(src) {
                    *d += *s;
                }
            }
            cnt[line] += 1;
        };
        if matches!(r, Role::Imaging | Role::CalibrationAndImaging) {
            place(&mut data, &mut count);
            readouts += 1;
        }
        if matches!(r, Role::Calibration | Role::CalibrationAndImaging) {
            place(&mut cal_data, &mut cal_count);
            cal_readouts += 1;
            cal_ky = (cal_ky.0.min(ky), cal_ky.1.max(ky + 1));
            cal_kz = (cal_kz.0.min(kz), cal_kz.1.max(kz + 1));
        }
    }

    normalise(&mut data, &count, nx, coil_stride);
    let mask: Vec<bool> = count.iter().map(|&n| n > 0).collect();
    let calibration = has_cal.then(|| {
        normalise(&mut cal_data, &cal_count, nx, coil_stride);
        Calibration {
            data: cal_data,
            mask: cal_count.iter().map(|&n| n > 0).collect(),
            ky_range: cal_ky.0..cal_ky.1,
            kz_range: cal_kz.0..cal_kz.1,
            readouts: cal_readouts,
        }
    });
    let noise = (noise_readouts > 0).then(|| {
        let n_samples = noise.first().map_or(0, Vec::len);
        NoiseData {
            data: noise.concat(),
            n_coils,
            n_samples,
            dwell_us: noise_dwell.unwrap_or(0.0),
            readouts: noise_readouts,
            channel_labels: channel_labels(header, n_coils),
        }
    });
    Ok(CoilKspace {
        data,
        n_coils,
        counter_axes,
        matrix: [nz, ny, nx],
        mask,
        calibration,
        noise,
        geometry,
        readouts,
        skipped,
    })
}

/// `center_sample`, or `nx/2` when it is 0 on a readout of exactly `nx` samples (unset).
fn effective_center(h: &AcquisitionHeader, nx: usize) -> usize {
    let c = usize::from(h.center_sample);
    if c == 0 && usize::from(h.number_of_samples) == nx {
        nx / 2
    } else {
        c
    }
}

/// Divides every line written more than once by its number of readouts.
fn normalise(data: &mut [C32], count: &[u32], nx: usize, coil_stride: usize) {
    if coil_stride == 0 {
        return;
    }
    for coil in data.chunks_exact_mut(coil_stride) {
        for (line, &n) in coil.chunks_exact_mut(nx).zip(count) {
            if n > 1 {
                let w = 1.0 / n as f32;
                line.iter_mut().for_each(|v| *v *= w);
            }
        }
    }
}

fn fov(f: &accord_ismrmrd::xml::FieldOfViewMm) -> [f32; 3] {
    [f.x, f.y, f.z]
}

/// Channel names by channel index from `acquisitionSystemInformation.coilLabel` (empty when the
/// header has none).
fn channel_labels(header: &IsmrmrdHeader, n_coils: usize) -> Vec<String> {
    let Some(asi) = &header.acquisition_system_information else {
        return Vec::new();
    };
    if asi.coil_label.is_empty() {
        return Vec::new();
    }
    let mut labels = vec![String::new(); n_coils];
    for (k, l) in asi.coil_label.iter().enumerate() {
        // coilNumber is 0- or 1-based depending on the writer; use the list order.
        if k < n_coils {
            labels[k] = l.coil_name.clone();
        }
    }
    labels
}

#[cfg(test)]
mod tests {
    use super::*;
    use accord_ismrmrd::xml::parse_header;

    /// A 2-D header: encoded 16×8 (2× readout oversampling), recon 8×8, `reps` repetitions.
    fn header(reps: u16) -> IsmrmrdHeader {
        let xml = format!(
            r#"<?xml version="1.0"?>
<ismrmrdHeader xmlns="http://www.ismrm.org/ISMRMRD">
 <experimentalConditions><H1resonanceFrequency_Hz>63500000</H1resonanceFrequency_Hz></experimentalConditions>
 <encoding>
  <encodedSpace><matrixSize><x>16</x><y>8</y><z>1</z></matrixSize>
   <fieldOfView_mm><x>400</x><y>200</y><z>5</z></fieldOfView_mm></encodedSpace>
  <reconSpace><matrixSize><x>8</x><y>8</y><z>1</z></matrixSize>
   <fieldOfView_mm><x>200</x><y>200</y><z>5</z></fieldOfView_mm></reconSpace>
  <encodingLimits>
   <kspace_encoding_step_1><minimum>0</minimum><maximum>7</maximum><center>4</center></kspace_encoding_step_1>
   <repetition><minimum>0</minimum><maximum>{}</maximum><center>0</center></repetition>
  </encodingLimits>
  <trajectory>cartesian</trajectory>
 </encoding>
</ismrmrdHeader>"#,
            reps - 1
        );
        parse_header(&xml).unwrap()
    }

    fn readout(line: u16, rep: u16, coils: u16, value: f32) -> Acquisition {
        let h = AcquisitionHeader {
            number_of_samples: 16,
            active_channels: coils,
            available_channels: coils,
            center_sample: 8,
            sample_time_us: 2.0,
            idx: EncodingCounters {
                kspace_encode_step_1: line,
                repetition: rep,
                ..Default::default()
            },
            ..Default::default()
        };
        let mut a = Acquisition::new(h);
        for (k, v) in a.data.iter_mut().enumerate() {
            *v = C32::new(value, k as f32);
        }
        a
    }

    fn full(reps: u16, coils: u16) -> Vec<Acquisition> {
        let mut v = Vec::new();
        for r in 0..reps {
            for l in 0..8 {
                v.push(readout(l, r, coils, f32::from(l) + 10.0 * f32::from(r)));
            }
        }
        v
    }

    #[test]
    fn places_lines_by_counters() {
        let mut acqs = full(2, 2);
        // A noise readout first (different length, centre 0) and a calibration-only line.
        let mut n = readout(0, 0, 2, 0.5);
        n.header.set_flag(AcquisitionFlag::IsNoiseMeasurement);
        n.header.center_sample = 0;
        n.header.sample_time_us = 4.0;
        acqs.insert(0, n);
        let mut cal = readout(3, 1, 2, 99.0);
        cal.header.set_flag(AcquisitionFlag::IsParallelCalibration);
        acqs.push(cal);
        let ks = assemble(&header(2), &acqs, &AssemblyOptions::default()).unwrap();
        assert_eq!(ks.shape(), vec![2, 2, 1, 8, 16]);
        assert_eq!(
            ks.counter_axes,
            vec![CounterAxis {
                counter: Counter::Repetition,
                size: 2
            }]
        );
        assert_eq!(ks.readouts, 16);
        assert!(ks.mask.iter().all(|&m| m));
        // coil 1, repetition 1, line 5, kx 3: sample k = 16 + 3 of that readout.
        let at = |c: usize, r: usize, y: usize, x: usize| ks.data[((c * 2 + r) * 8 + y) * 16 + x];
        assert_eq!(at(1, 1, 5, 3), C32::new(15.0, 19.0));
        assert_eq!(at(0, 0, 2, 8), C32::new(2.0, 8.0));
        let noise = ks.noise.as_ref().unwrap();
        assert_eq!(
            (noise.n_coils, noise.n_samples, noise.dwell_us),
            (2, 16, 4.0)
        );
        let cal = ks.calibration.as_ref().unwrap();
        assert_eq!((cal.readouts, cal.ky_range.clone()), (1, 3..4));
        assert_eq!(cal.data[(8 + 3) * 16 + 8], C32::new(99.0, 8.0));
        assert_eq!(ks.geometry.recon_matrix, [8, 8, 1]);
        assert_eq!(ks.geometry.dwell_us, 2.0);
    }

    #[test]
    fn centre_sample_lands_on_the_matrix_centre_and_averages_are_averaged() {
        // Asymmetric echo: 12 samples with centre 4 → kx 4..16.
        let mut acqs = full(1, 1);
        for a in &mut acqs {
            a.header.number_of_samples = 12;
            a.header.center_sample = 4;
            a.data.truncate(12);
        }
        // A second average of line 0 with value 2 more.
        let mut avg = readout(0, 0, 1, 2.0);
        avg.header.number_of_samples = 12;
        avg.header.center_sample = 4;
        avg.header.idx.average = 1;
        avg.data.truncate(12);
        acqs.push(avg);
        let ks = assemble(&header(1), &acqs, &AssemblyOptions::default()).unwrap();
        assert_eq!(ks.shape(), vec![1, 1, 8, 16]);
        assert_eq!(ks.data[3], C32::new(0.0, 0.0));
        assert_eq!(ks.data[8], C32::new(1.0, 4.0)); // mean of 0 and 2; sample 4 → kx 8
        let keep = AssemblyOptions {
            averages: AverageMode::Keep,
            ..Default::default()
        };
        let ks = assemble(&header(1), &acqs, &keep).unwrap();
        assert_eq!(ks.shape(), vec![1, 2, 1, 8, 16]);
        assert_eq!(ks.mask.iter().filter(|&&m| m).count(), 9);
    }

    #[test]
    fn counter_beyond_the_limits_names_the_acquisition() {
        let mut acqs = full(1, 2);
        acqs[5].header.idx.kspace_encode_step_1 = 8;
        let e = assemble(&header(1), &acqs, &AssemblyOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("acquisition 5") && e.contains("kspace_encode_step_1 = 8"),
            "{e}"
        );
        let mut acqs = full(2, 2);
        acqs[11].header.idx.repetition = 2;
        let e = assemble(&header(2), &acqs, &AssemblyOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("acquisition 11") && e.contains("repetition = 2"),
            "{e}"
        );
    }

    #[test]
    fn nan_sample_is_an_error() {
        let mut acqs = full(1, 2);
        acqs[3].data[16 + 7] = C32::new(f32::NAN, 0.0);
        let e = assemble(&header(1), &acqs, &AssemblyOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("acquisition 3") && e.contains("channel 1, sample 7"),
            "{e}"
        );
        acqs[3].data[16 + 7] = C32::new(0.0, f32::INFINITY);
        assert!(assemble(&header(1), &acqs, &AssemblyOptions::default()).is_err());
    }

    #[test]
    fn channel_change_is_an_error() {
        let mut acqs = full(1, 2);
        acqs[6] = readout(6, 0, 3, 1.0);
        let e = assemble(&header(1), &acqs, &AssemblyOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("acquisition 6") && e.contains("from 2") && e.contains("to 3"),
            "{e}"
        );
    }

    #[test]
    fn readout_that_does_not_fit_is_an_error() {
        let mut acqs = full(1, 1);
        acqs[2].header.center_sample = 2; // 16 samples with centre 2 → kx 6..22 > 16
        let e = assemble(&header(1), &acqs, &AssemblyOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("acquisition 2") && e.contains("does not fit"),
            "{e}"
        );
        // Inconsistent data length.
        let mut acqs = full(1, 1);
        acqs[4].data.pop();
        let e = assemble(&header(1), &acqs, &AssemblyOptions::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("acquisition 4"), "{e}");
    }
}
