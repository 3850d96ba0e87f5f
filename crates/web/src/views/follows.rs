//! Following: the Follow control, a member's `/following` page (what they follow and
//! the newest papers it brings, each with why), and author pages.

use std::collections::HashMap;

use maud::{Markup, html};
use papers_store::{Follow, FollowKind};

use super::feed::paper_card;
use super::{ViewItem, Viewer, encode, encode_into, page};

/// One paper on `/following`, with the follows that brought it.
#[derive(Debug, Clone)]
pub(crate) struct FollowedItem {
    pub item: ViewItem,
    pub because: Vec<String>,
}

/// The path of an author's page.
pub(crate) fn author_path(name: &str) -> String {
    const PREFIX: &str = "/authors/";
    let mut path = String::with_capacity(PREFIX.len() + name.len() + 8);
    path.push_str(PREFIX);
    encode_into(&mut path, name);
    path
}

/// "Follow" or "Unfollow" for one thing, as a form (no JavaScript needed).
pub(crate) fn follow_button(
    kind: FollowKind,
    value: &str,
    current: Option<&Follow>,
    viewer: &Viewer,
    back: &str,
) -> Markup {
    html! {
        @if let Some(csrf) = viewer.csrf() {
            @match current {
                Some(follow) => form.follow.inline method="post" action={ "/follows/" (follow.id) "/delete" } {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name="back" value=(back);
                    button.following type="submit" { "Following ✓ (unfollow)" }
                },
                None => form.follow.inline method="post" action="/follow" {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name="kind" value=(kind.as_str());
                    input type="hidden" name="value" value=(value);
                    input type="hidden" name="back" value=(back);
                    button type="submit" { "Follow " (kind.as_str()) }
                },
            }
        }
    }
}

/// A followed thing as a link; `topics` names followed topics by id (a topic the
/// current map lacks shows its id).
fn describe(follow: &Follow, topics: &HashMap<String, String>) -> Markup {
    html! {
        @match follow.kind {
            FollowKind::Author => { "author " a href=(author_path(&follow.value)) { (follow.value) } },
            FollowKind::Organization => { "organization " a href={ "/organizations/" (encode(&follow.value)) } { (follow.value) } },
            FollowKind::Category => { "category " a href={ "/new/" (encode(&follow.value)) } { (follow.value) } },
            FollowKind::Query => { "search " a href={ "/search?q=" (encode(&follow.value)) } { (follow.value) } },
            FollowKind::Topic => { "topic " a href={ "/topics/" (encode(&follow.value)) } {
                (topics.get(&follow.value).map_or(follow.value.as_str(), String::as_str))
            } },
        }
    }
}

pub(crate) fn following_page(
    follows: &[Follow],
    topics: &HashMap<String, String>,
    papers: &[FollowedItem],
    viewer: &Viewer,
    error: Option<&str>,
) -> Markup {
    page(
        "Following",
        viewer,
        html! {
            section.following {
                h1 { "Following" }
                @if let Some(error) = error { p.error role="alert" { (error) } }
                @if follows.is_empty() {
                    p.empty { "You follow nothing yet. Follow an author from their page, a search from its results, or anything below." }
                }
                ul.follow-list {
                    @for follow in follows {
                        li { (describe(follow, topics)) " " (follow_button(follow.kind, &follow.value, Some(follow), viewer, "/following")) }
                    }
                }
                @if let Some(csrf) = viewer.csrf() {
                    form #follow-form.controls method="post" action="/follow" {
                        input type="hidden" name="csrf" value=(csrf);
                        input type="hidden" name="back" value="/following";
                        label { "Follow "
                            select name="kind" {
                                @for kind in FollowKind::ALL { option value=(kind.as_str()) { (kind.as_str()) } }
                            }
                        }
                        input #follow-value type="text" name="value" required maxlength="200" placeholder="a name, cs.CL, a search, or a topic's number";
                        button type="submit" { "Follow" }
                    }
                }
                h2 { "New papers from what you follow" }
                @if papers.is_empty() && !follows.is_empty() { p.empty { "Nothing yet." } }
                ol.papers {
                    @for entry in papers {
                        li {
                            (paper_card(&entry.item, viewer, "/following"))
                            p.because { "Because you follow " (entry.because.join(", ")) }
                        }
                    }
                }
            }
        },
    )
}

pub(crate) fn author_page(
    name: &str,
    papers: &[ViewItem],
    coauthors: &[(String, usize)],
    current: Option<&Follow>,
    viewer: &Viewer,
) -> Markup {
    let back = author_path(name);
    page(
        name,
        viewer,
        html! {
            section.author {
                h1 { (name) }
                p.author-meta {
                    (papers.len()) " paper" @if papers.len() != 1 { "s" } " here. "
                    (follow_button(FollowKind::Author, name, current, viewer, &back))
                }
                @if !coauthors.is_empty() {
                    h2 { "Co-authors" }
                    p.coauthors {
                        @for (index, (coauthor, count)) in coauthors.iter().enumerate() {
                            @if index > 0 { ", " }
                            a href=(author_path(coauthor)) { (coauthor) } " (" (count) ")"
                        }
                    }
                }
                h2 { "Papers" }
                @if papers.is_empty() { p.empty { "No papers by this name here." } }
                ol.papers {
                    @for item in papers { li { (paper_card(item, viewer, &back)) } }
                }
            }
        },
    )
}
