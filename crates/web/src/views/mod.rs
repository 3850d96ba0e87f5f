//! HTML rendering with maud: every interpolated value is escaped, so untrusted titles
//! and abstracts can never become markup. One module per kind of page.
//!
//! Views are the bottom layer of the site: they turn view models (the types here, the
//! store's papers and sessions) into markup, and import nothing of the site's own
//! above them (no state, sessions, caches or routes); the `html` module makes the
//! markup a response.

mod account;
mod account_mail;
mod account_settings;
mod admin;
mod collections;
mod comments;
mod feed;
mod follows;
mod for_you;
mod layout;
mod markdown;
mod member;
mod new;
mod paper;
mod rich_text;
mod search;
mod subscribe;
mod tokens;
mod topics;

use std::collections::{HashMap, HashSet};

use axum::http::StatusCode;
use maud::{Markup, html};
use papers_store::{Session, StoredPaper};

pub(crate) use account::{check_email_page, login_page, signup_page, submit_page};
pub(crate) use account_mail::{AccountMail, account_mail};
pub(crate) use account_settings::{
    AccountView, Flash, account_notice_page, account_page, reset_form_page, reset_request_page,
    sessions_page,
};
pub(crate) use admin::admin_page;
pub(crate) use collections::{
    MAX_DESCRIPTION, MAX_NOTE, MAX_TITLE, collection_page, collection_path, collections_page,
};
pub(crate) use comments::{
    MAX_COMMENT, Thread, edit_comment_page, moderation_page, shown, threads,
};
pub(crate) use feed::feed_page;
pub(crate) use follows::{FollowedItem, author_page, following_page};
pub(crate) use for_you::{ForYouItem, ForYouView, feedback_buttons, for_you_page};
pub(crate) use layout::page;
pub(crate) use markdown::paper_markdown;
pub(crate) use member::{CommunitySummary, community_section};
pub(crate) use new::{NewView, new_page};
pub(crate) use paper::{PaperCommunity, bibtex, paper_page};
pub(crate) use rich_text::render as render_markdown;
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

/// The reader: who is logged in (with their CSRF token), what they upvoted, saved in
/// a collection and read.
#[derive(Debug, Clone, Default)]
pub(crate) struct Viewer {
    pub user: Option<Session>,
    pub votes: HashSet<i64>,
    pub saved: HashSet<i64>,
    pub read: HashSet<i64>,
    /// The member's private More (true) / Less (false) like this, by paper.
    pub feedback: HashMap<i64, bool>,
    /// The member asked for read papers to be left out (`hide_read=1`).
    pub hide_read: bool,
}

impl Viewer {
    pub(crate) fn anonymous() -> Viewer {
        Viewer::default()
    }

    /// Whether a listing shows `key` to this reader.
    pub(crate) fn shows(&self, key: i64) -> bool {
        !(self.hide_read && self.read.contains(&key))
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

/// Cuts `text` to at most `max` characters at a word boundary, adding an ellipsis;
/// runs of whitespace (arXiv's hard line breaks) become one space. Reads no further
/// than the cut: feed cards show 320 characters of abstracts that run to thousands.
pub(crate) fn shorten(text: &str, max: usize) -> String {
    let mut flat = String::with_capacity(max.min(text.len()) + 4);
    let mut length = 0;
    for word in text.split_whitespace() {
        let words = word.chars().count();
        let needed = if flat.is_empty() { words } else { words + 1 };
        if length + needed > max {
            if flat.is_empty() {
                // One word longer than the whole budget: cut inside it.
                flat.extend(word.chars().take(max));
            }
            flat.push('…');
            return flat;
        }
        if !flat.is_empty() {
            flat.push(' ');
        }
        flat.push_str(word);
        length += needed;
    }
    flat
}

/// A paper's title on one line (arXiv titles carry hard line breaks).
pub(crate) fn one_line(text: &str) -> String {
    let mut line = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    line
}

/// The page path of a paper; old-style ids keep their slash.
pub(crate) fn paper_path(id: &str) -> String {
    // Not `format!`: a paper page builds a few dozen paths, and the formatting
    // machinery cost more than the copying.
    ["/papers/", id].concat()
}

/// A stored URL (from imported data, Hugging Face or a member) as a link or image
/// target: only an `http` or `https` URL, in the form the browser will read it, becomes
/// a link. Anything else (`javascript:`, `data:`, a relative path) is shown as text or
/// not at all by the caller, so no imported value can run script even without the
/// content security policy.
pub(crate) fn web_url(stored: &str) -> Option<String> {
    let parsed = url::Url::parse(stored.trim()).ok()?;
    matches!(parsed.scheme(), "http" | "https").then(|| parsed.to_string())
}

/// A submitter as a link to their page, or "a deleted member" (no page, no name).
pub(crate) fn submitter(name: &str) -> Markup {
    html! {
        @if name == papers_store::DELETED_MEMBER {
            span.deleted-member { "a deleted member" }
        } @else {
            a href={ "/users/" (encode(name)) } { (name) }
        }
    }
}

/// Percent-encodes a query parameter value.
pub(crate) fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    encode_into(&mut out, text);
    out
}

/// [`encode`] onto the end of `out`. Each escaped byte is written as three
/// characters, not formatted: author links on a paper page escape every space of
/// every name.
pub(crate) fn encode_into(out: &mut String, text: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{encode, shorten};

    #[test]
    fn encode_escapes_all_but_unreserved_bytes() {
        assert_eq!(encode("Ada Lovelace"), "Ada%20Lovelace");
        assert_eq!(encode("a-b_c.d~e"), "a-b_c.d~e");
        assert_eq!(encode("É/?&=#%"), "%C3%89%2F%3F%26%3D%23%25");
        assert_eq!(encode(""), "");
    }

    #[test]
    fn shorten_keeps_short_text_on_one_line() {
        assert_eq!(
            shorten("  Attention\n  is all\tyou need ", 40),
            "Attention is all you need"
        );
        assert_eq!(shorten("", 10), "");
    }

    #[test]
    fn shorten_cuts_at_a_word_boundary_within_the_budget() {
        let text = "Large language\nmodels can reason about papers";
        assert_eq!(shorten(text, 20), "Large language…");
        assert_eq!(shorten(text, 14), "Large language…");
        assert_eq!(shorten(text, 13), "Large…");
        // Characters, not bytes.
        assert_eq!(shorten("été à Zürich chez nous", 12), "été à Zürich…");
    }

    #[test]
    fn shorten_cuts_inside_a_word_longer_than_the_budget() {
        assert_eq!(shorten("Pneumonoultramicroscopic words", 6), "Pneumo…");
    }
}
