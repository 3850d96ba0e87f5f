//! What operators watch: how big the store is, how many of each thing it holds, how
//! far an index at some change-log position is behind the newest change, and how many
//! papers still wait for a vector. All cheap enough to ask on every scrape.

use chrono::{DateTime, Utc};

use crate::codec::parse_timestamp;
use crate::db::args;
use crate::{DATABASE_FILE, Database, Store, StoreError};

/// Sizes and counts for `/admin` and `/metrics`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Footprint {
    /// `sqlite` or `postgres`.
    pub engine: &'static str,
    /// Bytes on disk: the SQLite file and its write-ahead log, or the PostgreSQL
    /// database; `None` when the engine will not say.
    pub bytes: Option<u64>,
    pub papers: u64,
    /// Papers that have been in the daily feed.
    pub in_feed: u64,
    /// Stored vectors, of every model.
    pub embeddings: u64,
    pub members: u64,
    pub sessions: u64,
    pub access_tokens: u64,
    pub subscriptions: u64,
    pub votes: u64,
    /// Entries in the change log (its newest sequence number is [`ChangeLag::newest`]).
    pub changes: u64,
}

/// How far a reader at some change-log position is behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChangeLag {
    /// The newest change's sequence number (0 for an empty log).
    pub newest: i64,
    /// Changes after the position.
    pub pending: u64,
    /// When the oldest of those was written; `None` when there are none.
    pub oldest_pending: Option<DateTime<Utc>>,
}

impl ChangeLag {
    /// How long the oldest unapplied change has waited at `now` (zero when none has).
    pub fn delay(&self, now: DateTime<Utc>) -> chrono::Duration {
        self.oldest_pending.map_or(chrono::Duration::zero(), |at| {
            (now - at).max(chrono::Duration::zero())
        })
    }
}

impl Store {
    pub fn footprint(&self) -> Result<Footprint, StoreError> {
        let count = |sql: &str| -> Result<u64, StoreError> {
            Ok(self.db.query_one(sql, &[])?.get::<i64>(0)?.max(0) as u64)
        };
        let (engine, bytes) = match self.location() {
            Database::Sqlite(dir) => {
                let pages = count(
                    "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
                )?;
                // Committed pages not yet checkpointed live in the log beside the file.
                let log = std::fs::metadata(dir.join(format!("{DATABASE_FILE}-wal")))
                    .map_or(0, |meta| meta.len());
                ("sqlite", Some(pages + log))
            }
            Database::Postgres(_) => (
                "postgres",
                Some(count("SELECT pg_database_size(current_database())")?),
            ),
        };
        Ok(Footprint {
            engine,
            bytes,
            papers: count("SELECT COUNT(*) FROM papers")?,
            in_feed: count("SELECT COUNT(*) FROM papers WHERE feed_day IS NOT NULL")?,
            embeddings: count("SELECT COUNT(*) FROM embeddings")?,
            members: count("SELECT COUNT(*) FROM users")?,
            sessions: count("SELECT COUNT(*) FROM sessions")?,
            access_tokens: count("SELECT COUNT(*) FROM access_tokens")?,
            subscriptions: count("SELECT COUNT(*) FROM subscriptions")?,
            votes: count("SELECT COUNT(*) FROM votes")?,
            changes: count("SELECT COUNT(*) FROM changes")?,
        })
    }

    /// How far a reader that has applied every change up to `position` is behind.
    pub fn change_lag(&self, position: i64) -> Result<ChangeLag, StoreError> {
        let row = self.db.query_one(
            "SELECT (SELECT COALESCE(MAX(seq), 0) FROM changes), COUNT(*), MIN(at) \
             FROM changes WHERE seq > ?1",
            args![position],
        )?;
        Ok(ChangeLag {
            newest: row.get(0)?,
            pending: row.get::<i64>(1)?.max(0) as u64,
            oldest_pending: parse_timestamp("changes", row.get(2)?)?,
        })
    }

    /// Papers without a vector of `model`. Every vector belongs to a stored paper (a
    /// foreign key), so this is a difference of two counts, an index range each, rather
    /// than an anti-join over every paper.
    pub fn embedding_backlog(&self, model: &str) -> Result<u64, StoreError> {
        let row = self.db.query_one(
            "SELECT (SELECT COUNT(*) FROM papers), \
             (SELECT COUNT(*) FROM embeddings WHERE model = ?1)",
            args![model],
        )?;
        let (papers, vectors): (i64, i64) = (row.get(0)?, row.get(1)?);
        Ok((papers - vectors).max(0) as u64)
    }
}
