//! "New on arXiv": every stored paper by the day its first version appeared (its
//! `published` date, the arXiv announcement's submission day), newest first, optionally
//! within one category. An arxiv-sanity view of the same store as the daily feed, which
//! stays what members submit and upvote.

use chrono::NaiveDate;

use crate::db::{ToValue, Value};
use crate::read::{PAPER_COLUMNS, paper_from_row};
use crate::{Store, StoreError, StoredPaper};

/// One page of one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPapers {
    pub papers: Vec<StoredPaper>,
    /// Papers on the whole day (in the category, if one was asked for).
    pub total: usize,
    /// The nearest days with papers before and after it.
    pub previous_day: Option<NaiveDate>,
    pub next_day: Option<NaiveDate>,
}

/// `published >= day AND published < day + 1`: RFC 3339 UTC text sorts as time does
/// (`C` collation on PostgreSQL), so the day is a range on the `published` index.
fn day_bounds(day: NaiveDate) -> (String, String) {
    let next = day.succ_opt().unwrap_or(day);
    (day.to_string(), next.to_string())
}

fn category_filter(category: Option<&str>) -> &'static str {
    if category.is_some() {
        " AND key IN (SELECT paper_key FROM paper_categories WHERE category = ?3)"
    } else {
        ""
    }
}

impl Store {
    /// The most recent day a stored paper (in `category`) first appeared.
    pub fn latest_new_day(&self, category: Option<&str>) -> Result<Option<NaiveDate>, StoreError> {
        let sql = match category {
            Some(_) => {
                "SELECT MAX(published) FROM papers WHERE published IS NOT NULL AND key IN \
                 (SELECT paper_key FROM paper_categories WHERE category = ?1)"
            }
            None => "SELECT MAX(published) FROM papers WHERE published IS NOT NULL",
        };
        let values: Vec<Value> = category.iter().map(|c| c.to_value()).collect();
        let latest: Option<String> = self.db.query_one(sql, &values)?.get(0)?;
        Ok(latest.and_then(|text| text.get(..10).and_then(|day| day.parse().ok())))
    }

    /// The papers that first appeared on `day` (in `category`), newest first, from
    /// `offset`, at most `limit`.
    pub fn new_papers(
        &self,
        day: NaiveDate,
        category: Option<&str>,
        offset: usize,
        limit: usize,
    ) -> Result<NewPapers, StoreError> {
        let (start, end) = day_bounds(day);
        let filter = category_filter(category);
        let mut values: Vec<Value> = vec![start.to_value(), end.to_value()];
        if let Some(category) = category {
            values.push(category.to_value());
        }
        let total: i64 = self
            .db
            .query_one(
                &format!(
                    "SELECT COUNT(*) FROM papers WHERE published >= ?1 AND published < ?2{filter}"
                ),
                &values,
            )?
            .get(0)?;
        let limit_at = values.len() + 1;
        let mut page_values = values.clone();
        page_values.push(i64::try_from(limit).unwrap_or(i64::MAX).to_value());
        page_values.push(i64::try_from(offset).unwrap_or(i64::MAX).to_value());
        let sql = format!(
            "SELECT {PAPER_COLUMNS} FROM papers WHERE published >= ?1 AND published < ?2{filter} \
             ORDER BY published DESC, id DESC LIMIT ?{limit_at} OFFSET ?{}",
            limit_at + 1
        );
        let mut papers = Vec::new();
        self.db.for_each(&sql, &page_values, |row| {
            papers.push(paper_from_row(row)?);
            Ok(())
        })?;
        let previous: Option<String> = self
            .db
            .query_one(
                &format!("SELECT MAX(published) FROM papers WHERE published < ?1{}", {
                    if category.is_some() {
                        " AND key IN (SELECT paper_key FROM paper_categories WHERE category = ?2)"
                    } else {
                        ""
                    }
                }),
                &match category {
                    Some(category) => vec![start.to_value(), category.to_value()],
                    None => vec![start.to_value()],
                },
            )?
            .get(0)?;
        let next: Option<String> = self
            .db
            .query_one(
                &format!("SELECT MIN(published) FROM papers WHERE published >= ?1{}", {
                    if category.is_some() {
                        " AND key IN (SELECT paper_key FROM paper_categories WHERE category = ?2)"
                    } else {
                        ""
                    }
                }),
                &match category {
                    Some(category) => vec![end.to_value(), category.to_value()],
                    None => vec![end.to_value()],
                },
            )?
            .get(0)?;
        let as_day = |text: Option<String>| text.and_then(|t| t.get(..10)?.parse().ok());
        Ok(NewPapers {
            papers,
            total: usize::try_from(total).unwrap_or(0),
            previous_day: as_day(previous),
            next_day: as_day(next),
        })
    }
}
