//! Probes and metrics for whatever runs the node: `/healthz` (the process answers),
//! `/readyz` (the store answers and the indexes are within a minute of the change log,
//! else 503, so a load balancer sends readers elsewhere) and `/metrics` (Prometheus
//! text). None is cached: each answers for this node, now.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::Serialize;

use crate::error::HttpError;
use crate::node::NodeStatus;
use crate::state::AppState;
use crate::status::{self, IndexReport, StatusReport};

/// How far behind the change log an index may be and the node still take traffic.
pub(crate) const READY_LAG_SECONDS: i64 = 60;

/// How long `/readyz` waits for the store before calling it unreachable.
const STORE_TIMEOUT: Duration = Duration::from_secs(5);

pub(crate) async fn healthz() -> Response {
    plain(StatusCode::OK, "ok\n")
}

/// What `/readyz` found.
#[derive(Debug, Clone, Serialize)]
struct Readiness {
    ready: bool,
    /// Why not, when not.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    problems: Vec<String>,
    indexes: Vec<IndexReport>,
}

pub(crate) async fn readyz(State(state): State<AppState>) -> Response {
    let readiness = readiness(&state).await;
    let status = if readiness.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = serde_json::to_string(&readiness).unwrap_or_default();
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    no_store(response)
}

/// Never an error: a failure is the answer.
async fn readiness(state: &AppState) -> Readiness {
    let node: Option<Arc<dyn NodeStatus>> = state.inner.node.clone();
    let probe = state.inner.pool.run(move |store| {
        // A read that proves the store answers even when there is no node status.
        store.change_lag(i64::MAX)?;
        Ok(status::index_lags(store, node.as_deref(), Utc::now()))
    });
    let indexes = match tokio::time::timeout(STORE_TIMEOUT, probe).await {
        Ok(Ok(Ok(indexes))) => indexes,
        Ok(Ok(Err(error))) => return not_ready(format!("cannot read the indexes: {error}")),
        Ok(Err(error)) => return not_ready(format!("store unreachable: {error}")),
        Err(_) => {
            return not_ready(format!(
                "store did not answer within {} s",
                STORE_TIMEOUT.as_secs()
            ));
        }
    };
    let problems: Vec<String> = indexes
        .iter()
        .filter(|index| index.lag_seconds > READY_LAG_SECONDS)
        .map(|index| {
            format!(
                "the {} index is {} changes ({} s) behind the change log",
                index.name, index.behind, index.lag_seconds
            )
        })
        .collect();
    Readiness {
        ready: problems.is_empty(),
        problems,
        indexes,
    }
}

fn not_ready(problem: String) -> Readiness {
    tracing::warn!(%problem, "not ready");
    Readiness {
        ready: false,
        problems: vec![problem],
        indexes: Vec::new(),
    }
}

/// The status report, read on a pooled connection.
pub(crate) async fn report(state: &AppState) -> Result<StatusReport, HttpError> {
    let node = state.inner.node.clone();
    state
        .inner
        .pool
        .run(move |store| Ok(status::collect(store, node.as_deref(), Utc::now())))
        .await?
        .map_err(HttpError::internal)
}

/// Prometheus text: the request counters and histograms recorded as requests ran,
/// and gauges read now.
pub(crate) async fn metrics(State(state): State<AppState>) -> Result<Response, HttpError> {
    let Some(handle) = state.inner.metrics.clone() else {
        return Err(HttpError::unavailable(
            "metrics are off: another metrics recorder owns this process",
        ));
    };
    let report = report(&state).await?;
    set_gauges(&report);
    set_memory_gauges(&state);
    handle.run_upkeep();
    let mut response = plain(StatusCode::OK, &handle.render());
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    Ok(response)
}

fn set_gauges(report: &StatusReport) {
    let store = &report.store;
    for (name, value) in [
        ("papers_store_papers", store.papers),
        ("papers_store_papers_in_feed", store.in_feed),
        ("papers_store_embeddings", store.embeddings),
        ("papers_store_members", store.members),
        ("papers_store_access_tokens", store.access_tokens),
        ("papers_store_subscriptions", store.subscriptions),
        ("papers_store_votes", store.votes),
    ] {
        metrics::gauge!(name).set(value as f64);
    }
    if let Some(bytes) = store.bytes {
        metrics::gauge!("papers_store_bytes").set(bytes as f64);
    }
    metrics::gauge!("papers_change_log_newest").set(report.change_log.newest as f64);
    if let Some(embeddings) = &report.embeddings {
        metrics::gauge!("papers_embedding_backlog", "model" => embeddings.model.clone())
            .set(embeddings.backlog as f64);
    }
    for job in &report.jobs {
        let name = job.name.clone();
        metrics::gauge!("papers_job_last_run_records", "job" => name.clone())
            .set(job.records as f64);
        metrics::gauge!("papers_job_last_run_ok", "job" => name.clone())
            .set(if job.result == Some("ok") { 1.0 } else { 0.0 });
        if let Some(at) = job.last_success_at {
            metrics::gauge!("papers_job_last_success_timestamp_seconds", "job" => name)
                .set(at.timestamp() as f64);
        }
    }
    for index in &report.indexes {
        metrics::gauge!("papers_index_lag_changes", "index" => index.name.clone())
            .set(index.behind as f64);
        metrics::gauge!("papers_index_lag_seconds", "index" => index.name.clone())
            .set(index.lag_seconds as f64);
    }
}

/// The caches' sizes and bounds, and the process's resident memory: what to watch
/// when memory grows (a cache filling to its bound is warm-up; anything else is not).
fn set_memory_gauges(state: &AppState) {
    for (name, stats) in state.cache_stats() {
        metrics::gauge!("papers_cache_entries", "cache" => name).set(stats.entries as f64);
        metrics::gauge!("papers_cache_bytes", "cache" => name).set(stats.bytes as f64);
        metrics::gauge!("papers_cache_max_entries", "cache" => name).set(stats.max_entries as f64);
        if let Some(max_bytes) = stats.max_bytes {
            metrics::gauge!("papers_cache_max_bytes", "cache" => name).set(max_bytes as f64);
        }
        metrics::counter!("papers_cache_full_total", "cache" => name).absolute(stats.full);
    }
    for (name, bytes) in process_memory() {
        metrics::gauge!(name).set(bytes as f64);
    }
    // Part of the anonymous memory: every connection's page cache, among others.
    metrics::gauge!("papers_store_sqlite_memory_bytes")
        .set(papers_store::sqlite_memory_used() as f64);
}

/// Resident memory from `/proc/self/status` (Linux; elsewhere nothing): all of it,
/// and the anonymous part (the heap and stacks, not the mapped index files).
fn process_memory() -> Vec<(&'static str, u64)> {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return Vec::new();
    };
    let kilobytes = |field: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(field))
            .and_then(|rest| rest.trim().strip_suffix("kB"))
            .and_then(|number| number.trim().parse::<u64>().ok())
    };
    [
        ("papers_process_resident_bytes", "VmRSS:"),
        ("papers_process_resident_anonymous_bytes", "RssAnon:"),
    ]
    .into_iter()
    .filter_map(|(name, field)| Some((name, kilobytes(field)? * 1024)))
    .collect()
}

fn plain(status: StatusCode, body: &str) -> Response {
    let mut response = (status, body.to_owned()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    no_store(response)
}

fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
