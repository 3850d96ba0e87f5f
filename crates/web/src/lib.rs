//! papers-web: the Daily Papers site, its Hugging Face-compatible JSON API and its
//! RSS/Atom feeds, served by axum from the paper store.
//!
//! The binary builds an [`AppState`] from an [`AppConfig`] (plus optional search and
//! fetch backends), then calls [`serve`]; tests call [`router`] and drive it without a
//! socket. Everything is rendered on the server and works without JavaScript.
//!
//! Request path, in order: security headers and the body limit wrap everything; the
//! response cache answers anonymous `GET`s of cacheable pages from memory (entries are
//! tagged with the store generation, which votes and ingests bump); handlers run store
//! calls on a small pool of store connections (SQLite or PostgreSQL, whichever the
//! [`AppConfig`] names) inside `spawn_blocking`, or on the worker for short indexed
//! reads when a connection is free.
//!
//! Wiring, as the binary does it:
//!
//! ```text
//! let mut config = AppConfig::new(data_dir, "https://papers.example");
//! let state = AppState::open(config)?            // opens the store pool, migrates
//!     .with_search(Arc::new(index_adapter))     // optional: /search, similar papers
//!     .with_fetcher(Arc::new(arxiv_adapter))    // optional: /submit of unknown ids
//!     .with_node_status(Arc::new(node));        // optional: index lag in /admin, /readyz, /metrics
//! papers_web::serve("127.0.0.1:8080".parse()?, state).await?;
//! ```
//!
//! Modules depend one way. At the bottom, with no imports of the site's own above
//! them: `views` (markup from view models), `cache` (the caches' data structures),
//! `search` and `node` (the backend traits), `status` (the operators' report, read
//! from a store connection and the node), `telemetry` (the metrics recorder and the
//! request-counting middleware), `pool`, `rate_limit`, `period`, `taxonomy`, `feeds`,
//! `openapi`, `client` (addresses through trusted proxies), `redirect` (same-origin
//! targets), `password` (hashing and strength); then `html` (responses) and `error`
//! (the one error type); then `state`, which holds the caches and backends; then
//! `session`, `bearer` (access tokens) and `csrf`, which read requests against the
//! state; and `routes` over all of them, including the response-cache layer.
//!
//! Invariants: untrusted text (titles, abstracts, names, queries) reaches HTML only
//! through maud's escaping; every `POST` checks a CSRF token before doing anything,
//! unless the request authenticated with an access token (`Authorization: Bearer`),
//! which a browser never sends on its own; the library never reads environment
//! variables.

mod api_model;
mod bearer;
mod cache;
mod client;
mod csrf;
mod error;
mod extract;
mod feeds;
mod form_text;
mod html;
mod node;
mod openapi;
mod password;
mod period;
mod pool;
mod rate_limit;
mod redirect;
mod routes;
mod search;
mod session;
mod state;
mod status;
mod taxonomy;
mod telemetry;
mod views;

use std::net::SocketAddr;

pub use cache::CacheStats;
pub use client::{TrustedProxies, TrustedProxiesError};
pub use error::HttpError;
pub use node::{IndexWatermark, NodeStatus};
pub use openapi::{API_ROUTES, ApiParam, ApiRoute, Operation, openapi_document};
pub use period::PeriodSpec;
pub use search::{
    BoxError, FetchError, PaperFetcher, SearchBackend, SearchError, SearchHit, SearchMode,
    SearchOutcome, SearchRequest, SimilarRequest, Snippet,
};
pub use state::{AppConfig, AppState, OpenError};
pub use taxonomy::category_name;

/// Hashes a password as sign-up does (Argon2id, a PHC string), for `papers user
/// create`; the error says why hashing failed.
pub fn hash_password(password: &str) -> Result<String, String> {
    password::hash_password(password).map_err(|error| error.to_string())
}

/// A new personal access token and the digest the store keeps, for `papers token
/// create`: the same format and hashing as tokens made on the site.
pub fn new_access_token() -> Result<(String, String), String> {
    bearer::new_token().map_err(|error| error.message)
}

/// Checks a new account's username, email and password against the sign-up rules,
/// for `papers user create`; the error says what to fix.
pub fn check_new_account(username: &str, email: &str, password: &str) -> Result<(), String> {
    routes::check_new_account(username, email, password)
}

/// The whole site as an axum router, ready for `axum::serve` or `oneshot` tests.
pub fn router(state: AppState) -> axum::Router {
    routes::build(state)
}

/// Errors from [`serve`].
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("server failed: {0}")]
    Serve(std::io::Error),
}

/// Binds `addr` and serves until Ctrl-C or SIGTERM, then finishes the requests in
/// flight. Starts the background task that
/// notices ingests made by other processes (see [`AppState::watch_store`]).
pub async fn serve(addr: SocketAddr, state: AppState) -> Result<(), ServeError> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })?;
    serve_on(listener, state).await
}

/// Like [`serve`], on a listener the caller bound (port 0 in tests).
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    state: AppState,
) -> Result<(), ServeError> {
    if let Ok(local) = listener.local_addr() {
        tracing::info!(addr = %local, "serving");
    }
    state.watch_store();
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(ServeError::Serve)
}

/// Ctrl-C or SIGTERM: stop accepting, let requests in flight finish.
async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    tracing::info!("shutting down");
}
