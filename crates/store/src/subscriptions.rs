//! Digest subscriptions: one row per address, created or updated by a subscribe,
//! confirmed by the double opt-in link, kept (not deleted) on unsubscribe.
//!
//! The store holds addresses as already-normalised strings; parsing them is the digest
//! crate's job, which depends on the store and not the other way round.

use chrono::{DateTime, Utc};

use crate::codec::{corrupt, parse_timestamp, timestamp};
use crate::db::{Row, Value, WriteOrder, args};
use crate::{Corruption, Store, StoreError};

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

fn from_row(row: &Row) -> Result<Subscription, StoreError> {
    let email: String = row.get(1)?;
    let frequency: String = row.get(2)?;
    let status: String = row.get(6)?;
    let list = |index: usize| -> Result<Vec<String>, StoreError> {
        let text: String = row.get(index)?;
        serde_json::from_str(&text).map_err(|e| corrupt(&email, Corruption::List(e)))
    };
    Ok(Subscription {
        id: row.get(0)?,
        frequency: Frequency::parse(&frequency)
            .ok_or_else(|| corrupt(&email, Corruption::Frequency(frequency.clone())))?,
        categories: list(3)?,
        queries: list(4)?,
        user_id: row.get(5)?,
        status: SubscriptionStatus::parse(&status)
            .ok_or_else(|| corrupt(&email, Corruption::Status(status.clone())))?,
        created_at: parse_timestamp(&email, row.get(7)?)?
            .ok_or_else(|| corrupt(&email, Corruption::Missing("created_at")))?,
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
        self.db.transaction(WriteOrder::Concurrent, |db| {
            db.execute(
                "INSERT INTO subscriptions (email, frequency, categories, queries, user_id, status, \
                 created_at, token_nonce) VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?7) \
                 ON CONFLICT (email) DO UPDATE SET frequency = excluded.frequency, \
                 categories = excluded.categories, queries = excluded.queries, \
                 user_id = COALESCE(excluded.user_id, subscriptions.user_id), \
                 status = CASE subscriptions.status WHEN 'confirmed' THEN 'confirmed' \
                 ELSE 'pending' END, \
                 token_nonce = CASE subscriptions.status WHEN 'unsubscribed' \
                 THEN excluded.token_nonce ELSE subscriptions.token_nonce END",
                args![
                    new.email,
                    new.frequency.as_str(),
                    json_list(&new.categories),
                    json_list(&new.queries),
                    new.user_id,
                    timestamp(Some(now)),
                    new.token_nonce,
                ],
            )?;
            let row = db.query_one(
                &format!("SELECT {COLUMNS} FROM subscriptions WHERE email = ?1"),
                args![new.email],
            )?;
            from_row(&row)
        })
    }

    pub fn subscription(&self, id: i64) -> Result<Option<Subscription>, StoreError> {
        self.subscription_where("id = ?1", args![id])
    }

    pub fn subscription_by_email(&self, email: &str) -> Result<Option<Subscription>, StoreError> {
        self.subscription_where("email = ?1", args![email])
    }

    /// The subscription a member made while logged in, for the preferences page.
    pub fn subscription_of_user(&self, user_id: i64) -> Result<Option<Subscription>, StoreError> {
        self.subscription_where("user_id = ?1 ORDER BY id LIMIT 1", args![user_id])
    }

    fn subscription_where(
        &self,
        condition: &str,
        values: &[Value],
    ) -> Result<Option<Subscription>, StoreError> {
        self.db
            .query_opt(
                &format!("SELECT {COLUMNS} FROM subscriptions WHERE {condition}"),
                values,
            )?
            .as_ref()
            .map(from_row)
            .transpose()
    }

    /// Marks a pending subscription confirmed; returns whether it changed (a second
    /// click on the link changes nothing).
    pub fn confirm_subscription(&self, id: i64, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let changed = self.db.execute(
            "UPDATE subscriptions SET status = 'confirmed', confirmed_at = ?2 \
             WHERE id = ?1 AND status = 'pending'",
            args![id, timestamp(Some(now))],
        )?;
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
        let changed = self.db.execute(
            "UPDATE subscriptions SET status = 'unsubscribed', unsubscribed_at = ?2, \
             token_nonce = ?3 WHERE id = ?1 AND status != 'unsubscribed'",
            args![id, timestamp(Some(now)), new_nonce],
        )?;
        Ok(changed == 1)
    }

    /// Every confirmed subscription of a frequency, by id.
    pub fn confirmed_subscriptions(
        &self,
        frequency: Frequency,
    ) -> Result<Vec<Subscription>, StoreError> {
        self.db
            .query(
                &format!(
                    "SELECT {COLUMNS} FROM subscriptions WHERE status = 'confirmed' \
                     AND frequency = ?1 ORDER BY id"
                ),
                args![frequency.as_str()],
            )?
            .iter()
            .map(from_row)
            .collect()
    }
}
