//! Submitting papers through the API and the form, against a fetcher that stands in
//! for arXiv: a stored paper, an unknown one fetched, no such paper, arXiv down
//! (nothing stored), every reference form, the submission window and the rate limit.
//! The binary's real arXiv client is tested against a recorded API server in the CLI
//! tests (`crates/papers/tests/cli/submit.rs`).

use std::sync::Arc;

use axum::http::{Method, StatusCode, header};
use chrono::Utc;
use papers_core::{ArxivId, Metadata, PaperRecord, Source};
use papers_store::Store;
use papers_web::{AppConfig, AppState, FetchError, PaperFetcher};
use serde_json::{Value, json};

use crate::common::{TestApp, seed};
use crate::tokens::token_for;

/// arXiv as far as these tests know it: two recent papers, one old one, one id that
/// cannot be reached, and nothing else.
struct FakeArxiv;

impl PaperFetcher for FakeArxiv {
    fn fetch(&self, id: &ArxivId) -> Result<Option<PaperRecord>, FetchError> {
        let published = match id.as_str() {
            "2402.01234" | "2402.04321" => Utc::now() - chrono::Duration::days(3),
            "2104.12255" => Utc::now() - chrono::Duration::days(1000),
            "2402.09999" => {
                return Err(FetchError::Unreachable("connection refused".into()));
            }
            _ => return Ok(None),
        };
        Ok(Some(PaperRecord {
            id: id.clone(),
            source: Source::ArxivApi,
            metadata: Metadata {
                title: format!("Fetched {id}"),
                abstract_text: "From arXiv.".into(),
                authors: vec!["Grace Hopper".into()],
                published: Some(published),
                ..Metadata::default()
            },
            community: None,
        }))
    }
}

fn submit_app(configure: impl FnOnce(&mut AppConfig)) -> TestApp {
    let dir = tempfile::tempdir().expect("dir");
    seed(dir.path());
    let mut config = AppConfig::new(dir.path(), "http://papers.test");
    configure(&mut config);
    let state = AppState::open(config)
        .expect("state")
        .with_fetcher(Arc::new(FakeArxiv));
    TestApp {
        router: papers_web::router(state.clone()),
        state,
        dir,
        postgres: None,
    }
}

fn parse(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

async fn api_submit(app: &TestApp, token: &str, reference: &str) -> crate::common::Reply {
    app.send(
        Method::POST,
        "/api/papers/submit",
        Some(json!({ "id": reference })),
        &[("authorization", &format!("Bearer {token}"))],
    )
    .await
}

fn stored(app: &TestApp, id: &str) -> Option<papers_store::StoredPaper> {
    Store::open(app.dir.path())
        .expect("store")
        .paper(&ArxivId::parse(id).expect("id"))
        .expect("read")
}

#[tokio::test]
async fn the_api_adds_fetches_and_answers_existing_entries() {
    let app = submit_app(|config| config.submit_max_age_days = 0);
    let cookie = app.sign_up("hana").await;
    let token = token_for(&app, &cookie, "submitter").await;

    // Stored but never in the feed: it enters today's feed.
    let added = api_submit(&app, &token, "2312.09999").await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    assert_eq!(added.headers[header::LOCATION], "/api/papers/2312.09999");
    let body = parse(&added.body);
    assert_eq!(body["id"], "2312.09999");
    let today = Utc::now().date_naive();
    let paper = stored(&app, "2312.09999").expect("paper");
    assert_eq!(paper.paper.community.feed_day, Some(today));
    assert_eq!(paper.paper.community.submitted_by.as_deref(), Some("hana"));

    // Again: already in the feed, the existing entry with 200.
    let again = api_submit(&app, &token, "arXiv:2312.09999v1").await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(parse(&again.body)["id"], "2312.09999");

    // Unknown to the store: fetched, stored with its submitter and today's day.
    let fetched = api_submit(&app, &token, "2402.01234").await;
    assert_eq!(fetched.status, StatusCode::CREATED, "{}", fetched.body);
    assert_eq!(parse(&fetched.body)["title"], "Fetched 2402.01234");
    let paper = stored(&app, "2402.01234").expect("fetched paper stored");
    assert_eq!(paper.paper.community.feed_day, Some(today));
    assert_eq!(paper.paper.community.submitted_by.as_deref(), Some("hana"));
    let day = app.get(&format!("/papers/date/{today}")).await;
    assert!(
        day.body.contains("Fetched 2402.01234"),
        "shown in today's feed"
    );

    // In the seed's feed already (2024-01-02): the entry as it was.
    let seeded = api_submit(&app, &token, "2401.00001").await;
    assert_eq!(seeded.status, StatusCode::OK);
    let paper = stored(&app, "2401.00001").expect("paper");
    assert_eq!(
        paper.paper.community.feed_day,
        chrono::NaiveDate::from_ymd_opt(2024, 1, 2),
        "the first feed day stays"
    );
}

#[tokio::test]
async fn every_reference_form_is_taken() {
    let app = submit_app(|config| config.submit_max_age_days = 0);
    let cookie = app.sign_up("ines").await;
    let token = token_for(&app, &cookie, "forms").await;
    for (reference, id) in [
        ("https://arxiv.org/abs/2402.01234v2", "2402.01234"),
        ("https://arxiv.org/pdf/2402.04321", "2402.04321"),
        ("https://huggingface.co/papers/2401.00002", "2401.00002"),
        ("hep-th/9901001", "hep-th/9901001"),
    ] {
        let reply = api_submit(&app, &token, reference).await;
        assert!(
            reply.status == StatusCode::CREATED || reply.status == StatusCode::OK,
            "{reference}: {} {}",
            reply.status,
            reply.body
        );
        assert_eq!(parse(&reply.body)["id"], id, "{reference}");
    }
    let junk = api_submit(&app, &token, "not a paper").await;
    assert_eq!(junk.status, StatusCode::BAD_REQUEST);
    assert!(
        parse(&junk.body)["error"]
            .as_str()
            .is_some_and(|e| e.contains("arXiv id"))
    );
    let malformed = app
        .send(
            Method::POST,
            "/api/papers/submit",
            Some(json!({ "paper": "2402.01234" })),
            &[("authorization", &format!("Bearer {token}"))],
        )
        .await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    let anonymous = app
        .send(
            Method::POST,
            "/api/papers/submit",
            Some(json!({ "id": "2402.01234" })),
            &[],
        )
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    let forged = app
        .send(
            Method::POST,
            "/api/papers/submit",
            Some(json!({ "id": "2402.01234" })),
            &[("cookie", &cookie)],
        )
        .await;
    assert_eq!(
        forged.status,
        StatusCode::FORBIDDEN,
        "a cookie needs its CSRF header"
    );
}

#[tokio::test]
async fn clear_answers_when_a_paper_cannot_be_added() {
    let app = submit_app(|_| {});
    let cookie = app.sign_up("jules").await;
    let token = token_for(&app, &cookie, "errors").await;

    let missing = api_submit(&app, &token, "2402.05555").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(
        parse(&missing.body)["error"],
        "arXiv has no paper 2402.05555."
    );

    let down = api_submit(&app, &token, "2402.09999").await;
    assert_eq!(down.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(down.headers[header::RETRY_AFTER], "60");
    let message = parse(&down.body)["error"].as_str().unwrap_or("").to_owned();
    assert!(
        message.contains("2402.09999")
            && message.contains("nothing was stored")
            && message.contains("Try again later"),
        "{message}"
    );
    assert!(stored(&app, "2402.09999").is_none(), "nothing stored");

    // Older than the default 14-day window, whether fetched or stored.
    let old = api_submit(&app, &token, "2104.12255").await;
    assert_eq!(old.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        parse(&old.body)["error"]
            .as_str()
            .is_some_and(|e| e.contains("2104.12255") && e.contains("last 14 days")),
        "{}",
        old.body
    );
    assert!(
        stored(&app, "2104.12255").is_none(),
        "refused papers are not stored"
    );
    let stored_old = api_submit(&app, &token, "2312.09999").await;
    assert_eq!(stored_old.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        stored(&app, "2312.09999").and_then(|p| p.paper.community.feed_day),
        None
    );

    // The form shows the same answers on the page.
    let csrf = app.csrf_for(&cookie).await;
    let page = app
        .post_form(
            "/submit",
            &format!("csrf={csrf}&reference=2402.09999"),
            Some(&cookie),
        )
        .await;
    assert_eq!(page.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(page.headers[header::RETRY_AFTER], "60");
    assert!(page.body.contains("nothing was stored") && page.body.contains("value=\"2402.09999\""));
    let page = app
        .post_form(
            "/submit",
            &format!("csrf={csrf}&reference=2104.12255"),
            Some(&cookie),
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("last 14 days"));
}

#[tokio::test]
async fn submissions_are_limited_per_member() {
    let app = submit_app(|config| {
        config.submit_max_age_days = 0;
        config.submissions_per_hour = 2;
    });
    let cookie = app.sign_up("kim").await;
    let token = token_for(&app, &cookie, "limit").await;
    for id in ["2402.01234", "2402.04321"] {
        assert_eq!(
            api_submit(&app, &token, id).await.status,
            StatusCode::CREATED
        );
    }
    let limited = api_submit(&app, &token, "2312.09999").await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = limited.headers[header::RETRY_AFTER]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!(
        (1700..=1800).contains(&wait),
        "half an hour for one of two per hour: {wait}"
    );
    assert!(
        parse(&limited.body)["error"]
            .as_str()
            .is_some_and(|e| e.contains("2 papers an hour"))
    );
    // A paper already in the feed answers without spending the allowance.
    assert_eq!(
        api_submit(&app, &token, "2402.01234").await.status,
        StatusCode::OK
    );
    // Another member has their own allowance.
    let other = app.sign_up("lee").await;
    let other_token = token_for(&app, &other, "limit").await;
    assert_eq!(
        api_submit(&app, &other_token, "2312.09999").await.status,
        StatusCode::CREATED
    );
}
