//! The JSON API: Hugging Face's shapes and parameters, pagination, errors, and the
//! OpenAPI document matching the routes.

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::Value;

use crate::common::{app, app_with};

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

fn keys(value: &Value) -> BTreeSet<String> {
    value
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn daily_papers_has_hugging_face_shape() {
    let app = app();
    let reply = app.get("/api/daily_papers").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.headers[header::CONTENT_TYPE], "application/json");
    let items = json(&reply.body);
    let items = items.as_array().expect("array");
    assert_eq!(items.len(), 2, "the latest day, 2024-01-08");
    let item = &items[0];
    assert_eq!(item["publishedAt"], "2024-01-08T00:00:00.000Z");
    assert_eq!(item["numComments"], 2);
    assert_eq!(item["submittedBy"]["name"], "alice");
    assert_eq!(item["organization"]["name"], "acme");
    let paper = &item["paper"];
    assert_eq!(
        paper["authors"][0],
        serde_json::json!({"name": "Ada Lovelace", "hidden": false})
    );
    assert!(
        paper["publishedAt"]
            .as_str()
            .is_some_and(|s| s.ends_with(".000Z"))
    );
    assert!(paper["upvotes"].is_u64());
    assert!(
        paper["githubRepo"]
            .as_str()
            .is_some_and(|s| s.starts_with("https://github.com/"))
    );
}

/// Every field Hugging Face's own response has, we have (except media we lack).
#[tokio::test]
async fn daily_papers_has_every_field_of_hugging_faces_sample() {
    const SAMPLE: &str = "data/hf-daily-papers-api/daily_papers_2024-10-25.json";
    let Some(shared) = papers_testkit::shared_dir(SAMPLE) else {
        return;
    };
    let theirs = json(&std::fs::read_to_string(shared.join(SAMPLE)).expect("the sample"));
    let theirs = &theirs[0];
    let ours = json(&app().get("/api/daily_papers").await.body);
    let item = &ours[0];
    let paper = &item["paper"];
    let optional: BTreeSet<String> = ["mediaUrls", "thumbnail", "discussionId", "mediaUrl"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let missing: Vec<_> = keys(theirs)
        .difference(&keys(item))
        .filter(|k| !optional.contains(*k))
        .cloned()
        .collect();
    assert!(missing.is_empty(), "wrapper fields missing: {missing:?}");
    let missing: Vec<_> = keys(&theirs["paper"])
        .difference(&keys(paper))
        .filter(|k| !optional.contains(*k))
        .cloned()
        .collect();
    assert!(missing.is_empty(), "paper fields missing: {missing:?}");
    let (their_submitter, our_submitter) =
        (keys(&theirs["submittedBy"]), keys(&item["submittedBy"]));
    let shared_keys: Vec<_> = their_submitter.intersection(&our_submitter).collect();
    assert!(!shared_keys.is_empty(), "{item}");
    for key in shared_keys {
        assert_eq!(
            theirs["submittedBy"][key].is_string(),
            item["submittedBy"][key].is_string(),
            "{key}"
        );
    }
}

#[tokio::test]
async fn daily_papers_parameters_and_next_link() {
    let app = app();
    let first = app.get("/api/daily_papers?date=2024-01-02&limit=1").await;
    assert_eq!(json(&first.body).as_array().map(Vec::len), Some(1));
    let link = first.headers[header::LINK].to_str().expect("ascii");
    assert_eq!(
        link,
        "<http://papers.test/api/daily_papers?date=2024-01-02&p=1&limit=1>; rel=\"next\""
    );
    let second = app
        .get("/api/daily_papers?date=2024-01-02&p=1&limit=1")
        .await;
    assert_eq!(json(&second.body).as_array().map(Vec::len), Some(1));
    assert!(second.headers.get(header::LINK).is_none());

    let week = json(&app.get("/api/daily_papers?week=2024-W01").await.body);
    assert_eq!(week.as_array().map(Vec::len), Some(4));
    let month = json(
        &app.get("/api/daily_papers?month=2024-01&sort=trending")
            .await
            .body,
    );
    assert_eq!(month.as_array().map(Vec::len), Some(6));
    let by = json(
        &app.get("/api/daily_papers?submitter=alice&limit=100")
            .await
            .body,
    );
    assert_eq!(by.as_array().map(Vec::len), Some(6));

    for bad in [
        "/api/daily_papers?limit=0",
        "/api/daily_papers?limit=101",
        "/api/daily_papers?date=2024-1-2",
        "/api/daily_papers?date=2024-01-02&week=2024-W01",
        "/api/daily_papers?sort=random",
        "/api/daily_papers?p=-1",
    ] {
        let reply = app.get(bad).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(json(&reply.body)["error"].is_string(), "{bad}");
    }
}

#[tokio::test]
async fn papers_by_id_list_search_and_similar() {
    let app = app();
    let paper = json(&app.get("/api/papers/2401.00001").await.body);
    assert_eq!(paper["id"], "2401.00001");
    assert_eq!(paper["upvotes"], 40);
    let old = app.get("/api/papers/hep-th%2F9901001").await;
    assert_eq!(old.status, StatusCode::OK, "{}", old.body);
    for missing in ["/api/papers/2401.99999", "/api/papers/nonsense"] {
        let reply = app.get(missing).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND);
        assert!(json(&reply.body)["error"].is_string());
    }

    // Keyset pages cover every paper exactly once.
    let mut seen = BTreeSet::new();
    let mut next = Some("/api/papers?limit=3".to_owned());
    while let Some(path) = next {
        let reply = app.get(&path).await;
        for item in json(&reply.body).as_array().expect("array") {
            assert!(seen.insert(item["id"].as_str().expect("id").to_owned()));
        }
        next = reply.headers.get(header::LINK).map(|link| {
            let text = link.to_str().expect("ascii");
            text.trim_start_matches("<http://papers.test")
                .split('>')
                .next()
                .expect("url")
                .to_owned()
        });
    }
    assert_eq!(seen.len(), 7);
    assert_eq!(
        app.get("/api/papers?cursor=abc").await.status,
        StatusCode::BAD_REQUEST
    );

    let hits = json(&app.get("/api/papers/search?q=retrieval&limit=5").await.body);
    let hits = hits.as_array().expect("array");
    assert_eq!(hits.len(), 2);
    assert!(hits[0]["paper"]["id"].is_string() && hits[0]["title"].is_string());
    assert_eq!(
        app.get(&format!("/api/papers/search?q={}", "x".repeat(251)))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.get("/api/papers/search?q=x&limit=121").await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.get("/api/papers/search").await.status,
        StatusCode::BAD_REQUEST
    );

    let similar = json(&app.get("/api/papers/2401.00001/similar?limit=3").await.body);
    assert_eq!(similar.as_array().map(Vec::len), Some(3));
}

#[tokio::test]
async fn upvote_needs_session_and_csrf_header() {
    let app = app();
    let post = |cookie: Option<String>, token: Option<String>| {
        let mut builder = Request::builder()
            .method(Method::POST)
            .uri("/api/papers/2401.00001/upvote");
        if let Some(cookie) = cookie {
            builder = builder.header(header::COOKIE, cookie);
        }
        if let Some(token) = token {
            builder = builder.header("x-csrf-token", token);
        }
        builder.body(Body::empty()).expect("request")
    };
    let anonymous = app.request(post(None, None)).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert!(json(&anonymous.body)["error"].is_string());
    let cookie = app.sign_up("erin").await;
    assert_eq!(
        app.request(post(Some(cookie.clone()), None)).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.request(post(Some(cookie.clone()), Some("0".repeat(64))))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let csrf = app.csrf_for(&cookie).await;
    let ok = app.request(post(Some(cookie.clone()), Some(csrf))).await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(
        json(&ok.body),
        serde_json::json!({"id": "2401.00001", "upvoted": true, "upvotes": 41})
    );
}

#[tokio::test]
async fn old_style_ids_keep_their_slash_in_api_and_page_paths() {
    let app = app();
    for path in ["/api/papers/hep-th/9901001", "/api/papers/hep-th%2F9901001"] {
        let reply = app.get(path).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.body);
        assert_eq!(json(&reply.body)["id"], "hep-th/9901001", "{path}");
    }
    let similar = app.get("/api/papers/hep-th/9901001/similar?limit=2").await;
    assert_eq!(similar.status, StatusCode::OK, "{}", similar.body);
    let similar = json(&similar.body);
    let ids: Vec<&str> = similar
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|paper| paper["id"].as_str())
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(!ids.contains(&"hep-th/9901001"), "{ids:?}");

    let page = app.get("/papers/hep-th/9901001").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Strings on old-style identifiers"));

    // The static search route still wins over the catch-all.
    let hits = app.get("/api/papers/search?q=strings").await;
    assert_eq!(hits.status, StatusCode::OK, "{}", hits.body);
    assert!(hits.body.contains("hep-th/9901001"), "{}", hits.body);

    for missing in [
        "/api/papers/hep-th/9901999",
        "/api/papers/hep-th/9901001/extra",
        "/api/papers/hep-th/",
    ] {
        let reply = app.get(missing).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{missing}");
        assert!(json(&reply.body)["error"].is_string(), "{missing}");
    }
    let wrong_method = app.get("/api/papers/hep-th/9901001/upvote").await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        wrong_method
            .headers
            .get(header::ALLOW)
            .map(|v| v.as_bytes()),
        Some(&b"POST"[..])
    );

    let cookie = app.sign_up("olga").await;
    let csrf = app.csrf_for(&cookie).await;
    let vote = Request::builder()
        .method(Method::POST)
        .uri("/api/papers/hep-th/9901001/upvote")
        .header(header::COOKIE, &cookie)
        .header("x-csrf-token", &csrf)
        .body(Body::empty())
        .expect("request");
    let voted = app.request(vote).await;
    assert_eq!(voted.status, StatusCode::OK, "{}", voted.body);
    assert_eq!(
        json(&voted.body),
        serde_json::json!({"id": "hep-th/9901001", "upvoted": true, "upvotes": 2})
    );
}

#[tokio::test]
async fn openapi_document_lists_exactly_the_api_routes() {
    let app = app();
    let doc = json(&app.get("/api/openapi.json").await.body);
    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, methods)| keys(methods).into_iter().map(move |m| (path.clone(), m)))
        .collect();
    let table: BTreeSet<(String, String)> = papers_web::API_ROUTES
        .iter()
        .map(|r| (r.path.to_owned(), r.method.to_owned()))
        .collect();
    assert_eq!(documented, table);
    // Every documented route is served: a concrete request reaches a handler, never
    // the fallback's "no such page".
    for route in papers_web::API_ROUTES {
        let path = route.path.replace("{id}", "2401.00001");
        let method = match route.method {
            "post" => Method::POST,
            "delete" => Method::DELETE,
            "patch" => Method::PATCH,
            _ => Method::GET,
        };
        let reply = app
            .request(
                Request::builder()
                    .method(method)
                    .uri(&path)
                    .body(Body::empty())
                    .expect("request"),
            )
            .await;
        assert!(!reply.body.contains("no such page"), "{path} not routed");
        assert_ne!(reply.status, StatusCode::METHOD_NOT_ALLOWED, "{path}");
    }
    // And nothing undocumented answers under /api.
    for path in [
        "/api/users",
        "/api/papers/2401.00001/likes",
        "/api/papers/hep-th/9901001/likes",
        "/api/daily_papers/extra",
    ] {
        let reply = app.get(path).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(json(&reply.body)["error"], "no such page");
    }
}

/// The exact JSON clients receive, reviewed once and kept (`cargo insta review`).
#[tokio::test]
async fn json_responses_match_their_snapshots() {
    let app = app();
    for (name, path) in [
        (
            "daily_papers_2024_01_02",
            "/api/daily_papers?date=2024-01-02",
        ),
        ("paper_2401_00001", "/api/papers/2401.00001"),
        ("paper_old_style", "/api/papers/hep-th%2F9901001"),
        (
            "week_2024_w01_newest",
            "/api/daily_papers?week=2024-W01&limit=100",
        ),
        (
            "month_2024_01_trending",
            "/api/daily_papers?month=2024-01&sort=trending&limit=100",
        ),
        (
            "submitter_alice_page_2",
            "/api/daily_papers?submitter=alice&limit=2&p=1",
        ),
        ("search_retrieval", "/api/papers/search?q=retrieval&limit=5"),
        ("error_bad_limit", "/api/daily_papers?limit=500"),
        ("error_unknown_paper", "/api/papers/2401.99999"),
        ("openapi", "/api/openapi.json"),
    ] {
        insta::assert_json_snapshot!(name, json(&app.get(path).await.body));
    }
}

#[tokio::test]
async fn similar_papers_judge_the_request_before_saying_the_index_is_missing() {
    let app = app_with(false, |_| {});
    let bad = app
        .get("/api/papers/2401.00001/similar?exclude_authors=sometimes")
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);
    assert!(bad.body.contains("exclude_authors"), "{}", bad.body);
    let bad_day = app
        .get("/api/papers/2401.00001/similar?after=yesterday")
        .await;
    assert_eq!(bad_day.status, StatusCode::BAD_REQUEST, "{}", bad_day.body);
    let fine = app.get("/api/papers/2401.00001/similar").await;
    assert_eq!(
        fine.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        fine.body
    );
}
