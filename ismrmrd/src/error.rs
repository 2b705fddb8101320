//! The crate's one error type: every variant names the file, the place (dataset, acquisition
//! index, field, XML line/column) and the problem, so a user can act on it.

use std::fmt;

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A problem in an ISMRMRD XML header, with its position in the XML text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XmlError {
    /// 1-based line of the offending element or token (0 when unknown).
    pub line: usize,
    /// 1-based column (in characters) of the offending element or token (0 when unknown).
    pub column: usize,
    /// Element path such as `ismrmrdHeader/encoding[0]/encodedSpace/matrixSize/x` (may be empty).
    pub element: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for XmlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "line {}, column {}: ", self.line, self.column)?;
        }
        write!(f, "{}", self.message)?;
        if !self.element.is_empty() {
            write!(f, " (in <{}>)", self.element)?;
        }
        Ok(())
    }
}

impl std::error::Error for XmlError {}

/// Everything that can go wrong reading or writing ISMRMRD data.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Operating-system I/O failure on a file.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not HDF5, or its HDF5 structure is damaged or truncated.
    #[error("{path}: cannot open as HDF5 (not an HDF5 file, or damaged/truncated): {detail}")]
    NotHdf5 {
        /// The file.
        path: String,
        /// What libhdf5 said.
        detail: String,
    },
    /// The requested group does not exist in the file.
    #[error("{path}: no group '{group}' in the file (groups present: {available})")]
    GroupNotFound {
        /// The file.
        path: String,
        /// The group asked for.
        group: String,
        /// The groups that do exist, comma separated.
        available: String,
    },
    /// A dataset the format requires is missing.
    #[error("{path}: {dataset} is missing ({what})")]
    MissingDataset {
        /// The file.
        path: String,
        /// HDF5 path of the dataset, e.g. `/dataset/xml`.
        dataset: String,
        /// Why it is needed.
        what: String,
    },
    /// The XML header does not parse or violates the schema.
    #[error("{path}: {dataset}: XML header: {source}")]
    Xml {
        /// The file (or `<memory>` for a string).
        path: String,
        /// HDF5 path of the XML dataset.
        dataset: String,
        /// The position and problem.
        #[source]
        source: XmlError,
    },
    /// A dataset has the wrong shape or HDF5 type (e.g. a compound member missing).
    #[error("{path}: {dataset}: {problem}")]
    Layout {
        /// The file.
        path: String,
        /// HDF5 path of the dataset.
        dataset: String,
        /// What is wrong.
        problem: String,
    },
    /// One record (acquisition, image, waveform) is inconsistent or unreadable.
    #[error("{path}: {dataset}: {kind} {index}: field '{field}': {problem}")]
    Record {
        /// The file (or `<memory>`).
        path: String,
        /// HDF5 path of the dataset.
        dataset: String,
        /// `acquisition`, `image` or `waveform`.
        kind: &'static str,
        /// 0-based index of the record in the dataset.
        index: u64,
        /// Field name such as `data`, `head.version`.
        field: String,
        /// What is wrong.
        problem: String,
    },
    /// libhdf5 reported an error while accessing an object.
    #[error("{path}: {object}: HDF5 error: {source}")]
    Hdf5 {
        /// The file.
        path: String,
        /// HDF5 path of the object being accessed.
        object: String,
        /// What libhdf5 said.
        #[source]
        source: hdf5::Error,
    },
    /// A message of an ISMRMRD stream is malformed or cut short.
    #[error("{path}: stream message {message} (byte offset {offset}): {problem}")]
    Stream {
        /// The file (or `<stream>` for a pipe or socket).
        path: String,
        /// 0-based index of the message in the stream.
        message: u64,
        /// Byte offset of the start of that message.
        offset: u64,
        /// What is wrong.
        problem: String,
    },
    /// The output file exists and overwriting was not requested.
    #[error("{path} already exists; refusing to overwrite it (use --force to replace it)")]
    OutputExists {
        /// The file.
        path: String,
    },
    /// An in-memory object handed to a writer is inconsistent.
    #[error("{what}: {problem}")]
    Invalid {
        /// What was checked, e.g. `acquisition 12`.
        what: String,
        /// What is wrong.
        problem: String,
    },
}
