//! A real SMTP server for the account mails: the digest crate's aiosmtpd script
//! (`crates/digest/tests/smtp_server.py`), started through papers-testkit. It saves
//! every message it accepts with what Python's email parser reads from it, and the
//! tests read links out of those, as a member would.
//!
//! Without python3 and aiosmtpd the mail tests are skipped with a message, unless `CI`
//! is set: there they fail.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use papers_digest::{
    Deliver, Digests, Links, Mailer, PublicUrl, RetryPolicy, Secret, Settings, SmtpConfig,
};
use papers_testkit::ServerProcess;
use papers_web::{AppConfig, AppState};
use serde::Deserialize;
use tempfile::TempDir;

use crate::common::{TestApp, seed};

pub const BASE: &str = "http://papers.test";

#[derive(Debug, Deserialize)]
pub struct Part {
    pub content_type: String,
    pub body: String,
}

/// A message as the server's parser read it.
#[derive(Debug, Deserialize)]
pub struct Received {
    pub rcpt_tos: Vec<String>,
    pub headers: Vec<(String, String)>,
    pub parts: Vec<Part>,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    pub fn subject(&self) -> &str {
        self.header("Subject").unwrap_or_default()
    }

    pub fn text(&self) -> &str {
        self.parts
            .iter()
            .find(|part| part.content_type == "text/plain")
            .map_or("", |part| part.body.as_str())
    }

    /// The path of the first link in the text part that starts with `prefix` (a path
    /// on the site, such as `/account/verify/`).
    pub fn link(&self, prefix: &str) -> Option<String> {
        let text = self.text();
        let start = text.find(&format!("{BASE}{prefix}"))? + BASE.len();
        let rest = &text[start..];
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        Some(rest[..end].to_owned())
    }
}

pub struct MailServer {
    pub port: u16,
    pub dir: TempDir,
    _process: ServerProcess,
}

impl MailServer {
    /// A server on a free port; `None` (after saying why) when python3 with aiosmtpd is
    /// missing outside CI.
    pub fn start() -> Option<MailServer> {
        let found = Command::new("python3")
            .args(["-c", "import aiosmtpd"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        if !found {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI is set but python3 with aiosmtpd is missing: pip install aiosmtpd==1.4.6"
            );
            eprintln!("skipping: python3 -m aiosmtpd not available (pip install aiosmtpd==1.4.6)");
            return None;
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("free port")
            .port();
        let dir = TempDir::new().expect("mail dir");
        let script =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../digest/tests/smtp_server.py");
        let process = ServerProcess::start(
            Command::new("python3")
                .arg(script)
                .args(["--port", &port.to_string(), "--dir"])
                .arg(dir.path()),
        )
        .expect("python3 starts");
        assert_eq!(process.ready, "READY", "SMTP server did not start");
        Some(MailServer {
            port,
            dir,
            _process: process,
        })
    }

    pub fn mailer(&self) -> Arc<dyn Deliver + Send + Sync> {
        let mut config = SmtpConfig::new(
            &format!("smtp://127.0.0.1:{}", self.port),
            None,
            "Daily Papers <papers@papers.test>",
            BASE,
        )
        .expect("valid SMTP settings");
        config.retry = RetryPolicy {
            attempts: 2,
            backoff: Duration::from_millis(20),
        };
        config.timeout = Duration::from_secs(5);
        Arc::new(Mailer::new(&config).expect("mailer"))
    }

    /// Everything received so far, in arrival order.
    pub fn messages(&self) -> Vec<Received> {
        let mut files: Vec<(u64, PathBuf)> = std::fs::read_dir(self.dir.path())
            .expect("mail dir")
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|path| path.extension().is_some_and(|e| e == "json"))
            .filter_map(|path| {
                let name = path.file_name()?.to_str()?.to_owned();
                Some((name.split('-').next()?.parse().ok()?, path))
            })
            .collect();
        files.sort();
        files
            .into_iter()
            .map(|(_, path)| {
                serde_json::from_slice(&std::fs::read(path).expect("readable")).expect("JSON")
            })
            .collect()
    }

    pub fn messages_to(&self, address: &str) -> Vec<Received> {
        self.messages()
            .into_iter()
            .filter(|message| message.rcpt_tos.iter().any(|to| to == address))
            .collect()
    }

    /// Waits (up to ten seconds) until `address` has received `count` messages, and
    /// returns them; the site mails from a background task.
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
        last.link(prefix)
            .unwrap_or_else(|| panic!("no {prefix} link in {:?}: {}", last.subject(), last.text()))
    }
}

pub fn digests() -> Arc<Digests> {
    let links = Links::new(
        PublicUrl::parse(BASE).expect("url"),
        Secret::new(b"a test secret of enough bytes".to_vec()).expect("secret"),
    );
    Arc::new(Digests::new(links, Settings::new("test-model")).expect("digests"))
}

/// The seeded site with the digest engine and mail through `server`.
pub fn mail_app(server: &MailServer, configure: impl FnOnce(&mut AppConfig)) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    seed(dir.path());
    let mut config = AppConfig::new(dir.path(), BASE);
    configure(&mut config);
    let state = AppState::open(config)
        .expect("open app")
        .with_digests(digests(), Some(server.mailer()));
    let router = papers_web::router(state.clone());
    TestApp { dir, state, router }
}
