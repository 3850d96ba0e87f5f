//! Members' upvotes: one per member and paper, toggled, with the paper's count kept
//! exact by changing it in the same transaction as the vote row.

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use crate::codec::timestamp;
use crate::db::{WriteOrder, args};
use crate::{Store, StoreError};

/// The state after a toggle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VoteOutcome {
    /// Whether the member now upvotes the paper.
    pub voted: bool,
    /// The paper's member upvotes after the change.
    pub member_upvotes: u32,
}

impl Store {
    /// Adds the member's upvote if absent, removes it if present. Returns `None` when
    /// the paper does not exist. The write lock is taken up front (`IMMEDIATE`), so
    /// concurrent toggles serialize instead of failing on lock upgrade.
    pub fn toggle_vote(
        &mut self,
        user_id: i64,
        paper_key: i64,
        now: DateTime<Utc>,
    ) -> Result<Option<VoteOutcome>, StoreError> {
        self.db.transaction(WriteOrder::Concurrent, |db| {
            // Locks the paper row on PostgreSQL, so toggles of one paper serialize.
            let exists = db.query_opt(
                "UPDATE papers SET member_upvotes = member_upvotes WHERE key = ?1 RETURNING key",
                args![paper_key],
            )?;
            if exists.is_none() {
                return Ok(None);
            }
            let added = db.execute(
                "INSERT INTO votes (user_id, paper_key, at) VALUES (?1, ?2, ?3) \
                 ON CONFLICT DO NOTHING",
                args![user_id, paper_key, timestamp(Some(now))],
            )?;
            let voted = if added == 1 {
                db.execute(
                    "UPDATE papers SET member_upvotes = member_upvotes + 1 WHERE key = ?1",
                    args![paper_key],
                )?;
                true
            } else {
                db.execute(
                    "DELETE FROM votes WHERE user_id = ?1 AND paper_key = ?2",
                    args![user_id, paper_key],
                )?;
                db.execute(
                    "UPDATE papers SET member_upvotes = \
                     CASE WHEN member_upvotes > 0 THEN member_upvotes - 1 ELSE 0 END WHERE key = ?1",
                    args![paper_key],
                )?;
                false
            };
            db.execute("UPDATE vote_clock SET ticks = ticks + 1", &[])?;
            let member_upvotes: i64 = db
                .query_one(
                    "SELECT member_upvotes FROM papers WHERE key = ?1",
                    args![paper_key],
                )?
                .get(0)?;
            Ok(Some(VoteOutcome {
                voted,
                member_upvotes: u32::try_from(member_upvotes).unwrap_or(0),
            }))
        })
    }

    /// What readers see changes when either number does: the last paper change and
    /// the vote clock. Nodes poll it to know when their rendered pages are stale.
    pub fn data_version(&self) -> Result<(i64, i64), StoreError> {
        let row = self.db.query_one(
            "SELECT (SELECT COALESCE(MAX(seq), 0) FROM changes), \
             (SELECT COALESCE(MAX(ticks), 0) FROM vote_clock)",
            &[],
        )?;
        Ok((row.get(0)?, row.get(1)?))
    }

    /// Every paper the member upvotes.
    pub fn voted_keys(&self, user_id: i64) -> Result<HashSet<i64>, StoreError> {
        self.db
            .query(
                "SELECT paper_key FROM votes WHERE user_id = ?1",
                args![user_id],
            )?
            .iter()
            .map(|row| row.get::<i64>(0))
            .collect()
    }

    /// The number of vote rows for a paper: what `member_upvotes` must equal.
    pub fn vote_rows(&self, paper_key: i64) -> Result<u64, StoreError> {
        let count: i64 = self
            .db
            .query_one(
                "SELECT COUNT(*) FROM votes WHERE paper_key = ?1",
                args![paper_key],
            )?
            .get(0)?;
        Ok(count.max(0) as u64)
    }
}
