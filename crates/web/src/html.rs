//! HTML responses: the content type, the caching headers, and the mark that lets the
//! shared response cache keep an anonymous page; and JSON answers meant for one member
//! only, which no cache may keep.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::Markup;

use crate::cache::Cacheable;

/// An HTML response; `cacheable` marks it for the shared cache (anonymous pages only).
pub(crate) fn html_response(markup: Markup, cacheable: bool) -> Response {
    let mut response = (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        )],
        markup.into_string(),
    )
        .into_response();
    // Pages differ by the session cookie, so shared caches must key on it; browsers
    // revalidate anonymous pages with their ETag instead of guessing a lifetime.
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("Cookie"));
    if cacheable {
        response.extensions_mut().insert(Cacheable::DEFAULT);
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    } else {
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-store"),
        );
    }
    response
}

/// An uncacheable page with another status than 200.
pub(crate) fn html_with_status(markup: Markup, status: StatusCode) -> Response {
    let mut response = html_response(markup, false);
    *response.status_mut() = status;
    response
}

/// `value` serialized as a [`private_json`] answer.
pub(crate) fn private_json_of<T: serde::Serialize>(
    status: StatusCode,
    value: &T,
) -> Result<Response, crate::error::HttpError> {
    let body = serde_json::to_string(value).map_err(crate::error::HttpError::internal)?;
    Ok(private_json(status, body))
}

/// A JSON answer (already serialized) for one member or operator: never cached.
pub(crate) fn private_json(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    response
}
