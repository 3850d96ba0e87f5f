//! Subscribing with double opt-in, the manage link an address already subscribed gets
//! instead of a change, confirming, changing preferences and one-click unsubscribing:
//! plain functions over the store that the web crate's handlers call.
//!
//! A subscription is changed only by its owner: whoever follows a link mailed to the
//! address, or a member whose verified account address it is. Anyone else's request
//! for the address changes nothing and is answered exactly like a new one.

use chrono::{DateTime, Duration, Utc};
use papers_core::Category;
use papers_store::{Frequency, NewSubscription, Preferences, Store, Subscription};

use crate::links::nonce_for;
use crate::token::{self, Purpose};
use crate::{DigestError, Digests, Email, Mail};

/// Limits that keep one subscription's digest composable in bounded time.
pub const MAX_CATEGORIES: usize = 20;
pub const MAX_QUERIES: usize = 10;
pub const MAX_QUERY_LENGTH: usize = 200;

/// At most one confirmation or manage mail goes to an address in this long, however
/// often anyone asks (the slot is kept in the store, so it holds on every node and
/// across restarts).
pub const MAIL_INTERVAL: Duration = Duration::minutes(10);

/// The body of `POST /api/subscriptions` or the subscribe form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscribeRequest {
    pub email: String,
    pub frequency: Frequency,
    pub categories: Vec<String>,
    pub queries: Vec<String>,
    /// The logged-in member asking, only when their account's address is verified and
    /// is `email`: the address's owner, whose request changes the subscription at once
    /// and links it to the account. `None` for everyone else, whose request for an
    /// address that already has a subscription changes nothing.
    pub owner: Option<i64>,
}

/// What a subscribe did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscribeOutcome {
    /// A new subscription (a new address, or one that had unsubscribed), pending until
    /// the address's owner follows the confirmation link.
    Started,
    /// The address already had a pending or confirmed subscription, left as it was;
    /// its owner is mailed a link to manage it.
    Existing,
    /// The owner's own request (see [`SubscribeRequest::owner`]) changed it directly.
    Owned,
}

#[derive(Debug)]
pub struct Subscribed {
    pub subscription: Subscription,
    pub outcome: SubscribeOutcome,
    /// The mail to send: the confirmation for [`SubscribeOutcome::Started`], the
    /// manage mail for [`SubscribeOutcome::Existing`]. `None` for the owner's own
    /// change, and when the address was mailed within [`MAIL_INTERVAL`]: the caller
    /// answers the same either way, so nobody learns which happened.
    pub mail: Option<Mail>,
}

/// What an unsubscribe did; `changed` is false for a repeated click.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsubscribed {
    pub subscription: Subscription,
    pub changed: bool,
}

impl Digests {
    /// Handles a subscribe request. From anyone but the owner it starts a subscription
    /// for a new address, and for an address that has one changes nothing at all and
    /// mails the owner a manage link instead. Nothing is mailed here: the caller sends
    /// `mail` with [`crate::Mailer::send`] (so a slow SMTP server never holds a store
    /// transaction open) and calls [`Digests::mail_not_sent`] if that fails.
    pub fn subscribe(
        &self,
        store: &mut Store,
        request: &SubscribeRequest,
        now: DateTime<Utc>,
    ) -> Result<Subscribed, DigestError> {
        // Everything the request says is checked before the store is asked, so a bad
        // request is refused the same way whatever the address's state.
        let email = Email::parse(&request.email)?;
        let preferences = parse_preferences(&Preferences {
            frequency: request.frequency,
            categories: request.categories.clone(),
            queries: request.queries.clone(),
        })?;
        let new = NewSubscription {
            email: email.as_str().to_owned(),
            frequency: preferences.frequency,
            categories: preferences.categories,
            queries: preferences.queries,
            user_id: request.owner,
            token_nonce: new_nonce(),
            link_nonce: new_nonce(),
        };
        if request.owner.is_some() {
            let subscription = store.set_owned_subscription(&new, now)?;
            tracing::info!(
                subscription.id = subscription.id,
                "owner changed the subscription"
            );
            return Ok(Subscribed {
                subscription,
                outcome: SubscribeOutcome::Owned,
                mail: None,
            });
        }
        let found = store.request_subscription(&new, now, MAIL_INTERVAL)?;
        let outcome = if found.started {
            SubscribeOutcome::Started
        } else {
            SubscribeOutcome::Existing
        };
        let mail = match (found.may_mail, outcome) {
            (false, _) => None,
            (true, SubscribeOutcome::Started) => {
                Some(self.confirmation_mail(&found.subscription, now)?)
            }
            (true, _) => Some(self.manage_mail(&found.subscription, now)?),
        };
        tracing::info!(
            subscription.id = found.subscription.id,
            status = found.subscription.status.as_str(),
            started = found.started,
            mailed = mail.is_some(),
            "subscribe request"
        );
        Ok(Subscribed {
            subscription: found.subscription,
            outcome,
            mail,
        })
    }

    /// Gives the address's mail slot back when the mail [`Digests::subscribe`] returned
    /// (at `now`) could not be sent, so the reader can ask again at once.
    pub fn mail_not_sent(
        &self,
        store: &Store,
        subscribed: &Subscribed,
        now: DateTime<Utc>,
    ) -> Result<(), DigestError> {
        if subscribed.mail.is_some() {
            store.release_subscription_mail(subscribed.subscription.id, now)?;
        }
        Ok(())
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

    /// Changes what the subscription gets, through a manage link (the owner's: it was
    /// mailed to the address). A subscription that has ended is not changed:
    /// subscribing again starts a new one, confirmed by mail.
    pub fn update_preferences(
        &self,
        store: &Store,
        token: &str,
        preferences: &Preferences,
        now: DateTime<Utc>,
    ) -> Result<Subscription, DigestError> {
        let subscription = self.verified(store, token, Purpose::Manage, now)?;
        let preferences = parse_preferences(preferences)?;
        if !store.update_subscription_preferences(subscription.id, &preferences)? {
            return Err(DigestError::Ended);
        }
        tracing::info!(subscription.id = subscription.id, "preferences changed");
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

    /// Checks a token of `purpose` against its subscription without changing
    /// anything: for the pages a GET on a mailed link shows, and the preview.
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

/// Normalises what a subscriber asked for, refusing what a digest cannot use.
fn parse_preferences(input: &Preferences) -> Result<Preferences, DigestError> {
    Ok(Preferences {
        frequency: input.frequency,
        categories: parse_categories(&input.categories)?,
        queries: parse_queries(&input.queries)?,
    })
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
