//! The narrow interfaces the site needs from components the binary wires in: a search
//! backend (lexical, dense or hybrid, over the papers index) and a fetcher for papers
//! the store does not have yet (the arXiv API when online).

use papers_core::{ArxivId, PaperRecord};

/// Which retrieval the reader asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SearchMode {
    #[default]
    Hybrid,
    Lexical,
    Semantic,
}

impl SearchMode {
    pub fn parse(text: &str) -> Option<SearchMode> {
        match text {
            "" | "hybrid" => Some(SearchMode::Hybrid),
            "lexical" | "bm25" | "keyword" => Some(SearchMode::Lexical),
            "semantic" | "dense" => Some(SearchMode::Semantic),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SearchMode::Hybrid => "hybrid",
            SearchMode::Lexical => "lexical",
            SearchMode::Semantic => "semantic",
        }
    }
}

/// A piece of the paper's text with the byte ranges that matched the query. The site
/// escapes the text itself and wraps the ranges in `<mark>`, so a backend never hands
/// it HTML.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Snippet {
    pub text: String,
    /// Byte ranges into `text`, ascending and non-overlapping.
    pub highlights: Vec<(usize, usize)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SearchHit {
    /// The store key of the paper.
    pub key: i64,
    pub score: f32,
    pub snippet: Option<Snippet>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct SearchOutcome {
    /// Best first, already cut at the backend's relevance cutoff: an empty list means
    /// "no good matches", not "no index".
    pub hits: Vec<SearchHit>,
    /// Something the reader should know about how the search ran, shown above the
    /// results: e.g. "semantic search is unavailable (no model); showing keyword
    /// matches".
    pub note: Option<String>,
}

/// Implemented by the binary over `papers-index`. Calls block (they run inside
/// `spawn_blocking`).
pub trait SearchBackend: Send + Sync {
    /// `query` uses the index's query syntax; errors are shown to the reader as a bad
    /// query (400), so they should say what is wrong with it.
    fn search(&self, query: &str, mode: SearchMode, limit: usize) -> Result<SearchOutcome, String>;

    /// Papers most like the paper with store key `key`, excluding itself.
    fn similar(&self, key: i64, k: usize) -> Result<Vec<SearchHit>, String>;
}

/// Fetches a paper's metadata from outside (the arXiv API). Blocking.
pub trait PaperFetcher: Send + Sync {
    /// `Ok(None)` when the source has no such paper; `Err` when it cannot be reached.
    fn fetch(&self, id: &ArxivId) -> Result<Option<PaperRecord>, String>;
}
