//! Several reads in one SQLite read transaction.
//!
//! Outside a transaction every statement is a transaction of its own: SQLite takes a
//! read lock in the write-ahead log's shared memory (a `fcntl` call) and the
//! database's shared lock before it, and drops both after. A paper page reads the
//! paper, its versions, its similar papers and its comments: beginning and ending
//! those four transactions was about an eighth of the page's CPU in `perf`, and
//! reading them in one took a twentieth off it.

use crate::db::Db;
use crate::{Store, StoreError};

impl Store {
    /// Runs `reads` together. On SQLite they share one read transaction: its locks are
    /// taken once for all of them, and they see one snapshot of the store (a write
    /// committed meanwhile shows in none of them). On PostgreSQL each statement runs
    /// on its own, as without this: there a transaction would cost two more round
    /// trips and save no locks.
    ///
    /// For reads only: a write inside fails on SQLite (transactions do not nest).
    pub fn read_together<T>(
        &self,
        reads: impl FnOnce(&Store) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        if let Db::Postgres(_) = self.db {
            return reads(self);
        }
        // `BEGIN` alone is deferred: the read lock comes with the first read.
        self.db.execute("BEGIN", &[])?;
        let open = OpenRead { db: &self.db };
        let outcome = reads(self);
        // Ending a read transaction cannot lose anything; on error the reads'
        // own error is the one to report.
        let ended = open.end();
        let value = outcome?;
        ended?;
        Ok(value)
    }
}

/// An open read transaction, ended when dropped: a panic in the reads must not leave
/// the pooled connection inside it, where it would hold its snapshot (and keep the
/// log from being checkpointed past it) and refuse the next write transaction.
struct OpenRead<'a> {
    db: &'a Db,
}

impl OpenRead<'_> {
    fn end(self) -> Result<(), StoreError> {
        let db = self.db;
        std::mem::forget(self);
        db.execute("COMMIT", &[]).map(drop)
    }
}

impl Drop for OpenRead<'_> {
    fn drop(&mut self) {
        // Only reached while unwinding; nothing to report the error to.
        let _ = self.db.execute("COMMIT", &[]);
    }
}
