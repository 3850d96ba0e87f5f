//! The JSON API. Routes come from [`crate::openapi::API_ROUTES`]; every error is JSON.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, delete, get, patch, post};
use chrono::Utc;
use papers_core::ArxivId;
use papers_store::{FeedPeriod, FeedQuery, FeedSort, ListingOwner, StoredPaper};
use serde::{Deserialize, Serialize};

use crate::api_model::{self, ApiSearchHit};
use crate::cache::Cacheable;
use crate::csrf;
use crate::error::{HttpError, JsonErrors};
use crate::openapi::{API_ROUTES, Operation, openapi_document};
use crate::period::{PeriodKind, PeriodSpec};
use crate::routes::feed::{latest_feed_day, trending_clock};
use crate::routes::paper::load;
use crate::routes::params;
use crate::routes::search::{RawSearchParams, run_search};
use crate::routes::similar::{RawConditions, similar_items};
use crate::routes::vote::toggle;
use crate::routes::{collections, comments, follows, for_you, reads};
use crate::session::MaybeUser;
use crate::state::AppState;
use crate::views::encode;

/// The API router, one route per table entry, except the routes of one paper, which
/// share [`PAPER_ROUTE`].
pub(crate) fn router() -> Router<AppState> {
    API_ROUTES
        .iter()
        .fold(Router::new(), |router, route| {
            match method_router(route.operation) {
                Some(methods) => router.route(route.path, methods),
                None => router,
            }
        })
        .route(
            PAPER_ROUTE,
            get(paper_get).post(paper_post).delete(paper_delete),
        )
}

/// `/api/papers/{id}`, `…/similar`, `…/upvote`, `…/comments`, `…/read` and `…/feedback` as one catch-all: an old-style id keeps
/// its slash (`/api/papers/hep-th/9901001/similar`), which a `{id}` segment cannot
/// match. The static routes beside it (`/api/papers/search`) win over a catch-all.
const PAPER_ROUTE: &str = "/api/papers/{*rest}";

fn method_router(operation: Operation) -> Option<MethodRouter<AppState>> {
    Some(match operation {
        Operation::DailyPapers => get(daily_papers),
        Operation::ListPapers => get(list_papers),
        Operation::SearchPapers => get(search),
        Operation::GetPaper
        | Operation::SimilarPapers
        | Operation::Upvote
        | Operation::ListComments
        | Operation::PostComment
        | Operation::MarkRead
        | Operation::MarkUnread
        | Operation::SetFeedback
        | Operation::ClearFeedback => return None,
        Operation::ForYou => get(for_you::api),
        Operation::ListCollections => get(collections::api_list),
        Operation::CreateCollection => post(collections::api_create),
        Operation::GetCollection => get(collections::api_get),
        Operation::AddToCollection => post(collections::api_add),
        Operation::ExportCollection => get(collections::api_export),
        Operation::ListFollows => get(follows::api_list),
        Operation::Follow => post(follows::api_create),
        Operation::Unfollow => delete(follows::api_delete),
        Operation::EditComment => patch(comments::api_edit),
        Operation::DeleteComment => delete(comments::api_delete),
        Operation::ReportComment => post(comments::api_report),
        Operation::HideComment => post(
            |s: State<AppState>, u: MaybeUser, h: HeaderMap, Path(c): Path<String>| {
                comments::api_moderate(s.0, u, h, c, true)
            },
        ),
        Operation::RestoreComment => post(
            |s: State<AppState>, u: MaybeUser, h: HeaderMap, Path(c): Path<String>| {
                comments::api_moderate(s.0, u, h, c, false)
            },
        ),
        Operation::SubmitPaper => post(crate::routes::submit::api_submit),
        Operation::Subscribe => post(crate::routes::subscribe::api_subscribe),
        Operation::ListTokens => get(crate::routes::tokens::api_list),
        Operation::CreateToken => post(crate::routes::tokens::api_create),
        Operation::RevokeToken => delete(crate::routes::tokens::api_revoke),
        Operation::AdminStatus => get(crate::routes::admin::api_status),
        Operation::ListTopics => get(crate::routes::topics::api_list),
        Operation::GetTopic => get(crate::routes::topics::api_get),
        Operation::OpenApi => get(openapi),
    })
}

/// What a path under [`PAPER_ROUTE`] asks for: the id, then an optional action.
enum PaperAction<'a> {
    Paper(&'a str),
    Similar(&'a str),
    Upvote(&'a str),
    Comments(&'a str),
    Read(&'a str),
    Feedback(&'a str),
}

impl PaperAction<'_> {
    /// `None` for a path no route documents (`/api/papers/2401.00001/likes`): a
    /// slash that is not part of an old-style id means another path, answered as the
    /// fallback answers, not as a bad id.
    fn parse(rest: &str) -> Option<PaperAction<'_>> {
        let action = if let Some(id) = rest.strip_suffix("/similar") {
            PaperAction::Similar(id)
        } else if let Some(id) = rest.strip_suffix("/upvote") {
            PaperAction::Upvote(id)
        } else if let Some(id) = rest.strip_suffix("/comments") {
            PaperAction::Comments(id)
        } else if let Some(id) = rest.strip_suffix("/read") {
            PaperAction::Read(id)
        } else if let Some(id) = rest.strip_suffix("/feedback") {
            PaperAction::Feedback(id)
        } else {
            PaperAction::Paper(rest)
        };
        let (PaperAction::Paper(id)
        | PaperAction::Similar(id)
        | PaperAction::Upvote(id)
        | PaperAction::Comments(id)
        | PaperAction::Read(id)
        | PaperAction::Feedback(id)) = action;
        (!id.contains('/') || ArxivId::parse(id).is_ok()).then_some(action)
    }
}

fn no_such_page() -> HttpError {
    HttpError::not_found("no such page").into_json()
}

fn method_not_allowed(allow: &'static str) -> Response {
    let mut response = HttpError::new(StatusCode::METHOD_NOT_ALLOWED, "method not allowed")
        .into_json()
        .into_response();
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    response
}

async fn paper_get(
    state: State<AppState>,
    user: MaybeUser,
    Path(rest): Path<String>,
    raw: Result<Query<SimilarParams>, QueryRejection>,
) -> Result<Response, HttpError> {
    match PaperAction::parse(&rest).ok_or_else(no_such_page)? {
        PaperAction::Paper(id) => paper(state, id).await,
        PaperAction::Similar(id) => similar(state, id, raw).await,
        PaperAction::Comments(id) => comments::api_list(&state, user, parse_id(id)?).await,
        PaperAction::Upvote(_) => Ok(method_not_allowed("POST")),
        PaperAction::Read(_) | PaperAction::Feedback(_) => Ok(method_not_allowed("POST, DELETE")),
    }
}

async fn paper_post(
    state: State<AppState>,
    user: MaybeUser,
    headers: HeaderMap,
    Path(rest): Path<String>,
    body: Bytes,
) -> Result<Response, HttpError> {
    match PaperAction::parse(&rest).ok_or_else(no_such_page)? {
        PaperAction::Upvote(id) => upvote(state, user, headers, id).await,
        PaperAction::Comments(id) => {
            let id = parse_id(id)?;
            comments::api_create(&state, user, &headers, id, Json::from_bytes(&body)).await
        }
        PaperAction::Read(id) => reads::api(&state, user, &headers, parse_id(id)?, true).await,
        PaperAction::Feedback(id) => {
            let id = parse_id(id)?;
            for_you::api_feedback(&state, user, &headers, id, Some(Json::from_bytes(&body))).await
        }
        PaperAction::Paper(_) | PaperAction::Similar(_) => Ok(method_not_allowed("GET")),
    }
}

async fn paper_delete(
    state: State<AppState>,
    user: MaybeUser,
    headers: HeaderMap,
    Path(rest): Path<String>,
) -> Result<Response, HttpError> {
    match PaperAction::parse(&rest).ok_or_else(no_such_page)? {
        PaperAction::Read(id) => reads::api(&state, user, &headers, parse_id(id)?, false).await,
        PaperAction::Feedback(id) => {
            for_you::api_feedback(&state, user, &headers, parse_id(id)?, None).await
        }
        PaperAction::Comments(_) => Ok(method_not_allowed("GET, POST")),
        PaperAction::Upvote(_) => Ok(method_not_allowed("POST")),
        PaperAction::Paper(_) | PaperAction::Similar(_) => Ok(method_not_allowed("GET")),
    }
}

pub(crate) fn json<T: Serialize>(value: &T, cacheable: bool) -> Result<Response, HttpError> {
    let body = serde_json::to_string(value).map_err(HttpError::internal)?;
    let mut response = (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response();
    if cacheable {
        response.extensions_mut().insert(Cacheable::DEFAULT);
    }
    Ok(response)
}

fn query<T>(query: Result<Query<T>, QueryRejection>) -> Result<T, HttpError> {
    query
        .map(|Query(value)| value)
        .map_err(|rejection| HttpError::bad_request(rejection.body_text()).into_json())
}

fn limit(text: Option<&str>, default: usize, max: usize) -> Result<usize, HttpError> {
    match text {
        None | Some("") => Ok(default),
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .ok_or_else(|| {
                HttpError::bad_request(format!("limit must be between 1 and {max}")).into_json()
            }),
    }
}

fn parse_id(text: &str) -> Result<ArxivId, HttpError> {
    ArxivId::parse(text).map_err(|_| HttpError::not_found("not an arXiv id").into_json())
}

/// `/api/daily_papers?date=|week=|month=&submitter=&sort=&p=&limit=` as sent; parsed
/// by [`RawDailyParams::parse`] so bad values get a clear 400.
#[derive(Debug, Default, Deserialize)]
struct RawDailyParams {
    date: Option<String>,
    week: Option<String>,
    month: Option<String>,
    submitter: Option<String>,
    sort: Option<String>,
    p: Option<String>,
    limit: Option<String>,
}

#[derive(Debug, Clone)]
struct DailyParams {
    /// `None`: the latest feed day, or every paper of `submitter` when one is given.
    period: Option<PeriodSpec>,
    /// Hugging Face's `sort=trending`; otherwise newest first (`publishedAt`).
    trending: bool,
    submitter: Option<String>,
    page: usize,
    limit: usize,
}

impl RawDailyParams {
    fn parse(&self) -> Result<DailyParams, HttpError> {
        let bad = |what: &str| HttpError::bad_request(format!("{what} is malformed"));
        let given: Vec<(PeriodKind, &String)> = [
            (PeriodKind::Day, &self.date),
            (PeriodKind::Week, &self.week),
            (PeriodKind::Month, &self.month),
        ]
        .into_iter()
        .filter_map(|(kind, text)| Some((kind, text.as_ref()?)))
        .collect();
        let period = match given.as_slice() {
            [] => None,
            [(kind, text)] => Some(kind.parse(text).ok_or_else(|| bad(kind.segment()))?),
            _ => {
                return Err(HttpError::bad_request(
                    "give at most one of date, week and month",
                ));
            }
        };
        let trending = match self.sort.as_deref() {
            None | Some("") | Some("publishedAt") => false,
            Some("trending") => true,
            Some(_) => {
                return Err(HttpError::bad_request(
                    "sort must be publishedAt or trending",
                ));
            }
        };
        let page = params::page(self.p.as_deref(), 100_000).ok_or_else(|| bad("p"))?;
        let limit = limit(self.limit.as_deref(), 50, 100)?;
        let submitter = self.submitter.clone().filter(|s| !s.is_empty());
        if submitter.as_ref().is_some_and(|s| s.len() > 100) {
            return Err(bad("submitter"));
        }
        Ok(DailyParams {
            period,
            trending,
            submitter,
            page,
            limit,
        })
    }

    /// The path and query of the page after `params.page`, for the `Link` header: the
    /// request's own parameters as sent, with the page moved on.
    fn next_page(&self, params: &DailyParams) -> String {
        let mut next: Vec<String> = [
            ("date", &self.date),
            ("week", &self.week),
            ("month", &self.month),
            ("submitter", &self.submitter),
            ("sort", &self.sort),
        ]
        .into_iter()
        .filter_map(|(name, value)| Some(format!("{name}={}", encode(value.as_ref()?))))
        .collect();
        next.push(format!("p={}", params.page + 1));
        next.push(format!("limit={}", params.limit));
        format!("/api/daily_papers?{}", next.join("&"))
    }
}

async fn daily_papers(
    State(state): State<AppState>,
    raw: Result<Query<RawDailyParams>, QueryRejection>,
) -> Result<Response, HttpError> {
    let raw = query(raw)?;
    async {
        let params = raw.parse()?;
        let (papers, total) = daily(&state, params.clone()).await?;
        let items: Vec<_> = papers.iter().map(api_model::daily_paper).collect();
        let mut response = json(&items, true)?;
        if (params.page + 1) * params.limit < total {
            link_next(response.headers_mut(), &state, &raw.next_page(&params));
        }
        Ok(response)
    }
    .await
    .json_errors()
}

/// One page of the papers `params` ask for, and how many there are in all.
async fn daily(
    state: &AppState,
    params: DailyParams,
) -> Result<(Vec<StoredPaper>, usize), HttpError> {
    let now = Utc::now();
    let latest = latest_feed_day(state).await?;
    let found = state
        .inner
        .pool
        .run(move |store| {
            let DailyParams {
                period,
                trending,
                submitter,
                page,
                limit,
            } = params;
            let period = match period {
                Some(spec) => Some(spec.0),
                None if submitter.is_some() => None,
                None => latest.map(FeedPeriod::Day),
            };
            let Some(period) = period else {
                let Some(name) = submitter else {
                    return Ok((Vec::new(), 0));
                };
                return store.community_papers(
                    &ListingOwner::Submitter(&name),
                    page * limit,
                    limit,
                );
            };
            let sort = if trending {
                let latest = latest.unwrap_or_else(|| now.date_naive());
                FeedSort::Trending {
                    now: trending_clock(latest, now),
                }
            } else {
                FeedSort::Newest
            };
            let query = FeedQuery {
                period,
                sort,
                category: None,
                submitter,
                organization: None,
                offset: page * limit,
                limit,
            };
            let (items, total) = store.feed(&query)?;
            Ok((items.into_iter().map(|item| item.paper).collect(), total))
        })
        .await?;
    Ok(found)
}

fn link_next(headers: &mut HeaderMap, state: &AppState, path_and_query: &str) {
    let value = format!(
        "<{}{path_and_query}>; rel=\"next\"",
        state.config().public_url
    );
    if let Ok(value) = HeaderValue::from_str(&value) {
        headers.insert(header::LINK, value);
    }
}

#[derive(Debug, Default, Deserialize)]
struct ListParams {
    cursor: Option<String>,
    limit: Option<String>,
}

async fn list_papers(
    State(state): State<AppState>,
    raw: Result<Query<ListParams>, QueryRejection>,
) -> Result<Response, HttpError> {
    let params = query(raw)?;
    async {
        let limit = limit(params.limit.as_deref(), 50, 100)?;
        let after: i64 = match params.cursor.as_deref() {
            None | Some("") => 0,
            Some(text) => text
                .parse()
                .ok()
                .filter(|k| *k >= 0)
                .ok_or_else(|| HttpError::bad_request("cursor is malformed"))?,
        };
        let papers = state
            .inner
            .pool
            .run(move |store| store.papers_after(after, limit))
            .await?;
        let items: Vec<_> = papers.iter().map(api_model::paper).collect();
        let mut response = json(&items, true)?;
        if papers.len() == limit
            && let Some(last) = papers.last()
        {
            link_next(
                response.headers_mut(),
                &state,
                &format!("/api/papers?cursor={}&limit={limit}", last.key),
            );
        }
        Ok(response)
    }
    .await
    .json_errors()
}

#[derive(Debug, Default, Deserialize)]
struct SearchParams {
    q: Option<String>,
    limit: Option<String>,
    mode: Option<String>,
}

async fn search(
    State(state): State<AppState>,
    raw: Result<Query<SearchParams>, QueryRejection>,
) -> Result<Response, HttpError> {
    let params = query(raw)?;
    async {
        let limit = limit(params.limit.as_deref(), 50, 120)?;
        let parsed = RawSearchParams::from_api(params.q, params.mode).parse()?;
        if parsed.query.is_empty() {
            return Err(HttpError::bad_request("q is required"));
        }
        let (results, _) = run_search(&state, &parsed, limit).await?;
        let hits: Vec<ApiSearchHit> = results
            .iter()
            .map(|(item, snippet)| ApiSearchHit {
                paper: api_model::paper(&item.paper),
                title: crate::views::one_line(&item.paper.paper.metadata.title),
                summary: item.paper.paper.metadata.abstract_text.clone(),
                published_at: api_model::feed_day(&item.paper),
                highlight: snippet.as_ref().map(|s| s.text.clone()),
            })
            .collect();
        json(&hits, true)
    }
    .await
    .json_errors()
}

async fn paper(State(state): State<AppState>, id: &str) -> Result<Response, HttpError> {
    async {
        let stored = load(&state, parse_id(id)?).await?;
        let mut paper = api_model::paper(&stored);
        paper.topics = crate::routes::topics::paper_topics(&state, stored.key);
        json(&paper, true)
    }
    .await
    .json_errors()
}

#[derive(Debug, Default, Deserialize)]
struct SimilarParams {
    limit: Option<String>,
    #[serde(flatten)]
    conditions: RawConditions,
}

async fn similar(
    State(state): State<AppState>,
    id: &str,
    raw: Result<Query<SimilarParams>, QueryRejection>,
) -> Result<Response, HttpError> {
    let params = query(raw)?;
    async {
        let limit = limit(params.limit.as_deref(), 10, 50)?;
        let stored = load(&state, parse_id(id)?).await?;
        // A malformed request is the client's to fix whatever the index's state, so
        // the conditions are read before the 503 for a node without one.
        let conditions = params.conditions.parse(&state).await?;
        if state.inner.search.is_none() {
            return Err(HttpError::unavailable(crate::routes::search::NO_INDEX));
        }
        let items = similar_items(&state, &stored, &conditions, limit)
            .await?
            .ok_or_else(|| HttpError::unavailable("similar papers are unavailable"))?;
        let papers: Vec<_> = items
            .iter()
            .map(|item| api_model::paper(&item.paper))
            .collect();
        json(&papers, true)
    }
    .await
    .json_errors()
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct UpvoteResult {
    id: String,
    upvoted: bool,
    upvotes: u32,
}

async fn upvote(
    State(state): State<AppState>,
    user: MaybeUser,
    headers: HeaderMap,
    id: &str,
) -> Result<Response, HttpError> {
    async {
        let user = user.0.ok_or_else(HttpError::unauthorized)?;
        csrf::check_session(&user, csrf::header_token(&headers))?;
        let id = parse_id(id)?;
        let shown = id.to_string();
        let (outcome, upvotes) = toggle(&state, &user, id).await?;
        json(
            &UpvoteResult {
                id: shown,
                upvoted: outcome.voted,
                upvotes,
            },
            false,
        )
    }
    .await
    .json_errors()
}

async fn openapi(State(state): State<AppState>) -> Result<Response, HttpError> {
    json(&openapi_document(&state.config().public_url), true)
}
