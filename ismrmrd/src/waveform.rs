//! Physiological and gradient waveforms ([`WaveformHeader`], [`Waveform`]).

use ndarray::ArrayView2;
use serde::Serialize;

use crate::acquisition::HEADER_VERSION;

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
