//! The "New on arXiv" pages: a day of newly stored papers, its neighbours, and for a
//! member a one-click form that sends a paper to today's daily feed.

use chrono::NaiveDate;
use maud::{Markup, html};
use papers_store::StoredPaper;

use super::feed::paper_card;
use super::{ViewItem, Viewer, encode, page, paper_path};
use crate::taxonomy::category_name;

/// One page of one day of new papers, as every reader sees it.
#[derive(Debug, Clone)]
pub(crate) struct NewView {
    /// `/new` or `/new/{category}`.
    pub path: String,
    pub category: Option<String>,
    /// `None` when the store has no dated papers (in the category).
    pub day: Option<NaiveDate>,
    pub papers: Vec<StoredPaper>,
    pub total: usize,
    pub page: usize,
    pub page_size: usize,
    pub previous_day: Option<NaiveDate>,
    pub next_day: Option<NaiveDate>,
}

impl NewView {
    pub(crate) fn empty(path: String, category: Option<String>) -> NewView {
        NewView {
            path,
            category,
            day: None,
            papers: Vec::new(),
            total: 0,
            page: 0,
            page_size: 1,
            previous_day: None,
            next_day: None,
        }
    }

    pub(crate) fn heading(&self) -> String {
        let mut heading = "New on arXiv".to_owned();
        if let Some(category) = &self.category {
            heading.push_str(&format!(" in {category}"));
            if let Some(name) = category_name(category) {
                heading.push_str(&format!(" ({name})"));
            }
        }
        if let Some(day) = self.day {
            heading.push_str(&format!(", {}", day.format("%A %-d %B %Y")));
        }
        heading
    }

    fn link(&self, day: NaiveDate, page: usize) -> String {
        let mut link = format!("{}?day={day}", self.path);
        if page > 0 {
            link.push_str(&format!("&p={page}"));
        }
        link
    }
}

pub(crate) fn new_page(view: &NewView, viewer: &Viewer) -> Markup {
    let back = match view.day {
        Some(day) => view.link(day, view.page),
        None => view.path.clone(),
    };
    page(
        &view.heading(),
        viewer,
        html! {
            section.feed-head {
                nav.pager aria-label="days" {
                    @if let Some(day) = view.previous_day {
                        a.prev rel="prev" href=(view.link(day, 0)) { "← " (day) }
                    }
                    h1 { (view.heading()) }
                    @if let Some(day) = view.next_day {
                        a.next rel="next" href=(view.link(day, 0)) { (day) " →" }
                    }
                }
                p.explanation {
                    "Every paper this site harvested, by the day its first version appeared. "
                    "The daily feed is what members send there"
                    @if viewer.user.is_some() { ": use “Add to today's feed” below" }
                    "."
                }
                form.controls method="get" action="/new" {
                    label { "Category "
                        input type="text" name="category" placeholder="cs.CL" value=(view.category.as_deref().unwrap_or("")) size="10";
                    }
                    button type="submit" { "Show" }
                    span.feeds {
                        a href={ (view.path) "/feed.rss" } { "RSS" } " "
                        a href={ (view.path) "/feed.atom" } { "Atom" }
                    }
                }
            }
            @if view.papers.is_empty() {
                p.empty { "No new papers here yet." }
            }
            ol.papers start=(view.page * view.page_size + 1) {
                @for paper in &view.papers {
                    li {
                        (paper_card(&ViewItem { paper: paper.clone(), trending: None }, viewer, &back))
                        (to_feed(paper, viewer))
                    }
                }
            }
            (pages(view))
        },
    )
}

/// For a member: the paper's feed day if it has one, else the form that submits it to
/// today's feed (the submit route checks the CSRF token and records the submitter).
fn to_feed(stored: &StoredPaper, viewer: &Viewer) -> Markup {
    let id = stored.paper.id.as_str();
    html! {
        @if let Some(day) = stored.paper.community.feed_day {
            p.in-feed { "In the daily feed of " a href={ "/papers/date/" (day) } { (day) } }
        } @else if let Some(csrf) = viewer.csrf() {
            form.to-feed method="post" action="/submit" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="reference" value=(id);
                button type="submit" title={ "Submit " (id) " to today's daily feed" } { "Add to today's feed" }
            }
        } @else {
            p.in-feed { a href={ "/login?next=" (encode(&paper_path(id))) } { "Log in" } " to add it to the daily feed" }
        }
    }
}

fn pages(view: &NewView) -> Markup {
    let count = view.total.div_ceil(view.page_size.max(1));
    html! {
        @if let (Some(day), true) = (view.day, count > 1) {
            nav.pages aria-label="pages" {
                @if view.page > 0 { a rel="prev" href=(view.link(day, view.page - 1)) { "← Previous page" } }
                span { "Page " (view.page + 1) " of " (count) " · " (view.total) " papers" }
                @if view.page + 1 < count { a rel="next" href=(view.link(day, view.page + 1)) { "Next page →" } }
            }
        }
    }
}
