//! Submitting a paper into today's feed by arXiv id or URL: from the store when it
//! has the paper, else through the fetcher the binary wires (the arXiv API), else a
//! clear "offline" message.

use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use papers_core::{ArxivId, Community, Metadata, PaperRecord, Source, VersionedId};
use serde::Deserialize;

use crate::csrf;
use crate::error::HttpError;
use crate::html::html_response;
use crate::routes::feed::viewer;
use crate::session::MaybeUser;
use crate::state::AppState;
use crate::views::{self, Viewer};

pub(crate) async fn form(
    State(state): State<AppState>,
    user: MaybeUser,
) -> Result<Response, HttpError> {
    let viewer = viewer(&state, user).await?;
    Ok(html_response(views::submit_page(&viewer, None, ""), false))
}

#[derive(Debug, Deserialize)]
pub(crate) struct SubmitForm {
    csrf: Option<String>,
    reference: String,
}

pub(crate) async fn submit(
    State(state): State<AppState>,
    user: MaybeUser,
    Form(form): Form<SubmitForm>,
) -> Result<Response, HttpError> {
    let Some(member) = user.0.clone() else {
        return Ok(Redirect::to("/login?next=/submit").into_response());
    };
    csrf::check_session(&member, form.csrf.as_deref())?;
    let viewer = Viewer {
        user: Some(member.session.clone()),
        votes: Default::default(),
    };
    let refuse = |status: StatusCode, message: &str| {
        let mut response = html_response(
            views::submit_page(&viewer, Some(message), &form.reference),
            false,
        );
        *response.status_mut() = status;
        response
    };
    let Ok(reference) = VersionedId::parse_reference(&form.reference) else {
        return Ok(refuse(
            StatusCode::BAD_REQUEST,
            "That is not an arXiv id or URL.",
        ));
    };
    let id = reference.id;
    let lookup = id.clone();
    let known = state
        .inner
        .pool
        .run(move |store| store.paper(&lookup))
        .await?;
    let fetched = match known {
        Some(stored) => {
            // Already in a feed: the first feed day stays (merge rule), so just show it.
            if stored.paper.community.feed_day.is_some() {
                return Ok(Redirect::to(&views::paper_path(id.as_str())).into_response());
            }
            None
        }
        None => match fetch(&state, &id).await {
            Ok(record) => Some(record),
            Err(error) => return Ok(refuse(error.status, &error.message)),
        },
    };
    let submission = PaperRecord {
        id: id.clone(),
        source: Source::Submitted,
        metadata: Metadata::default(),
        community: Some(Community {
            feed_day: Some(Utc::now().date_naive()),
            submitted_by: Some(member.session.username.clone()),
            ..Community::default()
        }),
    };
    state
        .inner
        .pool
        .run(move |store| {
            let mut batch = store.begin_ingest(Utc::now())?;
            if let Some(record) = fetched {
                batch.upsert(record)?;
            }
            batch.upsert(submission)?;
            batch.commit()
        })
        .await?;
    state.invalidate();
    Ok(Redirect::to(&views::paper_path(id.as_str())).into_response())
}

/// The paper from outside, or why not: the status and message the form shows.
async fn fetch(state: &AppState, id: &ArxivId) -> Result<PaperRecord, HttpError> {
    let Some(fetcher) = state.inner.fetcher.clone() else {
        return Err(HttpError::not_found(format!(
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
