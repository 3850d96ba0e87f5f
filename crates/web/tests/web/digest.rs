//! Email digest routes through the router: subscribing (form and API), confirmation
//! links, one-click unsubscribe, preferences and the preview, with a mailer that
//! records what it is asked to send.

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use papers_digest::{Deliver, Digests, Links, Mail, PublicUrl, Secret, SendError, Settings};
use papers_store::{Store, SubscriptionStatus};

use papers_web::{AppConfig, AppState};

use crate::common::{TestApp, csrf_in, seed, set_cookie};

#[derive(Default)]
struct Outbox(Mutex<Vec<Mail>>);

impl Deliver for Outbox {
    fn deliver(&self, mail: &Mail) -> Result<(), SendError> {
        self.0.lock().expect("outbox").push(mail.clone());
        Ok(())
    }
}

fn digests() -> Arc<Digests> {
    let links = Links::new(
        PublicUrl::parse("http://papers.test").expect("url"),
        Secret::new(b"a test secret of enough bytes".to_vec()).expect("secret"),
    );
    Arc::new(Digests::new(links, Settings::new("test-model")).expect("digests"))
}

fn digest_app(mail: bool) -> (TestApp, Arc<Outbox>) {
    let outbox = Arc::new(Outbox::default());
    let dir = tempfile::tempdir().expect("temp dir");
    seed(dir.path());
    let mailer: Option<Arc<dyn Deliver + Send + Sync>> =
        if mail { Some(outbox.clone()) } else { None };
    let state = AppState::open(AppConfig::new(dir.path(), "http://papers.test"))
        .expect("open app")
        .with_digests(digests(), mailer);
    let router = papers_web::router(state.clone());
    (
        TestApp {
            dir,
            state,
            router,
            postgres: None,
        },
        outbox,
    )
}

/// The path of the link in `text` that starts with `prefix` (after the host).
fn link_path(text: &str, prefix: &str) -> String {
    let start = text.find(prefix).expect("link in mail");
    let rest = &text[start..];
    let end = rest
        .find(|c: char| c.is_whitespace() || c == '"' || c == '<')
        .unwrap_or(rest.len());
    rest[..end].to_owned()
}

async fn post_json(app: &TestApp, body: &str) -> crate::common::Reply {
    app.request(
        Request::builder()
            .method(Method::POST)
            .uri("/api/subscriptions")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_owned()))
            .expect("request"),
    )
    .await
}

fn status_of(app: &TestApp, email: &str) -> Option<SubscriptionStatus> {
    let store = Store::open(app.dir.path()).expect("store");
    store
        .subscription_by_email(email)
        .expect("read")
        .map(|s| s.status)
}

#[tokio::test]
async fn api_subscribe_confirm_and_one_click_unsubscribe() {
    let (app, outbox) = digest_app(true);
    let reply = post_json(
        &app,
        r#"{"email":"reader@example.org","frequency":"daily","categories":["cs.IR"],"queries":["retrieval"]}"#,
    )
    .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    let answer: serde_json::Value = serde_json::from_str(&reply.body).expect("json");
    assert_eq!(answer["status"], "check_your_inbox");
    let mail = outbox
        .0
        .lock()
        .expect("outbox")
        .pop()
        .expect("confirmation mail");
    assert_eq!(mail.to.as_str(), "reader@example.org");
    let confirm = link_path(&mail.text, "/subscriptions/confirm/");

    // A tampered link is refused and changes nothing.
    let tampered = format!("{}x", confirm);
    assert_eq!(app.get(&tampered).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        status_of(&app, "reader@example.org"),
        Some(SubscriptionStatus::Pending)
    );

    let page = app.get(&confirm).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(
        status_of(&app, "reader@example.org"),
        Some(SubscriptionStatus::Confirmed)
    );

    // The unsubscribe link a digest would carry.
    let store = Store::open(app.dir.path()).expect("store");
    let subscription = store
        .subscription_by_email("reader@example.org")
        .expect("read")
        .expect("row");
    let url = digests()
        .links()
        .unsubscribe(&subscription, chrono::Utc::now());
    let path = url.trim_start_matches("http://papers.test").to_owned();

    // GET only asks; a tampered POST changes nothing.
    let ask = app.get(&path).await;
    assert_eq!(ask.status, StatusCode::OK);
    assert!(ask.body.contains("List-Unsubscribe"), "{}", ask.body);
    assert_eq!(
        status_of(&app, "reader@example.org"),
        Some(SubscriptionStatus::Confirmed)
    );
    let bad = app
        .post_form(&format!("{path}A"), "List-Unsubscribe=One-Click", None)
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        status_of(&app, "reader@example.org"),
        Some(SubscriptionStatus::Confirmed)
    );

    // One click: no cookie, no CSRF token.
    let done = app
        .post_form(&path, "List-Unsubscribe=One-Click", None)
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(
        status_of(&app, "reader@example.org"),
        Some(SubscriptionStatus::Unsubscribed)
    );
    let again = app
        .post_form(&path, "List-Unsubscribe=One-Click", None)
        .await;
    assert_eq!(again.status, StatusCode::OK);
}

#[tokio::test]
async fn api_refuses_bad_addresses_and_line_breaks() {
    let (app, outbox) = digest_app(true);
    for body in [
        r#"{"email":"not-an-address","frequency":"daily"}"#,
        r#"{"email":"a@example.org\r\nBcc: x@example.org","frequency":"daily"}"#,
        r#"{"email":"a@example.org","frequency":"daily","queries":["x\r\nBcc: y"]}"#,
        r#"{"email":"a@example.org","frequency":"hourly"}"#,
        r#"{"email":"#,
    ] {
        let reply = post_json(&app, body).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            reply.body
        );
        let answer: serde_json::Value = serde_json::from_str(&reply.body).expect("json error");
        assert!(answer["error"].is_string());
    }
    assert!(outbox.0.lock().expect("outbox").is_empty());
}

#[tokio::test]
async fn without_a_mailer_subscribing_says_mail_is_not_configured() {
    let (app, _) = digest_app(false);
    let reply = post_json(&app, r#"{"email":"a@example.org","frequency":"daily"}"#).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        reply.body.contains("Mail is not configured"),
        "{}",
        reply.body
    );
    assert_eq!(status_of(&app, "a@example.org"), None);
}

#[tokio::test]
async fn subscribe_form_needs_its_csrf_token() {
    let (app, outbox) = digest_app(true);
    let form = app.get("/subscribe").await;
    assert_eq!(form.status, StatusCode::OK);
    let pre = set_cookie(&form.headers, "papers_csrf").expect("pre-session cookie");
    let token = csrf_in(&form.body).expect("csrf field");
    let cookie = format!("papers_csrf={pre}");

    let forged = app
        .post_form(
            "/subscribe",
            "csrf=wrong&email=a%40example.org&frequency=weekly",
            Some(&cookie),
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let cookieless = app
        .post_form(
            "/subscribe",
            &format!("csrf={token}&email=a%40example.org&frequency=weekly"),
            None,
        )
        .await;
    assert_eq!(cookieless.status, StatusCode::FORBIDDEN);
    assert_eq!(status_of(&app, "a@example.org"), None);

    let ok = app
        .post_form(
            "/subscribe",
            &format!("csrf={token}&email=a%40example.org&frequency=weekly&categories=cs.IR+cs.CL&queries=retrieval"),
            Some(&cookie),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert!(ok.body.contains("Check your inbox"), "{}", ok.body);
    assert_eq!(outbox.0.lock().expect("outbox").len(), 1);
    assert_eq!(
        status_of(&app, "a@example.org"),
        Some(SubscriptionStatus::Pending)
    );
}

#[tokio::test]
async fn members_subscribe_with_their_address_but_see_it_only_once_verified() {
    let (app, outbox) = digest_app(true);
    let cookie = app.sign_up("carol").await;
    assert_eq!(
        app.get("/subscriptions").await.status,
        StatusCode::SEE_OTHER
    );
    let page = app.get_as("/subscribe", Some(&cookie)).await;
    assert!(page.body.contains("carol@example.org"), "{}", page.body);
    let csrf = csrf_in(&page.body).expect("csrf");
    let reply = app
        .post_form(
            "/subscribe",
            &format!(
                "csrf={csrf}&email=someone-else%40example.org&frequency=daily&categories=cs.IR"
            ),
            Some(&cookie),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(reply.body.contains("Check your inbox"), "{}", reply.body);
    assert_eq!(status_of(&app, "someone-else@example.org"), None);
    let mail = outbox.0.lock().expect("outbox").pop().expect("mail");
    assert_eq!(mail.to.as_str(), "carol@example.org");
    let confirm = link_path(&mail.text, "/subscriptions/confirm/");
    assert_eq!(app.get(&confirm).await.status, StatusCode::OK);
    assert_eq!(
        status_of(&app, "carol@example.org"),
        Some(SubscriptionStatus::Confirmed)
    );

    // Sign-up does not verify the account's address, so the member's pages neither
    // link nor show the subscription: anyone can sign up with any address.
    let store = Store::open(app.dir.path()).expect("store");
    let row = store
        .subscription_by_email("carol@example.org")
        .expect("read")
        .expect("row");
    assert_eq!(row.user_id, None);
    let preferences = app.get_as("/subscriptions", Some(&cookie)).await;
    assert_eq!(preferences.status, StatusCode::OK);
    assert!(
        preferences.body.contains("not verified"),
        "{}",
        preferences.body
    );
    assert!(!preferences.body.contains("/unsubscribe/"));
    let preview = app.get_as("/digest/preview", Some(&cookie)).await;
    assert_eq!(preview.status, StatusCode::OK);
    assert!(
        preview.body.contains("No digest to preview"),
        "{}",
        preview.body
    );
    let bad = app.get("/digest/preview?token=forged").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

/// Once the account's address is verified the member owns the subscription of that
/// address: their own request changes it at once (no mailed link), it is linked to
/// the account, and their pages show it.
#[tokio::test]
async fn a_verified_member_owns_the_subscription_of_their_address() {
    let (app, outbox) = digest_app(true);
    let cookie = app.sign_up("dora").await;
    crate::common::verify_address(&app, "dora");
    let mailed_before = outbox.0.lock().expect("outbox").len();
    let page = app.get_as("/subscribe", Some(&cookie)).await;
    let csrf = csrf_in(&page.body).expect("csrf");
    let reply = app
        .post_form(
            "/subscribe",
            &format!("csrf={csrf}&frequency=weekly&categories=cs.IR"),
            Some(&cookie),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(reply.body.contains("Preferences saved"), "{}", reply.body);
    assert_eq!(
        outbox.0.lock().expect("outbox").len(),
        mailed_before,
        "the owner's own request mails nothing"
    );
    let store = Store::open(app.dir.path()).expect("store");
    let row = store
        .subscription_by_email("dora@example.org")
        .expect("read")
        .expect("row");
    assert_eq!(row.status, SubscriptionStatus::Confirmed);
    let member = store.user_by_name("dora").expect("read").expect("member");
    assert_eq!(row.user_id, Some(member.id));
    let preferences = app.get_as("/subscriptions", Some(&cookie)).await;
    assert_eq!(preferences.status, StatusCode::OK);
    assert!(preferences.body.contains("cs.IR"), "{}", preferences.body);
}

#[tokio::test]
async fn the_subscription_api_is_in_the_openapi_document() {
    let (app, _) = digest_app(true);
    let spec = app.get("/api/openapi.json").await;
    assert!(spec.body.contains("/api/subscriptions"));
}
