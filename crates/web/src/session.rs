//! Session cookies: random tokens, stored as SHA-256 digests, resolved per request;
//! and who is asking (client address through trusted proxies, browser).
//!
//! With an `https` public URL the cookies are `__Host-papers_session` and
//! `__Host-papers_csrf`: the prefix makes browsers insist on `Secure`, `Path=/` and no
//! `Domain`, so a neighbouring subdomain can neither read nor plant them. On plain
//! `http` (a laptop) they keep their plain names and work without TLS.

use std::net::IpAddr;

use axum::extract::FromRequestParts;
use axum::http::header::{COOKIE, SET_COOKIE, USER_AGENT};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Duration, Utc};
use papers_store::{NewSession, Session};
use sha2::{Digest, Sha256};

use crate::client;
use crate::error::HttpError;
use crate::state::AppState;

const SESSION_COOKIE: &str = "papers_session";
const SECURE_SESSION_COOKIE: &str = "__Host-papers_session";
const PRE_SESSION_COOKIE: &str = "papers_csrf";
const SECURE_PRE_SESSION_COOKIE: &str = "__Host-papers_csrf";

/// How stale `last_seen` may get before a request refreshes it: the sessions page
/// needs minutes, not every request's write.
const TOUCH_INTERVAL_MINUTES: i64 = 5;

/// The session cookie's name on this site.
pub(crate) fn session_cookie(state: &AppState) -> &'static str {
    if state.config().secure_cookies() {
        SECURE_SESSION_COOKIE
    } else {
        SESSION_COOKIE
    }
}

/// The pre-session CSRF cookie's name on this site (see `csrf`).
pub(crate) fn pre_session_cookie(state: &AppState) -> &'static str {
    if state.config().secure_cookies() {
        SECURE_PRE_SESSION_COOKIE
    } else {
        PRE_SESSION_COOKIE
    }
}

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
    let Some(token) = cookie(headers, session_cookie(state)) else {
        return Ok(None);
    };
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let token_hash = digest(token);
    let lookup = token_hash.clone();
    let now = Utc::now();
    let session = state
        .inner
        .pool
        .run_quick(move |store| store.session(&lookup, now))
        .await?;
    let Some(session) = session else {
        return Ok(None);
    };
    if now - session.last_seen > Duration::minutes(TOUCH_INTERVAL_MINUTES) {
        // Off the request's path: the answer does not wait for the write.
        let (pool, hash) = (state.clone(), token_hash.clone());
        tokio::spawn(async move {
            let touched = pool
                .inner
                .pool
                .run(move |store| store.touch_session(&hash, now))
                .await;
            if let Err(error) = touched {
                tracing::warn!(%error, "cannot record a session's last use");
            }
        });
    }
    Ok(Some(SessionUser {
        session,
        token_hash,
        bearer: None,
    }))
}

/// Who is asking: the client's address (through trusted proxies) and browser.
#[derive(Debug, Clone)]
pub(crate) struct Client {
    pub ip: Option<IpAddr>,
    pub user_agent: Option<String>,
}

impl Client {
    /// The rate-limit key for the address; requests without one (the router driven
    /// in-process) share one.
    pub(crate) fn key(&self) -> String {
        self.ip
            .map_or_else(|| "local".to_owned(), |ip| ip.to_string())
    }
}

impl FromRequestParts<AppState> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let ip = state
            .config()
            .trusted_proxies
            .client(client::peer(parts), &parts.headers);
        let user_agent = parts
            .headers
            .get(USER_AGENT)
            .and_then(|value| value.to_str().ok())
            .map(|agent| agent.chars().take(256).collect());
        Ok(Client { ip, user_agent })
    }
}

/// Creates a session for the member and answers with its cookie and a redirect.
pub(crate) async fn start(
    state: &AppState,
    user_id: i64,
    client: &Client,
    next: &str,
) -> Result<Response, HttpError> {
    let token = random_token()?;
    let csrf_token = random_token()?;
    let token_hash = digest(&token);
    let now = Utc::now();
    let lifetime = state.config().session_lifetime;
    let expires = now + Duration::from_std(lifetime).unwrap_or(Duration::days(30));
    let user_agent = client.user_agent.clone();
    let ip = client.ip.map(|ip| ip.to_string());
    state
        .inner
        .pool
        .run(move |store| {
            store.open_session(&NewSession {
                token_hash: &token_hash,
                user_id,
                csrf_token: &csrf_token,
                now,
                expires,
                user_agent: user_agent.as_deref(),
                ip: ip.as_deref(),
            })
        })
        .await?;
    let mut response = Redirect::to(next).into_response();
    add_cookie(
        response.headers_mut(),
        set_cookie(state, session_cookie(state), &token, lifetime.as_secs()),
    );
    add_cookie(
        response.headers_mut(),
        set_cookie(state, pre_session_cookie(state), "", 0),
    );
    Ok(response)
}

/// Deletes the session cookie in `response`.
pub(crate) fn clear(state: &AppState, response: &mut Response) {
    add_cookie(
        response.headers_mut(),
        set_cookie(state, session_cookie(state), "", 0),
    );
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

/// True when the request carries a session cookie (under either name) or an
/// `Authorization` header at all (valid or not): such requests may see personal state
/// and are never answered from the shared cache.
pub(crate) fn has_credentials(headers: &HeaderMap) -> bool {
    cookie(headers, SESSION_COOKIE).is_some()
        || cookie(headers, SECURE_SESSION_COOKIE).is_some()
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
