//! The response-cache layer: anonymous `GET`s are answered from
//! [`crate::cache::ResponseCache`] when a page of the current store generation is
//! there, and what a handler marks [`Cacheable`] is kept for the next reader.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::cache::{Cacheable, CachedResponse};
use crate::session::has_credentials;
use crate::state::AppState;

/// The middleware: serve from the cache, or run the handler and keep what it marked
/// [`Cacheable`].
pub(crate) async fn respond(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let method = request.method();
    if (method != Method::GET && method != Method::HEAD) || has_credentials(request.headers()) {
        return next.run(request).await;
    }
    let key = request.uri().path_and_query().map_or_else(
        || request.uri().path().to_owned(),
        |pq| pq.as_str().to_owned(),
    );
    let generation = state.generation();
    let cache = &state.inner.responses;
    if let Some(hit) = cache.get(&key, generation) {
        return hit.respond(request.headers());
    }
    let request_headers = request.headers().clone();
    let response = next.run(request).await;
    let Some(cacheable) = response.extensions().get::<Cacheable>().copied() else {
        return response;
    };
    if response.status() != StatusCode::OK {
        return response;
    }
    let Some(entry) = CachedResponse::read(response, generation).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let entry = Arc::new(entry);
    cache.put(key, generation, cacheable.ttl, entry.clone());
    entry.respond(&request_headers)
}
