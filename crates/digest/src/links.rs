//! Every URL a mail carries: paper pages and the signed links (confirm, manage,
//! unsubscribe, preview), all on the configured public base URL.
//!
//! The paths here are the contract with the web crate's routes:
//! `GET /papers/{id}`, `GET /subscribe`, `GET /subscriptions/confirm/{token}`,
//! `GET|POST /subscriptions/manage/{token}`, `GET /digest/preview?token=…` and
//! `GET|POST /unsubscribe/{token}` (GET shows a confirmation page, because mail
//! scanners prefetch links; POST with `List-Unsubscribe=One-Click` unsubscribes).

use chrono::{DateTime, Duration, Utc};
use papers_core::ArxivId;
use papers_store::Subscription;

use crate::token::{self, Purpose, Secret, TokenClaims};

/// How long a confirmation link works.
pub const CONFIRM_TTL: Duration = Duration::hours(48);
/// How long an unsubscribe link works: long, since people unsubscribe from old mail.
pub const UNSUBSCRIBE_TTL: Duration = Duration::days(365);
/// How long the link in a manage mail works: it changes what the address gets, so a
/// day, long enough to read the mail.
pub const MANAGE_TTL: Duration = Duration::hours(24);
/// How long a preview link works: it only shows the next digest.
pub const PREVIEW_TTL: Duration = Duration::days(7);

/// The site's public base URL, without a trailing slash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid public URL {input:?}: {reason}")]
pub struct PublicUrlError {
    pub input: String,
    pub reason: &'static str,
}

impl PublicUrl {
    pub fn parse(input: &str) -> Result<PublicUrl, PublicUrlError> {
        let error = |reason| PublicUrlError {
            input: input.to_owned(),
            reason,
        };
        let url = url::Url::parse(input.trim()).map_err(|_| error("not an absolute URL"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(error("must start with http:// or https://"));
        }
        if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
            return Err(error("must not carry a query, fragment or credentials"));
        }
        Ok(PublicUrl(url.as_str().trim_end_matches('/').to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The host name, for Message-IDs.
    pub fn host(&self) -> &str {
        let rest = self
            .0
            .split_once("://")
            .map_or(self.0.as_str(), |(_, rest)| rest);
        let authority = rest.split('/').next().unwrap_or(rest);
        authority
            .rsplit_once(':')
            .map_or(authority, |(host, _)| host)
    }
}

/// Builds signed links; held by whatever sends mail or handles link clicks.
#[derive(Debug, Clone)]
pub struct Links {
    base: PublicUrl,
    secret: Secret,
}

impl Links {
    pub fn new(base: PublicUrl, secret: Secret) -> Links {
        Links { base, secret }
    }

    pub fn base(&self) -> &PublicUrl {
        &self.base
    }

    pub(crate) fn secret(&self) -> &Secret {
        &self.secret
    }

    pub fn paper(&self, id: &ArxivId) -> String {
        format!("{}/papers/{id}", self.base.0)
    }

    /// A topic's page on the site.
    pub fn topic(&self, id: u32) -> String {
        format!("{}/topics/{id}", self.base.0)
    }

    /// Where a subscriber changes what they get: the subscribe page, which mails the
    /// address's owner a manage link (or, for a member whose verified address it is,
    /// changes it on the spot). A digest carries this rather than a manage link, so a
    /// forwarded digest does not hand out the power to change the subscription.
    pub fn preferences(&self) -> String {
        format!("{}/subscribe", self.base.0)
    }

    pub fn confirm(&self, subscription: &Subscription, now: DateTime<Utc>) -> String {
        let token = self.token(subscription, Purpose::Confirm, now + CONFIRM_TTL);
        format!("{}/subscriptions/confirm/{token}", self.base.0)
    }

    pub fn manage(&self, subscription: &Subscription, now: DateTime<Utc>) -> String {
        let token = self.token(subscription, Purpose::Manage, now + MANAGE_TTL);
        format!("{}/subscriptions/manage/{token}", self.base.0)
    }

    pub fn unsubscribe(&self, subscription: &Subscription, now: DateTime<Utc>) -> String {
        let token = self.token(subscription, Purpose::Unsubscribe, now + UNSUBSCRIBE_TTL);
        format!("{}/unsubscribe/{token}", self.base.0)
    }

    pub fn preview(&self, subscription: &Subscription, now: DateTime<Utc>) -> String {
        let token = self.token(subscription, Purpose::Preview, now + PREVIEW_TTL);
        format!("{}/digest/preview?token={token}", self.base.0)
    }

    fn token(
        &self,
        subscription: &Subscription,
        purpose: Purpose,
        expires: DateTime<Utc>,
    ) -> String {
        let claims = TokenClaims {
            subscription_id: subscription.id,
            purpose,
            expires,
        };
        token::sign(&self.secret, &claims, nonce_for(subscription, purpose))
    }
}

/// Which nonce a link is signed with, and so what revokes it.
///
/// Confirmation links die with `token_nonce`, replaced on unsubscribe, so a
/// confirmation mailed before cannot start the subscription again. The others use
/// `link_nonce`, replaced only when the address starts a new subscription after
/// unsubscribing: that is what revokes old unsubscribe links (resubscribe to cut off
/// a leaked one), while the one-click unsubscribe in a digest just sent keeps working
/// whatever anyone else asks for the address (a subscribe request for a running
/// subscription changes nothing), and a repeated one-click POST stays harmless.
pub(crate) fn nonce_for(subscription: &Subscription, purpose: Purpose) -> &str {
    match purpose {
        Purpose::Confirm => &subscription.token_nonce,
        Purpose::Manage | Purpose::Unsubscribe | Purpose::Preview => &subscription.link_nonce,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_url_is_normalised_and_checked() {
        let url = PublicUrl::parse("https://papers.example.org/").expect("valid");
        assert_eq!(url.as_str(), "https://papers.example.org");
        let nested = PublicUrl::parse("http://example.org/papers-site/").expect("valid");
        assert_eq!(nested.as_str(), "http://example.org/papers-site");
        for bad in [
            "papers.example.org",
            "ftp://example.org",
            "https://u:p@example.org",
            "https://example.org/?a=1",
        ] {
            assert!(PublicUrl::parse(bad).is_err(), "{bad}");
        }
    }
}
