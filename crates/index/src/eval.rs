//! BEIR evaluation: index a data set into a temporary directory, run its judged
//! queries through the same [`Searcher`] the product uses, and report nDCG@10,
//! Recall@100 and MRR@10, plus the relevance cutoff's two figures (how many
//! top-10 relevant documents it keeps, and how many results unrelated queries get).
//!
//! The embedding model is a parameter, so the binary passes the real embedder and
//! tests can pass cached vectors.

pub mod beir;
pub mod metrics;

use std::collections::HashMap;

use papers_core::SearchMode;
use papers_rank::cutoff::{self, Cutoff};
use serde::Serialize;

use crate::error::{IndexError, Result};
use crate::searcher::{SearchConfig, Searcher};
use crate::{IndexDoc, ParsedQuery, Update};
pub use beir::{BeirDoc, BeirSet};
pub use metrics::Metrics;

/// Embeds texts into unit-length vectors, one per text, in order.
pub type Embed<'a> = &'a dyn Fn(&[&str]) -> Vec<Vec<f32>>;

/// The unrelated queries the cutoff was calibrated with (other fields, everyday
/// topics, gibberish), for `papers eval beir` when no other set is given.
pub fn builtin_unrelated_queries() -> Vec<String> {
    query_lines(include_str!("../tests/data/unrelated_queries.txt"))
}

/// Queries from a text file's contents: one per line, `#` comments and blank
/// lines skipped.
pub fn query_lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

/// Texts per embedding call: lets the caller's embedder batch and report progress.
const EMBED_BATCH: usize = 256;

#[derive(Debug, Clone)]
pub struct EvalOptions {
    pub mode: SearchMode,
    pub config: SearchConfig,
    /// Queries that should find nothing; empty to skip that figure.
    pub unrelated: Vec<String>,
    /// Results a surface shows at most, for counting unrelated-query results.
    pub limit: usize,
}

impl Default for EvalOptions {
    fn default() -> Self {
        EvalOptions {
            mode: SearchMode::Hybrid,
            config: SearchConfig::default(),
            unrelated: Vec::new(),
            limit: 10,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    pub mode: &'static str,
    pub fell_back: bool,
    pub queries: usize,
    pub documents: usize,
    /// The ranked top 100 of each query, without the relevance cutoff (the
    /// standard BEIR setting).
    pub metrics: Metrics,
    /// The same after the cutoff, as the product shows results.
    pub with_cutoff: Metrics,
    /// Of the relevant documents in the uncut top 10, the share the cutoff keeps.
    pub cutoff_retention: f64,
    /// Mean number of results (at most `limit`) for the unrelated queries.
    pub unrelated_mean_results: Option<f64>,
}

impl EvalReport {
    /// One `name=value` line per figure, as `papers eval beir` prints them.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = vec![
            format!(
                "mode={}{}",
                self.mode,
                if self.fell_back {
                    " (fell back: no model)"
                } else {
                    ""
                }
            ),
            format!("queries={}", self.queries),
            format!("nDCG@10={:.4}", self.metrics.ndcg_at_10),
            format!("Recall@100={:.4}", self.metrics.recall_at_100),
            format!("MRR@10={:.4}", self.metrics.mrr_at_10),
            format!("cutoff.nDCG@10={:.4}", self.with_cutoff.ndcg_at_10),
            format!("cutoff.Recall@100={:.4}", self.with_cutoff.recall_at_100),
            format!("cutoff.retention@10={:.4}", self.cutoff_retention),
        ];
        if let Some(mean) = self.unrelated_mean_results {
            lines.push(format!("unrelated.mean_results={mean:.2}"));
        }
        lines
    }
}

/// Indexes `set` (vectors from `embed` when given and the mode needs them) and
/// evaluates it. Without an embedder, dense and hybrid fall back to lexical and
/// the report says so.
pub fn evaluate(
    set: &BeirSet,
    embed: Option<Embed<'_>>,
    options: &EvalOptions,
) -> Result<EvalReport> {
    let index = EvalIndex::build(
        set,
        embed.filter(|_| options.mode != SearchMode::Lexical),
        options.config,
    )?;
    evaluate_with(&index.searcher, set, embed, options)
}

/// A searcher over a BEIR corpus in a temporary directory, deleted on drop. Keys
/// are positions in `BeirSet::corpus`.
pub struct EvalIndex {
    pub searcher: Searcher,
    _dir: tempfile::TempDir,
}

impl EvalIndex {
    pub fn build(
        set: &BeirSet,
        embed: Option<Embed<'_>>,
        config: SearchConfig,
    ) -> Result<EvalIndex> {
        let dir = tempfile::tempdir().map_err(IndexError::io(std::env::temp_dir()))?;
        let mut index: Option<(Searcher, crate::lexical::LexicalWriter)> = None;
        for (chunk_index, chunk) in set.corpus.chunks(EMBED_BATCH).enumerate() {
            let docs: Vec<IndexDoc> = chunk
                .iter()
                .enumerate()
                .map(|(i, d)| {
                    let position = chunk_index * EMBED_BATCH + i;
                    Ok(IndexDoc {
                        key: i64::try_from(position)
                            .map_err(|_| IndexError::Key(position as i128))?,
                        id: None,
                        title: d.title.clone(),
                        abstract_text: d.text.clone(),
                        authors: Vec::new(),
                        categories: Vec::new(),
                        published: None,
                    })
                })
                .collect::<Result<_>>()?;
            let vectors: Vec<Option<Vec<f32>>> = match embed {
                Some(embed) => {
                    let texts: Vec<String> = docs.iter().map(IndexDoc::embedding_text).collect();
                    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
                    embed(&refs).into_iter().map(Some).collect()
                }
                None => vec![None; docs.len()],
            };
            if index.is_none() {
                // The embedder's output fixes the dimension; 1 when there is none.
                let dim = vectors.iter().flatten().map(Vec::len).next().unwrap_or(1);
                let mut searcher = Searcher::open(dir.path(), "beir-eval", dim)?;
                searcher.set_config(config);
                let writer = searcher.writer()?;
                index = Some((searcher, writer));
            }
            let Some((searcher, writer)) = index.as_mut() else {
                continue;
            };
            let updates: Vec<Update> = docs
                .into_iter()
                .zip(vectors)
                .map(|(doc, vector)| Update { doc, vector })
                .collect();
            searcher.apply(writer, &updates, &[], 0)?;
        }
        let (searcher, writer) = match index {
            Some(pair) => pair,
            None => {
                let searcher = Searcher::open(dir.path(), "beir-eval", 1)?;
                let writer = searcher.writer()?;
                (searcher, writer)
            }
        };
        writer.finish()?;
        Ok(EvalIndex {
            searcher,
            _dir: dir,
        })
    }
}

/// Evaluates an already built searcher (lets tests compare settings cheaply).
pub fn evaluate_with(
    searcher: &Searcher,
    set: &BeirSet,
    embed: Option<Embed<'_>>,
    options: &EvalOptions,
) -> Result<EvalReport> {
    let query_vectors = embed_queries(
        set.queries.iter().map(|(_, t)| t.as_str()),
        embed,
        options.mode,
    );
    let mut uncut = Vec::with_capacity(set.queries.len());
    let mut cut = Vec::with_capacity(set.queries.len());
    let (mut kept, mut relevant_top10) = (0usize, 0usize);
    let mut fell_back = false;
    let empty = HashMap::new();
    for (i, (query_id, text)) in set.queries.iter().enumerate() {
        let judged = set.qrels.get(query_id).unwrap_or(&empty);
        let parsed = ParsedQuery::parse(text);
        let vector = query_vectors.get(i).and_then(|v| v.as_deref());
        let uncut_config = SearchConfig {
            cutoff: Cutoff::OFF,
            ..options.config
        };
        let ranking = searcher.rank(&parsed, vector, options.mode, &uncut_config)?;
        fell_back |= ranking.fell_back;
        let ids = |fused: &[papers_rank::fusion::Fused]| -> Vec<&str> {
            fused
                .iter()
                .filter_map(|f| set.corpus.get(f.key as usize).map(|d| d.id.as_str()))
                .collect()
        };
        let uncut_ids = ids(&ranking.fused);
        let after = cutoff::apply(ranking.fused.clone(), &options.config.cutoff);
        let cut_ids = ids(&after);
        for id in uncut_ids.iter().take(10) {
            if judged.get(*id).is_some_and(|&r| r > 0) {
                relevant_top10 += 1;
                kept += usize::from(cut_ids.contains(id));
            }
        }
        uncut.push(Metrics::of(&uncut_ids, judged));
        cut.push(Metrics::of(&cut_ids, judged));
    }
    let unrelated_mean_results = if options.unrelated.is_empty() {
        None
    } else {
        let vectors = embed_queries(
            options.unrelated.iter().map(String::as_str),
            embed,
            options.mode,
        );
        let mut total = 0usize;
        for (i, text) in options.unrelated.iter().enumerate() {
            let vector = vectors.get(i).and_then(|v| v.as_deref());
            let ranking = searcher.rank(
                &ParsedQuery::parse(text),
                vector,
                options.mode,
                &options.config,
            )?;
            total += ranking.fused.len().min(options.limit);
        }
        Some(total as f64 / options.unrelated.len() as f64)
    };
    Ok(EvalReport {
        mode: if fell_back {
            SearchMode::Lexical.as_str()
        } else {
            options.mode.as_str()
        },
        fell_back,
        queries: set.queries.len(),
        documents: set.corpus.len(),
        metrics: Metrics::mean(&uncut),
        with_cutoff: Metrics::mean(&cut),
        cutoff_retention: if relevant_top10 == 0 {
            1.0
        } else {
            kept as f64 / relevant_top10 as f64
        },
        unrelated_mean_results,
    })
}

fn embed_queries<'t>(
    texts: impl Iterator<Item = &'t str>,
    embed: Option<Embed<'_>>,
    mode: SearchMode,
) -> Vec<Option<Vec<f32>>> {
    let texts: Vec<&str> = texts.collect();
    match embed {
        Some(embed) if mode != SearchMode::Lexical => texts
            .chunks(EMBED_BATCH)
            .flat_map(embed)
            .map(Some)
            .collect(),
        _ => vec![None; texts.len()],
    }
}
