//! The operators' pages: `/admin` and `GET /api/admin/status`, for admins only (a
//! member without the role gets 403, whether by cookie or by access token).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use papers_store::Role;

use crate::error::{HttpError, JsonErrors};
use crate::html::{html_response, private_json};
use crate::routes::health::report;
use crate::session::{MaybeUser, SessionUser};
use crate::state::AppState;
use crate::views::{self, Viewer};

/// The member if they are an admin: 401 without one, 403 for a member who is not.
pub(crate) async fn require_admin(
    state: &AppState,
    user: MaybeUser,
) -> Result<SessionUser, HttpError> {
    let member = user.0.ok_or_else(HttpError::unauthorized)?;
    let user_id = member.session.user_id;
    let admin = state
        .inner
        .pool
        .run_quick(move |store| store.has_role(user_id, Role::Admin))
        .await?;
    if !admin {
        return Err(HttpError::forbidden("this page is for the site's admins"));
    }
    Ok(member)
}

pub(crate) async fn page(
    State(state): State<AppState>,
    user: MaybeUser,
) -> Result<Response, HttpError> {
    if user.0.is_none() {
        return Ok(Redirect::to("/login?next=/admin").into_response());
    }
    let member = require_admin(&state, user).await?;
    let report = report(&state).await?;
    let viewer = Viewer {
        user: Some(member.session),
        votes: Default::default(),
        ..Viewer::default()
    };
    Ok(html_response(views::admin_page(&viewer, &report), false))
}

pub(crate) async fn api_status(
    State(state): State<AppState>,
    user: MaybeUser,
) -> Result<Response, HttpError> {
    async {
        require_admin(&state, user).await?;
        let report = report(&state).await?;
        let body = serde_json::to_string(&report).map_err(HttpError::internal)?;
        Ok(private_json(StatusCode::OK, body))
    }
    .await
    .json_errors()
}
