//! The member's personal access tokens: the list (label, made, last used) with a
//! revoke button each, the form for a new one, and the new token shown once.

use chrono::{DateTime, Utc};
use maud::{Markup, html};
use papers_store::AccessToken;

use super::{Viewer, page};

pub(crate) fn tokens_page(
    viewer: &Viewer,
    tokens: &[AccessToken],
    created: Option<(&str, &str)>,
    error: Option<&str>,
) -> Markup {
    let csrf = viewer.csrf().unwrap_or("");
    page(
        "Access tokens",
        viewer,
        html! {
            section.form-page {
                h1 { "Access tokens" }
                p {
                    "A token lets a script use the JSON API as you: send it as "
                    code { "Authorization: Bearer TOKEN" }
                    ". It can do anything you can do through the API, so keep it secret and revoke it when it is no longer used."
                }
                @if let Some(error) = error { p.error role="alert" { (error) } }
                @if let Some((label, token)) = created {
                    div.notice role="status" {
                        p { "Your new token " strong { (label) } ". Copy it now: it is not shown again." }
                        p { code #new-token { (token) } }
                    }
                }
                form method="post" action="/account/tokens" {
                    input type="hidden" name="csrf" value=(csrf);
                    label { "Label" input #label type="text" name="label" required maxlength="100" placeholder="e.g. laptop script"; }
                    button type="submit" { "Create token" }
                }
                @if tokens.is_empty() {
                    p { "You have no tokens." }
                } @else {
                    table.tokens {
                        thead { tr { th { "Label" } th { "Created" } th { "Last used" } th {} } }
                        tbody {
                            @for token in tokens {
                                tr {
                                    td { (token.label) }
                                    td { (when(token.created)) }
                                    td { (token.last_used.map_or_else(|| "never".to_owned(), |at| when(Some(at)))) }
                                    td {
                                        form.inline method="post" action={ "/account/tokens/" (token.id) "/revoke" } {
                                            input type="hidden" name="csrf" value=(csrf);
                                            button type="submit" { "Revoke" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
}

fn when(at: Option<DateTime<Utc>>) -> String {
    at.map_or_else(String::new, |at| {
        at.format("%Y-%m-%d %H:%M UTC").to_string()
    })
}
