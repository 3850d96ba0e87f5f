//! Sign-up, log-in and log-out. Passwords are hashed with Argon2id on a blocking
//! thread; a session is a random cookie token whose digest the store keeps.

use std::net::SocketAddr;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::{ConnectInfo, Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use papers_store::SignUpConflict;
use serde::Deserialize;

use crate::csrf::{self, PRE_SESSION_COOKIE};
use crate::error::HttpError;
use crate::html::html_response;
use crate::session::{self, MaybeUser, SESSION_COOKIE, add_cookie, cookie, set_cookie};
use crate::state::AppState;
use crate::views;

/// The client address, when the server was started with connection info (tests
/// driving the router directly have none and share one bucket).
pub(crate) fn client_key(request_extensions: &axum::http::Extensions) -> String {
    request_extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "local".to_owned(), |info| info.0.ip().to_string())
}

/// Extracts the client key before the body is read.
pub(crate) struct ClientKey(pub String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientKey {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientKey(client_key(&parts.extensions)))
    }
}

/// Only same-site paths are followed after log-in, so `next` cannot redirect away.
pub(crate) fn safe_next(next: &str) -> &str {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        // Control characters (not only CR/LF) cannot go in a Location header.
        && !next.chars().any(char::is_control);
    if ok { next } else { "/papers" }
}

/// The pre-session token: the existing cookie's, or a new one to set.
fn pre_session_token(headers: &HeaderMap) -> Result<(String, bool), HttpError> {
    match cookie(headers, PRE_SESSION_COOKIE) {
        Some(token) if token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Ok((token.to_owned(), false))
        }
        _ => Ok((session::random_token()?, true)),
    }
}

pub(crate) fn form_page(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    render: impl FnOnce(&str) -> maud::Markup,
) -> Result<Response, HttpError> {
    let (token, fresh) = pre_session_token(headers)?;
    let mut response = html_response(render(&token), false);
    *response.status_mut() = status;
    if fresh {
        add_cookie(
            response.headers_mut(),
            set_cookie(state, PRE_SESSION_COOKIE, &token, 3600),
        );
    }
    Ok(response)
}

#[derive(Debug, Deserialize)]
pub(crate) struct NextParam {
    next: Option<String>,
}

pub(crate) async fn login_form(
    State(state): State<AppState>,
    user: MaybeUser,
    axum::extract::Query(query): axum::extract::Query<NextParam>,
    headers: HeaderMap,
) -> Result<Response, HttpError> {
    let next = safe_next(query.next.as_deref().unwrap_or("/papers")).to_owned();
    if user.0.is_some() {
        return Ok(Redirect::to(&next).into_response());
    }
    form_page(&state, &headers, StatusCode::OK, |token| {
        views::login_page(token, &next, None)
    })
}

#[derive(Debug, Deserialize)]
pub(crate) struct LoginForm {
    csrf: Option<String>,
    username: String,
    password: String,
    next: Option<String>,
}

pub(crate) async fn login(
    State(state): State<AppState>,
    ClientKey(client): ClientKey,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, HttpError> {
    csrf::check_pre_session(&headers, form.csrf.as_deref())?;
    if !state.inner.auth_limiter.allow(&format!("login:{client}")) {
        return Err(HttpError::too_many());
    }
    let next = safe_next(form.next.as_deref().unwrap_or("/papers")).to_owned();
    let name = form.username.trim().to_owned();
    let user = state
        .inner
        .pool
        .run(move |store| store.user_by_name(&name))
        .await?;
    // An unknown username costs the same hash verification as a wrong password, so
    // response times do not reveal which usernames exist.
    let password = form.password;
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let ok = tokio::task::spawn_blocking(move || match hash {
        Some(hash) => verify_password(&password, &hash),
        None => {
            let _ = verify_password(&password, dummy_hash());
            false
        }
    })
    .await
    .map_err(HttpError::internal)?;
    let verified = user.filter(|_| ok);
    let Some(user) = verified else {
        return form_page(&state, &headers, StatusCode::UNAUTHORIZED, |token| {
            views::login_page(token, &next, Some("Wrong username or password."))
        });
    };
    start_session(&state, user.id, &next).await
}

/// Creates a session and answers with its cookie and a redirect.
async fn start_session(state: &AppState, user_id: i64, next: &str) -> Result<Response, HttpError> {
    let token = session::random_token()?;
    let csrf_token = session::random_token()?;
    let token_hash = session::digest(&token);
    let now = Utc::now();
    let lifetime = state.config().session_lifetime;
    let expires = now + chrono::Duration::from_std(lifetime).unwrap_or(chrono::Duration::days(30));
    state
        .inner
        .pool
        .run(move |store| store.create_session(&token_hash, user_id, &csrf_token, now, expires))
        .await?;
    let mut response = Redirect::to(next).into_response();
    add_cookie(
        response.headers_mut(),
        set_cookie(state, SESSION_COOKIE, &token, lifetime.as_secs()),
    );
    add_cookie(
        response.headers_mut(),
        set_cookie(state, PRE_SESSION_COOKIE, "", 0),
    );
    Ok(response)
}

pub(crate) async fn signup_form(
    State(state): State<AppState>,
    user: MaybeUser,
    headers: HeaderMap,
) -> Result<Response, HttpError> {
    if user.0.is_some() {
        return Ok(Redirect::to("/papers").into_response());
    }
    form_page(&state, &headers, StatusCode::OK, |token| {
        views::signup_page(token, "", "", None)
    })
}

#[derive(Debug, Deserialize)]
pub(crate) struct SignUpForm {
    csrf: Option<String>,
    username: String,
    email: String,
    password: String,
}

/// Checks the sign-up fields; the message says what to fix.
fn validate(form: &SignUpForm) -> Result<(), &'static str> {
    let username = form.username.trim();
    if !(2..=32).contains(&username.len())
        || !username
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err("Usernames are 2–32 letters, digits, '-' or '_'.");
    }
    let email = form.email.trim();
    let shaped = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.')
        })
        && !email.contains(char::is_whitespace);
    if !shaped {
        return Err("That email address does not look right.");
    }
    if form.password.chars().count() < 8 || form.password.len() > 256 {
        return Err("Passwords are 8 to 256 characters.");
    }
    Ok(())
}

/// The sign-up rules for an account made elsewhere (`papers user create`), so both
/// ways to make one take the same names, addresses and passwords.
pub(crate) fn check_new_account(
    username: &str,
    email: &str,
    password: &str,
) -> Result<(), &'static str> {
    validate(&SignUpForm {
        csrf: None,
        username: username.to_owned(),
        email: email.to_owned(),
        password: password.to_owned(),
    })
}

pub(crate) async fn signup(
    State(state): State<AppState>,
    ClientKey(client): ClientKey,
    headers: HeaderMap,
    Form(form): Form<SignUpForm>,
) -> Result<Response, HttpError> {
    csrf::check_pre_session(&headers, form.csrf.as_deref())?;
    if !state.inner.auth_limiter.allow(&format!("signup:{client}")) {
        return Err(HttpError::too_many());
    }
    let username = form.username.trim().to_owned();
    let email = form.email.trim().to_owned();
    if let Err(problem) = validate(&form) {
        return form_page(&state, &headers, StatusCode::BAD_REQUEST, |token| {
            views::signup_page(token, &username, &email, Some(problem))
        });
    }
    let password = form.password;
    let hash = tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(HttpError::internal)??;
    let (name, mail) = (username.clone(), email.clone());
    let created = state
        .inner
        .pool
        .run(move |store| store.create_user(&name, &mail, &hash, Utc::now()))
        .await?;
    match created {
        Ok(user_id) => start_session(&state, user_id, "/papers").await,
        Err(conflict) => {
            let message = match conflict {
                SignUpConflict::UsernameTaken => "That username is taken.",
                SignUpConflict::EmailTaken => "An account with that email exists; log in instead.",
            };
            form_page(&state, &headers, StatusCode::CONFLICT, |token| {
                views::signup_page(token, &username, &email, Some(message))
            })
        }
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct TokenForm {
    csrf: Option<String>,
}

pub(crate) async fn logout(
    State(state): State<AppState>,
    user: MaybeUser,
    Form(form): Form<TokenForm>,
) -> Result<Response, HttpError> {
    let Some(user) = user.0 else {
        return Ok(Redirect::to("/papers").into_response());
    };
    csrf::check_session(&user, form.csrf.as_deref())?;
    let hash = user.token_hash.clone();
    state
        .inner
        .pool
        .run(move |store| store.delete_session(&hash))
        .await?;
    let mut response = Redirect::to("/papers").into_response();
    add_cookie(
        response.headers_mut(),
        set_cookie(&state, SESSION_COOKIE, "", 0),
    );
    Ok(response)
}

pub(crate) fn hash_password(password: &str) -> Result<String, HttpError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(HttpError::internal)?;
    let salt = SaltString::encode_b64(&salt).map_err(HttpError::internal)?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(HttpError::internal)
}

/// A hash of a random password with the same parameters as real ones, made once.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("not-a-real-password").unwrap_or_default())
}

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn safe_next_keeps_same_site_paths() {
        assert_eq!(safe_next("/papers/2401.00001"), "/papers/2401.00001");
        assert_eq!(safe_next("/search?q=bärlauch"), "/search?q=bärlauch");
    }

    #[test]
    fn safe_next_refuses_other_sites_and_unsendable_locations() {
        for bad in [
            "https://evil.example/",
            "//evil.example/",
            "/\\evil.example",
            "/a\r\nSet-Cookie: x=1",
            // Found by the web fuzz target: a NUL made the redirect a 500.
            "/pa/subscriptions\u{0}\u{1}",
            "/a\u{7f}",
            "",
        ] {
            assert_eq!(safe_next(bad), "/papers", "{bad:?}");
        }
    }
}
