//! The HTML pages: feeds with navigation, sorting and filters, the paper page,
//! community pages, search states, and sign-up to upvote.

use axum::http::{StatusCode, header};

use crate::common::{app, app_with, csrf_in};

fn position(body: &str, needle: &str) -> usize {
    body.find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not on the page"))
}

#[tokio::test]
async fn latest_day_is_the_front_page_with_previous_link() {
    let app = app();
    for path in ["/", "/papers"] {
        let page = app.get(path).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("Quantum kernels"));
        assert!(page.body.contains("Monday, 8 January 2024"));
        assert!(
            page.body.contains("href=\"/papers/date/2024-01-03\""),
            "previous day link"
        );
        assert!(!page.body.contains("rel=\"next\""));
        assert_eq!(
            page.headers[header::CONTENT_TYPE],
            "text/html; charset=utf-8"
        );
    }
}

#[tokio::test]
async fn day_week_and_month_views_sort_filter_and_link() {
    let app = app();
    let day = app.get("/papers/date/2024-01-02").await;
    assert_eq!(day.status, StatusCode::OK);
    assert!(
        position(&day.body, "Retrieval augmented") < position(&day.body, "Vision transformers")
    );
    assert!(day.body.contains("href=\"/papers/date/2024-01-03\""));
    assert!(day.body.contains("href=\"/papers/week/2024-W01\""));

    let week = app.get("/papers/week/2024-W01").await;
    assert!(week.body.contains("Dense retrieval") && week.body.contains("Vision transformers"));
    assert!(
        week.body.contains("href=\"/papers/week/2024-W02\""),
        "next week"
    );

    let month = app.get("/papers/month/2024-01?sort=newest").await;
    assert_eq!(month.status, StatusCode::OK);
    assert!(month.body.contains("Strings on old-style"));

    let filtered = app.get("/papers/month/2024-01?category=cs.IR").await;
    assert!(
        filtered.body.contains("Dense retrieval") && filtered.body.contains("Retrieval augmented")
    );
    assert!(!filtered.body.contains("Vision transformers"));
    assert!(
        filtered.body.contains("Information Retrieval"),
        "category names in the filter"
    );

    let trending = app.get("/papers/trending").await;
    assert!(
        trending
            .body
            .contains(&maud_escape(papers_rank::trending::FORMULA))
    );
    assert!(trending.body.contains("Quantum kernels"));

    for bad in [
        "/papers/date/2024-02-30",
        "/papers/week/2024-W60",
        "/papers/month/2024-13",
    ] {
        assert_eq!(app.get(bad).await.status, StatusCode::NOT_FOUND, "{bad}");
    }
    assert_eq!(
        app.get("/papers/date/2024-01-02?sort=sideways")
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.get("/papers/date/2024-01-02?p=x").await.status,
        StatusCode::BAD_REQUEST
    );
}

fn maud_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[tokio::test]
async fn paper_page_shows_everything() {
    let app = app();
    let page = app.get("/papers/2401.00001").await;
    assert_eq!(page.status, StatusCode::OK);
    for needle in [
        "Retrieval augmented generation at scale",
        "<a class=\"author\" href=\"/authors/Ada%20Lovelace\">Ada Lovelace</a>, <a class=\"author\" href=\"/authors/Alan%20Turing\">Alan Turing</a>",
        "$\\alpha &lt; \\beta$ &amp; more.",
        "A second paragraph.",
        "Computation and Language",
        "https://arxiv.org/abs/2401.00001",
        "https://arxiv.org/pdf/2401.00001",
        "https://github.com/example/2401.00001",
        "<textarea id=\"bibtex\" readonly",
        "eprint = {2401.00001}",
        "Similar papers",
        "href=\"/users/alice\"",
        "href=\"/organizations/acme\"",
    ] {
        assert!(page.body.contains(needle), "{needle:?} missing");
    }
    let old = app.get("/papers/hep-th/9901001").await;
    assert_eq!(old.status, StatusCode::OK);
    assert!(old.body.contains("High Energy Physics - Theory"));

    let versioned = app.get("/papers/2401.00001v2").await;
    assert_eq!(versioned.status, StatusCode::PERMANENT_REDIRECT);
    assert_eq!(versioned.headers[header::LOCATION], "/papers/2401.00001");
    for missing in [
        "/papers/2401.99999",
        "/papers/not-an-id",
        "/papers/../../etc/passwd",
    ] {
        assert_eq!(
            app.get(missing).await.status,
            StatusCode::NOT_FOUND,
            "{missing}"
        );
    }
}

#[tokio::test]
async fn community_pages_list_their_papers() {
    let app = app();
    let user = app.get("/users/alice").await;
    assert_eq!(user.status, StatusCode::OK);
    assert!(
        user.body.contains("Papers submitted by alice") && user.body.contains("Quantum kernels")
    );
    let org = app.get("/organizations/acme").await;
    assert_eq!(org.status, StatusCode::OK);
    assert_eq!(app.get("/users/nobody").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn search_page_highlights_and_says_when_nothing_matches() {
    let app = app();
    let results = app.get("/search?q=retrieval").await;
    assert_eq!(results.status, StatusCode::OK);
    assert!(
        results.body.contains("<mark>Retrieval</mark>")
            || results.body.contains("<mark>retrieval</mark>")
    );
    assert!(results.body.contains("/search/feed.atom?q=retrieval"));
    let none = app.get("/search?q=zebra%20crossing").await;
    assert!(none.body.contains("id=\"no-matches\""));
    let filtered = app.get("/search?q=retrieval&category=cs.CL").await;
    assert!(
        filtered.body.contains("Retrieval augmented")
            && !filtered.body.contains("Dense retrieval with")
    );
    assert_eq!(
        app.get("/search?q=((").await.status,
        StatusCode::BAD_REQUEST
    );
    // A failing index is the site's fault, not the reader's, and says nothing inside.
    let failed = app.get("/search?q=index-failure").await;
    assert_eq!(failed.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(!failed.body.contains("disk on fire"));
    let long = format!("/search?q={}", "a".repeat(251));
    assert_eq!(app.get(&long).await.status, StatusCode::BAD_REQUEST);

    let without = app_with(false, |_| {});
    let unavailable = without.get("/search?q=retrieval").await;
    assert_eq!(unavailable.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(unavailable.body.contains("papers reindex"));
}

#[tokio::test]
async fn sign_up_upvote_toggle_and_log_out() {
    let app = app();
    let cookie = app.sign_up("bob").await;
    let page = app.get_as("/papers/date/2024-01-02", Some(&cookie)).await;
    assert!(page.body.contains(">bob</a>"), "logged in");
    let csrf = csrf_in(&page.body).expect("token");
    let vote = format!("csrf={csrf}&paper=2401.00002&back=%2Fpapers%2Fdate%2F2024-01-02");
    let reply = app.post_form("/vote", &vote, Some(&cookie)).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(reply.headers[header::LOCATION], "/papers/date/2024-01-02");
    let after = app.get_as("/papers/2401.00002", Some(&cookie)).await;
    assert!(
        after.body.contains("<span class=\"count\">13</span>"),
        "12 imported + 1"
    );
    assert!(after.body.contains("class=\"voted\""));
    // Anonymous readers see the new count too: the vote invalidated the page cache.
    assert!(
        app.get("/papers/2401.00002")
            .await
            .body
            .contains("<span class=\"count\">13</span>")
    );
    app.post_form("/vote", &vote, Some(&cookie)).await;
    assert!(
        app.get("/papers/2401.00002")
            .await
            .body
            .contains("<span class=\"count\">12</span>")
    );

    // Log out, then log in again with the password.
    let reply = app
        .post_form("/logout", &format!("csrf={csrf}"), Some(&cookie))
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert!(
        !app.get_as("/papers", Some(&cookie))
            .await
            .body
            .contains(">bob</a>"),
        "session gone"
    );
    let form = app.get("/login").await;
    let pre = crate::common::set_cookie(&form.headers, "papers_csrf").expect("cookie");
    let token = csrf_in(&form.body).expect("token");
    let wrong = app
        .post_form(
            "/login",
            &format!("csrf={token}&username=bob&password=nope-nope-nope"),
            Some(&format!("papers_csrf={pre}")),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let right = app
        .post_form(
            "/login",
            &format!("csrf={token}&username=bob&password=correct-horse-battery&next=%2Fsubmit"),
            Some(&format!("papers_csrf={pre}")),
        )
        .await;
    assert_eq!(right.status, StatusCode::SEE_OTHER);
    assert_eq!(right.headers[header::LOCATION], "/submit");
    assert!(crate::common::set_cookie(&right.headers, "papers_session").is_some());
}

#[tokio::test]
async fn duplicate_sign_up_is_refused() {
    let app = app();
    app.sign_up("carol").await;
    let form = app.get("/signup").await;
    let pre = crate::common::set_cookie(&form.headers, "papers_csrf").expect("cookie");
    let token = csrf_in(&form.body).expect("token");
    let body = format!(
        "csrf={token}&username=CAROL&email=other%40example.org&password=correct-horse-battery"
    );
    let reply = app
        .post_form("/signup", &body, Some(&format!("papers_csrf={pre}")))
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert!(reply.body.contains("taken"));
}

#[tokio::test]
async fn submit_adds_a_stored_paper_to_today_and_explains_offline() {
    // The seed's paper is from 2023: no submission window here.
    let app = app_with(true, |config| config.submit_max_age_days = 0);
    let cookie = app.sign_up("dave").await;
    let csrf = app.csrf_for(&cookie).await;
    let reply = app
        .post_form(
            "/submit",
            &format!("csrf={csrf}&reference=https%3A%2F%2Farxiv.org%2Fabs%2F2312.09999v1"),
            Some(&cookie),
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    let today = chrono::Utc::now().date_naive();
    let page = app.get(&format!("/papers/date/{today}")).await;
    assert!(page.body.contains("A paper never in the feed"));
    assert!(page.body.contains("href=\"/users/dave\""));

    let offline = app
        .post_form(
            "/submit",
            &format!("csrf={csrf}&reference=2402.01234"),
            Some(&cookie),
        )
        .await;
    assert_eq!(offline.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(offline.body.contains("offline"));
    let junk = app
        .post_form(
            "/submit",
            &format!("csrf={csrf}&reference=hello"),
            Some(&cookie),
        )
        .await;
    assert_eq!(junk.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn concurrent_votes_keep_counts_exact() {
    let app = app_with(true, |config| {
        config.auth_per_minute = 1000;
    });
    let mut members = Vec::new();
    for index in 0..12 {
        let cookie = app.sign_up(&format!("voter{index}")).await;
        let csrf = app.csrf_for(&cookie).await;
        members.push((cookie, csrf));
    }
    // Each member toggles three times (net +1) at once with everyone else.
    let mut tasks = Vec::new();
    for (cookie, csrf) in members {
        let router = app.router.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..3 {
                let request = axum::http::Request::builder()
                    .method("POST")
                    .uri("/api/papers/2401.00004/upvote")
                    .header(header::COOKIE, &cookie)
                    .header("x-csrf-token", &csrf)
                    .body(axum::body::Body::empty())
                    .expect("request");
                let response = tower::ServiceExt::oneshot(router.clone(), request)
                    .await
                    .expect("response");
                assert_eq!(response.status(), StatusCode::OK);
            }
        }));
    }
    for task in tasks {
        task.await.expect("task");
    }
    let paper = app.get("/api/papers/2401.00004").await;
    let json: serde_json::Value = serde_json::from_str(&paper.body).expect("json");
    assert_eq!(json["upvotes"], 30 + 12);
    let store = papers_store::Store::open(app.dir.path()).expect("store");
    let id = papers_core::ArxivId::parse("2401.00004").expect("id");
    let stored = store.paper(&id).expect("read").expect("paper");
    assert_eq!(
        u64::from(stored.member_upvotes),
        store.vote_rows(stored.key).expect("rows")
    );
}

#[tokio::test]
async fn anonymous_pages_come_from_the_cache_with_etags() {
    let app = app();
    let first = app.get("/papers/date/2024-01-02").await;
    let etag = first.headers[header::ETAG]
        .to_str()
        .expect("etag")
        .to_owned();
    let second = app.get("/papers/date/2024-01-02").await;
    assert_eq!(second.headers[header::ETAG], etag.as_str());
    assert_eq!(second.body, first.body);
    let request = axum::http::Request::builder()
        .uri("/papers/date/2024-01-02")
        .header(header::IF_NONE_MATCH, &etag)
        .body(axum::body::Body::empty())
        .expect("request");
    let revalidated = app.request(request).await;
    assert_eq!(revalidated.status, StatusCode::NOT_MODIFIED);
    assert!(revalidated.body.is_empty());
    // Pages with personal state are never shared or cached by browsers.
    let cookie = app.sign_up("frank").await;
    let member = app.get_as("/papers/date/2024-01-02", Some(&cookie)).await;
    assert!(member.headers.get(header::ETAG).is_none());
    assert_eq!(member.headers[header::CACHE_CONTROL], "private, no-store");
}

/// Stands in for the arXiv API client the binary wires.
struct OneFetcher;

impl papers_web::PaperFetcher for OneFetcher {
    fn fetch(
        &self,
        id: &papers_core::ArxivId,
    ) -> Result<Option<papers_core::PaperRecord>, papers_web::FetchError> {
        match id.as_str() {
            "2402.01234" => Ok(Some(papers_core::PaperRecord {
                id: id.clone(),
                source: papers_core::Source::ArxivApi,
                metadata: papers_core::Metadata {
                    title: "Fetched from arXiv".into(),
                    abstract_text: "Online.".into(),
                    ..papers_core::Metadata::default()
                },
                community: None,
            })),
            "2402.09999" => Err(papers_web::FetchError::Unreachable(
                "connection refused".into(),
            )),
            _ => Ok(None),
        }
    }
}

#[tokio::test]
async fn submit_fetches_unknown_papers_when_online() {
    let dir = tempfile::tempdir().expect("dir");
    crate::common::seed(dir.path());
    let state =
        papers_web::AppState::open(papers_web::AppConfig::new(dir.path(), "http://papers.test"))
            .expect("state")
            .with_fetcher(std::sync::Arc::new(OneFetcher));
    let app = crate::common::TestApp {
        router: papers_web::router(state.clone()),
        state,
        dir,
        postgres: None,
    };
    let cookie = app.sign_up("gina").await;
    let csrf = app.csrf_for(&cookie).await;
    let reply = app
        .post_form(
            "/submit",
            &format!("csrf={csrf}&reference=arXiv%3A2402.01234v1"),
            Some(&cookie),
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(reply.headers[header::LOCATION], "/papers/2402.01234");
    let page = app.get("/papers/2402.01234").await;
    assert!(page.body.contains("Fetched from arXiv") && page.body.contains("href=\"/users/gina\""));
    let unknown = app
        .post_form(
            "/submit",
            &format!("csrf={csrf}&reference=2402.05555"),
            Some(&cookie),
        )
        .await;
    assert!(unknown.body.contains("arXiv has no paper 2402.05555"));
    let down = app
        .post_form(
            "/submit",
            &format!("csrf={csrf}&reference=2402.09999"),
            Some(&cookie),
        )
        .await;
    assert_eq!(down.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(down.body.contains("connection refused") && down.body.contains("nothing was stored"));
}

#[tokio::test]
async fn period_links_keep_sort_and_category() {
    let app = app();
    let page = app
        .get("/papers/date/2024-01-03?sort=newest&category=cs.IR")
        .await;
    assert!(
        page.body
            .contains("href=\"/papers/date/2024-01-02?sort=newest&amp;category=cs.IR\""),
        "previous day"
    );
    assert!(
        page.body
            .contains("href=\"/papers/week/2024-W01?sort=newest&amp;category=cs.IR\""),
        "its week"
    );
}

#[tokio::test]
async fn cached_responses_are_gzipped_for_clients_that_ask() {
    use std::io::Read;
    let app = app();
    let plain = app.get("/api/daily_papers?month=2024-01").await;
    let request = axum::http::Request::builder()
        .uri("/api/daily_papers?month=2024-01")
        .header(header::ACCEPT_ENCODING, "br, gzip")
        .body(axum::body::Body::empty())
        .expect("request");
    let response = tower::ServiceExt::oneshot(app.router.clone(), request)
        .await
        .expect("response");
    assert_eq!(response.headers()[header::CONTENT_ENCODING], "gzip");
    assert_ne!(
        response.headers()[header::ETAG],
        plain.headers[header::ETAG]
    );
    let bytes = http_body_util::BodyExt::collect(response.into_body())
        .await
        .expect("body")
        .to_bytes();
    let mut text = String::new();
    flate2::read::GzDecoder::new(&bytes[..])
        .read_to_string(&mut text)
        .expect("gzip");
    assert_eq!(text, plain.body);
    assert!(plain.headers.get(header::CONTENT_ENCODING).is_none());
}
