//! What operators and tools read: `/healthz`, `/readyz` (503 when an index lags the
//! change log by more than a minute), `/metrics` (Prometheus text whose counters move
//! with requests, labelled by route template), the admin report's index lag and
//! backlog, and each paper as Markdown.

use std::collections::HashMap;
use std::sync::Arc;

use axum::http::{StatusCode, header};
use chrono::{Duration, Utc};
use papers_store::Store;
use papers_web::{AppConfig, AppState, BoxError, IndexWatermark, NodeStatus};

use crate::common::{TestApp, app, records};

/// Reports fixed watermarks, as a node whose indexes stopped at them would.
struct FixedNode {
    watermark: i64,
}

impl NodeStatus for FixedNode {
    fn index_watermarks(&self) -> Result<Vec<IndexWatermark>, BoxError> {
        Ok(["lexical", "dense"]
            .into_iter()
            .map(|name| IndexWatermark {
                name: name.to_owned(),
                watermark: self.watermark,
            })
            .collect())
    }

    fn embedding_model(&self) -> Option<String> {
        Some("test-model".to_owned())
    }
}

/// The seed papers written `age` ago, served with a node whose indexes cover the
/// change log up to `watermark` (`None`: all of it).
fn app_with_node(age: Duration, watermark: Option<i64>) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = Store::open(dir.path()).expect("store");
    let mut batch = store.begin_ingest(Utc::now() - age).expect("begin");
    for record in records() {
        batch.upsert(record).expect("upsert");
    }
    batch.commit().expect("commit");
    let newest = store.last_change().expect("newest");
    let state = AppState::open(AppConfig::new(dir.path(), "http://papers.test"))
        .expect("state")
        .with_node_status(Arc::new(FixedNode {
            watermark: watermark.unwrap_or(newest),
        }));
    TestApp {
        router: papers_web::router(state.clone()),
        state,
        dir,
        postgres: None,
    }
}

fn parse(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

#[tokio::test]
async fn healthz_answers_while_the_process_lives() {
    let app = app();
    let reply = app.get("/healthz").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body, "ok\n");
    assert_eq!(reply.headers[header::CACHE_CONTROL], "no-store");
}

#[tokio::test]
async fn readyz_is_503_while_an_index_lags_a_minute_behind() {
    let current = app_with_node(Duration::minutes(5), None);
    let ready = current.get("/readyz").await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.body);
    assert_eq!(parse(&ready.body)["ready"], true);

    // Changes written five minutes ago that the indexes have not applied.
    let lagging = app_with_node(Duration::minutes(5), Some(0));
    let reply = lagging.get("/readyz").await;
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        reply.body
    );
    let body = parse(&reply.body);
    assert_eq!(body["ready"], false);
    assert!(
        body["problems"][0]
            .as_str()
            .is_some_and(|p| p.contains("lexical index is 7 changes")),
        "{body}"
    );
    assert!(
        body["indexes"][0]["lagSeconds"]
            .as_i64()
            .is_some_and(|s| s >= 299)
    );

    // Behind, but by less than a minute: a follower catching up is still ready.
    let catching_up = app_with_node(Duration::seconds(10), Some(0));
    assert_eq!(catching_up.get("/readyz").await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_admin_report_has_lag_and_backlog() {
    let app = app_with_node(Duration::minutes(2), Some(3));
    let store = Store::open(app.dir.path()).expect("store");
    let id = store
        .create_user("root", "root@example.org", "hash", Utc::now())
        .expect("sql")
        .expect("user");
    store
        .grant_role(id, papers_store::Role::Admin, Utc::now())
        .expect("grant");
    let harvest = store
        .record_job_start("harvest arxiv:cs", Utc::now())
        .expect("job start");
    store
        .record_job_finish(
            harvest,
            &papers_store::JobFinish::failed(3, "arXiv answered 503".into(), None),
            Utc::now(),
        )
        .expect("job finish");
    let (token, hash) = papers_web::new_access_token().expect("token");
    store
        .create_access_token(id, &hash, "ops", Utc::now())
        .expect("token stored");
    let reply = app
        .send(
            axum::http::Method::GET,
            "/api/admin/status",
            None,
            &[("authorization", &format!("Bearer {token}"))],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let report = parse(&reply.body);
    assert_eq!(report["embeddings"]["model"], "test-model");
    assert_eq!(report["embeddings"]["backlog"], 7, "no paper has a vector");
    assert_eq!(report["jobs"][0]["name"], "harvest arxiv:cs", "{report}");
    assert_eq!(report["jobs"][0]["result"], "failed");
    assert_eq!(report["jobs"][0]["records"], 3);
    assert_eq!(report["jobs"][0]["lastError"], "arXiv answered 503");
    assert_eq!(report["jobs"][0]["lastSuccess"], serde_json::Value::Null);
    let metrics = samples(&app.get("/metrics").await.body);
    assert_eq!(
        metrics.get("papers_job_last_run_records{job=\"harvest arxiv:cs\"}"),
        Some(&3.0),
        "{metrics:?}"
    );
    assert_eq!(
        metrics.get("papers_job_last_run_ok{job=\"harvest arxiv:cs\"}"),
        Some(&0.0)
    );
    assert_eq!(report["indexes"][1]["name"], "dense");
    assert_eq!(report["indexes"][1]["behind"], 4);
    assert!(
        report["indexes"][1]["lagSeconds"]
            .as_i64()
            .is_some_and(|s| (119..=130).contains(&s))
    );
}

/// `name{labels} value` lines of a Prometheus text exposition, by name and labels.
fn samples(text: &str) -> HashMap<String, f64> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            Some((series.to_owned(), value.parse().ok()?))
        })
        .collect()
}

fn requests(samples: &HashMap<String, f64>, route: &str, status: u16) -> f64 {
    samples
        .iter()
        .filter(|(series, _)| {
            series.starts_with("papers_http_requests_total{")
                && series.contains(&format!("route=\"{route}\""))
                && series.contains(&format!("status=\"{status}\""))
                && series.contains("method=\"GET\"")
        })
        .map(|(_, value)| value)
        .sum()
}

#[tokio::test]
async fn metrics_count_requests_by_route_template() {
    let app = app_with_node(Duration::seconds(1), None);
    let before = samples(&app.get("/metrics").await.body);
    for path in [
        "/papers/2401.00001",
        "/papers/hep-th/9901001",
        "/papers/2401.00002",
    ] {
        assert_eq!(app.get(path).await.status, StatusCode::OK);
    }
    assert_eq!(
        app.get("/papers/2499.99999").await.status,
        StatusCode::NOT_FOUND
    );
    app.get("/no/such/page").await;
    let reply = app.get("/metrics").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(
        reply.headers[header::CONTENT_TYPE]
            .to_str()
            .is_ok_and(|t| t.starts_with("text/plain; version=0.0.4"))
    );
    let after = samples(&reply.body);
    // Other tests share the process's recorder, so counters only ever grow by at least
    // what this test did.
    assert!(
        requests(&after, "/papers/{*id}", 200) >= requests(&before, "/papers/{*id}", 200) + 3.0,
        "{}",
        reply.body
    );
    assert!(
        requests(&after, "/papers/{*id}", 404) >= requests(&before, "/papers/{*id}", 404) + 1.0
    );
    assert!(requests(&after, "unmatched", 404) >= 1.0);
    assert!(
        !reply.body.contains("route=\"/papers/2401.00001\"")
            && !reply.body.contains("/no/such/page"),
        "raw paths never become labels"
    );
    let buckets = after
        .keys()
        .filter(|series| series.starts_with("papers_http_request_duration_seconds_bucket{"))
        .count();
    assert!(buckets > 0, "latency is a histogram");
    assert_eq!(after.get("papers_store_papers"), Some(&7.0));
    assert_eq!(
        after.get("papers_embedding_backlog{model=\"test-model\"}"),
        Some(&7.0)
    );
    assert_eq!(
        after.get("papers_index_lag_changes{index=\"lexical\"}"),
        Some(&0.0)
    );
    // Each cache's size beside its bounds: what an operator compares when memory
    // grows (other tests' sites share the gauges, so only the bounds are fixed).
    assert_eq!(
        after.get("papers_cache_max_bytes{cache=\"responses\"}"),
        Some(&(64.0 * 1024.0 * 1024.0))
    );
    assert_eq!(
        after.get("papers_cache_max_entries{cache=\"responses\"}"),
        Some(&4096.0)
    );
    for cache in ["responses", "feeds", "latest_day", "for_you_background"] {
        for series in ["entries", "bytes", "full_total"] {
            let name = format!("papers_cache_{series}{{cache=\"{cache}\"}}");
            assert!(after.contains_key(&name), "{name} in {}", reply.body);
        }
    }
    if cfg!(target_os = "linux") {
        assert!(after.get("papers_process_resident_bytes") > Some(&0.0));
        assert!(after.get("papers_process_resident_anonymous_bytes") > Some(&0.0));
    }
}

#[tokio::test]
async fn a_paper_reads_as_markdown() {
    let app = app();
    let reply = app.get("/papers/2401.00001.md").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.headers[header::CONTENT_TYPE],
        "text/markdown; charset=utf-8"
    );
    insta::assert_snapshot!("paper_markdown", reply.body);
    let old_style = app.get("/papers/hep-th/9901001.md").await;
    assert_eq!(old_style.status, StatusCode::OK);
    assert!(
        old_style
            .body
            .starts_with("# Strings on old-style identifiers\n")
    );
    assert!(
        old_style
            .body
            .contains("[arXiv](https://arxiv.org/abs/hep-th/9901001)")
    );
    let versioned = app.get("/papers/2401.00001v2.md").await;
    assert_eq!(versioned.status, StatusCode::PERMANENT_REDIRECT);
    assert_eq!(versioned.headers[header::LOCATION], "/papers/2401.00001.md");
    assert_eq!(
        app.get("/papers/2499.99999.md").await.status,
        StatusCode::NOT_FOUND
    );
    // The page itself is unchanged by the suffix route.
    assert!(app.get("/papers/2401.00001").await.body.contains("<h1>"));
}
