//! The one error type at the HTTP edge: a status, a message safe to show, and whether
//! the client wants JSON (API routes) or a page.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::pool::PoolError;

#[derive(Debug, Clone)]
pub struct HttpError {
    pub status: StatusCode,
    pub message: String,
    pub json: bool,
}

impl HttpError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> HttpError {
        HttpError {
            status,
            message: message.into(),
            json: false,
        }
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

    pub fn forbidden(message: impl Into<String>) -> HttpError {
        HttpError::new(StatusCode::FORBIDDEN, message)
    }

    pub fn too_many() -> HttpError {
        HttpError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too many requests; try again in a minute",
        )
    }

    pub fn unavailable(message: impl Into<String>) -> HttpError {
        HttpError::new(StatusCode::SERVICE_UNAVAILABLE, message)
    }

    /// Logs the cause (once, here) and shows the reader nothing internal.
    pub fn internal(cause: impl std::fmt::Display) -> HttpError {
        tracing::error!(error = %cause, "request failed");
        HttpError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
    }

    /// The same error, answered as JSON.
    pub fn into_json(mut self) -> HttpError {
        self.json = true;
        self
    }
}

impl From<PoolError> for HttpError {
    fn from(error: PoolError) -> HttpError {
        HttpError::internal(error)
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        if self.json {
            let body = serde_json::json!({ "error": self.message }).to_string();
            let mut response = (self.status, body).into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            response
        } else {
            let page = crate::views::error_page(self.status, &self.message);
            (self.status, page).into_response()
        }
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
