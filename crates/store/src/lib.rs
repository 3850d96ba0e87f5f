//! The paper store: the source of truth, and the only crate that speaks SQL.
//!
//! One SQLite database in WAL mode inside the data directory. Schema migrations are
//! embedded and applied when the store opens. Writers group work in transactions
//! ([`Store::begin_ingest`]) so a file either lands whole or not at all; readers see
//! the last committed state and are never blocked by a writer.

mod accounts;
mod codec;
mod digests;
mod error;
mod feed;
mod ingest;
mod listing;
mod migrate;
mod read;
mod stats;
mod subscriptions;
mod vectors;
mod votes;

use std::path::{Path, PathBuf};

use rusqlite::Connection;

pub use accounts::{Session, SignUpConflict, User};
pub use digests::SendState;
pub use error::StoreError;
pub use feed::{FeedItem, FeedPeriod, FeedQuery, FeedSort};
pub use ingest::{IngestBatch, UpsertOutcome};
pub use listing::ListingOwner;
pub use read::StoredPaper;
pub use stats::{Count, Stats};
pub use subscriptions::{Frequency, NewSubscription, Subscription, SubscriptionStatus};
pub use vectors::EmbeddingInput;
pub use votes::VoteOutcome;

/// The database file inside the data directory.
pub const DATABASE_FILE: &str = "papers.sqlite3";

pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl Store {
    /// Opens (creating if needed) the store in `data_dir` and brings its schema up to
    /// date.
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::DataDir {
            path: data_dir.to_owned(),
            source,
        })?;
        let path = data_dir.join(DATABASE_FILE);
        let conn = Connection::open(&path).map_err(|source| StoreError::Open {
            path: path.clone(),
            source,
        })?;
        configure(&conn)?;
        migrate::apply(&conn)?;
        Ok(Store { conn, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Folds the write-ahead log back into the database file; worth doing after a
    /// bulk load so the next open does not replay a large log.
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        self.conn
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
            .map_err(StoreError::from)
    }
}

fn configure(conn: &Connection) -> Result<(), StoreError> {
    // NORMAL is durable in WAL mode except for the last transactions before a power
    // loss; a crashed process loses nothing that was committed.
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = NORMAL;
         PRAGMA foreign_keys = ON;
         PRAGMA busy_timeout = 5000;
         PRAGMA temp_store = MEMORY;
         PRAGMA cache_size = -65536;",
    )?;
    Ok(())
}
