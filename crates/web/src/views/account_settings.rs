//! The member's own pages: the account page (address, password, data, deletion), the
//! sessions page, and the password-reset pages.

use chrono::{DateTime, Utc};
use maud::{Markup, html};
use papers_store::SessionInfo;

use super::{CommunitySummary, Viewer, community_section, page};
use crate::password::{MAX_CHARS, MIN_CHARS};

/// What the account page shows.
#[derive(Debug, Clone)]
pub(crate) struct AccountView {
    pub email: String,
    pub verified: bool,
    /// Profile, collections, follows, activity, tokens and digest (`views::member`).
    pub community: CommunitySummary,
}

/// A message at the top of a page: good news or a problem.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Flash<'a> {
    Done(&'a str),
    Problem(&'a str),
}

fn flash(message: Option<Flash<'_>>) -> Markup {
    html! {
        @match message {
            Some(Flash::Done(text)) => p.notice role="status" { (text) },
            Some(Flash::Problem(text)) => p.error role="alert" { (text) },
            None => {},
        }
    }
}

fn when(time: DateTime<Utc>) -> Markup {
    html! { time datetime=(time.to_rfc3339()) { (time.format("%-d %B %Y, %H:%M UTC")) } }
}

fn new_password_field(name: &str, label: &str) -> Markup {
    html! {
        label { (label) " (at least " (MIN_CHARS) " characters, hard to guess)"
            input type="password" name=(name) id=(name) required autocomplete="new-password"
                minlength=(MIN_CHARS) maxlength=(MAX_CHARS); }
    }
}

pub(crate) fn account_page(
    viewer: &Viewer,
    account: &AccountView,
    message: Option<Flash<'_>>,
) -> Markup {
    let csrf = viewer.csrf().unwrap_or_default();
    page(
        "Your account",
        viewer,
        html! {
            section.form-page.account {
                h1 { "Your account" }
                (flash(message))
                (community_section(&account.community))
                h2 { "Email address" }
                p {
                    strong #account-email { (account.email) }
                    @if account.verified { " · verified" } @else { " · " span.unverified { "not verified" } }
                }
                @if !account.verified {
                    p { "Follow the link we mailed to verify it; until then you cannot subscribe to digests." }
                    form method="post" action="/account/verify/resend" {
                        input type="hidden" name="csrf" value=(csrf);
                        button type="submit" { "Send a new link" }
                    }
                }
                form #change-email method="post" action="/account/email" {
                    input type="hidden" name="csrf" value=(csrf);
                    label { "New address" input #new-email type="email" name="email" required autocomplete="email" maxlength="254"; }
                    label { "Your password" input type="password" name="password" required autocomplete="current-password" maxlength=(MAX_CHARS); }
                    button type="submit" { "Change address" }
                    p.hint { "We mail a link to the new address; the change happens when you follow it." }
                }
                h2 { "Password" }
                form #change-password method="post" action="/account/password" {
                    input type="hidden" name="csrf" value=(csrf);
                    label { "Current password" input #current-password type="password" name="current" required autocomplete="current-password" maxlength=(MAX_CHARS); }
                    (new_password_field("new_password", "New password"))
                    button type="submit" { "Change password" }
                    p.hint { "Changing it logs out every other browser." }
                }
                h2 { "Sessions" }
                p { a href="/account/sessions" { "See where you are logged in" } }
                h2 { "Your data" }
                p { a #export href="/account/export" download { "Download everything we hold about you (JSON)" } }
                h2 { "Delete your account" }
                form #delete-account method="post" action="/account/delete" {
                    input type="hidden" name="csrf" value=(csrf);
                    p { "Your profile, address, sessions, collections, follows, reading state and the record of your votes are deleted; your votes stay in the papers' counts, your comments and the papers you submitted show as from a deleted member, and subscriptions made through the account end. This cannot be undone." }
                    label { "Your password" input #delete-password type="password" name="password" required autocomplete="current-password" maxlength=(MAX_CHARS); }
                    button.danger type="submit" { "Delete my account" }
                }
            }
        },
    )
}

pub(crate) fn sessions_page(
    viewer: &Viewer,
    sessions: &[SessionInfo],
    message: Option<Flash<'_>>,
) -> Markup {
    let csrf = viewer.csrf().unwrap_or_default();
    page(
        "Sessions",
        viewer,
        html! {
            section.form-page.sessions {
                h1 { "Where you are logged in" }
                (flash(message))
                table {
                    thead { tr { th { "Browser" } th { "Address" } th { "Logged in" } th { "Last seen" } th {} } }
                    tbody {
                        @for session in sessions {
                            tr.current[session.current] {
                                td { (session.user_agent.as_deref().unwrap_or("unknown")) }
                                td { (session.ip.as_deref().unwrap_or("unknown")) }
                                td { (when(session.created)) }
                                td { (when(session.last_seen)) }
                                td {
                                    @if session.current {
                                        "this browser"
                                    } @else {
                                        form.inline method="post" action={ "/account/sessions/" (session.handle) "/end" } {
                                            input type="hidden" name="csrf" value=(csrf);
                                            button type="submit" { "Log out" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                @if sessions.iter().any(|s| !s.current) {
                    form #end-others method="post" action="/account/sessions/end-others" {
                        input type="hidden" name="csrf" value=(csrf);
                        button type="submit" { "Log out everywhere else" }
                    }
                }
                p { a href="/account" { "Back to your account" } }
            }
        },
    )
}

/// Asks for the address to mail a reset link to. `mail` is false on a site that
/// cannot send mail.
pub(crate) fn reset_request_page(csrf: &str, mail: bool, message: Option<Flash<'_>>) -> Markup {
    page(
        "Reset your password",
        &Viewer::anonymous(),
        html! {
            section.form-page {
                h1 { "Reset your password" }
                (flash(message))
                @if mail {
                    form method="post" action="/account/password-reset" {
                        input type="hidden" name="csrf" value=(csrf);
                        label { "Your account's email address" input #email type="email" name="email" required autocomplete="email" maxlength="254"; }
                        button type="submit" { "Mail me a link" }
                    }
                    p.hint { "The link works once, for an hour, and logs out every browser when used." }
                } @else {
                    p { "This site cannot send mail, so passwords cannot be reset by mail. Ask its operator." }
                }
            }
        },
    )
}

/// The form behind a mailed reset link; `path` is the link's own path.
pub(crate) fn reset_form_page(path: &str, problem: Option<&str>) -> Markup {
    page(
        "Choose a new password",
        &Viewer::anonymous(),
        html! {
            section.form-page {
                h1 { "Choose a new password" }
                @if let Some(problem) = problem { p.error role="alert" { (problem) } }
                form method="post" action=(path) {
                    (new_password_field("password", "New password"))
                    button type="submit" { "Set password" }
                }
            }
        },
    )
}

/// A short page with a message and where to go next.
pub(crate) fn account_notice_page(
    viewer: &Viewer,
    title: &str,
    message: &str,
    next: (&str, &str),
) -> Markup {
    page(
        title,
        viewer,
        html! {
            section.form-page.account-notice {
                h1 { (title) }
                p { (message) }
                p { a href=(next.0) { (next.1) } }
            }
        },
    )
}
