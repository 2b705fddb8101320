//! The crate's one error type: every variant names the file, the place and the problem.

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the phantom and analysis layer.
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
    /// The output exists and overwriting was not requested.
    #[error("{path}: already exists (use --force to overwrite)")]
    OutputExists {
        /// The output path.
        path: String,
    },
    /// A file that is not what it should be (not DICOM, no pixel data, unreadable table…).
    #[error("{path}: {message}")]
    BadFile {
        /// The file.
        path: String,
        /// What is wrong, and where in the file when known.
        message: String,
    },
    /// An argument or parameter out of range, named.
    #[error("{what}: {message}")]
    Invalid {
        /// The parameter or argument.
        what: String,
        /// What is wrong with it.
        message: String,
    },
    /// A figure could not be drawn.
    #[error("figure {figure}: {message}")]
    Plot {
        /// The figure's file name.
        figure: String,
        /// What the plotting backend said.
        message: String,
    },
}

impl Error {
    /// An [`Error::Io`] for `path`.
    pub fn io(path: impl AsRef<std::path::Path>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.as_ref().display().to_string(),
            source,
        }
    }
}
