//! Forms: log in, sign up (and what it answers), submit a paper.

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
                p { a href="/account/password-reset" { "Forgot your password?" } }
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
                    label { "Password (at least 12 characters, hard to guess: a phrase of unrelated words works well)"
                        input #password type="password" name="password" required
                        autocomplete="new-password" minlength="12" maxlength="128"; }
                    button type="submit" { "Create account" }
                }
                p { "Have an account? " a href="/login" { "Log in" } }
            }
        },
    )
}

/// What sign-up answers, whether or not the address already had an account (its owner
/// is mailed instead): the answer never tells which.
pub(crate) fn check_email_page(email: &str) -> Markup {
    page(
        "Check your inbox",
        &Viewer::anonymous(),
        html! {
            section.form-page {
                h1 #check-email { "Check your inbox" }
                p { "We sent a message to " strong { (email) } ". Follow the link in it to verify your address." }
                p { "You can " a href="/login" { "log in" } " now. Until your address is verified, your account works but cannot subscribe to digests." }
                p.hint { "Nothing arrived? Check the spam folder, or log in and ask for a new link on your account page." }
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
