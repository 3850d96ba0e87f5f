//! HTML rendering with maud: every interpolated value is escaped, so untrusted titles
//! and abstracts can never become markup. One module per kind of page.
//!
//! Views are the bottom layer of the site: they turn view models (the types here, the
//! store's papers and sessions) into markup, and import nothing of the site's own
//! above them (no state, sessions, caches or routes); the `html` module makes the
//! markup a response.

mod account;
mod admin;
mod feed;
mod layout;
mod markdown;
mod new;
mod paper;
mod search;
mod subscribe;
mod tokens;
mod topics;

use std::collections::HashSet;

use axum::http::StatusCode;
use maud::{Markup, html};
use papers_store::{Session, StoredPaper};

pub(crate) use account::{login_page, signup_page, submit_page};
pub(crate) use admin::admin_page;
pub(crate) use feed::feed_page;
pub(crate) use layout::page;
pub(crate) use markdown::paper_markdown;
pub(crate) use new::{NewView, new_page};
pub(crate) use paper::paper_page;
pub(crate) use search::{SearchPage, search_page};
pub(crate) use subscribe::{
    ManageLinks, SubscribeFields, check_inbox_page, manage_page, notice_page, preferences_page,
    saved_page, subscribe_form, subscribe_page, unsubscribe_confirm_page,
};
pub(crate) use tokens::tokens_page;
pub(crate) use topics::{TopicSummary, TopicView, TopicsView, topic_page, topics_page};

/// How a feed is ordered, as the `sort` parameter spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum SortChoice {
    #[default]
    Upvotes,
    Trending,
    Newest,
}

impl SortChoice {
    pub(crate) fn parse(text: Option<&str>) -> Option<SortChoice> {
        match text.unwrap_or("") {
            "" | "upvotes" => Some(SortChoice::Upvotes),
            "trending" => Some(SortChoice::Trending),
            "newest" => Some(SortChoice::Newest),
            _ => None,
        }
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            SortChoice::Upvotes => "upvotes",
            SortChoice::Trending => "trending",
            SortChoice::Newest => "newest",
        }
    }
}

/// A link with its label.
#[derive(Debug, Clone)]
pub(crate) struct NavLink {
    pub label: String,
    pub href: String,
}

/// One paper in a listing.
#[derive(Debug, Clone)]
pub(crate) struct ViewItem {
    pub paper: StoredPaper,
    pub trending: Option<f64>,
}

/// Everything a feed-like page shows except the reader's own state; cached and shared
/// between readers.
#[derive(Debug, Clone)]
pub(crate) struct FeedView {
    pub heading: String,
    /// The page's path without query, for sort/filter/page links.
    pub path: String,
    pub items: Vec<ViewItem>,
    pub total: usize,
    pub page: usize,
    pub page_size: usize,
    pub previous: Option<NavLink>,
    pub next: Option<NavLink>,
    /// Other views of the same period (day → its week and month).
    pub related: Vec<NavLink>,
    pub categories: Vec<(String, u64)>,
    pub sort: SortChoice,
    /// Whether the sort control is offered (not on the trending page).
    pub sortable: bool,
    pub category: Option<String>,
    /// The topic the page is narrowed to (`topic=`): its id and name.
    pub topic: Option<(u32, String)>,
    /// Path of the RSS feed; the Atom feed is beside it.
    pub feed_base: Option<String>,
    pub explanation: Option<String>,
}

/// The reader: who is logged in (with their CSRF token) and what they upvoted.
#[derive(Debug, Clone, Default)]
pub(crate) struct Viewer {
    pub user: Option<Session>,
    pub votes: HashSet<i64>,
}

impl Viewer {
    pub(crate) fn anonymous() -> Viewer {
        Viewer::default()
    }

    pub(crate) fn csrf(&self) -> Option<&str> {
        self.user
            .as_ref()
            .map(|session| session.csrf_token.as_str())
    }
}

/// The page for an error: its status and a message safe to show.
pub(crate) fn error_page(status: StatusCode, message: &str) -> Markup {
    let title = status.canonical_reason().unwrap_or("Error");
    page(
        title,
        &Viewer::anonymous(),
        html! {
            section.notice {
                h1 { (status.as_u16()) " · " (title) }
                p { (message) }
                p { a href="/papers" { "Back to today's papers" } }
            }
        },
    )
}

/// Cuts `text` to at most `max` characters at a word boundary, adding an ellipsis.
pub(crate) fn shorten(text: &str, max: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        return flat;
    }
    let cut: String = flat.chars().take(max).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head);
    format!("{cut}…")
}

/// A paper's title on one line (arXiv titles carry hard line breaks).
pub(crate) fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The page path of a paper; old-style ids keep their slash.
pub(crate) fn paper_path(id: &str) -> String {
    format!("/papers/{id}")
}

/// `url` when it is an absolute http or https URL: only those become links or images
/// (a stored `javascript:` or `data:` URL is shown as nothing).
pub(crate) fn web_url(url: Option<&str>) -> Option<&str> {
    let url = url?.trim();
    let scheme = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    (scheme.starts_with("https://") || scheme.starts_with("http://")).then_some(url)
}

/// Percent-encodes a query parameter value.
pub(crate) fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
