//! Errors of the digest engine. The web crate maps [`DigestError::Token`],
//! [`DigestError::Invalid`], [`DigestError::Email`] and [`DigestError::Ended`] to 400.

use papers_store::StoreError;

use crate::email::EmailError;
use crate::token::TokenError;

#[derive(Debug, thiserror::Error)]
pub enum DigestError {
    #[error(transparent)]
    Email(#[from] EmailError),
    #[error(transparent)]
    Token(#[from] TokenError),
    /// A preference the subscriber sent is unusable.
    #[error("invalid {field} {value:?}: {reason}")]
    Invalid {
        field: &'static str,
        value: String,
        reason: &'static str,
    },
    /// The token was genuine but its subscription is gone.
    #[error("no subscription {0}")]
    UnknownSubscription(i64),
    /// A manage link of a subscription that has since been unsubscribed.
    #[error("this subscription has ended; subscribe again to start a new one")]
    Ended,
    /// A saved search or the member's votes could not be read.
    #[error("{0}")]
    Source(String),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot render the {template} mail: {source}")]
    Template {
        template: String,
        source: minijinja::Error,
    },
    #[error("cannot build the message to {to}: {reason}")]
    Message { to: String, reason: String },
    #[error("another digest sender is running against {store}; wait for it to finish")]
    SenderBusy { store: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Bad mail configuration, found when the binary builds it at startup.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid SMTP URL {url}: {reason}")]
    SmtpUrl { url: String, reason: String },
    #[error("invalid sender {input:?}: {reason}")]
    From { input: String, reason: String },
    #[error(transparent)]
    PublicUrl(#[from] crate::links::PublicUrlError),
}
