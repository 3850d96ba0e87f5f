//! Form bodies are text: an `application/x-www-form-urlencoded` body with a
//! percent-escape cut short (`%2`) or whose decoded bytes are not UTF-8 is refused
//! with 400 before any route reads it.
//!
//! The form extractor is lenient on both: it reads `%2` as the text "%2" and replaces
//! bytes that are not UTF-8 with U+FFFD. A field that a route validates (an id, an
//! address) still refuses the result, but an optional free-text field took it as
//! meant: a token's label or a collection's title was stored as replacement
//! characters (the bad-input table, `tests/web/bad_input.rs`, found it). Browsers
//! always send forms escaped and UTF-8, so only broken clients meet the refusal.

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::HttpError;

/// Checks a form body, then hands the request on with the same bytes.
pub(crate) async fn check(request: Request, next: Next) -> Response {
    if !is_form(request.headers()) {
        return next.run(request).await;
    }
    let api = request.uri().path().starts_with("/api/");
    let (parts, body) = request.into_parts();
    // The body limit layer outside this one bounds what is read here.
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return refuse(
                HttpError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "the request body is too large or was cut off",
                ),
                api,
            );
        }
    };
    if let Err(problem) = form_is_text(&bytes) {
        return refuse(HttpError::bad_request(problem), api);
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

fn refuse(error: HttpError, api: bool) -> Response {
    if api {
        error.into_json().into_response()
    } else {
        error.into_response()
    }
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|mime| {
            mime.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// `Ok` when every name and value decodes to UTF-8 text; else what is wrong.
fn form_is_text(body: &Bytes) -> Result<(), &'static str> {
    for part in body.split(|&byte| byte == b'&') {
        let mut decoded = Vec::with_capacity(part.len());
        let mut bytes = part.iter();
        while let Some(&byte) = bytes.next() {
            decoded.push(match byte {
                b'%' => {
                    let high = bytes.next().and_then(|&b| (b as char).to_digit(16));
                    let low = bytes.next().and_then(|&b| (b as char).to_digit(16));
                    match (high, low) {
                        // Two hex digits make one byte: at most 0xFF.
                        (Some(high), Some(low)) => u8::try_from(high * 16 + low).unwrap_or(0),
                        _ => {
                            return Err("the form has a percent-escape cut short \
                                        (a % needs two hex digits after it)");
                        }
                    }
                }
                b'+' => b' ',
                other => other,
            });
        }
        if std::str::from_utf8(&decoded).is_err() {
            return Err("the form is not UTF-8 text");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(body: &[u8]) -> Result<(), &'static str> {
        form_is_text(&Bytes::copy_from_slice(body))
    }

    #[test]
    fn text_forms_pass() {
        assert_eq!(check(b""), Ok(()));
        assert_eq!(check(b"csrf=ab12&label=my+laptop&x="), Ok(()));
        assert_eq!(check("title=caf%C3%A9&n=é".as_bytes()), Ok(()));
        assert_eq!(check(b"a=100%25&b=%2F"), Ok(()));
    }

    #[test]
    fn cut_escapes_and_bytes_that_are_not_utf8_are_refused() {
        assert!(check(b"label=%2").is_err());
        assert!(check(b"label=%zz").is_err());
        assert!(check(b"label=%").is_err());
        assert!(check(b"label=\xFF\xFEx").is_err());
        assert!(check(b"label=%FF%FE").is_err());
        assert!(check(b"csrf=1&%C3=x").is_err());
    }
}
