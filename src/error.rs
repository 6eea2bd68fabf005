//! The library's error type: every variant names what is wrong and where.

use std::path::PathBuf;

/// Errors from loading inputs, validating scenarios and running sweeps.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A trace or forecast file has a bad value at a given row (1-based, header excluded).
    #[error("{path}, row {row}: {message}")]
    BadRow {
        path: PathBuf,
        row: usize,
        message: String,
    },
    /// A trace or forecast file is unusable as a whole (empty, missing column, ...).
    #[error("{path}: {message}")]
    BadFile { path: PathBuf, message: String },
    /// A scenario file is malformed or has an invalid value.
    #[error("{path}: {message}")]
    Scenario { path: PathBuf, message: String },
    /// A configuration value is invalid (outside a file context).
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A forecaster could not be fitted or used.
    #[error("forecaster '{name}': {message}")]
    Forecast { name: String, message: String },
    /// Polars failed while reading or writing a table.
    #[error("{path}: {source}")]
    Polars {
        path: PathBuf,
        #[source]
        source: polars::error::PolarsError,
    },
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
    pub(crate) fn bad_file(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::BadFile {
            path: path.into(),
            message: message.into(),
        }
    }
    pub(crate) fn bad_row(
        path: impl Into<PathBuf>,
        row: usize,
        message: impl Into<String>,
    ) -> Self {
        Error::BadRow {
            path: path.into(),
            row,
            message: message.into(),
        }
    }
    pub(crate) fn scenario(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::Scenario {
            path: path.into(),
            message: message.into(),
        }
    }
    pub(crate) fn forecast(name: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Forecast {
            name: name.into(),
            message: message.into(),
        }
    }
}

/// Result alias for the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;
