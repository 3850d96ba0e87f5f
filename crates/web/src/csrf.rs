//! CSRF protection. A logged-in member's forms and API calls echo the synchronizer
//! token stored with their session. The log-in and sign-up forms, used before there is
//! a session, carry a token that must equal the one in a short-lived `papers_csrf`
//! cookie (double submit): a cross-site page can neither read that cookie nor set it.

use axum::http::HeaderMap;

use crate::error::HttpError;
use crate::session::{SessionUser, cookie};

pub(crate) const HEADER: &str = "x-csrf-token";
pub(crate) const PRE_SESSION_COOKIE: &str = "papers_csrf";

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

/// Checks a log-in or sign-up form's token against the pre-session cookie.
pub(crate) fn check_pre_session(headers: &HeaderMap, sent: Option<&str>) -> Result<(), HttpError> {
    match (cookie(headers, PRE_SESSION_COOKIE), sent) {
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
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "ab"));
    }
}
