//! ISMRMRD (MRD v1) raw data for Accord.
//!
//! The one format every vendor's raw data reaches Accord in: the XML header ([`xml`]), readouts
//! ([`Acquisition`]), reconstructed images ([`Image`]), physiological waveforms ([`Waveform`])
//! and generic arrays ([`NdArray`]), read from and written to HDF5 files ([`hdf5`]) with
//! streaming, batched and random access.

pub mod acquisition;
pub mod error;
pub mod flags;
pub mod xml;

pub use acquisition::{Acquisition, AcquisitionHeader, EncodingCounters};
pub use error::{Error, Result, XmlError};
pub use flags::{AcquisitionFlag, AcquisitionFlags, ImageFlag, ImageFlags};
