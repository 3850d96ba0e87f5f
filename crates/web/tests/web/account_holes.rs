//! The smaller holes of issue 14, each written as the attack: redirects off the site
//! through `next=` and `back=`, `javascript:` URLs from imported data, cookies without
//! the `__Host-` prefix and no HSTS behind https, one client behind a proxy locking
//! everyone out, unlimited password guesses against one account, and guessable
//! passwords. (The database files' mode is tested in the store crate.)

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode, header};
use chrono::{NaiveDate, Utc};
use papers_core::{ArxivId, Community, Metadata, PaperRecord, Source};
use papers_store::Store;

use crate::common::{
    PASSWORD, Reply, TestApp, app, app_on, app_with, csrf_in, form_encode, set_cookie,
};
use crate::engines::Engine;

/// Posts the log-in form as a client at `peer`, with `forwarded` as `X-Forwarded-For`.
async fn log_in_from(
    app: &TestApp,
    peer: &str,
    forwarded: Option<&str>,
    username: &str,
    password: &str,
) -> Reply {
    let form = app.get("/login").await;
    let pre = set_cookie(&form.headers, "papers_csrf").expect("pre-session cookie");
    let token = csrf_in(&form.body).expect("csrf field");
    let body = format!(
        "csrf={token}&username={username}&password={}",
        form_encode(password)
    );
    let mut request = Request::builder()
        .method(Method::POST)
        .uri("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, format!("papers_csrf={pre}"));
    if let Some(forwarded) = forwarded {
        request = request.header("x-forwarded-for", forwarded);
    }
    let mut request = request.body(Body::from(body)).expect("request");
    let peer: SocketAddr = peer.parse().expect("socket address");
    request.extensions_mut().insert(ConnectInfo(peer));
    app.request(request).await
}

/// Issue 14: "`next=` and `back=` accept `/\t/evil.example` (a tab), which browsers
/// resolve to another site."
#[tokio::test]
async fn next_and_back_cannot_send_a_member_to_another_site() {
    let app = app();
    let cookie = app.sign_up("wanderer").await;
    let csrf = app.csrf_for(&cookie).await;
    let hostile = [
        "/\t/evil.example",
        "/\n/evil.example",
        "/\\evil.example",
        "/\t\\evil.example",
        "\\/evil.example",
        "//evil.example",
        "/\r/evil.example",
        "/\u{0}/evil.example",
        "https://evil.example/",
        "javascript:alert(1)",
    ];
    for target in hostile {
        // Logged in, the log-in page sends the member straight to `next`.
        let reply = app
            .get_as(
                &format!("/login?next={}", form_encode(target)),
                Some(&cookie),
            )
            .await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{target:?}");
        assert_eq!(
            reply.headers[header::LOCATION],
            "/papers",
            "next={target:?}"
        );
        // A vote sends the member back to `back`.
        let body = format!("csrf={csrf}&paper=2401.00001&back={}", form_encode(target));
        let reply = app.post_form("/vote", &body, Some(&cookie)).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{target:?}");
        assert_eq!(
            reply.headers[header::LOCATION],
            "/papers",
            "back={target:?}"
        );
    }
    // Paths on the site still work, query and all.
    let reply = app
        .get_as("/login?next=%2Fpapers%2F2401.00001%3Fx%3D1", Some(&cookie))
        .await;
    assert_eq!(reply.headers[header::LOCATION], "/papers/2401.00001?x=1");
}

/// Imports a paper whose links from Hugging Face are `javascript:` URLs.
fn import_hostile_links(store: &mut Store) {
    let mut batch = store.begin_ingest(Utc::now()).expect("begin");
    batch
        .upsert(PaperRecord {
            id: ArxivId::parse("2401.00009").expect("id"),
            source: Source::HuggingFace,
            metadata: Metadata {
                title: "Links from imported data".into(),
                ..Metadata::default()
            },
            community: Some(Community {
                feed_day: NaiveDate::from_ymd_opt(2024, 1, 2),
                github_repo: Some("javascript:alert(document.cookie)".into()),
                project_page: Some(" JaVaScRiPt:alert(1)".into()),
                upvotes: Some(1),
                ..Community::default()
            }),
        })
        .expect("upsert");
    batch.commit().expect("commit");
}

/// Issue 14: "a `javascript:` URL in imported `githubRepo` is rendered as a link (only
/// the CSP stops it)".
async fn a_javascript_url_from_imported_data_is_shown_as_text(engine: Engine) {
    let Some(app) = app_on(engine, true, |_| {}) else {
        return;
    };
    app.with_store(import_hostile_links);
    app.state.invalidate();
    for path in ["/papers/2401.00009", "/papers/date/2024-01-02"] {
        let page = app.get(path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        let lower = page.body.to_lowercase();
        assert!(
            !lower.contains("href=\"javascript:"),
            "{path}: {}",
            page.body
        );
        assert!(!lower.contains("href=\" javascript:"), "{path}");
    }
    let page = app.get("/papers/2401.00009").await.body;
    assert!(
        page.contains("javascript:alert(document.cookie)"),
        "shown as text"
    );
    // Real links still are links.
    let page = app.get("/papers/2401.00001").await.body;
    assert!(page.contains("href=\"https://github.com/example/2401.00001"));
}

/// Issue 14: "cookies lack the `__Host-` prefix and HSTS is never sent behind HTTPS".
#[tokio::test]
async fn over_https_cookies_are_host_only_and_hsts_is_sent() {
    let app = app_with(true, |config| {
        config.public_url = "https://papers.example".into();
    });
    let form = app.get("/login").await;
    assert_eq!(
        form.headers[header::STRICT_TRANSPORT_SECURITY],
        "max-age=31536000; includeSubDomains"
    );
    let cookies: Vec<&str> = form
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|value| value.to_str().expect("ascii"))
        .collect();
    let pre = cookies
        .iter()
        .find(|c| c.starts_with("__Host-papers_csrf="))
        .unwrap_or_else(|| panic!("a __Host- pre-session cookie: {cookies:?}"));
    assert!(pre.contains("; Secure") && pre.contains("Path=/") && !pre.contains("Domain"));
    // A log-in through the prefixed cookies works and sets a prefixed session.
    store_member(&app, "hostly");
    let value = pre
        .trim_start_matches("__Host-papers_csrf=")
        .split(';')
        .next()
        .expect("value");
    let token = csrf_in(&form.body).expect("token");
    let reply = app
        .post_form(
            "/login",
            &format!("csrf={token}&username=hostly&password={PASSWORD}"),
            Some(&format!("__Host-papers_csrf={value}")),
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let session = set_cookie(&reply.headers, "__Host-papers_session").expect("session");
    let cookie = format!("__Host-papers_session={session}");
    let page = app.get_as("/account", Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    // A plain cookie of the same name, as a subdomain could plant, opens nothing.
    let planted = app
        .get_as("/account", Some(&format!("papers_session={session}")))
        .await;
    assert_eq!(planted.status, StatusCode::SEE_OTHER);

    // Plain http (a laptop) keeps plain cookies and sends no HSTS.
    let local = app_with(true, |config| {
        config.public_url = "http://127.0.0.1:8080".into();
    });
    let form = local.get("/login").await;
    assert!(!form.headers.contains_key(header::STRICT_TRANSPORT_SECURITY));
    assert!(set_cookie(&form.headers, "papers_csrf").is_some());
}

/// An account made directly in the store (no mail needed): `name` with [`PASSWORD`].
fn store_member(app: &TestApp, name: &str) {
    let hash = {
        use argon2::password_hash::{PasswordHasher, SaltString};
        let salt = SaltString::encode_b64(b"sixteen byte salt").expect("salt");
        argon2::Argon2::default()
            .hash_password(PASSWORD.as_bytes(), &salt)
            .expect("hash")
            .to_string()
    };
    app.with_store(|store| {
        store
            .create_user(name, &format!("{name}@example.org"), &hash, Utc::now())
            .expect("sql")
            .expect("created")
    });
}

/// Issue 14: "login is limited per IP only (behind a proxy everyone shares one IP,
/// and one attacker locks everyone out)".
async fn behind_a_trusted_proxy_one_client_cannot_lock_out_the_others(engine: Engine) {
    let Some(app) = app_on(engine, true, |config| {
        config.auth_per_minute = 3;
        config.trusted_proxies = "10.0.0.0/8".parse().expect("networks");
    }) else {
        return;
    };
    store_member(&app, "patient");
    let proxy = "10.0.0.1:443";
    for _ in 0..3 {
        let reply = log_in_from(
            &app,
            proxy,
            Some("198.51.100.66"),
            "nobody",
            "guess-guess-guess",
        )
        .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    let limited = log_in_from(
        &app,
        proxy,
        Some("198.51.100.66"),
        "nobody",
        "guess-guess-guess",
    )
    .await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.headers.contains_key(header::RETRY_AFTER));
    // The attacker cannot claim another address: the proxy appends the real one.
    let spoofed = log_in_from(
        &app,
        proxy,
        Some("198.51.100.7, 198.51.100.66"),
        "nobody",
        "guess-guess-guess",
    )
    .await;
    assert_eq!(spoofed.status, StatusCode::TOO_MANY_REQUESTS);
    // Someone else behind the same proxy logs in.
    let other = log_in_from(&app, proxy, Some("198.51.100.7"), "patient", PASSWORD).await;
    assert_eq!(other.status, StatusCode::SEE_OTHER, "{}", other.body);

    // Without trusted proxies the header is ignored: no client picks its address.
    let Some(direct) = app_on(engine, true, |config| config.auth_per_minute = 3) else {
        return;
    };
    for index in 0..3 {
        let forwarded = format!("192.0.2.{index}");
        let reply = log_in_from(
            &direct,
            "203.0.113.9:5000",
            Some(&forwarded),
            "nobody",
            "guess-guess-guess",
        )
        .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    let reply = log_in_from(
        &direct,
        "203.0.113.9:5000",
        Some("192.0.2.99"),
        "nobody",
        "guess-guess-guess",
    )
    .await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
}

/// Issue 14: login limited per address only, so guesses against one account from
/// many addresses never slow down. Now each account slows down after a few failures
/// (whatever the address), and the owner is never locked out.
async fn guesses_against_one_account_slow_down_from_any_address(engine: Engine) {
    let Some(app) = app_on(engine, true, |config| {
        config.login_free_failures = 3;
        config.login_max_delay = Duration::from_secs(1);
    }) else {
        return;
    };
    store_member(&app, "target");
    store_member(&app, "neighbour");
    for index in 0..3 {
        let peer = format!("198.51.100.{index}:4000");
        let reply = log_in_from(&app, &peer, None, "target", "wrong-guess-wrong").await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "guess {index}");
    }
    let slowed = log_in_from(
        &app,
        "198.51.100.50:4000",
        None,
        "TARGET",
        "wrong-guess-wrong",
    )
    .await;
    assert_eq!(
        slowed.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        slowed.body
    );
    assert_eq!(slowed.headers[header::RETRY_AFTER], "1");
    // During the wait no guess is checked, not even the right one.
    let right = log_in_from(&app, "198.51.100.51:4000", None, "target", PASSWORD).await;
    assert_eq!(right.status, StatusCode::TOO_MANY_REQUESTS);
    // Other accounts are not affected.
    let other = log_in_from(&app, "198.51.100.50:4000", None, "neighbour", PASSWORD).await;
    assert_eq!(other.status, StatusCode::SEE_OTHER);
    // After the wait the owner logs in: slowed down, not locked out.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let owner = log_in_from(&app, "192.0.2.1:4000", None, "target", PASSWORD).await;
    assert_eq!(owner.status, StatusCode::SEE_OTHER, "{}", owner.body);
}

/// Issue 14: "passwords are checked for length only".
async fn a_guessable_password_is_refused_with_advice(engine: Engine) {
    let Some(app) = app_on(engine, true, |_| {}) else {
        return;
    };
    for (name, password) in [
        ("weakling", "password1234"),
        ("qwerty", "qwertyuiop123"),
        ("dana2024", "dana2024dana2024"),
    ] {
        let reply = app
            .sign_up_with(name, &format!("{name}@example.org"), password)
            .await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{password}: {}",
            reply.body
        );
        assert!(reply.body.contains("too easy to guess"), "{}", reply.body);
        assert!(app.with_store(|store| store.user_by_name(name).expect("sql").is_none()));
    }
    let reply = app
        .sign_up_with("strong", "strong@example.org", "velvet-harbour-tractor-ink")
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

crate::on_both_engines!(
    a_javascript_url_from_imported_data_is_shown_as_text,
    behind_a_trusted_proxy_one_client_cannot_lock_out_the_others,
    guesses_against_one_account_slow_down_from_any_address,
    a_guessable_password_is_refused_with_advice,
);
