//! Members' upvotes: one per member and paper, toggled, with the paper's count kept
//! exact by changing it in the same transaction as the vote row.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, TransactionBehavior, params};

use crate::codec::timestamp;
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
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let exists: Option<i64> = tx
            .prepare_cached("SELECT key FROM papers WHERE key = ?1")?
            .query_row(params![paper_key], |row| row.get(0))
            .optional()?;
        if exists.is_none() {
            return Ok(None);
        }
        let added = tx
            .prepare_cached(
                "INSERT OR IGNORE INTO votes (user_id, paper_key, at) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![user_id, paper_key, timestamp(Some(now))])?;
        let voted = if added == 1 {
            tx.prepare_cached(
                "UPDATE papers SET member_upvotes = member_upvotes + 1 WHERE key = ?1",
            )?
            .execute(params![paper_key])?;
            true
        } else {
            tx.prepare_cached("DELETE FROM votes WHERE user_id = ?1 AND paper_key = ?2")?
                .execute(params![user_id, paper_key])?;
            tx.prepare_cached(
                "UPDATE papers SET member_upvotes = MAX(member_upvotes - 1, 0) WHERE key = ?1",
            )?
            .execute(params![paper_key])?;
            false
        };
        let member_upvotes: i64 = tx
            .prepare_cached("SELECT member_upvotes FROM papers WHERE key = ?1")?
            .query_row(params![paper_key], |row| row.get(0))?;
        tx.commit()?;
        Ok(Some(VoteOutcome {
            voted,
            member_upvotes: u32::try_from(member_upvotes).unwrap_or(0),
        }))
    }

    /// Every paper the member upvotes.
    pub fn voted_keys(&self, user_id: i64) -> Result<HashSet<i64>, StoreError> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT paper_key FROM votes WHERE user_id = ?1")?;
        let keys = statement.query_map(params![user_id], |row| row.get::<_, i64>(0))?;
        keys.collect::<Result<_, _>>().map_err(StoreError::from)
    }

    /// The number of vote rows for a paper: what `member_upvotes` must equal.
    pub fn vote_rows(&self, paper_key: i64) -> Result<u64, StoreError> {
        let count: i64 = self
            .conn
            .prepare_cached("SELECT COUNT(*) FROM votes WHERE paper_key = ?1")?
            .query_row(params![paper_key], |row| row.get(0))?;
        Ok(count.max(0) as u64)
    }
}
