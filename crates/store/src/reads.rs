//! Reading state: which papers a member has read. Opening a paper's page marks it; a
//! member can mark and unmark by hand too. Feeds and search hide read papers on request.

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use crate::codec::timestamp;
use crate::db::args;
use crate::{Store, StoreError};

impl Store {
    /// Marks a paper read; false when it was already (the first reading's time stays).
    pub fn mark_read(
        &self,
        user_id: i64,
        paper_key: i64,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let added = self.db.execute(
            "INSERT INTO paper_reads (user_id, paper_key, at) VALUES (?1, ?2, ?3) \
             ON CONFLICT DO NOTHING",
            args![user_id, paper_key, timestamp(Some(now))],
        )?;
        Ok(added == 1)
    }

    /// Marks a paper unread; false when it was not read.
    pub fn mark_unread(&self, user_id: i64, paper_key: i64) -> Result<bool, StoreError> {
        let removed = self.db.execute(
            "DELETE FROM paper_reads WHERE user_id = ?1 AND paper_key = ?2",
            args![user_id, paper_key],
        )?;
        Ok(removed == 1)
    }

    /// Every paper the member has read.
    pub fn read_keys(&self, user_id: i64) -> Result<HashSet<i64>, StoreError> {
        self.db
            .query(
                "SELECT paper_key FROM paper_reads WHERE user_id = ?1",
                args![user_id],
            )?
            .iter()
            .map(|row| row.get::<i64>(0))
            .collect()
    }

    /// The ids of the papers the member has read, with when, most recent first (their
    /// export).
    pub fn reads_by(&self, user_id: i64) -> Result<Vec<(String, String)>, StoreError> {
        self.db
            .query(
                "SELECT p.id, r.at FROM paper_reads r JOIN papers p ON p.key = r.paper_key \
                 WHERE r.user_id = ?1 ORDER BY r.at DESC, p.id",
                args![user_id],
            )?
            .iter()
            .map(|row| Ok((row.get(0)?, row.get(1)?)))
            .collect()
    }
}
