//! What the store holds about one member beyond the account row, read for the
//! member's data export: their votes and the papers they submitted through the site.
//! (Sessions are `Store::sessions_of`, subscriptions `Store::subscription_of_user`.)

use chrono::{DateTime, NaiveDate, Utc};

use crate::codec::{parse_day, parse_timestamp};
use crate::db::args;
use crate::{Store, StoreError};

/// A paper the member upvoted, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberVote {
    pub paper_id: String,
    pub title: String,
    pub at: Option<DateTime<Utc>>,
}

/// A paper the member put into the feed through the site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberSubmission {
    pub paper_id: String,
    pub title: String,
    pub feed_day: Option<NaiveDate>,
}

impl Store {
    /// The member's votes, oldest first.
    pub fn votes_of(&self, user_id: i64) -> Result<Vec<MemberVote>, StoreError> {
        self.db
            .query(
                "SELECT p.id, p.title, v.at FROM votes v JOIN papers p ON p.key = v.paper_key \
                 WHERE v.user_id = ?1 ORDER BY v.at, p.id",
                args![user_id],
            )?
            .iter()
            .map(|row| {
                let paper_id: String = row.get(0)?;
                Ok(MemberVote {
                    title: row.get(1)?,
                    at: parse_timestamp(&paper_id, row.get(2)?)?,
                    paper_id,
                })
            })
            .collect()
    }

    /// Papers submitted through the site under this username, by feed day. The same
    /// rule as deleting the account: the site is among the paper's sources and
    /// `submitted_by` is the name.
    pub fn submissions_of(&self, username: &str) -> Result<Vec<MemberSubmission>, StoreError> {
        self.db
            .query(
                "SELECT p.id, p.title, p.feed_day FROM papers p JOIN paper_sources s \
                 ON s.paper_key = p.key AND s.source = 'submitted' \
                 WHERE p.submitted_by = ?1 ORDER BY p.feed_day, p.id",
                args![username],
            )?
            .iter()
            .map(|row| {
                let paper_id: String = row.get(0)?;
                Ok(MemberSubmission {
                    title: row.get(1)?,
                    feed_day: parse_day(&paper_id, row.get(2)?)?,
                    paper_id,
                })
            })
            .collect()
    }
}
