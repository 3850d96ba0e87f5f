//! The narrow interfaces the site needs from components the binary wires in: a search
//! backend (lexical, dense or hybrid, over the papers index, and the digests' saved
//! searches over the same index) and a fetcher for papers the store does not have yet
//! (the arXiv API when online), with the errors each may answer; [`crate::HttpError`]
//! turns those into status codes.

pub use papers_core::SearchMode;
use papers_core::{ArxivId, Category, PaperRecord};
use papers_digest::SavedSearch;

use crate::cache::CacheStats;

/// A failure of a component behind one of these traits, kept for the log.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// One search as the site asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchRequest {
    /// In the index's query syntax.
    pub query: String,
    pub mode: SearchMode,
    /// Only papers in this category (or, for an archive such as `cs`, its subjects).
    /// The backend applies it during retrieval, on top of the query's own `cat:`
    /// filters, so `limit` hits are still `limit` hits after it.
    pub category: Option<Category>,
    /// Hits wanted at most.
    pub limit: usize,
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

/// Why a search or a similar-papers lookup failed.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The query cannot be run as written: a 400 whose message (this text) tells
    /// the reader what is wrong with it.
    #[error("{0}")]
    Query(String),
    /// The index failed: logged, and a 500 for the reader.
    #[error("search index: {0}")]
    Index(#[source] BoxError),
}

/// Similar papers under conditions: what `/papers/{id}` and
/// `/api/papers/{id}/similar` ask the backend for. The conditions only the site can
/// check (topic, authors, code) it applies to what the backend answers.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SimilarRequest {
    /// The paper the others should be like.
    pub key: i64,
    /// Hits wanted at most.
    pub k: usize,
    /// Only papers published on or after this day.
    pub after: Option<chrono::NaiveDate>,
    /// Only papers in this category (or, for an archive, its subjects).
    pub category: Option<Category>,
    /// "Like this one, not like that one": the query moves away from this paper's
    /// vector (its store key).
    pub minus: Option<i64>,
}

impl SimilarRequest {
    /// Whether the request is a plain "similar to `key`".
    pub fn is_plain(&self) -> bool {
        self.after.is_none() && self.category.is_none() && self.minus.is_none()
    }
}

/// Implemented by the binary over `papers-index`. Calls block (they run inside
/// `spawn_blocking`).
pub trait SearchBackend: Send + Sync {
    fn search(&self, request: &SearchRequest) -> Result<SearchOutcome, SearchError>;

    /// Papers most like the paper with store key `key`, excluding itself.
    fn similar(&self, key: i64, k: usize) -> Result<Vec<SearchHit>, SearchError>;

    /// Papers most like `request.key` under its conditions, excluding itself. The
    /// default answers a plain request with [`SearchBackend::similar`] and refuses
    /// conditions (a 400), which a backend must apply during retrieval to answer
    /// them well.
    fn similar_to(&self, request: &SimilarRequest) -> Result<Vec<SearchHit>, SearchError> {
        if !request.is_plain() {
            return Err(SearchError::Query(
                "this search backend cannot narrow similar papers (after, category, minus)"
                    .to_owned(),
            ));
        }
        self.similar(request.key, request.k)
    }

    /// [`SearchBackend::similar`] if the answer is at hand in memory (a list kept
    /// since it was last computed), else `None`. It must not block, because it runs
    /// on the async worker: a paper page asks this first and goes to a blocking
    /// thread for [`SearchBackend::similar`] only when it answers `None`.
    fn similar_cached(&self, _key: i64, _k: usize) -> Option<Vec<SearchHit>> {
        None
    }

    /// How the digest sender answers saved searches with this index, so that
    /// `/digest/preview` composes the digest exactly as the mail will. `None` (the
    /// default, for backends that do not serve digests) falls back to the term
    /// matching a sender without an index uses.
    fn saved_search(&self) -> Option<&dyn SavedSearch> {
        None
    }

    /// The backend's in-memory caches by name (kept similar-paper lists, query
    /// vectors), shown in `/metrics` beside the site's own. Must not block: it runs on
    /// the async worker (a cache behind a lock held just now may be left out).
    fn caches(&self) -> Vec<(&'static str, CacheStats)> {
        Vec::new()
    }
}

/// Why a paper could not be fetched from outside.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// No answer: the source is down, unreachable or timed out.
    #[error("{0}")]
    Unreachable(#[source] BoxError),
    /// The source answered with something that is not a paper's record.
    #[error("unreadable answer: {0}")]
    Invalid(#[source] BoxError),
}

/// Fetches a paper's metadata from outside (the arXiv API). Blocking.
pub trait PaperFetcher: Send + Sync {
    /// `Ok(None)` when the source has no such paper.
    fn fetch(&self, id: &ArxivId) -> Result<Option<PaperRecord>, FetchError>;
}
