//! The one error type of the index crate.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("lexical index: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    #[error("lexical index directory {path}: {source}")]
    OpenDirectory {
        path: PathBuf,
        source: tantivy::directory::error::OpenDirectoryError,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("dense index {path}: {reason}")]
    DenseFormat { path: PathBuf, reason: String },
    #[error("vector has {actual} dimensions, the index holds {expected}")]
    Dimension { expected: usize, actual: usize },
    #[error("dense index was built with model {found:?}, expected {expected:?}: reindex")]
    ModelMismatch { expected: String, found: String },
    #[error("paper key {0} cannot be indexed: store keys are positive")]
    Key(i128),
    #[error("HNSW index: {0}")]
    Hnsw(String),
    #[error("BEIR data set {path}: {reason}")]
    Beir { path: PathBuf, reason: String },
}

impl IndexError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> IndexError {
        let path = path.into();
        move |source| IndexError::Io { path, source }
    }
}

pub type Result<T, E = IndexError> = std::result::Result<T, E>;
