//! RSS 2.0 and Atom 1.0 documents, written with quick-xml's writer so every text node
//! and attribute is escaped, and characters XML 1.0 forbids are dropped first.

use std::io;

use chrono::{DateTime, Utc};
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};

/// A feed, format-neutral.
#[derive(Debug, Clone)]
pub(crate) struct FeedDoc {
    pub title: String,
    /// The HTML page the feed mirrors (absolute).
    pub link: String,
    /// The feed's own URL (absolute): Atom's id and `rel="self"`.
    pub self_url: String,
    pub description: String,
    pub updated: DateTime<Utc>,
    pub entries: Vec<FeedEntry>,
}

#[derive(Debug, Clone)]
pub(crate) struct FeedEntry {
    pub title: String,
    /// Absolute URL of the paper page; also the guid/id.
    pub link: String,
    pub summary: String,
    pub authors: Vec<String>,
    pub categories: Vec<String>,
    pub updated: DateTime<Utc>,
}

/// Keeps only characters XML 1.0 allows (no C0 controls except tab, LF, CR).
fn clean(text: &str) -> String {
    text.chars()
        .filter(|c| {
            matches!(c, '\t' | '\n' | '\r') || (*c >= ' ' && !matches!(c, '\u{FFFE}' | '\u{FFFF}'))
        })
        .collect()
}

fn text_element(writer: &mut Writer<Vec<u8>>, name: &str, text: &str) -> io::Result<()> {
    writer
        .create_element(name)
        .write_text_content(BytesText::new(&clean(text)))?;
    Ok(())
}

pub(crate) fn rss(doc: &FeedDoc) -> io::Result<String> {
    let mut writer = Writer::new(Vec::new());
    writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    writer
        .create_element("rss")
        .with_attribute(("version", "2.0"))
        .with_attribute(("xmlns:atom", "http://www.w3.org/2005/Atom"))
        .write_inner_content(|w| {
            w.create_element("channel").write_inner_content(|w| {
                text_element(w, "title", &doc.title)?;
                text_element(w, "link", &doc.link)?;
                text_element(w, "description", &doc.description)?;
                text_element(w, "lastBuildDate", &doc.updated.to_rfc2822())?;
                w.create_element("atom:link")
                    .with_attribute(("href", clean(&doc.self_url).as_str()))
                    .with_attribute(("rel", "self"))
                    .with_attribute(("type", "application/rss+xml"))
                    .write_empty()?;
                for entry in &doc.entries {
                    w.create_element("item").write_inner_content(|w| {
                        text_element(w, "title", &entry.title)?;
                        text_element(w, "link", &entry.link)?;
                        w.create_element("guid")
                            .with_attribute(("isPermaLink", "true"))
                            .write_text_content(BytesText::new(&clean(&entry.link)))?;
                        text_element(w, "description", &entry.summary)?;
                        text_element(w, "pubDate", &entry.updated.to_rfc2822())?;
                        for category in &entry.categories {
                            text_element(w, "category", category)?;
                        }
                        Ok(())
                    })?;
                }
                Ok(())
            })?;
            Ok(())
        })?;
    String::from_utf8(writer.into_inner()).map_err(io::Error::other)
}

pub(crate) fn atom(doc: &FeedDoc) -> io::Result<String> {
    let mut writer = Writer::new(Vec::new());
    writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    writer
        .create_element("feed")
        .with_attribute(("xmlns", "http://www.w3.org/2005/Atom"))
        .write_inner_content(|w| {
            text_element(w, "id", &doc.self_url)?;
            text_element(w, "title", &doc.title)?;
            text_element(w, "subtitle", &doc.description)?;
            text_element(w, "updated", &doc.updated.to_rfc3339())?;
            w.create_element("link")
                .with_attribute(("rel", "self"))
                .with_attribute(("href", clean(&doc.self_url).as_str()))
                .write_empty()?;
            w.create_element("link")
                .with_attribute(("rel", "alternate"))
                .with_attribute(("type", "text/html"))
                .with_attribute(("href", clean(&doc.link).as_str()))
                .write_empty()?;
            w.create_element("author")
                .write_inner_content(|w| text_element(w, "name", "Daily Papers"))?;
            for entry in &doc.entries {
                w.create_element("entry").write_inner_content(|w| {
                    text_element(w, "id", &entry.link)?;
                    text_element(w, "title", &entry.title)?;
                    text_element(w, "updated", &entry.updated.to_rfc3339())?;
                    w.create_element("link")
                        .with_attribute(("rel", "alternate"))
                        .with_attribute(("href", clean(&entry.link).as_str()))
                        .write_empty()?;
                    for author in &entry.authors {
                        w.create_element("author")
                            .write_inner_content(|w| text_element(w, "name", author))?;
                    }
                    for category in &entry.categories {
                        w.create_element("category")
                            .with_attribute(("term", clean(category).as_str()))
                            .write_empty()?;
                    }
                    text_element(w, "summary", &entry.summary)?;
                    Ok(())
                })?;
            }
            Ok(())
        })?;
    String::from_utf8(writer.into_inner()).map_err(io::Error::other)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_dropped_and_markup_escaped() {
        let doc = FeedDoc {
            title: "a <b> & \u{0C}c".into(),
            link: "http://x/?a=1&b=2".into(),
            self_url: "http://x/feed".into(),
            description: "d".into(),
            updated: DateTime::UNIX_EPOCH,
            entries: Vec::new(),
        };
        let text = rss(&doc).expect("rss");
        assert!(
            text.contains("<title>a &lt;b&gt; &amp; c</title>"),
            "{text}"
        );
        assert!(text.contains("a=1&amp;b=2"));
    }
}
