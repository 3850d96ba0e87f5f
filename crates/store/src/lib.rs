//! The paper store: the source of truth, and the only crate that speaks SQL.
//!
//! Two engines behind one API: SQLite in WAL mode inside the data directory (the
//! embedded default), or PostgreSQL shared by several nodes. Schema migrations are
//! embedded and applied when the store opens. Writers group work in transactions
//! ([`Store::begin_ingest`]) so a file either lands whole or not at all; readers see
//! the last committed state and are never blocked by a writer.

mod access_tokens;
mod account_control;
mod account_data;
mod account_erase;
mod account_tokens;
mod accounts;
mod codec;
mod collections;
mod comments;
mod db;
mod digests;
mod error;
mod feed;
mod feedback;
mod follows;
mod harvest_state;
mod health;
mod ingest;
mod job_runs;
mod jobs;
mod listing;
mod memory;
mod migrate;
mod new_papers;
mod read;
mod reads;
mod roles;
mod rows;
mod snapshot;
mod stats;
mod subscriptions;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
mod value;
mod vectors;
mod votes;

use std::path::{Path, PathBuf};

use db::Db;

pub use access_tokens::{AccessToken, TokenOwner};
pub use account_control::{EmailChangeRefused, EmailChanged, SessionInfo, VerifiedEmail};
pub use account_data::{MemberSubmission, MemberVote};
pub use account_erase::DELETED_MEMBER;
pub use account_tokens::{AccountToken, NewAccountToken, TokenPurpose};
pub use accounts::{NewSession, Session, SignUpConflict, User};
pub use collections::{CollectedPaper, Collection, CollectionFields, READ_LATER_TITLE};
pub use comments::{Comment, CommentRefused};
pub use digests::SendState;
pub use error::{Corruption, StoreError};
pub use feed::{FeedItem, FeedPeriod, FeedQuery, FeedSort, rank_trending};
pub use follows::{Follow, FollowKind, same_author};
pub use harvest_state::{HarvestList, HarvestState, PageOutcome};
pub use health::{ChangeLag, Footprint};
pub use ingest::{IngestBatch, UpsertOutcome};
pub use job_runs::{JobFinish, JobOutcome, JobRun, JobStatus, RUNS_KEPT};
pub use jobs::JobClaim;
pub use listing::ListingOwner;
pub use memory::{LONG_LIVED_PAGE_CACHE, sqlite_memory_used};
pub use new_papers::NewPapers;
pub use read::StoredPaper;
pub use roles::{MemberSummary, Role};
pub use stats::{Count, Stats};
pub use subscriptions::{
    Frequency, NewSubscription, Preferences, Subscription, SubscriptionRequest, SubscriptionStatus,
};
pub use value::{ValueError, ValueKind};
pub use vectors::EmbeddingInput;
pub use votes::VoteOutcome;

/// The database file inside the data directory.
pub const DATABASE_FILE: &str = "papers.sqlite3";

/// Where the store lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// `papers.sqlite3` inside this data directory.
    Sqlite(PathBuf),
    /// A `postgres://` connection URL.
    Postgres(String),
}

impl Database {
    /// PostgreSQL when a URL is given, else SQLite in the data directory.
    pub fn choose(data_dir: &Path, url: Option<&str>) -> Database {
        match url.map(str::trim).filter(|url| !url.is_empty()) {
            Some(url) => Database::Postgres(url.to_owned()),
            None => Database::Sqlite(data_dir.to_owned()),
        }
    }

    /// For messages and logs: the file path, or the URL without its password.
    pub fn describe(&self) -> String {
        match self {
            Database::Sqlite(dir) => dir.join(DATABASE_FILE).display().to_string(),
            Database::Postgres(url) => redact(url),
        }
    }
}

pub struct Store {
    db: Db,
    location: Database,
}

impl Store {
    /// Opens (creating if needed) the SQLite store in `data_dir` and brings its schema
    /// up to date.
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        Store::connect(&Database::Sqlite(data_dir.to_owned()))
    }

    /// Opens the store wherever it lives and brings its schema up to date.
    pub fn connect(location: &Database) -> Result<Store, StoreError> {
        let db = match location {
            Database::Sqlite(data_dir) => open_sqlite(data_dir)?,
            Database::Postgres(url) => Db::postgres(connect_postgres(url)?),
        };
        migrate::apply(&db)?;
        Ok(Store {
            db,
            location: location.clone(),
        })
    }

    pub fn location(&self) -> &Database {
        &self.location
    }

    /// Folds SQLite's write-ahead log back into the database file; worth doing after a
    /// bulk load so the next open does not replay a large log. PostgreSQL manages its
    /// own log, so there it does nothing.
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        match &self.db {
            Db::Sqlite(_) => self.db.batch("PRAGMA wal_checkpoint(TRUNCATE);"),
            Db::Postgres(_) => Ok(()),
        }
    }
}

fn open_sqlite(data_dir: &Path) -> Result<Db, StoreError> {
    std::fs::create_dir_all(data_dir).map_err(|source| StoreError::DataDir {
        path: data_dir.to_owned(),
        source,
    })?;
    let path = data_dir.join(DATABASE_FILE);
    owner_only(&path)?;
    let conn = rusqlite::Connection::open(&path).map_err(|source| StoreError::Open {
        path: path.clone(),
        source,
    })?;
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
    conn.set_prepared_statement_cache_capacity(128);
    Ok(Db::Sqlite(conn))
}

/// The database holds password hashes, addresses and session digests: its file is
/// created readable by its owner only (mode 0600), before SQLite opens it, whatever
/// the umask. SQLite gives the `-wal` and `-shm` files it creates the database file's
/// mode; files left wider by an older version are narrowed here.
///
/// An existing database file is never opened here, only looked at by path: closing
/// any descriptor of the file drops every POSIX lock this process holds on it,
/// including the shared locks of the store's open connections (SQLite's "how to
/// corrupt" page, 2.2). Another process closing its connection then takes the
/// database for unused, checkpoints and deletes the WAL that this process keeps
/// writing to, and every later commit here is lost (the crash campaign's harvest
/// round found it: a serve opens a connection per job while others are open).
#[cfg(unix)]
fn owner_only(path: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let error = |path: &Path| {
        let path = path.to_owned();
        move |source| StoreError::Permissions { path, source }
    };
    // `create_new`: a file made here is new, so no connection can hold a lock on it.
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => {}
        Err(source) if source.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(source) => return Err(error(path)(source)),
    }
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let file = PathBuf::from(name);
        match std::fs::metadata(&file) {
            Ok(metadata) if metadata.permissions().mode() & 0o077 != 0 => {
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))
                    .map_err(error(&file))?;
            }
            Ok(_) => {}
            Err(source) if source.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(error(&file)(source)),
        }
    }
    Ok(())
}

#[cfg(not(unix))]
fn owner_only(_path: &Path) -> Result<(), StoreError> {
    Ok(())
}

pub(crate) fn connect_postgres(url: &str) -> Result<postgres::Client, StoreError> {
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(StoreError::BadUrl { url: redact(url) });
    }
    postgres::Client::connect(url, postgres::NoTls).map_err(|source| StoreError::Connect {
        url: redact(url),
        source,
    })
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((credentials, host)) => match credentials.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(
            redact("postgres://papers:hunter2@db:5432/papers"),
            "postgres://papers:***@db:5432/papers"
        );
        assert_eq!(redact("postgres://db/papers"), "postgres://db/papers");
    }
}
