//! Test support: a real SMTP server process (aiosmtpd, `tests/smtp_server.py`) on a
//! free loopback port, and a store filled with real Hugging Face feed days.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use chrono::{DateTime, Utc};
use papers_digest::{
    Digests, Frequency, Links, MAIL_INTERVAL, Mail, Mailer, Preferences, PublicUrl, RetryPolicy,
    Secret, Settings, SmtpConfig, SubscribeOutcome, SubscribeRequest,
};
use papers_store::{Store, Subscription};
pub use papers_testkit::Received;
use papers_testkit::{ServerProcess, received_mail, received_mail_to};
use tempfile::TempDir;

use crate::load;

pub const BASE: &str = "http://papers.test";
pub const MODEL: &str = "test-hashed-words-384";

pub fn now() -> DateTime<Utc> {
    "2024-01-03T12:00:00Z".parse().expect("valid time")
}

pub struct SmtpServer {
    pub port: u16,
    pub dir: TempDir,
    args: Vec<String>,
    process: Option<ServerProcess>,
}

impl SmtpServer {
    /// A server on a free port, refusing or deferring recipients as `args` say.
    pub fn start(args: &[&str]) -> SmtpServer {
        let mut server = SmtpServer::reserved(args);
        server.launch();
        server
    }

    /// A free port with no server on it yet: "the server is down".
    pub fn reserved(args: &[&str]) -> SmtpServer {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        SmtpServer {
            port,
            dir: TempDir::new().expect("temp dir"),
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            process: None,
        }
    }

    pub fn launch(&mut self) {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/smtp_server.py");
        let process = ServerProcess::start(
            Command::new("python3")
                .arg(script)
                .args(["--port", &self.port.to_string(), "--dir"])
                .arg(self.dir.path())
                .arg("--stats")
                .arg(self.stats_path())
                .args(&self.args),
        )
        .expect("python3 starts");
        assert_eq!(process.ready, "READY", "SMTP server did not start");
        self.process = Some(process);
    }

    pub fn mailer(&self) -> Mailer {
        let mut config = SmtpConfig::new(
            &format!("smtp://127.0.0.1:{}", self.port),
            None,
            "Daily Papers <papers@papers.test>",
            BASE,
        )
        .expect("valid config");
        config.retry = RetryPolicy {
            attempts: 3,
            backoff: Duration::from_millis(20),
        };
        config.timeout = Duration::from_secs(5);
        Mailer::new(&config).expect("mailer")
    }

    /// No extension, so the mail readers skip it.
    fn stats_path(&self) -> PathBuf {
        self.dir.path().join("stats")
    }

    /// The most connections and DATA transactions the server had open at once
    /// (`most.connections`, `most.data`) and their totals (`total.…`).
    pub fn stats(&self) -> serde_json::Value {
        let text = std::fs::read(self.stats_path()).expect("the server wrote its stats");
        serde_json::from_slice(&text).expect("stats JSON")
    }

    /// Everything received so far, in arrival order.
    pub fn messages(&self) -> Vec<Received> {
        received_mail(self.dir.path())
    }

    pub fn messages_to(&self, address: &str) -> Vec<Received> {
        received_mail_to(self.dir.path(), address)
    }
}

pub struct Fixture {
    pub store: Store,
    pub digests: Digests,
    _dir: TempDir,
}

/// A store holding the feed days from 2024-01-01 to 2024-01-12, with stand-in
/// embeddings for every paper; `None` after a skip message (a failure under CI) when
/// the shared feed days are missing.
pub fn fixture() -> Option<Fixture> {
    papers_testkit::shared_dir(load::HF_DIR)?;
    let dir = TempDir::new().expect("temp dir");
    let mut store = Store::open(dir.path()).expect("store opens");
    let mut batch = store.begin_ingest(now()).expect("batch");
    for file in load::hf_days("2024-01-01", "2024-01-13") {
        for record in load::hf_day(&file) {
            batch.upsert(record).expect("upsert");
        }
    }
    batch.commit().expect("commit");
    let mut vectors = Vec::new();
    store
        .for_each_paper(|paper| {
            let text = format!(
                "{} {}",
                paper.paper.metadata.title, paper.paper.metadata.abstract_text
            );
            vectors.push((paper.key, load::hashed_embedding(&text)));
        })
        .expect("papers");
    store
        .put_embeddings(MODEL, &vectors, now())
        .expect("embeddings");
    Some(Fixture {
        store,
        digests: digests(),
        _dir: dir,
    })
}

/// The digest engine the fixture uses: the test links and model, no topic map.
pub fn digests() -> Digests {
    let links = Links::new(
        PublicUrl::parse(BASE).expect("url"),
        Secret::new(*b"test secret, 32 bytes long......").expect("secret"),
    );
    Digests::new(links, Settings::new(MODEL)).expect("digests")
}

pub fn request(email: &str, frequency: Frequency) -> SubscribeRequest {
    SubscribeRequest {
        email: email.to_owned(),
        frequency,
        categories: Vec::new(),
        queries: Vec::new(),
        owner: None,
    }
}

/// The first link in `text` that starts with `prefix`.
pub fn link(text: &str, prefix: &str) -> String {
    let start = text
        .find(prefix)
        .unwrap_or_else(|| panic!("no {prefix} link in {text}"));
    text[start..]
        .split(|c: char| c.is_whitespace() || c == '"' || c == '<' || c == '>')
        .next()
        .unwrap_or_default()
        .to_owned()
}

pub fn token_of(url: &str) -> &str {
    url.rsplit('/').next().unwrap_or_default()
}

impl Fixture {
    /// Subscribes and confirms through the token in the confirmation mail, without
    /// SMTP; an owner's request (`owner` set) is confirmed at once.
    pub fn confirmed(&mut self, request: SubscribeRequest) -> Subscription {
        let subscribed = self
            .digests
            .subscribe(&mut self.store, &request, now())
            .expect("subscribe");
        if subscribed.outcome == SubscribeOutcome::Owned {
            return subscribed.subscription;
        }
        let mail: Mail = subscribed.mail.expect("confirmation mail");
        let url = link(&mail.text, &format!("{BASE}/subscriptions/confirm/"));
        self.digests
            .confirm(&self.store, token_of(&url), now())
            .expect("confirm")
    }

    /// Changes a confirmed address's preferences the way its owner does: asks to
    /// subscribe it again (after the mail interval), which changes nothing and mails a
    /// manage link, and saves the new preferences through that link.
    pub fn confirmed_update(&mut self, request: SubscribeRequest) -> Subscription {
        let later = now() + MAIL_INTERVAL;
        let subscribed = self
            .digests
            .subscribe(&mut self.store, &request, later)
            .expect("subscribe");
        assert_eq!(subscribed.outcome, SubscribeOutcome::Existing);
        let mail = subscribed.mail.expect("manage mail");
        let url = link(&mail.text, &format!("{BASE}/subscriptions/manage/"));
        let preferences = Preferences {
            frequency: request.frequency,
            categories: request.categories,
            queries: request.queries,
        };
        self.digests
            .update_preferences(&self.store, token_of(&url), &preferences, later)
            .expect("update through the manage link")
    }
}
