//! Password reset by mail: the JSON API (`POST /api/account/password-reset`) and the
//! HTML flow (`/account/password-reset`). Asking always gets the same answer, byte for
//! byte, at once: the lookup, the token and the mail happen in a background job, so
//! neither the answer nor its timing says whether an account has the address. The
//! link works once, for an hour, and using it ends every session of the account.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use papers_store::TokenPurpose;
use serde::{Deserialize, Serialize};

use crate::csrf;
use crate::error::{HttpError, JsonErrors};
use crate::extract::Form;
use crate::html::html_with_status;
use crate::password;
use crate::routes::auth::{form_page, limit_client};
use crate::session::{self, Client, MaybeUser, digest};
use crate::state::AppState;
use crate::views::{self, Flash, Viewer};

use super::jobs::{self, Job};
use super::verify::well_formed;

/// What every reset request is told.
const ACCEPTED: &str = "If an account uses that address, a link to reset its password is on its way. \
     It works once, for an hour.";

#[derive(Debug, Serialize)]
struct Accepted {
    status: &'static str,
    message: &'static str,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ResetRequest {
    email: String,
}

/// Starts the background job when the address is an address at all; a malformed one
/// is treated like an unknown one (nothing is sent, the answer is the same).
fn request_reset(state: &AppState, email: &str) {
    if let Ok(address) = papers_digest::Email::parse(email) {
        jobs::spawn(
            state,
            Job::Reset {
                email: address.as_str().to_owned(),
            },
        );
    }
}

pub(crate) async fn api_request(
    State(state): State<AppState>,
    client: Client,
    body: Result<Json<ResetRequest>, JsonRejection>,
) -> Result<Response, HttpError> {
    limit_client(&state, "reset", &client).json_errors()?;
    let Json(body) = body
        .map_err(|rejection| HttpError::bad_request(rejection.body_text()))
        .json_errors()?;
    request_reset(&state, &body.email);
    let answer = Accepted {
        status: "accepted",
        message: ACCEPTED,
    };
    Ok((StatusCode::ACCEPTED, Json(answer)).into_response())
}

pub(crate) async fn form(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, HttpError> {
    let mail = state.inner.mailer.is_some();
    form_page(&state, &headers, StatusCode::OK, |token| {
        views::reset_request_page(token, mail, None)
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RequestForm {
    csrf: Option<String>,
    email: String,
}

pub(crate) async fn submit(
    State(state): State<AppState>,
    client: Client,
    headers: HeaderMap,
    Form(form): Form<RequestForm>,
) -> Result<Response, HttpError> {
    csrf::check_pre_session(&state, &headers, form.csrf.as_deref())?;
    limit_client(&state, "reset", &client)?;
    request_reset(&state, &form.email);
    let mail = state.inner.mailer.is_some();
    form_page(&state, &headers, StatusCode::OK, |token| {
        views::reset_request_page(token, mail, Some(Flash::Done(ACCEPTED)))
    })
}

const INVALID: &str = "This reset link is not valid: it was used already, a newer one was sent, or \
     an hour has passed. Ask for a new one.";

fn invalid(status: StatusCode) -> Response {
    html_with_status(
        views::account_notice_page(
            &Viewer::anonymous(),
            "Link not valid",
            INVALID,
            ("/account/password-reset", "Ask for a new link"),
        ),
        status,
    )
}

/// The form behind the link. Looking does not use the link up (mail scanners look).
pub(crate) async fn link_form(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, HttpError> {
    if !well_formed(&token) {
        return Ok(invalid(StatusCode::BAD_REQUEST));
    }
    let hash = digest(&token);
    let live = state
        .inner
        .pool
        .run(move |store| store.account_token(&hash, TokenPurpose::ResetPassword, Utc::now()))
        .await?;
    if live.is_none() {
        return Ok(invalid(StatusCode::BAD_REQUEST));
    }
    let path = format!("/account/password-reset/{token}");
    Ok(html_with_status(
        views::reset_form_page(&path, None),
        StatusCode::OK,
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewPasswordForm {
    password: String,
}

/// Sets the new password and ends every session. The token in the path is the
/// authority, as an unsubscribe link's is: no session and no CSRF token are needed.
pub(crate) async fn link_submit(
    State(state): State<AppState>,
    user: MaybeUser,
    Path(token): Path<String>,
    Form(form): Form<NewPasswordForm>,
) -> Result<Response, HttpError> {
    if !well_formed(&token) {
        return Ok(invalid(StatusCode::BAD_REQUEST));
    }
    let hash = digest(&token);
    let lookup = hash.clone();
    let now = Utc::now();
    let owner = state
        .inner
        .pool
        .run(move |store| {
            let Some(token) = store.account_token(&lookup, TokenPurpose::ResetPassword, now)?
            else {
                return Ok(None);
            };
            store.user_by_id(token.user_id)
        })
        .await?;
    let Some(owner) = owner else {
        return Ok(invalid(StatusCode::BAD_REQUEST));
    };
    let path = format!("/account/password-reset/{token}");
    if let Some(problem) = password::weakness(&form.password, &[&owner.username, &owner.email]) {
        return Ok(html_with_status(
            views::reset_form_page(&path, Some(&problem)),
            StatusCode::BAD_REQUEST,
        ));
    }
    let new_hash = password::hash_blocking(form.password).await?;
    let reset = state
        .inner
        .pool
        .run(move |store| store.reset_password(&hash, &new_hash, now))
        .await?;
    if reset.is_none() {
        return Ok(invalid(StatusCode::BAD_REQUEST));
    }
    state
        .inner
        .login_backoff
        .succeeded(&crate::routes::auth::account_key(&owner.username));
    tracing::info!(user.id = owner.id, "password reset; every session ended");
    let mut response = html_with_status(
        views::account_notice_page(
            &Viewer::anonymous(),
            "Password changed",
            "Your new password is set, and every browser that was logged in is logged out. Log in with the new password.",
            ("/login", "Log in"),
        ),
        StatusCode::OK,
    );
    if user.0.is_some() {
        session::clear(&state, &mut response);
    }
    Ok(response)
}
