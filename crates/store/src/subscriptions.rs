//! Digest subscriptions: one row per address, started by a subscribe, confirmed by the
//! double opt-in link, changed only by its owner (through a mailed manage link, or a
//! member whose verified address it is), kept (not deleted) on unsubscribe.
//!
//! The store holds addresses as already-normalised strings; parsing them is the digest
//! crate's job, which depends on the store and not the other way round.

use chrono::{DateTime, Duration, Utc};

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
    /// The member to link the subscription to; only ever the address's verified owner.
    pub user_id: Option<i64>,
    /// Confirmation-link nonce, used only when a subscription starts (a new row, or
    /// a row that had unsubscribed).
    pub token_nonce: String,
    /// Manage, unsubscribe and preview-link nonce, used only when a subscription
    /// starts.
    pub link_nonce: String,
}

/// What a subscription's owner may change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preferences {
    pub frequency: Frequency,
    pub categories: Vec<String>,
    pub queries: Vec<String>,
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
    /// Signs confirmation links; replaced on unsubscribe and when a subscription starts.
    pub token_nonce: String,
    /// Signs manage, unsubscribe and preview links; replaced only when a subscription
    /// starts again after an unsubscribe ('' on rows older than the column).
    pub link_nonce: String,
}

/// What a subscribe request from someone other than the owner did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionRequest {
    pub subscription: Subscription,
    /// A subscription started: the address was new, or had unsubscribed, and is now
    /// pending with the request's preferences. Otherwise the address already had a
    /// pending or confirmed subscription, which the request left as it was.
    pub started: bool,
    /// The request took the address's mail slot: no confirmation or manage mail went
    /// to it within the interval, and `mailed_at` is now the request's time. False
    /// means the caller must not mail.
    pub may_mail: bool,
}

const COLUMNS: &str = "id, email, frequency, categories, queries, user_id, status, created_at, \
     confirmed_at, unsubscribed_at, token_nonce, link_nonce";

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
        link_nonce: row.get(11)?,
        email,
    })
}

fn json_list(list: &[String]) -> String {
    serde_json::to_string(list).unwrap_or_else(|_| "[]".to_owned())
}

impl Store {
    /// A subscribe request from anyone (no proof of owning the address). A new
    /// address, or one that had unsubscribed, starts a pending subscription with the
    /// request's preferences and fresh nonces; an address with a pending or confirmed
    /// subscription is left exactly as it was, so a stranger cannot change what its
    /// owner gets. Either way the request then takes the address's mail slot if no
    /// confirmation or manage mail went to it since `now - mail_interval`.
    pub fn request_subscription(
        &mut self,
        new: &NewSubscription,
        now: DateTime<Utc>,
        mail_interval: Duration,
    ) -> Result<SubscriptionRequest, StoreError> {
        let at = timestamp(Some(now));
        let mailed_before = timestamp(Some(now - mail_interval));
        self.db.transaction(WriteOrder::Concurrent, |db| {
            let inserted = db.execute(
                "INSERT INTO subscriptions (email, frequency, categories, queries, user_id, status, \
                 created_at, token_nonce, link_nonce) \
                 VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?7, ?8) \
                 ON CONFLICT (email) DO NOTHING",
                args![
                    new.email,
                    new.frequency.as_str(),
                    json_list(&new.categories),
                    json_list(&new.queries),
                    new.user_id,
                    at,
                    new.token_nonce,
                    new.link_nonce,
                ],
            )? == 1;
            // A return after unsubscribing is a new subscription: new nonces, so the
            // links of the previous one (unsubscribe links in old digests included)
            // stop working.
            let restarted = !inserted
                && db.execute(
                    "UPDATE subscriptions SET frequency = ?2, categories = ?3, queries = ?4, \
                     user_id = COALESCE(?5, user_id), status = 'pending', confirmed_at = NULL, \
                     token_nonce = ?6, link_nonce = ?7 \
                     WHERE email = ?1 AND status = 'unsubscribed'",
                    args![
                        new.email,
                        new.frequency.as_str(),
                        json_list(&new.categories),
                        json_list(&new.queries),
                        new.user_id,
                        new.token_nonce,
                        new.link_nonce,
                    ],
                )? == 1;
            // One statement, so two requests at once (on one node or two) cannot both
            // see the slot free: the second waits for the first's row lock and then
            // re-checks the condition.
            let may_mail = db.execute(
                "UPDATE subscriptions SET mailed_at = ?2 \
                 WHERE email = ?1 AND (mailed_at IS NULL OR mailed_at <= ?3)",
                args![new.email, at, mailed_before],
            )? == 1;
            let row = db.query_one(
                &format!("SELECT {COLUMNS} FROM subscriptions WHERE email = ?1"),
                args![new.email],
            )?;
            Ok(SubscriptionRequest {
                subscription: from_row(&row)?,
                started: inserted || restarted,
                may_mail,
            })
        })
    }

    /// Gives the address's mail slot back after the mail taken with it at `claimed_at`
    /// could not be sent, so asking again does not wait out the interval. A later
    /// claim is left alone.
    pub fn release_subscription_mail(
        &self,
        id: i64,
        claimed_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let changed = self.db.execute(
            "UPDATE subscriptions SET mailed_at = NULL WHERE id = ?1 AND mailed_at = ?2",
            args![id, timestamp(Some(claimed_at))],
        )?;
        Ok(changed == 1)
    }

    /// The owner's own subscribe (a member whose verified account address is
    /// `new.email`): creates or updates the subscription with the owner's preferences,
    /// confirmed (the address is proven) and linked to `new.user_id`. A subscription
    /// that had ended starts anew, with fresh nonces.
    pub fn set_owned_subscription(
        &mut self,
        new: &NewSubscription,
        now: DateTime<Utc>,
    ) -> Result<Subscription, StoreError> {
        self.db.transaction(WriteOrder::Concurrent, |db| {
            db.execute(
                "INSERT INTO subscriptions (email, frequency, categories, queries, user_id, status, \
                 created_at, confirmed_at, token_nonce, link_nonce) \
                 VALUES (?1, ?2, ?3, ?4, ?5, 'confirmed', ?6, ?6, ?7, ?8) \
                 ON CONFLICT (email) DO UPDATE SET frequency = excluded.frequency, \
                 categories = excluded.categories, queries = excluded.queries, \
                 user_id = excluded.user_id, status = 'confirmed', \
                 confirmed_at = CASE subscriptions.status WHEN 'confirmed' \
                 THEN subscriptions.confirmed_at ELSE excluded.confirmed_at END, \
                 token_nonce = CASE subscriptions.status WHEN 'unsubscribed' \
                 THEN excluded.token_nonce ELSE subscriptions.token_nonce END, \
                 link_nonce = CASE subscriptions.status WHEN 'unsubscribed' \
                 THEN excluded.link_nonce ELSE subscriptions.link_nonce END",
                args![
                    new.email,
                    new.frequency.as_str(),
                    json_list(&new.categories),
                    json_list(&new.queries),
                    new.user_id,
                    timestamp(Some(now)),
                    new.token_nonce,
                    new.link_nonce,
                ],
            )?;
            let row = db.query_one(
                &format!("SELECT {COLUMNS} FROM subscriptions WHERE email = ?1"),
                args![new.email],
            )?;
            from_row(&row)
        })
    }

    /// Changes what a pending or confirmed subscription gets (the owner, through a
    /// manage link). Returns false, changing nothing, for one that has ended.
    pub fn update_subscription_preferences(
        &self,
        id: i64,
        preferences: &Preferences,
    ) -> Result<bool, StoreError> {
        let changed = self.db.execute(
            "UPDATE subscriptions SET frequency = ?2, categories = ?3, queries = ?4 \
             WHERE id = ?1 AND status != 'unsubscribed'",
            args![
                id,
                preferences.frequency.as_str(),
                json_list(&preferences.categories),
                json_list(&preferences.queries),
            ],
        )?;
        Ok(changed == 1)
    }

    pub fn subscription(&self, id: i64) -> Result<Option<Subscription>, StoreError> {
        self.subscription_where("id = ?1", args![id])
    }

    pub fn subscription_by_email(&self, email: &str) -> Result<Option<Subscription>, StoreError> {
        self.subscription_where("email = ?1", args![email])
    }

    /// The subscription linked to a member. Links made before addresses were verified
    /// are untrusted: the caller checks that the member owns the address now.
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

    /// Stops digests to the subscription and replaces its confirmation nonce, so a
    /// confirmation link mailed before cannot start it again; returns whether it
    /// changed (one-click clients may POST twice). The link nonce stays, so the
    /// repeated POST still verifies.
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
