//! Opening, updating and rebuilding both indexes in a data directory.
//!
//! Layout under the directory: `lexical/` (tantivy) and `vectors.papers` (see
//! [`crate::dense`]). Each index records the store change-log position it covers;
//! [`Searcher::watermark`] is the smaller of the two, from which the binary
//! replays after a crash. Replaying is idempotent (upserts by key).

use std::path::{Path, PathBuf};

use crate::IndexDoc;
use crate::bulk::BulkLoad;
use crate::dense::{DenseIndex, DenseOptions};
use crate::doc::index_key;
use crate::error::{IndexError, Result};
use crate::lexical::{LexicalIndex, LexicalWriter};
use crate::searcher::{SearchConfig, Searcher};

const LEXICAL_DIR: &str = "lexical";
const VECTORS_FILE: &str = "vectors.papers";
/// The graph snapshot beside the vector log (see `dense::hnsw`), swapped after it.
const GRAPH_FILES: [&str; 2] = ["vectors.hnsw", "vectors.hnsw.meta"];

/// One paper's update: its fields and, when embedded, its vector.
#[derive(Debug, Clone)]
pub struct Update {
    pub doc: IndexDoc,
    pub vector: Option<Vec<f32>>,
}

impl Searcher {
    /// Opens (creating if needed) the indexes in `dir`. `model` and `dim` name the
    /// embedding model the vectors must come from.
    pub fn open(dir: &Path, model: &str, dim: usize) -> Result<Searcher> {
        Self::open_with(dir, model, dim, DenseOptions::default())
    }

    /// [`Searcher::open`], except that a dense index built from another model is
    /// dropped rather than refused: vectors from two models must not be mixed, and
    /// those of the new one come from the store. The dense side then covers nothing
    /// (watermark 0), so the caller's catch-up replays the change log into it.
    pub fn open_replacing_other_model(dir: &Path, model: &str, dim: usize) -> Result<Searcher> {
        match Self::open(dir, model, dim) {
            Err(IndexError::ModelMismatch { expected, found }) => {
                tracing::warn!(%found, %expected, "dropping the dense index of another model");
                for name in std::iter::once(VECTORS_FILE).chain(GRAPH_FILES) {
                    let path = dir.join(name);
                    if path.exists() {
                        std::fs::remove_file(&path).map_err(IndexError::io(&path))?;
                    }
                }
                Self::open(dir, model, dim)
            }
            opened => opened,
        }
    }

    /// The model (id and dimension) whose vectors the dense index in `dir` holds, if
    /// there is one. A search without the model opens the index under this name, so
    /// that keyword search keeps working beside vectors it cannot use.
    pub fn indexed_model(dir: &Path) -> Result<Option<(String, usize)>> {
        let path = dir.join(VECTORS_FILE);
        if !path.exists() {
            return Ok(None);
        }
        let header = crate::dense::read_header(&path)?;
        Ok(Some((header.model, header.dim)))
    }

    /// [`Searcher::open`] with explicit dense-index options (benchmarks, tests).
    pub fn open_with(
        dir: &Path,
        model: &str,
        dim: usize,
        options: DenseOptions,
    ) -> Result<Searcher> {
        let lexical = LexicalIndex::open(&dir.join(LEXICAL_DIR))?;
        let dense = DenseIndex::open_with(&dir.join(VECTORS_FILE), model, dim, options)?;
        Searcher::new(lexical, dense, SearchConfig::default())
    }

    /// Makes the next open cheap: writes the dense graph snapshot if the vector
    /// log has grown past it (see [`DenseIndex::checkpoint`]).
    pub fn checkpoint(&mut self) -> Result<()> {
        self.dense.checkpoint()
    }

    /// Both indexes in memory (evaluation, tests).
    pub fn in_memory(model: &str, dim: usize) -> Result<Searcher> {
        Searcher::new(
            LexicalIndex::in_memory()?,
            DenseIndex::in_memory(model, dim)?,
            SearchConfig::default(),
        )
    }

    /// The change-log position each index covers, lexical then dense: what operators
    /// compare with the newest change to see how far behind each one is.
    pub fn watermarks(&self) -> Result<(u64, u64)> {
        Ok((
            self.lexical.watermark()?.unwrap_or(0),
            self.dense.watermark(),
        ))
    }

    /// The store change-log position both indexes cover.
    pub fn watermark(&self) -> Result<u64> {
        let lexical = self.lexical.watermark()?.unwrap_or(0);
        Ok(lexical.min(self.dense.watermark()))
    }

    /// The lexical writer; hold one per process (tantivy locks the directory).
    pub fn writer(&self) -> Result<LexicalWriter> {
        self.lexical.writer()
    }

    /// Applies a batch of upserts and deletions, commits both indexes at
    /// `watermark`, and makes the changes visible. Lexical commits first: if the
    /// dense commit then fails, the smaller dense watermark makes the binary replay.
    pub fn apply(
        &mut self,
        writer: &mut LexicalWriter,
        updates: &[Update],
        deletions: &[i64],
        watermark: u64,
    ) -> Result<()> {
        Self::commit_lexical(writer, updates, deletions, watermark)?;
        self.publish(updates, deletions, watermark)
    }

    /// The first half of [`Searcher::apply`]: writes and commits the batch to the
    /// lexical index. Searches do not see it until [`Searcher::publish`] reloads the
    /// reader, so this needs no access to the searcher: a server runs it while
    /// searches go on, and holds the searcher exclusively only for `publish`. (The
    /// commit is the slow part of a small batch: segments written and synced.)
    pub fn commit_lexical(
        writer: &mut LexicalWriter,
        updates: &[Update],
        deletions: &[i64],
        watermark: u64,
    ) -> Result<()> {
        for update in updates {
            writer.upsert(&update.doc)?;
        }
        for &key in deletions {
            writer.delete(index_key(key)?);
        }
        writer.commit(watermark)
    }

    /// The second half of [`Searcher::apply`], after [`Searcher::commit_lexical`] of
    /// the same batch: updates and commits the dense index, the filter sets and the
    /// similar-paper lists, and shows the lexical commit to searches.
    pub fn publish(&mut self, updates: &[Update], deletions: &[i64], watermark: u64) -> Result<()> {
        for update in updates {
            let key = index_key(update.doc.key)?;
            match &update.vector {
                Some(vector) => self.dense.upsert(key, vector)?,
                None => self.dense.remove(key),
            }
        }
        for &key in deletions {
            self.dense.remove(index_key(key)?);
        }
        // The filter sets follow the lexical index once its commit went through.
        for update in updates {
            self.facets.upsert(index_key(update.doc.key)?, &update.doc);
        }
        for &key in deletions {
            self.facets.remove(index_key(key)?);
        }
        self.commit_dense(watermark)?;
        self.lexical.reload()
    }
}

/// Rebuilds `dir`'s indexes from scratch (`papers reindex`): builds beside the
/// live ones with a bulk load, then swaps them in, so a crash midway leaves the old
/// indexes intact. Run it with no other writer open.
pub struct Reindex {
    dir: PathBuf,
    staging: PathBuf,
    searcher: Searcher,
    load: BulkLoad,
}

impl Reindex {
    /// Starts a rebuild of about `expected` papers.
    pub fn begin(dir: &Path, model: &str, dim: usize, expected: usize) -> Result<Reindex> {
        let staging = dir.join("reindex.tmp");
        if staging.exists() {
            std::fs::remove_dir_all(&staging).map_err(IndexError::io(&staging))?;
        }
        let mut searcher = Searcher::open(&staging, model, dim)?;
        let writer = searcher.lexical.bulk_writer()?;
        // Intermediate commits carry watermark 0: a crash leaves a staging directory
        // that is never swapped in.
        let load = searcher.begin_bulk(writer, expected)?;
        Ok(Reindex {
            dir: dir.to_owned(),
            staging,
            searcher,
            load,
        })
    }

    pub fn add(&mut self, updates: &[Update]) -> Result<()> {
        self.load.add(&mut self.searcher, updates)
    }

    /// Commits the new indexes at `watermark` and swaps them in. Returns the number
    /// of papers indexed.
    pub fn finish(self, watermark: u64) -> Result<usize> {
        let Reindex {
            dir,
            staging,
            mut searcher,
            load,
        } = self;
        let count = load.finish(&mut searcher, watermark)?;
        drop(searcher);
        swap_in(&dir, &staging, LEXICAL_DIR)?;
        // A crash between these leaves a graph snapshot naming another log id: it is
        // then rebuilt from the new log, never used.
        swap_in(&dir, &staging, VECTORS_FILE)?;
        for name in GRAPH_FILES {
            swap_in(&dir, &staging, name)?;
        }
        std::fs::remove_dir_all(&staging).map_err(IndexError::io(&staging))?;
        Ok(count)
    }
}

/// [`Reindex`] over an iterator of updates, committed at `watermark`.
pub fn reindex(
    dir: &Path,
    model: &str,
    dim: usize,
    updates: impl Iterator<Item = Update>,
    watermark: u64,
) -> Result<usize> {
    let updates: Vec<Update> = updates.collect();
    let mut rebuild = Reindex::begin(dir, model, dim, updates.len())?;
    for chunk in updates.chunks(crate::bulk::DENSE_COMMIT) {
        rebuild.add(chunk)?;
    }
    rebuild.finish(watermark)
}

fn swap_in(dir: &Path, staging: &Path, name: &str) -> Result<()> {
    let live: PathBuf = dir.join(name);
    let old = dir.join(format!("{name}.old"));
    let remove = |path: &Path| -> Result<()> {
        if path.is_dir() {
            std::fs::remove_dir_all(path).map_err(IndexError::io(path))
        } else if path.exists() {
            std::fs::remove_file(path).map_err(IndexError::io(path))
        } else {
            Ok(())
        }
    };
    remove(&old)?;
    if live.exists() {
        std::fs::rename(&live, &old).map_err(IndexError::io(&live))?;
    }
    // The staging side may lack a file (no graph below the threshold).
    if staging.join(name).exists() {
        std::fs::rename(staging.join(name), &live).map_err(IndexError::io(&live))?;
    }
    remove(&old)
}
