//! Several reads in one SQLite read transaction.
//!
//! Outside a transaction every statement is a transaction of its own: SQLite takes a
//! read lock in the write-ahead log's shared memory (a `fcntl` call) and the
//! database's shared lock before it, and drops both after. A paper page reads the
//! paper, its versions, its similar papers and its comments; taking and dropping those
//! locks four times cost about an eighth of the page's CPU in `perf`.

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
        let outcome = reads(self);
        // Ending a read transaction cannot lose anything; on error the reads'
        // own error is the one to report.
        let ended = self.db.execute("COMMIT", &[]);
        let value = outcome?;
        ended?;
        Ok(value)
    }
}
