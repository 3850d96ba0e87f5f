//! Personal access tokens: made here, shown to their member once, stored as SHA-256
//! digests, and accepted as `Authorization: Bearer papers_pat_…` in place of the
//! session cookie. A bearer request needs no CSRF token: browsers never attach the
//! header on their own, so a cross-site page cannot make a request carry it.

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use chrono::{DateTime, Utc};
use papers_store::Session;

use crate::error::HttpError;
use crate::session::{SessionUser, digest, random_token};
use crate::state::AppState;

/// Every token starts with this, so a leaked one is recognisable (secret scanners,
/// logs) and a wrong kind of credential is refused without a store lookup.
pub(crate) const TOKEN_PREFIX: &str = "papers_pat_";

/// 32 random bytes as 64 hex digits after the prefix.
const TOKEN_LENGTH: usize = TOKEN_PREFIX.len() + 64;

/// A new token and the digest to store.
pub(crate) fn new_token() -> Result<(String, String), HttpError> {
    let token = format!("{TOKEN_PREFIX}{}", random_token()?);
    let hash = digest(&token);
    Ok((token, hash))
}

/// The credential of an `Authorization: Bearer …` header, if the request has one.
/// Other schemes are not ours and are ignored.
pub(crate) fn presented(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, credential) = value.trim().split_once(' ')?;
    // RFC 6750 §2.1: the scheme is case-insensitive.
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| credential.trim())
}

/// The member a presented token stands for. An unknown, revoked or malformed token
/// is a 401, never an anonymous request: a client that sent credentials must learn
/// that they failed.
pub(crate) async fn resolve(state: &AppState, token: &str) -> Result<SessionUser, HttpError> {
    let well_formed = token.len() == TOKEN_LENGTH
        && token.starts_with(TOKEN_PREFIX)
        && token[TOKEN_PREFIX.len()..]
            .bytes()
            .all(|b| b.is_ascii_hexdigit());
    if !well_formed {
        return Err(refused());
    }
    let token_hash = digest(token);
    let lookup = token_hash.clone();
    let now = Utc::now();
    // Not `run_quick`: the lookup records the token's use, a write.
    let owner = state
        .inner
        .pool
        .run(move |store| store.token_owner(&lookup, now))
        .await?
        .ok_or_else(refused)?;
    Ok(SessionUser {
        session: Session {
            user_id: owner.user_id,
            username: owner.username,
            // Never matches a sent token; bearer requests skip the check instead.
            csrf_token: String::new(),
            expires: DateTime::<Utc>::MAX_UTC,
            last_seen: now,
            email_verified: owner.email_verified,
        },
        token_hash,
        bearer: Some(owner.token_id),
    })
}

fn refused() -> HttpError {
    HttpError::unauthorized_because("the access token is unknown or revoked")
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, HeaderValue::from_str(value).expect("header"));
        headers
    }

    #[test]
    fn only_bearer_credentials_are_taken() {
        assert_eq!(presented(&headers("Bearer abc")), Some("abc"));
        assert_eq!(presented(&headers("bearer  abc ")), Some("abc"));
        assert_eq!(presented(&headers("Basic dXNlcjpwYXNz")), None);
        assert_eq!(presented(&HeaderMap::new()), None);
    }

    #[test]
    fn tokens_are_prefixed_random_and_stored_as_digests() -> Result<(), HttpError> {
        let (token, hash) = new_token()?;
        let (other, _) = new_token()?;
        assert!(token.starts_with(TOKEN_PREFIX) && token.len() == TOKEN_LENGTH);
        assert_ne!(token, other);
        assert_eq!(hash, digest(&token));
        assert!(!hash.contains(&token[TOKEN_PREFIX.len()..]));
        Ok(())
    }
}
