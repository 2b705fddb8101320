//! The crate's one error type: every variant names the file (when known), the line and the problem.

use std::path::PathBuf;

/// Errors of the Pulseq crate.
#[derive(Debug, thiserror::Error)]
pub enum SeqError {
    /// A problem at a given line of a `.seq` text (1-based line number).
    #[error("{}line {line}: {message}", prefix(.file))]
    Parse {
        /// The file, when the text came from one.
        file: Option<PathBuf>,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A problem of the whole file that has no single line (e.g. a missing `[VERSION]`).
    #[error("{}{message}", prefix(.file))]
    Invalid {
        /// The file, when the text came from one.
        file: Option<PathBuf>,
        /// What is wrong.
        message: String,
    },
    /// A builder or protocol was given values it cannot honour (names the function and values).
    #[error("{0}")]
    Build(String),
    /// The file could not be read.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

fn prefix(file: &Option<PathBuf>) -> String {
    file.as_ref()
        .map(|p| format!("{}: ", p.display()))
        .unwrap_or_default()
}

impl SeqError {
    /// A parse error at `line` (1-based) without a file name.
    pub fn at(line: usize, message: impl Into<String>) -> Self {
        SeqError::Parse {
            file: None,
            line,
            message: message.into(),
        }
    }

    /// A whole-file error without a file name.
    pub fn invalid(message: impl Into<String>) -> Self {
        SeqError::Invalid {
            file: None,
            message: message.into(),
        }
    }

    /// A builder error with the given message.
    pub fn build(message: impl Into<String>) -> Self {
        SeqError::Build(message.into())
    }

    /// The same error, naming `path` as its file.
    pub fn with_file(self, path: impl Into<PathBuf>) -> Self {
        match self {
            SeqError::Parse { line, message, .. } => SeqError::Parse {
                file: Some(path.into()),
                line,
                message,
            },
            SeqError::Invalid { message, .. } => SeqError::Invalid {
                file: Some(path.into()),
                message,
            },
            other => other,
        }
    }

    /// The 1-based line the error refers to, if any.
    pub fn line(&self) -> Option<usize> {
        match self {
            SeqError::Parse { line, .. } => Some(*line),
            _ => None,
        }
    }
}

/// Result alias of the crate.
pub type Result<T> = std::result::Result<T, SeqError>;
