//! Tuning tool for the search pipeline on a BEIR set with cached query and corpus
//! vectors (written by `bench/search_embed.py`): prints the figures per mode and
//! sweeps fusion weights, field boosts and cutoff thresholds.
//!
//! Usage: `search_eval BEIR_DIR CACHE_DIR [QRELS] [UNRELATED_FILE] [--sweep|--boosts|--lexical-floor]`

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use papers_index::eval::{self, BeirSet, EvalIndex, EvalOptions};
use papers_index::lexical::FieldBoosts;
use papers_index::{SearchConfig, SearchMode};
use papers_rank::cutoff::Cutoff;
use papers_rank::fusion::Fusion;

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

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let positional: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let sweep = args.iter().any(|a| a == "--sweep");
    let only_boosts = args.iter().any(|a| a == "--boosts");
    let only_lexical_floor = args.iter().any(|a| a == "--lexical-floor");
    let dir = PathBuf::from(positional.first().ok_or("BEIR_DIR")?);
    let cache = PathBuf::from(positional.get(1).ok_or("CACHE_DIR")?);
    let qrels = positional.get(2).map(PathBuf::from);
    let unrelated: Vec<String> = positional
        .get(3)
        .map(|p| std::fs::read_to_string(p).unwrap_or_default())
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect();

    let set = BeirSet::load(&dir, qrels.as_deref())?;
    let corpus_vectors = read_cache(&cache, "scifact-corpus");
    let query_vectors = read_cache(&cache, "scifact-queries");
    let unrelated_vectors = read_cache(&cache, "unrelated-queries");
    let mut by_text: HashMap<String, Vec<f32>> = HashMap::new();
    for doc in &set.corpus {
        if let Some(v) = corpus_vectors.get(&doc.id) {
            let text = format!("{} {}", doc.title.trim(), doc.text.trim())
                .trim()
                .to_owned();
            by_text.insert(text, v.clone());
        }
    }
    let query_text: HashMap<&str, &str> = set
        .queries
        .iter()
        .map(|(id, t)| (t.as_str(), id.as_str()))
        .collect();
    let unrelated_by_text: HashMap<&str, &Vec<f32>> = unrelated
        .iter()
        .enumerate()
        .filter_map(|(i, t)| {
            unrelated_vectors
                .get(&i.to_string())
                .map(|v| (t.as_str(), v))
        })
        .collect();
    let missing = std::cell::Cell::new(0usize);
    let embed = |texts: &[&str]| -> Vec<Vec<f32>> {
        texts
            .iter()
            .map(|t| {
                by_text
                    .get(*t)
                    .or_else(|| query_text.get(t).and_then(|id| query_vectors.get(*id)))
                    .or_else(|| unrelated_by_text.get(t).copied())
                    .cloned()
                    .unwrap_or_else(|| {
                        missing.set(missing.get() + 1);
                        vec![0.0; 384]
                    })
            })
            .collect()
    };
    let have_vectors = !corpus_vectors.is_empty();
    let started = std::time::Instant::now();
    let mut index = EvalIndex::build(
        &set,
        have_vectors.then_some(&embed as eval::Embed),
        SearchConfig::default(),
    )?;
    eprintln!(
        "indexed {} docs in {:?}, {} vectors missing",
        set.corpus.len(),
        started.elapsed(),
        missing.get()
    );

    let run = |index: &EvalIndex,
               label: &str,
               mode: SearchMode,
               config: SearchConfig|
     -> Result<(), Box<dyn std::error::Error>> {
        let options = EvalOptions {
            mode,
            config,
            unrelated: unrelated.clone(),
            limit: 10,
        };
        let report = eval::evaluate_with(
            &index.searcher,
            &set,
            have_vectors.then_some(&embed as eval::Embed),
            &options,
        )?;
        println!("{label:<40} {}", report.lines().join(" "));
        Ok(())
    };
    let base = SearchConfig::default();
    for mode in [SearchMode::Lexical, SearchMode::Dense, SearchMode::Hybrid] {
        run(&index, &format!("{mode} default"), mode, base)?;
    }
    if sweep || only_lexical_floor {
        // The floor of lexical-only search (no model): share of the best possible BM25.
        for lexical_floor in [0.1, 0.12, 0.14, 0.15, 0.16, 0.18, 0.2, 0.25, 0.3] {
            let cutoff = Cutoff {
                lexical_floor,
                ..Cutoff::default()
            };
            run(
                &index,
                &format!("lexical floor={lexical_floor}"),
                SearchMode::Lexical,
                SearchConfig { cutoff, ..base },
            )?;
        }
    }
    if sweep {
        run(
            &index,
            "hybrid rrf60",
            SearchMode::Hybrid,
            SearchConfig {
                fusion: Fusion::Rrf { k: 60.0 },
                ..base
            },
        )?;
        for w in [0.1, 0.2, 0.3, 0.4, 0.5] {
            let config = SearchConfig {
                fusion: Fusion::Combine { lexical_weight: w },
                ..base
            };
            run(
                &index,
                &format!("hybrid combine w={w}"),
                SearchMode::Hybrid,
                config,
            )?;
        }
        for (title, abstract_text, body) in [
            (0.5, 1.0, 0.0),
            (0.3, 1.0, 0.0),
            (0.0, 0.0, 1.0),
            (0.2, 0.0, 1.0),
            (0.4, 0.0, 1.0),
            (0.3, 0.5, 0.5),
        ] {
            index.searcher.set_boosts(FieldBoosts {
                title,
                abstract_text,
                body,
                ..FieldBoosts::default()
            });
            let label = format!("t={title} a={abstract_text} b={body}");
            run(
                &index,
                &format!("lexical {label}"),
                SearchMode::Lexical,
                base,
            )?;
            run(&index, &format!("hybrid {label}"), SearchMode::Hybrid, base)?;
        }
        index.searcher.set_boosts(FieldBoosts::default());
        if only_boosts {
            return Ok(());
        }
        for floor in [0.25, 0.3, 0.35, 0.4] {
            for lexical_floor in [0.15, 0.2, 0.25] {
                for strength in [0.5, 0.7] {
                    let cutoff = Cutoff {
                        dense_floor: floor,
                        dense_floor_lexical: lexical_floor,
                        lexical_strength: strength,
                        ..Cutoff::default()
                    };
                    run(
                        &index,
                        &format!("cut f={floor} lf={lexical_floor} s={strength}"),
                        SearchMode::Hybrid,
                        SearchConfig { cutoff, ..base },
                    )?;
                }
            }
        }
    }
    Ok(())
}
