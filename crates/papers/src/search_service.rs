//! The binary's glue between the store, the embedding model and the search indexes:
//! opening them from the data directory, catching the indexes up with the store's change
//! log, embedding queries, and answering the web crate's `SearchBackend`.
//!
//! The indexes are derived state: `<data-dir>/index/` can be deleted at any time and
//! `papers reindex` (or the next catch-up from watermark 0) rebuilds it.

use std::io::IsTerminal;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use anyhow::Context;
use papers_digest::{SavedSearch, TermSearch};
use papers_embed::{EmbedOptions, Embedder, Hub, Kernel};
use papers_index::{
    Described, Hit, IndexDoc, IndexError, ParsedQuery, Reindex, SearchMode, SearchResults,
    Searcher, Snippet, Update,
};
use papers_store::{EmbeddingInput, Store, StoredPaper};

use crate::config::{DEFAULT_MODEL_REPO, ModelConfig};
use crate::index_owner::IndexAccess;
pub use crate::index_owner::WhenIndexTaken;
use crate::query_batch::QueryBatcher;

const DEFAULT_DIM: usize = 384;
/// Papers embedded per store transaction by `papers index`.
pub const EMBED_BATCH: usize = 256;

/// Where the model comes from, as configured.
#[derive(Debug, Clone)]
pub struct ModelChoice {
    pub explicit: Option<PathBuf>,
    pub hf_home: Option<PathBuf>,
    /// The Hugging Face repository looked for in the cache and on the hub.
    pub repo: String,
    /// Where to download from when nothing is found locally; `None` with `HF_HUB_OFFLINE`.
    pub hub: Option<Hub>,
    pub portable: bool,
}

impl ModelChoice {
    pub fn from_config(model: &ModelConfig) -> ModelChoice {
        ModelChoice {
            explicit: model.path.clone(),
            hf_home: model.hf_home.clone(),
            repo: model.id.clone(),
            hub: (!model.offline).then(|| hub(model)),
            portable: model.portable,
        }
    }

    /// The model directory: the explicit one, the cache, or a download into the cache
    /// (said on stderr first, since it can take a while).
    pub fn locate(&self) -> anyhow::Result<PathBuf> {
        if let Ok(dir) = papers_embed::resolve_model_dir(
            self.explicit.as_deref(),
            self.hf_home.as_deref(),
            &self.repo,
        ) {
            return Ok(dir);
        }
        // Not found locally: `locate_model` looks again (cheaply) so that its error
        // lists every place tried beside what the hub said.
        if self.explicit.is_none()
            && let (Some(hub), Some(home)) = (&self.hub, &self.hf_home)
        {
            eprintln!(
                "note: {} is not in {}; downloading it from {}",
                self.repo,
                home.join("hub").display(),
                hub.endpoint
            );
        }
        papers_embed::locate_model(
            self.explicit.as_deref(),
            self.hf_home.as_deref(),
            &self.repo,
            self.hub.as_ref(),
        )
        .map_err(|e| anyhow::anyhow!("{e}"))
    }

    /// Loads the model, or explains where it looked and how to provide one.
    pub fn load(&self) -> anyhow::Result<Embedder> {
        self.open(&self.locate()?)
    }

    /// Loads the model in `dir` with the chosen kernels.
    pub fn open(&self, dir: &Path) -> anyhow::Result<Embedder> {
        let options = EmbedOptions {
            max_kernel: if self.portable {
                Kernel::Portable
            } else {
                Kernel::FASTEST
            },
            threads: 0,
        };
        Embedder::load_with(dir, options)
            .with_context(|| format!("loading the embedding model from {}", dir.display()))
    }
}

/// The hub at `HF_ENDPOINT` (a mirror or a test server), with `HF_TOKEN`.
fn hub(model: &ModelConfig) -> Hub {
    // `Hub::new`'s ten-second probe limit: an offline run goes on without the hub.
    let mut hub = Hub::new(model.hf_endpoint.clone());
    hub.progress = std::io::stderr().is_terminal();
    hub.token = model.hf_token.as_ref().map(|token| token.expose().clone());
    hub
}

/// Loads the model for work that can go on without it: on failure, says once on stderr
/// (first line of the reason, and what the hub said if it was asked) what happens
/// instead, and returns `None`.
pub fn load_optional_model(model: &ModelConfig, without: &str) -> Option<Embedder> {
    match ModelChoice::from_config(model).load() {
        Ok(embedder) => Some(embedder),
        Err(error) => {
            let reason = format!("{error:#}");
            let mut lines = reason.lines();
            eprintln!("note: {without}: {}", lines.next().unwrap_or_default());
            if let Some(hub) = lines.find(|line| line.contains("the Hugging Face hub:")) {
                eprintln!("note: {}", hub.trim());
            }
            None
        }
    }
}

pub fn index_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("index")
}

/// The text a paper is embedded from: title, newline, abstract.
pub fn embedding_text(title: &str, abstract_text: &str) -> String {
    format!("{}\n{}", title.trim(), abstract_text.trim())
}

pub fn index_doc(stored: &StoredPaper) -> IndexDoc {
    let metadata = &stored.paper.metadata;
    IndexDoc {
        key: stored.key,
        id: Some(stored.paper.id.clone()),
        title: metadata.title.clone(),
        abstract_text: metadata.abstract_text.clone(),
        authors: metadata.authors.clone(),
        categories: metadata.categories.clone(),
        published: metadata.published.map(|t| t.date_naive()),
    }
}

/// The papers of `keys` as the indexes take them: fields and, when embedded, the
/// vector for `model`. Two statements per few hundred keys.
fn index_updates(store: &Store, model: &str, keys: &[i64]) -> anyhow::Result<Vec<Update>> {
    let papers = store.papers_by_keys(keys)?;
    let mut vectors = store.embeddings_of(model, keys)?;
    Ok(papers
        .iter()
        .map(|paper| Update {
            doc: index_doc(paper),
            vector: vectors.remove(&paper.key),
        })
        .collect())
}

/// Changed papers from which on a catch-up is a bulk load (every core, few commits,
/// see [`papers_index::BulkLoad`]) rather than batches of [`Searcher::apply`].
const BULK_FROM: usize = 20_000;
/// Papers read from the store per step of a bulk load. The searcher is locked for
/// writing during each step's index work, so searches wait at most that long.
const BULK_STEP: usize = 8_192;
/// Papers per [`Searcher::apply`] when catching up incrementally.
const APPLY_STEP: usize = 5_000;

/// Why a search could not be answered. Typed, because it crosses into the web crate
/// (as [`papers_web::SearchError`]) and into the CLI's messages. (Written out rather
/// than derived: the binary has no `thiserror`.)
#[derive(Debug)]
pub enum SearchServiceError {
    Index(IndexError),
    /// A thread panicked while it held the index; nothing can read it safely now.
    Poisoned,
}

impl std::fmt::Display for SearchServiceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SearchServiceError::Index(error) => error.fmt(f),
            SearchServiceError::Poisoned => {
                f.write_str("the search index is unusable: a thread panicked while updating it")
            }
        }
    }
}

impl std::error::Error for SearchServiceError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SearchServiceError::Index(error) => error.source(),
            SearchServiceError::Poisoned => None,
        }
    }
}

impl From<IndexError> for SearchServiceError {
    fn from(error: IndexError) -> SearchServiceError {
        SearchServiceError::Index(error)
    }
}

/// Search over one data directory: the indexes, the model if there is one, and a store
/// connection for catching up.
pub struct SearchService {
    /// Whether this process writes the directory's indexes, reads another's, or keeps
    /// its own in memory (see [`crate::index_owner`]); holds the owner's lock.
    access: IndexAccess,
    searcher: RwLock<Searcher>,
    writer: Mutex<Option<papers_index::lexical::LexicalWriter>>,
    embedder: Option<Arc<Embedder>>,
    /// Embeds queries, batching concurrent ones; absent without a model.
    queries: Option<QueryBatcher>,
    model_id: String,
}

impl SearchService {
    /// Opens the indexes; without a model, search runs lexically and says so. When
    /// another process owns the directory's indexes, `when_taken` says whether to read
    /// them as they are or to keep this process's own in memory.
    pub fn open(
        data_dir: &Path,
        embedder: Option<Embedder>,
        when_taken: WhenIndexTaken,
    ) -> anyhow::Result<SearchService> {
        let dir = index_dir(data_dir);
        let access = IndexAccess::claim(&dir, when_taken)?;
        // Without a model, keyword search opens the index under the model its
        // vectors came from (they stay, unused, for the next run with the model).
        let (model_id, dim) = match &embedder {
            Some(embedder) => (embedder.model_id().to_owned(), embedder.dim()),
            None => Searcher::indexed_model(&dir)?
                .unwrap_or_else(|| (DEFAULT_MODEL_REPO.to_owned(), DEFAULT_DIM)),
        };
        let opening = || format!("opening the search index in {}", dir.display());
        let searcher = match &access {
            IndexAccess::Owner { .. } => {
                Searcher::open_replacing_other_model(&dir, &model_id, dim).with_context(opening)?
            }
            // Only the owner may drop vectors of another model.
            IndexAccess::Reader => Searcher::open(&dir, &model_id, dim).with_context(opening)?,
            IndexAccess::Private => {
                tracing::info!(
                    dir = %dir.display(),
                    "another process writes the indexes here; this one keeps its own in memory"
                );
                Searcher::in_memory(&model_id, dim)?
            }
        };
        let embedder = embedder.map(Arc::new);
        let queries = embedder
            .clone()
            .map(QueryBatcher::start)
            .transpose()
            .context("starting the query embedder thread")?;
        Ok(SearchService {
            access,
            searcher: RwLock::new(searcher),
            writer: Mutex::new(None),
            embedder,
            queries,
            model_id,
        })
    }

    /// Whether catching up changes this process's indexes: not when it reads those of
    /// another process, which keeps them current.
    pub fn writes_index(&self) -> bool {
        self.access.writes()
    }

    pub fn embedder(&self) -> Option<&Embedder> {
        self.embedder.as_deref()
    }

    /// The model whose vectors the dense index holds (the loaded model's, else the
    /// index's own).
    pub fn model_id(&self) -> &str {
        &self.model_id
    }

    pub fn embedder_model_id(&self) -> Option<String> {
        self.embedder.as_ref().map(|e| e.model_id().to_owned())
    }

    /// Applies every store change past the index's watermark. Returns how many papers
    /// were (re)indexed. An index that covers nothing yet is built in one streamed
    /// pass over the store; many changes are loaded in bulk; a few are applied. A
    /// process reading another's indexes changes nothing: their owner catches them up.
    pub fn catch_up(&self, store: &Store) -> anyhow::Result<usize> {
        if !self.writes_index() {
            return Ok(0);
        }
        let watermark = self.read()?.watermark()?;
        let last = store.last_change()?.max(0) as u64;
        if last <= watermark {
            return Ok(0);
        }
        if watermark == 0 {
            return self.load_all(store, last);
        }
        let (keys, last) = store.changed_since(watermark as i64)?;
        if keys.len() >= BULK_FROM {
            return self.load_keys(store, &keys, last as u64);
        }
        self.update_keys(store, &keys, last as u64)?;
        Ok(keys.len())
    }

    /// Re-indexes the given papers (for example after they were embedded) and commits at
    /// `watermark`. Batches before the last commit at the watermark the index had, so a
    /// crash midway replays them.
    fn update_keys(&self, store: &Store, keys: &[i64], watermark: u64) -> anyhow::Result<()> {
        let chunks: Vec<&[i64]> = keys.chunks(APPLY_STEP).collect();
        for (i, chunk) in chunks.iter().enumerate() {
            let updates = index_updates(store, &self.model_id, chunk)?;
            let mut writer_slot = self
                .writer
                .lock()
                .map_err(|_| anyhow::anyhow!("index writer poisoned"))?;
            // The lexical commit runs beside searches (they read the last reload);
            // only publishing the batch takes the searcher for itself.
            let commit_at = {
                let searcher = self.read()?;
                if writer_slot.is_none() {
                    *writer_slot = Some(searcher.writer()?);
                }
                let current = searcher.watermark()?;
                if i + 1 == chunks.len() {
                    watermark.max(current)
                } else {
                    current
                }
            };
            let Some(writer) = writer_slot.as_mut() else {
                continue;
            };
            Searcher::commit_lexical(writer, &updates, &[], commit_at)?;
            let waited = std::time::Instant::now();
            let mut searcher = self.write()?;
            let locked = std::time::Instant::now();
            searcher.publish(&updates, &[], commit_at)?;
            // Searches wait while the write lock is held: what to look at when the
            // site's latency has spikes (`PAPERS_LOG=papers::search_service=debug`).
            tracing::debug!(
                papers = updates.len(),
                wait_ms = (locked - waited).as_millis() as u64,
                locked_ms = locked.elapsed().as_millis() as u64,
                "applied changes to the indexes"
            );
        }
        Ok(())
    }

    /// Builds the indexes from every paper in the store, streamed in key order with
    /// its vector, and commits at `last` (the store's last change before the scan,
    /// so anything written meanwhile is caught up next time).
    fn load_all(&self, store: &Store, last: u64) -> anyhow::Result<usize> {
        let expected = store.paper_count()? as usize;
        self.load(expected, last, |step| {
            let mut batch = Vec::with_capacity(BULK_STEP);
            let mut failure = None;
            store.for_each_paper_with_embedding(&self.model_id, |paper, vector| {
                batch.push(Update {
                    doc: index_doc(&paper),
                    vector,
                });
                if batch.len() < BULK_STEP {
                    return ControlFlow::Continue(());
                }
                match step(std::mem::take(&mut batch)) {
                    Ok(()) => ControlFlow::Continue(()),
                    Err(error) => {
                        failure = Some(error);
                        ControlFlow::Break(())
                    }
                }
            })?;
            match failure {
                Some(error) => Err(error),
                None => step(batch),
            }
        })
    }

    /// Loads the changed papers `keys` in bulk and commits at `last`.
    fn load_keys(&self, store: &Store, keys: &[i64], last: u64) -> anyhow::Result<usize> {
        self.load(keys.len(), last, |step| {
            for chunk in keys.chunks(BULK_STEP) {
                step(index_updates(store, &self.model_id, chunk)?)?;
            }
            Ok(())
        })
    }

    /// A bulk load of about `expected` papers that `feed` hands over step by step,
    /// committed at `watermark`. The incremental writer is dropped first (a directory
    /// has one writer); the next incremental update makes a new one.
    fn load(
        &self,
        expected: usize,
        watermark: u64,
        feed: impl FnOnce(&mut dyn FnMut(Vec<Update>) -> anyhow::Result<()>) -> anyhow::Result<()>,
    ) -> anyhow::Result<usize> {
        let mut writer_slot = self
            .writer
            .lock()
            .map_err(|_| anyhow::anyhow!("index writer poisoned"))?;
        if let Some(writer) = writer_slot.take() {
            writer.finish()?;
        }
        let started = std::time::Instant::now();
        let writer = self.read()?.lexical().bulk_writer()?;
        let mut load = self.write()?.begin_bulk(writer, expected)?;
        let fed = feed(&mut |updates| {
            load.add(&mut *self.write()?, &updates)?;
            Ok(())
        });
        if let Err(error) = fed {
            load.abandon(&mut *self.write()?)?;
            return Err(error);
        }
        let loaded = load.finish(&mut *self.write()?, watermark)?;
        tracing::info!(
            papers = loaded,
            duration_ms = started.elapsed().as_millis() as u64,
            "indexes loaded in bulk"
        );
        Ok(loaded)
    }

    /// Releases the index writer (and its lock) so another process can write, after
    /// snapshotting the dense graph so the next open has nothing to replay.
    pub fn finish(&self) -> anyhow::Result<()> {
        if !self.writes_index() {
            return Ok(());
        }
        self.searcher
            .write()
            .map_err(|_| anyhow::anyhow!("index poisoned"))?
            .checkpoint()?;
        if let Some(writer) = self
            .writer
            .lock()
            .map_err(|_| anyhow::anyhow!("index writer poisoned"))?
            .take()
        {
            writer.finish()?;
        }
        Ok(())
    }

    /// Embeds a query; `None` without a model or when the model fails (search then runs
    /// lexically: a request never fails because of the dense side).
    fn query_vector(&self, query: &ParsedQuery, mode: SearchMode) -> Option<Vec<f32>> {
        if mode == SearchMode::Lexical {
            return None;
        }
        let queries = self.queries.as_ref()?;
        let text = query.embedding_text();
        if text.trim().is_empty() {
            return None;
        }
        match queries.embed(&text) {
            Ok(vector) => Some(vector),
            Err(error) => {
                tracing::warn!(%error, "query embedding failed; searching lexically");
                None
            }
        }
    }

    /// The ranked hits of a query: store keys and scores.
    pub fn search(
        &self,
        query: &ParsedQuery,
        mode: SearchMode,
        limit: usize,
    ) -> Result<SearchResults, SearchServiceError> {
        let vector = self.query_vector(query, mode);
        Ok(self.read()?.search(query, vector.as_deref(), mode, limit)?)
    }

    /// The snippets of the hits a surface shows (see [`Searcher::snippets`]).
    pub fn snippets(
        &self,
        hits: &[Hit],
        query: &ParsedQuery,
    ) -> Result<Vec<Option<Snippet>>, SearchServiceError> {
        Ok(self.read()?.snippets(hits, query)?)
    }

    /// Ids, titles and snippets of hits, for printing (see [`Searcher::describe`]).
    pub fn describe(
        &self,
        hits: &[Hit],
        query: &ParsedQuery,
    ) -> Result<Vec<(Hit, Described)>, SearchServiceError> {
        Ok(self.read()?.describe(hits, query)?)
    }

    /// The papers nearest to the one with store key `key`; `None` when it has no vector.
    pub fn similar(&self, key: i64, limit: usize) -> Result<Option<Vec<Hit>>, SearchServiceError> {
        Ok(self
            .read()?
            .similar(key, limit, &papers_index::Filters::default())?)
    }

    /// Similar papers under conditions: published from `after` on, within
    /// `category`, moved away from `minus` (see `Searcher::similar_unlike`). What
    /// this computes is never kept: only the plain list is (`similar_cached`); a
    /// request narrowed by the site alone (topic, authors, code) reads a kept list
    /// when one is deep enough.
    pub fn similar_with(
        &self,
        request: &papers_web::SimilarRequest,
    ) -> Result<Option<Vec<Hit>>, SearchServiceError> {
        let filters = papers_index::Filters {
            after: request.after,
            within: request.category.clone(),
            ..papers_index::Filters::default()
        };
        let searcher = self.read()?;
        Ok(match request.minus {
            Some(minus) => searcher.similar_unlike(request.key, minus, request.k, &filters)?,
            None => searcher.similar_unkept(request.key, request.k, &filters)?,
        })
    }

    /// The kept similar-paper lists and query vectors (`/metrics`); the lists are
    /// left out while the index is being written, since this must not wait.
    pub fn caches(&self) -> Vec<(&'static str, papers_web::CacheStats)> {
        let mut caches = Vec::new();
        if let Ok(searcher) = self.searcher.try_read() {
            let lists = searcher.kept_list_stats();
            let stats = papers_web::CacheStats {
                entries: lists.lists,
                bytes: lists.bytes,
                max_entries: lists.max_lists,
                max_bytes: None,
                full: lists.rotations,
            };
            caches.push(("similar_lists", stats));
        }
        if let Some(queries) = &self.queries {
            caches.push(("query_vectors", queries.kept()));
        }
        caches
    }

    /// The kept list of the papers nearest to `key`, if there is one and the index is
    /// not being written just now: never waits (the web worker asks this).
    pub fn similar_cached(&self, key: i64, limit: usize) -> Option<Vec<Hit>> {
        let searcher = self.searcher.try_read().ok()?;
        searcher.similar_cached(key, limit).ok().flatten()
    }

    fn read(&self) -> Result<std::sync::RwLockReadGuard<'_, Searcher>, SearchServiceError> {
        self.searcher
            .read()
            .map_err(|_| SearchServiceError::Poisoned)
    }

    fn write(&self) -> Result<std::sync::RwLockWriteGuard<'_, Searcher>, SearchServiceError> {
        self.searcher
            .write()
            .map_err(|_| SearchServiceError::Poisoned)
    }
}

/// Embeds stored papers that lack a vector for the model, in batches, each batch
/// committed before the next, so a killed run resumes where it stopped. Each batch's
/// search goes on from the last key of the one before. Returns the keys embedded.
pub fn embed_missing(
    store: &mut Store,
    embedder: &Embedder,
    mut progress: impl FnMut(u64),
) -> anyhow::Result<Vec<i64>> {
    let model = embedder.model_id();
    let mut done = Vec::new();
    let mut after = i64::MIN;
    loop {
        let batch = store.papers_without_embedding(model, after, EMBED_BATCH)?;
        let Some(last) = batch.last() else {
            return Ok(done);
        };
        after = last.key;
        done.extend(embed_batch(store, model, &batch, |texts| {
            embedder.embed(texts)
        })?);
        progress(done.len() as u64);
    }
}

/// Computes the vectors of `batch` with `embed` (for `model`) and stores them;
/// returns the keys stored. The server runs the computation at a lower priority but
/// stores the vectors at its own, since a write transaction held by a thread waiting
/// for a core would keep the members' writes waiting too (see `crate::background`).
pub fn embed_batch(
    store: &mut Store,
    model: &str,
    batch: &[EmbeddingInput],
    embed: impl Fn(&[&str]) -> Result<Vec<Vec<f32>>, papers_embed::EmbedError>,
) -> anyhow::Result<Vec<i64>> {
    let texts: Vec<String> = batch
        .iter()
        .map(|p| embedding_text(&p.title, &p.abstract_text))
        .collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let vectors = embed(&refs)?;
    let rows: Vec<(i64, Vec<f32>)> = batch.iter().map(|p| p.key).zip(vectors).collect();
    store.put_embeddings(model, &rows, chrono::Utc::now())?;
    Ok(rows.into_iter().map(|(key, _)| key).collect())
}

/// Rebuilds the indexes from the store: every paper, with its vector when it has one,
/// streamed in key order into a bulk load beside the live indexes, then swapped in.
pub fn rebuild(
    data_dir: &Path,
    store: &Store,
    model_id: &str,
    dim: usize,
) -> anyhow::Result<usize> {
    let dir = index_dir(data_dir);
    // Held until the new indexes are swapped in.
    let _owner = match IndexAccess::claim(&dir, WhenIndexTaken::ReadTheirs)? {
        owner @ IndexAccess::Owner { .. } => owner,
        _ => anyhow::bail!(
            "another process (a running `papers serve`?) is using the indexes in {}; stop it \
             before rebuilding them",
            dir.display()
        ),
    };
    // Read before the scan: a change made during it is replayed by the next catch-up.
    let watermark = store.last_change()?.max(0) as u64;
    let expected = store.paper_count()? as usize;
    let mut rebuild = Reindex::begin(&dir, model_id, dim, expected)?;
    let mut batch = Vec::with_capacity(BULK_STEP);
    let mut failure = None;
    store.for_each_paper_with_embedding(model_id, |paper, vector| {
        batch.push(Update {
            doc: index_doc(&paper),
            vector,
        });
        if batch.len() < BULK_STEP {
            return ControlFlow::Continue(());
        }
        match rebuild.add(&batch) {
            Ok(()) => {
                batch.clear();
                ControlFlow::Continue(())
            }
            Err(error) => {
                failure = Some(error);
                ControlFlow::Break(())
            }
        }
    })?;
    if let Some(error) = failure {
        return Err(error.into());
    }
    rebuild.add(&batch)?;
    Ok(rebuild.finish(watermark)?)
}

/// The web crate's view of search, and of the digests' saved searches for its preview.
pub struct WebSearch(pub Arc<SearchService>);

impl papers_web::SearchBackend for WebSearch {
    fn search(
        &self,
        request: &papers_web::SearchRequest,
    ) -> Result<papers_web::SearchOutcome, papers_web::SearchError> {
        let mut query = ParsedQuery::parse(&request.query);
        query.filters.within = request.category.clone();
        let results = self
            .0
            .search(&query, request.mode, request.limit)
            .map_err(web_error)?;
        let snippets = self.0.snippets(&results.hits, &query).map_err(web_error)?;
        let note = results
            .fell_back
            .then(|| "No embedding model is loaded, so these are keyword matches only.".to_owned());
        Ok(papers_web::SearchOutcome {
            hits: results
                .hits
                .iter()
                .zip(snippets)
                .map(|(hit, snippet)| web_hit(hit, snippet))
                .collect(),
            note,
        })
    }

    fn similar(
        &self,
        key: i64,
        k: usize,
    ) -> Result<Vec<papers_web::SearchHit>, papers_web::SearchError> {
        let hits = self.0.similar(key, k).map_err(web_error)?;
        Ok(hits
            .unwrap_or_default()
            .iter()
            .map(|hit| web_hit(hit, None))
            .collect())
    }

    fn similar_to(
        &self,
        request: &papers_web::SimilarRequest,
    ) -> Result<Vec<papers_web::SearchHit>, papers_web::SearchError> {
        let hits = self.0.similar_with(request).map_err(web_error)?;
        Ok(hits
            .unwrap_or_default()
            .iter()
            .map(|hit| web_hit(hit, None))
            .collect())
    }

    fn similar_cached(&self, key: i64, k: usize) -> Option<Vec<papers_web::SearchHit>> {
        let hits = self.0.similar_cached(key, k)?;
        Some(hits.iter().map(|hit| web_hit(hit, None)).collect())
    }

    /// The digest preview answers saved searches as the sender does.
    fn saved_search(&self) -> Option<&dyn SavedSearch> {
        Some(self)
    }

    fn caches(&self) -> Vec<(&'static str, papers_web::CacheStats)> {
        self.0.caches()
    }
}

impl SavedSearch for WebSearch {
    fn matching(
        &self,
        query: &str,
        candidates: &[&StoredPaper],
    ) -> Result<Vec<i64>, papers_digest::SourceError> {
        IndexedSavedSearch(&self.0).matching(query, candidates)
    }
}

/// What `/admin`, `/readyz` and `/metrics` ask of this node: how far each index has
/// followed the change log, and which model's vectors count.
impl papers_web::NodeStatus for WebSearch {
    fn index_watermarks(&self) -> Result<Vec<papers_web::IndexWatermark>, papers_web::BoxError> {
        let (lexical, dense) = self.0.read()?.watermarks()?;
        let position = |watermark: u64| i64::try_from(watermark).unwrap_or(i64::MAX);
        Ok(vec![
            papers_web::IndexWatermark {
                name: "lexical".to_owned(),
                watermark: position(lexical),
            },
            papers_web::IndexWatermark {
                name: "dense".to_owned(),
                watermark: position(dense),
            },
        ])
    }

    fn embedding_model(&self) -> Option<String> {
        self.0.embedder_model_id()
    }
}

/// Every failure below the web crate is the index's, not the query's: the index
/// never refuses a query (anything it cannot parse it searches as words).
fn web_error(error: SearchServiceError) -> papers_web::SearchError {
    papers_web::SearchError::Index(Box::new(error))
}

fn web_hit(hit: &Hit, snippet: Option<Snippet>) -> papers_web::SearchHit {
    let snippet = snippet
        .filter(|snippet| !snippet.text.is_empty())
        .map(|snippet| papers_web::Snippet {
            highlights: snippet
                .highlights
                .iter()
                .map(|r| (r.start, r.end))
                .collect(),
            text: snippet.text,
        });
    papers_web::SearchHit {
        key: hit.key,
        score: hit.score,
        snippet,
    }
}

/// How many hits a digest's saved search reads before keeping the period's papers.
const SAVED_SEARCH_DEPTH: usize = 500;

/// Saved searches in digests, run by the site's own search (hybrid when a model is
/// loaded, with its relevance cutoff) instead of plain term matching, then narrowed to
/// the period's new papers. The search is limited to papers published since the
/// earliest candidate, so older matches do not crowd the new ones out of the hits.
/// Falls back to term matching when the index fails.
pub struct IndexedSavedSearch<'a>(pub &'a SearchService);

impl SavedSearch for IndexedSavedSearch<'_> {
    fn matching(
        &self,
        query: &str,
        candidates: &[&StoredPaper],
    ) -> Result<Vec<i64>, papers_digest::SourceError> {
        let wanted: std::collections::HashSet<i64> = candidates.iter().map(|p| p.key).collect();
        let since = candidates
            .iter()
            .map(|p| p.paper.metadata.published)
            .collect::<Option<Vec<_>>>()
            .and_then(|dates| dates.into_iter().min());
        let scoped = match since {
            Some(since) => format!("{query} after:{}", since.date_naive()),
            None => query.to_owned(),
        };
        let scoped = ParsedQuery::parse(&scoped);
        match self
            .0
            .search(&scoped, SearchMode::Hybrid, SAVED_SEARCH_DEPTH)
        {
            Ok(results) => Ok(results
                .hits
                .iter()
                .map(|hit| hit.key)
                .filter(|key| wanted.contains(key))
                .collect()),
            Err(error) => {
                tracing::warn!(%error, query, "saved search falls back to term matching");
                TermSearch.matching(query, candidates)
            }
        }
    }
}
