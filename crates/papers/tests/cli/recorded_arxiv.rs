//! A stand-in for the arXiv API on 127.0.0.1: answers `/api/query?id_list=ID` with
//! the recorded responses in the shared data (`arxiv-api-atom/arxiv.py-fixtures`),
//! with hand-made feeds for papers recent enough to submit, and with the recorded
//! empty feed for any other id; it can be switched to answer `503` as arXiv does
//! when it is down.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

use crate::common::data;

pub struct RecordedArxiv {
    pub base: String,
    down: Arc<AtomicBool>,
    requests: Arc<AtomicUsize>,
    feeds: Arc<Mutex<HashMap<String, String>>>,
}

impl RecordedArxiv {
    /// Serves the shared data's recorded `id_list` responses, keyed by bare id.
    pub fn start(shared: &Path) -> RecordedArxiv {
        let dir = data(shared, "arxiv-api-atom/arxiv.py-fixtures");
        let mut feeds = HashMap::new();
        let mut empty = None;
        for entry in std::fs::read_dir(&dir).expect("recorded responses") {
            let path = entry.expect("entry").path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let recorded: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&path).expect("read"))
                    .expect("recorded JSON");
            let url = recorded["url"].as_str().expect("url");
            let Some(list) = query_value(url, "id_list").filter(|list| !list.is_empty()) else {
                continue;
            };
            let body = recorded["body"].as_str().expect("body").to_owned();
            if list == "0000.0000" {
                empty = Some(body.clone());
            }
            if recorded["status_code"] == 200 && !list.contains(',') {
                feeds.insert(bare(&list), body);
            }
        }
        feeds.insert(
            String::new(),
            empty.expect("the recorded response for an unknown id"),
        );
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let server = RecordedArxiv {
            base,
            down: Arc::new(AtomicBool::new(false)),
            requests: Arc::new(AtomicUsize::new(0)),
            feeds: Arc::new(Mutex::new(feeds)),
        };
        let (down, requests, feeds) = (
            server.down.clone(),
            server.requests.clone(),
            server.feeds.clone(),
        );
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                requests.fetch_add(1, Ordering::SeqCst);
                answer(stream, down.load(Ordering::SeqCst), &feeds);
            }
        });
        server
    }

    /// Adds a paper first published at `published`, as the API would describe it.
    pub fn add_paper(&self, id: &str, title: &str, published: DateTime<Utc>) {
        let stamp = published.format("%Y-%m-%dT%H:%M:%SZ");
        let feed = format!(
            r#"<?xml version='1.0' encoding='UTF-8'?>
<feed xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns="http://www.w3.org/2005/Atom">
  <id>https://arxiv.org/api/recorded-{id}</id>
  <title>arXiv Query: search_query=&amp;id_list={id}&amp;start=0&amp;max_results=1</title>
  <updated>{stamp}</updated>
  <opensearch:itemsPerPage>1</opensearch:itemsPerPage>
  <opensearch:totalResults>1</opensearch:totalResults>
  <opensearch:startIndex>0</opensearch:startIndex>
  <entry>
    <id>http://arxiv.org/abs/{id}v1</id>
    <title>{title}</title>
    <updated>{stamp}</updated>
    <link href="https://arxiv.org/abs/{id}v1" rel="alternate" type="text/html"/>
    <link href="https://arxiv.org/pdf/{id}v1" rel="related" type="application/pdf" title="pdf"/>
    <summary>We submit {title} to a self-hosted daily feed and search for it.</summary>
    <category term="cs.IR" scheme="http://arxiv.org/schemas/atom"/>
    <published>{stamp}</published>
    <arxiv:primary_category term="cs.IR"/>
    <author><name>Grace Hopper</name></author>
  </entry>
</feed>
"#
        );
        self.feeds
            .lock()
            .expect("feeds")
            .insert(id.to_owned(), feed);
    }

    /// From now on every request gets `503` with `Retry-After`, or the feeds again.
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    /// How many requests have arrived.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

fn answer(mut stream: TcpStream, down: bool, feeds: &Mutex<HashMap<String, String>>) {
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(stream) => stream,
        Err(_) => return,
    });
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    // The headers end at the first empty line; nothing in them matters here.
    let mut line = String::new();
    while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line.trim() != "" {
        line.clear();
    }
    let target = request_line.split_whitespace().nth(1).unwrap_or("");
    let (status, extra, body) = if down {
        (
            "503 Service Unavailable",
            "Retry-After: 30\r\n",
            "Service temporarily unavailable".to_owned(),
        )
    } else if target.starts_with("/api/query?") {
        let id = query_value(target, "id_list").map(|list| bare(&list));
        let feeds = feeds.lock().expect("feeds");
        let feed = id
            .and_then(|id| feeds.get(&id).cloned())
            .or_else(|| feeds.get("").cloned())
            .unwrap_or_default();
        ("200 OK", "", feed)
    } else {
        ("404 Not Found", "", "not here".to_owned())
    };
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/atom+xml; charset=utf-8\r\n{extra}\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes());
}

/// A query parameter of a URL or request target, percent-decoded.
fn query_value(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| decode(value))
}

fn decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'%' if at + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[at + 1..at + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(byte) => {
                        out.push(byte);
                        at += 3;
                    }
                    Err(_) => {
                        out.push(b'%');
                        at += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                at += 1;
            }
            byte => {
                out.push(byte);
                at += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// An id without its version: `2104.12255v1` → `2104.12255`.
fn bare(id: &str) -> String {
    match id.rsplit_once('v') {
        Some((head, version))
            if !version.is_empty() && version.bytes().all(|b| b.is_ascii_digit()) =>
        {
            head.to_owned()
        }
        _ => id.to_owned(),
    }
}
