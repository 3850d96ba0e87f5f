//! Listings the web layer needs beyond the feed periods: all papers by key (keyset
//! pagination), a submitter's or an organisation's papers over all time, a feed over
//! an arbitrary day range, and the categories present in a range.

use chrono::NaiveDate;

use crate::db::{ToValue, Value, args};
use crate::read::{PAPER_COLUMNS, paper_from_row};
use crate::{Store, StoreError, StoredPaper};

/// Whose papers a community listing shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListingOwner<'a> {
    Submitter(&'a str),
    Organization(&'a str),
}

impl Store {
    /// Papers with a key greater than `after`, in key order: stable keyset pages over
    /// the whole store that new papers never shift.
    pub fn papers_after(&self, after: i64, limit: usize) -> Result<Vec<StoredPaper>, StoreError> {
        self.db
            .query(
                &format!("SELECT {PAPER_COLUMNS} FROM papers WHERE key > ?1 ORDER BY key LIMIT ?2"),
                args![after, limit],
            )?
            .into_iter()
            .map(paper_from_row)
            .collect()
    }

    /// A submitter's or organisation's feed papers, newest feed day first, and how many
    /// there are in all.
    pub fn community_papers(
        &self,
        who: &ListingOwner<'_>,
        offset: usize,
        limit: usize,
    ) -> Result<(Vec<StoredPaper>, usize), StoreError> {
        let (column, name) = match who {
            ListingOwner::Submitter(name) => ("submitted_by", *name),
            ListingOwner::Organization(name) => ("organization", *name),
        };
        let total: i64 = self
            .db
            .query_one(
                &format!("SELECT COUNT(*) FROM papers WHERE {column} = ?1"),
                args![name],
            )?
            .get(0)?;
        let papers = self.db.query(
            &format!(
                "SELECT {PAPER_COLUMNS} FROM papers WHERE {column} = ?1 \
             ORDER BY feed_day DESC, COALESCE(source_upvotes, 0) + member_upvotes DESC, key \
             LIMIT ?2 OFFSET ?3"
            ),
            args![name, limit, offset],
        )?;
        let papers = papers
            .into_iter()
            .map(paper_from_row)
            .collect::<Result<_, _>>()?;
        Ok((papers, total.max(0) as usize))
    }

    /// Feed papers whose feed day is in `[start, end)`, optionally in one category,
    /// most upvoted first. Ranking by anything else is the caller's business.
    pub fn feed_range(
        &self,
        start: NaiveDate,
        end: NaiveDate,
        category: Option<&str>,
    ) -> Result<Vec<StoredPaper>, StoreError> {
        let mut sql =
            format!("SELECT {PAPER_COLUMNS} FROM papers WHERE feed_day >= ? AND feed_day < ?");
        let mut values = vec![start.to_string(), end.to_string()];
        if let Some(category) = category {
            sql.push_str(" AND key IN (SELECT paper_key FROM paper_categories WHERE category = ?)");
            values.push(category.to_owned());
        }
        sql.push_str(
            " ORDER BY COALESCE(source_upvotes, 0) + member_upvotes DESC, published DESC, key",
        );
        let values: Vec<Value> = values.iter().map(ToValue::to_value).collect();
        self.db
            .query(&sql, &values)?
            .into_iter()
            .map(paper_from_row)
            .collect()
    }

    /// Categories (primary and cross-listed) of the feed papers in `[start, end)`, most frequent first.
    pub fn feed_categories(
        &self,
        start: NaiveDate,
        end: NaiveDate,
    ) -> Result<Vec<(String, u64)>, StoreError> {
        self.db.query(
            "SELECT c.category, COUNT(*) FROM papers p JOIN paper_categories c ON c.paper_key = p.key \
             WHERE p.feed_day >= ?1 AND p.feed_day < ?2 GROUP BY c.category ORDER BY 2 DESC, 1",
            args![start.to_string(), end.to_string()],
        )?
        .into_iter()
        .map(|row| Ok((row.get::<String>(0)?, row.get::<i64>(1)?.max(0) as u64)))
        .collect()
    }
}
