//! What the store keeps in the process's memory: SQLite's page cache per connection,
//! and SQLite's own count of the heap it uses, for `/metrics`.

use crate::db::Db;
use crate::{Database, Store, StoreError};

/// A page cache small enough for a connection that lives as long as the server:
/// B-tree interior pages and the hot rows stay, the rest is a read from the OS's
/// page cache (which holds the file once for every connection) away.
pub const LONG_LIVED_PAGE_CACHE: usize = 8 * 1024 * 1024;

impl Store {
    /// Opens a connection meant to live as long as the server (the site's pool, the
    /// index follower, a harvester job): [`Store::connect`] with the page cache capped
    /// at [`LONG_LIVED_PAGE_CACHE`], so every such connection is opened alike.
    pub fn connect_long_lived(location: &Database) -> Result<Store, StoreError> {
        let store = Store::connect(location)?;
        store.set_page_cache_bytes(LONG_LIVED_PAGE_CACHE)?;
        Ok(store)
    }

    /// Caps what this connection keeps of database pages (SQLite; PostgreSQL caches
    /// on its server, so there it does nothing). A connection opens with 64 MB, which
    /// bulk loads use well; the server's connections live for days, and each one
    /// fills its 64 MB, up to the whole database, with copies of pages the OS caches
    /// anyway.
    pub fn set_page_cache_bytes(&self, bytes: usize) -> Result<(), StoreError> {
        match &self.db {
            Db::Sqlite(_) => self
                .db
                .batch(&format!("PRAGMA cache_size = -{};", (bytes / 1024).max(1))),
            Db::Postgres(_) => Ok(()),
        }
    }
}

/// The bytes SQLite holds in this process (every connection's page cache, prepared
/// statements, schemas), by its own count.
pub fn sqlite_memory_used() -> u64 {
    let (mut current, mut highwater) = (0_i64, 0_i64);
    // SAFETY: `sqlite3_status64` reads SQLite's counters under its own mutex; the
    // pointers are to live locals.
    let status = unsafe {
        rusqlite::ffi::sqlite3_status64(
            rusqlite::ffi::SQLITE_STATUS_MEMORY_USED,
            &mut current,
            &mut highwater,
            0,
        )
    };
    if status == rusqlite::ffi::SQLITE_OK {
        u64::try_from(current).unwrap_or(0)
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_keeps_the_page_cache_it_is_given() -> Result<(), StoreError> {
        let dir = tempfile::tempdir().map_err(|source| StoreError::DataDir {
            path: std::env::temp_dir(),
            source,
        })?;
        let location = Database::Sqlite(dir.path().to_owned());
        let store = Store::connect(&location)?;
        let cache_size = |store: &Store| -> Result<i64, StoreError> {
            store.db.query_one("PRAGMA cache_size", &[])?.get(0)
        };
        // Negative: KiB rather than pages.
        assert_eq!(cache_size(&store)?, -65536);
        assert_eq!(cache_size(&Store::connect_long_lived(&location)?)?, -8192);
        assert!(
            sqlite_memory_used() > 0,
            "an open connection holds some memory"
        );
        Ok(())
    }
}
