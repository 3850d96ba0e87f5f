//! `papers digest send` end to end: real Hugging Face days in the store, a confirmed
//! subscriber, and a real SMTP server (aiosmtpd, the digest crate's
//! `tests/smtp_server.py`) that must receive exactly one digest over two runs.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use chrono::Utc;
use papers_digest::{Digests, Frequency, Links, PublicUrl, Secret, Settings, SubscribeRequest};
use papers_store::Store;

use crate::common::{hf_days, ingest, papers, shared};

const SECRET: &str = "an end-to-end test secret, long enough";
pub const BASE: &str = "http://papers.test";

/// Python with aiosmtpd; under CI its absence is a failure, elsewhere a skip.
pub fn smtp_available() -> bool {
    let found = Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but python3 with aiosmtpd is missing: pip install aiosmtpd==1.4.6"
        );
        eprintln!("skipping: python3 with aiosmtpd not available");
    }
    found
}

/// The SMTP server process, killed on drop.
pub struct Server {
    pub port: u16,
    child: Child,
}

impl Server {
    pub fn start(dir: &Path) -> Server {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let script =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../digest/tests/smtp_server.py");
        let mut child = Command::new("python3")
            .arg(script)
            .args(["--port", &port.to_string(), "--dir"])
            .arg(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("server output");
        assert_eq!(line.trim(), "READY", "SMTP server did not start");
        Server { port, child }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the server's Python parser read from each accepted message.
pub fn received(dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_dir(dir)
        .expect("mail dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| serde_json::from_slice(&std::fs::read(p).expect("read")).expect("JSON"))
        .collect()
}

fn header<'a>(message: &'a serde_json::Value, name: &str) -> Option<&'a str> {
    message["headers"]
        .as_array()?
        .iter()
        .find(|pair| {
            pair[0]
                .as_str()
                .is_some_and(|k| k.eq_ignore_ascii_case(name))
        })
        .and_then(|pair| pair[1].as_str())
}

/// Subscribes `email` to the daily digest and follows its confirmation link, through
/// an engine signing with `secret` (the one the binary under test is given).
pub fn subscribe_confirmed(store: &mut Store, secret: &str, email: &str) {
    let links = Links::new(
        PublicUrl::parse(BASE).expect("url"),
        Secret::new(secret.as_bytes().to_vec()).expect("secret"),
    );
    let digests = Digests::new(links, Settings::new("test-model")).expect("engine");
    let now = Utc::now();
    let subscribed = digests
        .subscribe(
            store,
            &SubscribeRequest {
                email: email.into(),
                frequency: Frequency::Daily,
                categories: Vec::new(),
                queries: Vec::new(),
                user_id: None,
            },
            now,
        )
        .expect("subscribe");
    let confirm = digests.links().confirm(&subscribed.subscription, now);
    let token = confirm.rsplit('/').next().expect("token");
    digests.confirm(store, token, now).expect("confirm");
}

fn send(data_dir: &Path, port: u16) -> std::process::Output {
    papers(data_dir)
        .args(["digest", "send", "--as-of", "2024-01-03"])
        .env("PAPERS_SMTP_URL", format!("smtp://127.0.0.1:{port}"))
        .env("PAPERS_MAIL_FROM", "Daily Papers <papers@papers.test>")
        .env("PAPERS_PUBLIC_URL", BASE)
        .env("PAPERS_SECRET", SECRET)
        .env_remove("PAPERS_SMTP_PASSWORD")
        .output()
        .expect("papers runs")
}

#[test]
fn digest_send_delivers_once_with_one_click_unsubscribe_headers() {
    let Some(shared) = shared() else { return };
    if !smtp_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let files = hf_days(&shared, usize::MAX);
    let paths: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    ingest(dir.path(), &paths);

    // Subscribe and confirm through the engine, with the secret the binary will use.
    let mut store = Store::open(dir.path()).expect("store");
    subscribe_confirmed(&mut store, SECRET, "reader@example.org");
    drop(store);

    let mail_dir = tempfile::tempdir().expect("mail dir");
    let server = Server::start(mail_dir.path());
    let first = send(dir.path(), server.port);
    let stdout = String::from_utf8_lossy(&first.stdout);
    assert!(
        first.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(stdout.contains("sent           1"), "{stdout}");
    let second = send(dir.path(), server.port);
    let stdout = String::from_utf8_lossy(&second.stdout);
    assert!(second.status.success(), "{stdout}");
    assert!(stdout.contains("already_sent   1"), "{stdout}");
    assert!(stdout.contains("sent           0"), "{stdout}");

    let messages = received(mail_dir.path());
    assert_eq!(messages.len(), 1, "{messages:?}");
    let digest = &messages[0];
    assert_eq!(digest["rcpt_tos"][0], "reader@example.org");
    let unsubscribe = header(digest, "List-Unsubscribe").expect("List-Unsubscribe");
    assert!(
        unsubscribe.starts_with("<http://papers.test/unsubscribe/"),
        "{unsubscribe}"
    );
    assert_eq!(
        header(digest, "List-Unsubscribe-Post"),
        Some("List-Unsubscribe=One-Click")
    );
}
