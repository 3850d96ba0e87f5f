//! A real headless Chromium, driven through chromedriver with fantoccini, against the
//! app served on 127.0.0.1:0: sign up, log in, upvote, search, open a paper, follow
//! previous/next, and check that a `<script>` in a title never runs; a member who
//! forgot their password resets it by mail, then deletes the account; and a member
//! comments, replies, saves to a collection and hides read papers. Screenshots go to
//! `$PAPERS_SCREENSHOTS` (default: the target directory's `screenshots`).
//!
//! Without Chromium the test is skipped with a message, unless `CI` is set: there it
//! fails, so a CI machine without the browser cannot pass silently.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

use crate::common::app;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Kills chromedriver when the test ends, however it ends.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn start_driver() -> (Driver, u16) {
    let port = free_port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let driver = Driver(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(SocketAddr::from(([127, 0, 0, 1], port))).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    (driver, port)
}

async fn connect(port: u16, profile: &Path) -> Client {
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": CHROMIUM,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1200,1500",
                format!("--user-data-dir={}", profile.display()),
            ],
        }),
    );
    ClientBuilder::new(HttpConnector::new())
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a browser session")
}

fn screenshot_dir() -> PathBuf {
    let dir = std::env::var_os("PAPERS_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots"));
    std::fs::create_dir_all(&dir).expect("screenshot directory");
    dir
}

async fn save(client: &Client, dir: &Path, name: &str) {
    let png = client.screenshot().await.expect("screenshot");
    std::fs::write(dir.join(name), png).expect("write screenshot");
}

/// The injected script would set `window.__xss` and the document title.
async fn assert_no_script_ran(client: &Client) {
    let state = client
        .execute("return [typeof window.__xss, document.title];", vec![])
        .await
        .expect("script");
    assert_eq!(state[0], "undefined", "an injected script ran");
    assert_ne!(state[1], "pwned");
}

async fn text_of(client: &Client, css: &str) -> String {
    client
        .find(Locator::Css(css))
        .await
        .expect(css)
        .text()
        .await
        .expect("text")
}

async fn fill(client: &Client, css: &str, value: &str) {
    client
        .find(Locator::Css(css))
        .await
        .expect(css)
        .send_keys(value)
        .await
        .expect("type");
}

/// Clicks, then waits until an element that only the next page has appears (a click
/// that submits a form returns before the navigation it starts has finished).
async fn click_then(client: &Client, css: &str, next_page_has: &str) {
    client
        .find(Locator::Css(css))
        .await
        .expect(css)
        .click()
        .await
        .expect("click");
    client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(next_page_has))
        .await
        .unwrap_or_else(|e| panic!("after clicking {css}, no {next_page_has}: {e}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_uses_the_site_in_chromium() {
    if !Path::new(CHROMIUM).exists() || !Path::new(CHROMEDRIVER).exists() {
        papers_testkit::missing::<()>(format_args!(
            "no {CHROMIUM} or {CHROMEDRIVER}: install chromium and chromium-driver (scripts/setup-test-deps.sh)"
        ));
        return;
    }
    let app = app();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let server = tokio::spawn(papers_web::serve_on(listener, app.state.clone()));
    let (_driver, port) = start_driver();
    let profile = tempfile::tempdir().expect("profile dir");
    let client = connect(port, profile.path()).await;
    let shots = screenshot_dir();
    run(&client, &base, &shots).await;
    let _ = client.close().await;
    server.abort();
}

async fn run(client: &Client, base: &str, shots: &Path) {
    // The feed, and previous/next between days. The 3 January page carries the title
    // with a script in it.
    client.goto(&format!("{base}/papers")).await.expect("feed");
    assert!(text_of(client, "h1").await.contains("8 January 2024"));
    save(client, shots, "feed.png").await;
    click_then(client, "nav.pager a.prev", "a[href='/papers/2401.00003']").await;
    assert!(
        client
            .current_url()
            .await
            .expect("url")
            .path()
            .ends_with("/papers/date/2024-01-03")
    );
    assert!(
        client
            .source()
            .await
            .expect("source")
            .contains("Attacks &amp; &lt;b&gt;defences")
    );
    assert_no_script_ran(client).await;
    click_then(client, "nav.pager a.next", "a[href='/papers/2401.00005']").await;
    assert!(
        client
            .current_url()
            .await
            .expect("url")
            .path()
            .ends_with("/papers/date/2024-01-08")
    );

    // Sign up, log out, log in.
    client
        .goto(&format!("{base}/signup"))
        .await
        .expect("signup");
    fill(client, "#username", "browser").await;
    fill(client, "#email", "browser@example.org").await;
    fill(client, "#password", "correct-horse-battery").await;
    // Sign-up answers "check your inbox" (it says the same for a taken address).
    click_then(client, ".form-page button[type=submit]", "h1#check-email").await;
    client.goto(&format!("{base}/login")).await.expect("login");
    fill(client, "#username", "browser").await;
    fill(client, "#password", "correct-horse-battery").await;
    click_then(client, ".form-page button[type=submit]", "header a.user").await;
    assert_eq!(text_of(client, "header a.user").await, "browser");
    click_then(
        client,
        "header form.inline button",
        "header a[href='/signup']",
    )
    .await;
    client.goto(&format!("{base}/login")).await.expect("login");
    fill(client, "#username", "browser").await;
    fill(client, "#password", "correct-horse-battery").await;
    click_then(client, ".form-page button[type=submit]", "header a.user").await;
    assert_eq!(text_of(client, "header a.user").await, "browser");

    // Upvote the second paper of 2 January (12 imported votes) and see it count.
    client
        .goto(&format!("{base}/papers/date/2024-01-02"))
        .await
        .expect("day");
    let buttons = client
        .find_all(Locator::Css("form.vote button"))
        .await
        .expect("buttons");
    assert_eq!(
        buttons[1].text().await.expect("text").replace('\n', " "),
        "▲ 12"
    );
    buttons[1].click().await.expect("vote");
    client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("form.vote button.voted"))
        .await
        .expect("the page after voting");
    let after = client
        .find_all(Locator::Css("form.vote button"))
        .await
        .expect("buttons");
    assert!(after[1].text().await.expect("text").ends_with("13"));
    assert_eq!(
        after[1].attr("class").await.expect("class").as_deref(),
        Some("voted")
    );

    // Search, then open a result.
    client
        .goto(&format!("{base}/search"))
        .await
        .expect("search");
    fill(client, "#q", "retrieval").await;
    click_then(client, ".search-form button", "p.snippet mark").await;
    let marks = client
        .find_all(Locator::Css("p.snippet mark"))
        .await
        .expect("marks");
    assert_eq!(marks.len(), 2);
    save(client, shots, "search.png").await;
    click_then(client, "ol.results article.paper h2 a", "textarea#bibtex").await;
    assert!(
        client
            .current_url()
            .await
            .expect("url")
            .path()
            .starts_with("/papers/2401.0000")
    );
    assert!(client.find(Locator::Css("textarea#bibtex")).await.is_ok());
    save(client, shots, "paper.png").await;

    // The hostile paper's own page runs nothing either.
    client
        .goto(&format!("{base}/papers/2401.00003"))
        .await
        .expect("paper");
    assert!(text_of(client, "h1").await.starts_with("<script>"));
    assert_no_script_ran(client).await;
    eprintln!("screenshots in {}", shots.display());
}

/// Chromium and chromedriver, or `false` (after saying why) outside CI.
fn browser_available() -> bool {
    if Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI needs chromium and chromium-driver installed"
    );
    eprintln!("skipping the browser test: install chromium and chromium-driver to run it");
    false
}

/// A member who forgot their password resets it through the mailed link (read from
/// the real SMTP server), logs in with the new one, and deletes the account.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_resets_the_password_and_deletes_the_account_in_chromium() {
    if !browser_available() {
        return;
    }
    let Some(mail) = crate::mailbox::start_mail() else {
        return;
    };
    let app = crate::mailbox::mail_app(&mail, |_| {});
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let server = tokio::spawn(papers_web::serve_on(listener, app.state.clone()));
    let (_driver, port) = start_driver();
    let profile = tempfile::tempdir().expect("profile dir");
    let client = connect(port, profile.path()).await;
    let shots = screenshot_dir();
    reset_and_delete(&client, &base, &mail, &shots).await;
    let _ = client.close().await;
    server.abort();
    // The account is gone from the store.
    let store = papers_store::Store::open(app.dir.path()).expect("store");
    assert!(store.user_by_name("forgetful").expect("read").is_none());
}

async fn reset_and_delete(
    client: &Client,
    base: &str,
    mail: &crate::mailbox::MailServer,
    shots: &Path,
) {
    let address = "forgetful@example.org";
    let new_password = "lantern-orchard-quietly-seven";
    client
        .goto(&format!("{base}/signup"))
        .await
        .expect("signup");
    fill(client, "#username", "forgetful").await;
    fill(client, "#email", address).await;
    fill(client, "#password", "correct-horse-battery").await;
    click_then(client, ".form-page button[type=submit]", "h1#check-email").await;
    mail.wait_for(address, 1).await;

    // Forgot it: from the log-in page to the reset form.
    client.goto(&format!("{base}/login")).await.expect("login");
    click_then(
        client,
        "a[href='/account/password-reset']",
        "form[action='/account/password-reset'] #email",
    )
    .await;
    fill(client, "#email", address).await;
    click_then(client, ".form-page button[type=submit]", "p.notice").await;
    assert!(
        text_of(client, "p.notice")
            .await
            .contains("If an account uses that address")
    );
    save(client, shots, "reset-requested.png").await;

    // The link from the mail, opened in the browser.
    let link = mail.link_to(address, 2, "/account/password-reset/").await;
    client
        .goto(&format!("{base}{link}"))
        .await
        .expect("reset link");
    fill(client, "#password", new_password).await;
    save(client, shots, "reset-form.png").await;
    click_then(client, ".form-page button[type=submit]", ".account-notice").await;
    assert_eq!(text_of(client, "h1").await, "Password changed");

    // The old password no longer works; the new one does.
    client.goto(&format!("{base}/login")).await.expect("login");
    fill(client, "#username", "forgetful").await;
    fill(client, "#password", "correct-horse-battery").await;
    click_then(client, ".form-page button[type=submit]", "p.error").await;
    client.goto(&format!("{base}/login")).await.expect("login");
    fill(client, "#username", "forgetful").await;
    fill(client, "#password", new_password).await;
    click_then(client, ".form-page button[type=submit]", "header a.user").await;
    assert_eq!(text_of(client, "header a.user").await, "forgetful");

    // Delete the account from the account page, password asked again.
    click_then(client, "header a.account", "#delete-account").await;
    save(client, shots, "account.png").await;
    fill(client, "#delete-password", new_password).await;
    click_then(client, "#delete-account button", ".account-notice").await;
    assert_eq!(text_of(client, "h1").await, "Account deleted");
    assert!(
        client
            .find(Locator::Css("header a[href='/signup']"))
            .await
            .is_ok()
    );
    save(client, shots, "deleted.png").await;

    // Nobody can log in as the member any more.
    client.goto(&format!("{base}/login")).await.expect("login");
    fill(client, "#username", "forgetful").await;
    fill(client, "#password", new_password).await;
    click_then(client, ".form-page button[type=submit]", "p.error").await;
}

/// A member discusses a paper (a comment, then a reply), saves a paper to a new
/// collection with a note, and hides the papers they have read, all through the forms.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_discusses_saves_and_hides_read_papers_in_chromium() {
    if !Path::new(CHROMIUM).exists() || !Path::new(CHROMEDRIVER).exists() {
        papers_testkit::missing::<()>(format_args!(
            "no {CHROMIUM} or {CHROMEDRIVER}: install chromium and chromium-driver (scripts/setup-test-deps.sh)"
        ));
        return;
    }
    let app = app();
    // Made in the store so the test is about the community forms, not sign-up.
    let hash = papers_web::hash_password("correct-horse-battery").expect("hash");
    papers_store::Store::open(app.dir.path())
        .expect("store")
        .create_user("reader", "reader@example.org", &hash, chrono::Utc::now())
        .expect("sql")
        .expect("created");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let server = tokio::spawn(papers_web::serve_on(listener, app.state.clone()));
    let (_driver, port) = start_driver();
    let profile = tempfile::tempdir().expect("profile dir");
    let client = connect(port, profile.path()).await;
    let shots = screenshot_dir();
    discuss_save_and_hide(&client, &base, &shots).await;
    let _ = client.close().await;
    server.abort();
}

async fn discuss_save_and_hide(client: &Client, base: &str, shots: &Path) {
    client.goto(&format!("{base}/login")).await.expect("login");
    fill(client, "#username", "reader").await;
    fill(client, "#password", "correct-horse-battery").await;
    click_then(client, ".form-page button[type=submit]", "header a.user").await;

    // A comment that mentions another paper, rendered with the mention linked.
    client
        .goto(&format!("{base}/papers/2401.00001"))
        .await
        .expect("paper");
    fill(
        client,
        "#comment-body",
        "Read this with **2401.00004** <script>window.__xss = 1</script>",
    )
    .await;
    click_then(
        client,
        "#comment-form button",
        "article.comment .comment-body a[href='/papers/2401.00004']",
    )
    .await;
    assert_eq!(
        text_of(client, "article.comment .comment-body strong").await,
        "2401.00004"
    );
    assert_no_script_ran(client).await;

    // A reply, from the thread's Reply form (a <details>, no JavaScript needed).
    client
        .find(Locator::Css("details.reply summary"))
        .await
        .expect("reply toggle")
        .click()
        .await
        .expect("open reply");
    fill(
        client,
        "details.reply textarea",
        "Agreed, section 3 especially.",
    )
    .await;
    click_then(client, "details.reply button", "ol.replies article.comment").await;
    assert!(
        text_of(client, "ol.replies article.comment .comment-body")
            .await
            .contains("section 3 especially")
    );
    save(client, shots, "discussion.png").await;

    // A new collection, then a paper saved into it with a note.
    client
        .goto(&format!("{base}/collections"))
        .await
        .expect("collections");
    fill(client, "#collection-title", "Reading group").await;
    click_then(client, "#new-collection button", "section.collection h1").await;
    client
        .goto(&format!("{base}/papers/2401.00004"))
        .await
        .expect("paper");
    client
        .find(Locator::Css("#save-collection"))
        .await
        .expect("collection select")
        .select_by_label("Reading group")
        .await
        .expect("choose the collection");
    fill(client, "#save-note", "for Thursday").await;
    click_then(client, "#save-form button", "p.saved-in a").await;
    assert_eq!(text_of(client, "p.saved-in a").await, "Reading group");
    client
        .find(Locator::Css("p.saved-in a"))
        .await
        .expect("collection link")
        .click()
        .await
        .expect("open collection");
    client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("p.note"))
        .await
        .expect("the collection page");
    assert!(text_of(client, "p.note").await.contains("for Thursday"));

    // 2401.00004 was opened, so it is read: hiding read papers leaves 2401.00003.
    client
        .goto(&format!("{base}/papers/date/2024-01-03"))
        .await
        .expect("day");
    assert!(
        client
            .find(Locator::Css(
                "article.paper.read a[href='/papers/2401.00004']"
            ))
            .await
            .is_ok(),
        "the read paper is marked"
    );
    client
        .find(Locator::Css("#hide-read"))
        .await
        .expect("hide read toggle")
        .click()
        .await
        .expect("tick");
    client
        .find(Locator::Css("form.controls button[type=submit]"))
        .await
        .expect("apply")
        .click()
        .await
        .expect("apply");
    // The box was ticked on the page before too: wait for the new page's address.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !client
        .current_url()
        .await
        .expect("url")
        .query()
        .is_some_and(|query| query.contains("hide_read=1"))
    {
        assert!(Instant::now() < deadline, "the feed with hide_read=1");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("#hide-read:checked"))
        .await
        .expect("the filtered page");
    let titles = client
        .find_all(Locator::Css("ol.papers article.paper h2 a"))
        .await
        .expect("cards");
    let mut shown = Vec::new();
    for title in titles {
        shown.push(title.attr("href").await.expect("href").unwrap_or_default());
    }
    assert_eq!(shown, ["/papers/2401.00003"]);
    save(client, shots, "hide-read.png").await;
}
