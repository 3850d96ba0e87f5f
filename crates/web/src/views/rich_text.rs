//! Members' Markdown (comments) to safe HTML: pulldown-cmark parses it, and ammonia
//! sanitises what comes out, so nothing a member writes can become a script, an
//! event handler, a `javascript:` link, an embedded image or raw markup. Before
//! sanitising, raw HTML in the source is turned into visible text, images into plain
//! links (a comment never makes the reader's browser fetch anything), and mentions of
//! arXiv ids (`2401.00001`, `arXiv:2401.00001v2`, `hep-th/9901001`) into links to
//! their pages here.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, LazyLock, Mutex};

use maud::{Markup, PreEscaped};
use papers_core::VersionedId;
use pulldown_cmark::{CowStr, Event, LinkType, Options, Parser, Tag, TagEnd};

/// The sanitiser, configured once: links get `rel="nofollow noopener ugc"`, only
/// http(s) and mailto URLs survive, no images.
static CLEANER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut builder = ammonia::Builder::default();
    builder
        .rm_tags(["img"])
        .url_schemes(HashSet::from(["http", "https", "mailto"]))
        .link_rel(Some("nofollow noopener ugc"));
    builder
});

/// Rendered comments kept, keyed by their Markdown: the same text always renders the
/// same way, so an entry never goes stale, and a page of 200 comments costs lookups
/// instead of 200 parses and sanitiser passes for every member who opens it.
static RENDERED: LazyLock<Mutex<Rendered>> = LazyLock::new(|| Mutex::new(Rendered::default()));

/// Comments kept in [`RENDERED`] before it starts again.
const RENDERED_KEPT: usize = 20_000;

/// Bytes of Markdown and HTML kept in [`RENDERED`] before it starts again: bounded by
/// the count alone, 20,000 comments of 10,000 characters (whose HTML can be several
/// times longer) would have held over a gigabyte. Starting again costs one render per
/// comment shown.
const RENDERED_BYTES: usize = 16 << 20;

#[derive(Default)]
struct Rendered {
    html: HashMap<String, Arc<str>>,
    /// The lengths of the keys and values in `html`.
    bytes: usize,
}

impl Rendered {
    fn insert(&mut self, markdown: &str, html: Arc<str>) {
        let weight = markdown.len() + html.len();
        if self.html.len() >= RENDERED_KEPT || self.bytes + weight > RENDERED_BYTES {
            self.html.clear();
            self.bytes = 0;
        }
        if self.html.insert(markdown.to_owned(), html).is_none() {
            self.bytes += weight;
        }
    }
}

/// A comment's Markdown as sanitised HTML.
pub(crate) fn render(markdown: &str) -> Markup {
    let lock = || match RENDERED.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    };
    if let Some(html) = lock().html.get(markdown) {
        return PreEscaped(html.to_string());
    }
    let html: Arc<str> = Arc::from(render_uncached(markdown));
    lock().insert(markdown, Arc::clone(&html));
    PreEscaped(html.to_string())
}

fn render_uncached(markdown: &str) -> String {
    let mut options = Options::empty();
    options.insert(Options::ENABLE_STRIKETHROUGH);
    options.insert(Options::ENABLE_TABLES);
    let mut events = Vec::new();
    // Inside a link or code, ids stay as written.
    let mut plain_depth = 0usize;
    for event in Parser::new_ext(markdown, options) {
        match event {
            Event::Html(raw) | Event::InlineHtml(raw) => events.push(Event::Text(raw)),
            Event::Start(Tag::Image {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                plain_depth += 1;
                events.push(Event::Start(Tag::Link {
                    link_type,
                    dest_url,
                    title,
                    id,
                }));
            }
            Event::End(TagEnd::Image) => {
                plain_depth = plain_depth.saturating_sub(1);
                events.push(Event::End(TagEnd::Link));
            }
            Event::Start(tag @ (Tag::Link { .. } | Tag::CodeBlock(_))) => {
                plain_depth += 1;
                events.push(Event::Start(tag));
            }
            Event::End(tag @ (TagEnd::Link | TagEnd::CodeBlock)) => {
                plain_depth = plain_depth.saturating_sub(1);
                events.push(Event::End(tag));
            }
            Event::Text(text) if plain_depth == 0 => link_ids(&text, &mut events),
            other => events.push(other),
        }
    }
    let mut html = String::with_capacity(markdown.len() * 2);
    pulldown_cmark::html::push_html(&mut html, events.into_iter());
    CLEANER.clean(&html).to_string()
}

/// Pushes `text` as text events, with each arXiv id in it as a link to its page.
fn link_ids<'a>(text: &str, events: &mut Vec<Event<'a>>) {
    let mut last = 0;
    for (start, end, id) in arxiv_mentions(text) {
        if start > last {
            events.push(Event::Text(CowStr::from(text[last..start].to_owned())));
        }
        events.push(Event::Start(Tag::Link {
            link_type: LinkType::Inline,
            dest_url: CowStr::from(format!("/papers/{id}")),
            title: CowStr::from(""),
            id: CowStr::from(""),
        }));
        events.push(Event::Text(CowStr::from(text[start..end].to_owned())));
        events.push(Event::End(TagEnd::Link));
        last = end;
    }
    if last < text.len() {
        events.push(Event::Text(CowStr::from(text[last..].to_owned())));
    }
}

/// Where arXiv ids occur in `text`: byte ranges and the bare id each names. A
/// candidate is a whole word of letters, digits, `.`, `-` and `/` (a trailing full stop
/// is the sentence's), which must parse as an id, with or without its version.
pub(crate) fn arxiv_mentions(text: &str) -> Vec<(usize, usize, String)> {
    let is_part = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '/');
    let mut found = Vec::new();
    let mut chars = text.char_indices().peekable();
    let mut previous: Option<char> = None;
    while let Some((start, c)) = chars.next() {
        let at_word_start = is_part(c) && !previous.is_some_and(is_part);
        previous = Some(c);
        if !at_word_start {
            continue;
        }
        let mut end = start + c.len_utf8();
        while let Some(&(at, next)) = chars.peek() {
            if !is_part(next) {
                break;
            }
            end = at + next.len_utf8();
            previous = Some(next);
            chars.next();
        }
        let word = text[start..end].trim_end_matches(['.', '-', '/']);
        if !word.bytes().any(|b| b.is_ascii_digit()) {
            continue;
        }
        if let Ok(reference) = VersionedId::parse_reference(word) {
            found.push((start, start + word.len(), reference.id.as_str().to_owned()));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn html(markdown: &str) -> String {
        render(markdown).into_string()
    }

    #[test]
    fn the_rendered_comments_kept_stay_within_their_byte_budget() {
        // Long comments, all different: the count bound alone would keep 20,000.
        let list = "- item\n".repeat(1_400);
        let html: Arc<str> = Arc::from(render_uncached(&list));
        assert!(html.len() > 2 * list.len(), "HTML outgrows its Markdown");
        let mut kept = Rendered::default();
        for n in 0..1_000 {
            kept.insert(&format!("{n} {list}"), Arc::clone(&html));
            assert!(kept.bytes <= RENDERED_BYTES, "{} bytes kept", kept.bytes);
            let held: usize = kept.html.iter().map(|(k, v)| k.len() + v.len()).sum();
            assert_eq!(held, kept.bytes);
        }
        assert!(!kept.html.is_empty());
    }

    #[test]
    fn ids_are_found_with_their_versions_and_not_inside_other_words() {
        let text = "See 2401.00001v2, hep-th/9901001 and arXiv:2312.09999. Not 1.5 or 2401.1 or x2401.00001.";
        let ids: Vec<String> = arxiv_mentions(text).into_iter().map(|m| m.2).collect();
        assert_eq!(ids, ["2401.00001", "hep-th/9901001", "2312.09999"]);
        let (start, end, _) = arxiv_mentions(text)[0].clone();
        assert_eq!(&text[start..end], "2401.00001v2");
    }

    #[test]
    fn hostile_markdown_is_inert() {
        let out = html(
            "<script>alert(1)</script>\n\nhi <img src=x onerror=alert(1)> [x](javascript:alert(1)) ![p](https://evil.example/p.png)",
        );
        assert!(!out.contains("<script"), "{out}");
        assert!(!out.contains("<img"), "{out}");
        assert!(!out.contains("javascript:"), "{out}");
        assert!(!out.contains("<img src"), "{out}");
        assert!(
            out.contains("&lt;script&gt;"),
            "raw HTML shows as text: {out}"
        );
        assert!(
            out.contains("href=\"https://evil.example/p.png\""),
            "an image becomes a link: {out}"
        );
    }

    #[test]
    fn markdown_renders_and_links_get_rel() {
        let out =
            html("**bold** and [a link](https://example.org) about 2401.00001\n\n`2401.00002`");
        assert!(out.contains("<strong>bold</strong>"), "{out}");
        assert!(
            out.contains(
                "<a href=\"https://example.org\" rel=\"nofollow noopener ugc\">a link</a>"
            ),
            "{out}"
        );
        assert!(
            out.contains(
                "<a href=\"/papers/2401.00001\" rel=\"nofollow noopener ugc\">2401.00001</a>"
            ),
            "{out}"
        );
        assert!(
            out.contains("<code>2401.00002</code>"),
            "ids in code stay: {out}"
        );
    }
}
