//! For you through the router: the ranking from upvotes, saves and "more like this"
//! with a reason each, through the API by bearer token and by session plus CSRF, and
//! server-rendered on `/for-you`; "less like this" private to its member; the cold
//! start from picked categories; a clear page for a member with neither signal nor
//! picks. The store holds synthetic papers whose vectors point along one axis per
//! category, so the right answer is known.

use std::sync::Arc;

use axum::http::{Method, StatusCode, header};
use chrono::{Duration, Utc};
use papers_core::{ArxivId, Category, Metadata, PaperRecord, Source};
use papers_store::Store;
use papers_web::{AppConfig, AppState, IndexWatermark, NodeStatus};
use serde_json::{Value, json};

use crate::common::{TestApp, csrf_in};
use crate::tokens::token_for;

const MODEL: &str = "test-model";
const CATEGORIES: [&str; 3] = ["cs.CL", "cs.CV", "math.PR"];
const DIM: usize = 16;

/// Names the model whose vectors the store holds, as the binary's search service does.
struct Node;

impl NodeStatus for Node {
    fn index_watermarks(&self) -> Result<Vec<IndexWatermark>, papers_web::BoxError> {
        Ok(Vec::new())
    }

    fn embedding_model(&self) -> Option<String> {
        Some(MODEL.to_owned())
    }
}

/// A unit vector near axis `axis`, perturbed deterministically by `seed`.
fn vector(axis: usize, seed: u64) -> Vec<f32> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(7);
    let mut v: Vec<f32> = (0..DIM)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            ((state >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 0.4
        })
        .collect();
    v[axis] += 1.0;
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter_mut().for_each(|x| *x /= norm);
    v
}

/// The id of recent paper `i` of category `c` (2609.0cii), and of old ones (2001.0cii).
fn id(recent: bool, c: usize, i: usize) -> String {
    format!("{}.0{c}{i:03}", if recent { "2609" } else { "2001" })
}

/// Ten recent papers (published days ago) and twenty old ones per category, all
/// with vectors; the old ones are what the classifier learns "not this" from.
fn site() -> TestApp {
    let dir = tempfile::tempdir().expect("dir");
    let mut store = Store::open(dir.path()).expect("store");
    let now = Utc::now();
    let mut batch = store.begin_ingest(now).expect("begin");
    for (c, category) in CATEGORIES.iter().enumerate() {
        for (recent, count) in [(true, 10), (false, 20)] {
            for i in 0..count {
                let published = if recent {
                    now - Duration::days(1 + i as i64)
                } else {
                    now - Duration::days(400 + i as i64)
                };
                batch
                    .upsert(PaperRecord {
                        id: ArxivId::parse(&id(recent, c, i)).expect("id"),
                        source: Source::ArxivApi,
                        metadata: Metadata {
                            title: format!("{category} study number {i}"),
                            authors: vec!["Ada Lovelace".to_owned()],
                            categories: Category::parse_list(category).expect("category"),
                            published: Some(published),
                            ..Metadata::default()
                        },
                        community: None,
                    })
                    .expect("upsert");
            }
        }
    }
    batch.commit().expect("commit");
    let mut vectors = Vec::new();
    for (c, _) in CATEGORIES.iter().enumerate() {
        for (recent, count) in [(true, 10), (false, 20)] {
            for i in 0..count {
                let key = store
                    .paper(&ArxivId::parse(&id(recent, c, i)).expect("id"))
                    .expect("read")
                    .expect("paper")
                    .key;
                vectors.push((key, vector(c, key as u64)));
            }
        }
    }
    // Background papers on other axes, so the model has more than three directions.
    store.put_embeddings(MODEL, &vectors, now).expect("vectors");
    let state = AppState::open(AppConfig::new(dir.path(), "http://papers.test"))
        .expect("state")
        .with_node_status(Arc::new(Node));
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

async fn bearer_get(app: &TestApp, path: &str, token: &str) -> (StatusCode, Value) {
    let auth = format!("Bearer {token}");
    let reply = app
        .send(Method::GET, path, None, &[("authorization", auth.as_str())])
        .await;
    assert!(
        reply.status != StatusCode::OK
            || reply.headers[header::CACHE_CONTROL] == "private, no-store",
        "a member's ranking is private"
    );
    (reply.status, parse(&reply.body))
}

fn categories_of(ranking: &Value) -> Vec<String> {
    ranking["papers"]
        .as_array()
        .expect("papers")
        .iter()
        .map(|p| p["categories"][0].as_str().expect("category").to_owned())
        .collect()
}

fn reasons_of(ranking: &Value) -> Vec<String> {
    ranking["papers"]
        .as_array()
        .expect("papers")
        .iter()
        .map(|p| p["reason"].as_str().expect("reason").to_owned())
        .collect()
}

#[tokio::test]
async fn upvotes_saves_and_more_like_this_rank_with_reasons_by_token_and_session() {
    let app = site();
    let cookie = app.sign_up("ann").await;
    let token = token_for(&app, &cookie, "ann").await;
    let auth = format!("Bearer {token}");
    // Upvotes of two cs.CL papers, through the token (no CSRF with a bearer token).
    for i in [0, 1] {
        let path = format!("/api/papers/{}/upvote", id(true, 0, i));
        let reply = app
            .send(
                Method::POST,
                &path,
                None,
                &[("authorization", auth.as_str())],
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }
    let (status, ranking) = bearer_get(&app, "/api/for-you?limit=5", &token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ranking["basis"], "signal");
    assert_eq!(categories_of(&ranking), vec!["cs.CL"; 5], "{ranking}");
    for reason in reasons_of(&ranking) {
        assert!(
            reason.starts_with("close to “cs.CL study number ")
                && reason.ends_with("”, which you upvoted"),
            "{reason}"
        );
    }
    let ids: Vec<&str> = ranking["papers"]
        .as_array()
        .expect("papers")
        .iter()
        .map(|p| p["id"].as_str().expect("id"))
        .collect();
    assert!(
        !ids.contains(&id(true, 0, 0).as_str()),
        "upvoted papers are not recommended"
    );

    // "More like this" on a cs.CV paper, through the session and its CSRF header.
    let csrf = app.csrf_for(&cookie).await;
    let path = format!("/api/papers/{}/feedback", id(true, 1, 0));
    let refused = app
        .send(
            Method::POST,
            &path,
            Some(json!({"more": true})),
            &[("cookie", cookie.as_str())],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "no CSRF header");
    let set = app
        .send(
            Method::POST,
            &path,
            Some(json!({"more": true})),
            &[("cookie", cookie.as_str()), ("x-csrf-token", csrf.as_str())],
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    assert_eq!(
        parse(&set.body),
        json!({"id": id(true, 1, 0), "more": true})
    );
    // Saving a math.PR paper (the card's Save form puts it in Read later).
    let saved = app
        .post_form(
            "/collections/save",
            &format!(
                "csrf={csrf}&paper={}&collection=read-later&back=%2Ffor-you",
                id(true, 2, 0)
            ),
            Some(&cookie),
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);

    let (_, ranking) = bearer_get(&app, "/api/for-you?limit=27", &token).await;
    let categories = categories_of(&ranking);
    let reasons = reasons_of(&ranking);
    assert_eq!(
        categories.len(),
        26,
        "every recent paper but the four liked"
    );
    for (category, reason) in categories.iter().zip(&reasons).take(12) {
        let phrase = match category.as_str() {
            "cs.CL" => "which you upvoted",
            "cs.CV" => "which you asked more like",
            _ => "which you saved",
        };
        assert!(
            reason.starts_with(&format!("close to “{category} study number "))
                && reason.ends_with(phrase),
            "{category}: {reason}"
        );
    }
    for category in CATEGORIES {
        assert!(
            categories.iter().take(12).any(|c| c == category),
            "{category} near the top: {categories:?}"
        );
    }

    // The page shows the same ranking, server-rendered, with the reason linked.
    let page = app.get_as("/for-you", Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body
            .contains("<a class=\"for-you\" href=\"/for-you\">For you</a>")
    );
    assert!(
        page.body.contains("Close to <em><a href=\"/papers/"),
        "{}",
        page.body
    );
    assert!(page.body.contains(", which you saved"));
    assert!(page.body.contains(", which you asked more like"));
    let rated = app
        .get_as(&format!("/papers/{}", id(true, 1, 0)), Some(&cookie))
        .await;
    // Opening a paper marks it read; `hide_read=1` leaves it out of the page.
    let top = ranking["papers"][0]["id"].as_str().expect("id").to_owned();
    app.get_as(&format!("/papers/{top}"), Some(&cookie)).await;
    let link = format!("href=\"/papers/{top}\"");
    assert!(
        app.get_as("/for-you", Some(&cookie))
            .await
            .body
            .contains(&link)
    );
    let hidden = app.get_as("/for-you?hide_read=1", Some(&cookie)).await;
    assert!(hidden.body.contains("Show read papers"));
    assert!(!hidden.body.contains(&link), "the read paper is hidden");
    assert!(
        rated.body.contains("+ More like this ✓"),
        "the pressed state"
    );
    // Clearing it through the API.
    let cleared = app
        .send(
            Method::DELETE,
            &path,
            None,
            &[("authorization", auth.as_str())],
        )
        .await;
    assert_eq!(cleared.status, StatusCode::OK);
    assert_eq!(parse(&cleared.body)["more"], Value::Null);
    let (_, ranking) = bearer_get(&app, "/api/for-you?limit=27", &token).await;
    assert!(
        !reasons_of(&ranking)
            .iter()
            .any(|r| r.ends_with("which you asked more like")),
        "the cleared signal is gone"
    );
}

#[tokio::test]
async fn less_like_this_is_private_and_keeps_papers_out() {
    let app = site();
    let ann = app.sign_up("ann").await;
    let bob = app.sign_up("bob").await;
    let paper = id(true, 1, 3);
    let page = app.get_as(&format!("/papers/{paper}"), Some(&ann)).await;
    let csrf = csrf_in(&page.body).expect("csrf");
    assert!(
        page.body.contains("− Less like this"),
        "the paper page's form"
    );
    let less = app
        .post_form(
            "/feedback",
            &format!("csrf={csrf}&paper={paper}&more=0&back=%2Fpapers%2F{paper}"),
            Some(&ann),
        )
        .await;
    assert_eq!(less.status, StatusCode::SEE_OTHER, "{}", less.body);
    let upvote = app
        .post_form(
            "/vote",
            &format!("csrf={csrf}&paper={}&back=%2F", id(true, 1, 0)),
            Some(&ann),
        )
        .await;
    assert_eq!(upvote.status, StatusCode::SEE_OTHER);

    let ann_page = app.get_as(&format!("/papers/{paper}"), Some(&ann)).await;
    assert!(ann_page.body.contains("− Less like this ✓"));
    let ann_ranking = app.get_as("/for-you", Some(&ann)).await;
    assert!(
        !ann_ranking
            .body
            .contains(&format!("href=\"/papers/{paper}\"")),
        "a paper rated less is not recommended"
    );
    // Bob sees nothing of it: not on the paper page, not in his For you.
    let bob_page = app.get_as(&format!("/papers/{paper}"), Some(&bob)).await;
    assert!(!bob_page.body.contains("Less like this ✓"));
    let bob_token = token_for(&app, &bob, "bob").await;
    let (status, ranking) = bearer_get(&app, "/api/for-you", &bob_token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ranking["basis"], "none", "{ranking}");
    assert_eq!(ranking["papers"], json!([]));
    // Anonymous readers get no ranking and no form.
    assert_eq!(
        app.get("/api/for-you").await.status,
        StatusCode::UNAUTHORIZED
    );
    let anonymous = app.get("/for-you").await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
    assert!(
        !app.get(&format!("/papers/{paper}"))
            .await
            .body
            .contains("Less like this")
    );
}

#[tokio::test]
async fn a_new_member_picks_categories_and_gets_their_trending_papers() {
    let app = site();
    let cookie = app.sign_up("carl").await;
    let empty = app.get_as("/for-you", Some(&cookie)).await;
    assert_eq!(empty.status, StatusCode::OK, "a clear page, not an error");
    assert!(empty.body.contains("Nothing to rank for you yet"));
    assert!(empty.body.contains("id=\"pick-categories\""));
    let csrf = csrf_in(&empty.body).expect("csrf");

    let bad = app
        .post_form(
            "/for-you/categories",
            &format!("csrf={csrf}&categories=cs.CV+nonsense"),
            Some(&cookie),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("“nonsense” is not an arXiv category"));

    let picked = app
        .post_form(
            "/for-you/categories",
            &format!("csrf={csrf}&categories=cs.CV%2C+math.PR"),
            Some(&cookie),
        )
        .await;
    assert_eq!(picked.status, StatusCode::SEE_OTHER, "{}", picked.body);
    let token = token_for(&app, &cookie, "carl").await;
    let (_, ranking) = bearer_get(&app, "/api/for-you?limit=100", &token).await;
    // A whole archive picks each of its categories.
    let archive = app
        .post_form(
            "/for-you/categories",
            &format!("csrf={csrf}&categories=math"),
            Some(&cookie),
        )
        .await;
    assert_eq!(archive.status, StatusCode::SEE_OTHER, "{}", archive.body);
    let (_, by_archive) = bearer_get(&app, "/api/for-you?limit=100", &token).await;
    assert_eq!(categories_of(&by_archive), vec!["math.PR"; 10]);
    assert_eq!(reasons_of(&by_archive)[0], "in math, which you picked");
    let again = app
        .post_form(
            "/for-you/categories",
            &format!("csrf={csrf}&categories=cs.CV%2C+math.PR"),
            Some(&cookie),
        )
        .await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
    let (_, ranking_again) = bearer_get(&app, "/api/for-you?limit=100", &token).await;
    assert_eq!(ranking_again, ranking, "the same picks rank the same");
    assert_eq!(ranking["basis"], "categories");
    assert_eq!(ranking["picked"], json!(["cs.CV", "math.PR"]));
    let categories = categories_of(&ranking);
    assert_eq!(categories.len(), 20, "the recent papers of both");
    assert!(categories.iter().all(|c| c == "cs.CV" || c == "math.PR"));
    for (category, reason) in categories.iter().zip(reasons_of(&ranking)) {
        assert_eq!(reason, format!("in {category}, which you picked"));
    }
    let page = app.get_as("/for-you", Some(&cookie)).await;
    assert!(
        page.body.contains("value=\"cs.CV math.PR\""),
        "the picks kept"
    );
    assert!(page.body.contains(", which you picked"));

    // Bad limits are refused clearly.
    for limit in ["0", "101", "x"] {
        let (status, body) = bearer_get(&app, &format!("/api/for-you?limit={limit}"), &token).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{limit}: {body}");
    }
}
