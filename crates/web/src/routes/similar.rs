//! Similar papers under conditions, shared by the paper page and
//! `/api/papers/{id}/similar`: `after=` (published on or after a day), `category=`,
//! `topic=`, `exclude_authors=1` (no author in common), `has_code=1` (a code
//! repository is linked) and `minus=ID` (like this paper, not like that one).
//!
//! The backend applies what its index knows during retrieval (day, category, the
//! moved query vector); the site applies the rest (topic, authors, code) to a deeper
//! candidate list, [`DEPTH`] times what is wanted.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::NaiveDate;
use papers_core::{ArxivId, Category};
use papers_store::StoredPaper;
use papers_topics::{TopicId, TopicMap};
use serde::Deserialize;

use crate::error::HttpError;
use crate::routes::params;
use crate::routes::topics::topic_param;
use crate::search::{SearchBackend, SearchHit, SimilarRequest};
use crate::state::AppState;
use crate::views::ViewItem;

/// Candidates read per wanted paper when the site filters after retrieval.
const DEPTH: usize = 10;
/// Candidates read at most.
const MAX_CANDIDATES: usize = 500;

/// The conditions as sent.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct RawConditions {
    after: Option<String>,
    category: Option<String>,
    topic: Option<String>,
    exclude_authors: Option<String>,
    has_code: Option<String>,
    minus: Option<String>,
}

/// The conditions, checked: the topic against the map, `minus` against the store.
#[derive(Debug, Clone, Default)]
pub(crate) struct Conditions {
    pub after: Option<NaiveDate>,
    pub category: Option<Category>,
    pub topic: Option<(Arc<TopicMap>, TopicId)>,
    pub exclude_authors: bool,
    pub has_code: bool,
    /// The paper to move away from: its id as given and its store key.
    pub minus: Option<(String, i64)>,
}

impl RawConditions {
    /// Whether no condition was sent, or only empty ones: the plain list, as far as
    /// can be told before [`RawConditions::parse`].
    pub(crate) fn is_blank(&self) -> bool {
        [
            &self.after,
            &self.category,
            &self.topic,
            &self.exclude_authors,
            &self.has_code,
            &self.minus,
        ]
        .iter()
        .all(|value| value.as_deref().is_none_or(|text| text.trim().is_empty()))
    }

    pub(crate) async fn parse(&self, state: &AppState) -> Result<Conditions, HttpError> {
        let after = match self
            .after
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            None => None,
            Some(text) => Some(
                NaiveDate::parse_from_str(text, "%Y-%m-%d")
                    .map_err(|_| HttpError::bad_request("after must be a day, YYYY-MM-DD"))?,
            ),
        };
        let minus = match self
            .minus
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            None => None,
            Some(text) => {
                let id = ArxivId::parse(text)
                    .map_err(|_| HttpError::bad_request("minus must be an arXiv id"))?;
                let shown = id.to_string();
                let paper = state
                    .inner
                    .pool
                    .run_quick(move |store| store.paper(&id))
                    .await?
                    .ok_or_else(|| HttpError::not_found(format!("minus: no paper {shown} here")))?;
                Some((shown, paper.key))
            }
        };
        Ok(Conditions {
            after,
            category: params::category(self.category.as_deref())?,
            topic: topic_param(state, self.topic.as_deref())?,
            exclude_authors: params::flag("exclude_authors", self.exclude_authors.as_deref())?,
            has_code: params::flag("has_code", self.has_code.as_deref())?,
            minus,
        })
    }
}

impl Conditions {
    pub(crate) fn is_empty(&self) -> bool {
        self.after.is_none()
            && self.category.is_none()
            && self.topic.is_none()
            && !self.exclude_authors
            && !self.has_code
            && self.minus.is_none()
    }

    /// Whether only the site checks some condition, so candidates are read deeper.
    fn filters_here(&self) -> bool {
        self.topic.is_some() || self.exclude_authors || self.has_code
    }

    /// Whether `candidate` passes the site's conditions, as a paper like `of`.
    fn admits(&self, of: &StoredPaper, authors: &HashSet<String>, candidate: &StoredPaper) -> bool {
        if let Some((map, id)) = &self.topic
            && !map.contains(*id, candidate.key)
        {
            return false;
        }
        if self.has_code && candidate.links.github.is_none() {
            return false;
        }
        if self.exclude_authors
            && candidate
                .paper
                .metadata
                .authors
                .iter()
                .any(|a| authors.contains(&normalise(a)))
        {
            return false;
        }
        // The backend applied these; checked again so a backend that did not cannot
        // slip a paper through.
        if let Some(after) = self.after
            && candidate
                .paper
                .metadata
                .published
                .is_none_or(|p| p.date_naive() < after)
        {
            return false;
        }
        candidate.key != of.key
    }
}

/// An author's name as compared: lower case, spaces collapsed.
fn normalise(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Papers similar to `of` under `conditions`, at most `k`; `None` without a search
/// backend or when it fails (a paper page is still worth showing without them).
/// A condition the backend refuses is an error for the API to report.
///
/// Without conditions this is the plain list, which the backend may keep in memory
/// ([`SearchBackend::similar_cached`]): taken here on the worker, and only a list
/// it must compute goes to a blocking thread. Conditions always go to
/// [`SearchBackend::similar_to`] on a blocking thread.
///
/// [`SearchBackend::similar_cached`]: crate::search::SearchBackend::similar_cached
/// [`SearchBackend::similar_to`]: crate::search::SearchBackend::similar_to
pub(crate) async fn similar_items(
    state: &AppState,
    of: &StoredPaper,
    conditions: &Conditions,
    k: usize,
) -> Result<Option<Vec<ViewItem>>, HttpError> {
    let Some(backend) = state.inner.search.clone() else {
        return Ok(None);
    };
    let key = of.key;
    let hits = match kept_hits(backend.as_ref(), key, conditions, k) {
        Some(hits) => hits,
        None => {
            let wanted = if conditions.filters_here() {
                (k * DEPTH).clamp(k, MAX_CANDIDATES)
            } else {
                k
            };
            let request = SimilarRequest {
                key,
                k: wanted,
                after: conditions.after,
                category: conditions.category.clone(),
                minus: conditions.minus.as_ref().map(|(_, key)| *key),
            };
            let plain = conditions.is_empty();
            let task = tokio::task::spawn_blocking(move || {
                if plain {
                    backend.similar(key, wanted)
                } else {
                    backend.similar_to(&request)
                }
            });
            match task.await {
                Ok(Ok(hits)) => hits,
                Ok(Err(crate::search::SearchError::Query(message))) => {
                    return Err(HttpError::bad_request(message));
                }
                Ok(Err(error)) => {
                    tracing::warn!(%error, paper.key = key, "similar papers failed");
                    return Ok(None);
                }
                Err(error) => {
                    tracing::warn!(%error, paper.key = key, "similar papers task failed");
                    return Ok(None);
                }
            }
        }
    };
    let keys = other_keys(&hits, key);
    if keys.is_empty() {
        // No vectors (no model), or nothing near: no store call to make.
        return Ok(Some(Vec::new()));
    }
    // A few papers by primary key: a short indexed read.
    let papers = match state
        .inner
        .pool
        .run_quick(move |store| store.papers_by_keys(&keys))
        .await
    {
        Ok(papers) => papers,
        Err(error) => {
            tracing::warn!(%error, "loading similar papers failed");
            return Ok(None);
        }
    };
    Ok(Some(items_from(of, conditions, papers, k)))
}

/// The kept list of papers like `key`, if the backend has it at hand and there are no
/// conditions (a list under conditions is never kept). Does not block.
fn kept_hits(
    backend: &dyn SearchBackend,
    key: i64,
    conditions: &Conditions,
    k: usize,
) -> Option<Vec<SearchHit>> {
    if conditions.is_empty() {
        backend.similar_cached(key, k)
    } else {
        None
    }
}

/// The keys of `hits`, best first, without the paper `of` itself.
pub(crate) fn other_keys(hits: &[SearchHit], of: i64) -> Vec<i64> {
    hits.iter()
        .map(|hit| hit.key)
        .filter(|key| *key != of)
        .collect()
}

/// The similar papers of `of` from `candidates` (best first): those that pass the
/// site's conditions, at most `k`.
pub(crate) fn items_from(
    of: &StoredPaper,
    conditions: &Conditions,
    candidates: Vec<StoredPaper>,
    k: usize,
) -> Vec<ViewItem> {
    let authors: HashSet<String> = of
        .paper
        .metadata
        .authors
        .iter()
        .map(|a| normalise(a))
        .collect();
    candidates
        .into_iter()
        .filter(|paper| conditions.admits(of, &authors, paper))
        .take(k)
        .map(|paper| ViewItem {
            paper,
            trending: None,
        })
        .collect()
}
