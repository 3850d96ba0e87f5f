//! The account tests' side of the mail: a site wired to the real SMTP server of
//! `mail.rs` with a chosen configuration, waits for a member's mail (the site mails
//! account notices from a background task), and links read out of a message's text as
//! a member would.

use std::sync::Arc;
use std::time::{Duration, Instant};

use papers_digest::Deliver;
use papers_web::AppConfig;

use crate::common::TestApp;
use crate::engines::{Engine, SiteStore};
pub use crate::mail::SmtpServer as MailServer;
use crate::mail::{BASE, Received, digests, smtp_available};

/// A started server, or `None` (after saying why) when python3 with aiosmtpd is
/// missing outside CI.
pub fn start_mail() -> Option<MailServer> {
    smtp_available().then(MailServer::start)
}

/// The path of the first link in the message's text part that starts with `prefix`
/// (a path on the site, such as `/account/verify/`).
pub fn link(message: &Received, prefix: &str) -> Option<String> {
    let text = message.part("text/plain");
    let start = text.find(&format!("{BASE}{prefix}"))? + BASE.len();
    let rest = &text[start..];
    let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
    Some(rest[..end].to_owned())
}

impl MailServer {
    /// Waits (up to ten seconds) until `address` has received `count` messages, and
    /// returns them.
    pub async fn wait_for(&self, address: &str, count: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let received = self.messages_to(address);
            if received.len() >= count {
                return received;
            }
            assert!(
                Instant::now() < deadline,
                "{address} got {} of {count} mails: {:?}",
                received.len(),
                received.iter().map(Received::subject).collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The newest message to `address` once there are `count`, with its link that
    /// starts with `prefix`.
    pub async fn link_to(&self, address: &str, count: usize, prefix: &str) -> String {
        let received = self.wait_for(address, count).await;
        let last = received.last().expect("a mail");
        link(last, prefix).unwrap_or_else(|| {
            panic!(
                "no {prefix} link in {:?}: {}",
                last.subject(),
                last.part("text/plain")
            )
        })
    }
}

/// The seeded site with the digest engine, mail through `server`, and `configure`
/// applied to its configuration.
pub fn mail_app(server: &MailServer, configure: impl FnOnce(&mut AppConfig)) -> TestApp {
    mail_app_on(Engine::Sqlite, server, configure).expect("SQLite is always there")
}

/// [`mail_app`] on `engine`; `None` when PostgreSQL is not configured outside CI.
pub fn mail_app_on(
    engine: Engine,
    server: &MailServer,
    configure: impl FnOnce(&mut AppConfig),
) -> Option<TestApp> {
    let store = SiteStore::seeded(engine)?;
    let mut config = store.config(BASE);
    configure(&mut config);
    let mailer: Arc<dyn Deliver + Send + Sync> = Arc::new(server.mailer());
    Some(store.open(config, |state| state.with_digests(digests(), Some(mailer))))
}
