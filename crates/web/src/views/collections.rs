//! Collections: a member's list of their collections, one collection's page (shared by
//! URL when public), and the Save controls on cards and paper pages. Every control is a
//! plain form, so saving works without JavaScript.

use std::collections::HashSet;

use maud::{Markup, html};
use papers_store::{CollectedPaper, Collection};

use super::feed::paper_card;
use super::{ViewItem, Viewer, encode, page, paper_path};

pub(crate) const MAX_TITLE: usize = 100;
pub(crate) const MAX_DESCRIPTION: usize = 1_000;
pub(crate) const MAX_NOTE: usize = 2_000;

/// The path of a collection's page.
pub(crate) fn collection_path(id: i64) -> String {
    format!("/collections/{id}")
}

/// `/collections`: the member's collections and a form to make one.
pub(crate) fn collections_page(
    collections: &[Collection],
    viewer: &Viewer,
    error: Option<&str>,
) -> Markup {
    page(
        "Your collections",
        viewer,
        html! {
            section.collections {
                h1 { "Your collections" }
                @if let Some(error) = error { p.error role="alert" { (error) } }
                ul.collection-list {
                    @for collection in collections {
                        li {
                            a href=(collection_path(collection.id)) { (collection.title) }
                            " · " (collection.papers) " paper" @if collection.papers != 1 { "s" }
                            @if collection.public { " · " span.public { "public" } } @else { " · private" }
                        }
                    }
                }
                @if let Some(csrf) = viewer.csrf() {
                    h2 { "New collection" }
                    form.form-page #new-collection method="post" action="/collections" {
                        input type="hidden" name="csrf" value=(csrf);
                        label { "Title" input #collection-title type="text" name="title" required maxlength=(MAX_TITLE); }
                        label { "Description" textarea name="description" rows="2" maxlength=(MAX_DESCRIPTION) {} }
                        label.checkbox { input type="checkbox" name="public" value="1"; " Public: anyone with the link can read it" }
                        button type="submit" { "Create" }
                    }
                }
            }
        },
    )
}

/// One collection: its papers with their notes; for the owner, editing and removal.
pub(crate) fn collection_page(
    collection: &Collection,
    papers: &[CollectedPaper],
    viewer: &Viewer,
) -> Markup {
    let own = viewer
        .user
        .as_ref()
        .is_some_and(|user| user.user_id == collection.user_id);
    let path = collection_path(collection.id);
    page(
        &collection.title,
        viewer,
        html! {
            section.collection {
                h1 { (collection.title) }
                p.collection-meta {
                    "By " (collection.owner) " · " (papers.len()) " paper" @if papers.len() != 1 { "s" }
                    " · " @if collection.public { "public" } @else { "private" }
                }
                @if !collection.description.is_empty() { p.description { (collection.description) } }
                p.exports {
                    "Export: "
                    a href={ (path) "/export?format=bibtex" } { "BibTeX" } " · "
                    a href={ (path) "/export?format=csv" } { "CSV" } " · "
                    a href={ (path) "/export?format=json" } { "JSON" }
                    @if collection.public {
                        " · Feeds: " a href={ (path) "/feed.atom" } { "Atom" } " · " a href={ (path) "/feed.rss" } { "RSS" }
                    }
                }
                @if papers.is_empty() { p.empty { "No papers in this collection yet. Save papers from their cards or pages." } }
                ol.papers {
                    @for entry in papers {
                        li {
                            (paper_card(&ViewItem { paper: entry.paper.clone(), trending: None }, viewer, &path))
                            @if !entry.note.is_empty() { p.note { strong { "Note: " } (entry.note) } }
                            @if own {
                                @if let Some(csrf) = viewer.csrf() {
                                    form.inline method="post" action={ (path) "/remove" } {
                                        input type="hidden" name="csrf" value=(csrf);
                                        input type="hidden" name="paper" value=(entry.paper.paper.id.as_str());
                                        button.link type="submit" { "Remove from this collection" }
                                    }
                                }
                            }
                        }
                    }
                }
                @if own {
                    @if let Some(csrf) = viewer.csrf() {
                        h2 { "Edit" }
                        form.form-page method="post" action={ (path) "/edit" } {
                            input type="hidden" name="csrf" value=(csrf);
                            @if !collection.read_later {
                                label { "Title" input type="text" name="title" value=(collection.title) required maxlength=(MAX_TITLE); }
                            }
                            label { "Description" textarea name="description" rows="2" maxlength=(MAX_DESCRIPTION) { (collection.description) } }
                            label.checkbox { input type="checkbox" name="public" value="1" checked[collection.public]; " Public" }
                            button type="submit" { "Save changes" }
                        }
                        @if !collection.read_later {
                            form method="post" action={ (path) "/delete" } {
                                input type="hidden" name="csrf" value=(csrf);
                                button.danger type="submit" { "Delete this collection" }
                            }
                        }
                    }
                }
            }
        },
    )
}

/// The Save control of a card: one click puts the paper in "Read later"; a saved
/// paper links to the member's collections instead.
pub(crate) fn save_button(key: i64, id: &str, viewer: &Viewer, back: &str) -> Markup {
    html! {
        @if let Some(csrf) = viewer.csrf() {
            @if viewer.saved.contains(&key) {
                a.save.saved href="/collections" title="In your collections" { "★ Saved" }
            } @else {
                form.save method="post" action="/collections/save" {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name="paper" value=(id);
                    input type="hidden" name="collection" value="read-later";
                    input type="hidden" name="back" value=(back);
                    button.link type="submit" title="Save to Read later" { "☆ Save" }
                }
            }
        }
    }
}

/// The Save form of a paper page: any of the member's collections, with a note.
pub(crate) fn save_form(
    id: &str,
    collections: &[Collection],
    containing: &HashSet<i64>,
    viewer: &Viewer,
) -> Markup {
    let back = paper_path(id);
    html! {
        @if let Some(csrf) = viewer.csrf() {
            section.save-paper #save {
                h2 { "Save" }
                @let saved_in: Vec<&Collection> = collections.iter().filter(|c| containing.contains(&c.id)).collect();
                @if !saved_in.is_empty() {
                    p.saved-in {
                        "In "
                        @for (index, collection) in saved_in.iter().enumerate() {
                            @if index > 0 { ", " }
                            a href=(collection_path(collection.id)) { (collection.title) }
                        }
                    }
                }
                form #save-form method="post" action="/collections/save" {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name="paper" value=(id);
                    input type="hidden" name="back" value=(back);
                    label { "Collection "
                        select #save-collection name="collection" {
                            @if !collections.iter().any(|c| c.read_later) { option value="read-later" { "Read later" } }
                            @for collection in collections {
                                option value=(collection.id) { (collection.title) }
                            }
                        }
                    }
                    label { "Note " input #save-note type="text" name="note" maxlength=(MAX_NOTE) placeholder="optional"; }
                    button type="submit" { "Save" }
                }
                p { a href={ "/collections?next=" (encode(&back)) } { "New collection" } }
            }
        }
    }
}
