//! Digest pages: the subscribe form, the preferences page, the page a manage link
//! opens, and the answers to subscribe requests, confirmation and unsubscribe links.

use maud::{Markup, html};
use papers_store::{Frequency, Subscription, SubscriptionStatus};

use super::{Viewer, page};

/// What the subscribe form starts with: a member's saved preferences, or blanks.
#[derive(Debug, Clone, Default)]
pub(crate) struct SubscribeFields {
    pub email: String,
    pub weekly: bool,
    pub categories: String,
    pub queries: String,
}

impl SubscribeFields {
    pub(crate) fn of(subscription: &Subscription) -> SubscribeFields {
        SubscribeFields {
            email: subscription.email.clone(),
            weekly: subscription.frequency == Frequency::Weekly,
            categories: subscription.categories.join(" "),
            queries: subscription.queries.join("\n"),
        }
    }
}

/// The form; a member's address is fixed to their account's.
pub(crate) fn subscribe_form(
    viewer: &Viewer,
    csrf: &str,
    fields: &SubscribeFields,
    member: bool,
    message: Option<&str>,
) -> Markup {
    html! {
        @if let Some(message) = message { p.error role="alert" { (message) } }
        form method="post" action="/subscribe" {
            input type="hidden" name="csrf" value=(csrf);
            @if member {
                p { "Digests go to your account's address, " strong { (fields.email) } "." }
            } @else {
                label { "Email" input #email type="email" name="email" value=(fields.email) required autocomplete="email" maxlength="254"; }
            }
            fieldset {
                legend { "How often" }
                label { input type="radio" name="frequency" value="daily" checked[!fields.weekly]; " Daily" }
                label { input type="radio" name="frequency" value="weekly" checked[fields.weekly]; " Weekly" }
            }
            label { "Categories (optional, e.g. cs.CL cs.LG)" input #categories type="text" name="categories" value=(fields.categories) maxlength="400"; }
            label { "Saved searches (optional, one per line)" textarea #queries name="queries" rows="3" maxlength="2000" { (fields.queries) } }
            button type="submit" { "Subscribe" }
        }
        @if viewer.user.is_none() {
            p { "We send a confirmation link first; nothing else arrives until you follow it." }
            p { "Already subscribed? Enter your address: we mail you a link to change or stop your digest." }
        }
    }
}

pub(crate) fn subscribe_page(body: Markup, viewer: &Viewer) -> Markup {
    page(
        "Email digest",
        viewer,
        html! {
            section.form-page {
                h1 { "Get trending papers in your inbox" }
                (body)
            }
        },
    )
}

/// The member's digest page. An owner (verified account address) sees their
/// subscription, the form prefilled, and a way out; anyone else the form that mails
/// their account's address a link.
pub(crate) fn preferences_page(
    viewer: &Viewer,
    form: Markup,
    owner: bool,
    subscription: Option<&Subscription>,
    unsubscribe_path: Option<&str>,
) -> Markup {
    page(
        "Digest preferences",
        viewer,
        html! {
            section.form-page {
                h1 { "Digest preferences" }
                @if owner {
                    @match subscription.map(|s| s.status) {
                        Some(SubscriptionStatus::Confirmed) => p { "Your digest is active. " a href="/digest/preview" { "Preview the next one" } "." },
                        Some(SubscriptionStatus::Pending) => p { "Waiting for you to follow the confirmation link we mailed." },
                        _ => p { "You are not subscribed." },
                    }
                } @else {
                    p { "Your account's address is not verified, so this page cannot show or change its digest. Send the form: if the address has a subscription, we mail it a link to change or stop it; if not, a link to confirm a new one." }
                }
                (form)
                @if let Some(path) = unsubscribe_path {
                    form method="post" action=(path) {
                        input type="hidden" name="List-Unsubscribe" value="One-Click";
                        button type="submit" { "Unsubscribe" }
                    }
                }
            }
        },
    )
}

/// The signed paths a manage page links to, one purpose each.
pub(crate) struct ManageLinks {
    /// Where the form posts (the manage link itself).
    pub save: String,
    pub preview: String,
    pub unsubscribe: String,
    /// Only while the subscription waits for confirmation.
    pub confirm: Option<String>,
}

/// What a manage link opens: the subscription's preferences, prefilled, for its
/// owner to change; a preview; confirmation while pending; and unsubscribing.
pub(crate) fn manage_page(
    viewer: &Viewer,
    csrf: &str,
    subscription: &Subscription,
    links: &ManageLinks,
) -> Markup {
    let fields = SubscribeFields::of(subscription);
    page(
        "Manage your digest",
        viewer,
        html! {
            section.form-page {
                h1 { "Manage your digest" }
                p { "Digest for " strong { (subscription.email) } "." }
                @if let Some(confirm) = &links.confirm {
                    p { "Not confirmed yet: nothing is sent until you " a href=(confirm) { "confirm it" } "." }
                } @else {
                    p { "Your " (subscription.frequency.as_str()) " digest is active. " a href=(links.preview) { "Preview the next one" } "." }
                }
                form method="post" action=(links.save) {
                    input type="hidden" name="csrf" value=(csrf);
                    fieldset {
                        legend { "How often" }
                        label { input type="radio" name="frequency" value="daily" checked[!fields.weekly]; " Daily" }
                        label { input type="radio" name="frequency" value="weekly" checked[fields.weekly]; " Weekly" }
                    }
                    label { "Categories (optional, e.g. cs.CL cs.LG)" input #categories type="text" name="categories" value=(fields.categories) maxlength="400"; }
                    label { "Saved searches (optional, one per line)" textarea #queries name="queries" rows="3" maxlength="2000" { (fields.queries) } }
                    button type="submit" { "Save" }
                }
                form method="post" action=(links.unsubscribe) {
                    input type="hidden" name="List-Unsubscribe" value="One-Click";
                    button type="submit" { "Unsubscribe" }
                }
            }
        },
    )
}

/// The answer to every subscribe request that is not the owner's own change: the same
/// whether the address was new, pending or confirmed, or mailed a moment ago.
pub(crate) fn check_inbox_page(viewer: &Viewer) -> Markup {
    notice_page(
        viewer,
        "Check your inbox",
        "If the address can receive mail, a link to confirm a new subscription, or to manage the one it already has, is on its way. An address gets at most one such mail every 10 minutes.",
    )
}

/// After the manage page's form was saved.
pub(crate) fn saved_page(viewer: &Viewer, manage_path: &str) -> Markup {
    page(
        "Preferences saved",
        viewer,
        html! {
            section.form-page {
                h1 { "Preferences saved" }
                p { "Your next digest follows them. " a href=(manage_path) { "Back to your digest" } "." }
            }
        },
    )
}

/// A plain page with a heading and a sentence: confirmation and unsubscribe answers.
pub(crate) fn notice_page(viewer: &Viewer, title: &str, message: &str) -> Markup {
    page(
        title,
        viewer,
        html! {
            section.form-page {
                h1 { (title) }
                p { (message) }
                p { a href="/papers" { "Back to the papers" } }
            }
        },
    )
}

/// What a GET on an unsubscribe link shows: mail scanners prefetch links, so only the
/// POST from this button (or the mail client's one-click POST) unsubscribes.
pub(crate) fn unsubscribe_confirm_page(viewer: &Viewer, email: &str, path: &str) -> Markup {
    page(
        "Unsubscribe",
        viewer,
        html! {
            section.form-page {
                h1 { "Unsubscribe" }
                p { "Stop sending digests to " strong { (email) } "?" }
                form method="post" action=(path) {
                    input type="hidden" name="List-Unsubscribe" value="One-Click";
                    button type="submit" { "Unsubscribe" }
                }
            }
        },
    )
}
