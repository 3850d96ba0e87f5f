//! Feed pages (a day, week, month, trending, a submitter or organisation) and the
//! paper card they share with search results.

use maud::{Markup, html};

use super::collections::save_button;
use super::follows::author_path;
use super::{
    FeedView, SortChoice, ViewItem, Viewer, encode, one_line, page, paper_path, shorten, submitter,
    web_url,
};
use crate::taxonomy::category_name;

pub(crate) fn feed_page(view: &FeedView, viewer: &Viewer) -> Markup {
    let back = current_link(view, view.page, viewer.hide_read);
    page(
        &view.heading,
        viewer,
        html! {
            section.feed-head {
                nav.pager aria-label="periods" {
                    @if let Some(previous) = &view.previous {
                        a.prev rel="prev" href=(previous.href) { "← " (previous.label) }
                    }
                    h1 { (view.heading) }
                    @if let Some(next) = &view.next {
                        a.next rel="next" href=(next.href) { (next.label) " →" }
                    }
                }
                @if !view.related.is_empty() {
                    p.related {
                        @for link in &view.related { a href=(link.href) { (link.label) } " " }
                    }
                }
                @if let Some(text) = &view.explanation { p.explanation { (text) } }
                @if let Some((id, name)) = &view.topic {
                    p.topic-filter {
                        "In the topic " a href={ "/topics/" (id) } { (name) } " · "
                        a href=(view.path) { "all topics" }
                    }
                }
                (controls(view, viewer))
            }
            @if view.items.is_empty() {
                p.empty { "No papers here." }
            }
            ol.papers start=(view.page * view.page_size + 1) {
                @for item in view.items.iter().filter(|item| viewer.shows(item.paper.key)) {
                    li { (paper_card(item, viewer, &back)) }
                }
            }
            (pages(view, viewer.hide_read))
        },
    )
}

fn controls(view: &FeedView, viewer: &Viewer) -> Markup {
    html! {
        form.controls method="get" action=(view.path) {
            @if let Some((id, _)) = &view.topic {
                input type="hidden" name="topic" value=(id);
            }
            @if view.sortable {
                label { "Sort "
                    select name="sort" {
                        @for choice in [SortChoice::Upvotes, SortChoice::Trending, SortChoice::Newest] {
                            option value=(choice.as_str()) selected[choice == view.sort] { (choice.as_str()) }
                        }
                    }
                }
            }
            @if !view.categories.is_empty() || view.category.is_some() {
                label { "Category "
                    select name="category" {
                        option value="" { "all" }
                        @if let Some(chosen) = &view.category {
                            @if !view.categories.iter().any(|(c, _)| c == chosen) {
                                option value=(chosen) selected { (chosen) }
                            }
                        }
                        @for (code, count) in view.categories.iter().take(60) {
                            option value=(code) selected[view.category.as_deref() == Some(code.as_str())] {
                                (code) " · " (category_name(code).unwrap_or("")) " (" (count) ")"
                            }
                        }
                    }
                }
            }
            @if viewer.user.is_some() {
                label.hide-read { input #hide-read type="checkbox" name="hide_read" value="1" checked[viewer.hide_read]; " Hide read" }
            }
            @if view.sortable || !view.categories.is_empty() || viewer.user.is_some() {
                button type="submit" { "Apply" }
            }
            @if let Some(base) = &view.feed_base {
                span.feeds {
                    a href=(with_query(base, view)) { "RSS" } " "
                    a href=(with_query(&base.replace("feed.rss", "feed.atom"), view)) { "Atom" }
                }
            }
        }
    }
}

fn with_query(base: &str, view: &FeedView) -> String {
    let mut query = Vec::new();
    if let Some(category) = &view.category {
        query.push(format!("category={}", encode(category)));
    }
    if let Some((id, _)) = &view.topic {
        query.push(format!("topic={id}"));
    }
    if query.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", query.join("&"))
    }
}

/// The page's own URL with its sort and filters, at page `number`.
fn current_link(view: &FeedView, number: usize, hide_read: bool) -> String {
    let mut query = Vec::new();
    if view.sortable && view.sort != SortChoice::Upvotes {
        query.push(format!("sort={}", view.sort.as_str()));
    }
    if let Some(category) = &view.category {
        query.push(format!("category={}", encode(category)));
    }
    if let Some((id, _)) = &view.topic {
        query.push(format!("topic={id}"));
    }
    if hide_read {
        query.push("hide_read=1".to_owned());
    }
    if number > 0 {
        query.push(format!("p={number}"));
    }
    if query.is_empty() {
        view.path.clone()
    } else {
        format!("{}?{}", view.path, query.join("&"))
    }
}

fn pages(view: &FeedView, hide_read: bool) -> Markup {
    let count = view.total.div_ceil(view.page_size.max(1));
    html! {
        @if count > 1 {
            nav.pages aria-label="pages" {
                @if view.page > 0 { a rel="prev" href=(current_link(view, view.page - 1, hide_read)) { "← Previous page" } }
                span { "Page " (view.page + 1) " of " (count) " · " (view.total) " papers" }
                @if view.page + 1 < count { a rel="next" href=(current_link(view, view.page + 1, hide_read)) { "Next page →" } }
            }
        }
    }
}

/// A paper in a list: vote button, title, authors, a short abstract, categories.
pub(crate) fn paper_card(item: &ViewItem, viewer: &Viewer, back: &str) -> Markup {
    let stored = &item.paper;
    let paper = &stored.paper;
    let id = paper.id.as_str();
    let authors = &paper.metadata.authors;
    let read = viewer.read.contains(&stored.key);
    html! {
        article.paper.read[read] {
            (vote_button(stored.key, id, stored.upvotes(), viewer, back))
            div.body {
                @if let Some(thumbnail) = paper.community.thumbnail.as_deref().and_then(web_url) {
                    a.thumbnail href=(paper_path(id)) tabindex="-1" {
                        img src=(thumbnail) alt="" loading="lazy" referrerpolicy="no-referrer";
                    }
                }
                h2 { a href=(paper_path(id)) { (one_line(&paper.metadata.title)) } }
                p.authors {
                    @for (index, author) in authors.iter().take(6).enumerate() {
                        @if index > 0 { ", " }
                        a.author href=(author_path(author)) { (author) }
                    }
                    @if authors.len() > 6 { " and " (authors.len() - 6) " more" }
                }
                p.abstract { (shorten(&paper.metadata.abstract_text, 320)) }
                p.meta {
                    @for category in paper.metadata.categories.iter().take(3) {
                        a.category href={ "?category=" (encode(category.as_str())) }
                            title=(category_name(category.as_str()).unwrap_or("")) { (category.as_str()) }
                    }
                    a href={ "https://arxiv.org/abs/" (id) } { "arXiv" }
                    @if let Some(github) = stored.links.github.as_deref().and_then(web_url) {
                        a href=(github) rel="nofollow noopener" {
                            "Code"
                            @if let Some(stars) = paper.community.github_stars { " ★ " (stars) }
                        }
                    }
                    @if let Some(project) = stored.links.project_page.as_deref().and_then(web_url) { a href=(project) rel="nofollow noopener" { "Project" } }
                    @if let Some(organization) = &paper.community.organization {
                        a href={ "/organizations/" (encode(organization)) } {
                            (paper.community.organization_fullname.as_deref().unwrap_or(organization))
                        }
                    }
                    @if let Some(name) = &paper.community.submitted_by {
                        span { "submitted by " (submitter(name)) }
                    }
                    a.comments href={ (paper_path(id)) "#discussion" } {
                        (stored.comments()) " comment" @if stored.comments() != 1 { "s" }
                    }
                    @if read { span.read-mark { "read" } }
                    (save_button(stored.key, id, viewer, back))
                    (super::feedback_buttons(stored.key, id, viewer, back))
                    @if let Some(score) = item.trending { span.score { "score " (format!("{score:.3}")) } }
                }
            }
        }
    }
}

/// The upvote control: a form for members (works without JavaScript), a link to log in
/// for everyone else.
pub(crate) fn vote_button(key: i64, id: &str, upvotes: u32, viewer: &Viewer, back: &str) -> Markup {
    let voted = viewer.votes.contains(&key);
    html! {
        @if let Some(csrf) = viewer.csrf() {
            form.vote method="post" action="/vote" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="paper" value=(id);
                input type="hidden" name="back" value=(back);
                button.voted[voted] type="submit" aria-pressed=(voted) title=(if voted { "Remove your upvote" } else { "Upvote" }) {
                    span.arrow { "▲" } span.count { (upvotes) }
                }
            }
        } @else {
            a.vote href={ "/login?next=" (encode(back)) } title="Log in to upvote" {
                span.arrow { "▲" } span.count { (upvotes) }
            }
        }
    }
}
