//! The paper page, `/papers/{id}` (old-style ids keep their slash:
//! `/papers/hep-th/9901001`), the paper as Markdown at `/papers/{id}.md`, and the
//! similar-papers lookup the page shares with the API.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use papers_core::{ArxivId, VersionedId};
use papers_store::{Comment, StoredPaper};

use crate::cache::Cacheable;
use crate::error::HttpError;
use crate::html::html_response;
use crate::routes::comments::threads_of;
use crate::routes::feed::viewer;
use crate::routes::similar::{Conditions, RawConditions, items_from, other_keys, similar_items};
use crate::session::{MaybeUser, SessionUser};
use crate::state::AppState;
use crate::views::{self, PaperCommunity, ViewItem};

/// How many similar papers a paper page lists.
const SIMILAR_ON_PAGE: usize = 6;

pub(crate) async fn show(
    State(state): State<AppState>,
    user: MaybeUser,
    Path(raw): Path<String>,
    Query(conditions): Query<RawConditions>,
) -> Result<Response, HttpError> {
    // `/papers/{*id}` catches `/papers/hep-th/9901001.md` too; no id ends in `.md`.
    if let Some(id) = raw.strip_suffix(".md") {
        return markdown(&state, id).await;
    }
    if let Some(id) = raw.strip_suffix("/comments.atom") {
        let id = ArxivId::parse(id).map_err(|_| HttpError::not_found("not an arXiv id"))?;
        let stored = load(&state, id).await?;
        return crate::routes::comments::atom(&state, stored).await;
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
    let plain = conditions.is_blank();
    let reads = page_reads(&state, id, plain).await?;
    let stored = reads.stored;
    let conditions = conditions.parse(&state).await?;
    let similar = match reads.kept_similar {
        Some(candidates) if conditions.is_empty() => Some(items_from(
            &stored,
            &conditions,
            candidates,
            SIMILAR_ON_PAGE,
        )),
        _ => similar_items(&state, &stored, &conditions, SIMILAR_ON_PAGE).await?,
    };
    let topics: Vec<views::NavLink> = crate::routes::topics::paper_topics(&state, stored.key)
        .into_iter()
        .map(|topic| views::NavLink {
            label: topic.name,
            href: format!("/topics/{}", topic.id),
        })
        .collect();
    let refine = refine_links(&stored, &conditions, &topics, similar.as_deref());
    let community = community(&state, &stored, &reads.comments, user.0.as_ref()).await?;
    let viewer = viewer(&state, user).await?;
    let cacheable = viewer.user.is_none();
    Ok(html_response(
        views::paper_page(
            &stored,
            similar.as_deref(),
            &topics,
            &refine,
            &viewer,
            &community,
        ),
        cacheable,
    ))
}

/// What a paper page reads from the store, in one go.
struct PageReads {
    stored: StoredPaper,
    /// The papers of the kept similar-paper list, best first, when the page asked
    /// for the plain list and the backend had it at hand.
    kept_similar: Option<Vec<StoredPaper>>,
    comments: Vec<Comment>,
}

/// The paper `id` (or 404), its kept similar papers (when `plain`) and its comments,
/// read together ([`Store::read_together`]): on SQLite the locks are taken once for
/// the page, not once per statement, and the page shows one state of the store.
///
/// [`Store::read_together`]: papers_store::Store::read_together
async fn page_reads(state: &AppState, id: ArxivId, plain: bool) -> Result<PageReads, HttpError> {
    let shown = id.to_string();
    let backend = state.inner.search.clone().filter(|_| plain);
    let reads = state
        .inner
        .pool
        .run_quick(move |store| {
            store.read_together(|store| {
                let Some(stored) = store.paper(&id)? else {
                    return Ok(None);
                };
                let kept = backend
                    .as_deref()
                    .and_then(|backend| backend.similar_cached(stored.key, SIMILAR_ON_PAGE));
                let kept_similar = match kept {
                    Some(hits) => match store.papers_by_keys(&other_keys(&hits, stored.key)) {
                        Ok(papers) => Some(papers),
                        // The page is still worth showing; `similar_items` tries again.
                        Err(error) => {
                            tracing::warn!(%error, "loading similar papers failed");
                            None
                        }
                    },
                    None => None,
                };
                let comments = store.comments_of(stored.key)?;
                Ok(Some(PageReads {
                    stored,
                    kept_similar,
                    comments,
                }))
            })
        })
        .await?;
    reads.ok_or_else(|| not_stored(&shown))
}

/// The discussion and, for a member, their collections and reading state. Opening the
/// page marks the paper read for them.
async fn community(
    state: &AppState,
    stored: &StoredPaper,
    comments: &[Comment],
    member: Option<&SessionUser>,
) -> Result<PaperCommunity, HttpError> {
    let (threads, moderator) = threads_of(state, comments, member).await?;
    let mut community = PaperCommunity {
        threads,
        moderator,
        ..PaperCommunity::default()
    };
    let Some(member) = member else {
        return Ok(community);
    };
    let (user_id, key) = (member.session.user_id, stored.key);
    let (collections, containing) = state
        .inner
        .pool
        .run(move |store| {
            store.mark_read(user_id, key, Utc::now())?;
            Ok((
                store.collections_of(user_id)?,
                store.collections_holding(user_id, key)?,
            ))
        })
        .await?;
    community.collections = collections;
    community.containing = containing;
    community.read = true;
    Ok(community)
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

/// The 404 for a paper id the store does not hold.
fn not_stored(shown: &str) -> HttpError {
    HttpError::not_found(format!("no paper {shown} here; submit it at /submit"))
}

/// A paper by id, or 404.
pub(crate) async fn load(state: &AppState, id: ArxivId) -> Result<StoredPaper, HttpError> {
    let shown = id.to_string();
    state
        .inner
        .pool
        .run_quick(move |store| store.paper(&id))
        .await?
        .ok_or_else(|| not_stored(&shown))
}

/// The narrowing the paper page offers for its similar papers: each condition that
/// would change the list, "less like" its first few, and the way back.
fn refine_links(
    stored: &StoredPaper,
    conditions: &Conditions,
    topics: &[views::NavLink],
    similar: Option<&[ViewItem]>,
) -> Vec<views::NavLink> {
    let path = views::paper_path(stored.paper.id.as_str());
    let link = |label: String, query: String| views::NavLink {
        label,
        href: format!("{path}?{query}#similar"),
    };
    let mut links = Vec::new();
    if !conditions.is_empty() {
        links.push(views::NavLink {
            label: "All similar papers".to_owned(),
            href: format!("{path}#similar"),
        });
        return links;
    }
    let metadata = &stored.paper.metadata;
    if let Some(published) = metadata.published {
        links.push(link(
            "Newer only".to_owned(),
            format!("after={}", published.date_naive()),
        ));
    }
    if let Some(primary) = metadata.primary_category() {
        links.push(link(
            format!("In {}", primary.as_str()),
            format!("category={}", views::encode(primary.as_str())),
        ));
    }
    if let Some(topic) = topics.first() {
        let id = topic.href.trim_start_matches("/topics/");
        links.push(link(format!("In “{}”", topic.label), format!("topic={id}")));
    }
    links.push(link(
        "Not by these authors".to_owned(),
        "exclude_authors=1".to_owned(),
    ));
    links.push(link("With code".to_owned(), "has_code=1".to_owned()));
    for item in similar.unwrap_or_default().iter().take(3) {
        let other = item.paper.paper.id.as_str();
        links.push(link(
            format!(
                "Less like “{}”",
                views::shorten(&item.paper.paper.metadata.title, 40)
            ),
            format!("minus={other}"),
        ));
    }
    links
}
