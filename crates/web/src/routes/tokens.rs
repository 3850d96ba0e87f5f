//! Personal access tokens, managed by their member: `/account/tokens` (HTML, CSRF)
//! and `/api/tokens` (JSON). A token is shown once, when made; the store keeps its
//! digest. A request authenticated by a token may list and revoke tokens but not
//! make new ones, so a leaked token cannot mint itself successors that outlive its
//! revocation.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Json, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{SecondsFormat, Utc};
use papers_store::AccessToken;
use serde::{Deserialize, Serialize};

use crate::bearer;
use crate::csrf;
use crate::error::{HttpError, JsonErrors};
use crate::extract::{MemberForm, ReturnTo};
use crate::html::{html_response, private_json_of};
use crate::routes::params::json_body;
use crate::session::{MaybeUser, SessionUser};
use crate::state::AppState;
use crate::views::{self, Viewer};

const PAGE: &str = "/account/tokens";
/// Live tokens a member may hold: plenty for scripts and machines, and a bound on
/// what one account can make.
const MAX_TOKENS: usize = 50;
const MAX_LABEL: usize = 100;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateForm {
    csrf: Option<String>,
    label: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RevokeForm {
    csrf: Option<String>,
}

pub(crate) async fn page(
    State(state): State<AppState>,
    user: MaybeUser,
) -> Result<Response, HttpError> {
    let Some(member) = user.0 else {
        return Ok(Redirect::to("/login?next=/account/tokens").into_response());
    };
    render(&state, &member, None, None, StatusCode::OK).await
}

impl ReturnTo for CreateForm {
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }

    fn return_to(&self, _path: &str) -> String {
        PAGE.to_owned()
    }
}

impl ReturnTo for RevokeForm {
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }

    fn return_to(&self, _path: &str) -> String {
        PAGE.to_owned()
    }
}

pub(crate) async fn create(
    State(state): State<AppState>,
    MemberForm { member, form }: MemberForm<CreateForm>,
) -> Result<Response, HttpError> {
    match make_token(&state, &member, form.label.as_deref()).await {
        Ok((made, token)) => {
            render(
                &state,
                &member,
                Some((&made.label, &token)),
                None,
                StatusCode::CREATED,
            )
            .await
        }
        Err(error) if error.status.is_client_error() => {
            render(&state, &member, None, Some(&error.message), error.status).await
        }
        Err(error) => Err(error),
    }
}

pub(crate) async fn revoke(
    State(state): State<AppState>,
    Path(id): Path<String>,
    MemberForm { member, .. }: MemberForm<RevokeForm>,
) -> Result<Response, HttpError> {
    revoke_token(&state, &member, &id).await?;
    Ok(Redirect::to(PAGE).into_response())
}

async fn render(
    state: &AppState,
    member: &SessionUser,
    created: Option<(&str, &str)>,
    error: Option<&str>,
    status: StatusCode,
) -> Result<Response, HttpError> {
    let user_id = member.session.user_id;
    let tokens = state
        .inner
        .pool
        .run(move |store| store.access_tokens(user_id))
        .await?;
    let viewer = Viewer {
        user: Some(member.session.clone()),
        votes: Default::default(),
        ..Viewer::default()
    };
    // Not cacheable anywhere: it may carry a new token.
    let mut response = html_response(views::tokens_page(&viewer, &tokens, created, error), false);
    *response.status_mut() = status;
    Ok(response)
}

/// A token as its member's API client sees it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ApiToken {
    id: i64,
    label: String,
    created: Option<String>,
    last_used: Option<String>,
    /// Only in the answer that made it.
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<String>,
}

impl ApiToken {
    fn of(token: &AccessToken) -> ApiToken {
        let format = |at: chrono::DateTime<Utc>| at.to_rfc3339_opts(SecondsFormat::Secs, true);
        ApiToken {
            id: token.id,
            label: token.label.clone(),
            created: token.created.map(format),
            last_used: token.last_used.map(format),
            token: None,
        }
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct CreateRequest {
    label: Option<String>,
}

pub(crate) async fn api_list(
    State(state): State<AppState>,
    user: MaybeUser,
) -> Result<Response, HttpError> {
    async {
        let member = user.0.ok_or_else(HttpError::unauthorized)?;
        let user_id = member.session.user_id;
        let tokens = state
            .inner
            .pool
            .run(move |store| store.access_tokens(user_id))
            .await?;
        let listed: Vec<ApiToken> = tokens.iter().map(ApiToken::of).collect();
        private_json_of(StatusCode::OK, &listed)
    }
    .await
    .json_errors()
}

pub(crate) async fn api_create(
    State(state): State<AppState>,
    user: MaybeUser,
    headers: HeaderMap,
    body: Result<Json<CreateRequest>, JsonRejection>,
) -> Result<Response, HttpError> {
    async {
        let member = user.0.ok_or_else(HttpError::unauthorized)?;
        csrf::check_session(&member, csrf::header_token(&headers))?;
        let request = json_body(body)?;
        let (made, token) = make_token(&state, &member, request.label.as_deref()).await?;
        let mut shown = ApiToken::of(&made);
        shown.token = Some(token);
        private_json_of(StatusCode::CREATED, &shown)
    }
    .await
    .json_errors()
}

pub(crate) async fn api_revoke(
    State(state): State<AppState>,
    user: MaybeUser,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, HttpError> {
    async {
        let member = user.0.ok_or_else(HttpError::unauthorized)?;
        csrf::check_session(&member, csrf::header_token(&headers))?;
        revoke_token(&state, &member, &id).await?;
        Ok(StatusCode::NO_CONTENT.into_response())
    }
    .await
    .json_errors()
}

/// Makes a token for the member: the stored entry and the token itself.
async fn make_token(
    state: &AppState,
    member: &SessionUser,
    label: Option<&str>,
) -> Result<(AccessToken, String), HttpError> {
    if member.bearer.is_some() {
        return Err(HttpError::forbidden(
            "an access token cannot make tokens; log in to the site to make one",
        ));
    }
    let label = label.map(str::trim).unwrap_or("");
    if label.is_empty() || label.chars().count() > MAX_LABEL || label.chars().any(char::is_control)
    {
        return Err(HttpError::bad_request(format!(
            "a token needs a label of 1 to {MAX_LABEL} characters"
        )));
    }
    let (token, hash) = bearer::new_token()?;
    let (user_id, label) = (member.session.user_id, label.to_owned());
    let made = state
        .inner
        .pool
        .run(move |store| {
            let now = Utc::now();
            if store.access_tokens(user_id)?.len() >= MAX_TOKENS {
                return Ok(None);
            }
            let id = store.create_access_token(user_id, &hash, &label, now)?;
            Ok(Some(AccessToken {
                id,
                label,
                created: Some(now),
                last_used: None,
            }))
        })
        .await?
        .ok_or_else(|| {
            HttpError::new(
                StatusCode::CONFLICT,
                format!("you have {MAX_TOKENS} tokens already; revoke one first"),
            )
        })?;
    tracing::info!(member = %member.session.username, token.id = made.id, "access token made");
    Ok((made, token))
}

/// Revokes one of the member's tokens; 404 for an id that is not one of theirs.
async fn revoke_token(state: &AppState, member: &SessionUser, id: &str) -> Result<(), HttpError> {
    let missing = || HttpError::not_found("no such token");
    let token_id: i64 = id.parse().map_err(|_| missing())?;
    let user_id = member.session.user_id;
    let revoked = state
        .inner
        .pool
        .run(move |store| store.revoke_access_token(user_id, token_id))
        .await?;
    if !revoked {
        return Err(missing());
    }
    tracing::info!(member = %member.session.username, token.id = token_id, "access token revoked");
    Ok(())
}
