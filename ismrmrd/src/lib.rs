//! ISMRMRD (MRD v1) raw data for Accord.
//!
//! The one format every vendor's raw data reaches Accord in: the XML header ([`xml`]), readouts
//! ([`Acquisition`]), reconstructed images ([`Image`]), physiological waveforms ([`Waveform`])
//! and generic arrays ([`ArrayData`]), read from and written to HDF5 files ([`h5`]) with
//! streaming, batched and random access.

pub mod acquisition;
pub mod array;
pub mod error;
pub mod flags;
pub mod h5;
pub mod image;
pub mod stream;
pub mod summary;
pub mod waveform;
pub mod xml;

pub use acquisition::{Acquisition, AcquisitionHeader, EncodingCounters};
pub use array::{ArrayData, DataType};
pub use error::{Error, Result, XmlError};
pub use flags::{AcquisitionFlag, AcquisitionFlags, ImageFlag, ImageFlags};
pub use h5::{DatasetReader, IsmrmrdFile, IsmrmrdWriter, WriteOptions};
pub use image::{Image, ImageData, ImageHeader, ImageType};
pub use summary::FileSummary;
pub use waveform::{Waveform, WaveformHeader};
pub use xml::IsmrmrdHeader;
