//! The binary's glue for the topic map: reading every stored vector from the store
//! into a `papers_topics::Corpus` (the texts are read by key while the build names
//! topics, never all at once), building the map (keeping the ids of the last
//! one), saving it under the data directory, and, in `papers serve`,
//! rebuilding it in the background once the embedded papers have grown by the
//! configured share. Each node builds its own map from the store, as it does its
//! indexes; the clustering is seeded, so nodes over the same store agree.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::Utc;
use papers_store::{Database, Store, StoreError};
use papers_topics::{BuildOptions, Corpus, FetchTexts, SharedTopics, Texts, TopicMap};

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

/// Every paper with a vector of `model`, with its publication day; its text is
/// read from `texts` when the build names topics.
pub fn corpus(store: &Store, model: &str, texts: Arc<StoreTexts>) -> anyhow::Result<Corpus> {
    let mut corpus = Corpus::new(0);
    corpus.texts = Texts::Fetched(texts);
    store
        .for_each_embedding(model, |key, vector| {
            if corpus.dim == 0 {
                corpus.dim = vector.len();
            }
            // A vector of another width (a model change half done) is left out.
            if vector.len() == corpus.dim {
                corpus.push_vector(key, vector, None);
            }
        })
        .context("reading the stored vectors")?;
    store
        .for_each_paper(|paper| {
            if let Ok(row) = corpus.keys.binary_search(&paper.key) {
                corpus.published[row] = paper.paper.metadata.published.map(|t| t.date_naive());
            }
        })
        .context("reading the papers")?;
    Ok(corpus)
}

/// The corpus's titles and abstracts, read from the store by key while the build
/// counts and names topics, a page at a time: held all at once, a million papers'
/// texts took about 1 GB, as much as their vectors. Its own connection, behind a
/// lock: the build asks from several threads, and each read is short.
pub struct StoreTexts {
    store: Mutex<Store>,
    /// The first read that failed: the build goes on without those texts, and
    /// [`rebuild`] fails once it is done rather than save a map named from part of
    /// its papers.
    failed: Mutex<Option<StoreError>>,
}

impl StoreTexts {
    pub fn connect(database: &Database) -> anyhow::Result<StoreTexts> {
        Ok(StoreTexts {
            store: Mutex::new(Store::connect(database)?),
            failed: Mutex::new(None),
        })
    }

    /// The first failed read, if any.
    fn failure(&self) -> Option<StoreError> {
        self.failed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}

impl FetchTexts for StoreTexts {
    fn fetch(&self, keys: &[i64], each: &mut dyn FnMut(&str) -> bool) {
        // A panic elsewhere leaves the connection usable: reads change nothing.
        let read = self
            .store
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .papers_by_keys(keys);
        match read {
            Ok(papers) => {
                for paper in papers {
                    let metadata = &paper.paper.metadata;
                    if !each(&embedding_text(&metadata.title, &metadata.abstract_text)) {
                        return;
                    }
                }
            }
            Err(error) => {
                self.failed
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .get_or_insert(error);
            }
        }
    }
}

/// Builds the map from the store and saves it; returns it with the build's time.
pub fn rebuild(
    data_dir: &Path,
    store: &Store,
    model: &str,
) -> anyhow::Result<(TopicMap, Duration)> {
    let started = Instant::now();
    let texts = Arc::new(StoreTexts::connect(store.location())?);
    let corpus = corpus(store, model, texts.clone())?;
    let previous = load(data_dir, model)?;
    let map = papers_topics::build(
        &corpus,
        model,
        Utc::now(),
        previous.as_ref(),
        &BuildOptions::default(),
    )?;
    if let Some(error) = texts.failure() {
        return Err(error).context("reading the papers' texts to name topics");
    }
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
    let spawned =
        crate::background::spawn("topic-map", crate::background::Priority::Idle, move || {
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
