//! The one error type of the topics crate.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum TopicsError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("topic map {path}: {source}")]
    Format {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error(
        "topic map {path} has format {found}, this build reads {expected}: run `papers topics`"
    )]
    Version {
        path: PathBuf,
        found: u32,
        expected: u32,
    },
    #[error("vectors have {actual} values, not a whole number of {dim}-dimensional rows")]
    Dimension { dim: usize, actual: usize },
}

impl TopicsError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> TopicsError {
        let path = path.into();
        move |source| TopicsError::Io { path, source }
    }
}

pub type Result<T, E = TopicsError> = std::result::Result<T, E>;
