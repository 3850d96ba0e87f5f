//! "New on arXiv": `/new` and `/new/{category}`, every stored paper by the day its
//! first version appeared, paged, with RSS and Atom beside each; a member sends one
//! to today's daily feed with the submit form (one click, CSRF-checked there).

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use papers_core::Category;
use serde::Deserialize;

use crate::error::HttpError;
use crate::html::html_response;
use crate::routes::feed::viewer;
use crate::routes::feeds::{Format, entry, finish};
use crate::routes::params;
use crate::session::MaybeUser;
use crate::state::AppState;
use crate::views::{self, NewView};

pub(crate) const PAGE_SIZE: usize = 50;

/// `?day=YYYY-MM-DD&p=N` as sent.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct RawNewParams {
    day: Option<String>,
    p: Option<String>,
    /// The category box of `/new`: answered by a redirect to `/new/{category}`.
    category: Option<String>,
}

struct NewParams {
    day: Option<NaiveDate>,
    page: usize,
}

impl RawNewParams {
    fn parse(&self) -> Result<NewParams, HttpError> {
        let day = match self.day.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) => Some(
                text.parse()
                    .map_err(|_| HttpError::bad_request("day must be YYYY-MM-DD"))?,
            ),
        };
        let page = params::page(self.p.as_deref(), 10_000)
            .ok_or_else(|| HttpError::bad_request("p must be a page number"))?;
        Ok(NewParams { day, page })
    }
}

fn category(text: &str) -> Result<Category, HttpError> {
    Category::parse(text).map_err(|_| HttpError::not_found("not an arXiv category"))
}

pub(crate) async fn all(
    State(state): State<AppState>,
    user: MaybeUser,
    Query(raw): Query<RawNewParams>,
) -> Result<Response, HttpError> {
    if let Some(category) = params::category(raw.category.as_deref())? {
        let to = format!("/new/{}", views::encode(category.as_str()));
        return Ok(Redirect::to(&to).into_response());
    }
    let view = new_view(&state, None, &raw.parse()?).await?;
    let viewer = viewer(&state, user).await?;
    let cacheable = viewer.user.is_none();
    Ok(html_response(views::new_page(&view, &viewer), cacheable))
}

pub(crate) async fn in_category(
    State(state): State<AppState>,
    user: MaybeUser,
    Path(text): Path<String>,
    Query(raw): Query<RawNewParams>,
) -> Result<Response, HttpError> {
    let category = category(&text)?;
    let view = new_view(&state, Some(category), &raw.parse()?).await?;
    let viewer = viewer(&state, user).await?;
    let cacheable = viewer.user.is_none();
    Ok(html_response(views::new_page(&view, &viewer), cacheable))
}

pub(crate) async fn all_feed(
    State(state): State<AppState>,
    Query(raw): Query<RawNewParams>,
    format: Format,
) -> Result<Response, HttpError> {
    let view = new_view(&state, None, &raw.parse()?).await?;
    respond(&state, &view, format)
}

pub(crate) async fn category_feed(
    State(state): State<AppState>,
    Path(text): Path<String>,
    Query(raw): Query<RawNewParams>,
    format: Format,
) -> Result<Response, HttpError> {
    let view = new_view(&state, Some(category(&text)?), &raw.parse()?).await?;
    respond(&state, &view, format)
}

/// The day asked for (else the latest with papers) in `category`, one page of it.
async fn new_view(
    state: &AppState,
    category: Option<Category>,
    params: &NewParams,
) -> Result<NewView, HttpError> {
    let (asked, page) = (params.day, params.page);
    state
        .inner
        .pool
        .run(move |store| {
            let filter = category.as_ref().map(Category::as_str);
            let day = match asked {
                Some(day) => Some(day),
                None => store.latest_new_day(filter)?,
            };
            let path = match &category {
                Some(category) => format!("/new/{category}"),
                None => "/new".to_owned(),
            };
            let Some(day) = day else {
                return Ok(NewView::empty(path, category.map(String::from)));
            };
            let found = store.new_papers(day, filter, page * PAGE_SIZE, PAGE_SIZE)?;
            Ok(NewView {
                path,
                category: category.map(String::from),
                day: Some(day),
                papers: found.papers,
                total: found.total,
                page,
                page_size: PAGE_SIZE,
                previous_day: found.previous_day,
                next_day: found.next_day,
            })
        })
        .await
        .map_err(HttpError::from)
}

fn respond(state: &AppState, view: &NewView, format: Format) -> Result<Response, HttpError> {
    let base = &state.config().public_url;
    let heading = view.heading();
    let entries: Vec<_> = view.papers.iter().map(|paper| entry(base, paper)).collect();
    let updated = entries
        .iter()
        .map(|e| e.updated)
        .max()
        .unwrap_or(chrono::DateTime::UNIX_EPOCH);
    let doc = crate::feeds::FeedDoc {
        title: format!("Daily Papers: {heading}"),
        link: format!("{base}{}", view.path),
        self_url: format!("{base}{}/{}", view.path, format.file()),
        description: format!("Papers new on arXiv: {heading}."),
        updated,
        entries,
    };
    finish(&doc, format)
}
