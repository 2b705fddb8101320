//! Pulseq sequences for Accord: the data model (integer-nanosecond time, event libraries with
//! ids as in the file, decompressed shapes, extensions), the `.seq` reader for formats
//! 1.2.0 – 1.5.x, the writer (1.5 and 1.4, reference-toolbox shape compression, MD5 signature),
//! gradient waveforms, k-space and timing checks, the pypulseq-style builders (`build`), system
//! limits (`system`) and the `seqgen` protocols (`protocol`).

pub mod build;
pub mod error;
pub mod events;
pub mod kspace;
pub mod plot;
pub mod protocol;
pub mod read;
pub mod report;
pub mod report_json;
pub mod sequence;
pub mod shape;
pub mod signature;
pub mod summary;
pub mod system;
pub mod time;
pub mod timing;
pub mod waveforms;
pub mod write;

pub use error::{Result, SeqError};
pub use events::{
    AdcEvent, ArbGrad, ExtensionNode, ExtensionSpec, Gradient, Label, RfEvent, RfShim, SoftDelay,
    TrapGrad, Trigger,
};
pub use read::{ReadOptions, read_bytes, read_bytes_with, read_file, read_str};
pub use sequence::{Block, DefValue, Sequence, Signature, Version};
pub use shape::{Shape, decompress};
pub use summary::SeqSummary;
pub use system::System;
pub use time::{Nanos, Rasters};
