//! The reconstruction error type: every variant names where the problem is (file, acquisition,
//! configuration key, stage) and what it is.

use std::path::PathBuf;

/// Result of reconstruction operations.
pub type Result<T, E = ReconError> = std::result::Result<T, E>;

/// What went wrong, with its place.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReconError {
    /// A problem in the raw data (header or readouts).
    #[error("{}{what}", location(file, *acquisition))]
    Data {
        /// The raw-data file, when known.
        file: Option<PathBuf>,
        /// The 0-based acquisition index, when the problem is in one readout.
        acquisition: Option<u64>,
        /// What is wrong.
        what: String,
    },
    /// A problem in the reconstruction configuration.
    #[error("{}{key}: {what}", file.as_ref().map(|f| format!("{}: ", f.display())).unwrap_or_default())]
    Config {
        /// The configuration file, when known.
        file: Option<PathBuf>,
        /// The key (e.g. `stage[2].iterations`).
        key: String,
        /// What is wrong.
        what: String,
    },
    /// A stage cannot run on these data (e.g. GRAPPA without calibration lines).
    #[error("stage {stage}: {what}")]
    Stage {
        /// The stage name.
        stage: String,
        /// What is wrong.
        what: String,
    },
    /// The requested backend is not available in this build or on this machine.
    #[error("backend {backend} is not available: {why}")]
    BackendUnavailable {
        /// The backend asked for.
        backend: String,
        /// Why not.
        why: String,
    },
    /// Arrays of incompatible shapes were combined (a caller bug or inconsistent data).
    #[error("shape mismatch in {op}: {what}")]
    Shape {
        /// The operation.
        op: &'static str,
        /// The shapes involved.
        what: String,
    },
    /// A numerical failure (non-finite values, a singular matrix).
    #[error("numerical failure in {op}: {what}")]
    Numerical {
        /// The operation.
        op: &'static str,
        /// What happened.
        what: String,
    },
    /// Raw-data I/O.
    #[error(transparent)]
    Ismrmrd(#[from] accord_ismrmrd::Error),
    /// File I/O.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

fn location(file: &Option<PathBuf>, acquisition: Option<u64>) -> String {
    let mut s = String::new();
    if let Some(f) = file {
        s.push_str(&format!("{}: ", f.display()));
    }
    if let Some(a) = acquisition {
        s.push_str(&format!("acquisition {a}: "));
    }
    s
}

impl ReconError {
    /// A raw-data problem without a place yet.
    pub fn data(what: impl Into<String>) -> Self {
        ReconError::Data {
            file: None,
            acquisition: None,
            what: what.into(),
        }
    }

    /// A raw-data problem in acquisition `index`.
    pub fn acquisition(index: u64, what: impl Into<String>) -> Self {
        ReconError::Data {
            file: None,
            acquisition: Some(index),
            what: what.into(),
        }
    }

    /// A configuration problem at `key`.
    pub fn config(key: impl Into<String>, what: impl Into<String>) -> Self {
        ReconError::Config {
            file: None,
            key: key.into(),
            what: what.into(),
        }
    }

    /// A stage that cannot run.
    pub fn stage(stage: impl Into<String>, what: impl Into<String>) -> Self {
        ReconError::Stage {
            stage: stage.into(),
            what: what.into(),
        }
    }

    /// A shape mismatch in `op`.
    pub fn shape(op: &'static str, what: impl Into<String>) -> Self {
        ReconError::Shape {
            op,
            what: what.into(),
        }
    }

    /// A numerical failure in `op`.
    pub fn numerical(op: &'static str, what: impl Into<String>) -> Self {
        ReconError::Numerical {
            op,
            what: what.into(),
        }
    }

    /// Attaches the file the error is about (raw data or configuration).
    pub fn with_file(mut self, path: impl Into<PathBuf>) -> Self {
        match &mut self {
            ReconError::Data { file, .. } | ReconError::Config { file, .. } => {
                *file = Some(path.into());
            }
            _ => {}
        }
        self
    }
}
