//! The one error type at the HTTP edge: a status, a message safe to show, and whether
//! the client wants JSON (API routes) or a page. The errors of the components below
//! (the store pool, the search backend, the paper fetcher) become a status here and
//! nowhere else.
//!
//! It imports only downwards: the errors it maps and the views and HTML helpers that
//! render it.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use papers_core::ArxivId;

use crate::html::html_with_status;
use crate::password::PasswordError;
use crate::pool::PoolError;
use crate::search::{FetchError, SearchError};
use crate::views::error_page;

#[derive(Debug, Clone)]
pub struct HttpError {
    pub status: StatusCode,
    pub message: String,
    pub json: bool,
    /// Seconds for a `Retry-After` header (rate limits, an unreachable upstream).
    pub retry_after: Option<u64>,
}

impl HttpError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> HttpError {
        HttpError {
            status,
            message: message.into(),
            json: false,
            retry_after: None,
        }
    }

    /// Tells the client when to try again.
    pub fn retry_after(mut self, wait: std::time::Duration) -> HttpError {
        // Rounded up: a client retrying on the second must not arrive early; at least
        // 1, since `Retry-After: 0` invites an immediate retry.
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        self.retry_after = Some(seconds.max(1));
        self
    }

    pub fn bad_request(message: impl Into<String>) -> HttpError {
        HttpError::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn not_found(message: impl Into<String>) -> HttpError {
        HttpError::new(StatusCode::NOT_FOUND, message)
    }

    pub fn unauthorized() -> HttpError {
        HttpError::new(StatusCode::UNAUTHORIZED, "log in first")
    }

    /// A 401 for credentials that were sent and failed.
    pub fn unauthorized_because(message: impl Into<String>) -> HttpError {
        HttpError::new(StatusCode::UNAUTHORIZED, message)
    }

    pub fn forbidden(message: impl Into<String>) -> HttpError {
        HttpError::new(StatusCode::FORBIDDEN, message)
    }

    pub fn too_many() -> HttpError {
        HttpError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too many requests; try again in a minute",
        )
    }

    /// A 429 that says which limit and when to come back.
    pub fn too_many_because(message: impl Into<String>) -> HttpError {
        HttpError::new(StatusCode::TOO_MANY_REQUESTS, message)
    }

    pub fn unavailable(message: impl Into<String>) -> HttpError {
        HttpError::new(StatusCode::SERVICE_UNAVAILABLE, message)
    }

    /// Logs the cause (once, here) and shows the reader nothing internal.
    pub fn internal(cause: impl std::fmt::Display) -> HttpError {
        tracing::error!(error = %cause, "request failed");
        HttpError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
    }

    /// A paper that could not be fetched from outside. Unreachable is a 503 with a
    /// `Retry-After` (nothing was stored; the same request later may work); an answer
    /// that is not a paper is a 502, the fault being upstream's. The message says
    /// what happened, so a reader can tell whether to retry.
    pub(crate) fn fetch_failed(id: &ArxivId, error: &FetchError) -> HttpError {
        tracing::warn!(%error, paper.id = %id, "fetching a paper failed");
        match error {
            FetchError::Unreachable(_) => HttpError::unavailable(format!(
                "Could not reach arXiv to fetch {id} ({error}); nothing was stored. \
                 Try again later."
            ))
            .retry_after(std::time::Duration::from_secs(60)),
            FetchError::Invalid(_) => HttpError::new(
                StatusCode::BAD_GATEWAY,
                format!(
                    "arXiv answered something unreadable for {id} ({error}); nothing was stored."
                ),
            ),
        }
    }

    /// The same error, answered as JSON.
    pub fn into_json(mut self) -> HttpError {
        self.json = true;
        self
    }
}

impl From<PasswordError> for HttpError {
    fn from(error: PasswordError) -> HttpError {
        HttpError::internal(error)
    }
}

impl From<PoolError> for HttpError {
    fn from(error: PoolError) -> HttpError {
        HttpError::internal(error)
    }
}

/// A query the backend refuses is the reader's to fix (400); a failing index is ours
/// (500, logged).
impl From<SearchError> for HttpError {
    fn from(error: SearchError) -> HttpError {
        match error {
            SearchError::Query(message) => {
                HttpError::bad_request(format!("cannot search for that: {message}"))
            }
            SearchError::Index(_) => HttpError::internal(error),
        }
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let mut response = if self.json {
            let body = serde_json::json!({ "error": self.message }).to_string();
            let mut response = (self.status, body).into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            response
        } else {
            html_with_status(error_page(self.status, &self.message), self.status)
        };
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// Adapts any handler result to answer errors as JSON.
pub(crate) trait JsonErrors<T> {
    fn json_errors(self) -> Result<T, HttpError>;
}

impl<T> JsonErrors<T> for Result<T, HttpError> {
    fn json_errors(self) -> Result<T, HttpError> {
        self.map_err(HttpError::into_json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_errors_map_to_the_reader_or_to_us() {
        let refused = HttpError::from(SearchError::Query("unbalanced quotes".to_owned()));
        assert_eq!(refused.status, StatusCode::BAD_REQUEST);
        assert_eq!(refused.message, "cannot search for that: unbalanced quotes");
        let failed = HttpError::from(SearchError::Index("segment file missing".into()));
        assert_eq!(failed.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(failed.message, "internal error");
    }

    #[test]
    fn a_failed_fetch_says_whether_to_retry() -> Result<(), papers_core::ArxivIdError> {
        let id = ArxivId::parse("2402.09999")?;
        let down = HttpError::fetch_failed(&id, &FetchError::Unreachable("timed out".into()));
        assert_eq!(down.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(down.retry_after, Some(60));
        assert_eq!(
            down.message,
            "Could not reach arXiv to fetch 2402.09999 (timed out); nothing was stored. \
             Try again later."
        );
        let garbled = HttpError::fetch_failed(&id, &FetchError::Invalid("not XML".into()));
        assert_eq!(garbled.status, StatusCode::BAD_GATEWAY);
        assert_eq!(garbled.retry_after, None);
        Ok(())
    }

    #[test]
    fn retry_after_rounds_up() {
        let limited = HttpError::too_many().retry_after(std::time::Duration::from_millis(1500));
        assert_eq!(limited.retry_after, Some(2));
        let response = limited.into_response();
        assert_eq!(response.headers()[header::RETRY_AFTER], "2");
    }
}
