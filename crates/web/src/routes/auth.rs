//! Sign-up, log-in and log-out. Passwords are hashed with Argon2id on a blocking
//! thread; a session is a random cookie token whose digest the store keeps.
//!
//! Sign-up answers the same whether or not the address already has an account (its
//! owner is mailed instead), and does the same work either way: a username may say
//! "taken" (usernames are public), an address may not. Log-in is limited per client
//! address and, with a growing delay, per account.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use papers_store::SignUpConflict;
use serde::Deserialize;

use crate::csrf;
use crate::error::HttpError;
use crate::extract::Form;
use crate::html::html_response;
use crate::password;
use crate::redirect::safe_next;
use crate::routes::account::jobs::{self, Job};
use crate::session::{self, Client, MaybeUser, cookie, pre_session_cookie, set_cookie};
use crate::state::AppState;
use crate::views;

/// The pre-session token: the existing cookie's, or a new one to set.
fn pre_session_token(state: &AppState, headers: &HeaderMap) -> Result<(String, bool), HttpError> {
    match cookie(headers, pre_session_cookie(state)) {
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
    let (token, fresh) = pre_session_token(state, headers)?;
    let mut response = html_response(render(&token), false);
    *response.status_mut() = status;
    if fresh {
        session::add_cookie(
            response.headers_mut(),
            set_cookie(state, pre_session_cookie(state), &token, 3600),
        );
    }
    Ok(response)
}

/// Takes one attempt from the client address's bucket for `action`.
pub(crate) fn limit_client(
    state: &AppState,
    action: &str,
    client: &Client,
) -> Result<(), HttpError> {
    state
        .inner
        .auth_limiter
        .check(&format!("{action}:{}", client.key()))
        .map_err(|wait| {
            HttpError::too_many_because("Too many attempts from your address; try again shortly.")
                .retry_after(wait)
        })
}

/// The per-account back-off key: log-ins and password checks on the account pages
/// share it, so a stolen session cannot guess the password faster than a log-in form.
pub(crate) fn account_key(username: &str) -> String {
    format!("account:{}", username.trim().to_lowercase())
}

/// Refuses while the account must wait after failed attempts.
pub(crate) fn check_backoff(state: &AppState, username: &str) -> Result<(), HttpError> {
    let wait = state.inner.login_backoff.wait(&account_key(username));
    if wait.is_zero() {
        return Ok(());
    }
    Err(HttpError::too_many_because(format!(
        "Too many wrong passwords for this account. Try again in {} seconds.",
        wait.as_secs().max(1)
    ))
    .retry_after(wait))
}

/// Checks a member's password (the dummy hash when the name is unknown, so the work
/// is the same) and counts a failure against the account.
pub(crate) async fn check_password(
    state: &AppState,
    username: &str,
    hash: Option<String>,
    password: String,
) -> Result<bool, HttpError> {
    let ok = password::verify_blocking(password, hash).await?;
    let key = account_key(username);
    if ok {
        state.inner.login_backoff.succeeded(&key);
    } else {
        state.inner.login_backoff.failed(&key);
    }
    Ok(ok)
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
    let next = safe_next(query.next.as_deref().unwrap_or("/papers"));
    if user.0.is_some() {
        return Ok(Redirect::to(&next).into_response());
    }
    form_page(&state, &headers, StatusCode::OK, |token| {
        views::login_page(token, &next, None)
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LoginForm {
    csrf: Option<String>,
    username: String,
    password: String,
    next: Option<String>,
}

pub(crate) async fn login(
    State(state): State<AppState>,
    client: Client,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, HttpError> {
    csrf::check_pre_session(&state, &headers, form.csrf.as_deref())?;
    limit_client(&state, "login", &client)?;
    let name = form.username.trim().to_owned();
    // Before the password is looked at: during the wait no guess is checked at all.
    check_backoff(&state, &name)?;
    let next = safe_next(form.next.as_deref().unwrap_or("/papers"));
    let lookup = name.clone();
    let user = state
        .inner
        .pool
        .run(move |store| store.user_by_name(&lookup))
        .await?;
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let ok = check_password(&state, &name, hash, form.password).await?;
    let Some(user) = user.filter(|_| ok) else {
        return form_page(&state, &headers, StatusCode::UNAUTHORIZED, |token| {
            views::login_page(token, &next, Some("Wrong username or password."))
        });
    };
    session::start(&state, user.id, &client, &next).await
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
#[serde(deny_unknown_fields)]
pub(crate) struct SignUpForm {
    csrf: Option<String>,
    username: String,
    email: String,
    password: String,
}

/// Checks the sign-up fields; the message says what to fix.
fn validate(form: &SignUpForm) -> Result<(), String> {
    let username = form.username.trim();
    if !(2..=32).contains(&username.len())
        || !username
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err("Usernames are 2–32 letters, digits, '-' or '_'.".to_owned());
    }
    if papers_digest::Email::parse(form.email.trim()).is_err() {
        return Err("That email address does not look right.".to_owned());
    }
    if let Some(problem) = password::weakness(&form.password, &[username, form.email.trim()]) {
        return Err(problem);
    }
    Ok(())
}

/// The sign-up rules for an account made elsewhere (`papers user create`), so both
/// ways to make one take the same names, addresses and passwords.
pub(crate) fn check_new_account(username: &str, email: &str, password: &str) -> Result<(), String> {
    validate(&SignUpForm {
        csrf: None,
        username: username.to_owned(),
        email: email.to_owned(),
        password: password.to_owned(),
    })
}

pub(crate) async fn signup(
    State(state): State<AppState>,
    client: Client,
    headers: HeaderMap,
    Form(form): Form<SignUpForm>,
) -> Result<Response, HttpError> {
    csrf::check_pre_session(&state, &headers, form.csrf.as_deref())?;
    limit_client(&state, "signup", &client)?;
    let username = form.username.trim().to_owned();
    let email = form.email.trim().to_owned();
    if let Err(problem) = validate(&form) {
        return form_page(&state, &headers, StatusCode::BAD_REQUEST, |token| {
            views::signup_page(token, &username, &email, Some(&problem))
        });
    }
    let hash = password::hash_blocking(form.password).await?;
    let (name, mail) = (username.clone(), email.clone());
    let created = state
        .inner
        .pool
        .run(move |store| store.create_user(&name, &mail, &hash, Utc::now()))
        .await?;
    // Either way the mail is made and sent in the background, so neither the answer
    // nor its timing says which happened.
    match created {
        Ok(user_id) => jobs::spawn(
            &state,
            Job::Verify {
                user_id,
                username,
                email: email.clone(),
            },
        ),
        Err(SignUpConflict::EmailTaken) => jobs::spawn(
            &state,
            Job::SignUpAttempt {
                email: email.clone(),
            },
        ),
        Err(SignUpConflict::UsernameTaken) => {
            return form_page(&state, &headers, StatusCode::CONFLICT, |token| {
                views::signup_page(token, &username, &email, Some("That username is taken."))
            });
        }
    }
    let mut response = html_response(views::check_email_page(&email), false);
    session::add_cookie(
        response.headers_mut(),
        set_cookie(&state, pre_session_cookie(&state), "", 0),
    );
    Ok(response)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TokenForm {
    pub(crate) csrf: Option<String>,
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
    session::clear(&state, &mut response);
    Ok(response)
}
