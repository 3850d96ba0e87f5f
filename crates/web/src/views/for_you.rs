//! For you: the member's ranked papers with a reason each, the category picker for a
//! cold start, and the "More like this / Less like this" forms on cards and paper pages
//! (plain forms, no JavaScript needed).

use maud::{Markup, html};
use papers_rank::recommend::for_you::Reason;

use super::feed::paper_card;
use super::{ViewItem, Viewer, encode, one_line, page, paper_path};
use crate::routes::for_you::Basis;

/// One ranked paper.
#[derive(Debug, Clone)]
pub(crate) struct ForYouItem {
    pub item: ViewItem,
    pub reason: Reason,
    /// The liked paper a `Close` reason names: its id and title.
    pub liked: Option<(String, String)>,
}

#[derive(Debug, Clone)]
pub(crate) struct ForYouView {
    pub basis: Basis,
    pub picked: Vec<String>,
    pub items: Vec<ForYouItem>,
}

/// The member's private signal on a paper: two buttons, the current one pressed (and
/// pressing it again clears it).
pub(crate) fn feedback_buttons(key: i64, id: &str, viewer: &Viewer, back: &str) -> Markup {
    let current = viewer.feedback.get(&key).copied();
    html! {
        @if let Some(csrf) = viewer.csrf() {
            form.feedback method="post" action="/feedback" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="paper" value=(id);
                input type="hidden" name="back" value=(back);
                @if current == Some(true) {
                    button.link.pressed type="submit" name="more" value="" aria-pressed="true" title="Clear: you asked for more like this" { "+ More like this ✓" }
                } @else {
                    button.link type="submit" name="more" value="1" aria-pressed="false" title="Only you see this; For you ranks by it" { "+ More like this" }
                }
                " "
                @if current == Some(false) {
                    button.link.pressed type="submit" name="more" value="" aria-pressed="true" title="Clear: you asked for less like this" { "− Less like this ✓" }
                } @else {
                    button.link type="submit" name="more" value="0" aria-pressed="false" title="Only you see this; For you ranks by it" { "− Less like this" }
                }
            }
        }
    }
}

/// The reason under a card; the liked paper it names is a link.
fn reason(entry: &ForYouItem) -> Markup {
    html! {
        p.reason {
            @match (&entry.reason, &entry.liked) {
                (Reason::Close { signal, .. }, Some((id, title))) => {
                    "Close to " em { a href=(paper_path(id)) { (one_line(title)) } } ", " (signal.phrase())
                },
                (Reason::Close { signal, .. }, None) => { "Close to a paper " (signal.phrase()) },
                (Reason::Picked(category), _) => {
                    "In " a href={ "/new/" (encode(category)) } { (category) } ", which you picked"
                },
            }
        }
    }
}

pub(crate) fn for_you_page(view: &ForYouView, viewer: &Viewer, error: Option<&str>) -> Markup {
    let back = "/for-you";
    page(
        "For you",
        viewer,
        html! {
            section.for-you {
                h1 { "For you" }
                @if let Some(error) = error { p.error role="alert" { (error) } }
                @match view.basis {
                    Basis::Signal => p.explain { "Recent papers ranked by what you upvoted, saved and asked more (or less) of. Only you see this page and your More / Less like this." },
                    Basis::Categories => p.explain { "You have not upvoted, saved or rated a paper yet, so these are the trending recent papers of the categories you picked." },
                    Basis::None => p.empty { "Nothing to rank for you yet. Upvote or save papers, or use “More like this” / “Less like this” on any paper; until then, pick a few categories below and this page shows their trending papers." },
                }
                @if view.items.is_empty() && view.basis != Basis::None {
                    p.empty { "No recent papers to show yet." }
                }
                @if !view.items.is_empty() {
                    p.controls {
                        @if viewer.hide_read { a href="/for-you" { "Show read papers" } }
                        @else { a href="/for-you?hide_read=1" { "Hide read papers" } }
                    }
                }
                ol.papers {
                    @for entry in view.items.iter().filter(|e| viewer.shows(e.item.paper.key)) {
                        li {
                            (paper_card(&entry.item, viewer, back))
                            (reason(entry))
                        }
                    }
                }
                @if let Some(csrf) = viewer.csrf() {
                    form #pick-categories.controls method="post" action="/for-you/categories" {
                        input type="hidden" name="csrf" value=(csrf);
                        label {
                            "Your categories (for when you have no upvotes, saves or ratings yet) "
                            input #categories type="text" name="categories" value=(view.picked.join(" ")) placeholder="cs.CL cs.LG stat.ML" maxlength="400";
                        }
                        button type="submit" { "Save categories" }
                    }
                }
            }
        },
    )
}
