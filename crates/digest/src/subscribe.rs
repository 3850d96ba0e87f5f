//! Subscribing with double opt-in, confirming, and one-click unsubscribing: plain
//! functions over the store that the web crate's handlers call.

use chrono::{DateTime, Utc};
use papers_core::Category;
use papers_store::{Frequency, NewSubscription, Store, Subscription, SubscriptionStatus};

use crate::links::nonce_for;
use crate::token::{self, Purpose};
use crate::{DigestError, Digests, Email, Mail};

/// Limits that keep one subscription's digest composable in bounded time.
pub const MAX_CATEGORIES: usize = 20;
pub const MAX_QUERIES: usize = 10;
pub const MAX_QUERY_LENGTH: usize = 200;

/// The body of `POST /api/subscriptions`, plus the member when logged in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscribeRequest {
    pub email: String,
    pub frequency: Frequency,
    pub categories: Vec<String>,
    pub queries: Vec<String>,
    /// The logged-in member subscribing with their account's address.
    pub user_id: Option<i64>,
}

#[derive(Debug)]
pub struct Subscribed {
    pub subscription: Subscription,
    /// The double opt-in mail to send; `None` when the address was already confirmed
    /// and only its preferences changed.
    pub confirmation: Option<Mail>,
}

/// What an unsubscribe did; `changed` is false for a repeated click.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsubscribed {
    pub subscription: Subscription,
    pub changed: bool,
}

impl Digests {
    /// Creates or updates the address's subscription. Nothing is mailed here: the
    /// caller sends `confirmation` with [`crate::Mailer::send`], so a slow SMTP server
    /// never holds a store transaction open.
    pub fn subscribe(
        &self,
        store: &mut Store,
        request: &SubscribeRequest,
        now: DateTime<Utc>,
    ) -> Result<Subscribed, DigestError> {
        let email = Email::parse(&request.email)?;
        let new = NewSubscription {
            email: email.as_str().to_owned(),
            frequency: request.frequency,
            categories: parse_categories(&request.categories)?,
            queries: parse_queries(&request.queries)?,
            user_id: request.user_id,
            token_nonce: new_nonce(),
        };
        let subscription = store.upsert_subscription(&new, now)?;
        let confirmation = match subscription.status {
            SubscriptionStatus::Confirmed => None,
            _ => Some(self.confirmation_mail(&subscription, now)?),
        };
        tracing::info!(
            subscription.id = subscription.id,
            status = subscription.status.as_str(),
            "subscribed"
        );
        Ok(Subscribed {
            subscription,
            confirmation,
        })
    }

    /// Follows a confirmation link. Confirming twice is fine; a tampered, expired or
    /// superseded link is an error and changes nothing.
    pub fn confirm(
        &self,
        store: &Store,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Subscription, DigestError> {
        let subscription = self.verified(store, token, Purpose::Confirm, now)?;
        if store.confirm_subscription(subscription.id, now)? {
            tracing::info!(subscription.id = subscription.id, "subscription confirmed");
        }
        store
            .subscription(subscription.id)?
            .ok_or(DigestError::UnknownSubscription(subscription.id))
    }

    /// The one-click unsubscribe (RFC 8058 POST, or the link in the body). No login,
    /// no confirmation step; repeating it is harmless.
    pub fn unsubscribe(
        &self,
        store: &Store,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Unsubscribed, DigestError> {
        let subscription = self.verified(store, token, Purpose::Unsubscribe, now)?;
        let changed = store.unsubscribe_subscription(subscription.id, &new_nonce(), now)?;
        if changed {
            tracing::info!(subscription.id = subscription.id, "unsubscribed");
        }
        let subscription = store
            .subscription(subscription.id)?
            .ok_or(DigestError::UnknownSubscription(subscription.id))?;
        Ok(Unsubscribed {
            subscription,
            changed,
        })
    }

    /// Checks a token against its subscription without changing anything, for the
    /// page a GET on an unsubscribe link shows.
    pub fn verified(
        &self,
        store: &Store,
        token: &str,
        purpose: Purpose,
        now: DateTime<Utc>,
    ) -> Result<Subscription, DigestError> {
        let claims = token::claims(token, purpose)?;
        // An unknown id gets the same answer as a bad signature: ids are not secret,
        // but there is no reason to confirm which exist.
        let subscription = store
            .subscription(claims.subscription_id)?
            .ok_or(DigestError::Token(token::TokenError::BadSignature))?;
        token::verify(
            self.links.secret(),
            token,
            &claims,
            nonce_for(&subscription, purpose),
            now,
        )?;
        Ok(subscription)
    }
}

fn parse_categories(input: &[String]) -> Result<Vec<String>, DigestError> {
    if input.len() > MAX_CATEGORIES {
        return Err(invalid(
            "categories",
            input.len().to_string(),
            "at most 20 categories",
        ));
    }
    let mut categories: Vec<String> = Vec::new();
    for raw in input {
        if raw.chars().any(char::is_control) {
            return Err(invalid(
                "category",
                raw.clone(),
                "contains a line break or control character",
            ));
        }
        let category = Category::parse(raw.trim()).map_err(|_| {
            invalid(
                "category",
                raw.clone(),
                "not an arXiv category such as cs.CL",
            )
        })?;
        if !categories.iter().any(|c| c == category.as_str()) {
            categories.push(category.as_str().to_owned());
        }
    }
    Ok(categories)
}

fn parse_queries(input: &[String]) -> Result<Vec<String>, DigestError> {
    if input.len() > MAX_QUERIES {
        return Err(invalid(
            "queries",
            input.len().to_string(),
            "at most 10 saved searches",
        ));
    }
    let mut queries: Vec<String> = Vec::new();
    for raw in input {
        if raw.chars().any(char::is_control) {
            return Err(invalid(
                "query",
                raw.clone(),
                "contains a line break or control character",
            ));
        }
        let query = raw.trim();
        if query.is_empty() || query.chars().count() > MAX_QUERY_LENGTH {
            return Err(invalid("query", raw.clone(), "must be 1 to 200 characters"));
        }
        if !queries.iter().any(|q| q == query) {
            queries.push(query.to_owned());
        }
    }
    Ok(queries)
}

fn invalid(field: &'static str, value: String, reason: &'static str) -> DigestError {
    DigestError::Invalid {
        field,
        value,
        reason,
    }
}

/// 128 random bits, hex encoded. Falls back to a time-derived value only if the OS
/// has no randomness, which would break far more than this.
fn new_nonce() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        bytes = nanos.to_le_bytes();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preferences_are_normalised_and_deduplicated() {
        let categories = parse_categories(&["cs.CL".into(), " cs.CL ".into(), "hep-th".into()]);
        assert_eq!(categories.expect("valid"), vec!["cs.CL", "hep-th"]);
        let queries = parse_queries(&[" diffusion ".into(), "diffusion".into()]);
        assert_eq!(queries.expect("valid"), vec!["diffusion"]);
    }

    #[test]
    fn bad_preferences_are_refused_by_name() {
        let error = parse_categories(&["CS CL".into()]).expect_err("invalid");
        assert!(error.to_string().contains("\"CS CL\""), "{error}");
        let error = parse_queries(&["a\r\nBcc: x@example.org".into()]).expect_err("invalid");
        assert!(error.to_string().contains("line break"), "{error}");
        assert!(parse_queries(&[" ".into()]).is_err());
        assert!(parse_queries(&vec!["q".to_owned(); 11]).is_err());
    }
}
