//! SMTP delivery: configuration, message building (multipart/alternative, RFC 8058
//! headers) and sending with retries on temporary failures.
//!
//! Messages go out one at a time over one connection kept open across thousands of
//! them (see `smtp.rs` for why that is fast enough and why it matters).

use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::TlsParameters;
use lettre::transport::smtp::extension::ClientId;
use lettre::{Address, Message};

use crate::Email;
use crate::error::ConfigError;
use crate::links::PublicUrl;
use crate::smtp::{Connection, Endpoint, Failure, Security};

/// Mail settings, built by the binary from `PAPERS_SMTP_URL`, `PAPERS_SMTP_PASSWORD`,
/// `PAPERS_MAIL_FROM` and `PAPERS_PUBLIC_URL`. `Debug` hides the password wherever it
/// was given.
#[derive(Clone)]
pub struct SmtpConfig {
    url: url::Url,
    password: Option<String>,
    pub from: Mailbox,
    pub public_url: PublicUrl,
    /// Per step: connecting, greeting and login, one message's transaction.
    pub timeout: Duration,
    pub retry: RetryPolicy,
}

/// Temporary (4xx) failures are retried this many times in all, waiting `backoff`,
/// then twice that, and so on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub attempts: u32,
    pub backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 3,
            backoff: Duration::from_secs(2),
        }
    }
}

impl SmtpConfig {
    /// `url` is `smtp://[user[:password]@]host[:port]` (STARTTLS when the server offers
    /// it; add `?tls=required` to insist) or `smtps://…` (TLS from the start).
    /// `password`, when given, replaces the one in the URL.
    pub fn new(
        url: &str,
        password: Option<String>,
        from: &str,
        public_url: &str,
    ) -> Result<SmtpConfig, ConfigError> {
        let parsed = url::Url::parse(url).map_err(|e| ConfigError::SmtpUrl {
            url: redact_url_text(url),
            reason: e.to_string(),
        })?;
        let url_error = |reason: &str| ConfigError::SmtpUrl {
            url: redact(&parsed),
            reason: reason.to_owned(),
        };
        if !matches!(parsed.scheme(), "smtp" | "smtps") {
            return Err(url_error("the scheme must be smtp or smtps"));
        }
        if parsed.host_str().is_none_or(str::is_empty) {
            return Err(url_error("no host"));
        }
        let from_error = |reason: &str| ConfigError::From {
            input: from.to_owned(),
            reason: reason.to_owned(),
        };
        if from.chars().any(char::is_control) {
            return Err(from_error("contains a line break or control character"));
        }
        let from_mailbox = Mailbox::from_str(from).map_err(|e| from_error(&e.to_string()))?;
        Ok(SmtpConfig {
            url: parsed,
            password: password.filter(|p| !p.is_empty()),
            from: from_mailbox,
            public_url: PublicUrl::parse(public_url)?,
            timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
        })
    }
}

impl fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("url", &redact(&self.url))
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("from", &self.from.to_string())
            .field("public_url", &self.public_url.as_str())
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .finish()
    }
}

fn redact(url: &url::Url) -> String {
    let mut shown = url.clone();
    if shown.password().is_some() {
        let _ = shown.set_password(Some("redacted"));
    }
    shown.to_string()
}

/// For a URL that did not even parse: keep the scheme, drop anything that might hold
/// credentials.
fn redact_url_text(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) if rest.contains('@') => format!("{scheme}://<redacted>@…"),
        _ => url.to_owned(),
    }
}

/// A mail ready to send; everything header-bound in it has been checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub to: Email,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// `<…@…>`; fixed per subscriber and period for digests, so a duplicate after a
    /// crash carries the same id and clients that deduplicate by it show one.
    pub message_id: String,
    /// Adds `List-Unsubscribe` and `List-Unsubscribe-Post` (RFC 8058).
    pub unsubscribe_url: Option<String>,
    pub date: DateTime<Utc>,
}

/// Why a mail was not delivered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    #[error("refused by the server: {0}")]
    Rejected(String),
    #[error("temporarily refused, gave up after {attempts} attempts: {message}")]
    Deferred { attempts: u32, message: String },
    #[error("SMTP server unreachable: {0}")]
    Unreachable(String),
    #[error("cannot build the message: {0}")]
    Build(String),
}

#[derive(Clone)]
struct ListUnsubscribe(String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }
    fn parse(text: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribe(text.to_owned()))
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

#[derive(Clone)]
struct ListUnsubscribePost;

impl Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }
    fn parse(_text: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribePost)
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".to_owned())
    }
}

/// An SMTP client that sends one message at a time over a connection it keeps open.
/// Cheap to clone; clones share the connection. Callers on several threads (the
/// digest sender and the site's confirmation mails) each get a connection of their
/// own while another is busy, so one never waits for the other's transaction.
#[derive(Clone)]
pub struct Mailer {
    shared: Arc<Shared>,
}

struct Shared {
    endpoint: Endpoint,
    from: Mailbox,
    retry: RetryPolicy,
    /// Open connections nobody is using, most recently used last.
    idle: Mutex<Vec<Connection>>,
}

/// Idle connections kept; more only while several threads send at once.
const MAX_IDLE: usize = 2;

impl fmt::Debug for Mailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mailer")
            .field("endpoint", &self.shared.endpoint)
            .field("from", &self.shared.from.to_string())
            .finish()
    }
}

impl Mailer {
    /// Checks the settings and loads the TLS roots; connects on the first message.
    pub fn new(config: &SmtpConfig) -> Result<Mailer, ConfigError> {
        let url = &config.url;
        let error = |reason: String| ConfigError::SmtpUrl {
            url: redact(url),
            reason,
        };
        let host = url.host_str().unwrap_or_default().to_owned();
        let tls = || TlsParameters::new(host.clone()).map_err(|e| error(e.to_string()));
        let mode = url
            .query_pairs()
            .find(|(key, _)| key == "tls")
            .map(|(_, value)| value.into_owned());
        // The ports and modes lettre's own URL parser gives; STARTTLS whenever offered
        // on plain `smtp://`, where lettre would send in the clear.
        let (security, default_port) = match (url.scheme(), mode.as_deref()) {
            ("smtps", _) => (Security::Wrapper(tls()?), 465),
            ("smtp", None) => (Security::Opportunistic(tls()?), 25),
            ("smtp", Some("opportunistic")) => (Security::Opportunistic(tls()?), 587),
            ("smtp", Some("required")) => (Security::Required(tls()?), 587),
            (_, Some(other)) => {
                return Err(error(format!(
                    "tls={other}: use tls=required or tls=opportunistic"
                )));
            }
            (scheme, None) => return Err(error(format!("unknown scheme {scheme}"))),
        };
        // A path names this client in EHLO, as with lettre's URLs.
        let path = url.path().trim_matches('/');
        let hello = if path.is_empty() {
            ClientId::default()
        } else {
            ClientId::Domain(path.to_owned())
        };
        let user = url_decode(url.username());
        let password = match (&config.password, url.password()) {
            (Some(password), _) => Some(password.clone()),
            (None, Some(password)) => Some(url_decode(password)),
            (None, None) => None,
        };
        let endpoint = Endpoint {
            port: url.port().unwrap_or(default_port),
            host,
            security,
            hello,
            credentials: password.map(|password| Credentials::new(user, password)),
            timeout: config.timeout,
        };
        Ok(Mailer {
            shared: Arc::new(Shared {
                endpoint,
                from: config.from.clone(),
                retry: config.retry,
                idle: Mutex::new(Vec::new()),
            }),
        })
    }

    pub fn from(&self) -> &Mailbox {
        &self.shared.from
    }

    /// Sends one mail, retrying temporary refusals with exponential backoff. Returns
    /// once the server has accepted it or refused it for good: never more than one
    /// message of this caller is in flight.
    pub fn send(&self, mail: &Mail) -> Result<(), SendError> {
        let message = self.build(mail)?;
        let envelope = message.envelope().clone();
        let content = message.formatted();
        let attempts = self.shared.retry.attempts.max(1);
        let mut wait = self.shared.retry.backoff;
        for attempt in 1..=attempts {
            match self.transaction(&envelope, &content) {
                Ok(()) => return Ok(()),
                Err(Failure::Smtp(e)) if e.is_transient() && attempt < attempts => {
                    tracing::warn!(attempt, wait_ms = wait.as_millis() as u64, error = %e, "temporary SMTP failure, retrying");
                    std::thread::sleep(wait);
                    wait = wait.saturating_mul(2);
                }
                Err(Failure::Smtp(e)) if e.is_transient() => {
                    return Err(SendError::Deferred {
                        attempts,
                        message: e.to_string(),
                    });
                }
                Err(Failure::Smtp(e)) if e.is_permanent() => {
                    return Err(SendError::Rejected(e.to_string()));
                }
                Err(e) => return Err(SendError::Unreachable(e.to_string())),
            }
        }
        Err(SendError::Unreachable("no attempt made".to_owned()))
    }

    /// One attempt: an idle connection that is still good, or a new one, carries the
    /// message; a connection that broke is dropped, a good one goes back to idle.
    fn transaction(
        &self,
        envelope: &lettre::address::Envelope,
        content: &[u8],
    ) -> Result<(), Failure> {
        let mut connection = match self.take_idle() {
            Some(connection) => connection,
            None => Connection::open(&self.shared.endpoint)?,
        };
        let outcome = connection.send(envelope, content, self.shared.endpoint.timeout);
        if outcome.is_ok() && !connection.has_broken() {
            self.put_idle(connection);
        }
        outcome
    }

    fn take_idle(&self) -> Option<Connection> {
        loop {
            let mut connection = self.idle_list().pop()?;
            if connection.ready() {
                return Some(connection);
            }
        }
    }

    fn put_idle(&self, connection: Connection) {
        let mut idle = self.idle_list();
        if idle.len() < MAX_IDLE {
            idle.push(connection);
        }
    }

    fn idle_list(&self) -> std::sync::MutexGuard<'_, Vec<Connection>> {
        // A panic while the list was held cannot leave it inconsistent: a Vec push or pop.
        self.shared
            .idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
    fn build(&self, mail: &Mail) -> Result<Message, SendError> {
        let build_error = |e: &dyn fmt::Display| SendError::Build(e.to_string());
        for (field, value) in [("subject", &mail.subject), ("message id", &mail.message_id)] {
            if value.chars().any(char::is_control) {
                return Err(SendError::Build(format!(
                    "the {field} has a control character"
                )));
            }
        }
        let address = Address::from_str(mail.to.as_str()).map_err(|e| build_error(&e))?;
        let mut builder = Message::builder()
            .from(self.shared.from.clone())
            .to(Mailbox::new(None, address))
            .subject(mail.subject.clone())
            .message_id(Some(mail.message_id.clone()))
            .date(SystemTime::from(mail.date));
        if let Some(url) = &mail.unsubscribe_url {
            if url
                .chars()
                .any(|c| c.is_control() || c.is_whitespace() || c == '>')
            {
                return Err(SendError::Build(
                    "the unsubscribe URL is not header-safe".to_owned(),
                ));
            }
            builder = builder
                .header(ListUnsubscribe(format!("<{url}>")))
                .header(ListUnsubscribePost);
        }
        builder
            .multipart(MultiPart::alternative_plain_html(
                mail.text.clone(),
                mail.html.clone(),
            ))
            .map_err(|e| build_error(&e))
    }
}

fn url_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_password() {
        let config = SmtpConfig::new(
            "smtps://mailer:hunter2@smtp.example.org:465",
            Some("s3cret".to_owned()),
            "Daily Papers <papers@example.org>",
            "https://papers.example.org",
        )
        .expect("valid");
        let shown = format!("{config:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("s3cret"),
            "{shown}"
        );
        assert!(shown.contains("smtp.example.org"), "{shown}");
    }

    #[test]
    fn bad_settings_are_named() {
        let error = SmtpConfig::new("http://x", None, "a@example.org", "https://e.org")
            .expect_err("scheme");
        assert!(error.to_string().contains("smtp or smtps"), "{error}");
        let error = SmtpConfig::new(
            "smtp://x:25",
            None,
            "a@example.org\r\nBcc: b@example.org",
            "https://e.org",
        )
        .expect_err("injection");
        assert!(error.to_string().contains("line break"), "{error}");
        let error = SmtpConfig::new("smtp://u:pw@", None, "a@example.org", "https://e.org")
            .expect_err("host");
        assert!(!error.to_string().contains("pw"), "{error}");
    }

    #[test]
    fn url_decoding_of_user_names() {
        assert_eq!(url_decode("user%40example.org"), "user@example.org");
        assert_eq!(url_decode("plain%zz"), "plain%zz");
    }
}
