//! For you's private signals: a member's "more like this" / "less like this" on papers
//! (one per member and paper, seen by nobody else), and the categories a member picks
//! on `/for-you` for a cold start, before they have upvoted, saved or rated anything.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::codec::timestamp;
use crate::db::{WriteOrder, args};
use crate::{Store, StoreError};

impl Store {
    /// Sets the member's signal on a paper: `more` true for "more like this", false for
    /// "less like this"; a later call replaces an earlier one.
    pub fn set_feedback(
        &self,
        user_id: i64,
        paper_key: i64,
        more: bool,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.db.execute(
            "INSERT INTO paper_feedback (user_id, paper_key, more, at) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (user_id, paper_key) DO UPDATE SET more = excluded.more, at = excluded.at",
            args![user_id, paper_key, i64::from(more), timestamp(Some(now))],
        )?;
        Ok(())
    }

    /// Clears the member's signal on a paper; false when there was none.
    pub fn clear_feedback(&self, user_id: i64, paper_key: i64) -> Result<bool, StoreError> {
        let removed = self.db.execute(
            "DELETE FROM paper_feedback WHERE user_id = ?1 AND paper_key = ?2",
            args![user_id, paper_key],
        )?;
        Ok(removed == 1)
    }

    /// The member's signals by paper key: true "more like this", false "less".
    pub fn feedback_of(&self, user_id: i64) -> Result<HashMap<i64, bool>, StoreError> {
        self.db
            .query(
                "SELECT paper_key, more FROM paper_feedback WHERE user_id = ?1",
                args![user_id],
            )?
            .iter()
            .map(|row| Ok((row.get::<i64>(0)?, row.get::<i64>(1)? != 0)))
            .collect()
    }

    /// The member's signals with the papers' ids and when, newest first (their export).
    pub fn feedback_by(&self, user_id: i64) -> Result<Vec<(String, bool, String)>, StoreError> {
        self.db
            .query(
                "SELECT p.id, f.more, f.at FROM paper_feedback f JOIN papers p \
                 ON p.key = f.paper_key WHERE f.user_id = ?1 ORDER BY f.at DESC, p.id",
                args![user_id],
            )?
            .iter()
            .map(|row| Ok((row.get(0)?, row.get::<i64>(1)? != 0, row.get(2)?)))
            .collect()
    }

    /// The categories the member picked, sorted.
    pub fn picked_categories(&self, user_id: i64) -> Result<Vec<String>, StoreError> {
        self.db
            .query(
                "SELECT category FROM picked_categories WHERE user_id = ?1 ORDER BY category",
                args![user_id],
            )?
            .iter()
            .map(|row| row.get::<String>(0))
            .collect()
    }

    /// Replaces the member's picked categories with `categories` (in one transaction).
    pub fn set_picked_categories(
        &self,
        user_id: i64,
        categories: &[String],
    ) -> Result<(), StoreError> {
        self.db.transaction(WriteOrder::Concurrent, |db| {
            db.execute(
                "DELETE FROM picked_categories WHERE user_id = ?1",
                args![user_id],
            )?;
            for category in categories {
                db.execute(
                    "INSERT INTO picked_categories (user_id, category) VALUES (?1, ?2) \
                     ON CONFLICT DO NOTHING",
                    args![user_id, category.as_str()],
                )?;
            }
            Ok(())
        })
    }
}
