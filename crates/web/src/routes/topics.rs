//! The topic pages (`/topics`, `/topics/{id}` with RSS and Atom) and their JSON
//! (`/api/topics`, `/api/topics/{id}`), over the topic map the binary builds (see
//! `papers_topics`). Without a map the pages say how to build one and the API
//! answers 503.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::Response;
use chrono::{DateTime, Duration as Days, NaiveDate, Utc};
use papers_store::StoredPaper;
use papers_topics::{Growth, Topic, TopicId, TopicMap};
use serde::Serialize;

use crate::api_model::{self, ApiPaper, ApiTopicRef};
use crate::error::{HttpError, JsonErrors};
use crate::feeds::FeedDoc;
use crate::html::html_response;
use crate::routes::feed::{latest_feed_day, trending_clock, viewer};
use crate::routes::feeds::{Format, entry, finish};
use crate::session::MaybeUser;
use crate::state::AppState;
use crate::views::{self, NavLink, TopicSummary, TopicView, TopicsView, ViewItem};

/// Papers per list on a topic page.
const LISTED: usize = 10;
/// Rising topics shown on `/topics`.
const RISING: usize = 8;
/// Entries in a topic's feed.
const FEED_ENTRIES: usize = 50;

const NO_MAP: &str = "no topic map yet: run `papers topics` (papers need vectors: `papers index`)";

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

fn summary(topic: &Topic, growth: &HashMap<TopicId, Growth>) -> TopicSummary {
    let growth = growth.get(&topic.id);
    TopicSummary {
        id: topic.id,
        name: topic.name.clone(),
        size: topic.size,
        recent: growth.map_or(0, |g| g.recent),
        baseline: growth.map_or(0.0, |g| g.baseline),
        growth: growth.map_or(0.0, |g| g.growth),
        position: topic.position,
    }
}

fn growth_by_id(map: &TopicMap, today: NaiveDate) -> HashMap<TopicId, Growth> {
    map.growth(today)
        .into_iter()
        .map(|g| (g.topic, g))
        .collect()
}

/// `/topics`: the map, rising topics and the list.
pub(crate) async fn index(
    State(state): State<AppState>,
    user: MaybeUser,
) -> Result<Response, HttpError> {
    let view = state.topic_map().map(|map| {
        let today = today();
        let growth = growth_by_id(&map, today);
        TopicsView {
            topics: map.broad().map(|t| summary(t, &growth)).collect(),
            rising: map
                .rising(today, RISING)
                .iter()
                .filter_map(|g| map.topic(g.topic))
                .map(|t| summary(t, &growth))
                .collect(),
            growth_until: map.growth_reference(today),
            papers: map.papers.len(),
        }
    });
    let viewer = viewer(&state, user).await?;
    let cacheable = viewer.user.is_none();
    Ok(html_response(
        views::topics_page(view.as_ref(), &viewer),
        cacheable,
    ))
}

/// The map and the topic an id names: 404 for what is no topic id or no topic of
/// the map, 503 without a map.
fn find(state: &AppState, raw: &str) -> Result<(Arc<TopicMap>, TopicId), HttpError> {
    let id = raw
        .parse::<TopicId>()
        .map_err(|_| HttpError::not_found("no such topic: topic ids are numbers"))?;
    let map = state
        .topic_map()
        .ok_or_else(|| HttpError::unavailable(NO_MAP))?;
    map.topic(id)
        .ok_or_else(|| HttpError::not_found("no such topic"))?;
    Ok((map, id))
}

/// The papers of a topic from the store, most typical first.
async fn member_papers(
    state: &AppState,
    map: &TopicMap,
    id: TopicId,
) -> Result<Vec<StoredPaper>, HttpError> {
    let keys: Vec<i64> = map.members(id).iter().map(|m| m.key).collect();
    Ok(state
        .inner
        .pool
        .run(move |store| {
            let mut papers = Vec::with_capacity(keys.len());
            for chunk in keys.chunks(5_000) {
                papers.extend(store.papers_by_keys(chunk)?);
            }
            Ok(papers)
        })
        .await?)
}

fn items(papers: impl IntoIterator<Item = StoredPaper>) -> Vec<ViewItem> {
    papers
        .into_iter()
        .map(|paper| ViewItem {
            paper,
            trending: None,
        })
        .collect()
}

/// The topic's papers in the feed over the days up to the latest feed day.
fn in_feed(papers: &[StoredPaper], latest: NaiveDate, days: i64) -> Vec<StoredPaper> {
    let start = latest - Days::days(days - 1);
    papers
        .iter()
        .filter(|p| {
            p.paper
                .community
                .feed_day
                .is_some_and(|d| d >= start && d <= latest)
        })
        .cloned()
        .collect()
}

/// Most upvoted first; among equals, the most typical (the members' order).
fn by_upvotes(papers: &[StoredPaper]) -> Vec<StoredPaper> {
    let mut sorted: Vec<StoredPaper> = papers.to_vec();
    sorted.sort_by_key(|p| std::cmp::Reverse(p.upvotes()));
    sorted.truncate(LISTED);
    sorted
}

fn newest(papers: &[StoredPaper], count: usize) -> Vec<StoredPaper> {
    let mut sorted: Vec<StoredPaper> = papers.to_vec();
    sorted.sort_by(StoredPaper::cmp_newest_first);
    sorted.truncate(count);
    sorted
}

/// `/topics/{id}`.
pub(crate) async fn show(
    State(state): State<AppState>,
    user: MaybeUser,
    Path(raw): Path<String>,
) -> Result<Response, HttpError> {
    let (map, id) = find(&state, &raw)?;
    let topic = map
        .topic(id)
        .ok_or_else(|| HttpError::not_found("no such topic"))?;
    let papers = member_papers(&state, &map, id).await?;
    let now = Utc::now();
    let latest = latest_feed_day(&state).await?.unwrap_or(now.date_naive());
    let clock: DateTime<Utc> = trending_clock(latest, now);
    let growth = growth_by_id(&map, now.date_naive());
    let trending_week: Vec<ViewItem> =
        papers_store::rank_trending(in_feed(&papers, latest, 7), clock)
            .into_iter()
            .take(LISTED)
            .map(|item| ViewItem {
                paper: item.paper,
                trending: item.trending,
            })
            .collect();
    let view = TopicView {
        topic: summary(topic, &growth),
        terms: topic.terms.clone(),
        parent: topic.parent.and_then(|p| map.topic(p)).map(|p| NavLink {
            label: p.name.clone(),
            href: format!("/topics/{}", p.id),
        }),
        representative: papers
            .iter()
            .find(|p| p.key == topic.representative)
            .cloned()
            .map(|paper| ViewItem {
                paper,
                trending: None,
            }),
        trending_week,
        top_month: items(by_upvotes(&in_feed(&papers, latest, 30))),
        top: items(by_upvotes(&papers)),
        newest: items(newest(&papers, LISTED)),
        monthly: map.monthly(id),
        subtopics: map.children(id).map(|t| summary(t, &growth)).collect(),
        neighbours: map
            .neighbours(id, 6)
            .into_iter()
            .map(|(t, _)| summary(t, &growth))
            .collect(),
        following: None,
    };
    let mut view = view;
    if let Some(member) = &user.0 {
        let user_id = member.session.user_id;
        let value = id.to_string();
        view.following = state
            .inner
            .pool
            .run(move |store| store.follows_of(user_id))
            .await?
            .into_iter()
            .find(|f| f.kind == papers_store::FollowKind::Topic && f.value == value);
    }
    let viewer = viewer(&state, user).await?;
    let cacheable = viewer.user.is_none();
    Ok(html_response(views::topic_page(&view, &viewer), cacheable))
}

/// `/topics/{id}/feed.rss` and `.atom`: the topic's newest papers.
pub(crate) async fn feed(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    format: Format,
) -> Result<Response, HttpError> {
    let (map, id) = find(&state, &raw)?;
    let topic = map
        .topic(id)
        .ok_or_else(|| HttpError::not_found("no such topic"))?;
    let papers = newest(&member_papers(&state, &map, id).await?, FEED_ENTRIES);
    let base = &state.config().public_url;
    let entries: Vec<_> = papers.iter().map(|p| entry(base, p)).collect();
    let doc = FeedDoc {
        title: format!("Daily Papers: topic “{}”", topic.name),
        link: format!("{base}/topics/{id}"),
        self_url: format!("{base}/topics/{id}/{}", format.file()),
        description: format!("The newest papers on {}.", topic.terms.join(", ")),
        updated: entries
            .iter()
            .map(|e| e.updated)
            .max()
            .unwrap_or(DateTime::UNIX_EPOCH),
        entries,
    };
    finish(&doc, format)
}

/// A topic in the JSON API.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ApiTopic {
    pub id: TopicId,
    pub name: String,
    pub terms: Vec<String>,
    pub size: usize,
    pub parent: Option<TopicId>,
    /// arXiv id of the paper nearest the topic's centre.
    pub representative: Option<String>,
    pub growth: ApiGrowth,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ApiGrowth {
    /// Papers in the four weeks up to `until` (exclusive).
    pub recent: usize,
    /// Papers per four weeks in the year before.
    pub baseline: f64,
    /// `(recent + 1) / (baseline + 1) - 1`.
    pub growth: f64,
    pub until: NaiveDate,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ApiTopicDetail {
    #[serde(flatten)]
    pub topic: ApiTopic,
    pub subtopics: Vec<ApiTopic>,
    pub neighbours: Vec<TopicId>,
    pub top_papers: Vec<ApiPaper>,
    pub monthly: Vec<ApiMonth>,
}

#[derive(Debug, Serialize)]
pub(crate) struct ApiMonth {
    /// `YYYY-MM`.
    pub month: String,
    pub papers: usize,
}

fn api_topic(
    topic: &Topic,
    growth: &HashMap<TopicId, Growth>,
    until: NaiveDate,
    ids: &HashMap<i64, String>,
) -> ApiTopic {
    let g = growth.get(&topic.id);
    ApiTopic {
        id: topic.id,
        name: topic.name.clone(),
        terms: topic.terms.clone(),
        size: topic.size,
        parent: topic.parent,
        representative: ids.get(&topic.representative).cloned(),
        growth: ApiGrowth {
            recent: g.map_or(0, |g| g.recent),
            baseline: g.map_or(0.0, |g| g.baseline),
            growth: g.map_or(0.0, |g| g.growth),
            until,
        },
    }
}

/// arXiv ids of the representatives of `topics`.
async fn representative_ids(
    state: &AppState,
    topics: &[&Topic],
) -> Result<HashMap<i64, String>, HttpError> {
    let keys: Vec<i64> = topics.iter().map(|t| t.representative).collect();
    let papers = state
        .inner
        .pool
        .run(move |store| store.papers_by_keys(&keys))
        .await?;
    Ok(papers
        .into_iter()
        .map(|p| (p.key, p.paper.id.to_string()))
        .collect())
}

/// `GET /api/topics`: every topic, broad ones first.
pub(crate) async fn api_list(State(state): State<AppState>) -> Result<Response, HttpError> {
    async {
        let map = state
            .topic_map()
            .ok_or_else(|| HttpError::unavailable(NO_MAP))?;
        let today = today();
        let growth = growth_by_id(&map, today);
        let until = map.growth_reference(today);
        let all: Vec<&Topic> = map.topics.iter().collect();
        let ids = representative_ids(&state, &all).await?;
        let topics: Vec<ApiTopic> = all
            .iter()
            .map(|t| api_topic(t, &growth, until, &ids))
            .collect();
        crate::routes::api::json(&topics, true)
    }
    .await
    .json_errors()
}

/// `GET /api/topics/{id}`: one topic with its subtopics, neighbours, top papers and
/// papers per month.
pub(crate) async fn api_get(
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> Result<Response, HttpError> {
    async {
        let (map, id) = find(&state, &raw)?;
        let topic = map
            .topic(id)
            .ok_or_else(|| HttpError::not_found("no such topic"))?;
        let today = today();
        let growth = growth_by_id(&map, today);
        let until = map.growth_reference(today);
        let children: Vec<&Topic> = map.children(id).collect();
        let mut wanted = children.clone();
        wanted.push(topic);
        let ids = representative_ids(&state, &wanted).await?;
        let papers = member_papers(&state, &map, id).await?;
        let detail = ApiTopicDetail {
            topic: api_topic(topic, &growth, until, &ids),
            subtopics: children
                .iter()
                .map(|t| api_topic(t, &growth, until, &ids))
                .collect(),
            neighbours: map.neighbours(id, 6).iter().map(|(t, _)| t.id).collect(),
            top_papers: by_upvotes(&papers).iter().map(api_model::paper).collect(),
            monthly: map
                .monthly(id)
                .into_iter()
                .map(|(month, papers)| ApiMonth {
                    month: month.format("%Y-%m").to_string(),
                    papers,
                })
                .collect(),
        };
        crate::routes::api::json(&detail, true)
    }
    .await
    .json_errors()
}

/// The topics of a paper, broad first: what its page and its JSON name.
pub(crate) fn paper_topics(state: &AppState, key: i64) -> Vec<ApiTopicRef> {
    let Some(map) = state.topic_map() else {
        return Vec::new();
    };
    let Some(membership) = map.topics_of(key) else {
        return Vec::new();
    };
    std::iter::once(membership.topic)
        .chain(membership.subtopic)
        .filter_map(|id| map.topic(id))
        .map(|t| ApiTopicRef {
            id: t.id,
            name: t.name.clone(),
            parent: t.parent,
        })
        .collect()
}

/// `topic=` as sent: a topic id of the current map, or 404 when it names none; empty is none.
pub(crate) fn topic_param(
    state: &AppState,
    text: Option<&str>,
) -> Result<Option<(Arc<TopicMap>, TopicId)>, HttpError> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(raw) => {
            let map = state.topic_map();
            let id = raw
                .parse::<TopicId>()
                .map_err(|_| HttpError::bad_request("topic must be a topic id"))?;
            match map {
                Some(map) if map.topic(id).is_some() => Ok(Some((map, id))),
                _ => Err(HttpError::not_found("no such topic")),
            }
        }
    }
}
