//! The digest sender's records (which period was mailed to whom, which papers each
//! address has seen) and the reads that compose a digest.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};

use crate::codec::timestamp;
use crate::db::{WriteOrder, args};
use crate::read::{PAPER_COLUMNS, paper_from_row};
use crate::{Store, StoreError, StoredPaper};

/// Where sending a subscription's digest for a period got to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendState {
    /// Claimed before the SMTP transaction and never marked sent: the sender stopped
    /// in between, or is still running.
    Sending {
        claimed_at: DateTime<Utc>,
    },
    Sent,
}

impl Store {
    /// The send state of every subscription that has one for `period_key`.
    pub fn digest_sends(&self, period_key: &str) -> Result<HashMap<i64, SendState>, StoreError> {
        let rows = self.db.query(
            "SELECT subscription_id, state, claimed_at FROM digest_sends WHERE period_key = ?1",
            args![period_key],
        )?;
        let mut states = HashMap::new();
        for row in rows {
            let id: i64 = row.get(0)?;
            let state: String = row.get(1)?;
            let claimed: Option<String> = row.get(2)?;
            let state = if state == "sent" {
                SendState::Sent
            } else {
                let claimed_at = crate::codec::parse_timestamp(period_key, claimed)?
                    .unwrap_or(DateTime::<Utc>::MIN_UTC);
                SendState::Sending { claimed_at }
            };
            states.insert(id, state);
        }
        Ok(states)
    }

    /// Records that the digest is about to go out. Returns false, writing nothing, when
    /// it was already sent; a `sending` row left by a stopped run is taken over.
    pub fn claim_digest_send(
        &self,
        subscription_id: i64,
        period_key: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let changed = self.db.execute(
            "INSERT INTO digest_sends (subscription_id, period_key, state, claimed_at) \
             VALUES (?1, ?2, 'sending', ?3) ON CONFLICT (subscription_id, period_key) \
             DO UPDATE SET claimed_at = excluded.claimed_at WHERE digest_sends.state = 'sending'",
            args![subscription_id, period_key, timestamp(Some(now))],
        )?;
        Ok(changed == 1)
    }

    /// Drops a claim whose message the server did not accept, so the next run retries.
    pub fn release_digest_send(
        &self,
        subscription_id: i64,
        period_key: &str,
    ) -> Result<(), StoreError> {
        self.db.execute(
            "DELETE FROM digest_sends WHERE subscription_id = ?1 AND period_key = ?2 \
             AND state = 'sending'",
            args![subscription_id, period_key],
        )?;
        Ok(())
    }

    /// Marks the digest sent and remembers its papers, in one transaction: either both
    /// are recorded or the claim stays `sending`.
    pub fn record_digest_sent(
        &mut self,
        subscription_id: i64,
        period_key: &str,
        message_id: &str,
        paper_keys: &[i64],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.db.transaction(WriteOrder::Concurrent, |db| {
            db.execute(
                "INSERT INTO digest_sends (subscription_id, period_key, state, message_id, \
                 claimed_at, sent_at) VALUES (?1, ?2, 'sent', ?3, ?4, ?4) \
                 ON CONFLICT (subscription_id, period_key) DO UPDATE SET state = 'sent', \
                 message_id = excluded.message_id, sent_at = excluded.sent_at",
                args![
                    subscription_id,
                    period_key,
                    message_id,
                    timestamp(Some(now))
                ],
            )?;
            for key in paper_keys {
                db.execute(
                    "INSERT INTO digest_papers (subscription_id, paper_key, period_key) \
                     VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
                    args![subscription_id, key, period_key],
                )?;
            }
            Ok(())
        })
    }

    /// Papers already mailed to the subscription, in any digest.
    pub fn digest_paper_keys(&self, subscription_id: i64) -> Result<HashSet<i64>, StoreError> {
        self.db
            .query(
                "SELECT paper_key FROM digest_papers WHERE subscription_id = ?1",
                args![subscription_id],
            )?
            .iter()
            .map(|row| row.get::<i64>(0))
            .collect()
    }

    /// Papers new in `[start, end)`: those that entered the daily feed then, and those
    /// first submitted to arXiv then. The feed alone would miss categories the
    /// community side never covers.
    pub fn papers_new_between(
        &self,
        start: NaiveDate,
        end: NaiveDate,
    ) -> Result<Vec<StoredPaper>, StoreError> {
        self.db
            .query(
                &format!(
                    "SELECT {PAPER_COLUMNS} FROM papers WHERE (feed_day >= ?1 AND feed_day < ?2) \
                     UNION SELECT {PAPER_COLUMNS} FROM papers \
                     WHERE published >= ?1 AND published < ?2 ORDER BY key"
                ),
                args![start.to_string(), end.to_string()],
            )?
            .into_iter()
            .map(paper_from_row)
            .collect()
    }

    /// Keys of every paper with a vector of `model`, ascending.
    pub fn embedding_keys(&self, model: &str) -> Result<Vec<i64>, StoreError> {
        self.db
            .query(
                "SELECT paper_key FROM embeddings WHERE model = ?1 ORDER BY paper_key",
                args![model],
            )?
            .iter()
            .map(|row| row.get::<i64>(0))
            .collect()
    }
}
