//! The dense index: every paper's embedding as f16, searched exactly while the
//! collection is small and through an HNSW graph once it is large.
//!
//! Exact search is the better choice up to a few hundred thousand papers: one
//! pass over 76,803 × 384 f16 rows (59 MB) is a few milliseconds, recall is 1.0
//! by construction, filters are a bitset test per row, and there is no graph to
//! build (HNSW inserts run at a few thousand per second here), persist or repair.
//! The scan is linear, though: 38 ms per query at a million papers. From
//! [`DenseOptions::graph_threshold`] papers on, the vectors move into a usearch
//! graph (see [`hnsw`]) that answers in a few milliseconds at a million, holds
//! each vector quantised to i8, and applies the same filters during the walk. Its
//! candidates are rescored with the f16 vectors read from the log (see [`full`]),
//! which then stay on disk instead of in memory.
//!
//! Either way the durable record is the vector log (see [`file`]): commits append
//! to it, and the graph is a snapshot of it that [`DenseIndex::open`] validates
//! and catches up, or rebuilds.

mod exact;
mod file;
mod full;
pub mod hnsw;
pub(crate) mod kernel;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use half::f16;
use papers_rank::fusion::Scored;

use crate::error::{IndexError, Result};
use exact::{ExactRows, RowBits, TopK};
pub(crate) use file::read_header;
use file::{Header, TOMBSTONE};
use full::{FullVectors, LogRows};
use hnsw::{Coverage, Graph, HnswParams};

/// When the dense index uses the HNSW graph instead of the exact scan.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DenseOptions {
    /// Papers from which on the graph is used. Alone, the exact scan is fast enough
    /// far beyond this: for 100 neighbours it costs 0.6 ms at 20,000 papers and 38 ms
    /// at a million (bench/scale.sh), about 3 ms at 76,803. But each scan reads every
    /// vector (59 MB at 76,803), so concurrent searches and paper pages (each lists
    /// similar papers) contend for memory bandwidth: `bench/web.sh` on the 76,803
    /// papers with their vectors served 108 searches/s and 217 paper pages/s with
    /// the scan against 232 and 1,687 with the graph, in the same session. The graph
    /// costs its build (a few hundred to two thousand inserts/s on this shared
    /// 2-core machine) and recall@10 of 0.994 instead of 1 (bench/search.sh), so
    /// small collections, whose scan is cheap, keep the exact scan.
    pub graph_threshold: usize,
    pub hnsw: HnswParams,
    /// On the graph path, a filter that allows at most this many papers (or at
    /// most a [`EXACT_FILTER_DIVISOR`]th of the graph, if that is more) is answered
    /// by scoring each allowed paper's i8 vector instead of a filtered walk. A walk
    /// must visit about `1/share` times the nodes of an unfiltered one to find
    /// enough allowed papers, and far more when the query sits where few allowed
    /// papers are, which is what makes its p99 high; the scan's cost is its length.
    /// Off (0) by default: each i8 vector is read from usearch by key (about a
    /// third of a microsecond), so at 76,803 papers scoring cs.LG's papers took
    /// p50 8-10 ms against the walk's 2 ms, and its p99 (17 ms) was no better than
    /// the walk's (15-19 ms) on a loaded machine (`search_bench`'s `walk`/`scan`
    /// rounds). A contiguous copy of the i8 vectors would make the scan cheap, at
    /// 384 bytes a paper more.
    pub filter_scan_limit: usize,
}

impl Default for DenseOptions {
    fn default() -> Self {
        DenseOptions {
            graph_threshold: 50_000,
            hnsw: HnswParams::default(),
            filter_scan_limit: 0,
        }
    }
}

/// A filter with at most this fraction (1/n) of the graph's papers is answered by
/// scoring the allowed papers exactly: a graph walk would have to visit about
/// n × k nodes to find k allowed ones.
const EXACT_FILTER_DIVISOR: usize = 32;
/// Changed keys listed for [`DenseIndex::take_changes`] before it answers "many".
const MAX_LISTED_CHANGES: usize = 65_536;
/// The graph snapshot is rewritten when the log has grown past it by this many
/// rows, or by a tenth of the graph, whichever is more: replaying the tail on open
/// costs graph inserts, writing the snapshot costs a full write of the graph.
const SNAPSHOT_MIN_TAIL: u64 = 20_000;

/// How far "like a, not like b" moves the query from a: `a − 0.5·b`. At 1 the query
/// is dominated by what separates the two (often noise); at 0.5 it stays near a
/// while leaving b's direction.
const MINUS_WEIGHT: f32 = 0.5;

/// The graph's walk is approximate twice over (the graph, and its i8 vectors), so
/// it is asked for a quarter more than the results, at least [`MIN_CANDIDATES`],
/// and the candidates are rescored at full precision. At 76,803 papers a quarter
/// more keeps recall@10 at 0.993 and costs 0.86 ms for the searcher's 100 where
/// twice as many cost 1.10 ms (bench/search.sh, "dense (default)").
const MIN_CANDIDATES: usize = 40;

enum Vectors {
    Exact(ExactRows),
    /// The graph (i8) and the full-precision vectors its candidates are scored with.
    Graph(Graph, FullVectors),
}

pub struct DenseIndex {
    path: Option<PathBuf>,
    header: Header,
    vectors: Vectors,
    /// Rows changed since the last commit, as (key or tombstone, vector).
    pending: Vec<(u64, Vec<f16>)>,
    /// Graph changes not applied yet, in order (`None` removes): the graph takes
    /// them at commit, inserting on every core.
    unapplied: Vec<(u64, Option<Vec<f16>>)>,
    /// The keys of `unapplied`, and whether each one's last change adds a vector.
    unapplied_keys: HashMap<u64, bool>,
    /// Log rows the graph snapshot on disk covers.
    snapshot_rows: u64,
    options: DenseOptions,
    /// Whether open used a graph snapshot (rather than the log alone).
    opened_from_snapshot: bool,
    /// In a bulk load (see [`DenseIndex::begin_bulk`]): commits write no snapshot.
    bulk: bool,
    /// Keys whose vector was added, replaced or removed since
    /// [`DenseIndex::take_changes`] last asked, unless there were too many to list.
    changed: Option<Vec<u64>>,
    dots: kernel::DotsFn,
    kernel_name: &'static str,
}

/// The papers a filter allows, in the form the current search path tests.
pub struct RowSet {
    inner: Allowed,
}

enum Allowed {
    Rows(RowBits),
    Keys(KeySet),
}

/// Sorted keys, with a bitset over the key range when keys are dense enough.
struct KeySet {
    keys: Vec<u64>,
    bits: Option<Vec<u64>>,
}

impl KeySet {
    fn new(keys: &[u64]) -> KeySet {
        let mut keys = keys.to_vec();
        keys.sort_unstable();
        keys.dedup();
        let max = keys.last().copied().unwrap_or(0);
        let bits = (max / 64 <= 4 * keys.len() as u64 + 1024).then(|| {
            let mut bits = vec![0u64; max as usize / 64 + 1];
            for &key in &keys {
                bits[key as usize / 64] |= 1 << (key % 64);
            }
            bits
        });
        KeySet { keys, bits }
    }

    fn contains(&self, key: u64) -> bool {
        match &self.bits {
            Some(bits) => bits
                .get((key / 64) as usize)
                .is_some_and(|word| word & (1 << (key % 64)) != 0),
            None => self.keys.binary_search(&key).is_ok(),
        }
    }
}

impl DenseIndex {
    /// An empty index held only in memory (evaluation, tests).
    pub fn in_memory(model: &str, dim: usize) -> Result<DenseIndex> {
        file::check_model_id(model)?;
        let header = Header {
            dim,
            model: model.to_owned(),
            rows: 0,
            watermark: 0,
            log_id: file::new_log_id(),
        };
        Ok(Self::with_header(None, header, DenseOptions::default()))
    }

    /// Opens the file at `path`, or creates an empty one, with default options.
    pub fn open(path: &Path, model: &str, dim: usize) -> Result<DenseIndex> {
        Self::open_with(path, model, dim, DenseOptions::default())
    }

    /// Opens the file at `path`, or creates an empty one. A file built with another
    /// model or dimension is an error: the binary should rebuild it. A valid graph
    /// snapshot is loaded and caught up with the log; an invalid one is rebuilt if
    /// the collection is at or above the threshold.
    pub fn open_with(
        path: &Path,
        model: &str,
        dim: usize,
        options: DenseOptions,
    ) -> Result<DenseIndex> {
        if !path.exists() {
            let mut index = Self::in_memory(model, dim)?;
            index.options = options;
            index.path = Some(path.to_owned());
            file::write_all(
                path,
                &index.header,
                std::iter::empty::<Result<(u64, Vec<f16>)>>(),
            )?;
            Graph::remove_snapshot(path);
            return Ok(index);
        }
        let header = read_header(path)?;
        if header.model != model || header.dim != dim {
            return Err(IndexError::ModelMismatch {
                expected: format!("{model} ({dim}-d)"),
                found: format!("{} ({}-d)", header.model, header.dim),
            });
        }
        let mut index = Self::with_header(Some(path.to_owned()), header.clone(), options);
        // A log with fewer rows than the threshold has fewer live papers too.
        let wants_graph = header.rows >= options.graph_threshold as u64;
        let snapshot = if wants_graph {
            Graph::load(path, dim, options.hnsw, header.log_id, header.rows)?
        } else {
            None
        };
        if let Some((graph, coverage)) = snapshot {
            // One pass over the log finds each key's row and replays the rows
            // the snapshot does not cover.
            let log = LogRows::scan(path, |row, key, vector| {
                if row >= coverage.rows {
                    index.replay(&graph, key, vector);
                }
            })?;
            index.vectors = Vectors::Graph(graph, FullVectors::Log(log));
            index.snapshot_rows = coverage.rows;
            index.opened_from_snapshot = true;
            return Ok(index);
        }
        index.load_log(path)?;
        Ok(index)
    }

    fn replay(&self, graph: &Graph, key: u64, vector: &[f16]) {
        let outcome = if key & TOMBSTONE != 0 {
            graph.remove(key & !TOMBSTONE).map(drop)
        } else {
            graph.upsert(key, vector)
        };
        if let Err(error) = outcome {
            tracing::warn!(%error, key, "replaying the vector log into the graph");
        }
    }

    /// Loads the log without a usable snapshot: into the exact rows below the
    /// threshold, into a new graph (then snapshotted) at or above it.
    fn load_log(&mut self, path: &Path) -> Result<()> {
        // The last row of each key decides whether it is live; only those rows
        // are loaded, so superseded rows never reach the graph.
        let log = LogRows::scan(path, |_, _, _| {})?;
        let live = log.len();
        let is_live = |row: u64, key: u64| log.is_latest(key, row);
        if live < self.options.graph_threshold {
            let mut rows = ExactRows::new(self.header.dim);
            let mut row = 0u64;
            file::read(path, |key, vector| {
                if is_live(row, key) {
                    rows.put(key, vector);
                }
                row += 1;
            })?;
            // A snapshot left beside the log is harmless: it is validated before
            // any use.
            self.vectors = Vectors::Exact(rows);
            return Ok(());
        }
        tracing::info!(papers = live, "building the HNSW graph from the vector log");
        let graph = Graph::new(self.header.dim, self.options.hnsw, live)?;
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let mut batch: Vec<(u64, Vec<f16>)> = Vec::with_capacity(16_384);
        let mut failure = None;
        let mut flush = |batch: &mut Vec<(u64, Vec<f16>)>| {
            let rows: Vec<(u64, &[f16])> = batch.iter().map(|(k, v)| (*k, v.as_slice())).collect();
            if let Err(error) = graph.add_parallel(&rows, threads) {
                failure.get_or_insert(error);
            }
            batch.clear();
        };
        let mut row = 0u64;
        file::read(path, |key, vector| {
            if is_live(row, key) {
                batch.push((key, vector.to_vec()));
                if batch.len() == batch.capacity() {
                    flush(&mut batch);
                }
            }
            row += 1;
        })?;
        flush(&mut batch);
        if let Some(error) = failure {
            return Err(error);
        }
        self.vectors = Vectors::Graph(graph, FullVectors::Log(log));
        self.snapshot()
    }

    fn with_header(path: Option<PathBuf>, header: Header, options: DenseOptions) -> DenseIndex {
        let (dots, kernel_name) = kernel::best();
        DenseIndex {
            path,
            vectors: Vectors::Exact(ExactRows::new(header.dim)),
            header,
            pending: Vec::new(),
            unapplied: Vec::new(),
            unapplied_keys: HashMap::new(),
            snapshot_rows: 0,
            options,
            opened_from_snapshot: false,
            bulk: false,
            changed: Some(Vec::new()),
            dots,
            kernel_name,
        }
    }

    /// Changes when the graph is used; a collection already past the new
    /// threshold moves into the graph at the next commit. (A graph never goes back
    /// to the exact scan while open.)
    pub fn set_options(&mut self, options: DenseOptions) {
        self.options = options;
        if let Vectors::Graph(graph, _) = &self.vectors {
            graph.set_expansion_search(options.hnsw.expansion_search);
        }
    }

    pub fn len(&self) -> usize {
        match &self.vectors {
            Vectors::Exact(rows) => rows.len(),
            Vectors::Graph(graph, _) => graph.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn dim(&self) -> usize {
        self.header.dim
    }

    pub fn model(&self) -> &str {
        &self.header.model
    }

    /// The store change-log position of the last commit.
    pub fn watermark(&self) -> u64 {
        self.header.watermark
    }

    /// Which dot-product kernel this CPU uses (for the bench report).
    pub fn kernel(&self) -> &'static str {
        self.kernel_name
    }

    /// Whether open loaded a graph snapshot instead of rebuilding from the log.
    pub fn opened_from_snapshot(&self) -> bool {
        self.opened_from_snapshot
    }

    /// "exact" or "hnsw": the search path in use.
    pub fn method(&self) -> &'static str {
        match self.vectors {
            Vectors::Exact(_) => "exact",
            Vectors::Graph(..) => "hnsw",
        }
    }

    pub fn contains(&self, key: u64) -> bool {
        match &self.vectors {
            Vectors::Exact(rows) => rows.contains(key),
            Vectors::Graph(graph, _) => graph.contains(key),
        }
    }

    /// Bytes of vector memory per paper: key, vector and the key map's share for
    /// the exact rows; for HNSW the graph's own account (i8 vector, links, key map)
    /// plus the map to each key's row in the log (whose f16 rows stay on disk).
    pub fn bytes_per_paper(&self) -> usize {
        match &self.vectors {
            Vectors::Exact(_) => 8 + 2 * self.header.dim + 16,
            Vectors::Graph(graph, full) => {
                graph.memory_usage() / graph.len().max(1) + full.bytes_per_paper(self.header.dim)
            }
        }
    }

    /// `key`'s stored vector.
    pub(crate) fn vector(&self, key: u64) -> Option<Vec<f16>> {
        match &self.vectors {
            Vectors::Exact(rows) => rows.vector(key).map(<[f16]>::to_vec),
            Vectors::Graph(_, full) => full.vector(key),
        }
    }

    /// Adds or replaces `key`'s vector; persisted at the next commit, and on the
    /// graph path also visible to searches from then on. Writing the
    /// vector a key already has is a no-op, so re-indexing a paper whose metadata
    /// changed does not grow the log.
    pub fn upsert(&mut self, key: u64, vector: &[f32]) -> Result<()> {
        if vector.len() != self.header.dim {
            return Err(IndexError::Dimension {
                expected: self.header.dim,
                actual: vector.len(),
            });
        }
        let key = key & !TOMBSTONE;
        let halves: Vec<f16> = vector.iter().map(|&x| f16::from_f32(x)).collect();
        let changing = self.unapplied_keys.contains_key(&key);
        if !changing && self.vector(key).is_some_and(|old| old == halves) {
            return Ok(());
        }
        match &mut self.vectors {
            Vectors::Exact(rows) => rows.put(key, &halves),
            Vectors::Graph(..) => {
                self.unapplied.push((key, Some(halves.clone())));
                self.unapplied_keys.insert(key, true);
            }
        }
        if self.path.is_some() {
            self.pending.push((key, halves));
        }
        self.note_change(key);
        Ok(())
    }

    fn note_change(&mut self, key: u64) {
        if let Some(changed) = &mut self.changed {
            if changed.len() < MAX_LISTED_CHANGES {
                changed.push(key);
            } else {
                self.changed = None;
            }
        }
    }

    /// What changed since the last call: the keys whose vector was added, replaced
    /// or removed, or `Many` when there were too many to list.
    pub(crate) fn take_changes(&mut self) -> crate::similar::Changes {
        match self.changed.replace(Vec::new()) {
            Some(mut keys) => {
                keys.sort_unstable();
                keys.dedup();
                crate::similar::Changes::Keys(keys)
            }
            None => crate::similar::Changes::Many,
        }
    }

    pub(crate) fn dots_kernel(&self) -> kernel::DotsFn {
        self.dots
    }

    pub fn remove(&mut self, key: u64) {
        let removed = match &mut self.vectors {
            Vectors::Exact(rows) => rows.remove(key),
            Vectors::Graph(graph, _) => {
                let known = match self.unapplied_keys.insert(key, false) {
                    Some(adds) => adds,
                    None => graph.contains(key),
                };
                if known {
                    self.unapplied.push((key, None));
                }
                known
            }
        };
        if removed && self.path.is_some() {
            self.pending
                .push((key | TOMBSTONE, vec![f16::ZERO; self.header.dim]));
        }
        if removed {
            self.note_change(key);
        }
    }

    /// Persists the changes since the last commit by appending them; rewrites the
    /// file instead when superseded rows would make up most of it. Moves the
    /// vectors into the graph once there are enough of them, and snapshots the
    /// graph when the log has grown well past the last snapshot.
    pub fn commit(&mut self, watermark: u64) -> Result<()> {
        self.apply_to_graph()?;
        let Some(path) = self.path.clone() else {
            self.header.watermark = watermark;
            return self.grow_into_graph();
        };
        let total_rows = self.header.rows + self.pending.len() as u64;
        let compact = total_rows > 2 * self.len() as u64 + 1024;
        if compact {
            self.rewrite(&path, watermark)?;
        } else {
            let pending = std::mem::take(&mut self.pending);
            let first = self.header.rows;
            file::append(
                &path,
                &mut self.header,
                pending
                    .iter()
                    .map(|(key, vector)| (*key, vector.as_slice())),
                watermark,
            )?;
            if let Vectors::Graph(_, FullVectors::Log(log)) = &mut self.vectors {
                log.appended(first, pending.iter().map(|(key, _)| key));
            }
        }
        if matches!(self.vectors, Vectors::Exact(_)) {
            return self.grow_into_graph();
        }
        let tail = self.header.rows.saturating_sub(self.snapshot_rows);
        if !self.bulk && (compact || tail > SNAPSHOT_MIN_TAIL.max(self.len() as u64 / 10)) {
            self.snapshot()?;
        }
        Ok(())
    }

    /// Applies the graph changes made since the last commit: removals and
    /// replacements first, then every new vector in parallel. Only the last change
    /// of each key counts. (Full-precision vectors in memory change with the graph;
    /// those in the log change when the commit appends them.)
    fn apply_to_graph(&mut self) -> Result<()> {
        let Vectors::Graph(graph, full) = &mut self.vectors else {
            return Ok(());
        };
        let changes = std::mem::take(&mut self.unapplied);
        self.unapplied_keys.clear();
        let last: HashMap<u64, usize> = changes
            .iter()
            .enumerate()
            .map(|(i, (key, _))| (*key, i))
            .collect();
        let mut adds: Vec<(u64, &[f16])> = Vec::new();
        for (i, (key, vector)) in changes.iter().enumerate() {
            if last.get(key) != Some(&i) {
                continue;
            }
            if graph.contains(*key) {
                graph.remove(*key)?;
            }
            if let FullVectors::Memory(rows) = full {
                match vector {
                    Some(vector) => rows.put(*key, vector),
                    None => drop(rows.remove(*key)),
                }
            }
            if let Some(vector) = vector {
                adds.push((*key, vector));
            }
        }
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        graph.add_parallel(&adds, threads)
    }

    /// Prepares for about `expected` more vectors arriving over several commits (a
    /// new index, a rebuild, a node far behind): the graph reserves room for all of
    /// them at once, a collection that will pass the threshold moves into the graph
    /// now instead of growing through the exact scan first, and commits write no
    /// graph snapshot until [`DenseIndex::end_bulk`], which writes one. (A snapshot
    /// rewrites the whole graph; during a load that would be the work of every
    /// tenth commit again and again.)
    pub fn begin_bulk(&mut self, expected: usize) -> Result<()> {
        self.bulk = true;
        match &self.vectors {
            Vectors::Graph(graph, _) => graph.make_room(expected),
            // Rows not appended yet are not in the log the graph rescores from.
            Vectors::Exact(rows)
                if self.pending.is_empty()
                    && rows.len() + expected >= self.options.graph_threshold =>
            {
                self.move_into_graph(rows.len() + expected)
            }
            Vectors::Exact(_) => Ok(()),
        }
    }

    /// Ends a bulk load: snapshots the graph if the log has grown past it.
    pub fn end_bulk(&mut self) -> Result<()> {
        self.bulk = false;
        self.checkpoint()
    }

    /// Writes a graph snapshot now if the log has rows it does not cover (for a
    /// clean shutdown or the end of a bulk build, so the next open replays
    /// nothing).
    pub fn checkpoint(&mut self) -> Result<()> {
        if matches!(self.vectors, Vectors::Graph(..))
            && self.pending.is_empty()
            && self.header.rows != self.snapshot_rows
        {
            self.snapshot()?;
        }
        Ok(())
    }

    fn snapshot(&mut self) -> Result<()> {
        let (Some(path), Vectors::Graph(graph, _)) = (&self.path, &self.vectors) else {
            return Ok(());
        };
        let coverage = Coverage {
            log_id: self.header.log_id,
            rows: self.header.rows,
        };
        let started = std::time::Instant::now();
        graph.save(path, coverage)?;
        tracing::debug!(
            rows = coverage.rows,
            duration_ms = started.elapsed().as_millis() as u64,
            "HNSW snapshot written"
        );
        self.snapshot_rows = coverage.rows;
        Ok(())
    }

    /// Moves the exact rows into a graph when there are enough of them.
    fn grow_into_graph(&mut self) -> Result<()> {
        match &self.vectors {
            Vectors::Exact(rows) if rows.len() >= self.options.graph_threshold => {
                self.move_into_graph(rows.len())
            }
            _ => Ok(()),
        }
    }

    /// Moves the exact rows into a new graph with room for `capacity` vectors. The
    /// log must hold every row (nothing pending).
    fn move_into_graph(&mut self, capacity: usize) -> Result<()> {
        let Vectors::Exact(rows) = &self.vectors else {
            return Ok(());
        };
        let started = std::time::Instant::now();
        let graph = Graph::new(self.header.dim, self.options.hnsw, capacity.max(rows.len()))?;
        let all: Vec<(u64, &[f16])> = rows.iter().collect();
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        graph.add_parallel(&all, threads)?;
        tracing::info!(
            papers = all.len(),
            duration_ms = started.elapsed().as_millis() as u64,
            kernel = %graph.acceleration(),
            "dense index moved into an HNSW graph"
        );
        drop(all);
        // The log has every committed row by now; without one, the rows stay in
        // memory as the full-precision side.
        let full = match &self.path {
            Some(path) => FullVectors::Log(LogRows::scan(path, |_, _, _| {})?),
            None => match std::mem::replace(&mut self.vectors, Vectors::Exact(ExactRows::new(0))) {
                Vectors::Exact(rows) => FullVectors::Memory(rows),
                Vectors::Graph(_, full) => full,
            },
        };
        self.vectors = Vectors::Graph(graph, full);
        if self.bulk {
            return Ok(());
        }
        self.snapshot()
    }

    /// Writes the live rows to a fresh log (atomically replacing the old one, with
    /// a new log id, so an older graph snapshot no longer matches it).
    pub(crate) fn rewrite(&mut self, path: &Path, watermark: u64) -> Result<()> {
        let header = Header {
            rows: self.len() as u64,
            watermark,
            log_id: file::new_log_id(),
            ..self.header.clone()
        };
        // The keys in the order written, which the graph's log map is made from.
        let written: Vec<u64> = match &self.vectors {
            Vectors::Exact(rows) => {
                file::write_all(path, &header, rows.iter().map(Ok))?;
                Vec::new()
            }
            Vectors::Graph(_, FullVectors::Memory(rows)) => {
                file::write_all(path, &header, rows.iter().map(Ok))?;
                rows.keys.clone()
            }
            Vectors::Graph(_, FullVectors::Log(log)) => {
                // Rows not appended yet override the log's; the last of each key wins.
                let mut latest: HashMap<u64, Option<&[f16]>> = HashMap::new();
                for (key, vector) in &self.pending {
                    let live = key & TOMBSTONE == 0;
                    latest.insert(key & !TOMBSTONE, live.then_some(vector.as_slice()));
                }
                let mut keys: Vec<u64> = log
                    .keys()
                    .filter(|key| !latest.contains_key(key))
                    .chain(latest.iter().filter(|(_, v)| v.is_some()).map(|(k, _)| *k))
                    .collect();
                keys.sort_unstable();
                let header = Header {
                    rows: keys.len() as u64,
                    ..header.clone()
                };
                // Streamed from the old log (still open) into the new one.
                let rows = keys.iter().map(|&key| match latest.get(&key) {
                    Some(Some(vector)) => Ok((key, vector.to_vec())),
                    _ => log.read(key)?.map(|vector| (key, vector)).ok_or_else(|| {
                        IndexError::DenseFormat {
                            path: path.to_owned(),
                            reason: format!("key {key} has no row"),
                        }
                    }),
                });
                file::write_all(path, &header, rows)?;
                keys
            }
        };
        self.header = read_header(path)?;
        self.pending.clear();
        self.path = Some(path.to_owned());
        if let Vectors::Graph(_, full) = &mut self.vectors {
            *full = FullVectors::Log(LogRows::written(path, self.header.row_bytes(), &written)?);
        }
        Ok(())
    }

    /// The papers of `keys` (unknown keys are ignored), for use as a search filter.
    pub fn row_set(&self, keys: &[u64]) -> RowSet {
        let inner = match &self.vectors {
            Vectors::Exact(rows) => Allowed::Rows(rows.row_bits(keys)),
            Vectors::Graph(..) => Allowed::Keys(KeySet::new(keys)),
        };
        RowSet { inner }
    }

    /// The rows of `keys` (a filter's kept set, see `facets.rs`), as
    /// [`DenseIndex::row_set`] makes them from a list.
    pub(crate) fn row_set_of(&self, keys: crate::facets::KeyBits) -> RowSet {
        let inner = match &self.vectors {
            Vectors::Exact(rows) => Allowed::Rows(rows.row_bits(&keys.keys())),
            Vectors::Graph(..) => Allowed::Keys(KeySet {
                keys: keys.keys(),
                bits: Some(keys.into_words()),
            }),
        };
        RowSet { inner }
    }

    /// Whether `allowed` contains `key`.
    pub fn allows(&self, allowed: &RowSet, key: u64) -> bool {
        match (&self.vectors, &allowed.inner) {
            (Vectors::Exact(rows), Allowed::Rows(bits)) => rows.allows(bits, key),
            (_, Allowed::Keys(keys)) => keys.contains(key),
            (Vectors::Graph(..), Allowed::Rows(_)) => false,
        }
    }

    /// Cosine of `query` (unit length) with `key`'s vector.
    pub fn similarity(&self, query: &[f32], key: u64) -> Option<f32> {
        let vector = match &self.vectors {
            Vectors::Exact(rows) => return rows.vector(key).map(|v| self.dot(query, v)),
            Vectors::Graph(..) => self.vector(key)?,
        };
        Some(self.dot(query, &vector))
    }

    fn dot(&self, query: &[f32], vector: &[f16]) -> f32 {
        let mut out = [0.0];
        (self.dots)(query, vector, &mut out);
        out[0]
    }

    /// The `k` papers most similar to `query`, among `allowed` if given, best
    /// first. `query` must have the index's dimension and unit length.
    pub fn search(&self, query: &[f32], k: usize, allowed: Option<&RowSet>) -> Result<Vec<Scored>> {
        self.search_excluding(query, k, allowed, None)
    }

    /// The `k` papers nearest to `key`'s own vector, excluding itself.
    pub fn similar(
        &self,
        key: u64,
        k: usize,
        allowed: Option<&RowSet>,
    ) -> Result<Option<Vec<Scored>>> {
        let Some(vector) = self.vector(key) else {
            return Ok(None);
        };
        self.similar_to(key, &vector, k, allowed).map(Some)
    }

    /// [`DenseIndex::similar`] with `key`'s vector already read.
    pub(crate) fn similar_to(
        &self,
        key: u64,
        vector: &[f16],
        k: usize,
        allowed: Option<&RowSet>,
    ) -> Result<Vec<Scored>> {
        let query: Vec<f32> = vector.iter().map(|x| x.to_f32()).collect();
        self.search_excluding(&query, k, allowed, Some(key))
    }

    /// "Like `key`, not like `minus`": the papers nearest to `key`'s vector moved away
    /// from `minus`'s (`a − MINUS_WEIGHT·b`, renormalised), excluding both. `None`
    /// when either paper has no vector.
    pub fn similar_unlike(
        &self,
        key: u64,
        minus: u64,
        k: usize,
        allowed: Option<&RowSet>,
    ) -> Result<Option<Vec<Scored>>> {
        let (Some(like), Some(unlike)) = (self.vector(key), self.vector(minus)) else {
            return Ok(None);
        };
        let mut query: Vec<f32> = like
            .iter()
            .zip(&unlike)
            .map(|(a, b)| a.to_f32() - MINUS_WEIGHT * b.to_f32())
            .collect();
        let norm = query.iter().map(|x| x * x).sum::<f32>().sqrt();
        if norm > 0.0 {
            query.iter_mut().for_each(|x| *x /= norm);
        }
        let mut scored = self.search_excluding(&query, k + 1, allowed, Some(key))?;
        scored.retain(|hit| hit.key != minus);
        scored.truncate(k);
        Ok(Some(scored))
    }

    /// The exact scan, whichever path is in use for [`DenseIndex::search`] (for the
    /// bench's recall figures). Only the exact rows can be scanned; on the graph
    /// path this scores every allowed key it is given.
    pub fn search_exact(&self, query: &[f32], k: usize, keys: &[u64]) -> Result<Vec<Scored>> {
        self.check_query(query)?;
        let mut top = TopK::new(k);
        for &key in keys {
            if let Some(score) = self.similarity(query, key) {
                top.offer(score, key);
            }
        }
        Ok(top.into_sorted())
    }

    fn check_query(&self, query: &[f32]) -> Result<()> {
        if query.len() != self.header.dim {
            return Err(IndexError::Dimension {
                expected: self.header.dim,
                actual: query.len(),
            });
        }
        Ok(())
    }

    fn search_excluding(
        &self,
        query: &[f32],
        k: usize,
        allowed: Option<&RowSet>,
        exclude: Option<u64>,
    ) -> Result<Vec<Scored>> {
        self.check_query(query)?;
        match (&self.vectors, allowed.map(|a| &a.inner)) {
            (Vectors::Exact(rows), None) => Ok(rows.search(self.dots, query, k, None, exclude)),
            (Vectors::Exact(rows), Some(Allowed::Rows(bits))) => {
                Ok(rows.search(self.dots, query, k, Some(bits), exclude))
            }
            (Vectors::Exact(rows), Some(Allowed::Keys(keys))) => {
                let bits = rows.row_bits(&keys.keys);
                Ok(rows.search(self.dots, query, k, Some(&bits), exclude))
            }
            (Vectors::Graph(graph, _), allowed) => {
                let keys = match allowed {
                    Some(Allowed::Keys(keys)) => Some(keys),
                    Some(Allowed::Rows(_)) => return Ok(Vec::new()),
                    None => None,
                };
                self.search_graph(graph, query, k, keys, exclude)
            }
        }
    }

    fn search_graph(
        &self,
        graph: &Graph,
        query: &[f32],
        k: usize,
        allowed: Option<&KeySet>,
        exclude: Option<u64>,
    ) -> Result<Vec<Scored>> {
        let excluded = |key: u64| Some(key) == exclude;
        let candidates = (k + k / 4).max(MIN_CANDIDATES);
        let found = match allowed {
            Some(keys) if self.scans_filter(keys.keys.len(), graph.len()) => {
                let keys = keys.keys.iter().copied().filter(|&key| !excluded(key));
                self.scan_quantised(graph, query, candidates, keys)
            }
            Some(keys) => graph.search(
                query,
                candidates,
                Some(&|key| !excluded(key) && keys.contains(key)),
            )?,
            None if exclude.is_some() => {
                graph.search(query, candidates, Some(&|key| !excluded(key)))?
            }
            None => graph.search(query, candidates, None)?,
        };
        // Scores come from the same kernel and the same f16 vectors as the exact
        // path and as fusion's fill-ins, so a paper's cosine does not depend on
        // which path found it.
        let mut top = TopK::new(k);
        for key in found {
            if let Some(score) = self.similarity(query, key) {
                top.offer(score, key);
            }
        }
        Ok(top.into_sorted())
    }

    /// Whether a filter allowing `allowed` of the graph's `papers` scores them
    /// directly (see [`DenseOptions::filter_scan_limit`]) rather than walking.
    fn scans_filter(&self, allowed: usize, papers: usize) -> bool {
        allowed * EXACT_FILTER_DIVISOR <= papers || allowed <= self.options.filter_scan_limit
    }

    /// The `n` best of `keys` by their i8 vectors in the graph: a filter scores its
    /// allowed papers directly instead of walking the graph, from memory rather
    /// than with a read of the log per paper. The query is quantised like the
    /// vectors, so each score is an integer dot product; the `n` chosen are then
    /// rescored at full precision, as the walk's are.
    fn scan_quantised(
        &self,
        graph: &Graph,
        query: &[f32],
        n: usize,
        keys: impl Iterator<Item = u64>,
    ) -> Vec<u64> {
        let mut top = TopK::new(n);
        let query = hnsw::QuantisedQuery::new(query);
        let mut vector = vec![0i8; self.header.dim];
        for key in keys {
            if graph.get(key, &mut vector) {
                top.offer(query.cosine(&vector), key);
            }
        }
        top.into_sorted().into_iter().map(|hit| hit.key).collect()
    }
}

#[cfg(test)]
mod tests;
