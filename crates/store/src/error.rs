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
    #[error("cannot connect to PostgreSQL at {url}: {source}")]
    Connect {
        /// The URL with any password replaced.
        url: String,
        source: postgres::Error,
    },
    #[error("unsupported database URL {url:?}: expected postgres://… or postgresql://…")]
    BadUrl { url: String },
    #[error(
        "database schema version {found} is newer than this program knows ({known}); upgrade papers"
    )]
    SchemaTooNew { found: i64, known: i64 },
    #[error("stored row for {id} is corrupt: {reason}")]
    Corrupt { id: String, reason: String },
    #[error("column {index} of a stored row: {reason}")]
    Decode { index: usize, reason: String },
    #[error("cannot take the {name} lock at {path}: {source}")]
    Lock {
        name: String,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error(transparent)]
    Postgres(#[from] postgres::Error),
}

impl StoreError {
    /// The message of a unique-constraint violation, from either engine, which names
    /// the constraint or column that clashed; `None` for any other error.
    pub(crate) fn unique_violation(&self) -> Option<String> {
        match self {
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(failure, message))
                if failure.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                Some(message.clone().unwrap_or_default())
            }
            StoreError::Postgres(error)
                if error.code() == Some(&postgres::error::SqlState::UNIQUE_VIOLATION) =>
            {
                Some(
                    error
                        .as_db_error()
                        .and_then(|db| db.constraint())
                        .unwrap_or_default()
                        .to_owned(),
                )
            }
            _ => None,
        }
    }
}
