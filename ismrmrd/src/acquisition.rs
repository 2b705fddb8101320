//! Raw-data readouts: [`EncodingCounters`], [`AcquisitionHeader`] (the 340-byte ISMRMRD header)
//! and [`Acquisition`] (header + trajectory + channel-major complex samples).

use ndarray::{ArrayView2, ArrayViewMut2};
use num_complex::Complex32;
use serde::Serialize;

use crate::flags::{AcquisitionFlag, AcquisitionFlags};

/// Size in bytes of the packed acquisition header on the wire (ISMRMRD stream format).
pub const ACQUISITION_HEADER_BYTES: usize = 340;
/// Version number written into new acquisition, image and waveform headers.
pub const HEADER_VERSION: u16 = 1;

/// Loop counters that place a readout in k-space and in the acquisition loops (`idx`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, hdf5::H5Type)]
#[repr(C)]
pub struct EncodingCounters {
    /// Phase-encode line.
    pub kspace_encode_step_1: u16,
    /// Partition (second phase-encode direction).
    pub kspace_encode_step_2: u16,
    /// Signal average.
    pub average: u16,
    /// Slice.
    pub slice: u16,
    /// Contrast (echo).
    pub contrast: u16,
    /// Cardiac phase.
    pub phase: u16,
    /// Repetition.
    pub repetition: u16,
    /// Set (e.g. flow encoding, diffusion direction).
    pub set: u16,
    /// Segment (e.g. EPI/TSE segment).
    pub segment: u16,
    /// User counters 0..7.
    pub user: [u16; 8],
}

impl EncodingCounters {
    /// Field names in ISMRMRD order (the user counters as `user_0` … `user_7`).
    pub const FIELD_NAMES: [&'static str; 17] = [
        "kspace_encode_step_1",
        "kspace_encode_step_2",
        "average",
        "slice",
        "contrast",
        "phase",
        "repetition",
        "set",
        "segment",
        "user_0",
        "user_1",
        "user_2",
        "user_3",
        "user_4",
        "user_5",
        "user_6",
        "user_7",
    ];

    /// The counter values in the order of [`EncodingCounters::FIELD_NAMES`].
    pub fn values(&self) -> [u16; 17] {
        let u = self.user;
        [
            self.kspace_encode_step_1,
            self.kspace_encode_step_2,
            self.average,
            self.slice,
            self.contrast,
            self.phase,
            self.repetition,
            self.set,
            self.segment,
            u[0],
            u[1],
            u[2],
            u[3],
            u[4],
            u[5],
            u[6],
            u[7],
        ]
    }
}

/// The ISMRMRD acquisition header (`ISMRMRD_AcquisitionHeader`), field for field.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, hdf5::H5Type)]
#[repr(C)]
pub struct AcquisitionHeader {
    /// Header version (1 for ISMRMRD 1.x; 0 in some pre-1.0 files).
    pub version: u16,
    /// Flags, see [`AcquisitionFlag`].
    pub flags: AcquisitionFlags,
    /// Unique measurement id.
    pub measurement_uid: u32,
    /// Running readout counter of the scanner.
    pub scan_counter: u32,
    /// Time stamp in vendor ticks (Siemens: 2.5 ms).
    pub acquisition_time_stamp: u32,
    /// Physiology time stamps (e.g. time since ECG trigger).
    pub physiology_time_stamp: [u32; 3],
    /// Samples per channel.
    pub number_of_samples: u16,
    /// Channels the system had available.
    pub available_channels: u16,
    /// Channels stored in this readout.
    pub active_channels: u16,
    /// 1024-bit mask of active channels (often left zero by writers).
    #[serde(skip)]
    pub channel_mask: [u64; 16],
    /// Samples to drop at the start of the readout.
    pub discard_pre: u16,
    /// Samples to drop at the end of the readout.
    pub discard_post: u16,
    /// Index of the k-space centre sample in the full readout.
    pub center_sample: u16,
    /// Index of the `<encoding>` this readout belongs to.
    pub encoding_space_ref: u16,
    /// Dimensions of the trajectory per sample (0 for Cartesian).
    pub trajectory_dimensions: u16,
    /// Dwell time in microseconds.
    pub sample_time_us: f32,
    /// Centre of the excited volume, LPS, mm.
    pub position: [f32; 3],
    /// Readout direction cosines.
    pub read_dir: [f32; 3],
    /// Phase-encode direction cosines.
    pub phase_dir: [f32; 3],
    /// Slice direction cosines.
    pub slice_dir: [f32; 3],
    /// Table position, mm.
    pub patient_table_position: [f32; 3],
    /// Encoding counters.
    pub idx: EncodingCounters,
    /// User integers.
    pub user_int: [i32; 8],
    /// User floats.
    pub user_float: [f32; 8],
}

impl Default for AcquisitionHeader {
    fn default() -> Self {
        AcquisitionHeader {
            version: HEADER_VERSION,
            flags: AcquisitionFlags::EMPTY,
            measurement_uid: 0,
            scan_counter: 0,
            acquisition_time_stamp: 0,
            physiology_time_stamp: [0; 3],
            number_of_samples: 0,
            available_channels: 0,
            active_channels: 0,
            channel_mask: [0; 16],
            discard_pre: 0,
            discard_post: 0,
            center_sample: 0,
            encoding_space_ref: 0,
            trajectory_dimensions: 0,
            sample_time_us: 0.0,
            position: [0.0; 3],
            read_dir: [0.0; 3],
            phase_dir: [0.0; 3],
            slice_dir: [0.0; 3],
            patient_table_position: [0.0; 3],
            idx: EncodingCounters::default(),
            user_int: [0; 8],
            user_float: [0.0; 8],
        }
    }
}

impl AcquisitionHeader {
    /// Whether `flag` is set.
    pub fn is_flag_set(&self, flag: AcquisitionFlag) -> bool {
        self.flags.contains(flag)
    }

    /// Sets `flag`.
    pub fn set_flag(&mut self, flag: AcquisitionFlag) {
        self.flags.insert(flag);
    }

    /// Clears `flag`.
    pub fn clear_flag(&mut self, flag: AcquisitionFlag) {
        self.flags.remove(flag);
    }

    /// Number of complex samples in the readout (`number_of_samples · active_channels`).
    pub fn data_len(&self) -> usize {
        self.number_of_samples as usize * self.active_channels as usize
    }

    /// Number of trajectory values (`number_of_samples · trajectory_dimensions`).
    pub fn traj_len(&self) -> usize {
        self.number_of_samples as usize * self.trajectory_dimensions as usize
    }

    /// Noise readout (ACQ_IS_NOISE_MEASUREMENT).
    pub fn is_noise(&self) -> bool {
        self.is_flag_set(AcquisitionFlag::IsNoiseMeasurement)
    }

    /// Calibration readout: ACQ_IS_PARALLEL_CALIBRATION or ACQ_IS_PARALLEL_CALIBRATION_AND_IMAGING.
    pub fn is_calibration(&self) -> bool {
        self.is_flag_set(AcquisitionFlag::IsParallelCalibration)
            || self.is_flag_set(AcquisitionFlag::IsParallelCalibrationAndImaging)
    }

    /// Imaging readout: neither noise nor calibration-only.
    pub fn is_imaging(&self) -> bool {
        !self.is_noise() && !self.is_flag_set(AcquisitionFlag::IsParallelCalibration)
    }

    /// Encodes the header as the packed little-endian 340-byte record of the ISMRMRD stream.
    pub fn to_bytes(&self) -> [u8; ACQUISITION_HEADER_BYTES] {
        let mut w = ByteWriter::default();
        w.u16(self.version);
        w.u64(self.flags.0);
        w.u32(self.measurement_uid);
        w.u32(self.scan_counter);
        w.u32(self.acquisition_time_stamp);
        self.physiology_time_stamp.iter().for_each(|&v| w.u32(v));
        w.u16(self.number_of_samples);
        w.u16(self.available_channels);
        w.u16(self.active_channels);
        self.channel_mask.iter().for_each(|&v| w.u64(v));
        w.u16(self.discard_pre);
        w.u16(self.discard_post);
        w.u16(self.center_sample);
        w.u16(self.encoding_space_ref);
        w.u16(self.trajectory_dimensions);
        w.f32(self.sample_time_us);
        for v in [
            self.position,
            self.read_dir,
            self.phase_dir,
            self.slice_dir,
            self.patient_table_position,
        ] {
            v.iter().for_each(|&x| w.f32(x));
        }
        self.idx.values().iter().for_each(|&v| w.u16(v));
        self.user_int.iter().for_each(|&v| w.u32(v as u32));
        self.user_float.iter().for_each(|&v| w.f32(v));
        let mut out = [0u8; ACQUISITION_HEADER_BYTES];
        out.copy_from_slice(&w.0);
        out
    }

    /// Decodes the packed little-endian 340-byte record of the ISMRMRD stream.
    pub fn from_bytes(bytes: &[u8; ACQUISITION_HEADER_BYTES]) -> Self {
        let mut r = ByteReader { buf: bytes, pos: 0 };
        let version = r.u16();
        let flags = AcquisitionFlags(r.u64());
        let measurement_uid = r.u32();
        let scan_counter = r.u32();
        let acquisition_time_stamp = r.u32();
        let physiology_time_stamp = [r.u32(), r.u32(), r.u32()];
        let number_of_samples = r.u16();
        let available_channels = r.u16();
        let active_channels = r.u16();
        let mut channel_mask = [0u64; 16];
        channel_mask.iter_mut().for_each(|v| *v = r.u64());
        let discard_pre = r.u16();
        let discard_post = r.u16();
        let center_sample = r.u16();
        let encoding_space_ref = r.u16();
        let trajectory_dimensions = r.u16();
        let sample_time_us = r.f32();
        let mut vec3 = || [r.f32(), r.f32(), r.f32()];
        let position = vec3();
        let read_dir = vec3();
        let phase_dir = vec3();
        let slice_dir = vec3();
        let patient_table_position = vec3();
        let mut c = [0u16; 17];
        c.iter_mut().for_each(|v| *v = r.u16());
        let idx = EncodingCounters {
            kspace_encode_step_1: c[0],
            kspace_encode_step_2: c[1],
            average: c[2],
            slice: c[3],
            contrast: c[4],
            phase: c[5],
            repetition: c[6],
            set: c[7],
            segment: c[8],
            user: [c[9], c[10], c[11], c[12], c[13], c[14], c[15], c[16]],
        };
        let mut user_int = [0i32; 8];
        user_int.iter_mut().for_each(|v| *v = r.u32() as i32);
        let mut user_float = [0f32; 8];
        user_float.iter_mut().for_each(|v| *v = r.f32());
        AcquisitionHeader {
            version,
            flags,
            measurement_uid,
            scan_counter,
            acquisition_time_stamp,
            physiology_time_stamp,
            number_of_samples,
            available_channels,
            active_channels,
            channel_mask,
            discard_pre,
            discard_post,
            center_sample,
            encoding_space_ref,
            trajectory_dimensions,
            sample_time_us,
            position,
            read_dir,
            phase_dir,
            slice_dir,
            patient_table_position,
            idx,
            user_int,
            user_float,
        }
    }
}

/// Little-endian byte sink for packed headers.
#[derive(Default)]
pub(crate) struct ByteWriter(pub(crate) Vec<u8>);

impl ByteWriter {
    pub(crate) fn u16(&mut self, v: u16) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    pub(crate) fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    pub(crate) fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    pub(crate) fn f32(&mut self, v: f32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
}

/// Little-endian byte source for packed headers (the caller guarantees the length).
pub(crate) struct ByteReader<'a> {
    pub(crate) buf: &'a [u8],
    pub(crate) pos: usize,
}

impl ByteReader<'_> {
    fn take<const N: usize>(&mut self) -> [u8; N] {
        let mut a = [0u8; N];
        a.copy_from_slice(&self.buf[self.pos..self.pos + N]);
        self.pos += N;
        a
    }
    pub(crate) fn u16(&mut self) -> u16 {
        u16::from_le_bytes(self.take())
    }
    pub(crate) fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.take())
    }
    pub(crate) fn u64(&mut self) -> u64 {
        u64::from_le_bytes(self.take())
    }
    pub(crate) fn f32(&mut self) -> f32 {
        f32::from_le_bytes(self.take())
    }
}

/// One readout: header, trajectory (sample-major, `[samples, trajectory_dimensions]`) and
/// complex samples (channel-major, `[active_channels, number_of_samples]`).
#[derive(Debug, Clone, PartialEq)]
pub struct Acquisition {
    /// The header.
    pub header: AcquisitionHeader,
    /// Trajectory values, `number_of_samples · trajectory_dimensions`, sample-major.
    pub traj: Vec<f32>,
    /// Complex samples, `active_channels · number_of_samples`, channel-major.
    pub data: Vec<Complex32>,
}

impl Acquisition {
    /// A readout with zeroed samples and trajectory sized from `header`.
    pub fn new(header: AcquisitionHeader) -> Self {
        Acquisition {
            traj: vec![0.0; header.traj_len()],
            data: vec![Complex32::new(0.0, 0.0); header.data_len()],
            header,
        }
    }

    /// The samples as `[channels, samples]`.
    pub fn data_view(&self) -> ArrayView2<'_, Complex32> {
        let h = &self.header;
        ArrayView2::from_shape(
            (h.active_channels as usize, h.number_of_samples as usize),
            &self.data,
        )
        .expect("Acquisition::data length must equal active_channels * number_of_samples")
    }

    /// The samples as a mutable `[channels, samples]` view.
    pub fn data_view_mut(&mut self) -> ArrayViewMut2<'_, Complex32> {
        let h = &self.header;
        ArrayViewMut2::from_shape(
            (h.active_channels as usize, h.number_of_samples as usize),
            &mut self.data,
        )
        .expect("Acquisition::data length must equal active_channels * number_of_samples")
    }

    /// The trajectory as `[samples, trajectory_dimensions]`.
    pub fn traj_view(&self) -> ArrayView2<'_, f32> {
        let h = &self.header;
        ArrayView2::from_shape(
            (
                h.number_of_samples as usize,
                h.trajectory_dimensions as usize,
            ),
            &self.traj,
        )
        .expect("Acquisition::traj length must equal number_of_samples * trajectory_dimensions")
    }

    /// Checks that the sample and trajectory lengths agree with the header; on failure returns
    /// the offending field and the problem.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        let h = &self.header;
        if self.data.len() != h.data_len() {
            return Err((
                "data",
                format!(
                    "{} complex samples stored, header says number_of_samples {} x active_channels {} = {}",
                    self.data.len(),
                    h.number_of_samples,
                    h.active_channels,
                    h.data_len()
                ),
            ));
        }
        if self.traj.len() != h.traj_len() {
            return Err((
                "traj",
                format!(
                    "{} trajectory values stored, header says number_of_samples {} x trajectory_dimensions {} = {}",
                    self.traj.len(),
                    h.number_of_samples,
                    h.trajectory_dimensions,
                    h.traj_len()
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_header_round_trip_and_offsets() {
        let mut h = AcquisitionHeader {
            flags: AcquisitionFlags(0x8000_0000_0004_0001),
            number_of_samples: 512,
            active_channels: 8,
            center_sample: 256,
            sample_time_us: 2.5,
            ..Default::default()
        };
        h.idx.kspace_encode_step_1 = 77;
        h.idx.user[7] = 9;
        h.user_int[7] = -3;
        h.user_float[7] = 1.5;
        h.channel_mask[15] = u64::MAX;
        let b = h.to_bytes();
        // Offsets from ismrmrd.h's static asserts.
        assert_eq!(u16::from_le_bytes([b[0], b[1]]), 1);
        assert_eq!(u16::from_le_bytes([b[34], b[35]]), 512);
        assert_eq!(u16::from_le_bytes([b[172], b[173]]), 256);
        assert_eq!(u16::from_le_bytes([b[242], b[243]]), 77);
        assert_eq!(f32::from_le_bytes([b[336], b[337], b[338], b[339]]), 1.5);
        assert_eq!(AcquisitionHeader::from_bytes(&b), h);
    }

    #[test]
    fn classification_and_views() {
        let mut h = AcquisitionHeader {
            number_of_samples: 4,
            active_channels: 2,
            trajectory_dimensions: 2,
            ..Default::default()
        };
        assert!(h.is_imaging() && !h.is_calibration());
        h.set_flag(AcquisitionFlag::IsParallelCalibrationAndImaging);
        assert!(h.is_imaging() && h.is_calibration());
        h.set_flag(AcquisitionFlag::IsParallelCalibration);
        assert!(!h.is_imaging());
        let mut a = Acquisition::new(h);
        a.data_view_mut()[[1, 3]] = Complex32::new(1.0, -1.0);
        assert_eq!(a.data[7], Complex32::new(1.0, -1.0));
        assert_eq!(a.traj_view().shape(), &[4, 2]);
        assert!(a.check().is_ok());
        a.data.pop();
        assert_eq!(a.check().unwrap_err().0, "data");
    }
}
