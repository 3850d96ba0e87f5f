//! `papers eval beir DIR`: nDCG@10, Recall@100 and MRR@10 on a BEIR data set.

use std::process::ExitCode;

use papers_index::SearchMode;
use papers_index::eval::{BeirSet, EvalOptions, builtin_unrelated_queries, evaluate};

use crate::cli::{EvalArgs, EvalBenchmark};
use crate::config::Config;
use crate::output::outln;
use crate::search_service::load_optional_model;

pub fn run(config: &Config, args: &EvalArgs) -> anyhow::Result<ExitCode> {
    let EvalBenchmark::Beir {
        dir,
        qrels,
        mode,
        json,
    } = &args.benchmark;
    let mode: SearchMode = mode.parse().map_err(|e| anyhow::anyhow!("--mode: {e}"))?;
    let set = BeirSet::load(dir, qrels.as_deref())?;
    let embedder = if mode == SearchMode::Lexical {
        None
    } else {
        load_optional_model(&config.model, "no embedding model, evaluating lexically")
    };
    let embed_fn = |texts: &[&str]| -> Vec<Vec<f32>> {
        match embedder.as_ref().map(|e| e.embed(texts)) {
            Some(Ok(vectors)) => vectors,
            // The harness treats missing vectors as "no dense side" for these texts.
            _ => Vec::new(),
        }
    };
    let options = EvalOptions {
        mode,
        unrelated: builtin_unrelated_queries(),
        ..EvalOptions::default()
    };
    let report = evaluate(
        &set,
        embedder
            .as_ref()
            .map(|_| &embed_fn as &dyn Fn(&[&str]) -> Vec<Vec<f32>>),
        &options,
    )?;
    if *json {
        outln!("{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        for line in report.lines() {
            outln!("{line}")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
