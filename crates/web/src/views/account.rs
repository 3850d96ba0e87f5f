//! Forms: log in, sign up, submit a paper.

use maud::{Markup, html};

use super::{Viewer, page};

pub(crate) fn login_page(csrf: &str, next: &str, error: Option<&str>) -> Markup {
    page(
        "Log in",
        &Viewer::anonymous(),
        html! {
            section.form-page {
                h1 { "Log in" }
                @if let Some(error) = error { p.error role="alert" { (error) } }
                form method="post" action="/login" {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name="next" value=(next);
                    label { "Username" input #username type="text" name="username" required autocomplete="username" maxlength="32"; }
                    label { "Password" input #password type="password" name="password" required autocomplete="current-password" maxlength="256"; }
                    button type="submit" { "Log in" }
                }
                p { "No account? " a href="/signup" { "Sign up" } }
            }
        },
    )
}

pub(crate) fn signup_page(csrf: &str, username: &str, email: &str, error: Option<&str>) -> Markup {
    page(
        "Sign up",
        &Viewer::anonymous(),
        html! {
            section.form-page {
                h1 { "Sign up" }
                @if let Some(error) = error { p.error role="alert" { (error) } }
                form method="post" action="/signup" {
                    input type="hidden" name="csrf" value=(csrf);
                    label { "Username" input #username type="text" name="username" value=(username) required
                        autocomplete="username" minlength="2" maxlength="32" pattern="[A-Za-z0-9_-]+"; }
                    label { "Email" input #email type="email" name="email" value=(email) required autocomplete="email" maxlength="254"; }
                    label { "Password (at least 8 characters)" input #password type="password" name="password" required
                        autocomplete="new-password" minlength="8" maxlength="256"; }
                    button type="submit" { "Create account" }
                }
                p { "Have an account? " a href="/login" { "Log in" } }
            }
        },
    )
}

pub(crate) fn submit_page(viewer: &Viewer, message: Option<&str>, value: &str) -> Markup {
    page(
        "Submit a paper",
        viewer,
        html! {
            section.form-page {
                h1 { "Submit a paper" }
                p { "Add an arXiv paper to today's feed by its id or URL (2401.01234, arXiv:2401.01234v2, https://arxiv.org/abs/…)." }
                @if let Some(message) = message { p.error role="alert" { (message) } }
                @if let Some(csrf) = viewer.csrf() {
                    form method="post" action="/submit" {
                        input type="hidden" name="csrf" value=(csrf);
                        label { "arXiv id or URL" input #reference type="text" name="reference" value=(value) required maxlength="200"; }
                        button type="submit" { "Submit" }
                    }
                } @else {
                    p { a href="/login?next=/submit" { "Log in" } " to submit papers." }
                }
            }
        },
    )
}
