//! Following: `POST /follow` and `/follows/{id}/delete` (the Follow buttons),
//! `/following` (the newest papers of what a member follows, saved searches through the
//! search backend, topics through the topic map), `/authors/{name}` (an author's papers
//! and co-authors, the name matched ignoring case), and
//! `GET`/`POST /api/follows`, `DELETE /api/follows/{id}`.

use std::collections::HashMap;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Json, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{SecondsFormat, Utc};
use papers_core::Category;
use papers_store::{Follow, FollowKind, StoredPaper, same_author};
use papers_topics::{TopicId, TopicMap};
use serde::{Deserialize, Serialize};

use crate::csrf;
use crate::error::{HttpError, JsonErrors};
use crate::extract::{MemberForm, ReturnTo, login_redirect};
use crate::html::{html_response, private_json_of};
use crate::redirect::safe_next;
use crate::routes::feed::viewer;
use crate::routes::params::json_body;
use crate::routes::search::{SearchParams, run_search};
use crate::search::SearchMode;
use crate::session::{MaybeUser, SessionUser};
use crate::state::AppState;
use crate::views::{self, FollowedItem, ViewItem};

/// Papers `/following` shows, and papers an author page lists.
const SHOWN: usize = 50;
/// Follows a member may have.
const MAX_FOLLOWS: usize = 500;
const MAX_VALUE: usize = 200;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FollowForm {
    csrf: Option<String>,
    kind: String,
    value: String,
    back: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct UnfollowForm {
    csrf: Option<String>,
    back: Option<String>,
}

impl ReturnTo for FollowForm {
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }

    fn return_to(&self, _path: &str) -> String {
        safe_next(self.back.as_deref().unwrap_or("/following")).to_owned()
    }
}

impl ReturnTo for UnfollowForm {
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }

    fn return_to(&self, _path: &str) -> String {
        safe_next(self.back.as_deref().unwrap_or("/following")).to_owned()
    }
}

/// A follow's kind and value, checked: categories must be arXiv categories, topics
/// topics of the current map, queries fit the search box, names are one line.
fn checked(
    kind: &str,
    value: &str,
    topics: Option<&TopicMap>,
) -> Result<(FollowKind, String), HttpError> {
    let kind = FollowKind::parse(kind.trim()).ok_or_else(|| {
        HttpError::bad_request("kind must be author, organization, category, query or topic")
    })?;
    let value = value.trim();
    if value.is_empty() || value.chars().count() > MAX_VALUE || value.chars().any(char::is_control)
    {
        return Err(HttpError::bad_request(format!(
            "value needs 1 to {MAX_VALUE} characters on one line"
        )));
    }
    let value = match kind {
        FollowKind::Category => Category::parse(value)
            .map_err(|_| HttpError::bad_request("not an arXiv category"))?
            .to_string(),
        FollowKind::Topic => value
            .parse::<TopicId>()
            .ok()
            .filter(|id| topics.is_some_and(|map| map.topic(*id).is_some()))
            .ok_or_else(|| HttpError::bad_request("no such topic: see /topics for their ids"))?
            .to_string(),
        _ => value.to_owned(),
    };
    Ok((kind, value))
}

async fn follow(
    state: &AppState,
    member: &SessionUser,
    kind: &str,
    value: &str,
) -> Result<(Follow, bool), HttpError> {
    let (kind, value) = checked(kind, value, state.topic_map().as_deref())?;
    let user_id = member.session.user_id;
    state
        .inner
        .pool
        .run(move |store| {
            let follows = store.follows_of(user_id)?;
            if let Some(existing) = follows.iter().find(|f| f.kind == kind && f.value == value) {
                return Ok(Some((existing.clone(), false)));
            }
            if follows.len() >= MAX_FOLLOWS {
                return Ok(None);
            }
            store.follow(user_id, kind, &value, Utc::now()).map(Some)
        })
        .await?
        .ok_or_else(|| {
            HttpError::new(
                StatusCode::CONFLICT,
                format!("you follow {MAX_FOLLOWS} things already"),
            )
        })
}

async fn unfollow(state: &AppState, member: &SessionUser, id: &str) -> Result<(), HttpError> {
    let missing = || HttpError::not_found("no such follow");
    let follow_id: i64 = id.parse().map_err(|_| missing())?;
    let user_id = member.session.user_id;
    let removed = state
        .inner
        .pool
        .run(move |store| store.unfollow(user_id, follow_id))
        .await?;
    if removed { Ok(()) } else { Err(missing()) }
}

/// `POST /follow`.
pub(crate) async fn follow_form(
    State(state): State<AppState>,
    MemberForm { member, form }: MemberForm<FollowForm>,
) -> Result<Response, HttpError> {
    let back = form.return_to("");
    follow(&state, &member, &form.kind, &form.value).await?;
    Ok(Redirect::to(&back).into_response())
}

/// `POST /follows/{id}/delete`.
pub(crate) async fn unfollow_form(
    State(state): State<AppState>,
    Path(id): Path<String>,
    MemberForm { member, form }: MemberForm<UnfollowForm>,
) -> Result<Response, HttpError> {
    let back = form.return_to("");
    unfollow(&state, &member, &id).await?;
    Ok(Redirect::to(&back).into_response())
}

/// "author Ada Lovelace", "search quantum", "topic Graph neural networks": why a paper
/// is on `/following`.
fn because(follow: &Follow, topics: &HashMap<String, String>) -> String {
    let kind = match follow.kind {
        FollowKind::Query => "search",
        other => other.as_str(),
    };
    let value = topics
        .get(&follow.value)
        .filter(|_| follow.kind == FollowKind::Topic)
        .unwrap_or(&follow.value);
    format!("{kind} {value}")
}

/// The names of the followed topics the current map has, by id.
fn topic_names(map: Option<&TopicMap>, follows: &[Follow]) -> HashMap<String, String> {
    follows
        .iter()
        .filter(|f| f.kind == FollowKind::Topic)
        .filter_map(|f| {
            let topic = map?.topic(f.value.parse().ok()?)?;
            Some((f.value.clone(), topic.name.clone()))
        })
        .collect()
}

/// The newest papers of a followed topic (by first version's day), at most `limit`.
pub(crate) fn topic_newest(map: &TopicMap, value: &str, limit: usize) -> Vec<i64> {
    let Ok(id) = value.parse::<TopicId>() else {
        return Vec::new();
    };
    let mut members = map.members(id);
    members.sort_by(|a, b| b.published.cmp(&a.published).then(b.key.cmp(&a.key)));
    members.iter().take(limit).map(|m| m.key).collect()
}

/// `GET /following`: the newest papers of the member's authors, organisations and
/// categories from the store, of their topics from the topic map, and of their saved
/// searches from the search backend.
pub(crate) async fn page(
    State(state): State<AppState>,
    user: MaybeUser,
) -> Result<Response, HttpError> {
    let Some(member) = user.0.clone() else {
        return Ok(login_redirect("/following"));
    };
    let user_id = member.session.user_id;
    let (follows, found) = state
        .inner
        .pool
        .run(move |store| {
            Ok((
                store.follows_of(user_id)?,
                store.followed_papers(user_id, SHOWN)?,
            ))
        })
        .await?;
    let map = state.topic_map();
    let topics = topic_names(map.as_deref(), &follows);
    let mut papers: Vec<FollowedItem> = found
        .into_iter()
        .map(|(paper, by)| FollowedItem {
            item: ViewItem {
                paper,
                trending: None,
            },
            because: by.iter().map(|f| because(f, &topics)).collect(),
        })
        .collect();
    // Topics: their newest papers from the map, after the store's, each paper once.
    let mut topic_keys: Vec<(i64, &Follow)> = Vec::new();
    if let Some(map) = &map {
        for follow in follows.iter().filter(|f| f.kind == FollowKind::Topic) {
            for key in topic_newest(map, &follow.value, SHOWN) {
                topic_keys.push((key, follow));
            }
        }
    }
    let keys: Vec<i64> = topic_keys.iter().map(|(key, _)| *key).collect();
    let mut topic_papers = state
        .inner
        .pool
        .run(move |store| store.papers_by_keys(&keys))
        .await?;
    topic_papers.sort_by(StoredPaper::cmp_newest_first);
    for paper in topic_papers {
        let by = topic_keys
            .iter()
            .filter(|(key, _)| *key == paper.key)
            .map(|(_, follow)| because(follow, &topics));
        match papers.iter_mut().find(|p| p.item.paper.key == paper.key) {
            Some(existing) => existing.because.extend(by),
            None => papers.push(FollowedItem {
                because: by.collect(),
                item: ViewItem {
                    paper,
                    trending: None,
                },
            }),
        }
    }
    // Saved searches: their best hits, after the store's papers, each paper once.
    for follow in follows.iter().filter(|f| f.kind == FollowKind::Query) {
        let params = SearchParams {
            query: follow.value.clone(),
            mode: SearchMode::default(),
            category: None,
            topic: None,
        };
        let Ok((hits, _)) = run_search(&state, &params, 10).await else {
            continue;
        };
        for (item, _) in hits {
            match papers
                .iter_mut()
                .find(|p| p.item.paper.key == item.paper.key)
            {
                Some(existing) => existing.because.push(because(follow, &topics)),
                None => papers.push(FollowedItem {
                    item,
                    because: vec![because(follow, &topics)],
                }),
            }
        }
    }
    let viewer = viewer(&state, user).await?;
    Ok(html_response(
        views::following_page(&follows, &topics, &papers, &viewer, None),
        false,
    ))
}

/// `GET /authors/{name}`: the papers listing this name (ignoring case), and its
/// co-authors; 404 for a name no paper lists.
pub(crate) async fn author(
    State(state): State<AppState>,
    user: MaybeUser,
    Path(name): Path<String>,
) -> Result<Response, HttpError> {
    let name = name.trim().to_owned();
    if name.is_empty() || name.chars().count() > MAX_VALUE {
        return Err(HttpError::not_found("no such author"));
    }
    let user_id = user.0.as_ref().map(|member| member.session.user_id);
    let lookup = name.clone();
    let (papers, follows) = state
        .inner
        .pool
        .run(move |store| {
            let papers = store.papers_by_author(&lookup, SHOWN)?;
            let follows = match user_id {
                Some(id) => store.follows_of(id)?,
                None => Vec::new(),
            };
            Ok((papers, follows))
        })
        .await?;
    if papers.is_empty() {
        return Err(HttpError::not_found(format!("no papers by {name} here")));
    }
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for paper in &papers {
        for coauthor in &paper.paper.metadata.authors {
            if !same_author(coauthor, &name) {
                *counts.entry(coauthor.as_str()).or_default() += 1;
            }
        }
    }
    let mut coauthors: Vec<(String, usize)> = counts
        .into_iter()
        .map(|(coauthor, count)| (coauthor.to_owned(), count))
        .collect();
    coauthors.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    coauthors.truncate(30);
    let current = follows
        .iter()
        .find(|f| f.kind == FollowKind::Author && same_author(&f.value, &name))
        .cloned();
    let items: Vec<ViewItem> = papers
        .into_iter()
        .map(|paper| ViewItem {
            paper,
            trending: None,
        })
        .collect();
    let viewer = viewer(&state, user).await?;
    let cacheable = viewer.user.is_none();
    Ok(html_response(
        views::author_page(&name, &items, &coauthors, current.as_ref(), &viewer),
        cacheable,
    ))
}

/// A follow as the API shows it.
#[derive(Debug, Serialize)]
struct ApiFollow {
    id: i64,
    kind: &'static str,
    value: String,
    created: Option<String>,
}

impl ApiFollow {
    fn of(follow: &Follow) -> ApiFollow {
        ApiFollow {
            id: follow.id,
            kind: follow.kind.as_str(),
            value: follow.value.clone(),
            created: follow
                .created
                .map(|at| at.to_rfc3339_opts(SecondsFormat::Secs, true)),
        }
    }
}

/// `GET /api/follows`.
pub(crate) async fn api_list(
    State(state): State<AppState>,
    user: MaybeUser,
) -> Result<Response, HttpError> {
    async {
        let member = user.0.ok_or_else(HttpError::unauthorized)?;
        let user_id = member.session.user_id;
        let follows = state
            .inner
            .pool
            .run(move |store| store.follows_of(user_id))
            .await?;
        let listed: Vec<ApiFollow> = follows.iter().map(ApiFollow::of).collect();
        private_json_of(StatusCode::OK, &listed)
    }
    .await
    .json_errors()
}

#[derive(Debug, Deserialize)]
pub(crate) struct NewFollow {
    kind: String,
    value: String,
}

/// `POST /api/follows` `{"kind", "value"}`: 201 with the follow, 200 when it existed.
pub(crate) async fn api_create(
    State(state): State<AppState>,
    user: MaybeUser,
    headers: HeaderMap,
    body: Result<Json<NewFollow>, JsonRejection>,
) -> Result<Response, HttpError> {
    async {
        let member = user.0.ok_or_else(HttpError::unauthorized)?;
        csrf::check_session(&member, csrf::header_token(&headers))?;
        let request = json_body(body)?;
        let (made, new) = follow(&state, &member, &request.kind, &request.value).await?;
        let status = if new {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        };
        private_json_of(status, &ApiFollow::of(&made))
    }
    .await
    .json_errors()
}

/// `DELETE /api/follows/{id}`: 204.
pub(crate) async fn api_delete(
    State(state): State<AppState>,
    user: MaybeUser,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, HttpError> {
    async {
        let member = user.0.ok_or_else(HttpError::unauthorized)?;
        csrf::check_session(&member, csrf::header_token(&headers))?;
        unfollow(&state, &member, &id).await?;
        Ok(StatusCode::NO_CONTENT.into_response())
    }
    .await
    .json_errors()
}
