//! Session cookies: random tokens, stored as SHA-256 digests, resolved per request.

use axum::extract::FromRequestParts;
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use chrono::Utc;
use papers_store::Session;
use sha2::{Digest, Sha256};

use crate::error::HttpError;
use crate::state::AppState;

pub(crate) const SESSION_COOKIE: &str = "papers_session";

/// The logged-in member, if any, for this request.
#[derive(Debug, Clone)]
pub(crate) struct MaybeUser(pub Option<SessionUser>);

#[derive(Debug, Clone)]
pub(crate) struct SessionUser {
    pub session: Session,
    /// The digest of the cookie's token (or of the access token).
    pub token_hash: String,
    /// The access token's id when the request came with `Authorization: Bearer`
    /// instead of a cookie (see [`crate::bearer`]): no CSRF check applies then.
    pub bearer: Option<i64>,
}

impl SessionUser {
    pub(crate) fn csrf(&self) -> &str {
        &self.session.csrf_token
    }
}

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, HttpError> {
        if let Some(found) = parts.extensions.get::<MaybeUser>() {
            return Ok(found.clone());
        }
        let resolved = resolve(state, &parts.headers).await.map_err(|error| {
            if parts.uri.path().starts_with("/api/") {
                error.into_json()
            } else {
                error
            }
        })?;
        let user = MaybeUser(resolved);
        parts.extensions.insert(user.clone());
        Ok(user)
    }
}

/// The member behind the request: an access token when one is presented (every member
/// route takes one in place of the cookie), else the session cookie.
async fn resolve(state: &AppState, headers: &HeaderMap) -> Result<Option<SessionUser>, HttpError> {
    if let Some(token) = crate::bearer::presented(headers) {
        return crate::bearer::resolve(state, token).await.map(Some);
    }
    let Some(token) = cookie(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let token_hash = digest(token);
    let lookup = token_hash.clone();
    let session = state
        .inner
        .pool
        .run_quick(move |store| store.session(&lookup, Utc::now()))
        .await?;
    Ok(session.map(|session| SessionUser {
        session,
        token_hash,
        bearer: None,
    }))
}

/// The value of cookie `name`, if the request carries it.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// True when the request carries a session cookie or an `Authorization` header at all
/// (valid or not): such requests may see personal state and are never answered from
/// the shared cache.
pub(crate) fn has_credentials(headers: &HeaderMap) -> bool {
    cookie(headers, SESSION_COOKIE).is_some()
        || headers.contains_key(axum::http::header::AUTHORIZATION)
}

/// 32 random bytes as 64 hex digits.
pub(crate) fn random_token() -> Result<String, HttpError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(HttpError::internal)?;
    Ok(hex(&bytes))
}

pub(crate) fn digest(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(char::from(DIGITS[usize::from(byte >> 4)]));
        text.push(char::from(DIGITS[usize::from(byte & 15)]));
    }
    text
}

/// A `Set-Cookie` header value. `max_age` of zero deletes the cookie.
pub(crate) fn set_cookie(state: &AppState, name: &str, value: &str, max_age: u64) -> HeaderValue {
    let secure = if state.config().secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    let text = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}");
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

pub(crate) fn add_cookie(headers: &mut HeaderMap, value: HeaderValue) {
    headers.append(SET_COOKIE, value);
}
