//! Submitting a paper into today's feed by arXiv id or URL, from the form (`/submit`)
//! or the API (`POST /api/papers/submit`): from the store when it has the paper, else
//! through the fetcher the binary wires (the arXiv API). Both answer the same
//! outcomes: added (or already in the feed, the existing entry), not an id (400), no
//! such paper on arXiv (404), older than the submission window (422), too many
//! submissions (429 with `Retry-After`), arXiv unreachable (503, nothing stored).

use axum::extract::rejection::JsonRejection;
use axum::extract::{Json, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use papers_core::{ArxivId, Community, Metadata, PaperRecord, Source, VersionedId};
use papers_store::StoredPaper;
use serde::Deserialize;

use crate::api_model;
use crate::csrf;
use crate::error::{HttpError, JsonErrors};
use crate::extract::{MemberForm, ReturnTo};
use crate::html::html_response;
use crate::routes::feed::viewer;
use crate::routes::params::json_body;
use crate::session::{MaybeUser, SessionUser};
use crate::state::AppState;
use crate::views::{self, Viewer};

/// The longest reference accepted (a URL with a version and a query is well under it).
const MAX_REFERENCE: usize = 200;

pub(crate) async fn form(
    State(state): State<AppState>,
    user: MaybeUser,
) -> Result<Response, HttpError> {
    let viewer = viewer(&state, user).await?;
    Ok(html_response(views::submit_page(&viewer, None, ""), false))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SubmitForm {
    csrf: Option<String>,
    reference: String,
}

impl ReturnTo for SubmitForm {
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }

    fn return_to(&self, _path: &str) -> String {
        "/submit".to_owned()
    }
}

pub(crate) async fn submit(
    State(state): State<AppState>,
    MemberForm { member, form }: MemberForm<SubmitForm>,
) -> Result<Response, HttpError> {
    match submit_reference(&state, &member, &form.reference).await {
        Ok(Submitted::Added(paper) | Submitted::AlreadyInFeed(paper)) => {
            Ok(Redirect::to(&views::paper_path(paper.paper.id.as_str())).into_response())
        }
        // The form again, with the reference as typed and what went wrong.
        Err(error) => {
            let viewer = Viewer {
                user: Some(member.session.clone()),
                votes: Default::default(),
                ..Viewer::default()
            };
            let mut response = html_response(
                views::submit_page(&viewer, Some(&error.message), &form.reference),
                false,
            );
            *response.status_mut() = error.status;
            if let Some(seconds) = error.retry_after {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            }
            Ok(response)
        }
    }
}

/// `POST /api/papers/submit` with `{"id": "…"}` (any reference the form takes).
#[derive(Debug, Deserialize)]
pub(crate) struct SubmitRequest {
    id: String,
}

/// Answers 201 with the paper when it entered the feed, 200 with the existing entry
/// when it was in a feed already.
pub(crate) async fn api_submit(
    State(state): State<AppState>,
    user: MaybeUser,
    headers: HeaderMap,
    body: Result<Json<SubmitRequest>, JsonRejection>,
) -> Result<Response, HttpError> {
    async {
        let member = user.0.ok_or_else(HttpError::unauthorized)?;
        csrf::check_session(&member, csrf::header_token(&headers))?;
        let request = json_body(body)?;
        let (status, paper) = match submit_reference(&state, &member, &request.id).await? {
            Submitted::Added(paper) => (StatusCode::CREATED, paper),
            Submitted::AlreadyInFeed(paper) => (StatusCode::OK, paper),
        };
        let body = serde_json::to_string(&api_model::paper(&paper)).map_err(HttpError::internal)?;
        let location = format!("/api/papers/{}", paper.paper.id);
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if let Ok(location) = HeaderValue::from_str(&location) {
            headers.insert(header::LOCATION, location);
        }
        Ok(response)
    }
    .await
    .json_errors()
}

/// What a submission did.
pub(crate) enum Submitted {
    /// Entered today's feed (fetched from arXiv first when the store lacked it).
    Added(StoredPaper),
    /// Was in a feed already: the existing entry, unchanged (the first feed day stays).
    AlreadyInFeed(StoredPaper),
}

/// The one submission path of the form and the API.
pub(crate) async fn submit_reference(
    state: &AppState,
    member: &SessionUser,
    reference: &str,
) -> Result<Submitted, HttpError> {
    let reference = reference.trim();
    let parsed = (reference.len() <= MAX_REFERENCE)
        .then(|| VersionedId::parse_reference(reference).ok())
        .flatten()
        .ok_or_else(|| {
            HttpError::bad_request(
                "That is not an arXiv id or URL (2401.01234, arXiv:2401.01234v2, \
                 https://arxiv.org/abs/…, https://huggingface.co/papers/…).",
            )
        })?;
    let id = parsed.id;
    let lookup = id.clone();
    let known = state
        .inner
        .pool
        .run(move |store| store.paper(&lookup))
        .await?;
    if let Some(stored) = &known
        && stored.paper.community.feed_day.is_some()
    {
        return Ok(Submitted::AlreadyInFeed(stored.clone()));
    }
    let now = Utc::now();
    if let Some(stored) = &known {
        within_window(state, &id, &stored.paper.metadata, now)?;
    }
    let key = format!("submit:{}", member.session.user_id);
    if let Err(wait) = state.inner.submit_limiter.check(&key) {
        let per_hour = state.config().submissions_per_hour;
        return Err(HttpError::too_many_because(format!(
            "You can submit {per_hour} papers an hour; try again in {} minutes.",
            wait.as_secs().div_ceil(60).max(1)
        ))
        .retry_after(wait));
    }
    let fetched = match known {
        Some(_) => None,
        None => {
            let record = fetch(state, &id).await?;
            within_window(state, &id, &record.metadata, now)?;
            Some(record)
        }
    };
    let submission = PaperRecord {
        id: id.clone(),
        source: Source::Submitted,
        metadata: Metadata::default(),
        community: Some(Community {
            feed_day: Some(now.date_naive()),
            submitted_by: Some(member.session.username.clone()),
            ..Community::default()
        }),
    };
    let shown = id.to_string();
    let stored = state
        .inner
        .pool
        .run(move |store| {
            let mut batch = store.begin_ingest(now)?;
            if let Some(record) = fetched {
                batch.upsert(record)?;
            }
            batch.upsert(submission)?;
            batch.commit()?;
            store.paper(&id)
        })
        .await?
        .ok_or_else(|| HttpError::internal(format!("{shown} vanished after it was stored")))?;
    state.invalidate();
    tracing::info!(paper.id = %shown, member = %member.session.username, "paper submitted");
    Ok(Submitted::Added(stored))
}

/// Refuses a paper first published on arXiv longer ago than the window (a paper
/// without a date is taken: the store cannot tell its age).
fn within_window(
    state: &AppState,
    id: &ArxivId,
    metadata: &Metadata,
    now: DateTime<Utc>,
) -> Result<(), HttpError> {
    let days = state.config().submit_max_age_days;
    let published = metadata
        .published
        .or_else(|| metadata.versions.first().and_then(|v| v.created));
    let Some(published) = published.filter(|_| days > 0) else {
        return Ok(());
    };
    let age = now.date_naive() - published.date_naive();
    if age <= chrono::Duration::days(i64::from(days)) {
        return Ok(());
    }
    Err(HttpError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        format!(
            "{id} was first published on arXiv on {}; only papers from the last {days} days \
             can be submitted to the daily feed.",
            published.date_naive()
        ),
    ))
}

/// The paper from outside, or why not.
async fn fetch(state: &AppState, id: &ArxivId) -> Result<PaperRecord, HttpError> {
    let Some(fetcher) = state.inner.fetcher.clone() else {
        return Err(HttpError::unavailable(format!(
            "{id} is not in this site's store, and the site cannot reach arXiv (offline). \
             Ingest it with `papers ingest`, or try again when online."
        )));
    };
    let wanted = id.clone();
    let result = tokio::task::spawn_blocking(move || fetcher.fetch(&wanted))
        .await
        .map_err(HttpError::internal)?;
    match result {
        Ok(Some(record)) if record.id == *id => Ok(record),
        Ok(_) => Err(HttpError::not_found(format!("arXiv has no paper {id}."))),
        Err(error) => Err(HttpError::fetch_failed(id, &error)),
    }
}
