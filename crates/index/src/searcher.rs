//! The search facade: query → lexical and dense candidates → fusion → cutoff →
//! hits with titles and snippets. This is what `papers search`, `papers similar`
//! and the web API call.

use std::fmt;
use std::str::FromStr;

use papers_core::ArxivId;
use papers_rank::cutoff::{self, Cutoff};

use papers_rank::fusion::{self, Fused, Fusion, Scored};

use crate::dense::DenseIndex;
use crate::error::Result;
use crate::lexical::LexicalIndex;
use crate::query::{Filters, ParsedQuery};

/// Which retrievers answer a query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Lexical,
    Dense,
    #[default]
    Hybrid,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Lexical => "lexical",
            Mode::Dense => "dense",
            Mode::Hybrid => "hybrid",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown search mode {0:?} (expected lexical, dense or hybrid)")]
pub struct ModeError(pub String);

impl FromStr for Mode {
    type Err = ModeError;
    fn from_str(s: &str) -> Result<Mode, ModeError> {
        match s.to_ascii_lowercase().as_str() {
            "lexical" | "bm25" => Ok(Mode::Lexical),
            "dense" => Ok(Mode::Dense),
            "hybrid" => Ok(Mode::Hybrid),
            _ => Err(ModeError(s.to_owned())),
        }
    }
}

/// Tunables of the search pipeline; the defaults are the measured choices.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SearchConfig {
    pub fusion: Fusion,
    pub cutoff: Cutoff,
    /// Candidates taken from each retriever before fusion.
    pub candidates: usize,
}

impl Default for SearchConfig {
    fn default() -> Self {
        SearchConfig {
            fusion: Fusion::default(),
            cutoff: Cutoff::default(),
            candidates: 100,
        }
    }
}

/// One result; serialises as the JSON object `papers search --json` prints.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Hit {
    pub key: u64,
    pub id: Option<ArxivId>,
    pub title: String,
    pub score: f32,
    /// The abstract's best fragment, HTML-escaped, query words in `<mark>`.
    pub snippet_html: String,
    /// The same fragment as plain text, with byte ranges to highlight.
    pub snippet_text: String,
    #[serde(serialize_with = "ranges")]
    pub highlights: Vec<std::ops::Range<usize>>,
}

fn ranges<S: serde::Serializer>(
    ranges: &[std::ops::Range<usize>],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(ranges.iter().map(|r| [r.start, r.end]))
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SearchResults {
    pub hits: Vec<Hit>,
    pub mode_used: Mode,
    /// True when a dense or hybrid search ran lexically because there was no query
    /// vector (no model) or no dense index; surfaces say so once.
    pub fell_back: bool,
}

/// A ranking before it is described: what evaluation consumes.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranking {
    pub fused: Vec<Fused>,
    pub mode_used: Mode,
    pub fell_back: bool,
}

/// Both indexes and the pipeline's settings.
pub struct Searcher {
    pub(crate) lexical: LexicalIndex,
    pub(crate) dense: DenseIndex,
    pub(crate) config: SearchConfig,
}

impl Searcher {
    pub fn new(lexical: LexicalIndex, dense: DenseIndex, config: SearchConfig) -> Searcher {
        Searcher {
            lexical,
            dense,
            config,
        }
    }

    pub fn lexical(&self) -> &LexicalIndex {
        &self.lexical
    }

    pub fn dense(&self) -> &DenseIndex {
        &self.dense
    }

    pub fn config(&self) -> &SearchConfig {
        &self.config
    }

    pub fn set_config(&mut self, config: SearchConfig) {
        self.config = config;
    }

    pub fn set_boosts(&mut self, boosts: crate::lexical::FieldBoosts) {
        self.lexical.set_boosts(boosts);
    }

    /// Runs a query. `query_vector` is the embedding of
    /// [`ParsedQuery::embedding_text`], unit length; pass `None` without a model.
    pub fn search(
        &self,
        query: &ParsedQuery,
        query_vector: Option<&[f32]>,
        mode: Mode,
        limit: usize,
    ) -> Result<SearchResults> {
        if let Some(id) = &query.direct {
            return self.direct(id, mode);
        }
        let mut ranking = self.rank(query, query_vector, mode, &self.config)?;
        ranking.fused.truncate(limit);
        let hits = self.describe(&ranking.fused, query)?;
        Ok(SearchResults {
            hits,
            mode_used: ranking.mode_used,
            fell_back: ranking.fell_back,
        })
    }

    /// The full ranking (up to `config.candidates` entries per retriever) with
    /// `config`'s fusion and cutoff; evaluation passes other settings than the
    /// searcher's own.
    pub fn rank(
        &self,
        query: &ParsedQuery,
        query_vector: Option<&[f32]>,
        mode: Mode,
        config: &SearchConfig,
    ) -> Result<Ranking> {
        let wants_dense = mode != Mode::Lexical;
        let vector = query_vector.filter(|v| v.len() == self.dense.dim() && !self.dense.is_empty());
        let fell_back = wants_dense && vector.is_none();
        let mode_used = if fell_back { Mode::Lexical } else { mode };
        let n = config.candidates;

        let lexical = if mode_used != Mode::Dense || !query.has_text() {
            self.lexical.search(query, n)?
        } else {
            Vec::new()
        };
        let dense = match vector {
            Some(vector) if mode_used != Mode::Lexical && query.has_text() => {
                self.dense_search(vector, n, &query.filters)?
            }
            _ => Vec::new(),
        };
        let fused = match (mode_used, vector) {
            _ if !query.has_text() => fusion::single(&lexical, true),
            (Mode::Hybrid, Some(vector)) => fusion::fuse(
                &lexical,
                &dense,
                |key| self.dense.similarity(vector, key),
                config.fusion,
            ),
            (Mode::Dense, _) => fusion::single(&dense, false),
            _ => fusion::single(&lexical, true),
        };
        // A query of filters alone is a listing, not a relevance ranking.
        let cutoff = if query.has_text() {
            config.cutoff
        } else {
            Cutoff::OFF
        };
        Ok(Ranking {
            fused: cutoff::apply(fused, &cutoff),
            mode_used,
            fell_back,
        })
    }

    /// The `k` papers nearest to `key`, excluding itself, within `filters`.
    /// `None` when the paper has no vector.
    pub fn similar(&self, key: u64, k: usize, filters: &Filters) -> Result<Option<Vec<Hit>>> {
        let allowed = self
            .lexical
            .allowed_keys(filters)?
            .map(|keys| self.dense.row_set(&keys));
        let Some(scored) = self.dense.similar(key, k, allowed.as_ref())? else {
            return Ok(None);
        };
        let fused = fusion::single(&scored, false);
        self.describe(&fused, &ParsedQuery::default()).map(Some)
    }

    fn dense_search(&self, vector: &[f32], n: usize, filters: &Filters) -> Result<Vec<Scored>> {
        let allowed = self
            .lexical
            .allowed_keys(filters)?
            .map(|keys| self.dense.row_set(&keys));
        self.dense.search(vector, n, allowed.as_ref())
    }

    fn direct(&self, id: &ArxivId, mode: Mode) -> Result<SearchResults> {
        let fused: Vec<Fused> = self
            .lexical
            .key_for_id(id)?
            .map(|key| Fused {
                key,
                score: 1.0,
                lexical: None,
                dense: None,
            })
            .into_iter()
            .collect();
        Ok(SearchResults {
            hits: self.describe(&fused, &ParsedQuery::default())?,
            mode_used: mode,
            fell_back: false,
        })
    }

    fn describe(&self, fused: &[Fused], query: &ParsedQuery) -> Result<Vec<Hit>> {
        let keys: Vec<u64> = fused.iter().map(|f| f.key).collect();
        let scores: std::collections::HashMap<u64, f32> =
            fused.iter().map(|f| (f.key, f.score)).collect();
        let described = self.lexical.describe(&keys, query)?;
        Ok(described
            .into_iter()
            .map(|d| Hit {
                key: d.key,
                id: d.id,
                title: d.title,
                score: scores.get(&d.key).copied().unwrap_or(0.0),
                snippet_html: d.snippet.to_html(),
                snippet_text: d.snippet.text,
                highlights: d.snippet.highlights,
            })
            .collect())
    }
}
