//! The search page: the form, results with highlighted snippets, and the states a
//! search can end in (no query, no good matches, no index).

use maud::{Markup, html};
use papers_store::FollowKind;

use super::feed::paper_card;
use super::follows::follow_button;
use super::{ViewItem, Viewer, encode, page};
use crate::search::{SearchMode, Snippet};

pub(crate) struct SearchPage {
    pub query: String,
    pub mode: SearchMode,
    pub category: Option<String>,
    /// The topic the search is narrowed to (`topic=`): its id and name.
    pub topic: Option<(u32, String)>,
    /// `None` before a query is entered.
    pub results: Option<Vec<(ViewItem, Option<Snippet>)>>,
    /// How the backend ran the search, when the reader should know.
    pub note: Option<String>,
    /// Why there are no results, when it is not "no good matches".
    pub problem: Option<String>,
}

pub(crate) fn search_page(search: &SearchPage, viewer: &Viewer) -> Markup {
    let title = if search.query.is_empty() {
        "Search".to_owned()
    } else {
        format!("{} – search", search.query)
    };
    let back = format!(
        "/search?q={}{}",
        encode(&search.query),
        if viewer.hide_read { "&hide_read=1" } else { "" }
    );
    let mut feed_query = format!(
        "q={}&mode={}",
        encode(&search.query),
        search.mode.reader_name()
    );
    if let Some((id, _)) = &search.topic {
        feed_query.push_str(&format!("&topic={id}"));
    }
    page(
        &title,
        viewer,
        html! {
            section.search {
                h1 { "Search" }
                form.search-form method="get" action="/search" role="search" {
                    input #q type="search" name="q" value=(search.query) maxlength="250"
                        placeholder="e.g. retrieval augmented generation, author:Wang, \"exact phrase\"";
                    select name="mode" {
                        @for mode in SearchMode::ALL {
                            option value=(mode.reader_name()) selected[mode == search.mode] { (mode.reader_name()) }
                        }
                    }
                    input type="text" name="category" value=(search.category.as_deref().unwrap_or("")) placeholder="category, e.g. cs.CL" size="10" maxlength="32";
                    @if let Some((id, _)) = &search.topic {
                        input type="hidden" name="topic" value=(id);
                    }
                    @if viewer.user.is_some() {
                        label.hide-read { input #hide-read type="checkbox" name="hide_read" value="1" checked[viewer.hide_read]; " Hide read" }
                    }
                    button type="submit" { "Search" }
                }
                @if let Some((id, name)) = &search.topic {
                    p.topic-filter {
                        "In the topic " a href={ "/topics/" (id) } { (name) } " · "
                        a href={ "/search?q=" (encode(&search.query)) } { "all topics" }
                    }
                }
                @if let Some(problem) = &search.problem { p.error role="alert" { (problem) } }
                @if let Some(note) = &search.note { p.explanation { (note) } }
                @if let Some(results) = &search.results {
                    p.feeds {
                        "Follow this search: "
                        a href={ "/search/feed.rss?" (feed_query) } { "RSS" } " · "
                        a href={ "/search/feed.atom?" (feed_query) } { "Atom" }
                        @if !search.query.is_empty() {
                            " " (follow_button(FollowKind::Query, &search.query, None, viewer, &back))
                        }
                    }
                    @if results.is_empty() {
                        p.empty #no-matches { "No good matches. Try fewer or different words, or the lexical mode for exact terms." }
                    } @else {
                        ol.papers.results {
                            @for (item, snippet) in results.iter().filter(|(item, _)| viewer.shows(item.paper.key)) {
                                li {
                                    (paper_card(item, viewer, &back))
                                    @if let Some(snippet) = snippet { p.snippet { (highlighted(snippet)) } }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
}

/// Escaped snippet text with the matched ranges in `<mark>`. Ranges that are out of
/// bounds or not on character boundaries are skipped rather than trusted.
fn highlighted(snippet: &Snippet) -> Markup {
    let text = snippet.text.as_str();
    let mut pieces: Vec<(bool, &str)> = Vec::new();
    let mut at = 0;
    for &(start, end) in &snippet.highlights {
        if start < at
            || end <= start
            || end > text.len()
            || !text.is_char_boundary(start)
            || !text.is_char_boundary(end)
        {
            continue;
        }
        pieces.push((false, &text[at..start]));
        pieces.push((true, &text[start..end]));
        at = end;
    }
    pieces.push((false, &text[at..]));
    html! {
        @for (marked, piece) in pieces {
            @if marked { mark { (piece) } } @else { (piece) }
        }
    }
}
