//! The digest sender's records (which period was mailed to whom, which papers each
//! address has seen) and the reads that compose a digest.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{TransactionBehavior, params};

use crate::codec::timestamp;
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
        let mut statement = self.conn.prepare_cached(
            "SELECT subscription_id, state, claimed_at FROM digest_sends WHERE period_key = ?1",
        )?;
        let mut rows = statement.query(params![period_key])?;
        let mut states = HashMap::new();
        while let Some(row) = rows.next()? {
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
        let changed = self
            .conn
            .prepare_cached(
                "INSERT INTO digest_sends (subscription_id, period_key, state, claimed_at) \
                 VALUES (?1, ?2, 'sending', ?3) ON CONFLICT (subscription_id, period_key) \
                 DO UPDATE SET claimed_at = excluded.claimed_at WHERE state = 'sending'",
            )?
            .execute(params![subscription_id, period_key, timestamp(Some(now))])?;
        Ok(changed == 1)
    }

    /// Drops a claim whose message the server did not accept, so the next run retries.
    pub fn release_digest_send(
        &self,
        subscription_id: i64,
        period_key: &str,
    ) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "DELETE FROM digest_sends WHERE subscription_id = ?1 AND period_key = ?2 \
                 AND state = 'sending'",
            )?
            .execute(params![subscription_id, period_key])?;
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
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.prepare_cached(
            "INSERT INTO digest_sends (subscription_id, period_key, state, message_id, claimed_at, sent_at) \
             VALUES (?1, ?2, 'sent', ?3, ?4, ?4) ON CONFLICT (subscription_id, period_key) \
             DO UPDATE SET state = 'sent', message_id = excluded.message_id, sent_at = excluded.sent_at",
        )?
        .execute(params![subscription_id, period_key, message_id, timestamp(Some(now))])?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT OR IGNORE INTO digest_papers (subscription_id, paper_key, period_key) \
                 VALUES (?1, ?2, ?3)",
            )?;
            for key in paper_keys {
                insert.execute(params![subscription_id, key, period_key])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Papers already mailed to the subscription, in any digest.
    pub fn digest_paper_keys(&self, subscription_id: i64) -> Result<HashSet<i64>, StoreError> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT paper_key FROM digest_papers WHERE subscription_id = ?1")?;
        let keys = statement.query_map(params![subscription_id], |row| row.get::<_, i64>(0))?;
        keys.collect::<Result<_, _>>().map_err(StoreError::from)
    }

    /// Papers new in `[start, end)`: those that entered the daily feed then, and those
    /// first submitted to arXiv then. The feed alone would miss categories the
    /// community side never covers.
    pub fn papers_new_between(
        &self,
        start: NaiveDate,
        end: NaiveDate,
    ) -> Result<Vec<StoredPaper>, StoreError> {
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT {PAPER_COLUMNS} FROM papers WHERE (feed_day >= ?1 AND feed_day < ?2) \
             UNION SELECT {PAPER_COLUMNS} FROM papers WHERE published >= ?1 AND published < ?2 \
             ORDER BY key"
        ))?;
        let mut rows = statement.query(params![start.to_string(), end.to_string()])?;
        let mut papers = Vec::new();
        while let Some(row) = rows.next()? {
            papers.push(paper_from_row(row)?);
        }
        Ok(papers)
    }

    /// Keys of every paper with a vector of `model`, ascending.
    pub fn embedding_keys(&self, model: &str) -> Result<Vec<i64>, StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT paper_key FROM embeddings WHERE model = ?1 ORDER BY paper_key",
        )?;
        let keys = statement.query_map(params![model], |row| row.get::<_, i64>(0))?;
        keys.collect::<Result<_, _>>().map_err(StoreError::from)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::{Frequency, NewSubscription};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 1, 3, 12, 0, 0)
            .single()
            .expect("valid time")
    }

    fn store_with_subscription() -> (tempfile::TempDir, Store, i64) {
        let dir = tempfile::TempDir::new().expect("temp dir");
        let mut store = Store::open(dir.path()).expect("store");
        let new = NewSubscription {
            email: "alice@example.org".to_owned(),
            frequency: Frequency::Daily,
            categories: Vec::new(),
            queries: Vec::new(),
            user_id: None,
            token_nonce: "n1".to_owned(),
        };
        let id = store.upsert_subscription(&new, now()).expect("insert").id;
        (dir, store, id)
    }

    #[test]
    fn a_claim_is_taken_once_sent_and_released_only_while_sending() {
        let (_dir, mut store, id) = store_with_subscription();
        let key = "daily:2024-01-02";
        assert!(store.claim_digest_send(id, key, now()).expect("claim"));
        // A stopped run's claim is taken over.
        assert!(
            store
                .claim_digest_send(id, key, now())
                .expect("claim again")
        );
        assert!(matches!(
            store.digest_sends(key).expect("read").get(&id),
            Some(SendState::Sending { .. })
        ));
        store.release_digest_send(id, key).expect("release");
        assert!(store.digest_sends(key).expect("read").is_empty());

        assert!(store.claim_digest_send(id, key, now()).expect("claim"));
        store
            .record_digest_sent(id, key, "<m@x>", &[], now())
            .expect("record");
        assert_eq!(
            store.digest_sends(key).expect("read").get(&id),
            Some(&SendState::Sent)
        );
        assert!(
            !store
                .claim_digest_send(id, key, now())
                .expect("sent stays sent")
        );
        store.release_digest_send(id, key).expect("no-op");
        assert_eq!(
            store.digest_sends(key).expect("read").get(&id),
            Some(&SendState::Sent)
        );
    }

    #[test]
    fn sent_papers_accumulate_across_periods() {
        let (_dir, mut store, id) = store_with_subscription();
        let mut batch = store.begin_ingest(now()).expect("batch");
        for id in ["2401.00001", "2401.00002"] {
            batch
                .upsert(papers_core::PaperRecord {
                    id: papers_core::ArxivId::parse(id).expect("id"),
                    source: papers_core::Source::Kaggle,
                    metadata: papers_core::Metadata {
                        title: format!("Paper {id}"),
                        ..papers_core::Metadata::default()
                    },
                    community: None,
                })
                .expect("upsert");
        }
        batch.commit().expect("commit");
        store
            .record_digest_sent(id, "daily:2024-01-02", "<a@x>", &[1], now())
            .expect("first");
        store
            .record_digest_sent(id, "daily:2024-01-03", "<b@x>", &[1, 2], now())
            .expect("second");
        let keys = store.digest_paper_keys(id).expect("read");
        assert_eq!(keys, HashSet::from([1, 2]));
    }
}
