//! Errors the store reports.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open database {path}: {source}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error(
        "database schema version {found} is newer than this program knows ({known}); upgrade papers"
    )]
    SchemaTooNew { found: i64, known: i64 },
    #[error("stored row for {id} is corrupt: {reason}")]
    Corrupt { id: String, reason: String },
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error(transparent)]
    Column(#[from] rusqlite::types::FromSqlError),
}
