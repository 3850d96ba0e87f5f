//! RSS and Atom for every feed view (latest day, day, week, month, trending) and for
//! any search, so a reader can follow a query.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveTime, Utc};
use papers_store::StoredPaper;

use crate::cache::Cacheable;
use crate::error::HttpError;
use crate::feeds::{FeedDoc, FeedEntry, atom, rss};
use crate::period::PeriodKind;
use crate::routes::feed::{RawFeedParams, latest_view, period_view, trending_view};
use crate::routes::search::{RawSearchParams, run_search};
use crate::state::AppState;
use crate::views::{FeedView, one_line, paper_path, shorten};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Rss,
    Atom,
}

impl Format {
    pub(crate) fn file(self) -> &'static str {
        match self {
            Format::Rss => "feed.rss",
            Format::Atom => "feed.atom",
        }
    }
}

pub(crate) async fn latest_feed(
    state: State<AppState>,
    raw: Query<RawFeedParams>,
    format: Format,
) -> Result<Response, HttpError> {
    let view = latest_view(&state, &raw.parse_with(&state)?).await?;
    let self_path = format!("/papers/{}", format.file());
    respond(&state, &view, &self_path, format)
}

pub(crate) async fn period_feed(
    state: State<AppState>,
    Path(text): Path<String>,
    raw: Query<RawFeedParams>,
    kind: PeriodKind,
    format: Format,
) -> Result<Response, HttpError> {
    let spec = kind
        .parse(&text)
        .ok_or_else(|| HttpError::not_found("no such period"))?;
    let view = period_view(&state, spec, &raw.parse_with(&state)?).await?;
    let self_path = format!("{}/{}", spec.path(), format.file());
    respond(&state, &view, &self_path, format)
}

pub(crate) async fn trending_feed(
    state: State<AppState>,
    raw: Query<RawFeedParams>,
    format: Format,
) -> Result<Response, HttpError> {
    let view = trending_view(&state, &raw.parse_with(&state)?).await?;
    let self_path = format!("/papers/trending/{}", format.file());
    respond(&state, &view, &self_path, format)
}

pub(crate) async fn search_feed(
    state: State<AppState>,
    Query(raw): Query<RawSearchParams>,
    format: Format,
) -> Result<Response, HttpError> {
    let params = raw.parse_with(&state)?;
    if params.query.is_empty() {
        return Err(HttpError::bad_request("q is required"));
    }
    let (results, _) = run_search(&state, &params, 50).await?;
    let base = &state.config().public_url;
    let query = crate::views::encode(&params.query);
    let doc = FeedDoc {
        title: format!("Daily Papers: search for “{}”", params.query),
        link: format!("{base}/search?q={query}"),
        self_url: format!("{base}/search/{}?q={query}", format.file()),
        description: format!("Papers matching “{}”, best first.", params.query),
        updated: Utc::now(),
        entries: results
            .iter()
            .map(|(item, _)| entry(base, &item.paper))
            .collect(),
    };
    finish(&doc, format)
}

fn respond(
    state: &AppState,
    view: &FeedView,
    self_path: &str,
    format: Format,
) -> Result<Response, HttpError> {
    let base = &state.config().public_url;
    let entries: Vec<FeedEntry> = view
        .items
        .iter()
        .map(|item| entry(base, &item.paper))
        .collect();
    let updated = entries
        .iter()
        .map(|e| e.updated)
        .max()
        .unwrap_or(DateTime::UNIX_EPOCH);
    let doc = FeedDoc {
        title: format!("Daily Papers: {}", view.heading),
        link: format!("{base}{}", view.path),
        self_url: format!("{base}{self_path}"),
        description: view
            .explanation
            .clone()
            .unwrap_or_else(|| format!("Papers in the daily feed: {}.", view.heading)),
        updated,
        entries,
    };
    finish(&doc, format)
}

pub(crate) fn finish(doc: &FeedDoc, format: Format) -> Result<Response, HttpError> {
    let (body, content_type) = match format {
        Format::Rss => (rss(doc), "application/rss+xml; charset=utf-8"),
        Format::Atom => (atom(doc), "application/atom+xml; charset=utf-8"),
    };
    let body = body.map_err(HttpError::internal)?;
    let mut response = (
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        body,
    )
        .into_response();
    response.extensions_mut().insert(Cacheable::DEFAULT);
    Ok(response)
}

pub(crate) fn entry(base: &str, stored: &StoredPaper) -> FeedEntry {
    let paper = &stored.paper;
    let updated = paper
        .community
        .feed_day
        .map(|day| day.and_time(NaiveTime::MIN).and_utc())
        .or(paper.metadata.published)
        .unwrap_or(DateTime::UNIX_EPOCH);
    FeedEntry {
        title: one_line(&paper.metadata.title),
        link: format!("{base}{}", paper_path(paper.id.as_str())),
        summary: format!(
            "▲ {} · {}",
            stored.upvotes(),
            shorten(&paper.metadata.abstract_text, 1200)
        ),
        authors: paper.metadata.authors.clone(),
        categories: paper
            .metadata
            .categories
            .iter()
            .map(|c| c.to_string())
            .collect(),
        updated,
    }
}
