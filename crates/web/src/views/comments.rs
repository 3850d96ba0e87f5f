//! A paper's discussion: threads of comments (one level of replies), what each reader
//! may do with each comment, and the forms that work without JavaScript (a reply form
//! opens in a `<details>`). Which comments a reader sees is decided once, in
//! [`threads`], for the page and the API alike.

use maud::{Markup, html};
use papers_store::Comment;

use super::{Viewer, encode, page, paper_path, rich_text};

/// Longest comment accepted, in characters.
pub(crate) const MAX_COMMENT: usize = 10_000;

/// A top-level comment and its replies, as one reader sees them.
#[derive(Debug, Clone)]
pub(crate) struct Thread {
    pub comment: Comment,
    pub replies: Vec<Comment>,
}

/// Whether `comment` is shown with its text: visible ones to everyone, hidden ones
/// (marked) to moderators; deleted ones to nobody.
pub(crate) fn shown(comment: &Comment, moderator: bool) -> bool {
    comment.visible() || (moderator && !comment.deleted)
}

/// The threads of a paper for one reader, oldest first (the newest thread last). A
/// top-level comment that is not shown keeps its place, as a line saying why, only
/// while replies to it are shown.
pub(crate) fn threads(comments: &[Comment], moderator: bool) -> Vec<Thread> {
    let mut threads: Vec<Thread> = comments
        .iter()
        .filter(|c| c.parent.is_none())
        .map(|comment| Thread {
            comment: comment.clone(),
            replies: Vec::new(),
        })
        .collect();
    for reply in comments.iter().filter(|c| c.parent.is_some()) {
        if !shown(reply, moderator) {
            continue;
        }
        if let Some(thread) = threads
            .iter_mut()
            .find(|t| Some(t.comment.id) == reply.parent)
        {
            thread.replies.push(reply.clone());
        }
    }
    threads.retain(|t| shown(&t.comment, moderator) || !t.replies.is_empty());
    threads
}

/// The discussion section of a paper page.
pub(crate) fn discussion(
    paper_id: &str,
    threads: &[Thread],
    viewer: &Viewer,
    moderator: bool,
) -> Markup {
    let count: usize = threads
        .iter()
        .map(|t| {
            usize::from(t.comment.visible()) + t.replies.iter().filter(|r| r.visible()).count()
        })
        .sum();
    html! {
        section.discussion #discussion {
            h2 {
                "Discussion"
                @if count > 0 { " (" (count) ")" }
                " " a.feed-link href={ (paper_path(paper_id)) "/comments.atom" } title="Atom feed of this discussion" { "Atom" }
            }
            @if threads.is_empty() { p.empty { "No comments yet." } }
            ol.threads {
                @for thread in threads {
                    li {
                        (comment_view(paper_id, &thread.comment, viewer, moderator, true))
                        @if !thread.replies.is_empty() {
                            ol.replies {
                                @for reply in &thread.replies {
                                    li { (comment_view(paper_id, reply, viewer, moderator, false)) }
                                }
                            }
                        }
                    }
                }
            }
            @if let Some(csrf) = viewer.csrf() {
                form.comment-form #comment-form method="post" action="/comments" {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name="paper" value=(paper_id);
                    label for="comment-body" { "Add a comment (Markdown; mention a paper by its arXiv id to link it)" }
                    textarea #comment-body name="body" rows="4" required maxlength=(MAX_COMMENT) {}
                    button type="submit" { "Comment" }
                }
            } @else {
                p { a href={ "/login?next=" (encode(&paper_path(paper_id))) } { "Log in" } " to join the discussion." }
            }
        }
    }
}

fn comment_view(
    paper_id: &str,
    comment: &Comment,
    viewer: &Viewer,
    moderator: bool,
    top_level: bool,
) -> Markup {
    let own = viewer
        .user
        .as_ref()
        .is_some_and(|user| comment.user_id == Some(user.user_id));
    let text_shown = shown(comment, moderator);
    html! {
        article.comment.hidden-comment[comment.hidden] #{ "comment-" (comment.id) } {
            p.comment-meta {
                (author(comment))
                " · "
                @if let Some(created) = comment.created {
                    a href={ "#comment-" (comment.id) } { time datetime=(created.to_rfc3339()) { (created.format("%-d %b %Y %H:%M")) } }
                }
                @if comment.edited.is_some() && !comment.deleted { " · " span.edited { "edited" } }
                @if comment.hidden && moderator { " · " strong.hidden-mark { "hidden by a moderator" } }
            }
            @if text_shown {
                div.comment-body { (rich_text::render(&comment.body)) }
            } @else if comment.deleted {
                p.tombstone { "This comment was deleted." }
            } @else {
                p.tombstone { "This comment was hidden by a moderator." }
            }
            @if let Some(csrf) = viewer.csrf() {
                @if text_shown {
                    div.comment-actions {
                        @if own {
                            a.edit href={ "/comments/" (comment.id) "/edit" } { "Edit" }
                            form.inline method="post" action={ "/comments/" (comment.id) "/delete" } {
                                input type="hidden" name="csrf" value=(csrf);
                                button.link.delete type="submit" { "Delete" }
                            }
                        } @else {
                            details.report {
                                summary { "Report" }
                                form method="post" action={ "/comments/" (comment.id) "/report" } {
                                    input type="hidden" name="csrf" value=(csrf);
                                    input type="text" name="reason" maxlength="200" placeholder="What is wrong with it?";
                                    button type="submit" { "Report" }
                                }
                            }
                        }
                        @if moderator {
                            @let action = if comment.hidden { "restore" } else { "hide" };
                            form.inline method="post" action={ "/comments/" (comment.id) "/" (action) } {
                                input type="hidden" name="csrf" value=(csrf);
                                button.link.moderate type="submit" { (if comment.hidden { "Restore" } else { "Hide" }) }
                            }
                        }
                        @if top_level && comment.visible() {
                            details.reply {
                                summary { "Reply" }
                                form method="post" action="/comments" {
                                    input type="hidden" name="csrf" value=(csrf);
                                    input type="hidden" name="paper" value=(paper_id);
                                    input type="hidden" name="parent" value=(comment.id);
                                    textarea name="body" rows="3" required maxlength=(MAX_COMMENT) aria-label="Your reply" {}
                                    button type="submit" { "Reply" }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The author's name, or "a deleted member" once the account is gone.
fn author(comment: &Comment) -> Markup {
    html! {
        @match &comment.author {
            Some(name) => strong.author { (name) },
            None => span.deleted-member { "a deleted member" },
        }
    }
}

/// The page to edit one's own comment.
pub(crate) fn edit_comment_page(comment: &Comment, viewer: &Viewer, error: Option<&str>) -> Markup {
    page(
        "Edit comment",
        viewer,
        html! {
            section.form-page {
                h1 { "Edit your comment" }
                p { "On " a href={ (paper_path(&comment.paper_id)) "#comment-" (comment.id) } { (comment.paper_id) } }
                @if let Some(error) = error { p.error role="alert" { (error) } }
                @if let Some(csrf) = viewer.csrf() {
                    form method="post" action={ "/comments/" (comment.id) "/edit" } {
                        input type="hidden" name="csrf" value=(csrf);
                        label for="edit-body" { "Comment (Markdown)" }
                        textarea #edit-body name="body" rows="8" required maxlength=(MAX_COMMENT) { (comment.body) }
                        button type="submit" { "Save" }
                    }
                }
            }
        },
    )
}

/// The moderators' queue: reported comments, with hide and restore.
pub(crate) fn moderation_page(reported: &[Comment], viewer: &Viewer) -> Markup {
    page(
        "Moderation",
        viewer,
        html! {
            section.moderation {
                h1 { "Reported comments" }
                @if reported.is_empty() { p.empty { "Nothing reported." } }
                ol.threads {
                    @for comment in reported {
                        li {
                            p { "On " a href={ (paper_path(&comment.paper_id)) "#comment-" (comment.id) } { (comment.paper_id) }
                                " · reported " (comment.reports) " time" @if comment.reports != 1 { "s" } }
                            (comment_view(&comment.paper_id, comment, viewer, true, false))
                        }
                    }
                }
            }
        },
    )
}
