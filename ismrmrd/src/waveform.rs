//! Physiological and gradient waveforms ([`WaveformHeader`], [`Waveform`]).

use ndarray::ArrayView2;
use serde::Serialize;

use crate::acquisition::{ByteReader, ByteWriter, HEADER_VERSION};

/// Size in bytes of the (naturally aligned) waveform header on the wire.
pub const WAVEFORM_HEADER_BYTES: usize = 40;

/// The ISMRMRD waveform header (`ISMRMRD_WaveformHeader`, naturally aligned, 40 bytes in C).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, hdf5::H5Type)]
#[repr(C)]
pub struct WaveformHeader {
    /// Header version.
    pub version: u16,
    /// Flags (bit meanings are waveform-specific).
    pub flags: u64,
    /// Unique measurement id.
    pub measurement_uid: u32,
    /// Number of the acquisition after this waveform.
    pub scan_counter: u32,
    /// Time stamp of the first sample, vendor ticks.
    pub time_stamp: u32,
    /// Samples per channel.
    pub number_of_samples: u16,
    /// Number of channels.
    pub channels: u16,
    /// Sample spacing, µs.
    pub sample_time_us: f32,
    /// Waveform id: 0 ECG, 1 pulse oximetry, 2 respiratory, 3/4 external, ≥ 1024 user-defined.
    pub waveform_id: u16,
}

impl Default for WaveformHeader {
    fn default() -> Self {
        WaveformHeader {
            version: HEADER_VERSION,
            flags: 0,
            measurement_uid: 0,
            scan_counter: 0,
            time_stamp: 0,
            number_of_samples: 0,
            channels: 0,
            sample_time_us: 0.0,
            waveform_id: 0,
        }
    }
}

impl WaveformHeader {
    /// Encodes a waveform header as the naturally aligned little-endian 40-byte record of the
    /// stream (padding bytes 2..8 and 38..40 zero).
    pub fn to_bytes(&self) -> [u8; WAVEFORM_HEADER_BYTES] {
        let mut w = ByteWriter::default();
        w.u16(self.version);
        w.0.extend_from_slice(&[0; 6]);
        w.u64(self.flags);
        w.u32(self.measurement_uid);
        w.u32(self.scan_counter);
        w.u32(self.time_stamp);
        w.u16(self.number_of_samples);
        w.u16(self.channels);
        w.f32(self.sample_time_us);
        w.u16(self.waveform_id);
        w.0.extend_from_slice(&[0; 2]);
        let mut out = [0u8; WAVEFORM_HEADER_BYTES];
        out.copy_from_slice(&w.0);
        out
    }

    /// Decodes the naturally aligned little-endian 40-byte waveform header record of the stream
    /// (padding bytes are ignored).
    pub fn from_bytes(bytes: &[u8; WAVEFORM_HEADER_BYTES]) -> Self {
        let mut r = ByteReader { buf: bytes, pos: 0 };
        let version = r.u16();
        r.pos = 8;
        let flags = r.u64();
        let measurement_uid = r.u32();
        let scan_counter = r.u32();
        let time_stamp = r.u32();
        let number_of_samples = r.u16();
        let channels = r.u16();
        let sample_time_us = r.f32();
        let waveform_id = r.u16();
        WaveformHeader {
            version,
            flags,
            measurement_uid,
            scan_counter,
            time_stamp,
            number_of_samples,
            channels,
            sample_time_us,
            waveform_id,
        }
    }
}

/// One waveform: header and `channels · number_of_samples` u32 values (sample fastest).
#[derive(Debug, Clone, PartialEq)]
pub struct Waveform {
    /// The header.
    pub header: WaveformHeader,
    /// Values, channel-major.
    pub data: Vec<u32>,
}

impl Waveform {
    /// The values as `[channels, samples]`.
    pub fn data_view(&self) -> ArrayView2<'_, u32> {
        let h = &self.header;
        ArrayView2::from_shape(
            (h.channels as usize, h.number_of_samples as usize),
            &self.data,
        )
        .expect("Waveform::data length must equal channels * number_of_samples")
    }

    /// Checks that the data length agrees with the header.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        let h = &self.header;
        let want = h.channels as usize * h.number_of_samples as usize;
        if self.data.len() != want {
            return Err((
                "data",
                format!(
                    "{} values stored, header says channels {} x number_of_samples {} = {want}",
                    self.data.len(),
                    h.channels,
                    h.number_of_samples
                ),
            ));
        }
        Ok(())
    }
}
