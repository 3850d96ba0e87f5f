//! CSRF protection. A logged-in member's forms and API calls echo the synchronizer
//! token stored with their session. The forms used before there is a session (log in,
//! sign up, password reset, subscribe) carry a token that must equal the one in a
//! short-lived pre-session cookie (double submit): a cross-site page can neither read
//! that cookie nor, with the `__Host-` prefix on https, set it from a subdomain.

use axum::http::HeaderMap;

use crate::error::HttpError;
use crate::session::{SessionUser, cookie, pre_session_cookie};
use crate::state::AppState;

pub(crate) const HEADER: &str = "x-csrf-token";

/// Compares in time independent of where the strings first differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Checks a member's form or header token against their session. A request that
/// authenticated with an access token has no ambient credential a cross-site page
/// could borrow, so it needs none (see [`crate::bearer`]).
pub(crate) fn check_session(user: &SessionUser, sent: Option<&str>) -> Result<(), HttpError> {
    if user.bearer.is_some() {
        return Ok(());
    }
    match sent {
        Some(token) if !token.is_empty() && same(token, user.csrf()) => Ok(()),
        _ => Err(HttpError::forbidden(
            "missing or wrong CSRF token; reload the page and try again",
        )),
    }
}

/// Checks a pre-session form's token against the pre-session cookie.
pub(crate) fn check_pre_session(
    state: &AppState,
    headers: &HeaderMap,
    sent: Option<&str>,
) -> Result<(), HttpError> {
    match (cookie(headers, pre_session_cookie(state)), sent) {
        (Some(expected), Some(token)) if token.len() == 64 && same(expected, token) => Ok(()),
        _ => Err(HttpError::forbidden(
            "missing or wrong CSRF token; reload the page and try again",
        )),
    }
}

/// The token sent in the `X-CSRF-Token` header.
pub(crate) fn header_token(headers: &HeaderMap) -> Option<&str> {
    headers.get(HEADER).and_then(|value| value.to_str().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparison_needs_equal_strings() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "ab"));
        assert!(!same("abc", "abd"));
    }
}
