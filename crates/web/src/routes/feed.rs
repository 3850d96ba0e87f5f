//! Feed pages: the latest day, a day, week or month, trending, and the query results
//! they are rendered from (cached per store generation, shared by every reader).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::response::Response;
use chrono::{DateTime, Datelike, Duration as Days, NaiveDate, NaiveTime, Utc};
use papers_core::Category;
use papers_store::{FeedPeriod, FeedQuery, FeedSort};
use papers_topics::{TopicId, TopicMap};
use serde::Deserialize;

use crate::error::HttpError;
use crate::html::html_response;
use crate::period::{PeriodKind, PeriodSpec};
use crate::routes::params;
use crate::routes::topics::topic_param;
use crate::session::MaybeUser;
use crate::state::AppState;
use crate::views::{self, FeedView, NavLink, SortChoice, ViewItem, Viewer};

pub(crate) const PAGE_SIZE: usize = 50;
/// How many days the trending page looks back from the latest feed day.
pub(crate) const TRENDING_DAYS: i64 = 7;

/// `?sort=&category=&p=` as sent; parsed by [`RawFeedParams::parse`] so bad values get a
/// clear 400 instead of a framework rejection.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct RawFeedParams {
    sort: Option<String>,
    category: Option<String>,
    topic: Option<String>,
    p: Option<String>,
    hide_read: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct FeedParams {
    pub sort: SortChoice,
    pub category: Option<Category>,
    /// Only papers of this topic (and its name), checked against the topic map.
    pub topic: Option<(Arc<TopicMap>, TopicId)>,
    pub page: usize,
}

impl FeedParams {
    fn topic_label(&self) -> Option<(u32, String)> {
        let (map, id) = self.topic.as_ref()?;
        Some((*id, map.topic(*id)?.name.clone()))
    }

    /// Whether the topic filter (if any) lets the paper through.
    fn admits(&self, key: i64) -> bool {
        self.topic
            .as_ref()
            .is_none_or(|(map, id)| map.contains(*id, key))
    }
}

impl RawFeedParams {
    /// `hide_read=1`: leave out the papers the member has read.
    pub(crate) fn hide_read(&self) -> Result<bool, HttpError> {
        hide_read(self.hide_read.as_deref())
    }
}

/// `hide_read=1` (or `on`, from a checkbox); a value that is neither yes nor no is a
/// 400 (see [`params::flag`]).
pub(crate) fn hide_read(text: Option<&str>) -> Result<bool, HttpError> {
    params::flag("hide_read", text)
}

impl RawFeedParams {
    /// [`RawFeedParams::parse`] with `topic=` checked against the state's topic map.
    pub(crate) fn parse_with(&self, state: &AppState) -> Result<FeedParams, HttpError> {
        let mut params = self.parse()?;
        params.topic = topic_param(state, self.topic.as_deref())?;
        Ok(params)
    }

    pub(crate) fn parse(&self) -> Result<FeedParams, HttpError> {
        let sort = SortChoice::parse(self.sort.as_deref())
            .ok_or_else(|| HttpError::bad_request("sort must be upvotes, trending or newest"))?;
        let category = params::category(self.category.as_deref())?;
        let page = params::page(self.p.as_deref(), 10_000)
            .ok_or_else(|| HttpError::bad_request("p must be a page number"))?;
        // Checked here too so the pages without a reader (the RSS and Atom feeds)
        // refuse a bad value as the HTML pages do.
        self.hide_read()?;
        Ok(FeedParams {
            sort,
            category,
            topic: None,
            page,
        })
    }
}

pub(crate) async fn latest(
    State(state): State<AppState>,
    user: MaybeUser,
    Query(raw): Query<RawFeedParams>,
) -> Result<Response, HttpError> {
    let params = raw.parse_with(&state)?;
    let raw_hide = raw.hide_read()?;
    let view = latest_view(&state, &params).await?;
    render(&state, &view, user, raw_hide).await
}

/// A day's, week's or month's page: `kind` says which the route serves.
pub(crate) async fn period(
    State(state): State<AppState>,
    user: MaybeUser,
    Path(text): Path<String>,
    Query(raw): Query<RawFeedParams>,
    kind: PeriodKind,
) -> Result<Response, HttpError> {
    let spec = kind
        .parse(&text)
        .ok_or_else(|| HttpError::not_found(kind.not_found()))?;
    let raw_hide = raw.hide_read()?;
    let view = period_view(&state, spec, &raw.parse_with(&state)?).await?;
    render(&state, &view, user, raw_hide).await
}

pub(crate) async fn trending(
    State(state): State<AppState>,
    user: MaybeUser,
    Query(raw): Query<RawFeedParams>,
) -> Result<Response, HttpError> {
    let raw_hide = raw.hide_read()?;
    let view = trending_view(&state, &raw.parse_with(&state)?).await?;
    render(&state, &view, user, raw_hide).await
}

/// Renders a view for the reader: shared and cacheable when anonymous, with the
/// member's own votes, saves and reads otherwise (and without the papers they read,
/// when `hide_read`).
pub(crate) async fn render(
    state: &AppState,
    view: &FeedView,
    user: MaybeUser,
    hide_read: bool,
) -> Result<Response, HttpError> {
    let mut viewer = viewer(state, user).await?;
    let cacheable = viewer.user.is_none();
    viewer.hide_read = hide_read && viewer.user.is_some();
    Ok(html_response(views::feed_page(view, &viewer), cacheable))
}

/// The reader with the papers they upvoted, saved, read and rated (four indexed
/// queries).
pub(crate) async fn viewer(state: &AppState, user: MaybeUser) -> Result<Viewer, HttpError> {
    let Some(user) = user.0 else {
        return Ok(Viewer::anonymous());
    };
    let id = user.session.user_id;
    let (votes, saved, read, feedback) = state
        .inner
        .pool
        .run_quick(move |store| {
            Ok((
                store.voted_keys(id)?,
                store.saved_keys(id)?,
                store.read_keys(id)?,
                store.feedback_of(id)?,
            ))
        })
        .await?;
    Ok(Viewer {
        user: Some(user.session),
        votes,
        saved,
        read,
        feedback,
        hide_read: false,
    })
}

/// The most recent feed day with papers, cached per store generation.
pub(crate) async fn latest_feed_day(state: &AppState) -> Result<Option<NaiveDate>, HttpError> {
    let generation = state.generation();
    if let Some(day) = state.inner.latest_day.get("latest", generation) {
        return Ok(day);
    }
    let day = state
        .inner
        .pool
        .run(|store| store.latest_feed_day())
        .await?;
    let ttl = Duration::from_secs(600);
    state
        .inner
        .latest_day
        .put("latest".to_owned(), generation, ttl, day);
    Ok(day)
}

/// The latest feed day's view (an empty view when nothing was ingested yet).
pub(crate) async fn latest_view(
    state: &AppState,
    params: &FeedParams,
) -> Result<Arc<FeedView>, HttpError> {
    let latest = latest_feed_day(state).await?;
    match latest {
        Some(day) => period_view(state, PeriodSpec(FeedPeriod::Day(day)), params).await,
        None => Ok(Arc::new(FeedView {
            heading: "No papers yet".to_owned(),
            path: "/papers".to_owned(),
            items: Vec::new(),
            total: 0,
            page: 0,
            page_size: PAGE_SIZE,
            previous: None,
            next: None,
            related: Vec::new(),
            categories: Vec::new(),
            sort: params.sort,
            sortable: false,
            category: None,
            topic: None,
            feed_base: None,
            explanation: Some("The store is empty: run `papers ingest` to load papers.".to_owned()),
        })),
    }
}

fn cache_key(kind: &str, params: &FeedParams) -> String {
    format!(
        "{kind}|{}|{}|{}|{}",
        params.sort.as_str(),
        params.category.as_ref().map_or("", Category::as_str),
        params.topic.as_ref().map_or(0, |(_, id)| *id),
        params.page
    )
}

/// A day, week or month with its neighbours, from the cache or the store.
pub(crate) async fn period_view(
    state: &AppState,
    spec: PeriodSpec,
    params: &FeedParams,
) -> Result<Arc<FeedView>, HttpError> {
    let key = cache_key(&spec.path(), params);
    let generation = state.generation();
    if let Some(view) = state.inner.feeds.get(&key, generation) {
        return Ok(view);
    }
    let now = Utc::now();
    let clock = match params.sort {
        SortChoice::Trending => latest_feed_day(state)
            .await?
            .map_or(now, |latest| trending_clock(latest, now)),
        _ => now,
    };
    let params_owned = params.clone();
    let view = state
        .inner
        .pool
        .run(move |store| {
            let params = params_owned;
            let query = FeedQuery {
                period: spec.0,
                sort: feed_sort(params.sort, clock),
                category: params.category.as_ref().map(Category::to_string),
                submitter: None,
                organization: None,
                offset: params.page * PAGE_SIZE,
                limit: PAGE_SIZE,
            };
            // A topic filter pages after filtering: the whole period is read.
            let (items, total) = if params.topic.is_some() {
                let everything = FeedQuery {
                    offset: 0,
                    limit: usize::MAX,
                    ..query
                };
                let (all, _) = store.feed(&everything)?;
                let kept: Vec<_> = all
                    .into_iter()
                    .filter(|item| params.admits(item.paper.key))
                    .collect();
                let total = kept.len();
                let page = kept
                    .into_iter()
                    .skip(params.page * PAGE_SIZE)
                    .take(PAGE_SIZE)
                    .collect();
                (page, total)
            } else {
                store.feed(&query)?
            };
            let (start, end) = spec.0.bounds().unwrap_or((NaiveDate::MIN, NaiveDate::MIN));
            let (previous, _) = store.neighbouring_feed_days(start)?;
            let (_, next) = store.neighbouring_feed_days(end - Days::days(1))?;
            let categories = store.feed_categories(start, end)?;
            // Moving between periods keeps the reader's sort and filter.
            let keep = kept_query(&params);
            let link = |day: NaiveDate| {
                let other = spec.same_kind_containing(day);
                NavLink {
                    label: other.label(),
                    href: format!("{}{keep}", other.path()),
                }
            };
            let related = match spec.0 {
                FeedPeriod::Day(day) => vec![
                    link_to(
                        PeriodSpec(FeedPeriod::containing_week(day)),
                        "This week",
                        &keep,
                    ),
                    link_to(
                        PeriodSpec(FeedPeriod::Month {
                            year: day.year(),
                            month: day.month(),
                        }),
                        "This month",
                        &keep,
                    ),
                ],
                _ => Vec::new(),
            };
            Ok(FeedView {
                heading: spec.label(),
                path: spec.path(),
                items: items
                    .into_iter()
                    .map(|item| ViewItem {
                        paper: item.paper,
                        trending: item.trending,
                    })
                    .collect(),
                total,
                page: params.page,
                page_size: PAGE_SIZE,
                previous: previous.map(link),
                next: next.map(link),
                related,
                categories,
                sort: params.sort,
                sortable: true,
                topic: params.topic_label(),
                category: params.category.map(String::from),
                feed_base: Some(format!("{}/feed.rss", spec.path())),
                explanation: None,
            })
        })
        .await?;
    let view = Arc::new(view);
    state
        .inner
        .feeds
        .put(key, generation, Duration::from_secs(60), view.clone());
    Ok(view)
}

fn link_to(spec: PeriodSpec, label: &str, keep: &str) -> NavLink {
    NavLink {
        label: label.to_owned(),
        href: format!("{}{keep}", spec.path()),
    }
}

/// `?sort=…&category=…` for links to other periods, or nothing when both are defaults.
fn kept_query(params: &FeedParams) -> String {
    let mut parts = Vec::new();
    if params.sort != SortChoice::Upvotes {
        parts.push(format!("sort={}", params.sort.as_str()));
    }
    if let Some(category) = &params.category {
        parts.push(format!("category={}", views::encode(category.as_str())));
    }
    if let Some((_, id)) = &params.topic {
        parts.push(format!("topic={id}"));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

fn feed_sort(sort: SortChoice, now: DateTime<Utc>) -> FeedSort {
    match sort {
        SortChoice::Upvotes => FeedSort::Upvotes,
        SortChoice::Trending => FeedSort::Trending { now },
        SortChoice::Newest => FeedSort::Newest,
    }
}

/// The moment trending scores are computed at: now, unless the feed stopped more than
/// [`TRENDING_DAYS`] ago (an archive), in which case the end of its last day, so the
/// page still ranks the last week that has papers.
pub(crate) fn trending_clock(latest: NaiveDate, now: DateTime<Utc>) -> DateTime<Utc> {
    let end_of_latest = (latest + Days::days(1)).and_time(NaiveTime::MIN).and_utc();
    if now - end_of_latest > Days::days(TRENDING_DAYS) {
        end_of_latest
    } else {
        now
    }
}

pub(crate) async fn trending_view(
    state: &AppState,
    params: &FeedParams,
) -> Result<Arc<FeedView>, HttpError> {
    let key = cache_key("trending", params);
    let generation = state.generation();
    if let Some(view) = state.inner.feeds.get(&key, generation) {
        return Ok(view);
    }
    let now = Utc::now();
    let latest = latest_feed_day(state)
        .await?
        .unwrap_or_else(|| now.date_naive());
    let params_owned = params.clone();
    let view = state
        .inner
        .pool
        .run(move |store| {
            let params = params_owned;
            let clock = trending_clock(latest, now);
            let start = latest - Days::days(TRENDING_DAYS - 1);
            let end = latest + Days::days(1);
            let category = params.category.as_ref().map(Category::as_str);
            let mut papers = store.feed_range(start, end, category)?;
            papers.retain(|paper| params.admits(paper.key));
            let categories = store.feed_categories(start, end)?;
            let items: Vec<ViewItem> = papers_store::rank_trending(papers, clock)
                .into_iter()
                .map(|item| ViewItem {
                    paper: item.paper,
                    trending: item.trending,
                })
                .collect();
            let total = items.len();
            let items = items
                .into_iter()
                .skip(params.page * PAGE_SIZE)
                .take(PAGE_SIZE)
                .collect();
            Ok(FeedView {
                heading: "Trending".to_owned(),
                path: "/papers/trending".to_owned(),
                items,
                total,
                page: params.page,
                page_size: PAGE_SIZE,
                previous: None,
                next: None,
                related: Vec::new(),
                categories,
                sort: SortChoice::Trending,
                sortable: false,
                topic: params.topic_label(),
                category: params.category.map(String::from),
                feed_base: Some("/papers/trending/feed.rss".to_owned()),
                explanation: Some(format!(
                    "Papers that entered the feed in the {TRENDING_DAYS} days up to {latest}, ranked by {} \
                     (upvotes are those imported from Hugging Face plus members' votes here; \
                     ages are measured at {}).",
                    papers_rank::trending::FORMULA,
                    clock.format("%Y-%m-%d %H:%M UTC"),
                )),
            })
        })
        .await?;
    let view = Arc::new(view);
    state
        .inner
        .feeds
        .put(key, generation, Duration::from_secs(60), view.clone());
    Ok(view)
}
