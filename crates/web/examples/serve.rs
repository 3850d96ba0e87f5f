//! Serves a data directory for benchmarks and manual testing until `papers serve` is
//! wired, with a small in-memory BM25 index standing in for papers-index.
//!
//! `cargo run --release -p papers-web --example serve -- DATA_DIR 127.0.0.1:8080 [PUBLIC_URL]`

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use papers_store::Store;
use papers_web::{
    AppConfig, AppState, SearchBackend, SearchHit, SearchMode, SearchOutcome, Snippet,
};

/// BM25 over titles and abstracts: enough to exercise the search page and API.
struct SmallIndex {
    keys: Vec<i64>,
    lengths: Vec<f32>,
    abstracts: Vec<String>,
    titles: Vec<String>,
    postings: HashMap<String, Vec<(u32, u16)>>,
    average_length: f32,
}

fn tokens(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|t| t.len() > 1)
        .map(str::to_lowercase)
}

impl SmallIndex {
    fn build(store: &Store) -> Result<SmallIndex, papers_store::StoreError> {
        let mut index = SmallIndex {
            keys: Vec::new(),
            lengths: Vec::new(),
            abstracts: Vec::new(),
            titles: Vec::new(),
            postings: HashMap::new(),
            average_length: 1.0,
        };
        store.for_each_paper(|paper| {
            let doc = index.keys.len() as u32;
            let metadata = &paper.paper.metadata;
            let mut counts: HashMap<String, u16> = HashMap::new();
            let mut length = 0u32;
            for token in tokens(&metadata.title).chain(tokens(&metadata.abstract_text)) {
                *counts.entry(token).or_default() += 1;
                length += 1;
            }
            for (token, count) in counts {
                index.postings.entry(token).or_default().push((doc, count));
            }
            index.keys.push(paper.key);
            index.lengths.push(length as f32);
            index.titles.push(metadata.title.clone());
            index.abstracts.push(metadata.abstract_text.clone());
        })?;
        index.average_length =
            index.lengths.iter().sum::<f32>() / index.lengths.len().max(1) as f32;
        Ok(index)
    }

    fn rank(&self, query: &str, limit: usize, skip: Option<u32>) -> Vec<(u32, f32)> {
        let count = self.keys.len() as f32;
        let mut scores: HashMap<u32, f32> = HashMap::new();
        for token in tokens(query) {
            let Some(list) = self.postings.get(&token) else {
                continue;
            };
            let idf = ((count - list.len() as f32 + 0.5) / (list.len() as f32 + 0.5) + 1.0).ln();
            for &(doc, tf) in list {
                let tf = f32::from(tf);
                let norm = 1.2 * (0.25 + 0.75 * self.lengths[doc as usize] / self.average_length);
                *scores.entry(doc).or_default() += idf * tf * 2.2 / (tf + norm);
            }
        }
        let mut ranked: Vec<(u32, f32)> = scores
            .into_iter()
            .filter(|(d, _)| Some(*d) != skip)
            .collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
        ranked.truncate(limit);
        ranked
    }

    fn snippet(&self, doc: u32, query: &str) -> Snippet {
        let text: String = self.abstracts[doc as usize]
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let text: String = text.chars().take(240).collect();
        let lower = text.to_lowercase();
        let mut highlights = Vec::new();
        if lower.len() == text.len() {
            for token in tokens(query) {
                let mut from = 0;
                while let Some(at) = lower[from..].find(&token) {
                    highlights.push((from + at, from + at + token.len()));
                    from += at + token.len();
                }
            }
        }
        highlights.sort_unstable();
        highlights.dedup_by(|b, a| b.0 < a.1);
        Snippet { text, highlights }
    }
}

impl SearchBackend for SmallIndex {
    fn search(
        &self,
        query: &str,
        _mode: SearchMode,
        limit: usize,
    ) -> Result<SearchOutcome, String> {
        let hits = self
            .rank(query, limit, None)
            .into_iter()
            .map(|(doc, score)| SearchHit {
                key: self.keys[doc as usize],
                score,
                snippet: Some(self.snippet(doc, query)),
            })
            .collect();
        Ok(SearchOutcome { hits, note: None })
    }

    fn similar(&self, key: i64, k: usize) -> Result<Vec<SearchHit>, String> {
        let Some(doc) = self.keys.iter().position(|candidate| *candidate == key) else {
            return Ok(Vec::new());
        };
        let title = self.titles[doc].clone();
        Ok(self
            .rank(&title, k, Some(doc as u32))
            .into_iter()
            .map(|(doc, score)| SearchHit {
                key: self.keys[doc as usize],
                score,
                snippet: None,
            })
            .collect())
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let data_dir = PathBuf::from(
        args.next()
            .ok_or("usage: serve DATA_DIR ADDR [PUBLIC_URL]")?,
    );
    let addr: SocketAddr = args
        .next()
        .unwrap_or_else(|| "127.0.0.1:8080".into())
        .parse()?;
    let public_url = args.next().unwrap_or_else(|| format!("http://{addr}"));
    let index = SmallIndex::build(&Store::open(&data_dir)?)?;
    eprintln!("indexed {} papers", index.keys.len());
    let mut config = AppConfig::new(data_dir, public_url);
    // The bench signs up and votes from one address; keep the limits out of its way.
    config.auth_per_minute = 10_000;
    let state = AppState::open(config)?.with_search(Arc::new(index));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(papers_web::serve(addr, state))?;
    Ok(())
}
