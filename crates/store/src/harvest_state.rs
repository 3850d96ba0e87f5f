//! Where incremental harvesting stands, per source and set: the day the next
//! harvest starts at, and the list a harvest is paging through.
//!
//! The position moves in the same transaction that stores a page's records
//! ([`IngestBatch::record_harvest_page`]), so what is stored and where the harvest
//! stands never disagree: a node killed between two pages is continued from the next
//! page by whichever node harvests the set next, and nothing is fetched into the store
//! twice or skipped.

use chrono::{DateTime, NaiveDate, Utc};

use crate::codec::{day, parse_day, timestamp};
use crate::db::{Db, args};
use crate::{IngestBatch, Store, StoreError};

/// A list being paged: where it started and its next page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HarvestList {
    /// The list's OAI-PMH `from` day.
    pub from: NaiveDate,
    /// The server's day when the list began (its first `responseDate`): where the
    /// next harvest starts once this list is complete.
    pub started: NaiveDate,
    /// The token that fetches the list's next page.
    pub resumption_token: String,
}

/// The stored position of one source and set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HarvestState {
    pub name: String,
    /// The day the next harvest starts at (inclusive); `None` before the first
    /// complete harvest.
    pub next_from: Option<NaiveDate>,
    /// The list in progress, if a harvest stopped in the middle of one.
    pub list: Option<HarvestList>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// What one stored page means for the list it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageOutcome<'a> {
    /// More pages follow; `resumption_token` fetches the next.
    More {
        from: NaiveDate,
        started: NaiveDate,
        resumption_token: &'a str,
    },
    /// The list is complete: the next harvest starts at `started`.
    Complete { started: NaiveDate },
}

impl Store {
    /// The position of `name`, or `None` if it was never harvested.
    pub fn harvest_state(&self, name: &str) -> Result<Option<HarvestState>, StoreError> {
        let row = self.db.query_opt(
            "SELECT name, next_from, list_from, list_started, resumption_token, updated_at \
             FROM harvest_state WHERE name = ?1",
            args![name],
        )?;
        let Some(row) = row else {
            return Ok(None);
        };
        let list = match (
            parse_day(name, row.get(2)?)?,
            parse_day(name, row.get(3)?)?,
            row.get::<Option<String>>(4)?,
        ) {
            (Some(from), Some(started), Some(resumption_token)) => Some(HarvestList {
                from,
                started,
                resumption_token,
            }),
            _ => None,
        };
        Ok(Some(HarvestState {
            name: row.get(0)?,
            next_from: parse_day(name, row.get(1)?)?,
            list,
            updated_at: crate::codec::parse_timestamp(name, row.get(5)?)?,
        }))
    }

    /// Drops the list in progress (its resumption token expired or was refused), so
    /// the next harvest starts a new list from [`HarvestState::next_from`].
    pub fn abandon_harvest_list(&self, name: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.db.execute(
            "UPDATE harvest_state SET list_from = NULL, list_started = NULL, \
             resumption_token = NULL, updated_at = ?2 WHERE name = ?1",
            args![name, timestamp(Some(now))],
        )?;
        Ok(())
    }
}

impl IngestBatch<'_> {
    /// Records, in this batch's transaction, where harvesting `name` stands after the
    /// page whose records the batch holds.
    pub fn record_harvest_page(
        &mut self,
        name: &str,
        outcome: &PageOutcome<'_>,
    ) -> Result<(), StoreError> {
        write_position(self.db(), name, outcome, self.now())
    }
}

fn write_position(
    db: &Db,
    name: &str,
    outcome: &PageOutcome<'_>,
    now: &str,
) -> Result<(), StoreError> {
    match outcome {
        PageOutcome::More {
            from,
            started,
            resumption_token,
        } => db.execute(
            "INSERT INTO harvest_state (name, list_from, list_started, resumption_token, \
             updated_at) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (name) DO UPDATE SET \
             list_from = excluded.list_from, list_started = excluded.list_started, \
             resumption_token = excluded.resumption_token, updated_at = excluded.updated_at",
            args![
                name,
                day(Some(*from)),
                day(Some(*started)),
                *resumption_token,
                now
            ],
        )?,
        PageOutcome::Complete { started } => db.execute(
            "INSERT INTO harvest_state (name, next_from, updated_at) VALUES (?1, ?2, ?3) \
             ON CONFLICT (name) DO UPDATE SET next_from = excluded.next_from, \
             list_from = NULL, list_started = NULL, resumption_token = NULL, \
             updated_at = excluded.updated_at",
            args![name, day(Some(*started)), now],
        )?,
    };
    Ok(())
}
