//! `/account/sessions`: where the member is logged in (created, last seen, browser,
//! client address), and ending one session or every other one.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;

use crate::csrf;
use crate::error::HttpError;
use crate::extract::Form;
use crate::html::html_response;
use crate::routes::auth::TokenForm;
use crate::session::MaybeUser;
use crate::state::AppState;
use crate::views;

use super::{member, viewer};

const PATH: &str = "/account/sessions";

pub(crate) async fn list(
    State(state): State<AppState>,
    user: MaybeUser,
) -> Result<Response, HttpError> {
    let member = match member(user, PATH) {
        Ok(member) => member,
        Err(redirect) => return Ok(redirect.into_response()),
    };
    let (id, current) = (member.session.user_id, member.token_hash.clone());
    let sessions = state
        .inner
        .pool
        .run(move |store| store.sessions_of(id, &current, Utc::now()))
        .await?;
    Ok(html_response(
        views::sessions_page(&viewer(&member), &sessions, None),
        false,
    ))
}

pub(crate) async fn end_one(
    State(state): State<AppState>,
    user: MaybeUser,
    Path(handle): Path<String>,
    Form(form): Form<TokenForm>,
) -> Result<Response, HttpError> {
    let member = match member(user, PATH) {
        Ok(member) => member,
        Err(redirect) => return Ok(redirect.into_response()),
    };
    csrf::check_session(&member, form.csrf.as_deref())?;
    let id = member.session.user_id;
    let ended = state
        .inner
        .pool
        .run(move |store| store.end_session(id, &handle))
        .await?;
    if !ended {
        return Err(HttpError::not_found("You have no such session."));
    }
    Ok(Redirect::to(PATH).into_response())
}

pub(crate) async fn end_others(
    State(state): State<AppState>,
    user: MaybeUser,
    Form(form): Form<TokenForm>,
) -> Result<Response, HttpError> {
    let member = match member(user, PATH) {
        Ok(member) => member,
        Err(redirect) => return Ok(redirect.into_response()),
    };
    csrf::check_session(&member, form.csrf.as_deref())?;
    let (id, keep) = (member.session.user_id, member.token_hash.clone());
    state
        .inner
        .pool
        .run(move |store| store.end_other_sessions(id, &keep))
        .await?;
    Ok(Redirect::to(PATH).into_response())
}
