//! Security: escaping, CSRF on every form, hostile parameters, body limits, headers,
//! redirects and rate limits.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};

use crate::common::{app, app_with, csrf_in};

#[tokio::test]
async fn script_in_a_title_is_escaped_everywhere() {
    let app = app();
    for path in [
        "/papers/date/2024-01-03",
        "/papers/2401.00003",
        "/search?q=attacks",
        "/users/alice",
    ] {
        let page = app.get(path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert!(
            !page.body.contains("<script>window"),
            "{path} carries the raw script"
        );
        assert!(page.body.contains("&lt;script&gt;window.__xss"), "{path}");
        assert!(!page.body.contains("<b>defences</b>"), "{path}");
    }
    let json = app.get("/api/papers/2401.00003").await;
    let value: serde_json::Value = serde_json::from_str(&json.body).expect("json");
    assert_eq!(
        value["title"],
        crate::common::XSS_TITLE,
        "JSON keeps the text as it is"
    );
}

#[tokio::test]
async fn security_headers_on_every_response() {
    let app = app();
    for path in [
        "/papers",
        "/papers",
        "/api/daily_papers",
        "/no/such/page",
        "/static/style.css",
    ] {
        let reply = app.get(path).await;
        let csp = reply.headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .expect("ascii");
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{path}"
        );
        assert_eq!(reply.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert!(reply.headers.contains_key(header::REFERRER_POLICY));
    }
    // No inline scripts or style attributes that the policy would block.
    let page = app.get("/papers/2401.00001").await.body;
    assert!(!page.contains("<script>") && !page.contains(" style=") && !page.contains(" onclick="));
}

#[tokio::test]
async fn forms_without_their_csrf_token_are_refused() {
    let app = app();
    let cookie = app.sign_up("mallory").await;
    let csrf = app.csrf_for(&cookie).await;
    for (path, body) in [
        ("/vote", "paper=2401.00001&back=%2Fpapers".to_owned()),
        ("/vote", "csrf=wrong&paper=2401.00001".to_owned()),
        ("/logout", String::new()),
        ("/submit", "reference=2401.00001".to_owned()),
    ] {
        let reply = app.post_form(path, &body, Some(&cookie)).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{path} {body}");
    }
    // The session survived the attempts and the vote count did not move.
    let page = app.get_as("/papers/2401.00001", Some(&cookie)).await;
    assert!(page.body.contains("<span class=\"count\">40</span>"));
    assert!(page.body.contains(&csrf));
    // Log-in and sign-up need the pre-session token and its cookie.
    let login = app
        .post_form(
            "/login",
            "username=mallory&password=correct-horse-battery",
            None,
        )
        .await;
    assert_eq!(login.status, StatusCode::FORBIDDEN);
    let form = app.get("/login").await;
    let token = csrf_in(&form.body).expect("token");
    let without_cookie = app
        .post_form(
            "/login",
            &format!("csrf={token}&username=mallory&password=correct-horse-battery"),
            None,
        )
        .await;
    assert_eq!(without_cookie.status, StatusCode::FORBIDDEN);
    let signup = app
        .post_form(
            "/signup",
            "username=eve&email=eve%40example.org&password=correct-horse-battery",
            None,
        )
        .await;
    assert_eq!(signup.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn sql_metacharacters_in_every_parameter_are_harmless() {
    let app = app();
    let nasty = [
        "'",
        "\"",
        "' OR '1'='1",
        "1; DROP TABLE papers; --",
        "%",
        "_",
        "\\",
        "%27%3B--",
        "\u{0}",
    ];
    for value in nasty {
        let encoded = papers_web_encode(value);
        for path in [
            format!("/papers/date/2024-01-02?category={encoded}"),
            format!("/papers/date/2024-01-02?sort={encoded}"),
            format!("/papers/date/2024-01-02?p={encoded}"),
            format!("/papers/date/{encoded}"),
            format!("/papers/week/{encoded}"),
            format!("/papers/month/{encoded}"),
            format!("/papers/{encoded}"),
            format!("/users/{encoded}"),
            format!("/organizations/{encoded}"),
            format!("/search?q={encoded}&category={encoded}&mode={encoded}"),
            format!("/search/feed.rss?q={encoded}"),
            format!("/api/daily_papers?date={encoded}&submitter={encoded}"),
            format!("/api/daily_papers?submitter={encoded}"),
            format!("/api/daily_papers?week={encoded}&sort={encoded}&p={encoded}&limit={encoded}"),
            format!("/api/papers/{encoded}"),
            format!("/api/papers?cursor={encoded}&limit={encoded}"),
            format!("/api/papers/search?q={encoded}&limit={encoded}"),
            format!("/api/papers/{encoded}/similar"),
        ] {
            let reply = app.get(&path).await;
            assert!(
                [
                    StatusCode::OK,
                    StatusCode::BAD_REQUEST,
                    StatusCode::NOT_FOUND
                ]
                .contains(&reply.status),
                "{path}: {}",
                reply.status
            );
        }
    }
    let cookie = app.sign_up("sqlfan").await;
    let csrf = app.csrf_for(&cookie).await;
    let reply = app
        .post_form(
            "/vote",
            &format!("csrf={csrf}&paper=%27%20OR%201%3D1--&back=%2F"),
            Some(&cookie),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    // The store is intact.
    let papers: serde_json::Value =
        serde_json::from_str(&app.get("/api/papers?limit=100").await.body).expect("json");
    assert_eq!(papers.as_array().map(Vec::len), Some(7));
}

fn papers_web_encode(text: &str) -> String {
    text.bytes().map(|b| format!("%{b:02X}")).collect()
}

#[tokio::test]
async fn oversized_bodies_get_413() {
    let app = app();
    let big = "a".repeat(200 * 1024);
    let request = Request::builder()
        .method(Method::POST)
        .uri("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::CONTENT_LENGTH, big.len())
        .body(Body::from(big.clone()))
        .expect("request");
    assert_eq!(
        app.request(request).await.status,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    let request = Request::builder()
        .method(Method::POST)
        .uri("/api/papers/2401.00001/upvote")
        .header(header::CONTENT_LENGTH, big.len())
        .body(Body::from(big))
        .expect("request");
    assert_eq!(
        app.request(request).await.status,
        StatusCode::PAYLOAD_TOO_LARGE
    );
}

#[tokio::test]
async fn redirects_stay_on_the_site() {
    let app = app();
    for next in [
        "https%3A%2F%2Fevil.example",
        "%2F%2Fevil.example",
        "%2F%5Cevil.example",
    ] {
        let form = app.get(&format!("/login?next={next}")).await;
        assert!(
            form.body.contains("name=\"next\" value=\"/papers\""),
            "{next}"
        );
    }
}

#[tokio::test]
async fn log_in_attempts_are_rate_limited() {
    let app = app_with(true, |config| config.auth_per_minute = 3);
    let form = app.get("/login").await;
    let pre = crate::common::set_cookie(&form.headers, "papers_csrf").expect("cookie");
    let token = csrf_in(&form.body).expect("token");
    let cookie = format!("papers_csrf={pre}");
    let body = format!("csrf={token}&username=nobody&password=whatever-it-is");
    for _ in 0..3 {
        assert_eq!(
            app.post_form("/login", &body, Some(&cookie)).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        app.post_form("/login", &body, Some(&cookie)).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn votes_are_rate_limited_per_member() {
    let app = app_with(true, |config| config.votes_per_minute = 2);
    let cookie = app.sign_up("eager").await;
    let csrf = app.csrf_for(&cookie).await;
    let vote = |n: u32| {
        Request::builder()
            .method(Method::POST)
            .uri(format!("/api/papers/2401.0000{n}/upvote"))
            .header(header::COOKIE, &cookie)
            .header("x-csrf-token", &csrf)
            .body(Body::empty())
            .expect("request")
    };
    assert_eq!(app.request(vote(1)).await.status, StatusCode::OK);
    assert_eq!(app.request(vote(2)).await.status, StatusCode::OK);
    let limited = app.request(vote(4)).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.body.contains("\"error\""));
}

#[tokio::test]
async fn hostile_usernames_and_passwords_are_only_data() {
    let app = app();
    let form = app.get("/login").await;
    let pre = crate::common::set_cookie(&form.headers, "papers_csrf").expect("cookie");
    let token = csrf_in(&form.body).expect("token");
    let body = format!(
        "csrf={token}&username=%27%20OR%20%271%27%3D%271&password=%27%20OR%20%271%27%3D%271%27--"
    );
    let reply = app
        .post_form("/login", &body, Some(&format!("papers_csrf={pre}")))
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    let signup = app.get("/signup").await;
    let pre = crate::common::set_cookie(&signup.headers, "papers_csrf").expect("cookie");
    let token = csrf_in(&signup.body).expect("token");
    let body = format!(
        "csrf={token}&username=robert%27%29%3B--&email=x%40example.org&password=correct-horse-battery"
    );
    let reply = app
        .post_form("/signup", &body, Some(&format!("papers_csrf={pre}")))
        .await;
    assert_eq!(
        reply.status,
        StatusCode::BAD_REQUEST,
        "usernames are letters, digits, - and _"
    );
    assert!(
        reply.body.contains("robert&#39;);--") || reply.body.contains("robert');--"),
        "the value is echoed escaped"
    );
}
