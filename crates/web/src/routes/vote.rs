//! Upvotes from the site's forms (`POST /vote`); the API's upvote shares [`toggle`].

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use papers_core::ArxivId;
use papers_store::VoteOutcome;
use serde::Deserialize;

use crate::csrf;
use crate::error::HttpError;
use crate::extract::Form;
use crate::redirect::safe_next;
use crate::session::{MaybeUser, SessionUser};
use crate::state::AppState;
use crate::views::encode;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct VoteForm {
    csrf: Option<String>,
    paper: String,
    back: Option<String>,
}

pub(crate) async fn vote(
    State(state): State<AppState>,
    user: MaybeUser,
    Form(form): Form<VoteForm>,
) -> Result<Response, HttpError> {
    let back = safe_next(form.back.as_deref().unwrap_or("/papers"));
    let Some(user) = user.0 else {
        return Ok(Redirect::to(&format!("/login?next={}", encode(&back))).into_response());
    };
    csrf::check_session(&user, form.csrf.as_deref())?;
    let id = ArxivId::parse(&form.paper).map_err(|_| HttpError::bad_request("not an arXiv id"))?;
    toggle(&state, &user, id).await?;
    Ok(Redirect::to(&back).into_response())
}

/// Toggles the member's upvote on a paper (rate-limited per member) and invalidates
/// cached pages. Returns the new state and the paper's total upvotes.
pub(crate) async fn toggle(
    state: &AppState,
    user: &SessionUser,
    id: ArxivId,
) -> Result<(VoteOutcome, u32), HttpError> {
    let user_id = user.session.user_id;
    if !state.inner.vote_limiter.allow(&format!("vote:{user_id}")) {
        return Err(HttpError::too_many());
    }
    let shown = id.to_string();
    let result = state
        .inner
        .pool
        .run(move |store| {
            let Some(paper) = store.paper(&id)? else {
                return Ok(None);
            };
            let outcome = store.toggle_vote(user_id, paper.key, Utc::now())?;
            Ok(outcome.map(|outcome| {
                let total = paper.paper.community.upvotes.unwrap_or(0) + outcome.member_upvotes;
                (outcome, total)
            }))
        })
        .await?;
    state.invalidate();
    result.ok_or_else(|| HttpError::not_found(format!("no paper {shown}")))
}
