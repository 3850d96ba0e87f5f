//! The paper page, `/papers/{id}` (old-style ids keep their slash:
//! `/papers/hep-th/9901001`), the paper as Markdown at `/papers/{id}.md`, and the
//! similar-papers lookup the page shares with the API.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use papers_core::{ArxivId, VersionedId};
use papers_store::StoredPaper;

use crate::cache::Cacheable;
use crate::error::HttpError;
use crate::html::html_response;
use crate::routes::feed::viewer;
use crate::session::MaybeUser;
use crate::state::AppState;
use crate::views::{self, ViewItem};

/// How many similar papers a paper page lists.
const SIMILAR_ON_PAGE: usize = 6;

pub(crate) async fn show(
    State(state): State<AppState>,
    user: MaybeUser,
    Path(raw): Path<String>,
) -> Result<Response, HttpError> {
    // `/papers/{*id}` catches `/papers/hep-th/9901001.md` too; no id ends in `.md`.
    if let Some(id) = raw.strip_suffix(".md") {
        return markdown(&state, id).await;
    }
    let id = match ArxivId::parse(&raw) {
        Ok(id) => id,
        // `2401.01234v2` or a pasted URL: send the reader to the canonical page.
        Err(_) => {
            let reference = VersionedId::parse_reference(&raw)
                .map_err(|_| HttpError::not_found("not an arXiv id"))?;
            return Ok(
                Redirect::permanent(&views::paper_path(reference.id.as_str())).into_response(),
            );
        }
    };
    let stored = load(&state, id).await?;
    let similar = similar_items(&state, stored.key, SIMILAR_ON_PAGE).await;
    let topics: Vec<views::NavLink> = crate::routes::topics::paper_topics(&state, stored.key)
        .into_iter()
        .map(|topic| views::NavLink {
            label: topic.name,
            href: format!("/topics/{}", topic.id),
        })
        .collect();
    let viewer = viewer(&state, user).await?;
    let cacheable = viewer.user.is_none();
    Ok(html_response(
        views::paper_page(&stored, similar.as_deref(), &topics, &viewer),
        cacheable,
    ))
}

/// `/papers/{id}.md`: the paper as Markdown, for `huggingface_hub`'s `read_paper` and
/// anything else that reads text. A versioned id or URL redirects to the canonical
/// one, as the page does.
async fn markdown(state: &AppState, raw: &str) -> Result<Response, HttpError> {
    let id = match ArxivId::parse(raw) {
        Ok(id) => id,
        Err(_) => {
            let reference = VersionedId::parse_reference(raw)
                .map_err(|_| HttpError::not_found("not an arXiv id"))?;
            let canonical = format!("{}.md", views::paper_path(reference.id.as_str()));
            return Ok(Redirect::permanent(&canonical).into_response());
        }
    };
    let stored = load(state, id).await?;
    let body = views::paper_markdown(&stored, &state.config().public_url);
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/markdown; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response.extensions_mut().insert(Cacheable::DEFAULT);
    Ok(response)
}

/// A paper by id, or 404.
pub(crate) async fn load(state: &AppState, id: ArxivId) -> Result<StoredPaper, HttpError> {
    let shown = id.to_string();
    state
        .inner
        .pool
        .run_quick(move |store| store.paper(&id))
        .await?
        .ok_or_else(|| HttpError::not_found(format!("no paper {shown} here; submit it at /submit")))
}

/// Papers similar to `key`, or `None` without a search backend or when it fails (a
/// paper page is still worth showing without them).
pub(crate) async fn similar_items(state: &AppState, key: i64, k: usize) -> Option<Vec<ViewItem>> {
    let backend = state.inner.search.clone()?;
    let hits = tokio::task::spawn_blocking(move || backend.similar(key, k))
        .await
        .ok()?
        .map_err(|error| tracing::warn!(%error, paper.key = key, "similar papers failed"))
        .ok()?;
    let keys: Vec<i64> = hits
        .iter()
        .map(|hit| hit.key)
        .filter(|k| *k != key)
        .collect();
    if keys.is_empty() {
        // No vectors (no model), or nothing near: no store call to make.
        return Some(Vec::new());
    }
    let papers = state
        .inner
        .pool
        .run(move |store| store.papers_by_keys(&keys))
        .await
        .map_err(|error| tracing::warn!(%error, "loading similar papers failed"))
        .ok()?;
    Some(
        papers
            .into_iter()
            .map(|paper| ViewItem {
                paper,
                trending: None,
            })
            .collect(),
    )
}
