//! RSS and Atom: well-formed XML with the elements validators require, for every
//! kind of view and for searches.

use std::collections::BTreeMap;

use axum::http::{StatusCode, header};
use quick_xml::Reader;
use quick_xml::events::Event;

use crate::common::app;

/// Parses the whole document (failing on malformed XML) and counts element paths such
/// as `rss/channel/item/title`, with the text of the first element at each path.
fn outline(xml: &str) -> BTreeMap<String, (usize, String)> {
    let mut reader = Reader::from_str(xml);
    let mut stack: Vec<String> = Vec::new();
    let mut seen: BTreeMap<String, (usize, String)> = BTreeMap::new();
    loop {
        match reader.read_event() {
            Ok(Event::Start(start)) => {
                stack.push(start.name().into_inner().to_owned());
                seen.entry(stack.join("/")).or_insert((0, String::new())).0 += 1;
            }
            Ok(Event::Empty(empty)) => {
                let path = format!("{}/{}", stack.join("/"), empty.name().into_inner());
                seen.entry(path).or_insert((0, String::new())).0 += 1;
            }
            Ok(Event::Text(text)) => {
                let value = text.xml10_content().into_owned();
                if let Some(entry) = seen.get_mut(&stack.join("/"))
                    && entry.1.is_empty()
                {
                    entry.1 = quick_xml::escape::unescape(&value)
                        .map(|v| v.into_owned())
                        .unwrap_or(value);
                }
            }
            Ok(Event::GeneralRef(_)) => {}
            Ok(Event::End(_)) => {
                stack.pop();
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(error) => panic!(
                "malformed XML at {}: {error}\n{xml}",
                reader.buffer_position()
            ),
        }
    }
    assert!(stack.is_empty(), "unclosed elements: {stack:?}");
    seen
}

fn check_rss(xml: &str, items: usize) {
    let outline = outline(xml);
    for path in [
        "rss/channel/title",
        "rss/channel/link",
        "rss/channel/description",
    ] {
        assert_eq!(outline.get(path).map(|e| e.0), Some(1), "{path}");
    }
    for path in [
        "rss/channel/item/title",
        "rss/channel/item/link",
        "rss/channel/item/guid",
    ] {
        assert_eq!(outline.get(path).map(|e| e.0).unwrap_or(0), items, "{path}");
    }
}

fn check_atom(xml: &str, entries: usize) {
    let outline = outline(xml);
    for path in ["feed/id", "feed/title", "feed/updated"] {
        assert_eq!(outline.get(path).map(|e| e.0), Some(1), "{path}");
    }
    for path in [
        "feed/entry/id",
        "feed/entry/title",
        "feed/entry/updated",
        "feed/entry/link",
    ] {
        assert_eq!(
            outline.get(path).map(|e| e.0).unwrap_or(0),
            entries,
            "{path}"
        );
    }
}

#[tokio::test]
async fn every_view_has_rss_and_atom() {
    let app = app();
    for (base, count) in [
        ("/papers", 2),
        ("/papers/date/2024-01-03", 2),
        ("/papers/week/2024-W01", 4),
        ("/papers/month/2024-01", 6),
        ("/papers/trending", 6),
    ] {
        let rss = app.get(&format!("{base}/feed.rss")).await;
        assert_eq!(rss.status, StatusCode::OK, "{base}");
        assert_eq!(
            rss.headers[header::CONTENT_TYPE],
            "application/rss+xml; charset=utf-8"
        );
        check_rss(&rss.body, count);
        let atom = app.get(&format!("{base}/feed.atom")).await;
        assert_eq!(
            atom.headers[header::CONTENT_TYPE],
            "application/atom+xml; charset=utf-8"
        );
        check_atom(&atom.body, count);
    }
    let filtered = app
        .get("/papers/month/2024-01/feed.rss?category=cs.IR")
        .await;
    check_rss(&filtered.body, 2);
}

#[tokio::test]
async fn hostile_titles_stay_text_in_feeds() {
    let app = app();
    let rss = app.get("/papers/date/2024-01-03/feed.rss").await;
    assert!(!rss.body.contains("<script>"));
    let titles = outline(&rss.body);
    assert!(rss.body.contains("&lt;script&gt;"));
    assert!(titles.contains_key("rss/channel/item/title"));
}

#[tokio::test]
async fn searches_can_be_followed() {
    let app = app();
    let atom = app.get("/search/feed.atom?q=retrieval").await;
    assert_eq!(atom.status, StatusCode::OK);
    check_atom(&atom.body, 2);
    let rss = app.get("/search/feed.rss?q=retrieval&mode=lexical").await;
    check_rss(&rss.body, 2);
    let outline = outline(&rss.body);
    assert!(outline["rss/channel/title"].1.contains("retrieval"));
    assert_eq!(
        app.get("/search/feed.rss").await.status,
        StatusCode::BAD_REQUEST
    );
}
