//! The search page and the search call it shares with the API and the search feeds.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use papers_core::Category;
use papers_topics::{TopicId, TopicMap};
use serde::Deserialize;

use crate::error::HttpError;
use crate::html::html_response;
use crate::routes::feed::{hide_read, viewer};
use crate::routes::params;
use crate::routes::topics::topic_param;
use crate::search::{SearchMode, SearchRequest, Snippet};
use crate::session::MaybeUser;
use crate::state::AppState;
use crate::views::{self, SearchPage, ViewItem};

/// Longest query accepted, as on Hugging Face.
pub(crate) const MAX_QUERY: usize = 250;

#[derive(Debug, Default, Deserialize)]
pub(crate) struct RawSearchParams {
    q: Option<String>,
    mode: Option<String>,
    category: Option<String>,
    topic: Option<String>,
    hide_read: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct SearchParams {
    pub query: String,
    pub mode: SearchMode,
    pub category: Option<Category>,
    /// Only papers of this topic, checked against the topic map.
    pub topic: Option<(Arc<TopicMap>, TopicId)>,
}

/// With a topic filter, the search reads this many times the hits wanted and keeps
/// the topic's: the indexes know nothing of topics, so the filter applies after
/// retrieval, to the best [`TOPIC_DEPTH`] × limit hits (at most [`TOPIC_MAX_HITS`]).
const TOPIC_DEPTH: usize = 10;
const TOPIC_MAX_HITS: usize = 1_000;

impl RawSearchParams {
    pub(crate) fn from_api(q: Option<String>, mode: Option<String>) -> RawSearchParams {
        RawSearchParams {
            q,
            mode,
            category: None,
            topic: None,
            hide_read: None,
        }
    }

    /// [`RawSearchParams::parse`] with `topic=` checked against the state's topic map.
    pub(crate) fn parse_with(&self, state: &AppState) -> Result<SearchParams, HttpError> {
        let mut params = self.parse()?;
        params.topic = topic_param(state, self.topic.as_deref())?;
        Ok(params)
    }

    pub(crate) fn parse(&self) -> Result<SearchParams, HttpError> {
        let query = self.q.as_deref().unwrap_or("").trim().to_owned();
        if query.chars().count() > MAX_QUERY {
            return Err(HttpError::bad_request(format!(
                "q is limited to {MAX_QUERY} characters"
            )));
        }
        // The query-string decoder replaces bytes that are not UTF-8 with U+FFFD
        // instead of refusing them; searching for replacement characters would answer
        // a garbled request with an empty page, so say what is wrong instead.
        if query.contains(char::REPLACEMENT_CHARACTER) {
            return Err(HttpError::bad_request("q is not valid UTF-8"));
        }
        let mode = match self.mode.as_deref().unwrap_or("") {
            "" => Ok(SearchMode::default()),
            text => text.parse(),
        }
        .map_err(|_| HttpError::bad_request("mode must be hybrid, lexical or semantic"))?;
        // Checked here so the search feeds refuse a bad value as the page does.
        params::flag("hide_read", self.hide_read.as_deref())?;
        Ok(SearchParams {
            query,
            mode,
            category: params::category(self.category.as_deref())?,
            topic: None,
        })
    }
}

pub(crate) const NO_INDEX: &str = "The search index is not built yet; run `papers reindex`.";

/// Results in rank order, each with its snippet, and the backend's note.
pub(crate) type Results = (Vec<(ViewItem, Option<Snippet>)>, Option<String>);

/// Searches (the backend applies the category filter) and loads the hits from the
/// store, in rank order. An empty result means the backend's cutoff left nothing.
pub(crate) async fn run_search(
    state: &AppState,
    params: &SearchParams,
    limit: usize,
) -> Result<Results, HttpError> {
    let backend = state
        .inner
        .search
        .clone()
        .ok_or_else(|| HttpError::unavailable(NO_INDEX))?;
    let request = SearchRequest {
        query: params.query.clone(),
        mode: params.mode,
        category: params.category.clone(),
        limit: if params.topic.is_some() {
            (limit * TOPIC_DEPTH).min(TOPIC_MAX_HITS).max(limit)
        } else {
            limit
        },
    };
    // The slot travels with the blocking task, so a reader who hangs up does not free
    // it while their search still runs.
    let slot = Arc::clone(&state.inner.search_slots)
        .acquire_owned()
        .await
        .map_err(HttpError::internal)?;
    let outcome = tokio::task::spawn_blocking(move || {
        let outcome = backend.search(&request);
        drop(slot);
        outcome
    })
    .await
    .map_err(HttpError::internal)??;
    let keys: Vec<i64> = outcome
        .hits
        .iter()
        .map(|hit| hit.key)
        .filter(|key| {
            params
                .topic
                .as_ref()
                .is_none_or(|(map, id)| map.contains(*id, *key))
        })
        .take(limit)
        .collect();
    let papers = state
        .inner
        .pool
        .run(move |store| store.papers_by_keys(&keys))
        .await?;
    let mut snippets: HashMap<i64, Option<Snippet>> = outcome
        .hits
        .into_iter()
        .map(|hit| (hit.key, hit.snippet))
        .collect();
    let items = papers
        .into_iter()
        .map(|paper| {
            let snippet = snippets.remove(&paper.key).flatten();
            (
                ViewItem {
                    paper,
                    trending: None,
                },
                snippet,
            )
        })
        .collect();
    Ok((items, outcome.note))
}

pub(crate) async fn page(
    State(state): State<AppState>,
    user: MaybeUser,
    Query(raw): Query<RawSearchParams>,
) -> Result<Response, HttpError> {
    let params = raw.parse_with(&state)?;
    let hide = hide_read(raw.hide_read.as_deref())?;
    let mut viewer = viewer(&state, user).await?;
    let cacheable = viewer.user.is_none();
    viewer.hide_read = viewer.user.is_some() && hide;
    let mut search = SearchPage {
        query: params.query.clone(),
        mode: params.mode,
        category: params.category.as_ref().map(Category::to_string),
        topic: params
            .topic
            .as_ref()
            .and_then(|(map, id)| Some((*id, map.topic(*id)?.name.clone()))),
        results: None,
        note: None,
        problem: None,
    };
    let mut status = StatusCode::OK;
    if !params.query.is_empty() {
        match run_search(&state, &params, 30).await {
            Ok((results, note)) => {
                search.results = Some(results);
                search.note = note;
            }
            Err(error) => {
                status = error.status;
                search.problem = Some(error.message);
            }
        }
    } else if state.inner.search.is_none() {
        status = StatusCode::SERVICE_UNAVAILABLE;
        search.problem = Some(NO_INDEX.to_owned());
    }
    let mut response = html_response(
        views::search_page(&search, &viewer),
        cacheable && status == StatusCode::OK,
    );
    *response.status_mut() = status;
    Ok(response)
}
