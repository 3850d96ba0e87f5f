//! `papers digest send` end to end: real Hugging Face days in the store, confirmed
//! subscribers, and a real SMTP server (aiosmtpd, the digest crate's
//! `tests/smtp_server.py`): exactly one digest over two runs, at most one duplicate
//! after the sender is killed mid-send, saved searches answered by the site's search
//! index, and `papers serve`'s digest preview listing what the sender then mails.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use chrono::Utc;
use papers_digest::{Digests, Frequency, Links, PublicUrl, Secret, Settings, SubscribeRequest};
use papers_store::Store;
use papers_testkit::ServerProcess;

use crate::common::{data, free_port, hf_days, http_get, ingest, ok, papers, shared};

const SECRET: &str = "an end-to-end test secret, long enough";
pub const BASE: &str = "http://papers.test";

/// The SMTP server process, killed on drop.
pub struct Server {
    pub port: u16,
    _process: ServerProcess,
}

impl Server {
    pub fn start(dir: &Path) -> Server {
        Server::start_with(dir, &[])
    }

    /// A server given extra options of `smtp_server.py` (`--hold N`, …).
    pub fn start_with(dir: &Path, args: &[&str]) -> Server {
        let port = free_port();
        let script =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../digest/tests/smtp_server.py");
        let process = ServerProcess::start(
            Command::new("python3")
                .arg(script)
                .args(["--port", &port.to_string(), "--dir"])
                .arg(dir)
                .args(args),
        )
        .expect("python3 starts");
        assert_eq!(process.ready, "READY", "SMTP server did not start");
        Server {
            port,
            _process: process,
        }
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
    let request = SubscribeRequest {
        email: email.into(),
        frequency: Frequency::Daily,
        categories: Vec::new(),
        queries: Vec::new(),
        owner: None,
    };
    subscribe_confirmed_with(store, secret, &request);
}

/// Subscribes as `request` says and follows the confirmation link.
pub fn subscribe_confirmed_with(store: &mut Store, secret: &str, request: &SubscribeRequest) {
    let links = Links::new(
        PublicUrl::parse(BASE).expect("url"),
        Secret::new(secret.as_bytes().to_vec()).expect("secret"),
    );
    let digests = Digests::new(links, Settings::new("test-model")).expect("engine");
    let now = Utc::now();
    let subscribed = digests.subscribe(store, request, now).expect("subscribe");
    let confirm = digests.links().confirm(&subscribed.subscription, now);
    let token = confirm.rsplit('/').next().expect("token");
    digests.confirm(store, token, now).expect("confirm");
}

/// `papers digest send ARGS` against the server on `port`, not yet started.
fn send_command(data_dir: &Path, port: u16, args: &[&str]) -> Command {
    let mut command = papers(data_dir);
    command
        .args(["digest", "send"])
        .args(args)
        .env("PAPERS_SMTP_URL", format!("smtp://127.0.0.1:{port}"))
        .env("PAPERS_MAIL_FROM", "Daily Papers <papers@papers.test>")
        .env("PAPERS_PUBLIC_URL", BASE)
        .env("PAPERS_SECRET", SECRET)
        .env_remove("PAPERS_SMTP_PASSWORD");
    command
}

/// The daily digests due on 2024-01-03 (feed day 2024-01-02).
fn send(data_dir: &Path, port: u16) -> std::process::Output {
    send_command(data_dir, port, &["--as-of", "2024-01-03"])
        .output()
        .expect("papers runs")
}

/// A data directory holding the first `days` recorded Hugging Face days, when the
/// shared data and the SMTP test server are there (under CI their absence fails).
fn store_with_hf_days(days: usize) -> Option<tempfile::TempDir> {
    let shared = shared()?;
    if !papers_testkit::smtp_available() {
        return None;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let files = hf_days(&shared, days);
    let paths: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    ingest(dir.path(), &paths);
    Some(dir)
}

#[test]
fn digest_send_delivers_once_with_one_click_unsubscribe_headers() {
    let Some(dir) = store_with_hf_days(usize::MAX) else {
        return;
    };

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

/// Recipient → how many messages the server accepted for it.
fn deliveries(dir: &Path) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for message in received(dir) {
        let to = message["rcpt_tos"][0]
            .as_str()
            .expect("recipient")
            .to_owned();
        *counts.entry(to).or_insert(0) += 1;
    }
    counts
}

#[test]
fn a_sender_killed_mid_send_repeats_at_most_one_digest() {
    let Some(dir) = store_with_hf_days(3) else {
        return;
    };
    let mut store = Store::open(dir.path()).expect("store");
    let readers = 12;
    for n in 0..readers {
        subscribe_confirmed(&mut store, SECRET, &format!("reader{n}@example.org"));
    }
    drop(store);

    // The server saves the fifth digest and never answers it: the sender is killed
    // while a message the server took is not yet recorded, the worst moment.
    let mail_dir = tempfile::tempdir().expect("mail dir");
    let marker_dir = tempfile::tempdir().expect("marker dir");
    let marker = marker_dir.path().join("held");
    let marker_arg = marker.display().to_string();
    let server = Server::start_with(
        mail_dir.path(),
        &["--hold", "5", "--hold-marker", &marker_arg],
    );
    let mut sender = send_command(dir.path(), server.port, &["--as-of", "2024-01-03"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("sender starts");
    papers_testkit::wait_for("the fifth digest", Duration::from_secs(120), || {
        assert!(
            sender.try_wait().expect("sender state").is_none(),
            "the sender ended before the held digest"
        );
        marker.exists()
    });
    sender.kill().expect("SIGKILL");
    sender.wait().expect("sender reaped");
    assert_eq!(
        deliveries(mail_dir.path()).values().sum::<usize>(),
        5,
        "nothing went out beside the held digest"
    );

    let resumed = send(dir.path(), server.port);
    let stdout = String::from_utf8_lossy(&resumed.stdout);
    assert!(
        resumed.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    // The fifth digest and those after it. (The killed run had also claimed the
    // sixth, never sent it, so `resumed` counts it without it being a duplicate.)
    assert!(stdout.contains("already_sent   4"), "{stdout}");
    assert!(stdout.contains("sent           8"), "{stdout}");

    let counts = deliveries(mail_dir.path());
    assert_eq!(counts.len(), readers, "everyone got a digest: {counts:?}");
    let repeated: Vec<&String> = counts
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(to, _)| to)
        .collect();
    // Exactly the documented worst case: the one digest the server took before the
    // kill, for one subscriber, and only once more.
    assert_eq!(repeated.len(), 1, "{counts:?}");
    assert_eq!(counts[repeated[0]], 2, "{counts:?}");
}

/// Sections of a digest's text part: title → arXiv ids linked in it, in order.
fn sections(text: &str) -> BTreeMap<String, Vec<String>> {
    let lines: Vec<&str> = text.lines().collect();
    let mut sections = BTreeMap::new();
    let mut current: Option<String> = None;
    for (index, line) in lines.iter().enumerate() {
        let underline = lines.get(index + 1).is_some_and(|next| {
            let next = next.trim();
            next.len() >= 3 && next.chars().all(|c| c == '=' || c == '-')
        });
        if underline && !line.trim().is_empty() {
            current = Some(line.trim().to_owned());
            sections.insert(line.trim().to_owned(), Vec::new());
        } else if let (Some(title), Some(id)) = (
            &current,
            line.trim().strip_prefix(&format!("{BASE}/papers/")),
        ) {
            sections
                .get_mut(title)
                .expect("section")
                .push(id.to_owned());
        }
    }
    sections
}

#[test]
fn saved_searches_in_digests_are_answered_by_the_search_index() {
    let (Some(shared), Some(dir)) = (shared(), store_with_hf_days(usize::MAX)) else {
        return;
    };
    // An author filter: the index answers it from the papers' author field, while the
    // store's plain term matching (the fallback) looks for the words "author:" and
    // "zhangyang wang" in titles and abstracts and finds nothing.
    let query = r#"author:"Zhangyang Wang""#;
    let mut store = Store::open(dir.path()).expect("store");
    subscribe_confirmed_with(
        &mut store,
        SECRET,
        &SubscribeRequest {
            email: "reader@example.org".into(),
            frequency: Frequency::Weekly,
            categories: Vec::new(),
            queries: vec![query.to_owned()],
            owner: None,
        },
    );
    drop(store);

    // The week 2024-W01: its papers are those of the feed days 1 to 7 January.
    let week: BTreeSet<String> = (1..=7)
        .map(|day| {
            data(
                &shared,
                &format!("hf-daily-papers-api/2023-11-to-2024-04/daily_papers_2024-01-0{day}.json"),
            )
        })
        .filter(|path| path.exists())
        .flat_map(|path| {
            let items: Vec<serde_json::Value> =
                serde_json::from_slice(&std::fs::read(path).expect("day")).expect("JSON");
            items
                .into_iter()
                .map(|item| item["paper"]["id"].as_str().expect("id").to_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    // What the index finds for the query, over every paper.
    let found: Vec<String> = ok(
        dir.path(),
        &[
            "search", "--json", "--mode", "lexical", "--limit", "500", query,
        ],
    )
    .lines()
    .map(|line| {
        let hit: serde_json::Value = serde_json::from_str(line).expect("hit JSON");
        hit["id"].as_str().expect("id").to_owned()
    })
    .collect();
    assert!(
        found.iter().any(|id| !week.contains(id)),
        "the author has papers outside the week too, which the digest must leave out: {found:?}"
    );

    let mail_dir = tempfile::tempdir().expect("mail dir");
    let server = Server::start(mail_dir.path());
    let output = send_command(
        dir.path(),
        server.port,
        &["--period", "weekly", "--as-of", "2024-01-08"],
    )
    .output()
    .expect("papers runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("sent           1"), "{stdout}");
    let messages = received(mail_dir.path());
    assert_eq!(messages.len(), 1);
    let text = messages[0]["parts"]
        .as_array()
        .expect("parts")
        .iter()
        .find(|part| part["content_type"] == "text/plain")
        .and_then(|part| part["body"].as_str())
        .expect("text part");
    let sections = sections(text);
    let listed = sections
        .get(&format!("Matching “{query}”"))
        .unwrap_or_else(|| panic!("no saved-search section in {sections:?}"));
    // The week's papers the index found, less those the digest already listed under
    // Trending (a paper shows once per digest), in the index's order, five at most.
    let trending = sections.get("Trending").cloned().unwrap_or_default();
    let expected: Vec<&String> = found
        .iter()
        .filter(|id| week.contains(*id) && !trending.contains(id))
        .take(5)
        .collect();
    assert!(!expected.is_empty(), "found {found:?}, week {week:?}");
    assert_eq!(listed.iter().collect::<Vec<_>>(), expected, "{text}");
}

/// `papers serve` over `data_dir` on a free port, killed on drop.
struct Site {
    base: String,
    child: Child,
}

impl Site {
    fn start(data_dir: &Path) -> Site {
        let port = free_port();
        let child = papers(data_dir)
            .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
            .env("PAPERS_PUBLIC_URL", BASE)
            .env("PAPERS_SECRET", SECRET)
            .env("PAPERS_MODEL", data_dir.join("no-model"))
            .env_remove("PAPERS_SMTP_URL")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("papers serve starts");
        let site = Site {
            base: format!("http://127.0.0.1:{port}"),
            child,
        };
        papers_testkit::wait_for(
            &format!("papers serve on port {port}"),
            Duration::from_secs(120),
            || site.get("/api/daily_papers").0 == 200,
        );
        site
    }

    fn get(&self, path: &str) -> (u16, String) {
        http_get(&format!("{}{path}", self.base), Duration::from_secs(60))
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The arXiv ids a digest's HTML links to, in order.
fn linked_papers(html: &str) -> Vec<String> {
    let prefix = format!("href=\"{BASE}/papers/");
    html.match_indices(&prefix)
        .filter_map(|(at, _)| html[at + prefix.len()..].split('"').next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_preview_lists_the_papers_the_digest_then_mails() {
    let Some(dir) = store_with_hf_days(usize::MAX) else {
        return;
    };
    // A saved search only the search index answers (see the test above): the term
    // matching fallback would leave its section out of the preview.
    let query = r#"author:"Zhangyang Wang""#;
    let mut store = Store::open(dir.path()).expect("store");
    subscribe_confirmed_with(
        &mut store,
        SECRET,
        &SubscribeRequest {
            email: "reader@example.org".into(),
            frequency: Frequency::Weekly,
            categories: vec!["cs.CV".to_owned()],
            queries: vec![query.to_owned()],
            owner: None,
        },
    );
    let subscription = store
        .subscription_by_email("reader@example.org")
        .expect("read")
        .expect("subscribed");
    drop(store);
    let links = Links::new(
        PublicUrl::parse(BASE).expect("url"),
        Secret::new(SECRET.as_bytes().to_vec()).expect("secret"),
    );
    let preview = links.preview(&subscription, Utc::now());
    let path = preview.strip_prefix(BASE).expect("on the public URL");

    // The week 2024-W01's digest, as the site previews it.
    let site = Site::start(dir.path());
    let (status, preview_html) = site.get(&format!("{path}&as_of=2024-01-08"));
    assert_eq!(status, 200, "{preview_html}");
    drop(site);
    let previewed = linked_papers(&preview_html);

    // And as the sender mails it (also without a model, so both search alike).
    let mail_dir = tempfile::tempdir().expect("mail dir");
    let server = Server::start(mail_dir.path());
    let output = send_command(
        dir.path(),
        server.port,
        &["--period", "weekly", "--as-of", "2024-01-08"],
    )
    .env("PAPERS_MODEL", dir.path().join("no-model"))
    .output()
    .expect("papers runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("sent           1"), "{stdout}");
    let messages = received(mail_dir.path());
    let part = |kind: &str| {
        messages[0]["parts"]
            .as_array()
            .expect("parts")
            .iter()
            .find(|part| part["content_type"] == kind)
            .and_then(|part| part["body"].as_str())
            .expect("part")
            .to_owned()
    };
    let mailed = linked_papers(&part("text/html"));
    let searched = sections(&part("text/plain"))
        .get(&format!("Matching “{query}”"))
        .cloned()
        .unwrap_or_default();
    assert!(
        !searched.is_empty(),
        "the saved search found papers in the mail"
    );
    assert!(
        searched.iter().all(|id| previewed.contains(id)),
        "the preview lists the saved search's papers: {searched:?} in {previewed:?}"
    );
    assert_eq!(previewed, mailed, "the preview is the digest");
}
