//! The binary's glue for the topic map: reading every stored vector and text from
//! the store into a `papers_topics::Corpus`, building the map (keeping the ids of
//! the last one), saving it under the data directory, and, in `papers serve`,
//! rebuilding it in the background once the embedded papers have grown by the
//! configured share. Each node builds its own map from the store, as it does its
//! indexes; the clustering is seeded, so nodes over the same store agree.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::Utc;
use papers_store::{Database, Store};
use papers_topics::{BuildOptions, Corpus, SharedTopics, TopicMap};

use crate::search_service::{embedding_text, index_dir};

/// Where the map lives: beside the indexes, derived state like them.
pub fn topics_path(data_dir: &Path) -> PathBuf {
    index_dir(data_dir).join("topics.json")
}

/// The map on disk, if any and if it was built from `model`'s vectors (a map of
/// another model's vectors is ignored; the next build replaces it).
pub fn load(data_dir: &Path, model: &str) -> anyhow::Result<Option<TopicMap>> {
    let path = topics_path(data_dir);
    let map = match TopicMap::load(&path) {
        Ok(map) => map,
        // An unreadable map (a format from another version) is rebuilt, not fatal.
        Err(error) => {
            tracing::warn!(%error, "ignoring the topic map on disk");
            None
        }
    };
    Ok(map.filter(|map| map.model == model))
}

/// Every paper with a vector of `model`, with its text and publication day.
pub fn corpus(store: &Store, model: &str) -> anyhow::Result<Corpus> {
    let mut corpus = Corpus::new(0);
    store
        .for_each_embedding(model, |key, vector| {
            if corpus.dim == 0 {
                corpus.dim = vector.len();
            }
            // A vector of another width (a model change half done) is left out.
            if vector.len() == corpus.dim {
                corpus.keys.push(key);
                corpus.vectors.extend_from_slice(vector);
            }
        })
        .context("reading the stored vectors")?;
    corpus.texts = vec![String::new(); corpus.keys.len()];
    corpus.published = vec![None; corpus.keys.len()];
    store
        .for_each_paper(|paper| {
            if let Ok(row) = corpus.keys.binary_search(&paper.key) {
                let metadata = &paper.paper.metadata;
                corpus.texts[row] = embedding_text(&metadata.title, &metadata.abstract_text);
                corpus.published[row] = metadata.published.map(|t| t.date_naive());
            }
        })
        .context("reading the papers")?;
    Ok(corpus)
}

/// Builds the map from the store and saves it; returns it with the build's time.
pub fn rebuild(
    data_dir: &Path,
    store: &Store,
    model: &str,
) -> anyhow::Result<(TopicMap, Duration)> {
    let started = Instant::now();
    let corpus = corpus(store, model)?;
    let previous = load(data_dir, model)?;
    let map = papers_topics::build(
        &corpus,
        model,
        Utc::now(),
        previous.as_ref(),
        &BuildOptions::default(),
    )?;
    map.save(&topics_path(data_dir))?;
    Ok((map, started.elapsed()))
}

/// How often `papers serve` checks whether the map is due for a rebuild.
const CHECK_EVERY: Duration = Duration::from_secs(60);

/// Rebuilds the map in the background of `papers serve` when there is none yet and
/// papers have vectors, or when the papers with a vector have grown by `percent`
/// since the last build (0: never). The site keeps reading the old map meanwhile.
pub fn spawn_rebuilder(
    database: Database,
    data_dir: PathBuf,
    model: String,
    topics: Arc<SharedTopics>,
    percent: usize,
) {
    if percent == 0 {
        return;
    }
    let spawned = crate::background::spawn("topic-map", move || {
        loop {
            if let Err(error) = rebuild_if_due(&database, &data_dir, &model, &topics, percent) {
                tracing::warn!(error = format!("{error:#}"), "rebuilding the topic map");
            }
            std::thread::sleep(CHECK_EVERY);
        }
    });
    if let Err(error) = spawned {
        tracing::error!(%error, "cannot start the topic map rebuilder");
    }
}

fn rebuild_if_due(
    database: &Database,
    data_dir: &Path,
    model: &str,
    topics: &SharedTopics,
    percent: usize,
) -> anyhow::Result<()> {
    let store = Store::connect(database)?;
    let embedded = store.count_embeddings(model)?;
    let built = topics.get().map_or(0, |map| map.papers.len() as u64);
    let due = if built == 0 {
        embedded > 0
    } else {
        embedded * 100 >= built * (100 + percent as u64)
    };
    if !due {
        return Ok(());
    }
    let (map, took) = rebuild(data_dir, &store, model)?;
    tracing::info!(
        papers = map.papers.len(),
        topics = map.broad().count(),
        duration_ms = took.as_millis() as u64,
        "rebuilt the topic map"
    );
    topics.set(map);
    Ok(())
}
