//! The graph side of the dense index: a usearch HNSW graph over the vectors,
//! quantised to i8, once the collection is too big for an exact scan per query.
//!
//! The graph holds each vector in one byte per dimension, scaled so its largest
//! component is ±127, and compares them by cosine, which that per-vector scale does
//! not change. That halves the graph against f16 (≈ 580 instead of ≈ 1,100 bytes per
//! paper with the links) and is what lets 3 million papers fit in a few gigabytes.
//! The walk only chooses candidates: the dense index rescores them with the f16
//! vectors of the log (see [`super::full`]), so scores and the final order are at
//! full precision. (usearch's own f32 → i8 cast multiplies by 127 without rescaling,
//! which leaves a unit vector's small components only a few levels, and recall
//! near 0.85.)
//!
//! The graph is derived from the vector log (`vectors.papers`, see [`super::file`])
//! and persisted as a snapshot beside it: `vectors.hnsw` (usearch's own format) and
//! `vectors.hnsw.meta`, which names the log (its random id) and the number of log
//! rows the snapshot covers, plus the graph file's length and CRC-32. On open, a
//! snapshot is used only if all of those match; the log rows after it are replayed
//! into the graph. Anything else (a torn or stale graph file, a missing meta file,
//! a log rewritten since) is rebuilt from the log: the snapshot is never trusted.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use half::f16;
use usearch::{Index, IndexOptions, MetricKind, ScalarKind};

use crate::error::{IndexError, Result};

/// Graph parameters. Connectivity is usearch's M (edges per node); the search
/// expansion is raised to the number of results asked for when that is larger.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HnswParams {
    pub connectivity: usize,
    pub expansion_add: usize,
    pub expansion_search: usize,
}

impl Default for HnswParams {
    fn default() -> Self {
        // Measured on the 76,803 arXiv papers of 2020 with MiniLM vectors
        // (bench/search-results.txt): M=16 and a search expansion of 128 give
        // recall@10 0.994 against the exact scan at under half a millisecond, with
        // i8 vectors and 40 candidates rescored at full precision. The searcher asks
        // for 100 results, so 125 candidates, which widens the search to 125.
        //
        // The insert expansion is 64, not 128: each insert is a search that wide, so
        // it sets the build's cost. Measured there on 2026-12-05 (search_bench, each
        // paper's own vector as the query, 1,000 queries): whole searches on the graph
        // path against the exact scan kept recall@10 0.9997 hybrid and 0.9974 dense
        // at 64 (1.0000 and 0.9991 at 128), the graph alone 0.9959 at ef=128 (0.9977),
        // while the graph built in about 0.4-0.7 of the time, which is what lets
        // `papers index` reach 2,000 papers/s at a million papers (issue 17).
        HnswParams {
            connectivity: 16,
            expansion_add: 64,
            expansion_search: 128,
        }
    }
}

/// Concurrent searches usearch can serve: each needs a reserved context, and a
/// search without a free one fails instead of waiting.
const CONTEXTS: usize = 64;
const META_MAGIC: &[u8; 8] = b"PAPRHNSW";
/// 2: i8 vectors compared by cosine (1 held f16 vectors and is rebuilt).
const META_VERSION: u32 = 2;
const META_LEN: usize = 64;

/// Which log rows a graph snapshot covers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Coverage {
    pub log_id: u64,
    pub rows: u64,
}

pub(crate) struct Graph {
    index: Index,
    dim: usize,
}

fn hnsw_error(error: impl std::fmt::Display) -> IndexError {
    IndexError::Hnsw(error.to_string())
}

/// `values` scaled so the largest magnitude is 127, rounded to i8 (all zeros stay
/// zeros).
fn quantize(values: impl Iterator<Item = f32> + Clone) -> Vec<i8> {
    let largest = values.clone().fold(0.0_f32, |max, x| max.max(x.abs()));
    let scale = if largest > 0.0 { 127.0 / largest } else { 0.0 };
    values
        .map(|x| (x * scale).round().clamp(-127.0, 127.0) as i8)
        .collect()
}

/// A query quantised as the graph's vectors are, for scoring many of them directly
/// (see [`QuantisedQuery::cosine`]).
pub(crate) struct QuantisedQuery {
    values: Vec<i8>,
    norm: f32,
}

/// Lanes of the integer sums: wide enough for the compiler to use whole vector
/// registers on the baseline target (i8 products summed in i32 never overflow:
/// 384 × 127² is 6.2 million).
const I8_LANES: usize = 16;

impl QuantisedQuery {
    pub(crate) fn new(query: &[f32]) -> QuantisedQuery {
        let values = quantize(query.iter().copied());
        let norm = (values.iter().map(|&v| i32::from(v).pow(2)).sum::<i32>() as f32).sqrt();
        QuantisedQuery { values, norm }
    }

    /// Cosine with an i8 vector (whose scale is unknown, hence cosine), in integer
    /// arithmetic: a filter that allows tens of thousands of papers scores each one,
    /// and integer sums vectorise where a float sum in order does not.
    pub(crate) fn cosine(&self, vector: &[i8]) -> f32 {
        let (mut dots, mut norms) = ([0i32; I8_LANES], [0i32; I8_LANES]);
        let mut query = self.values.chunks_exact(I8_LANES);
        let mut other = vector.chunks_exact(I8_LANES);
        for (q, v) in (&mut query).zip(&mut other) {
            for lane in 0..I8_LANES {
                let v = i32::from(v[lane]);
                dots[lane] += i32::from(q[lane]) * v;
                norms[lane] += v * v;
            }
        }
        let (mut dot, mut norm): (i32, i32) = (dots.iter().sum(), norms.iter().sum());
        for (&q, &v) in query.remainder().iter().zip(other.remainder()) {
            dot += i32::from(q) * i32::from(v);
            norm += i32::from(v) * i32::from(v);
        }
        if norm == 0 || self.norm == 0.0 {
            return 0.0;
        }
        dot as f32 / (self.norm * (norm as f32).sqrt())
    }
}

fn quantize_half(vector: &[f16]) -> Vec<i8> {
    quantize(vector.iter().map(|x| x.to_f32()))
}

/// `vectors.papers` → `vectors.hnsw`, `vectors.hnsw.meta`.
pub(crate) fn snapshot_paths(log: &Path) -> (PathBuf, PathBuf) {
    let graph = log.with_extension("hnsw");
    let meta = log.with_extension("hnsw.meta");
    (graph, meta)
}

impl Graph {
    pub(crate) fn new(dim: usize, params: HnswParams, capacity: usize) -> Result<Graph> {
        let options = IndexOptions {
            dimensions: dim,
            metric: MetricKind::Cos,
            quantization: ScalarKind::I8,
            connectivity: params.connectivity,
            expansion_add: params.expansion_add,
            expansion_search: params.expansion_search,
            multi: false,
        };
        let graph = Graph {
            index: Index::new(&options).map_err(hnsw_error)?,
            dim,
        };
        graph.reserve(capacity)?;
        Ok(graph)
    }

    fn reserve(&self, capacity: usize) -> Result<()> {
        self.index
            .reserve_capacity_and_threads(capacity.max(64), CONTEXTS)
            .map_err(hnsw_error)
    }

    /// Grows the capacity (by half again, so growth is amortised) to take `extra`
    /// more vectors. Removed slots are reused before new ones, so live size plus
    /// `extra` is what must fit.
    pub(crate) fn make_room(&self, extra: usize) -> Result<()> {
        let needed = self.index.size() + extra;
        if needed > self.index.capacity() {
            self.reserve(needed.max(self.index.capacity() * 3 / 2))?;
        }
        Ok(())
    }

    pub(crate) fn set_expansion_search(&self, expansion: usize) {
        self.index.change_expansion_search(expansion);
    }

    pub(crate) fn len(&self) -> usize {
        self.index.size()
    }

    /// The instruction set usearch's distance kernel dispatched to on this CPU
    /// (numkong's name: "icelake" is the AVX-512 VNNI-era kernel, "serial" the
    /// portable loop), logged with the build so a profile need not find it out.
    pub(crate) fn acceleration(&self) -> String {
        self.index.hardware_acceleration()
    }

    pub(crate) fn contains(&self, key: u64) -> bool {
        self.index.contains(key)
    }

    /// Bytes the graph keeps resident: the nodes and vectors its arenas hold, the
    /// node table and the key lookup (≈ 16 bytes a key). usearch's own
    /// `memory_usage` counts whole arenas, which double in size and are paged in
    /// only as they fill, so it overstates the resident memory by up to twice. This
    /// account is a lower bound instead: 577 bytes a paper against 662 measured at
    /// 3 million (bench/dense-scale-results.txt), 583 against 580 at 76,803.
    pub(crate) fn memory_usage(&self) -> usize {
        let stats = self.index.memory_stats();
        let used = |allocated: usize, wasted: usize, reserved: usize| {
            allocated.saturating_sub(wasted + reserved)
        };
        used(
            stats.graph_allocated,
            stats.graph_wasted,
            stats.graph_reserved,
        ) + used(
            stats.vectors_allocated,
            stats.vectors_wasted,
            stats.vectors_reserved,
        ) + self.index.capacity() * 8
            + self.index.size() * 16
    }

    /// Copies `key`'s quantised vector into `out`; false when the key is absent.
    pub(crate) fn get(&self, key: u64, out: &mut [i8]) -> bool {
        matches!(self.index.get::<i8>(key, out), Ok(found) if found > 0)
    }

    /// Adds or replaces `key`'s vector.
    pub(crate) fn upsert(&self, key: u64, vector: &[f16]) -> Result<()> {
        if self.index.contains(key) {
            self.index.remove(key).map_err(hnsw_error)?;
        }
        self.make_room(1)?;
        self.add(key, vector)
    }

    fn add(&self, key: u64, vector: &[f16]) -> Result<()> {
        self.index
            .add::<i8>(key, &quantize_half(vector))
            .map_err(hnsw_error)
    }

    pub(crate) fn remove(&self, key: u64) -> Result<bool> {
        Ok(self.index.remove(key).map_err(hnsw_error)? > 0)
    }

    /// Adds new keys on `threads` threads (usearch inserts concurrently).
    pub(crate) fn add_parallel(&self, rows: &[(u64, &[f16])], threads: usize) -> Result<()> {
        self.make_room(rows.len())?;
        let threads = threads.clamp(1, CONTEXTS);
        let failure = std::sync::Mutex::new(None);
        std::thread::scope(|scope| {
            for thread in 0..threads {
                let failure = &failure;
                scope.spawn(move || {
                    for (key, vector) in rows.iter().skip(thread).step_by(threads) {
                        if let Err(error) = self.add(*key, vector) {
                            if let Ok(mut slot) = failure.lock() {
                                slot.get_or_insert(error);
                            }
                            return;
                        }
                    }
                });
            }
        });
        match failure.into_inner() {
            Ok(Some(error)) => Err(error),
            _ => Ok(()),
        }
    }

    /// Approximate nearest keys for a query, best first; `allowed` is
    /// tested during the walk, so filtered results are still the `k` best allowed
    /// ones rather than whatever survives a post-filter.
    pub(crate) fn search(
        &self,
        query: &[f32],
        k: usize,
        allowed: Option<&dyn Fn(u64) -> bool>,
    ) -> Result<Vec<u64>> {
        if k == 0 || self.index.size() == 0 {
            return Ok(Vec::new());
        }
        let query = quantize(query.iter().copied());
        let matches = match allowed {
            None => self.index.search::<i8>(&query, k),
            Some(allowed) => self.index.filtered_search::<i8, _>(&query, k, allowed),
        }
        .map_err(hnsw_error)?;
        Ok(matches.keys)
    }

    /// Writes a snapshot covering `coverage`: the graph to a temporary file that is
    /// synced and renamed into place, then the meta file the same way.
    pub(crate) fn save(&self, log: &Path, coverage: Coverage) -> Result<()> {
        let (graph_path, meta_path) = snapshot_paths(log);
        let temp = graph_path.with_extension("hnsw.tmp");
        let utf8 = |path: &Path| {
            path.to_str()
                .map(str::to_owned)
                .ok_or_else(|| IndexError::Hnsw(format!("{} is not UTF-8", path.display())))
        };
        self.index.save(&utf8(&temp)?).map_err(hnsw_error)?;
        File::open(&temp)
            .and_then(|file| file.sync_all())
            .map_err(IndexError::io(&temp))?;
        let (length, crc) = checksum(&temp)?;
        std::fs::rename(&temp, &graph_path).map_err(IndexError::io(&graph_path))?;
        let meta = Meta {
            dim: self.dim as u32,
            coverage,
            length,
            crc,
        };
        super::file::replace_atomically(&meta_path, |mut file| file.write_all(&meta.encode()))
    }

    /// Loads the snapshot beside `log` if it is whole and covers a prefix of the log
    /// `log_id` with at most `log_rows` rows; `Ok(None)` when it must be rebuilt.
    pub(crate) fn load(
        log: &Path,
        dim: usize,
        params: HnswParams,
        log_id: u64,
        log_rows: u64,
    ) -> Result<Option<(Graph, Coverage)>> {
        let (graph_path, meta_path) = snapshot_paths(log);
        let Ok(bytes) = std::fs::read(&meta_path) else {
            return Ok(None);
        };
        let Some(meta) = Meta::decode(&bytes) else {
            tracing::warn!(path = %meta_path.display(), "HNSW meta file unreadable; rebuilding the graph");
            return Ok(None);
        };
        if meta.dim as usize != dim
            || meta.coverage.log_id != log_id
            || meta.coverage.rows > log_rows
        {
            tracing::info!(path = %meta_path.display(), "HNSW snapshot is for another vector log; rebuilding the graph");
            return Ok(None);
        }
        match checksum(&graph_path) {
            Ok(sum) if sum == (meta.length, meta.crc) => {}
            _ => {
                tracing::warn!(path = %graph_path.display(), "HNSW graph file torn or changed; rebuilding the graph");
                return Ok(None);
            }
        }
        let graph = Graph::new(dim, params, 0)?;
        let path = graph_path
            .to_str()
            .ok_or_else(|| IndexError::Hnsw("path is not UTF-8".into()))?;
        if let Err(error) = graph.index.load(path) {
            tracing::warn!(%error, "HNSW graph file does not load; rebuilding the graph");
            return Ok(None);
        }
        if graph.index.dimensions() != dim {
            return Ok(None);
        }
        // Loading sizes the graph to its contents and forgets the search contexts.
        graph.reserve(graph.index.size() + 1024)?;
        Ok(Some((graph, meta.coverage)))
    }

    /// Removes a snapshot (when the index goes back to the exact scan).
    pub(crate) fn remove_snapshot(log: &Path) {
        let (graph_path, meta_path) = snapshot_paths(log);
        let _ = std::fs::remove_file(meta_path);
        let _ = std::fs::remove_file(graph_path);
    }
}

struct Meta {
    dim: u32,
    coverage: Coverage,
    length: u64,
    crc: u32,
}

impl Meta {
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(META_LEN);
        out.extend_from_slice(META_MAGIC);
        out.extend_from_slice(&META_VERSION.to_le_bytes());
        out.extend_from_slice(&self.dim.to_le_bytes());
        out.extend_from_slice(&self.coverage.log_id.to_le_bytes());
        out.extend_from_slice(&self.coverage.rows.to_le_bytes());
        out.extend_from_slice(&self.length.to_le_bytes());
        out.extend_from_slice(&self.crc.to_le_bytes());
        let own = crc32fast::hash(&out);
        out.extend_from_slice(&own.to_le_bytes());
        out.resize(META_LEN, 0);
        out
    }

    fn decode(bytes: &[u8]) -> Option<Meta> {
        if bytes.len() != META_LEN || &bytes[..8] != META_MAGIC {
            return None;
        }
        let u32_at = |at: usize| bytes[at..at + 4].try_into().ok().map(u32::from_le_bytes);
        let u64_at = |at: usize| bytes[at..at + 8].try_into().ok().map(u64::from_le_bytes);
        // The meta file's own CRC-32 follows its fields (bytes 0..44).
        if u32_at(8)? != META_VERSION || crc32fast::hash(&bytes[..44]) != u32_at(44)? {
            return None;
        }
        Some(Meta {
            dim: u32_at(12)?,
            coverage: Coverage {
                log_id: u64_at(16)?,
                rows: u64_at(24)?,
            },
            length: u64_at(32)?,
            crc: u32_at(40)?,
        })
    }
}

/// Length and CRC-32 of a file, streamed.
fn checksum(path: &Path) -> Result<(u64, u32)> {
    let mut file = File::open(path).map_err(IndexError::io(path))?;
    let mut hasher = crc32fast::Hasher::new();
    let mut buffer = vec![0u8; 1 << 20];
    let mut length = 0u64;
    loop {
        let read = file.read(&mut buffer).map_err(IndexError::io(path))?;
        if read == 0 {
            return Ok((length, hasher.finalize()));
        }
        hasher.update(&buffer[..read]);
        length += read as u64;
    }
}
