//! A paper's discussion: the forms (`POST /comments`, `/comments/{cid}/edit|delete|
//! report|hide|restore`), the moderators' queue (`/moderation`), the JSON API
//! (`GET`/`POST /api/papers/{id}/comments`, `PATCH`/`DELETE /api/comments/{cid}`,
//! `POST /api/comments/{cid}/report|hide|restore`) and the Atom feed of a paper's
//! discussion. Forms and API share one function per action, so both check the same
//! things: CSRF (unless a bearer token), the author or a moderator, the length, and the
//! member's rate limit.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Json, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{SecondsFormat, Utc};
use papers_core::ArxivId;
use papers_store::{Comment, CommentRefused, Role, StoredPaper};
use serde::{Deserialize, Serialize};

use crate::cache::Cacheable;
use crate::csrf;
use crate::error::{HttpError, JsonErrors};
use crate::extract::{MemberForm, ReturnTo, login_redirect};
use crate::feeds::{self, FeedDoc, FeedEntry};
use crate::html::{html_response, private_json_of};
use crate::routes::paper::load;
use crate::routes::params::json_body;
use crate::session::{MaybeUser, SessionUser};
use crate::state::AppState;
use crate::views::{self, MAX_COMMENT, Thread, Viewer};

const MAX_REASON: usize = 200;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CommentForm {
    csrf: Option<String>,
    paper: String,
    parent: Option<String>,
    body: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EditForm {
    csrf: Option<String>,
    body: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ActionForm {
    csrf: Option<String>,
    reason: Option<String>,
}

impl ReturnTo for CommentForm {
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }

    fn return_to(&self, _path: &str) -> String {
        views::paper_path(&self.paper)
    }
}

impl ReturnTo for EditForm {
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }

    /// The edit page itself (`/comments/{cid}/edit`).
    fn return_to(&self, path: &str) -> String {
        path.to_owned()
    }
}

impl ReturnTo for ActionForm {
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }

    /// The moderation queue for hide and restore; the papers otherwise (delete,
    /// report), since the comment's paper is not known before it is looked up.
    fn return_to(&self, path: &str) -> String {
        if path.ends_with("/hide") || path.ends_with("/restore") {
            "/moderation".to_owned()
        } else {
            "/papers".to_owned()
        }
    }
}

fn anchor(comment: &Comment) -> String {
    format!(
        "{}#comment-{}",
        views::paper_path(&comment.paper_id),
        comment.id
    )
}

/// `POST /comments`: a new comment or reply, then back to it on the paper page.
pub(crate) async fn create(
    State(state): State<AppState>,
    MemberForm { member, form }: MemberForm<CommentForm>,
) -> Result<Response, HttpError> {
    let id = ArxivId::parse(&form.paper).map_err(|_| HttpError::bad_request("not an arXiv id"))?;
    let parent = match form.parent.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => Some(
            text.parse::<i64>()
                .map_err(|_| HttpError::bad_request("parent must be a comment id"))?,
        ),
    };
    let comment = post(&state, &member, id, parent, &form.body).await?;
    Ok(Redirect::to(&anchor(&comment)).into_response())
}

pub(crate) async fn edit_form(
    State(state): State<AppState>,
    user: MaybeUser,
    Path(cid): Path<String>,
) -> Result<Response, HttpError> {
    let Some(member) = user.0 else {
        return Ok(login_redirect(&format!("/comments/{cid}/edit")));
    };
    let comment = find(&state, &cid).await?;
    if comment.user_id != Some(member.session.user_id) || !comment.visible() {
        return Err(no_such_comment());
    }
    let viewer = member_viewer(&member);
    Ok(html_response(
        views::edit_comment_page(&comment, &viewer, None),
        false,
    ))
}

pub(crate) async fn edit(
    State(state): State<AppState>,
    Path(cid): Path<String>,
    MemberForm { member, form }: MemberForm<EditForm>,
) -> Result<Response, HttpError> {
    let comment = change(&state, &member, &cid, &form.body).await?;
    Ok(Redirect::to(&anchor(&comment)).into_response())
}

pub(crate) async fn delete(
    State(state): State<AppState>,
    Path(cid): Path<String>,
    MemberForm { member, .. }: MemberForm<ActionForm>,
) -> Result<Response, HttpError> {
    let comment = remove(&state, &member, &cid).await?;
    Ok(Redirect::to(&format!(
        "{}#discussion",
        views::paper_path(&comment.paper_id)
    ))
    .into_response())
}

pub(crate) async fn report_form(
    State(state): State<AppState>,
    Path(cid): Path<String>,
    MemberForm { member, form }: MemberForm<ActionForm>,
) -> Result<Response, HttpError> {
    let comment = report(&state, &member, &cid, form.reason.as_deref()).await?;
    Ok(Redirect::to(&anchor(&comment)).into_response())
}

/// `POST /comments/{cid}/hide` and `…/restore`: `hidden` says which.
pub(crate) async fn moderate_form(
    state: State<AppState>,
    cid: Path<String>,
    posted: MemberForm<ActionForm>,
    hidden: bool,
) -> Result<Response, HttpError> {
    let (State(state), Path(cid), MemberForm { member, .. }) = (state, cid, posted);
    let comment = moderate(&state, &member, &cid, hidden).await?;
    Ok(Redirect::to(&anchor(&comment)).into_response())
}

/// `/moderation`: reported comments, for moderators and admins.
pub(crate) async fn queue(
    State(state): State<AppState>,
    user: MaybeUser,
) -> Result<Response, HttpError> {
    let Some(member) = user.0 else {
        return Ok(login_redirect("/moderation"));
    };
    require_moderator(&state, &member).await?;
    let reported = state
        .inner
        .pool
        .run(|store| store.reported_comments(200))
        .await?;
    Ok(html_response(
        views::moderation_page(&reported, &member_viewer(&member)),
        false,
    ))
}

fn member_viewer(member: &SessionUser) -> Viewer {
    Viewer {
        user: Some(member.session.clone()),
        ..Viewer::default()
    }
}

fn no_such_comment() -> HttpError {
    HttpError::not_found("no such comment")
}

async fn find(state: &AppState, cid: &str) -> Result<Comment, HttpError> {
    let id: i64 = cid.parse().map_err(|_| no_such_comment())?;
    state
        .inner
        .pool
        .run_quick(move |store| store.comment(id))
        .await?
        .ok_or_else(no_such_comment)
}

/// Whether the member may hide and restore comments: moderators and admins.
pub(crate) async fn is_moderator(
    state: &AppState,
    member: &SessionUser,
) -> Result<bool, HttpError> {
    let user_id = member.session.user_id;
    Ok(state
        .inner
        .pool
        .run_quick(move |store| {
            Ok(
                store.has_role(user_id, Role::Moderator)?
                    || store.has_role(user_id, Role::Admin)?,
            )
        })
        .await?)
}

async fn require_moderator(state: &AppState, member: &SessionUser) -> Result<(), HttpError> {
    if is_moderator(state, member).await? {
        Ok(())
    } else {
        Err(HttpError::forbidden("only moderators may do this"))
    }
}

/// A comment's text: trimmed, not empty, at most [`MAX_COMMENT`] characters.
fn checked_body(body: &str) -> Result<&str, HttpError> {
    let body = body.trim();
    if body.is_empty() || body.chars().count() > MAX_COMMENT {
        return Err(HttpError::bad_request(format!(
            "a comment needs 1 to {MAX_COMMENT} characters"
        )));
    }
    Ok(body)
}

/// Takes one of the member's comment-writing tokens (comments, edits and reports).
fn limit(state: &AppState, member: &SessionUser) -> Result<(), HttpError> {
    state
        .inner
        .comment_limiter
        .check(&format!("comment:{}", member.session.user_id))
        .map_err(|wait| {
            HttpError::too_many_because("too many comments for now; try again later")
                .retry_after(wait)
        })
}

/// Stores a member's comment on paper `id` (a reply when `parent` is given).
async fn post(
    state: &AppState,
    member: &SessionUser,
    id: ArxivId,
    parent: Option<i64>,
    body: &str,
) -> Result<Comment, HttpError> {
    let body = checked_body(body)?.to_owned();
    let stored = load(state, id).await?;
    limit(state, member)?;
    let (key, user_id) = (stored.key, member.session.user_id);
    let stored = state
        .inner
        .pool
        .run(move |store| store.add_comment(key, user_id, parent, &body, Utc::now()))
        .await?
        .map_err(|refused| match refused {
            CommentRefused::NoSuchParent => {
                HttpError::bad_request("parent is not a comment on this paper")
            }
            CommentRefused::ReplyToReply => {
                HttpError::bad_request("replies cannot be replied to; reply to the thread")
            }
        })?;
    state.invalidate();
    tracing::info!(member = %member.session.username, comment.id = stored.id, paper.id = %stored.paper_id, "comment posted");
    Ok(stored)
}

/// Replaces the text of the member's own comment.
async fn change(
    state: &AppState,
    member: &SessionUser,
    cid: &str,
    body: &str,
) -> Result<Comment, HttpError> {
    let body = checked_body(body)?.to_owned();
    let comment = find(state, cid).await?;
    if comment.user_id != Some(member.session.user_id) {
        return Err(HttpError::forbidden("only its author may edit a comment"));
    }
    limit(state, member)?;
    let (id, user_id) = (comment.id, member.session.user_id);
    let changed = state
        .inner
        .pool
        .run(move |store| {
            if store.edit_comment(id, user_id, &body, Utc::now())? {
                store.comment(id)
            } else {
                Ok(None)
            }
        })
        .await?
        .ok_or_else(|| {
            HttpError::new(
                StatusCode::CONFLICT,
                "a deleted or hidden comment cannot be edited",
            )
        })?;
    state.invalidate();
    Ok(changed)
}

/// Deletes the member's own comment.
async fn remove(state: &AppState, member: &SessionUser, cid: &str) -> Result<Comment, HttpError> {
    let comment = find(state, cid).await?;
    if comment.user_id != Some(member.session.user_id) {
        return Err(HttpError::forbidden("only its author may delete a comment"));
    }
    let (id, user_id) = (comment.id, member.session.user_id);
    state
        .inner
        .pool
        .run(move |store| store.delete_comment(id, user_id))
        .await?;
    state.invalidate();
    Ok(comment)
}

async fn report(
    state: &AppState,
    member: &SessionUser,
    cid: &str,
    reason: Option<&str>,
) -> Result<Comment, HttpError> {
    let comment = find(state, cid).await?;
    let reason: String = reason
        .unwrap_or("")
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_REASON)
        .collect();
    limit(state, member)?;
    let (id, user_id) = (comment.id, member.session.user_id);
    state
        .inner
        .pool
        .run(move |store| store.report_comment(id, user_id, &reason, Utc::now()))
        .await?;
    tracing::info!(member = %member.session.username, comment.id = id, "comment reported");
    Ok(comment)
}

async fn moderate(
    state: &AppState,
    member: &SessionUser,
    cid: &str,
    hidden: bool,
) -> Result<Comment, HttpError> {
    require_moderator(state, member).await?;
    let comment = find(state, cid).await?;
    let id = comment.id;
    state
        .inner
        .pool
        .run(move |store| store.set_comment_hidden(id, hidden))
        .await?;
    state.invalidate();
    tracing::info!(moderator = %member.session.username, comment.id = id, hidden, "comment moderated");
    Ok(comment)
}

/// The threads of a paper as `member` may see them, and whether they moderate.
pub(crate) async fn threads_for(
    state: &AppState,
    paper_key: i64,
    member: Option<&SessionUser>,
) -> Result<(Vec<Thread>, bool), HttpError> {
    let comments = state
        .inner
        .pool
        .run_quick(move |store| store.comments_of(paper_key))
        .await?;
    threads_of(state, &comments, member).await
}

/// [`threads_for`] with the paper's comments already read.
pub(crate) async fn threads_of(
    state: &AppState,
    comments: &[Comment],
    member: Option<&SessionUser>,
) -> Result<(Vec<Thread>, bool), HttpError> {
    let moderator = match member {
        Some(member) => is_moderator(state, member).await?,
        None => false,
    };
    Ok((views::threads(comments, moderator), moderator))
}

/// A comment as the API shows it.
#[derive(Debug, Serialize)]
struct ApiComment {
    id: i64,
    paper: String,
    parent: Option<i64>,
    /// `null` once the author deleted their account.
    author: Option<String>,
    /// The Markdown as written; `null` when deleted, or hidden (except to moderators).
    body: Option<String>,
    /// The body rendered and sanitised, as the page shows it.
    html: Option<String>,
    created: Option<String>,
    edited: Option<String>,
    deleted: bool,
    hidden: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    replies: Option<Vec<ApiComment>>,
}

impl ApiComment {
    fn of(comment: &Comment, moderator: bool) -> ApiComment {
        let format = |at: chrono::DateTime<Utc>| at.to_rfc3339_opts(SecondsFormat::Secs, true);
        let shown = views::shown(comment, moderator);
        ApiComment {
            id: comment.id,
            paper: comment.paper_id.clone(),
            parent: comment.parent,
            author: comment.author.clone(),
            body: shown.then(|| comment.body.clone()),
            html: shown.then(|| views::render_markdown(&comment.body).into_string()),
            created: comment.created.map(format),
            edited: comment.edited.map(format),
            deleted: comment.deleted,
            hidden: comment.hidden,
            replies: None,
        }
    }

    fn thread(thread: &Thread, moderator: bool) -> ApiComment {
        let mut top = ApiComment::of(&thread.comment, moderator);
        top.replies = Some(
            thread
                .replies
                .iter()
                .map(|reply| ApiComment::of(reply, moderator))
                .collect(),
        );
        top
    }
}

/// `GET /api/papers/{id}/comments`: the threads, the newest last, each with `replies`.
pub(crate) async fn api_list(
    state: &AppState,
    user: MaybeUser,
    id: ArxivId,
) -> Result<Response, HttpError> {
    async {
        let stored = load(state, id).await?;
        let (threads, moderator) = threads_for(state, stored.key, user.0.as_ref()).await?;
        let listed: Vec<ApiComment> = threads
            .iter()
            .map(|thread| ApiComment::thread(thread, moderator))
            .collect();
        private_json_of(StatusCode::OK, &listed)
    }
    .await
    .json_errors()
}

#[derive(Debug, Deserialize)]
pub(crate) struct NewComment {
    body: String,
    parent: Option<i64>,
}

/// `POST /api/papers/{id}/comments` `{"body", "parent"?}`: 201 with the comment.
pub(crate) async fn api_create(
    state: &AppState,
    user: MaybeUser,
    headers: &HeaderMap,
    id: ArxivId,
    body: Result<Json<NewComment>, JsonRejection>,
) -> Result<Response, HttpError> {
    async {
        let member = user.0.ok_or_else(HttpError::unauthorized)?;
        csrf::check_session(&member, csrf::header_token(headers))?;
        let request = json_body(body)?;
        let comment = post(state, &member, id, request.parent, &request.body).await?;
        private_json_of(StatusCode::CREATED, &ApiComment::of(&comment, false))
    }
    .await
    .json_errors()
}

#[derive(Debug, Deserialize)]
pub(crate) struct CommentEdit {
    body: String,
}

/// `PATCH /api/comments/{cid}` `{"body"}`: the author's edit.
pub(crate) async fn api_edit(
    State(state): State<AppState>,
    user: MaybeUser,
    headers: HeaderMap,
    Path(cid): Path<String>,
    body: Result<Json<CommentEdit>, JsonRejection>,
) -> Result<Response, HttpError> {
    async {
        let member = user.0.ok_or_else(HttpError::unauthorized)?;
        csrf::check_session(&member, csrf::header_token(&headers))?;
        let request = json_body(body)?;
        let comment = change(&state, &member, &cid, &request.body).await?;
        private_json_of(StatusCode::OK, &ApiComment::of(&comment, false))
    }
    .await
    .json_errors()
}

/// `DELETE /api/comments/{cid}`: the author's deletion; 204.
pub(crate) async fn api_delete(
    State(state): State<AppState>,
    user: MaybeUser,
    headers: HeaderMap,
    Path(cid): Path<String>,
) -> Result<Response, HttpError> {
    async {
        let member = user.0.ok_or_else(HttpError::unauthorized)?;
        csrf::check_session(&member, csrf::header_token(&headers))?;
        remove(&state, &member, &cid).await?;
        Ok(StatusCode::NO_CONTENT.into_response())
    }
    .await
    .json_errors()
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ReportRequest {
    reason: Option<String>,
}

/// `POST /api/comments/{cid}/report` `{"reason"?}`: 202.
pub(crate) async fn api_report(
    State(state): State<AppState>,
    user: MaybeUser,
    headers: HeaderMap,
    Path(cid): Path<String>,
    body: Result<Json<ReportRequest>, JsonRejection>,
) -> Result<Response, HttpError> {
    async {
        let member = user.0.ok_or_else(HttpError::unauthorized)?;
        csrf::check_session(&member, csrf::header_token(&headers))?;
        // The body is optional: no reason is a report too.
        let reason = body.ok().and_then(|Json(request)| request.reason);
        report(&state, &member, &cid, reason.as_deref()).await?;
        private_json_of(
            StatusCode::ACCEPTED,
            &serde_json::json!({"status": "reported"}),
        )
    }
    .await
    .json_errors()
}

/// `POST /api/comments/{cid}/hide` and `…/restore`, for moderators: the comment after.
pub(crate) async fn api_moderate(
    state: AppState,
    user: MaybeUser,
    headers: HeaderMap,
    cid: String,
    hidden: bool,
) -> Result<Response, HttpError> {
    async {
        let member = user.0.ok_or_else(HttpError::unauthorized)?;
        csrf::check_session(&member, csrf::header_token(&headers))?;
        moderate(&state, &member, &cid, hidden).await?;
        let comment = find(&state, &cid).await?;
        private_json_of(StatusCode::OK, &ApiComment::of(&comment, true))
    }
    .await
    .json_errors()
}

/// `/papers/{id}/comments.atom`: the paper's visible comments, newest first.
pub(crate) async fn atom(state: &AppState, stored: StoredPaper) -> Result<Response, HttpError> {
    let key = stored.key;
    let comments = state
        .inner
        .pool
        .run_quick(move |store| store.comments_of(key))
        .await?;
    let base = &state.config().public_url;
    let page = format!("{base}{}", views::paper_path(stored.paper.id.as_str()));
    let title = views::one_line(&stored.paper.metadata.title);
    let mut entries: Vec<FeedEntry> = comments
        .iter()
        .filter(|c| c.visible())
        .map(|comment| FeedEntry {
            title: format!(
                "{} on {title}",
                comment.author.as_deref().unwrap_or("a deleted member")
            ),
            link: format!("{page}#comment-{}", comment.id),
            summary: comment.body.clone(),
            authors: vec![
                comment
                    .author
                    .clone()
                    .unwrap_or_else(|| "a deleted member".to_owned()),
            ],
            categories: Vec::new(),
            updated: comment.edited.or(comment.created).unwrap_or_else(Utc::now),
        })
        .collect();
    entries.reverse();
    let doc = FeedDoc {
        title: format!("Discussion of {title}"),
        link: format!("{page}#discussion"),
        self_url: format!("{page}/comments.atom"),
        description: format!("Comments on arXiv {}", stored.paper.id),
        updated: entries.first().map_or_else(Utc::now, |entry| entry.updated),
        entries,
    };
    let body = feeds::atom(&doc).map_err(HttpError::internal)?;
    let mut response = body.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/atom+xml; charset=utf-8"),
    );
    response.extensions_mut().insert(Cacheable::DEFAULT);
    Ok(response)
}
