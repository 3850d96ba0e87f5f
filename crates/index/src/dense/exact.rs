//! The exact side of the dense index: every vector as f16 in one array, searched by
//! a full SIMD scan (or, under a selective filter, by visiting the allowed rows).

use std::collections::HashMap;

use half::f16;
use papers_rank::fusion::Scored;

use super::kernel::DotsFn;

/// Rows per kernel call: big enough to amortise the call, small enough that the
/// scores stay in L1.
const BLOCK_ROWS: usize = 256;

/// Vectors in insertion order (removal moves the last row into the gap).
pub(crate) struct ExactRows {
    dim: usize,
    pub(crate) keys: Vec<u64>,
    vectors: Vec<f16>,
    rows: HashMap<u64, usize>,
}

/// The rows a filter allows, as a bitset, plus the list when it is short enough
/// that visiting only those rows beats scanning all of them.
pub(crate) struct RowBits {
    bits: Vec<u64>,
    sparse: Option<Vec<usize>>,
}

impl RowBits {
    fn contains(&self, row: usize) -> bool {
        self.bits
            .get(row / 64)
            .is_some_and(|word| word & (1 << (row % 64)) != 0)
    }
}

impl ExactRows {
    pub(crate) fn new(dim: usize) -> ExactRows {
        ExactRows {
            dim,
            keys: Vec::new(),
            vectors: Vec::new(),
            rows: HashMap::new(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    pub(crate) fn contains(&self, key: u64) -> bool {
        self.rows.contains_key(&key)
    }

    pub(crate) fn vector(&self, key: u64) -> Option<&[f16]> {
        self.rows.get(&key).map(|&row| self.row(row))
    }

    /// Every (key, vector), in row order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u64, &[f16])> {
        self.keys
            .iter()
            .copied()
            .zip(self.vectors.chunks_exact(self.dim))
    }

    pub(crate) fn row_bits(&self, keys: &[u64]) -> RowBits {
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
        RowBits { bits, sparse }
    }

    pub(crate) fn allows(&self, allowed: &RowBits, key: u64) -> bool {
        self.rows
            .get(&key)
            .is_some_and(|&row| allowed.contains(row))
    }

    /// The `k` best rows for `query` among `allowed`, excluding `exclude`.
    pub(crate) fn search(
        &self,
        dots: DotsFn,
        query: &[f32],
        k: usize,
        allowed: Option<&RowBits>,
        exclude: Option<u64>,
    ) -> Vec<Scored> {
        let dim = self.dim;
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
                    dots(query, self.row(row), &mut scores[..1]);
                    offer(row, scores[0]);
                }
            }
            None => {
                for (block_index, block) in self.vectors.chunks(BLOCK_ROWS * dim).enumerate() {
                    let count = block.len() / dim;
                    dots(query, block, &mut scores[..count]);
                    let first = block_index * BLOCK_ROWS;
                    for (i, &score) in scores[..count].iter().enumerate() {
                        if allowed.is_none_or(|a| a.contains(first + i)) {
                            offer(first + i, score);
                        }
                    }
                }
            }
        }
        top.into_sorted()
    }

    fn row(&self, row: usize) -> &[f16] {
        &self.vectors[row * self.dim..(row + 1) * self.dim]
    }

    pub(crate) fn put(&mut self, key: u64, vector: &[f16]) {
        let dim = self.dim;
        match self.rows.get(&key) {
            Some(&row) => self.vectors[row * dim..(row + 1) * dim].copy_from_slice(vector),
            None => {
                self.rows.insert(key, self.keys.len());
                self.keys.push(key);
                self.vectors.extend_from_slice(vector);
            }
        }
    }

    pub(crate) fn remove(&mut self, key: u64) -> bool {
        let Some(row) = self.rows.remove(&key) else {
            return false;
        };
        let dim = self.dim;
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
pub(crate) struct TopK {
    k: usize,
    items: Vec<Scored>,
    /// The worst score kept once full, for a cheap rejection test.
    floor: f32,
}

impl TopK {
    pub(crate) fn new(k: usize) -> TopK {
        TopK {
            k,
            items: Vec::with_capacity(k + 1),
            floor: f32::NEG_INFINITY,
        }
    }

    pub(crate) fn offer(&mut self, score: f32, key: u64) {
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

    pub(crate) fn into_sorted(mut self) -> Vec<Scored> {
        self.items
            .sort_by(|a, b| b.score.total_cmp(&a.score).then(a.key.cmp(&b.key)));
        self.items
    }
}
