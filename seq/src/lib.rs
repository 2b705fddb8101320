//! Pulseq sequences for Accord: the data model (integer-nanosecond time, event libraries with
//! ids as in the file, decompressed shapes, extensions), the `.seq` reader for formats
//! 1.2.0 – 1.5.x, the writer (1.5 and 1.4, reference-toolbox shape compression, MD5 signature),
//! gradient waveforms and k-space. Builders, timing checks and protocols come later.

pub mod error;
pub mod events;
pub mod kspace;
pub mod read;
pub mod sequence;
pub mod shape;
pub mod signature;
pub mod summary;
pub mod time;
pub mod timing;
pub mod waveforms;
pub mod write;

pub use error::{Result, SeqError};
pub use events::{
    AdcEvent, ArbGrad, ExtensionNode, ExtensionSpec, Gradient, Label, RfEvent, RfShim, SoftDelay,
    TrapGrad, Trigger,
};
pub use read::{read_bytes, read_file, read_str};
pub use sequence::{Block, DefValue, Sequence, Signature, Version};
pub use shape::{Shape, decompress};
pub use summary::SeqSummary;
pub use time::{Nanos, Rasters};
