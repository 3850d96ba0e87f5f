//! Errors the store reports.

use std::path::PathBuf;

use crate::value::ValueError;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot make {path} readable by its owner only: {source}")]
    Permissions {
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
    #[error("stored row for {id} is corrupt: {source}")]
    Corrupt { id: String, source: Corruption },
    #[error("column {index} of a stored row: {source}")]
    Decode { index: usize, source: ValueError },
    #[error("no row from {sql:?}")]
    NoRow { sql: String },
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

/// What is wrong with a stored value that decoded as its column type but does not hold
/// a valid domain value (a row written by hand, or by a version with other rules).
#[derive(Debug, thiserror::Error)]
pub enum Corruption {
    #[error("timestamp {text:?}: {source}")]
    Timestamp {
        text: String,
        source: chrono::ParseError,
    },
    #[error("date {text:?}: {source}")]
    Date {
        text: String,
        source: chrono::ParseError,
    },
    #[error(transparent)]
    Id(#[from] papers_core::ArxivIdError),
    #[error(transparent)]
    Categories(#[from] papers_core::CategoryError),
    #[error("authors: {0}")]
    Authors(#[source] serde_json::Error),
    #[error("subscription list: {0}")]
    List(#[source] serde_json::Error),
    #[error("unknown source {0:?}")]
    Source(String),
    #[error("frequency {0:?}")]
    Frequency(String),
    #[error("status {0:?}")]
    Status(String),
    #[error("job outcome {0:?}")]
    Outcome(String),
    #[error("missing {0}")]
    Missing(&'static str),
}
