//! BEIR SciFact train: the lexical quality floor, the eval harness end to end,
//! and (when cached vectors are supplied) the hybrid and cutoff targets.

use std::collections::HashMap;
use std::path::Path;

use papers_index::eval::{self, BeirSet, EvalOptions};
use papers_index::{IndexDoc, SearchMode};

const UNRELATED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/unrelated_queries.txt"
);

fn unrelated_queries() -> Vec<String> {
    std::fs::read_to_string(UNRELATED)
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

#[test]
fn unrelated_query_set_is_large_enough() {
    assert!(unrelated_queries().len() >= 30);
    assert_eq!(eval::builtin_unrelated_queries(), unrelated_queries());
}

#[test]
fn bm25_on_scifact_train_beats_the_anchor() -> Result<(), Box<dyn std::error::Error>> {
    let Some(shared) = crate::shared_dir("data/beir-scifact") else {
        return Ok(());
    };
    let dir = shared.join("data/beir-scifact");
    let set = BeirSet::load(&dir, Some(&dir.join("qrels/train.tsv")))?;
    assert_eq!(set.corpus.len(), 5183);
    assert_eq!(set.queries.len(), 809);
    let report = eval::evaluate(
        &set,
        None,
        &EvalOptions {
            mode: SearchMode::Lexical,
            unrelated: unrelated_queries(),
            ..EvalOptions::default()
        },
    )?;
    // Measured 0.7050 / 0.9295 / 0.6727; the BM25 anchor is 0.658.
    assert!(report.metrics.ndcg_at_10 >= 0.69, "{:?}", report.lines());
    assert!(report.metrics.recall_at_100 >= 0.90, "{:?}", report.lines());
    assert!(report.metrics.mrr_at_10 >= 0.65, "{:?}", report.lines());
    assert!(!report.fell_back);
    // The cutoff holds without a model too (measured: retention 0.981, 1.44 results
    // per unrelated query; 6.8 without it).
    assert!(report.cutoff_retention >= 0.95, "{:?}", report.lines());
    assert!(
        report.unrelated_mean_results.unwrap_or(99.0) <= 2.0,
        "{:?}",
        report.lines()
    );
    // Hybrid without a model falls back to lexical and says so.
    let fallback = eval::evaluate(&set, None, &EvalOptions::default())?;
    assert!(fallback.fell_back);
    assert_eq!(fallback.mode, "lexical");
    assert!((fallback.metrics.ndcg_at_10 - report.metrics.ndcg_at_10).abs() < 1e-9);
    Ok(())
}

/// Runs only with `PAPERS_SEARCH_CACHE` pointing at the vectors written by
/// `bench/search_embed.py` (the embed crate will replace this with the real model).
#[test]
fn hybrid_and_cutoff_targets_with_cached_vectors() -> Result<(), Box<dyn std::error::Error>> {
    let Some(cache) = std::env::var_os("PAPERS_SEARCH_CACHE") else {
        eprintln!("skipping: set PAPERS_SEARCH_CACHE to run the dense and hybrid targets");
        return Ok(());
    };
    let Some(shared) = crate::shared_dir("data/beir-scifact") else {
        return Ok(());
    };
    let dir = shared.join("data/beir-scifact");
    let set = BeirSet::load(&dir, Some(&dir.join("qrels/train.tsv")))?;
    let unrelated = unrelated_queries();
    let cache = Path::new(&cache);
    let mut by_text: HashMap<String, Vec<f32>> = HashMap::new();
    let corpus = read_cache(cache, "scifact-corpus");
    for doc in &set.corpus {
        let text = IndexDoc {
            key: 0,
            id: None,
            title: doc.title.clone(),
            abstract_text: doc.text.clone(),
            authors: vec![],
            categories: vec![],
            published: None,
        }
        .embedding_text();
        if let Some(v) = corpus.get(&doc.id) {
            by_text.insert(text, v.clone());
        }
    }
    let queries = read_cache(cache, "scifact-queries");
    for (id, text) in &set.queries {
        if let Some(v) = queries.get(id) {
            by_text.insert(text.clone(), v.clone());
        }
    }
    let unrelated_vectors = read_cache(cache, "unrelated-queries");
    for (i, text) in unrelated.iter().enumerate() {
        if let Some(v) = unrelated_vectors.get(&i.to_string()) {
            by_text.insert(text.clone(), v.clone());
        }
    }
    let embed = |texts: &[&str]| -> Vec<Vec<f32>> {
        texts
            .iter()
            .map(|t| by_text.get(*t).cloned().unwrap_or_else(|| vec![0.0; 384]))
            .collect()
    };
    let index = eval::EvalIndex::build(&set, Some(&embed), Default::default())?;
    for (mode, floor) in [(SearchMode::Dense, 0.655), (SearchMode::Hybrid, 0.73)] {
        let options = EvalOptions {
            mode,
            unrelated: unrelated.clone(),
            ..EvalOptions::default()
        };
        let report = eval::evaluate_with(&index.searcher, &set, Some(&embed), &options)?;
        assert!(report.metrics.ndcg_at_10 >= floor, "{:?}", report.lines());
        if mode == SearchMode::Hybrid {
            assert!(report.cutoff_retention >= 0.95, "{:?}", report.lines());
            assert!(
                report.unrelated_mean_results.unwrap_or(99.0) <= 2.0,
                "{:?}",
                report.lines()
            );
        }
    }
    Ok(())
}

fn read_cache(dir: &Path, name: &str) -> HashMap<String, Vec<f32>> {
    let ids = std::fs::read_to_string(dir.join(format!("{name}.ids"))).unwrap_or_default();
    let bytes = std::fs::read(dir.join(format!("{name}.f32"))).unwrap_or_default();
    let floats: Vec<f32> = bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let ids: Vec<&str> = ids.lines().collect();
    let dim = if ids.is_empty() {
        0
    } else {
        floats.len() / ids.len()
    };
    ids.iter()
        .enumerate()
        .map(|(i, id)| (id.to_string(), floats[i * dim..(i + 1) * dim].to_vec()))
        .collect()
}
