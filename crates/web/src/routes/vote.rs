//! Upvotes from the site's forms (`POST /vote`); the API's upvote shares [`toggle`].

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use papers_core::ArxivId;
use papers_store::VoteOutcome;
use serde::Deserialize;

use crate::error::HttpError;
use crate::extract::{MemberForm, ReturnTo};
use crate::redirect::safe_next;
use crate::session::SessionUser;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct VoteForm {
    csrf: Option<String>,
    paper: String,
    back: Option<String>,
}

impl ReturnTo for VoteForm {
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }

    fn return_to(&self, _path: &str) -> String {
        safe_next(self.back.as_deref().unwrap_or("/papers")).to_owned()
    }
}

pub(crate) async fn vote(
    State(state): State<AppState>,
    MemberForm { member, form }: MemberForm<VoteForm>,
) -> Result<Response, HttpError> {
    let back = form.return_to("");
    let id = ArxivId::parse(&form.paper).map_err(|_| HttpError::bad_request("not an arXiv id"))?;
    toggle(&state, &member, id).await?;
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
