//! Reading state: `POST /read` (the paper page's "Mark read" / "Mark unread" form) and
//! `POST`/`DELETE /api/papers/{id}/read`. Opening a paper page marks it read as well
//! (`routes::paper`); feeds and search hide read papers with `hide_read=1`.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use papers_core::ArxivId;
use serde::{Deserialize, Serialize};

use crate::csrf;
use crate::error::{HttpError, JsonErrors};
use crate::extract::{MemberForm, ReturnTo};
use crate::html::private_json;
use crate::routes::paper::load;
use crate::session::{MaybeUser, SessionUser};
use crate::state::AppState;
use crate::views;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReadForm {
    csrf: Option<String>,
    paper: String,
    /// `1` marks read, `0` unread.
    read: Option<String>,
}

impl ReturnTo for ReadForm {
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }

    fn return_to(&self, _path: &str) -> String {
        views::paper_path(&self.paper)
    }
}

pub(crate) async fn form(
    State(state): State<AppState>,
    MemberForm { member, form }: MemberForm<ReadForm>,
) -> Result<Response, HttpError> {
    let back = form.return_to("");
    let id = ArxivId::parse(&form.paper).map_err(|_| HttpError::bad_request("not an arXiv id"))?;
    set(&state, &member, id, form.read.as_deref() != Some("0")).await?;
    Ok(Redirect::to(&back).into_response())
}

/// Marks the paper read or unread for the member.
async fn set(
    state: &AppState,
    member: &SessionUser,
    id: ArxivId,
    read: bool,
) -> Result<(), HttpError> {
    let stored = load(state, id).await?;
    let (user_id, key) = (member.session.user_id, stored.key);
    state
        .inner
        .pool
        .run(move |store| {
            if read {
                store.mark_read(user_id, key, Utc::now())
            } else {
                store.mark_unread(user_id, key)
            }
        })
        .await?;
    Ok(())
}

#[derive(Debug, Serialize)]
struct ReadState {
    id: String,
    read: bool,
}

/// `POST` (read) or `DELETE` (unread) `/api/papers/{id}/read`.
pub(crate) async fn api(
    state: &AppState,
    user: MaybeUser,
    headers: &HeaderMap,
    id: ArxivId,
    read: bool,
) -> Result<Response, HttpError> {
    async {
        let member = user.0.ok_or_else(HttpError::unauthorized)?;
        csrf::check_session(&member, csrf::header_token(headers))?;
        let shown = id.to_string();
        set(state, &member, id, read).await?;
        let body =
            serde_json::to_string(&ReadState { id: shown, read }).map_err(HttpError::internal)?;
        Ok(private_json(StatusCode::OK, body))
    }
    .await
    .json_errors()
}
