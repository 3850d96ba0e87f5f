//! The search facade: query → lexical and dense candidates → fusion → cutoff →
//! ranked store keys. This is what `papers search`, `papers similar`, the digests'
//! saved searches and the site call. What a surface shows of a hit it asks for
//! separately, for the hits it shows: the site reads papers from the store and only
//! needs [`Searcher::snippets`]; the CLI prints [`Searcher::describe`].

use papers_core::{ArxivId, SearchMode};
use papers_rank::cutoff::{self, Cutoff};
use papers_rank::fusion::{self, Fused, Fusion, Scored};

use crate::dense::DenseIndex;
use crate::dense::RowSet;
use crate::doc::{index_key, store_key};
use crate::error::Result;
use crate::facets::{self, Facets};
use crate::lexical::{Described, LexicalIndex};
use crate::query::{Filters, ParsedQuery};
use crate::similar::{self, KeptListStats, SimilarCache};
use crate::snippet::Snippet;

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

/// One result: the paper's store key and its fused score. Not serialised: `papers
/// search --json` prints an object of its own with the paper's id, title and snippet
/// (from [`Searcher::describe`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    pub key: i64,
    pub score: f32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SearchResults {
    /// Best first, cut at the relevance cutoff.
    pub hits: Vec<Hit>,
    pub mode_used: SearchMode,
    /// True when a dense or hybrid search ran lexically because there was no query
    /// vector (no model) or no dense index; surfaces say so once.
    pub fell_back: bool,
}

/// A full ranking, under the indexes' own keys: what evaluation consumes.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranking {
    pub fused: Vec<Fused>,
    pub mode_used: SearchMode,
    pub fell_back: bool,
}

/// Both indexes, the pipeline's settings, the similar-paper lists kept, and the
/// papers each date and category filter allows.
pub struct Searcher {
    pub(crate) lexical: LexicalIndex,
    pub(crate) dense: DenseIndex,
    pub(crate) config: SearchConfig,
    similar_lists: SimilarCache,
    /// Kept with the lexical index: [`Searcher::apply`] and bulk loads update it.
    pub(crate) facets: Facets,
    /// Whether filters use `facets` (see [`Searcher::use_kept_filter_sets`]).
    kept_filter_sets: bool,
}

impl Searcher {
    /// Both indexes with `config`; reads the filter sets from the lexical index.
    pub(crate) fn new(
        lexical: LexicalIndex,
        dense: DenseIndex,
        config: SearchConfig,
    ) -> Result<Searcher> {
        let facets = Facets::read(&lexical.tantivy_searcher())?;
        Ok(Searcher {
            lexical,
            dense,
            config,
            similar_lists: SimilarCache::default(),
            facets,
            kept_filter_sets: true,
        })
    }

    /// On (the default), date and category filters of dense searches and similar
    /// papers combine the kept filter sets; off, every filter lists its papers with
    /// a lexical query, as before the sets were kept. Both give the same papers;
    /// benches and tests compare the two.
    pub fn use_kept_filter_sets(&mut self, on: bool) {
        self.kept_filter_sets = on;
    }

    /// Reads the filter sets again from what the lexical index shows (after a
    /// bulk load was given up, its staged papers never reached the index).
    pub(crate) fn reread_facets(&mut self) -> Result<()> {
        self.facets = Facets::read(&self.lexical.tantivy_searcher())?;
        Ok(())
    }

    /// The rows `filters` allow, `None` for all: from the kept sets when they can
    /// answer, else from a lexical query.
    fn allowed(&self, filters: &Filters) -> Result<Option<RowSet>> {
        if self.kept_filter_sets {
            match self.facets.allowed(filters) {
                facets::Allowed::All => return Ok(None),
                facets::Allowed::Keys(keys) => return Ok(Some(self.dense.row_set_of(keys))),
                facets::Allowed::Query => {}
            }
        }
        Ok(self
            .lexical
            .allowed_keys(filters)?
            .map(|keys| self.dense.row_set(&keys)))
    }

    /// Commits the dense index at `watermark` and drops the similar-paper lists its
    /// changes can affect.
    pub(crate) fn commit_dense(&mut self, watermark: u64) -> Result<()> {
        // Whether or not the commit went through, what changed is in memory already,
        // and searches see it.
        let committed = self.dense.commit(watermark);
        let changes = self.dense.take_changes();
        let dense = &self.dense;
        self.similar_lists
            .invalidate(changes, |key| dense.vector(key), dense.dots_kernel());
        committed
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

    /// Changes when the dense index uses its graph and how filters search it (see
    /// [`crate::DenseOptions`]); the bench compares filter plans this way.
    pub fn set_dense_options(&mut self, options: crate::DenseOptions) {
        self.dense.set_options(options);
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
        mode: SearchMode,
        limit: usize,
    ) -> Result<SearchResults> {
        if let Some(id) = &query.direct {
            return self.direct(id, &query.filters, mode);
        }
        let mut ranking = self.rank(query, query_vector, mode, &self.config)?;
        ranking.fused.truncate(limit);
        Ok(SearchResults {
            hits: hits(&ranking.fused)?,
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
        mode: SearchMode,
        config: &SearchConfig,
    ) -> Result<Ranking> {
        let wants_dense = mode != SearchMode::Lexical;
        let vector = query_vector.filter(|v| v.len() == self.dense.dim() && !self.dense.is_empty());
        let fell_back = wants_dense && vector.is_none();
        let mode_used = if fell_back { SearchMode::Lexical } else { mode };
        let n = config.candidates;

        // Dense searches run the lexical side too, as evidence for the cutoff only
        // (see `with_lexical_evidence`).
        let lexical = self.lexical.search(query, n)?;
        let dense = match vector {
            Some(vector) if mode_used != SearchMode::Lexical && query.has_text() => {
                self.dense_search(vector, n, &query.filters)?
            }
            _ => Vec::new(),
        };
        let fused = match (mode_used, vector) {
            _ if !query.has_text() => fusion::single(&lexical, true),
            (SearchMode::Hybrid, Some(vector)) => fusion::fuse(
                &lexical,
                &dense,
                |key| self.dense.similarity(vector, key),
                config.fusion,
            ),
            (SearchMode::Dense, _) => with_lexical_evidence(
                fusion::single(&dense, false),
                &lexical,
                config.cutoff.lexical_strength,
            ),
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
    /// `None` when the paper has no vector. Without filters, the list is kept until
    /// a change to the vectors can affect it (see `similar.rs`).
    pub fn similar(&self, key: i64, k: usize, filters: &Filters) -> Result<Option<Vec<Hit>>> {
        if filters.is_empty() {
            return self.similar_unconditioned(key, k);
        }
        self.similar_searched(key, k, filters)
    }

    /// [`Searcher::similar`] that reads a kept list but never keeps what it computes:
    /// for the deep candidate lists a caller narrows further itself (by topic,
    /// authors or code), which would crowd out the kept lists of paper pages.
    pub fn similar_unkept(
        &self,
        key: i64,
        k: usize,
        filters: &Filters,
    ) -> Result<Option<Vec<Hit>>> {
        if filters.is_empty()
            && let Some(kept) = self.similar_cached(key, k)?
        {
            return Ok(Some(kept));
        }
        self.similar_searched(key, k, filters)
    }

    /// The `k` papers nearest to `key` within `filters`, from the index every time.
    fn similar_searched(&self, key: i64, k: usize, filters: &Filters) -> Result<Option<Vec<Hit>>> {
        let allowed = self.allowed(filters)?;
        let Some(scored) = self.dense.similar(index_key(key)?, k, allowed.as_ref())? else {
            return Ok(None);
        };
        hits(&fusion::single(&scored, false)).map(Some)
    }

    /// Papers like `key` and unlike `minus` (see [`DenseIndex::similar_unlike`]),
    /// within `filters`; `None` when either has no vector.
    pub fn similar_unlike(
        &self,
        key: i64,
        minus: i64,
        k: usize,
        filters: &Filters,
    ) -> Result<Option<Vec<Hit>>> {
        let allowed = self.allowed(filters)?;
        let Some(scored) =
            self.dense
                .similar_unlike(index_key(key)?, index_key(minus)?, k, allowed.as_ref())?
        else {
            return Ok(None);
        };
        hits(&fusion::single(&scored, false)).map(Some)
    }

    /// [`Searcher::similar`] without filters, from the kept list when there is one.
    fn similar_unconditioned(&self, key: i64, k: usize) -> Result<Option<Vec<Hit>>> {
        if let Some(kept) = self.similar_cached(key, k)? {
            return Ok(Some(kept));
        }
        let index_key = index_key(key)?;
        let Some(vector) = self.dense.vector(index_key) else {
            return Ok(None);
        };
        let depth = k.max(similar::DEPTH);
        let scored = self.dense.similar_to(index_key, &vector, depth, None)?;
        let shown = hits(&fusion::single(&scored[..k.min(scored.len())], false))?;
        self.similar_lists.put(index_key, depth, vector, scored);
        Ok(Some(shown))
    }

    /// What the kept similar-paper lists hold (`/metrics`).
    pub fn kept_list_stats(&self) -> KeptListStats {
        self.similar_lists.stats()
    }

    /// The kept unconditioned list of `key`'s `k` similar papers, if one is kept: a
    /// lookup in memory, never a search.
    pub fn similar_cached(&self, key: i64, k: usize) -> Result<Option<Vec<Hit>>> {
        match self.similar_lists.get(index_key(key)?, k) {
            Some(scored) => hits(&fusion::single(&scored, false)).map(Some),
            None => Ok(None),
        }
    }

    /// The snippet of each hit's abstract with `query`'s words marked, in the order of
    /// `hits`; `None` for a paper the lexical index does not have.
    pub fn snippets(&self, hits: &[Hit], query: &ParsedQuery) -> Result<Vec<Option<Snippet>>> {
        self.lexical.snippets(&index_keys(hits)?, query)
    }

    /// Each hit with its paper's id, title and snippet, in order; hits the lexical
    /// index does not have are left out.
    pub fn describe(&self, hits: &[Hit], query: &ParsedQuery) -> Result<Vec<(Hit, Described)>> {
        let described = self.lexical.describe(&index_keys(hits)?, query)?;
        Ok(hits
            .iter()
            .zip(described)
            .filter_map(|(hit, described)| Some((*hit, described?)))
            .collect())
    }

    fn dense_search(&self, vector: &[f32], n: usize, filters: &Filters) -> Result<Vec<Scored>> {
        let allowed = self.allowed(filters)?;
        self.dense.search(vector, n, allowed.as_ref())
    }

    /// A pasted id or URL: that paper, when it is indexed and `filters` allow it.
    fn direct(&self, id: &ArxivId, filters: &Filters, mode: SearchMode) -> Result<SearchResults> {
        let hits = match self.lexical.key_for_id(id, filters)? {
            Some(key) => vec![Hit {
                key: store_key(key)?,
                score: 1.0,
            }],
            None => Vec::new(),
        };
        Ok(SearchResults {
            hits,
            mode_used: mode,
            fell_back: false,
        })
    }
}

/// A dense ranking with the lexical score of each hit whose words match the query
/// strongly, its order and scores unchanged: a dense search ranks by meaning alone,
/// but the cutoff should not cut as noise what the query's own words vouch for.
/// Without it, a paper's own title searched by meaning did not find it when the
/// title says little of the abstract ("When only the last one will do", arXiv
/// 1104.3049: under the 0.30 floor against its title-and-abstract vector), though a
/// hybrid search finds it first. Such a hit keeps the lower floor that word overlap
/// earns in a hybrid search (see `papers_rank::cutoff`). Only overlap that is strong
/// in absolute terms counts, a lexical score (a share of the best BM25 the query's
/// words could earn) of at least `strength`, so that a query about nothing in the
/// collection gets no more hits than before: its best lexical match, strong relative
/// to the others, covers little of it.
fn with_lexical_evidence(mut dense: Vec<Fused>, lexical: &[Scored], strength: f32) -> Vec<Fused> {
    let strong: std::collections::HashMap<u64, f32> = lexical
        .iter()
        .filter(|hit| hit.score >= strength)
        .map(|hit| (hit.key, hit.score))
        .collect();
    for hit in &mut dense {
        hit.lexical = strong.get(&hit.key).copied();
    }
    dense
}

/// A fused ranking as store keys and scores.
fn hits(fused: &[Fused]) -> Result<Vec<Hit>> {
    fused
        .iter()
        .map(|f| {
            Ok(Hit {
                key: store_key(f.key)?,
                score: f.score,
            })
        })
        .collect()
}

fn index_keys(hits: &[Hit]) -> Result<Vec<u64>> {
    hits.iter().map(|hit| index_key(hit.key)).collect()
}
