//! For you: `/for-you` (the member's ranking, server-rendered, and the categories they
//! pick for a cold start), `GET /api/for-you?limit=N`, and the private "more like this /
//! less like this" signal: `POST /feedback` (the forms on cards and the paper page) and
//! `POST`/`DELETE /api/papers/{id}/feedback`.
//!
//! The ranking is `papers_rank::recommend::for_you`, the digest's picks' rule too; this
//! module reads its inputs from the store: the recent papers (30 days up to the newest
//! paper, or now), the member's upvotes, saves and signals with their vectors, and a
//! fixed sample of other papers' vectors as the classifier's "not this".

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Json, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Duration as Days, NaiveDate, NaiveTime, Utc};
use papers_core::{ArxivId, Category};
use papers_rank::recommend::for_you::{self as rule, Candidate, Inputs, Liked, Reason, Signal};
use papers_store::{Store, StoreError, StoredPaper};
use serde::{Deserialize, Serialize};

use crate::api_model::{self, ApiPaper};
use crate::cache::{DataCache, SharedVectors};
use crate::csrf;
use crate::error::{HttpError, JsonErrors};
use crate::extract::{MemberForm, ReturnTo};
use crate::html::{html_response, private_json_of};
use crate::redirect::safe_next;
use crate::routes::feed::{hide_read, trending_clock, viewer};
use crate::routes::paper::load;
use crate::routes::params::json_body;
use crate::session::{MaybeUser, SessionUser};
use crate::state::AppState;
use crate::taxonomy::{CATEGORY_NAMES, category_name};
use crate::views::{self, ForYouItem, ForYouView, ViewItem};

/// Papers `/for-you` shows, and the API's default.
const SHOWN: usize = 30;
const MAX_LIMIT: usize = 100;
/// Other papers' vectors the classifier learns "not this" from.
const BACKGROUND: usize = 300;
/// Categories a member may pick.
const MAX_PICKED: usize = 20;

/// What the ranking was based on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Basis {
    /// The member's upvotes, saves and signals.
    Signal,
    /// No signal: the trending papers of the picked categories.
    Categories,
    /// Neither signal nor picked categories.
    None,
}

/// One member's ranking.
pub(crate) struct ForYou {
    pub basis: Basis,
    pub picked: Vec<String>,
    pub papers: Vec<Ranked>,
}

/// One ranked paper.
pub(crate) struct Ranked {
    pub paper: StoredPaper,
    pub reason: Reason,
    /// The reason as one line (the API's `reason`).
    pub text: String,
    /// The liked paper the reason names.
    pub liked: Option<StoredPaper>,
}

/// The model whose vectors rank: the node's embedder's, else the digest's.
fn embedding_model(state: &AppState) -> Option<String> {
    state
        .inner
        .node
        .as_ref()
        .and_then(|node| node.embedding_model())
        .or_else(|| {
            let digests = state.inner.digests.as_ref()?;
            Some(digests.settings().embedding_model.clone())
        })
}

/// The "not this" sample, drawn once per cache generation (see
/// [`Store::background_vectors`]): the same for every member, since it leaves out
/// only the window's candidates; each member's own signals are dropped from it after.
struct Background<'a> {
    cache: &'a DataCache<SharedVectors>,
    generation: u64,
}

impl Background<'_> {
    fn sample(
        &self,
        store: &Store,
        model: &str,
        window: (NaiveDate, NaiveDate),
        candidates: &HashSet<i64>,
    ) -> Result<SharedVectors, StoreError> {
        let key = format!("{model}|{}|{}", window.0, window.1);
        if let Some(sample) = self.cache.get(&key, self.generation) {
            return Ok(sample);
        }
        let sample = Arc::new(store.background_vectors(model, candidates, BACKGROUND)?);
        let ttl = std::time::Duration::from_secs(3600);
        self.cache
            .put(key, self.generation, ttl, Arc::clone(&sample));
        Ok(sample)
    }
}

/// Ranks for the member (see the module doc); blocking, inside the store pool.
fn rank(
    store: &Store,
    background: &Background<'_>,
    user_id: i64,
    model: Option<&str>,
    now: DateTime<Utc>,
    limit: usize,
) -> Result<ForYou, StoreError> {
    let params = rule::Params::default();
    // An archive (nothing new for weeks) ranks its own last month, as trending does.
    let newest = [store.latest_feed_day()?, store.latest_new_day(None)?]
        .into_iter()
        .flatten()
        .max();
    let clock = newest.map_or(now, |day| trending_clock(day, now));
    let end = clock.date_naive() + Days::days(1);
    let start = end - Days::days(params.window_days + 1);
    let recent = papers_store::rank_trending(store.papers_new_between(start, end)?, clock);

    let votes = store.voted_keys(user_id)?;
    let saved = store.saved_keys(user_id)?;
    let feedback = store.feedback_of(user_id)?;
    let picked = store.picked_categories(user_id)?;
    // One signal per paper; an explicit "less like this" overrides an upvote or a save.
    let mut signals: HashMap<i64, Signal> = HashMap::new();
    for (key, more) in &feedback {
        if *more {
            signals.insert(*key, Signal::More);
        }
    }
    for key in &votes {
        signals.insert(*key, Signal::Upvoted);
    }
    for key in &saved {
        signals.insert(*key, Signal::Saved);
    }
    let less: HashSet<i64> = feedback
        .iter()
        .filter(|(_, more)| !**more)
        .map(|(key, _)| *key)
        .collect();
    signals.retain(|key, _| !less.contains(key));

    let mut wanted: Vec<i64> = recent.iter().map(|item| item.paper.key).collect();
    wanted.extend(signals.keys());
    wanted.extend(&less);
    let (vectors, sample) = match model {
        Some(model) => {
            let candidates: HashSet<i64> = recent.iter().map(|item| item.paper.key).collect();
            (
                store.embeddings_of(model, &wanted)?,
                Some(background.sample(store, model, (start, end), &candidates)?),
            )
        }
        None => (HashMap::new(), None),
    };

    let mut liked_keys: Vec<i64> = signals.keys().copied().collect();
    liked_keys.sort_unstable();
    let liked: Vec<Liked<'_>> = liked_keys
        .iter()
        .filter_map(|key| {
            Some(Liked {
                key: *key,
                signal: *signals.get(key)?,
                vector: vectors.get(key)?,
            })
        })
        .collect();
    let mut less_keys: Vec<i64> = less.iter().copied().collect();
    less_keys.sort_unstable();
    let less_vectors: Vec<(i64, &[f32])> = less_keys
        .iter()
        .filter_map(|key| Some((*key, vectors.get(key)?.as_slice())))
        .collect();
    // In key order already; a paper the member likes is never "not this".
    let background: Vec<(i64, &[f32])> = sample
        .iter()
        .flat_map(|sample| sample.iter())
        .filter(|(key, _)| !signals.contains_key(key))
        .map(|(key, vector)| (*key, vector.as_slice()))
        .collect();
    let categories: Vec<Vec<String>> = recent
        .iter()
        .map(|item| {
            let metadata = &item.paper.paper.metadata;
            metadata
                .categories
                .iter()
                .map(|c| c.as_str().to_owned())
                .collect()
        })
        .collect();
    let candidates: Vec<Candidate<'_>> = recent
        .iter()
        .zip(&categories)
        .map(|(item, categories)| {
            let paper = &item.paper;
            let entered = paper
                .paper
                .community
                .feed_day
                .map(|day| day.and_time(NaiveTime::MIN).and_utc());
            Candidate {
                key: paper.key,
                vector: vectors.get(&paper.key).map(Vec::as_slice),
                categories,
                published: paper.paper.metadata.published.max(entered),
                trending: item.trending.unwrap_or(0.0),
            }
        })
        .collect();
    let inputs = Inputs {
        liked: &liked,
        less: &less_vectors,
        less_without_vectors: &less_keys,
        background: &background,
        picked: &picked,
        candidates: &candidates,
    };
    let ranked = rule::for_you(&inputs, clock, limit, &params);
    let basis = match ranked.first().map(|r| &r.reason) {
        Some(Reason::Close { .. }) => Basis::Signal,
        Some(Reason::Picked(_)) => Basis::Categories,
        None if !liked.is_empty() => Basis::Signal,
        None if !picked.is_empty() => Basis::Categories,
        None => Basis::None,
    };

    let by_key: HashMap<i64, &StoredPaper> = recent
        .iter()
        .map(|item| (item.paper.key, &item.paper))
        .collect();
    let named: Vec<i64> = ranked.iter().filter_map(|r| r.reason.liked()).collect();
    let liked_papers: HashMap<i64, StoredPaper> = store
        .papers_by_keys(&named)?
        .into_iter()
        .map(|paper| (paper.key, paper))
        .collect();
    let papers = ranked
        .iter()
        .filter_map(|r| {
            let paper = (*by_key.get(&r.key)?).clone();
            let liked = r.reason.liked().and_then(|key| liked_papers.get(&key));
            let title = liked.map_or("", |p| p.paper.metadata.title.as_str());
            Some(Ranked {
                paper,
                reason: r.reason.clone(),
                text: r.reason.text(title),
                liked: liked.cloned(),
            })
        })
        .collect();
    Ok(ForYou {
        basis,
        picked,
        papers,
    })
}

async fn rank_for(
    state: &AppState,
    member: &SessionUser,
    limit: usize,
) -> Result<ForYou, HttpError> {
    let user_id = member.session.user_id;
    let model = embedding_model(state);
    let (state, generation) = (state.clone(), state.generation());
    let pool = state.inner.pool.clone();
    Ok(pool
        .run(move |store| {
            let background = Background {
                cache: &state.inner.for_you_background,
                generation,
            };
            rank(
                store,
                &background,
                user_id,
                model.as_deref(),
                Utc::now(),
                limit,
            )
        })
        .await?)
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct PageParams {
    hide_read: Option<String>,
}

/// `GET /for-you` (`hide_read=1` leaves out the papers the member has read).
pub(crate) async fn page(
    State(state): State<AppState>,
    user: MaybeUser,
    Query(params): Query<PageParams>,
) -> Result<Response, HttpError> {
    let hide = hide_read(params.hide_read.as_deref())?;
    let Some(member) = user.0.clone() else {
        return Ok(Redirect::to("/login?next=%2Ffor-you").into_response());
    };
    let ranked = rank_for(&state, &member, SHOWN).await?;
    render(&state, user, ranked, None, hide).await
}

async fn render(
    state: &AppState,
    user: MaybeUser,
    ranked: ForYou,
    error: Option<&str>,
    hide_read: bool,
) -> Result<Response, HttpError> {
    let mut viewer = viewer(state, user).await?;
    viewer.hide_read = hide_read;
    let view = ForYouView {
        basis: ranked.basis,
        picked: ranked.picked,
        items: ranked
            .papers
            .into_iter()
            .map(|ranked| ForYouItem {
                item: ViewItem {
                    paper: ranked.paper,
                    trending: None,
                },
                reason: ranked.reason,
                liked: ranked
                    .liked
                    .map(|p| (p.paper.id.to_string(), p.paper.metadata.title)),
            })
            .collect(),
    };
    let mut response = html_response(views::for_you_page(&view, &viewer, error), false);
    if error.is_some() {
        *response.status_mut() = StatusCode::BAD_REQUEST;
    }
    Ok(response)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PickForm {
    csrf: Option<String>,
    /// Categories separated by spaces or commas; empty clears them.
    categories: Option<String>,
}

/// Whether `code` is an archive of arXiv's taxonomy (`cs`, `q-bio`): picking one picks
/// each of its categories.
fn is_archive(code: &str) -> bool {
    CATEGORY_NAMES
        .iter()
        .any(|(category, _)| category.split_once('.').map(|(archive, _)| archive) == Some(code))
}

/// The picked categories, checked: categories or archives of arXiv's taxonomy, at most
/// [`MAX_PICKED`].
fn checked_categories(text: &str) -> Result<Vec<String>, String> {
    let mut picked: Vec<String> = Vec::new();
    for part in text
        .split([' ', ',', '\n', '\r', '\t'])
        .filter(|p| !p.is_empty())
    {
        let category = Category::parse(part)
            .ok()
            .filter(|c| category_name(c.as_str()).is_some() || is_archive(c.as_str()))
            .ok_or_else(|| format!("“{part}” is not an arXiv category (e.g. cs.CL, or cs)"))?;
        let name = category.as_str().to_owned();
        if !picked.contains(&name) {
            picked.push(name);
        }
    }
    if picked.len() > MAX_PICKED {
        return Err(format!("pick at most {MAX_PICKED} categories"));
    }
    Ok(picked)
}

impl ReturnTo for PickForm {
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }

    fn return_to(&self, _path: &str) -> String {
        "/for-you".to_owned()
    }
}

/// `POST /for-you/categories`: the categories a cold start ranks.
pub(crate) async fn pick(
    State(state): State<AppState>,
    posted: MemberForm<PickForm>,
) -> Result<Response, HttpError> {
    let (user, MemberForm { member, form }) = (posted.user(), posted);
    let picked = match checked_categories(form.categories.as_deref().unwrap_or("")) {
        Ok(picked) => picked,
        Err(message) => {
            let ranked = rank_for(&state, &member, SHOWN).await?;
            return render(&state, user, ranked, Some(&message), false).await;
        }
    };
    let user_id = member.session.user_id;
    state
        .inner
        .pool
        .run(move |store| store.set_picked_categories(user_id, &picked))
        .await?;
    Ok(Redirect::to("/for-you").into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FeedbackForm {
    csrf: Option<String>,
    paper: String,
    /// `1` more like this, `0` less, empty or absent clears.
    more: Option<String>,
    back: Option<String>,
}

/// Sets (`Some`) or clears (`None`) the member's signal on a paper.
async fn set(
    state: &AppState,
    member: &SessionUser,
    id: ArxivId,
    more: Option<bool>,
) -> Result<(), HttpError> {
    let stored = load(state, id).await?;
    let (user_id, key) = (member.session.user_id, stored.key);
    state
        .inner
        .pool
        .run(move |store| match more {
            Some(more) => store.set_feedback(user_id, key, more, Utc::now()),
            None => store.clear_feedback(user_id, key).map(|_| ()),
        })
        .await?;
    Ok(())
}

impl ReturnTo for FeedbackForm {
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }

    /// The `back` field (a same-site path), else the paper's page.
    fn return_to(&self, _path: &str) -> String {
        let fallback = views::paper_path(&self.paper);
        safe_next(self.back.as_deref().unwrap_or(&fallback)).to_owned()
    }
}

/// `POST /feedback`: the More / Less like this buttons.
pub(crate) async fn form(
    State(state): State<AppState>,
    MemberForm { member, form }: MemberForm<FeedbackForm>,
) -> Result<Response, HttpError> {
    let back = form.return_to("");
    let id = ArxivId::parse(&form.paper).map_err(|_| HttpError::bad_request("not an arXiv id"))?;
    let more = match form.more.as_deref().unwrap_or("") {
        "1" => Some(true),
        "0" => Some(false),
        "" => None,
        _ => return Err(HttpError::bad_request("more must be 1, 0 or empty")),
    };
    set(&state, &member, id, more).await?;
    Ok(Redirect::to(&back).into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct NewFeedback {
    more: bool,
}

#[derive(Debug, Serialize)]
struct FeedbackState {
    id: String,
    more: Option<bool>,
}

/// `POST /api/papers/{id}/feedback` `{"more": bool}` (`body` given) and `DELETE`
/// (`body` `None`): 200 with the state after.
pub(crate) async fn api_feedback(
    state: &AppState,
    user: MaybeUser,
    headers: &HeaderMap,
    id: ArxivId,
    body: Option<Result<Json<NewFeedback>, JsonRejection>>,
) -> Result<Response, HttpError> {
    async {
        let member = user.0.ok_or_else(HttpError::unauthorized)?;
        csrf::check_session(&member, csrf::header_token(headers))?;
        let more = match body {
            Some(body) => Some(json_body(body)?.more),
            None => None,
        };
        let shown = id.to_string();
        set(state, &member, id, more).await?;
        private_json_of(StatusCode::OK, &FeedbackState { id: shown, more })
    }
    .await
    .json_errors()
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct RawLimit {
    limit: Option<String>,
}

#[derive(Debug, Serialize)]
struct ApiForYouPaper {
    #[serde(flatten)]
    paper: ApiPaper,
    reason: String,
}

#[derive(Debug, Serialize)]
struct ApiForYou {
    basis: Basis,
    picked: Vec<String>,
    papers: Vec<ApiForYouPaper>,
}

/// `GET /api/for-you?limit=N`.
pub(crate) async fn api(
    State(state): State<AppState>,
    user: MaybeUser,
    query: Result<Query<RawLimit>, QueryRejection>,
) -> Result<Response, HttpError> {
    async {
        let member = user.0.ok_or_else(HttpError::unauthorized)?;
        let Query(raw) =
            query.map_err(|rejection| HttpError::bad_request(rejection.body_text()))?;
        let limit = match raw.limit.as_deref() {
            None | Some("") => SHOWN,
            Some(text) => text
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| {
                    HttpError::bad_request(format!("limit must be between 1 and {MAX_LIMIT}"))
                })?,
        };
        let ranked = rank_for(&state, &member, limit).await?;
        let body = ApiForYou {
            basis: ranked.basis,
            picked: ranked.picked,
            papers: ranked
                .papers
                .iter()
                .map(|ranked| ApiForYouPaper {
                    paper: api_model::paper(&ranked.paper),
                    reason: ranked.text.clone(),
                })
                .collect(),
        };
        private_json_of(StatusCode::OK, &body)
    }
    .await
    .json_errors()
}
