//! `papers topics`: clusters every stored vector into the topic map (keeping the
//! ids of the last map) and prints its broad topics, after a line with the build's
//! time (reading the store included) and the process's peak memory.

use std::process::ExitCode;

use anyhow::Context;
use papers_index::Searcher;

use crate::cli::TopicsArgs;
use crate::config::Config;
use crate::output::outln;
use crate::search_service::{index_dir, load_optional_model};
use crate::topics_service::rebuild;

pub fn run(config: &Config, args: &TopicsArgs) -> anyhow::Result<ExitCode> {
    let store = config.store.open()?;
    let model = vectors_model(config)?;
    let (map, took) = rebuild(&config.store.data_dir, &store, &model)?;
    if args.json {
        let topics: Vec<_> = map
            .topics
            .iter()
            .map(|topic| {
                serde_json::json!({
                    "id": topic.id,
                    "parent": topic.parent,
                    "name": topic.name,
                    "terms": topic.terms,
                    "size": topic.size,
                })
            })
            .collect();
        outln!("{}", serde_json::to_string_pretty(&topics)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    let peak = peak_rss_mib().map_or_else(String::new, |mib| format!(", peak RSS {mib} MiB"));
    outln!(
        "{} papers: {} topics, {} subtopics in {:.1}s{peak}",
        map.papers.len(),
        map.broad().count(),
        map.topics.len() - map.broad().count(),
        took.as_secs_f64()
    )?;
    for topic in map.broad() {
        outln!(
            "{:>5} {:>7}  {}  ({} subtopics)",
            topic.id,
            topic.size,
            topic.name,
            map.children(topic.id).count()
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// This process's peak resident memory (VmHWM) in MiB, where /proc has it: the
/// build's memory at a given size is what an operator sizes a node by.
fn peak_rss_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}

/// The model whose stored vectors are clustered: the configured model's identity,
/// else (no model here) that of the vectors in the dense index.
pub fn vectors_model(config: &Config) -> anyhow::Result<String> {
    if let Some(embedder) = load_optional_model(&config.model, "clustering the indexed vectors") {
        return Ok(embedder.model_id().to_owned());
    }
    Searcher::indexed_model(&index_dir(&config.store.data_dir))?
        .map(|(model, _)| model)
        .context("no embedding model and no dense index: run `papers index` first")
}
