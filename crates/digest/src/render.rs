//! Mail templates: one folder per kind under `templates/` (subject, text and HTML
//! body), compiled into the binary. HTML templates auto-escape; text ones do not.

use minijinja::{Environment, context};
use papers_store::Frequency;
use serde::Serialize;

use crate::compose::Digest;
use crate::links::Links;
use crate::{DigestError, Email};

/// A rendered mail, ready for [`crate::Mail`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// A rising topic in a weekly digest.
#[derive(Serialize)]
struct RisingView<'a> {
    name: &'a str,
    url: String,
    recent: usize,
    baseline: String,
    growth: String,
}

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html.j2", include_str!("../templates/base.html.j2")),
    (
        "digest/subject.txt.j2",
        include_str!("../templates/digest/subject.txt.j2"),
    ),
    (
        "digest/body.txt.j2",
        include_str!("../templates/digest/body.txt.j2"),
    ),
    (
        "digest/body.html.j2",
        include_str!("../templates/digest/body.html.j2"),
    ),
    (
        "confirm/subject.txt.j2",
        include_str!("../templates/confirm/subject.txt.j2"),
    ),
    (
        "confirm/body.txt.j2",
        include_str!("../templates/confirm/body.txt.j2"),
    ),
    (
        "confirm/body.html.j2",
        include_str!("../templates/confirm/body.html.j2"),
    ),
    (
        "manage/subject.txt.j2",
        include_str!("../templates/manage/subject.txt.j2"),
    ),
    (
        "manage/body.txt.j2",
        include_str!("../templates/manage/body.txt.j2"),
    ),
    (
        "manage/body.html.j2",
        include_str!("../templates/manage/body.html.j2"),
    ),
];

/// The signed links a manage mail carries, one purpose each.
pub(crate) struct ManageLinks {
    pub manage: String,
    /// Only while the subscription waits for confirmation.
    pub confirm: Option<String>,
    pub preview: String,
}

pub struct Templates {
    env: Environment<'static>,
}

#[derive(Serialize)]
struct PaperView<'a> {
    title: &'a str,
    authors: &'a str,
    upvotes: u32,
    url: String,
    reason: Option<&'a str>,
}

#[derive(Serialize)]
struct SectionView<'a> {
    title: &'a str,
    underline: String,
    papers: Vec<PaperView<'a>>,
}

impl Templates {
    pub fn new() -> Result<Templates, DigestError> {
        let mut env = Environment::new();
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        // `.html.j2` must escape like `.html`; text templates must not.
        env.set_auto_escape_callback(|name| {
            if name.ends_with(".html.j2") {
                minijinja::AutoEscape::Html
            } else {
                minijinja::AutoEscape::None
            }
        });
        // minijinja's HTML escaping also escapes `/`, which turns every link into
        // `http:&#x2f;&#x2f;…`: valid, but some mail clients and scanners mangle it.
        // Escaping the five characters that matter in text and attributes is enough.
        env.set_formatter(|out, state, value| match value.as_str() {
            Some(text)
                if state.auto_escape() == minijinja::AutoEscape::Html && !value.is_safe() =>
            {
                out.write_str(&escape_html(text)).map_err(|_| {
                    minijinja::Error::new(minijinja::ErrorKind::WriteFailure, "cannot write output")
                })
            }
            _ => minijinja::escape_formatter(out, state, value),
        });
        for (name, source) in TEMPLATES {
            env.add_template(name, source)
                .map_err(|source| template_error(name, source))?;
        }
        Ok(Templates { env })
    }

    pub fn digest(
        &self,
        digest: &Digest,
        email: &Email,
        links: &Links,
        unsubscribe_url: &str,
    ) -> Result<Rendered, DigestError> {
        let sections: Vec<SectionView<'_>> = digest
            .sections
            .iter()
            .map(|section| SectionView {
                title: &section.title,
                underline: "=".repeat(section.title.chars().count()),
                papers: section
                    .papers
                    .iter()
                    .map(|paper| PaperView {
                        title: &paper.title,
                        authors: &paper.authors,
                        upvotes: paper.upvotes,
                        url: links.paper(&paper.id),
                        reason: paper.reason.as_deref(),
                    })
                    .collect(),
            })
            .collect();
        let rising: Vec<RisingView> = digest
            .rising
            .iter()
            .map(|topic| RisingView {
                name: &topic.name,
                url: links.topic(topic.id),
                recent: topic.recent,
                baseline: format!("{:.1}", topic.baseline),
                growth: format!("{:+.0} %", topic.growth * 100.0),
            })
            .collect();
        let context = context! {
            period => digest.period.label(),
            rising,
            weekly => digest.period.frequency == Frequency::Weekly,
            frequency => digest.period.frequency.as_str(),
            sections,
            email => email.as_str(),
            base_url => links.base().as_str(),
            preferences_url => links.preferences(),
            unsubscribe_url,
        };
        self.render("digest", context)
    }

    pub fn confirmation(
        &self,
        email: &Email,
        frequency: Frequency,
        links: &Links,
        confirm_url: &str,
    ) -> Result<Rendered, DigestError> {
        let context = context! {
            email => email.as_str(),
            frequency => frequency.as_str(),
            confirm_url,
            base_url => links.base().as_str(),
        };
        self.render("confirm", context)
    }

    pub(crate) fn manage(
        &self,
        email: &Email,
        frequency: Frequency,
        links: &Links,
        manage: &ManageLinks,
    ) -> Result<Rendered, DigestError> {
        let context = context! {
            email => email.as_str(),
            frequency => frequency.as_str(),
            manage_url => &manage.manage,
            manage_hours => crate::MANAGE_TTL.num_hours(),
            confirm_url => &manage.confirm,
            confirm_hours => crate::CONFIRM_TTL.num_hours(),
            preview_url => &manage.preview,
            base_url => links.base().as_str(),
        };
        self.render("manage", context)
    }

    fn render(&self, kind: &str, context: minijinja::Value) -> Result<Rendered, DigestError> {
        let render = |part: &str, context: &minijinja::Value| -> Result<String, DigestError> {
            let name = format!("{kind}/{part}");
            self.env
                .get_template(&name)
                .and_then(|template| template.render(context))
                .map_err(|source| template_error(&name, source))
        };
        let subject = render("subject.txt.j2", &context)?.trim().to_owned();
        // A subject is a header: a template bug must not be able to add lines to it.
        if subject.chars().any(char::is_control) {
            return Err(DigestError::Message {
                to: String::new(),
                reason: format!("the {kind} subject has a control character"),
            });
        }
        let with_subject = context! { subject => subject.clone(), ..context };
        Ok(Rendered {
            text: render("body.txt.j2", &with_subject)?,
            html: render("body.html.j2", &with_subject)?,
            subject,
        })
    }
}

fn escape_html(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            _ => escaped.push(c),
        }
    }
    escaped
}

fn template_error(name: &str, source: minijinja::Error) -> DigestError {
    DigestError::Template {
        template: name.to_owned(),
        source,
    }
}
