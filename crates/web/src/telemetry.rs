//! Prometheus metrics through the `metrics` facade: one recorder per process,
//! installed the first time a site is built, rendered by the `/metrics` handler (the
//! exporter's own HTTP listener is not compiled in). Requests are counted and timed
//! here by route template (`/papers/{*id}`, never the raw path, so a crawler cannot
//! mint a series per URL) and status; `/metrics` sets the gauges (backlog, lag,
//! store) when it is scraped. Anything else in the process that records through the
//! same facade shows up there too.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

pub(crate) const REQUESTS: &str = "papers_http_requests_total";
pub(crate) const REQUEST_SECONDS: &str = "papers_http_request_duration_seconds";

/// Upper bounds of the latency buckets, in seconds: a cached page is well under a
/// millisecond, a search tens of milliseconds, a submission that fetches from arXiv
/// seconds.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// The process's Prometheus handle, installing the recorder on first use. `None`
/// when something else already installed a global recorder (then `/metrics` says so).
pub(crate) fn handle() -> Option<PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let installed = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(REQUEST_SECONDS.to_owned()), LATENCY_BUCKETS)
                .and_then(PrometheusBuilder::install_recorder);
            match installed {
                Ok(handle) => Some(handle),
                Err(error) => {
                    tracing::warn!(%error, "cannot install the metrics recorder; /metrics is off");
                    None
                }
            }
        })
        .clone()
}

/// The middleware: counts and times every request by route template, method and
/// status. Runs inside the router, where the matched route is known; a request no
/// route matched is `unmatched`.
pub(crate) async fn track(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let method = method_label(request.method());
    let started = Instant::now();
    let response = next.run(request).await;
    let seconds = started.elapsed().as_secs_f64();
    let status = response.status().as_u16().to_string();
    metrics::counter!(REQUESTS, "route" => route.clone(), "method" => method, "status" => status)
        .increment(1);
    metrics::histogram!(REQUEST_SECONDS, "route" => route, "method" => method).record(seconds);
    response
}

/// Methods the site answers keep their name; anything else is one label, so odd
/// methods cannot add series either.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::DELETE => "DELETE",
        _ => "other",
    }
}
