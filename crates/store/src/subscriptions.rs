//! Digest subscriptions: one row per address, created or updated by a subscribe,
//! confirmed by the double opt-in link, kept (not deleted) on unsubscribe.
//!
//! The store holds addresses as already-normalised strings; parsing them is the digest
//! crate's job, which depends on the store and not the other way round.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Row, TransactionBehavior, params};

use crate::codec::{corrupt, parse_timestamp, timestamp};
use crate::{Store, StoreError};

/// How often a subscription gets a digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Frequency {
    Daily,
    Weekly,
}

impl Frequency {
    pub fn as_str(self) -> &'static str {
        match self {
            Frequency::Daily => "daily",
            Frequency::Weekly => "weekly",
        }
    }

    pub fn parse(text: &str) -> Option<Frequency> {
        match text {
            "daily" => Some(Frequency::Daily),
            "weekly" => Some(Frequency::Weekly),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriptionStatus {
    /// Subscribed, confirmation link not yet followed: never mailed a digest.
    Pending,
    Confirmed,
    Unsubscribed,
}

impl SubscriptionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SubscriptionStatus::Pending => "pending",
            SubscriptionStatus::Confirmed => "confirmed",
            SubscriptionStatus::Unsubscribed => "unsubscribed",
        }
    }

    fn parse(text: &str) -> Option<SubscriptionStatus> {
        match text {
            "pending" => Some(SubscriptionStatus::Pending),
            "confirmed" => Some(SubscriptionStatus::Confirmed),
            "unsubscribed" => Some(SubscriptionStatus::Unsubscribed),
            _ => None,
        }
    }
}

/// What a subscribe asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSubscription {
    /// Normalised (lowercase) address.
    pub email: String,
    pub frequency: Frequency,
    pub categories: Vec<String>,
    pub queries: Vec<String>,
    pub user_id: Option<i64>,
    /// Used only when the row is created, or when it was unsubscribed.
    pub token_nonce: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub id: i64,
    pub email: String,
    pub frequency: Frequency,
    pub categories: Vec<String>,
    pub queries: Vec<String>,
    pub user_id: Option<i64>,
    pub status: SubscriptionStatus,
    pub created_at: DateTime<Utc>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub unsubscribed_at: Option<DateTime<Utc>>,
    pub token_nonce: String,
}

const COLUMNS: &str = "id, email, frequency, categories, queries, user_id, status, created_at, \
     confirmed_at, unsubscribed_at, token_nonce";

fn from_row(row: &Row<'_>) -> Result<Subscription, StoreError> {
    let email: String = row.get(1)?;
    let frequency: String = row.get(2)?;
    let status: String = row.get(6)?;
    let list = |index: usize| -> Result<Vec<String>, StoreError> {
        let text: String = row.get(index)?;
        serde_json::from_str(&text).map_err(|e| corrupt(&email, format!("subscription list: {e}")))
    };
    Ok(Subscription {
        id: row.get(0)?,
        frequency: Frequency::parse(&frequency)
            .ok_or_else(|| corrupt(&email, format!("frequency {frequency:?}")))?,
        categories: list(3)?,
        queries: list(4)?,
        user_id: row.get(5)?,
        status: SubscriptionStatus::parse(&status)
            .ok_or_else(|| corrupt(&email, format!("status {status:?}")))?,
        created_at: parse_timestamp(&email, row.get(7)?)?
            .ok_or_else(|| corrupt(&email, "missing created_at".to_owned()))?,
        confirmed_at: parse_timestamp(&email, row.get(8)?)?,
        unsubscribed_at: parse_timestamp(&email, row.get(9)?)?,
        token_nonce: row.get(10)?,
        email,
    })
}

fn json_list(list: &[String]) -> String {
    serde_json::to_string(list).unwrap_or_else(|_| "[]".to_owned())
}

impl Store {
    /// Creates the subscription, or updates the one the address already has: a
    /// confirmed address stays confirmed with the new preferences, any other goes
    /// (back) to pending and must confirm again. A member link, once made, is kept
    /// when a later anonymous subscribe does not name a member.
    pub fn upsert_subscription(
        &mut self,
        new: &NewSubscription,
        now: DateTime<Utc>,
    ) -> Result<Subscription, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.prepare_cached(
            "INSERT INTO subscriptions (email, frequency, categories, queries, user_id, status, \
             created_at, token_nonce) VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?7) \
             ON CONFLICT (email) DO UPDATE SET frequency = excluded.frequency, \
             categories = excluded.categories, queries = excluded.queries, \
             user_id = COALESCE(excluded.user_id, user_id), \
             status = CASE status WHEN 'confirmed' THEN 'confirmed' ELSE 'pending' END, \
             token_nonce = CASE status WHEN 'unsubscribed' THEN excluded.token_nonce ELSE token_nonce END",
        )?
        .execute(params![
            new.email,
            new.frequency.as_str(),
            json_list(&new.categories),
            json_list(&new.queries),
            new.user_id,
            timestamp(Some(now)),
            new.token_nonce,
        ])?;
        let stored = tx
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM subscriptions WHERE email = ?1"
            ))?
            .query_row(params![new.email], |row| Ok(from_row(row)))??;
        tx.commit()?;
        Ok(stored)
    }

    pub fn subscription(&self, id: i64) -> Result<Option<Subscription>, StoreError> {
        self.subscription_where("id = ?1", params![id])
    }

    pub fn subscription_by_email(&self, email: &str) -> Result<Option<Subscription>, StoreError> {
        self.subscription_where("email = ?1", params![email])
    }

    /// The subscription a member made while logged in, for the preferences page.
    pub fn subscription_of_user(&self, user_id: i64) -> Result<Option<Subscription>, StoreError> {
        self.subscription_where("user_id = ?1 ORDER BY id LIMIT 1", params![user_id])
    }

    fn subscription_where(
        &self,
        condition: &str,
        values: impl rusqlite::Params,
    ) -> Result<Option<Subscription>, StoreError> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM subscriptions WHERE {condition}"
            ))?
            .query_row(values, |row| Ok(from_row(row)))
            .optional()?
            .transpose()
    }

    /// Marks a pending subscription confirmed; returns whether it changed (a second
    /// click on the link changes nothing).
    pub fn confirm_subscription(&self, id: i64, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let changed = self
            .conn
            .prepare_cached(
                "UPDATE subscriptions SET status = 'confirmed', confirmed_at = ?2 \
                 WHERE id = ?1 AND status = 'pending'",
            )?
            .execute(params![id, timestamp(Some(now))])?;
        Ok(changed == 1)
    }

    /// Stops digests to the subscription and replaces its token nonce; returns whether
    /// it changed (one-click clients may POST twice).
    pub fn unsubscribe_subscription(
        &self,
        id: i64,
        new_nonce: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let changed = self
            .conn
            .prepare_cached(
                "UPDATE subscriptions SET status = 'unsubscribed', unsubscribed_at = ?2, \
                 token_nonce = ?3 WHERE id = ?1 AND status != 'unsubscribed'",
            )?
            .execute(params![id, timestamp(Some(now)), new_nonce])?;
        Ok(changed == 1)
    }

    /// Every confirmed subscription of a frequency, by id.
    pub fn confirmed_subscriptions(
        &self,
        frequency: Frequency,
    ) -> Result<Vec<Subscription>, StoreError> {
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM subscriptions WHERE status = 'confirmed' AND frequency = ?1 ORDER BY id"
        ))?;
        let mut rows = statement.query(params![frequency.as_str()])?;
        let mut found = Vec::new();
        while let Some(row) = rows.next()? {
            found.push(from_row(row)?);
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 1, 3, 12, 0, 0)
            .single()
            .expect("valid time")
    }

    fn new(frequency: Frequency, nonce: &str, user_id: Option<i64>) -> NewSubscription {
        NewSubscription {
            email: "alice@example.org".to_owned(),
            frequency,
            categories: vec!["cs.CL".to_owned()],
            queries: vec!["diffusion".to_owned()],
            user_id,
            token_nonce: nonce.to_owned(),
        }
    }

    #[test]
    fn one_row_per_address_through_confirm_unsubscribe_and_return() {
        let dir = tempfile::TempDir::new().expect("temp dir");
        let mut store = Store::open(dir.path()).expect("store");
        let first = store
            .upsert_subscription(&new(Frequency::Daily, "n1", Some(4)), now())
            .expect("insert");
        assert_eq!(
            (first.status, first.token_nonce.as_str()),
            (SubscriptionStatus::Pending, "n1")
        );
        assert_eq!(first.queries, ["diffusion"]);
        assert!(
            store
                .confirm_subscription(first.id, now())
                .expect("confirm")
        );
        assert!(!store.confirm_subscription(first.id, now()).expect("twice"));

        // A confirmed address keeps its status, nonce and member link.
        let updated = store
            .upsert_subscription(&new(Frequency::Weekly, "n2", None), now())
            .expect("update");
        assert_eq!(updated.id, first.id);
        assert_eq!(
            (
                updated.status,
                updated.frequency,
                updated.token_nonce.as_str(),
                updated.user_id
            ),
            (
                SubscriptionStatus::Confirmed,
                Frequency::Weekly,
                "n1",
                Some(4)
            )
        );

        assert!(
            store
                .unsubscribe_subscription(first.id, "n3", now())
                .expect("unsubscribe")
        );
        assert!(
            !store
                .unsubscribe_subscription(first.id, "n4", now())
                .expect("twice")
        );
        assert_eq!(
            store
                .subscription(first.id)
                .expect("read")
                .map(|s| s.token_nonce),
            Some("n3".to_owned())
        );
        assert!(
            store
                .confirmed_subscriptions(Frequency::Weekly)
                .expect("read")
                .is_empty()
        );

        // Coming back means confirming again, with a fresh nonce.
        let back = store
            .upsert_subscription(&new(Frequency::Daily, "n5", None), now())
            .expect("return");
        assert_eq!(
            (back.id, back.status, back.token_nonce.as_str()),
            (first.id, SubscriptionStatus::Pending, "n5")
        );
        assert_eq!(
            store.subscription_of_user(4).expect("read").map(|s| s.id),
            Some(first.id)
        );
    }
}
