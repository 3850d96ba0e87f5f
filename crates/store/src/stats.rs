//! Store statistics: what `papers stats` prints.

use serde::Serialize;

use crate::{Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Count {
    pub name: String,
    pub papers: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Distinct papers.
    pub papers: u64,
    /// Versions across all papers.
    pub versions: u64,
    /// Papers that have been in the daily feed.
    pub in_feed: u64,
    /// Upvotes, imported and cast here, over all papers.
    pub upvotes: u64,
    pub by_source: Vec<Count>,
    /// By primary category.
    pub by_category: Vec<Count>,
    /// Papers that entered the feed, per month (`YYYY-MM`).
    pub by_feed_month: Vec<Count>,
}

impl Store {
    /// How many papers the store holds.
    pub fn paper_count(&self) -> Result<u64, StoreError> {
        Ok(self
            .db
            .query_one("SELECT COUNT(*) FROM papers", &[])?
            .get::<i64>(0)?
            .max(0) as u64)
    }

    pub fn stats(&self) -> Result<Stats, StoreError> {
        let scalar = |sql: &str| -> Result<u64, StoreError> {
            Ok(self.db.query_one(sql, &[])?.get::<i64>(0)?.max(0) as u64)
        };
        Ok(Stats {
            papers: scalar("SELECT COUNT(*) FROM papers")?,
            versions: scalar("SELECT COUNT(*) FROM versions")?,
            in_feed: scalar("SELECT COUNT(*) FROM papers WHERE feed_day IS NOT NULL")?,
            upvotes: scalar(
                "SELECT CAST(COALESCE(SUM(COALESCE(source_upvotes, 0) + member_upvotes), 0) AS BIGINT) \
                 FROM papers",
            )?,
            by_source: self.counts(
                "SELECT source, COUNT(*) FROM paper_sources GROUP BY source ORDER BY 2 DESC, 1",
            )?,
            by_category: self.counts(
                "SELECT primary_category, COUNT(*) FROM papers WHERE primary_category IS NOT NULL \
                 GROUP BY primary_category ORDER BY 2 DESC, 1",
            )?,
            by_feed_month: self.counts(
                "SELECT substr(feed_day, 1, 7), COUNT(*) FROM papers WHERE feed_day IS NOT NULL \
                 GROUP BY 1 ORDER BY 1",
            )?,
        })
    }

    fn counts(&self, sql: &str) -> Result<Vec<Count>, StoreError> {
        self.db
            .query(sql, &[])?
            .into_iter()
            .map(|row| {
                Ok(Count {
                    name: row.get(0)?,
                    papers: row.get::<i64>(1)?.max(0) as u64,
                })
            })
            .collect()
    }
}
