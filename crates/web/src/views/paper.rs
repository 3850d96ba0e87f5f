//! The paper page: everything about one paper, its similar papers and its BibTeX.

use std::collections::HashSet;

use chrono::Datelike;
use maud::{Markup, html};
use papers_store::{Collection, StoredPaper};

use super::collections::save_form;
use super::comments::{Thread, discussion};
use super::feed::{paper_card, vote_button};
use super::follows::author_path;
use super::{NavLink, ViewItem, Viewer, encode, one_line, page, paper_path, submitter, web_url};
use crate::taxonomy::category_name;

/// What members bring to a paper page: the discussion and, for the reader, their
/// collections and whether they have read it.
#[derive(Debug, Clone, Default)]
pub(crate) struct PaperCommunity {
    pub threads: Vec<Thread>,
    /// The reader may hide and restore comments.
    pub moderator: bool,
    /// The reader's collections, and which of them hold this paper.
    pub collections: Vec<Collection>,
    pub containing: HashSet<i64>,
    pub read: bool,
}

pub(crate) fn paper_page(
    stored: &StoredPaper,
    similar: Option<&[ViewItem]>,
    topics: &[NavLink],
    refine: &[NavLink],
    viewer: &Viewer,
    community: &PaperCommunity,
) -> Markup {
    let paper = &stored.paper;
    let metadata = &paper.metadata;
    let id = paper.id.as_str();
    let title = one_line(&metadata.title);
    let back = paper_path(id);
    page(
        &title,
        viewer,
        html! {
            article.paper-page {
                div.title-row {
                    (vote_button(stored.key, id, stored.upvotes(), viewer, &back))
                    h1 { (title) }
                }
                p.authors {
                    @for (index, author) in metadata.authors.iter().enumerate() {
                        @if index > 0 { ", " }
                        a.author href=(author_path(author)) { (author) }
                    }
                }
                dl.facts {
                    dt { "arXiv" } dd { (id) @if metadata.latest_version() > 0 { "v" (metadata.latest_version()) } }
                    @if let Some(published) = metadata.published {
                        dt { "Submitted" } dd { time datetime=(published.to_rfc3339()) { (published.format("%-d %B %Y")) } }
                    }
                    @if let Some(updated) = metadata.updated {
                        dt { "Updated" } dd { (updated.format("%-d %B %Y")) }
                    }
                    @if let Some(day) = paper.community.feed_day {
                        dt { "In the feed" } dd { a href={ "/papers/date/" (day.format("%Y-%m-%d")) } { (day.format("%-d %B %Y")) } }
                    }
                    @if let Some(name) = &paper.community.submitted_by {
                        dt { "Submitted by" } dd { (submitter(name)) }
                    }
                    @if let Some(organization) = &paper.community.organization {
                        dt { "Organization" } dd.organization {
                            @if let Some(avatar) = paper.community.organization_avatar.as_deref().and_then(web_url) {
                                img.avatar src=(avatar) alt="" width="20" height="20" loading="lazy" referrerpolicy="no-referrer";
                                " "
                            }
                            a href={ "/organizations/" (encode(organization)) } {
                                (paper.community.organization_fullname.as_deref().unwrap_or(organization))
                            }
                        }
                    }
                    @if !topics.is_empty() {
                        dt { "Topics" } dd.topics {
                            @for (index, topic) in topics.iter().enumerate() {
                                @if index > 0 { " › " }
                                a href=(topic.href) { (topic.label) }
                            }
                        }
                    }
                    @if let Some(journal) = &metadata.journal_ref { dt { "Journal" } dd { (journal) } }
                    @if let Some(doi) = &metadata.doi { dt { "DOI" } dd { a href={ "https://doi.org/" (doi) } { (doi) } } }
                    @if let Some(comments) = &metadata.comments { dt { "Comments" } dd { (comments) } }
                }
                p.categories {
                    @for category in &metadata.categories {
                        span.category {
                            (category.as_str())
                            @if let Some(name) = category_name(category.as_str()) { " · " (name) }
                        }
                    }
                }
                p.links {
                    a.button href={ "https://arxiv.org/abs/" (id) } { "arXiv page" }
                    a.button href={ "https://arxiv.org/pdf/" (id) } { "PDF" }
                    @if let Some(github) = &stored.links.github {
                        @match web_url(github) {
                            Some(href) => a.button href=(href) rel="nofollow noopener" {
                                "GitHub"
                                @if let Some(stars) = paper.community.github_stars { " ★ " (stars) }
                            },
                            None => span.unlinked { "GitHub: " (github) },
                        }
                    }
                    @if let Some(project) = &stored.links.project_page {
                        @match web_url(project) {
                            Some(href) => a.button href=(href) rel="nofollow noopener" { "Project page" },
                            None => span.unlinked { "Project page: " (project) },
                        }
                    }
                    a.button href="#discussion" { (stored.comments()) " comment" @if stored.comments() != 1 { "s" } }
                }
                @if let Some(csrf) = viewer.csrf() {
                    form.read-state method="post" action="/read" {
                        input type="hidden" name="csrf" value=(csrf);
                        input type="hidden" name="paper" value=(id);
                        @if community.read {
                            input type="hidden" name="read" value="0";
                            span.read-mark { "Read" } " "
                            button.link type="submit" { "Mark unread" }
                        } @else {
                            input type="hidden" name="read" value="1";
                            button.link type="submit" { "Mark read" }
                        }
                    }
                }
                (super::feedback_buttons(stored.key, id, viewer, &paper_path(id)))
                @if paper.community.ai_summary.is_some() || !paper.community.ai_keywords.is_empty() {
                    section.ai-summary {
                        h2 { "AI summary" }
                        @if let Some(summary) = &paper.community.ai_summary { p { (summary) } }
                        @if !paper.community.ai_keywords.is_empty() {
                            p.keywords {
                                @for keyword in &paper.community.ai_keywords {
                                    a.keyword href={ "/search?q=" (encode(keyword)) } { (keyword) } " "
                                }
                            }
                        }
                        p.note { "Generated by Hugging Face." }
                    }
                }
                section.abstract {
                    h2 { "Abstract" }
                    @for paragraph in paragraphs(&metadata.abstract_text) { p { (paragraph) } }
                }
                section.bibtex {
                    h2 { "BibTeX" }
                    textarea #bibtex readonly rows="10" { (bibtex(stored)) }
                    button.copy type="button" data-copy="bibtex" hidden { "Copy" }
                }
                (save_form(id, &community.collections, &community.containing, viewer))
                (discussion(id, &community.threads, viewer, community.moderator))
                section.similar #similar {
                    h2 { "Similar papers" }
                    @if !refine.is_empty() && similar.is_some() {
                        p.refine {
                            @for (index, link) in refine.iter().enumerate() {
                                @if index > 0 { " · " }
                                a href=(link.href) rel="nofollow" { (link.label) }
                            }
                        }
                    }
                    @match similar {
                        None => p.empty { "Similar papers appear once the search index is built (papers reindex)." },
                        Some([]) => p.empty { "No similar papers found." },
                        Some(items) => ol.papers { @for item in items { li { (paper_card(item, viewer, &back)) } } },
                    }
                }
            }
        },
    )
}

/// Abstracts keep their paragraph breaks; the hard line breaks inside a paragraph go.
/// TeX stays as written (`$\alpha$`), which reads well enough and cannot break.
fn paragraphs(text: &str) -> Vec<String> {
    text.split("\n\n")
        .map(one_line)
        .filter(|p| !p.is_empty())
        .collect()
}

/// A BibTeX entry in arXiv's `@misc` style.
pub(crate) fn bibtex(stored: &StoredPaper) -> String {
    let paper = &stored.paper;
    let metadata = &paper.metadata;
    let id = paper.id.as_str();
    let year = metadata
        .published
        .map(|p| p.year())
        .unwrap_or_else(|| paper.id.year_month().0);
    let first_author = metadata
        .authors
        .first()
        .and_then(|a| a.split_whitespace().last())
        .unwrap_or("anon")
        .chars()
        .filter(|c| c.is_alphanumeric())
        .collect::<String>()
        .to_lowercase();
    let key = format!("{first_author}{year}{}", id.replace(['/', '.'], ""));
    let mut entry = format!(
        "@misc{{{key},\n  title = {{{}}},\n  author = {{{}}},\n  year = {{{year}}},\n  eprint = {{{id}}},\n  archivePrefix = {{arXiv}},\n",
        one_line(&metadata.title),
        metadata.authors.join(" and "),
    );
    if let Some(primary) = metadata.primary_category() {
        entry.push_str(&format!("  primaryClass = {{{}}},\n", primary.as_str()));
    }
    entry.push_str(&format!("  url = {{https://arxiv.org/abs/{id}}}\n}}"));
    entry
}
