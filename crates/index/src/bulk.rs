//! Loading many papers at once: a new index, `papers reindex`, or a node far behind
//! the store. [`Searcher::apply`] suits the trickle of a running site (a commit per
//! batch, one indexing thread); a load of a million papers needs every core and few
//! commits instead:
//!
//! * the lexical side gets a writer with one indexing thread per core
//!   ([`LexicalIndex::bulk_writer`](crate::lexical::LexicalIndex::bulk_writer)) and
//!   commits every [`LEXICAL_COMMIT`] papers; into an empty index, papers arriving
//!   in ascending key order are added without the delete of their key that an
//!   upsert costs;
//! * the dense side reserves graph room for every expected vector at once, inserts
//!   each commit's vectors on every core, commits every [`DENSE_COMMIT`] vectors,
//!   and writes its graph snapshot once, at the end.
//!
//! Intermediate commits keep the watermark the indexes had when the load began, so a
//! load that dies midway is replayed from there; replaying is idempotent (a paper
//! already in a non-empty lexical index is upserted, a vector already held is a
//! no-op).

use crate::doc::index_key;
use crate::error::Result;
use crate::lexical::LexicalWriter;
use crate::maintain::Update;
use crate::searcher::Searcher;

/// Papers between lexical commits. Each commit writes a segment per indexing thread
/// and syncs; between commits the threads flush segments as their heaps fill.
const LEXICAL_COMMIT: usize = 250_000;
/// Vectors between dense commits: each commit appends them to the log and inserts
/// them into the graph on every core. Until then they are held twice (the pending log
/// rows and the graph's queue), 1.5 kB each at 384 dimensions.
pub const DENSE_COMMIT: usize = 32_768;

/// A load in progress; [`BulkLoad::finish`] commits it.
pub struct BulkLoad {
    writer: LexicalWriter,
    /// The lexical index was empty when the load began.
    fresh: bool,
    /// The largest key added without a delete: a key at or below it is upserted.
    last_added: Option<u64>,
    /// The watermark the indexes had when the load began.
    start: u64,
    since_lexical_commit: usize,
    since_dense_commit: usize,
    loaded: usize,
}

impl Searcher {
    /// Starts loading about `expected` papers with `writer`, a writer from
    /// [`LexicalIndex::bulk_writer`](crate::lexical::LexicalIndex::bulk_writer)
    /// (the caller drops any other writer of the directory first).
    pub fn begin_bulk(&mut self, writer: LexicalWriter, expected: usize) -> Result<BulkLoad> {
        self.dense.begin_bulk(expected)?;
        Ok(BulkLoad {
            writer,
            fresh: self.lexical.is_empty()?,
            last_added: None,
            start: self.watermark()?,
            since_lexical_commit: 0,
            since_dense_commit: 0,
            loaded: 0,
        })
    }
}

impl BulkLoad {
    /// Stages `updates` (papers with their vectors, or without to drop one) and
    /// commits when enough have gathered. Between calls the searcher may serve
    /// searches; what is committed shows after the next [`BulkLoad::add`] or
    /// [`BulkLoad::finish`].
    pub fn add(&mut self, searcher: &mut Searcher, updates: &[Update]) -> Result<()> {
        for update in updates {
            let key = index_key(update.doc.key)?;
            if self.fresh && self.last_added.is_none_or(|last| key > last) {
                self.writer.add(&update.doc)?;
                self.last_added = Some(key);
            } else {
                self.writer.upsert(&update.doc)?;
            }
            searcher.facets.upsert(key, &update.doc);
            match &update.vector {
                Some(vector) => searcher.dense.upsert(key, vector)?,
                None => searcher.dense.remove(key),
            }
        }
        self.loaded += updates.len();
        self.since_lexical_commit += updates.len();
        self.since_dense_commit += updates.len();
        if self.since_dense_commit >= DENSE_COMMIT {
            searcher.commit_dense(self.start)?;
            self.since_dense_commit = 0;
        }
        if self.since_lexical_commit >= LEXICAL_COMMIT {
            self.writer.commit(self.start)?;
            searcher.lexical.reload()?;
            self.since_lexical_commit = 0;
        }
        Ok(())
    }

    /// Papers staged so far.
    pub fn loaded(&self) -> usize {
        self.loaded
    }

    /// Gives up a load that failed: the lexical writer's uncommitted papers are
    /// dropped, and the dense side leaves bulk mode (what it committed stays, under
    /// the watermark the load began with).
    pub fn abandon(self, searcher: &mut Searcher) -> Result<()> {
        drop(self.writer);
        searcher.reread_facets()?;
        searcher.dense.end_bulk()
    }

    /// Commits both indexes at `watermark`, snapshots the graph, and waits for the
    /// lexical index's merges. Returns the number of papers loaded.
    pub fn finish(mut self, searcher: &mut Searcher, watermark: u64) -> Result<usize> {
        // Lexical first, as in `Searcher::apply`: if the dense commit then fails, its
        // smaller watermark makes the binary replay.
        self.writer.commit(watermark)?;
        searcher.commit_dense(watermark)?;
        searcher.dense.end_bulk()?;
        searcher.lexical.reload()?;
        self.writer.finish()?;
        Ok(self.loaded)
    }
}
