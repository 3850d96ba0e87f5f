//! `papers index` (embed what lacks a vector, then catch the indexes up) and
//! `papers reindex` (rebuild the indexes and the topic map from the store).

use std::process::ExitCode;

use crate::config::{Config, DEFAULT_MODEL_REPO};
use crate::output::outln;
use crate::progress::Progress;
use crate::search_service::{
    ModelChoice, SearchService, WhenIndexTaken, embed_missing, load_optional_model, rebuild,
};

pub fn run_index(config: &Config) -> anyhow::Result<ExitCode> {
    let embedder = ModelChoice::from_config(&config.model).load()?;
    let mut store = config.store.open()?;
    let missing = store.count_without_embedding(embedder.model_id())?;
    eprintln!("embedding {missing} papers with {}", embedder.model_id());
    let started = std::time::Instant::now();
    let mut progress = Progress::new("index", Some(missing), "papers");
    let embedded = embed_missing(&mut store, &embedder, |done| progress.set(done, done))?;
    progress.finish();
    let seconds = started.elapsed().as_secs_f64();
    let service = SearchService::open(
        &config.store.data_dir,
        Some(embedder),
        WhenIndexTaken::ReadTheirs,
    )?;
    // Storing a vector logs a change, so catching up also loads the new vectors.
    let caught_up = service.catch_up(&store)?;
    service.finish()?;
    let indexed = if service.writes_index() {
        format!("indexed {caught_up} changed papers")
    } else {
        "the running server that owns the indexes loads the new vectors".to_owned()
    };
    outln!(
        "embedded {} papers in {seconds:.1}s ({:.1} papers/s); {indexed}",
        embedded.len(),
        embedded.len() as f64 / seconds.max(1e-9)
    )?;
    Ok(ExitCode::SUCCESS)
}

pub fn run_reindex(config: &Config) -> anyhow::Result<ExitCode> {
    let store = config.store.open()?;
    // The model's identity names the vectors to index; without a model the lexical
    // index is still rebuilt and the dense side stays empty.
    let (model_id, dim) =
        match load_optional_model(&config.model, "rebuilding the lexical index only") {
            Some(embedder) => (embedder.model_id().to_owned(), embedder.dim()),
            None => (DEFAULT_MODEL_REPO.to_owned(), 384),
        };
    let started = std::time::Instant::now();
    let count = rebuild(&config.store.data_dir, &store, &model_id, dim)?;
    outln!(
        "reindexed {count} papers in {:.1}s",
        started.elapsed().as_secs_f64()
    )?;
    // The topic map is derived from the same vectors: rebuilt with the indexes.
    if store.count_embeddings(&model_id)? > 0 {
        let (map, took) =
            crate::topics_service::rebuild(&config.store.data_dir, &store, &model_id)?;
        outln!(
            "clustered {} papers into {} topics in {:.1}s",
            map.papers.len(),
            map.broad().count(),
            took.as_secs_f64()
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
