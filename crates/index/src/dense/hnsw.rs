//! An HNSW graph over the dense vectors (usearch, f16 storage), for corpora where
//! the exact scan gets too slow: at 3 million papers one scan reads 2.3 GB.
//!
//! The graph is derived from [`DenseIndex`], which stays the source of the
//! vectors (and of exact similarity for fusion fill-ins); filters are the same
//! row sets, applied during the graph walk through usearch's predicate.

use papers_rank::fusion::Scored;
use usearch::{Index, IndexOptions, MetricKind, ScalarKind};

use super::{DenseIndex, RowSet};
use crate::error::{IndexError, Result};

/// Graph parameters. Connectivity is usearch's M (edges per node).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HnswParams {
    pub connectivity: usize,
    pub expansion_add: usize,
    pub expansion_search: usize,
}

impl Default for HnswParams {
    fn default() -> Self {
        HnswParams {
            connectivity: 16,
            expansion_add: 128,
            expansion_search: 64,
        }
    }
}

pub struct HnswIndex {
    index: Index,
}

fn hnsw_error(error: impl std::fmt::Display) -> IndexError {
    IndexError::Hnsw(error.to_string())
}

impl HnswIndex {
    /// Builds the graph from every vector of `dense`, on `threads` threads.
    pub fn build(dense: &DenseIndex, params: HnswParams, threads: usize) -> Result<HnswIndex> {
        let options = IndexOptions {
            dimensions: dense.dim(),
            metric: MetricKind::IP,
            quantization: ScalarKind::F16,
            connectivity: params.connectivity,
            expansion_add: params.expansion_add,
            expansion_search: params.expansion_search,
            multi: false,
        };
        let index = Index::new(&options).map_err(hnsw_error)?;
        let threads = threads.max(1);
        index
            .reserve_capacity_and_threads(dense.len(), threads)
            .map_err(hnsw_error)?;
        let dim = dense.dim();
        let failures = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for thread in 0..threads {
                let (index, failures) = (&index, &failures);
                scope.spawn(move || {
                    let mut buffer = vec![0.0_f32; dim];
                    for row in (thread..dense.len()).step_by(threads) {
                        for (slot, value) in buffer.iter_mut().zip(dense.row(row)) {
                            *slot = value.to_f32();
                        }
                        if index.add(dense.keys[row], &buffer).is_err() {
                            failures.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                    }
                });
            }
        });
        match failures.into_inner() {
            0 => Ok(HnswIndex { index }),
            n => Err(IndexError::Hnsw(format!("{n} vectors failed to insert"))),
        }
    }

    pub fn set_expansion_search(&self, expansion: usize) {
        self.index.change_expansion_search(expansion);
    }

    /// Bytes the graph and its f16 vectors occupy.
    pub fn memory_usage(&self) -> usize {
        self.index.memory_usage()
    }

    /// Approximate top `k` for a unit-length query; `allowed` (rows of `dense`)
    /// is tested during the walk, not after it.
    pub fn search(
        &self,
        dense: &DenseIndex,
        query: &[f32],
        k: usize,
        allowed: Option<&RowSet>,
    ) -> Result<Vec<Scored>> {
        if query.len() != dense.dim() {
            return Err(IndexError::Dimension {
                expected: dense.dim(),
                actual: query.len(),
            });
        }
        let matches = match allowed {
            None => self.index.search(query, k),
            Some(rows) => self
                .index
                .filtered_search(query, k, |key| dense.allows(rows, key)),
        }
        .map_err(hnsw_error)?;
        // usearch's inner-product distance is 1 − cosine.
        Ok(matches
            .keys
            .iter()
            .zip(&matches.distances)
            .map(|(&key, &distance)| Scored {
                key,
                score: 1.0 - distance,
            })
            .collect())
    }
}
