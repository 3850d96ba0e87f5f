//! The dense index: every paper's embedding as f16, searched by an exact scan.
//!
//! Exact search is a deliberate choice at this size: 76,803 × 384 f16 rows are
//! 59 MB, one pass over them is a few milliseconds on one core, recall is 1.0 by
//! construction, filters cost nothing extra (a bitset test per row), and there is
//! no graph to build, persist or repair. An HNSW index becomes worth its build cost
//! and memory beyond a few hundred thousand papers (see the bench report).
//!
//! Vectors live in memory; the file (see [`file`]) is loaded once and appended to.

mod file;
#[cfg(feature = "hnsw")]
pub mod hnsw;
mod kernel;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use half::f16;
use papers_rank::fusion::Scored;

use crate::error::{IndexError, Result};
use file::{Header, TOMBSTONE};

/// Rows per kernel call: big enough to amortise the call, small enough that the
/// scores stay in L1.
const BLOCK_ROWS: usize = 256;

pub struct DenseIndex {
    path: Option<PathBuf>,
    header: Header,
    keys: Vec<u64>,
    vectors: Vec<f16>,
    rows: HashMap<u64, usize>,
    /// Rows changed since the last commit, as (key or tombstone, vector).
    pending: Vec<(u64, Vec<f16>)>,
    dots: kernel::DotsFn,
    kernel_name: &'static str,
}

/// The rows a filter allows, as a bitset, plus the list when it is short enough
/// that visiting only those rows beats scanning all of them.
pub struct RowSet {
    bits: Vec<u64>,
    sparse: Option<Vec<usize>>,
}

impl RowSet {
    fn contains(&self, row: usize) -> bool {
        self.bits
            .get(row / 64)
            .is_some_and(|word| word & (1 << (row % 64)) != 0)
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
        };
        Ok(Self::with_header(None, header))
    }

    /// Opens the file at `path`, or creates an empty one. A file built with another
    /// model or dimension is an error: the binary should rebuild it.
    pub fn open(path: &Path, model: &str, dim: usize) -> Result<DenseIndex> {
        if !path.exists() {
            let mut index = Self::in_memory(model, dim)?;
            index.path = Some(path.to_owned());
            file::write_all(path, &index.header, std::iter::empty())?;
            return Ok(index);
        }
        let mut rows: Vec<(u64, Vec<f16>)> = Vec::new();
        let header = file::read(path, |key, vector| rows.push((key, vector.to_vec())))?;
        if header.model != model || header.dim != dim {
            return Err(IndexError::ModelMismatch {
                expected: format!("{model} ({dim}-d)"),
                found: format!("{} ({}-d)", header.model, header.dim),
            });
        }
        let mut index = Self::with_header(Some(path.to_owned()), header);
        for (key, vector) in rows {
            if key & TOMBSTONE != 0 {
                index.remove_row(key & !TOMBSTONE);
            } else {
                index.put_row(key, &vector);
            }
        }
        Ok(index)
    }

    fn with_header(path: Option<PathBuf>, header: Header) -> DenseIndex {
        let (dots, kernel_name) = kernel::best();
        DenseIndex {
            path,
            header,
            keys: Vec::new(),
            vectors: Vec::new(),
            rows: HashMap::new(),
            pending: Vec::new(),
            dots,
            kernel_name,
        }
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
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

    pub fn contains(&self, key: u64) -> bool {
        self.rows.contains_key(&key)
    }

    /// Bytes of vector memory per paper (key, vector and the key map's share).
    pub fn bytes_per_paper(&self) -> usize {
        8 + 2 * self.header.dim + 16
    }

    /// Adds or replaces `key`'s vector; persisted at the next commit.
    pub fn upsert(&mut self, key: u64, vector: &[f32]) -> Result<()> {
        if vector.len() != self.header.dim {
            return Err(IndexError::Dimension {
                expected: self.header.dim,
                actual: vector.len(),
            });
        }
        let halves: Vec<f16> = vector.iter().map(|&x| f16::from_f32(x)).collect();
        self.put_row(key & !TOMBSTONE, &halves);
        if self.path.is_some() {
            self.pending.push((key & !TOMBSTONE, halves));
        }
        Ok(())
    }

    pub fn remove(&mut self, key: u64) {
        if self.remove_row(key) && self.path.is_some() {
            self.pending
                .push((key | TOMBSTONE, vec![f16::ZERO; self.header.dim]));
        }
    }

    /// Persists the changes since the last commit by appending them; rewrites the
    /// file instead when superseded rows would make up most of it.
    pub fn commit(&mut self, watermark: u64) -> Result<()> {
        let Some(path) = self.path.clone() else {
            self.header.watermark = watermark;
            return Ok(());
        };
        let total_rows = self.header.rows + self.pending.len() as u64;
        if total_rows > 2 * self.keys.len() as u64 + 1024 {
            return self.rewrite(&path, watermark);
        }
        let pending = std::mem::take(&mut self.pending);
        file::append(
            &path,
            &mut self.header,
            pending
                .iter()
                .map(|(key, vector)| (*key, vector.as_slice())),
            watermark,
        )
    }

    /// Writes the live rows to a fresh file (atomically replacing the old one).
    pub fn rewrite(&mut self, path: &Path, watermark: u64) -> Result<()> {
        let header = Header {
            rows: self.keys.len() as u64,
            watermark,
            ..self.header.clone()
        };
        let dim = self.header.dim;
        file::write_all(
            path,
            &header,
            self.keys
                .iter()
                .zip(self.vectors.chunks_exact(dim))
                .map(|(key, vector)| (*key, vector)),
        )?;
        self.header = header;
        self.pending.clear();
        self.path = Some(path.to_owned());
        Ok(())
    }

    /// The rows of `keys` (unknown keys are ignored), for use as a search filter.
    pub fn row_set(&self, keys: &[u64]) -> RowSet {
        let mut bits = vec![0u64; self.keys.len().div_ceil(64)];
        let mut rows = Vec::with_capacity(keys.len());
        for key in keys {
            if let Some(&row) = self.rows.get(key) {
                bits[row / 64] |= 1 << (row % 64);
                rows.push(row);
            }
        }
        // Visiting rows one by one loses the scan's streaming; it pays off only
        // when the filter leaves few.
        let sparse = (rows.len() * 16 < self.keys.len()).then(|| {
            rows.sort_unstable();
            rows
        });
        RowSet { bits, sparse }
    }

    /// Whether `rows` contains `key`'s row.
    pub fn allows(&self, rows: &RowSet, key: u64) -> bool {
        self.rows.get(&key).is_some_and(|&row| rows.contains(row))
    }

    /// Cosine of `query` (unit length) with `key`'s vector.
    pub fn similarity(&self, query: &[f32], key: u64) -> Option<f32> {
        let row = *self.rows.get(&key)?;
        let mut out = [0.0];
        (self.dots)(query, self.row(row), &mut out);
        Some(out[0])
    }

    /// The `k` rows most similar to `query`, among `allowed` rows if given,
    /// best first. `query` must have the index's dimension and unit length.
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
        let Some(&row) = self.rows.get(&key) else {
            return Ok(None);
        };
        let query: Vec<f32> = self.row(row).iter().map(|x| x.to_f32()).collect();
        self.search_excluding(&query, k, allowed, Some(key))
            .map(Some)
    }

    fn search_excluding(
        &self,
        query: &[f32],
        k: usize,
        allowed: Option<&RowSet>,
        exclude: Option<u64>,
    ) -> Result<Vec<Scored>> {
        let dim = self.header.dim;
        if query.len() != dim {
            return Err(IndexError::Dimension {
                expected: dim,
                actual: query.len(),
            });
        }
        let mut top = TopK::new(k);
        let mut offer = |row: usize, score: f32| {
            let key = self.keys[row];
            if Some(key) != exclude {
                top.offer(score, key);
            }
        };
        let mut scores = [0.0_f32; BLOCK_ROWS];
        match allowed.and_then(|a| a.sparse.as_deref()) {
            Some(rows) => {
                for &row in rows {
                    (self.dots)(query, self.row(row), &mut scores[..1]);
                    offer(row, scores[0]);
                }
            }
            None => {
                for (block_index, block) in self.vectors.chunks(BLOCK_ROWS * dim).enumerate() {
                    let count = block.len() / dim;
                    (self.dots)(query, block, &mut scores[..count]);
                    let first = block_index * BLOCK_ROWS;
                    for (i, &score) in scores[..count].iter().enumerate() {
                        if allowed.is_none_or(|a| a.contains(first + i)) {
                            offer(first + i, score);
                        }
                    }
                }
            }
        }
        Ok(top.into_sorted())
    }

    fn row(&self, row: usize) -> &[f16] {
        let dim = self.header.dim;
        &self.vectors[row * dim..(row + 1) * dim]
    }

    fn put_row(&mut self, key: u64, vector: &[f16]) {
        let dim = self.header.dim;
        match self.rows.get(&key) {
            Some(&row) => self.vectors[row * dim..(row + 1) * dim].copy_from_slice(vector),
            None => {
                self.rows.insert(key, self.keys.len());
                self.keys.push(key);
                self.vectors.extend_from_slice(vector);
            }
        }
    }

    fn remove_row(&mut self, key: u64) -> bool {
        let Some(row) = self.rows.remove(&key) else {
            return false;
        };
        let dim = self.header.dim;
        let last = self.keys.len() - 1;
        if row != last {
            let moved = self.keys[last];
            self.keys[row] = moved;
            self.vectors
                .copy_within(last * dim..(last + 1) * dim, row * dim);
            self.rows.insert(moved, row);
        }
        self.keys.pop();
        self.vectors.truncate(last * dim);
        true
    }
}

/// A bounded selection of the best scores; ties prefer the smaller key so results
/// do not depend on row order (which changes on reload and removal).
struct TopK {
    k: usize,
    items: Vec<Scored>,
    /// The worst score kept once full, for a cheap rejection test.
    floor: f32,
}

impl TopK {
    fn new(k: usize) -> TopK {
        TopK {
            k,
            items: Vec::with_capacity(k + 1),
            floor: f32::NEG_INFINITY,
        }
    }

    fn offer(&mut self, score: f32, key: u64) {
        if self.k == 0 || (self.items.len() == self.k && score < self.floor) {
            return;
        }
        self.items.push(Scored { key, score });
        if self.items.len() > self.k {
            let worst = self.worst();
            self.items.swap_remove(worst);
        }
        if self.items.len() == self.k {
            self.floor = self.items[self.worst()].score;
        }
    }

    fn worst(&self) -> usize {
        let mut worst = 0;
        for (i, item) in self.items.iter().enumerate() {
            let w = &self.items[worst];
            if item.score < w.score || (item.score == w.score && item.key > w.key) {
                worst = i;
            }
        }
        worst
    }

    fn into_sorted(mut self) -> Vec<Scored> {
        self.items
            .sort_by(|a, b| b.score.total_cmp(&a.score).then(a.key.cmp(&b.key)));
        self.items
    }
}

#[cfg(test)]
mod tests;
