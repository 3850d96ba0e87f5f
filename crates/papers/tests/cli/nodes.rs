//! Two `papers serve` nodes sharing one PostgreSQL store, each with its own data
//! directory (and so its own indexes): a vote cast on one is counted on the other, a
//! session made on one is valid on the other, a paper ingested through one node's
//! command line is searchable on the other within two seconds, two digest senders
//! started at once mail each digest once, and killing a node or an ingest midway
//! loses nothing.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use papers_store::testing::{Engine, TestDatabase};

use crate::common::{HELD_BYTES, HeldInput, data, free_port, hf_days, papers, shared, succeed};
use crate::digest::{BASE, Server as SmtpServer, received, subscribe_confirmed};

const SECRET: &str = "a secret the nodes share, long enough to sign";

/// A command against the shared store with this node's data directory.
fn node_command(dir: &Path, url: &str) -> Command {
    let mut command = papers(dir);
    command
        .arg("--database-url")
        .arg(url)
        .env("PAPERS_SECRET", SECRET)
        // Keyword search is enough here and keeps start-up quick.
        .env("PAPERS_MODEL", dir.join("no-model"));
    command
}

/// A `papers serve` process, killed on drop.
struct Node {
    base: String,
    child: Child,
}

impl Node {
    fn start(dir: &Path, url: &str) -> Node {
        let port = free_port();
        let child = node_command(dir, url)
            .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
            .args(["--public-url", BASE])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("papers serve starts");
        let node = Node {
            base: format!("http://127.0.0.1:{port}"),
            child,
        };
        papers_testkit::wait_for(
            &format!("node on port {port} answering"),
            Duration::from_secs(60),
            || get(&node.url("/api/daily_papers"), None).0 == 200,
        );
        node
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .into()
}

/// Status and body of a GET, with an optional cookie.
fn get(url: &str, cookie: Option<&str>) -> (u16, String) {
    let mut request = agent().get(url);
    if let Some(cookie) = cookie {
        request = request.header("Cookie", cookie);
    }
    match request.call() {
        Ok(mut response) => (
            response.status().as_u16(),
            response.body_mut().read_to_string().unwrap_or_default(),
        ),
        Err(_) => (0, String::new()),
    }
}

fn cookie_named(response: &ureq::http::Response<ureq::Body>, name: &str) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .find(|pair| pair.starts_with(&format!("{name}=")) && pair.len() > name.len() + 1)
        .map(str::to_owned)
}

fn csrf_in(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("csrf field") + 19;
    html[at..].split('"').next().expect("csrf value").to_owned()
}

/// Signs up and logs in through the node's forms; returns the session cookie.
/// Sign-up answers "check your inbox" whether or not the name or address is taken,
/// so the session comes from the log-in form.
fn sign_up(node: &Node, name: &str) -> String {
    let reply = post_form(
        node,
        "/signup",
        &format!("username={name}&email={name}%40example.org&password=correct-horse-battery"),
    );
    assert_eq!(reply.status().as_u16(), 200, "sign-up answers");
    let reply = post_form(
        node,
        "/login",
        &format!("username={name}&password=correct-horse-battery"),
    );
    assert_eq!(reply.status().as_u16(), 303, "log-in redirects");
    cookie_named(&reply, "papers_session").expect("session cookie")
}

/// Posts `fields` to the form at `path` with the pre-session cookie and token its
/// page hands out.
fn post_form(node: &Node, path: &str, fields: &str) -> ureq::http::Response<ureq::Body> {
    let mut form = agent().get(&node.url(path)).call().expect("form page");
    let pre = cookie_named(&form, "papers_csrf").expect("pre-session cookie");
    let token = csrf_in(&form.body_mut().read_to_string().expect("body"));
    agent()
        .post(&node.url(path))
        .header("Cookie", &pre)
        .content_type("application/x-www-form-urlencoded")
        .send(format!("csrf={token}&{fields}"))
        .expect("form post")
}

fn upvotes(node: &Node, id: &str) -> u64 {
    let (status, body) = get(&node.url(&format!("/api/papers/{id}")), None);
    assert_eq!(status, 200, "{body}");
    let paper: serde_json::Value = serde_json::from_str(&body).expect("paper JSON");
    paper["upvotes"].as_u64().expect("upvotes")
}

#[test]
fn two_nodes_share_one_postgres_store() {
    let Some(shared) = shared() else { return };
    let Some(database) = TestDatabase::create(Engine::Postgres) else {
        return;
    };
    let url = database.url().expect("postgres url").to_owned();
    let (dir_a, dir_b) = (database.dir.path().join("a"), database.dir.path().join("b"));
    let mut ingest = node_command(&dir_a, &url);
    ingest.arg("ingest").args(hf_days(&shared, 3));
    succeed(ingest);

    let mut a = Node::start(&dir_a, &url);
    let b = Node::start(&dir_b, &url);

    // A member signs up and votes on A; B counts the vote and knows the session.
    let id = "2401.00368";
    let before = upvotes(&b, id);
    let session = sign_up(&a, "ada");
    let (_, page) = get(&a.url("/submit"), Some(&session));
    let vote = agent()
        .post(&a.url(&format!("/api/papers/{id}/upvote")))
        .header("Cookie", &session)
        .header("x-csrf-token", csrf_in(&page))
        .send_empty()
        .expect("vote");
    assert_eq!(vote.status().as_u16(), 200);
    let counted =
        papers_testkit::poll_until(Duration::from_secs(5), || upvotes(&b, id) == before + 1);
    let counted = counted.expect("B never counted A's vote");
    eprintln!("vote on A counted on B after {counted:?}");
    let (status, page) = get(&b.url("/submit"), Some(&session));
    assert!(
        status == 200 && page.contains("name=\"csrf\""),
        "B knows A's session"
    );

    // A paper ingested through A's command line becomes searchable on B.
    let atom = data(
        &shared,
        "arxiv-api-atom/arxiv.py-2016/id_list=1111.2011v2.xml",
    );
    let mut ingest = node_command(&dir_a, &url);
    ingest.arg("ingest").arg(&atom);
    succeed(ingest);
    let mut show = node_command(&dir_a, &url);
    show.args(["show", "--json", "1111.2011"]);
    let shown: serde_json::Value = serde_json::from_str(&succeed(show)).expect("show JSON");
    let title = shown["title"].as_str().expect("title").to_owned();
    let words: Vec<&str> = title.split_whitespace().take(4).collect();
    let query = words.join("+");
    let found = papers_testkit::poll_until(Duration::from_secs(2), || {
        let (status, body) = get(&b.url(&format!("/api/papers/search?q={query}")), None);
        status == 200 && body.contains("1111.2011")
    });
    let found = found.unwrap_or_else(|| panic!("B did not find {title:?} within 2 s"));
    eprintln!("paper ingested through A searchable on B after {found:?}");

    // Killing A loses nothing: B still serves the vote and the new paper.
    a.kill();
    assert_eq!(upvotes(&b, id), before + 1);
    assert_eq!(get(&b.url("/api/papers/1111.2011"), None).0, 200);
}

#[test]
fn two_digest_senders_at_once_mail_each_digest_once() {
    let Some(shared) = shared() else { return };
    if !papers_testkit::smtp_available() {
        return;
    }
    let Some(database) = TestDatabase::create(Engine::Postgres) else {
        return;
    };
    let url = database.url().expect("postgres url").to_owned();
    let (dir_a, dir_b) = (database.dir.path().join("a"), database.dir.path().join("b"));
    let mut ingest = node_command(&dir_a, &url);
    ingest.arg("ingest").args(hf_days(&shared, 3));
    succeed(ingest);

    let mut store = database.open();
    let readers = 12;
    for n in 0..readers {
        subscribe_confirmed(&mut store, SECRET, &format!("reader{n}@example.org"));
    }
    drop(store);

    let mail_dir = tempfile::tempdir().expect("mail dir");
    let smtp = SmtpServer::start(mail_dir.path());
    let sender = |dir: &Path| {
        node_command(dir, &url)
            .args(["digest", "send", "--as-of", "2024-01-03"])
            .env("PAPERS_SMTP_URL", format!("smtp://127.0.0.1:{}", smtp.port))
            .env("PAPERS_MAIL_FROM", "Daily Papers <papers@papers.test>")
            .env("PAPERS_PUBLIC_URL", BASE)
            .env_remove("PAPERS_SMTP_PASSWORD")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("sender starts")
    };
    // Both start together; one wins the claim, the other is told a sender is running
    // (or, when the first already finished, finds every digest sent).
    let (first, second) = (sender(&dir_a), sender(&dir_b));
    let outputs = [first, second].map(|child| child.wait_with_output().expect("sender ends"));
    let succeeded = outputs.iter().filter(|o| o.status.success()).count();
    assert!(succeeded >= 1, "{outputs:?}");
    for output in outputs.iter().filter(|o| !o.status.success()) {
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("another digest sender"), "{stderr}");
    }
    // Whatever the interleaving, a third run finds everything sent.
    let third = sender(&dir_b).wait_with_output().expect("third run");
    let stdout = String::from_utf8_lossy(&third.stdout);
    assert!(third.status.success(), "{stdout}");
    assert!(stdout.contains("sent           0"), "{stdout}");

    let messages = received(mail_dir.path());
    let mut recipients: Vec<String> = messages
        .iter()
        .map(|m| m["rcpt_tos"][0].as_str().expect("recipient").to_owned())
        .collect();
    recipients.sort();
    let total = recipients.len();
    recipients.dedup();
    assert_eq!(
        (total, recipients.len()),
        (readers, readers),
        "one digest per reader"
    );
}

#[test]
fn an_ingest_killed_midway_leaves_no_partial_file() {
    let Some(shared) = shared() else { return };
    let Some(database) = TestDatabase::create(Engine::Postgres) else {
        return;
    };
    let url = database.url().expect("postgres url").to_owned();
    let dir = database.dir.path().join("a");
    let mut seed = node_command(&dir, &url);
    seed.arg("ingest").args(hf_days(&shared, 2));
    succeed(seed);
    let stats = |dir: &Path| -> serde_json::Value {
        let mut command = node_command(dir, &url);
        command.args(["stats", "--json"]);
        serde_json::from_str(&succeed(command)).expect("stats JSON")
    };
    let before = stats(&dir);

    // 76,803 records in one file, one transaction: the ingest reads it from a pipe
    // that is fed part of it and held open, so it is killed inside the transaction,
    // with thousands of records written and no end of file to commit on.
    let big = data(&shared, "arxiv-kaggle-format/arxiv-archive-2020.jsonl.gz");
    let input = HeldInput::create(database.dir.path(), &big, HELD_BYTES);
    let mut child = node_command(&dir, &url)
        .args(["ingest", "--format", "kaggle"])
        .arg(&input.path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("ingest starts");
    assert_eq!(
        input.wait_fed(&mut child, Duration::from_secs(300)),
        HELD_BYTES
    );
    assert_eq!(stats(&dir), before, "uncommitted records are invisible");
    assert!(
        child.try_wait().expect("status").is_none(),
        "the ingest ended before it was killed"
    );
    child.kill().expect("kill");
    child.wait().expect("reaped");
    drop(input);
    assert_eq!(stats(&dir), before, "nothing of the killed file is visible");
}
