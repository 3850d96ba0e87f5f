//! A submitter's page (`/users/{name}`) and an organisation's (`/organizations/{name}`):
//! the feed papers they brought, newest feed day first.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::response::Response;
use papers_store::ListingOwner;

use crate::error::HttpError;
use crate::routes::feed::{PAGE_SIZE, RawFeedParams, render};
use crate::session::MaybeUser;
use crate::state::AppState;
use crate::views::{FeedView, SortChoice, ViewItem, encode};

pub(crate) async fn user(
    State(state): State<AppState>,
    user: MaybeUser,
    Path(name): Path<String>,
    Query(raw): Query<RawFeedParams>,
) -> Result<Response, HttpError> {
    let hide = raw.hide_read()?;
    let view = listing(&state, Owner::Submitter, name, raw).await?;
    render(&state, &view, user, hide).await
}

pub(crate) async fn organization(
    State(state): State<AppState>,
    user: MaybeUser,
    Path(name): Path<String>,
    Query(raw): Query<RawFeedParams>,
) -> Result<Response, HttpError> {
    let hide = raw.hide_read()?;
    let view = listing(&state, Owner::Organization, name, raw).await?;
    render(&state, &view, user, hide).await
}

#[derive(Debug, Clone, Copy)]
enum Owner {
    Submitter,
    Organization,
}

async fn listing(
    state: &AppState,
    owner: Owner,
    name: String,
    raw: RawFeedParams,
) -> Result<Arc<FeedView>, HttpError> {
    // Deleted members have no page: their submissions are no one's listing.
    if name.is_empty() || name.len() > 100 || name == papers_store::DELETED_MEMBER {
        return Err(HttpError::not_found("no such name"));
    }
    let params = raw.parse()?;
    let (segment, heading) = match owner {
        Owner::Submitter => ("users", format!("Papers submitted by {name}")),
        Owner::Organization => ("organizations", format!("Papers from {name}")),
    };
    let path = format!("/{segment}/{}", encode(&name));
    let key = format!("{path}|{}", params.page);
    let generation = state.generation();
    if let Some(view) = state.inner.feeds.get(&key, generation) {
        return Ok(view);
    }
    let page = params.page;
    let lookup = name.clone();
    let (papers, total) = state
        .inner
        .pool
        .run(move |store| {
            let who = match owner {
                Owner::Submitter => ListingOwner::Submitter(&lookup),
                Owner::Organization => ListingOwner::Organization(&lookup),
            };
            store.community_papers(&who, page * PAGE_SIZE, PAGE_SIZE)
        })
        .await?;
    if total == 0 {
        return Err(HttpError::not_found(format!("no papers for {name}")));
    }
    let view = Arc::new(FeedView {
        heading,
        path,
        items: papers
            .into_iter()
            .map(|paper| ViewItem {
                paper,
                trending: None,
            })
            .collect(),
        total,
        page,
        page_size: PAGE_SIZE,
        previous: None,
        next: None,
        related: Vec::new(),
        categories: Vec::new(),
        sort: SortChoice::Upvotes,
        sortable: false,
        category: None,
        topic: None,
        feed_base: None,
        explanation: None,
    });
    state
        .inner
        .feeds
        .put(key, generation, Duration::from_secs(60), view.clone());
    Ok(view)
}
