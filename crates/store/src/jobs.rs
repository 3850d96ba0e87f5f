//! Exclusive claims on background jobs (the digest sender, the embedder), so two
//! processes or nodes never run the same job at once.
//!
//! Both kinds of claim die with their holder however it ends, so a crash never leaves
//! a job stuck: on SQLite an OS file lock beside the database, on PostgreSQL a
//! session advisory lock on a connection of the claim's own.

use std::fs::{File, OpenOptions, TryLockError};

use crate::{Database, Store, StoreError, connect_postgres};

/// Held while the job runs; dropping it lets another process claim the job.
pub struct JobClaim {
    _hold: Hold,
}

/// What keeps the claim alive: closing it releases the lock.
enum Hold {
    File { _file: File },
    Postgres { _session: postgres::Client },
}

/// First key of the two-key advisory lock space reserved for job claims.
const JOB_LOCK_SPACE: i32 = 0x7061_7072;

impl Store {
    /// Claims the job named `name` if nobody holds it; `None` when someone does.
    pub fn try_claim_job(&self, name: &str) -> Result<Option<JobClaim>, StoreError> {
        match self.location() {
            Database::Sqlite(dir) => {
                let path = dir.join(format!("{}.{name}-lock", crate::DATABASE_FILE));
                let lock_error = |source| StoreError::Lock {
                    name: name.to_owned(),
                    path: path.clone(),
                    source,
                };
                let file = OpenOptions::new()
                    .create(true)
                    .truncate(false)
                    .write(true)
                    .open(&path)
                    .map_err(lock_error)?;
                match file.try_lock() {
                    Ok(()) => Ok(Some(JobClaim {
                        _hold: Hold::File { _file: file },
                    })),
                    Err(TryLockError::WouldBlock) => Ok(None),
                    Err(TryLockError::Error(source)) => Err(lock_error(source)),
                }
            }
            Database::Postgres(url) => {
                let mut client = connect_postgres(url)?;
                let row = client.query_one(
                    "SELECT pg_try_advisory_lock($1, hashtext($2))",
                    &[&JOB_LOCK_SPACE, &name],
                )?;
                let claimed: bool = row.try_get(0)?;
                Ok(claimed.then_some(JobClaim {
                    _hold: Hold::Postgres { _session: client },
                }))
            }
        }
    }
}
