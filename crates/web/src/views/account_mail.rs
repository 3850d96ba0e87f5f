//! The mails about an account: verify an address, reset a password, confirm a new
//! address, and the notices that something changed (or that someone tried to sign up
//! with an address that has an account). Each link in them serves one purpose only.
//! Text and HTML say the same; the HTML is escaped by maud like every page.

use maud::{DOCTYPE, Markup, html};

/// Which mail, with what it needs.
#[derive(Debug, Clone, Copy)]
pub(crate) enum AccountMail<'a> {
    VerifyEmail {
        username: &'a str,
        link: &'a str,
    },
    /// To the owner of an address someone tried to sign up with.
    SignUpAttempt {
        reset_link: &'a str,
    },
    ResetPassword {
        username: &'a str,
        link: &'a str,
    },
    /// To the new address of a change.
    ConfirmNewEmail {
        username: &'a str,
        link: &'a str,
    },
    /// To the old address once a change is done.
    EmailChanged {
        username: &'a str,
        new_email: &'a str,
        reset_link: &'a str,
    },
    PasswordChanged {
        username: &'a str,
        reset_link: &'a str,
    },
}

/// A composed mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MailBody {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// One paragraph of a mail; the link, if any, is shown as a button and in full.
struct Part<'a> {
    text: String,
    link: Option<(&'a str, &'a str)>,
}

fn says(text: impl Into<String>) -> Part<'static> {
    Part {
        text: text.into(),
        link: None,
    }
}

fn linked<'a>(text: impl Into<String>, label: &'a str, url: &'a str) -> Part<'a> {
    Part {
        text: text.into(),
        link: Some((label, url)),
    }
}

pub(crate) fn account_mail(mail: AccountMail<'_>, site: &str) -> MailBody {
    let (subject, parts): (&str, Vec<Part<'_>>) = match mail {
        AccountMail::VerifyEmail { username, link } => (
            "Verify your Daily Papers address",
            vec![
                says(format!("Hello {username},")),
                linked(
                    "someone (hopefully you) made a Daily Papers account with this address. \
                     Follow this link within 24 hours to verify it:",
                    "Verify my address",
                    link,
                ),
                says(
                    "If it was not you, ignore this mail: the address stays unverified and gets nothing else.",
                ),
            ],
        ),
        AccountMail::SignUpAttempt { reset_link } => (
            "Someone tried to sign up with your address",
            vec![
                says("Hello,"),
                says(
                    "someone tried to make a new Daily Papers account with this address, which already has one. No account was made.",
                ),
                linked(
                    "If it was you and you forgot your password, reset it here:",
                    "Reset my password",
                    reset_link,
                ),
                says("If it was not you, ignore this mail."),
            ],
        ),
        AccountMail::ResetPassword { username, link } => (
            "Reset your Daily Papers password",
            vec![
                says(format!("Hello {username},")),
                linked(
                    "someone (hopefully you) asked to reset your password. The link works once, \
                     for one hour, and using it logs out every browser:",
                    "Choose a new password",
                    link,
                ),
                says("If it was not you, ignore this mail: your password stays as it is."),
            ],
        ),
        AccountMail::ConfirmNewEmail { username, link } => (
            "Confirm your new Daily Papers address",
            vec![
                says(format!("Hello {username},")),
                linked(
                    "you asked to use this address for your Daily Papers account. Follow this \
                     link within 24 hours to make the change:",
                    "Use this address",
                    link,
                ),
                says("If it was not you, ignore this mail: nothing changes."),
            ],
        ),
        AccountMail::EmailChanged {
            username,
            new_email,
            reset_link,
        } => (
            "Your Daily Papers address was changed",
            vec![
                says(format!("Hello {username},")),
                says(format!(
                    "the address of your Daily Papers account is now {new_email}. This address gets no more mail about it."
                )),
                linked(
                    "If you did not do this, someone has your password: reset it and contact the site's operator.",
                    "Reset my password",
                    reset_link,
                ),
            ],
        ),
        AccountMail::PasswordChanged {
            username,
            reset_link,
        } => (
            "Your Daily Papers password was changed",
            vec![
                says(format!("Hello {username},")),
                says("your password was changed, and every other browser was logged out."),
                linked(
                    "If you did not do this, reset it now:",
                    "Reset my password",
                    reset_link,
                ),
            ],
        ),
    };
    MailBody {
        subject: subject.to_owned(),
        text: text(&parts, site),
        html: markup(subject, &parts, site).into_string(),
    }
}

fn text(parts: &[Part<'_>], site: &str) -> String {
    let mut out = String::new();
    for part in parts {
        out.push_str(&part.text);
        out.push('\n');
        if let Some((_, url)) = part.link {
            out.push('\n');
            out.push_str(url);
            out.push('\n');
        }
        out.push('\n');
    }
    out.push_str("--\nDaily Papers · ");
    out.push_str(site);
    out.push('\n');
    out
}

fn markup(subject: &str, parts: &[Part<'_>], site: &str) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head { meta charset="utf-8"; title { (subject) } }
            body style="font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#111827;max-width:560px;margin:0 auto;padding:24px;" {
                h1 style="font-size:20px;margin:0 0 16px 0;" { (subject) }
                @for part in parts {
                    p { (part.text) }
                    @if let Some((label, url)) = part.link {
                        p style="margin:24px 0;" {
                            a href=(url) style="display:inline-block;padding:10px 18px;background:#1d4ed8;color:#ffffff;border-radius:6px;text-decoration:none;font-weight:600;" { (label) }
                        }
                        p style="color:#4b5563;font-size:13px;" { "Or open " a href=(url) style="color:#1d4ed8;" { (url) } }
                    }
                }
                p style="color:#6b7280;font-size:13px;border-top:1px solid #e5e7eb;padding-top:12px;" { "Daily Papers · " (site) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_link_appears_whole_in_both_parts_and_names_are_escaped() {
        let link = "https://papers.test/account/verify/abc?x=1&y=2";
        let mail = account_mail(
            AccountMail::VerifyEmail {
                username: "<b>eve</b>",
                link,
            },
            "https://papers.test",
        );
        assert!(mail.text.contains(link));
        assert!(mail.text.contains("Hello <b>eve</b>,"));
        assert!(
            mail.html
                .contains("https://papers.test/account/verify/abc?x=1&amp;y=2")
        );
        assert!(!mail.html.contains("<b>eve</b>"));
        assert_eq!(mail.subject, "Verify your Daily Papers address");
    }
}
