//! Full-precision vectors beside the graph: the graph's i8 vectors only choose
//! candidates, and these f16 vectors score them.
//!
//! An index with a file reads them from the vector log itself (see [`super::file`]),
//! by key, with one positioned read per vector: memory holds only the row number of
//! each key's latest row (about 18 bytes per paper), and the log's pages stay in the
//! operating system's page cache as far as memory allows. A search reads a few dozen
//! to a few hundred rows, so the hot set is small and the rest of the log may be
//! evicted. An index held only in memory keeps them in [`ExactRows`].

use std::collections::HashMap;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use half::f16;

use super::exact::ExactRows;
use super::file::{self, DATA_START, TOMBSTONE};
use crate::error::{IndexError, Result};

pub(crate) enum FullVectors {
    Memory(ExactRows),
    Log(LogRows),
}

impl FullVectors {
    pub(crate) fn vector(&self, key: u64) -> Option<Vec<f16>> {
        match self {
            FullVectors::Memory(rows) => rows.vector(key).map(<[f16]>::to_vec),
            FullVectors::Log(log) => log.vector(key),
        }
    }

    /// Bytes of memory per paper these vectors take.
    pub(crate) fn bytes_per_paper(&self, dim: usize) -> usize {
        match self {
            FullVectors::Memory(_) => 8 + 2 * dim + 16,
            FullVectors::Log(log) => log.bytes_per_paper(),
        }
    }
}

/// Where each live key's latest row is in the vector log.
pub(crate) struct LogRows {
    path: PathBuf,
    file: File,
    row_bytes: u64,
    /// Key → row number. u32 rows: the log is compacted at twice the live papers,
    /// so this holds up to two billion papers.
    rows: HashMap<u64, u32>,
}

impl LogRows {
    /// Reads the whole log for the latest row of each key, calling `each` with
    /// every row on the way (so opening can replay a tail in the same pass).
    pub(crate) fn scan(path: &Path, mut each: impl FnMut(u64, u64, &[f16])) -> Result<LogRows> {
        let mut rows = HashMap::new();
        let mut row = 0u64;
        let header = file::read(path, |key, vector| {
            record(&mut rows, row, key);
            each(row, key, vector);
            row += 1;
        })?;
        Self::with_rows(path, header.row_bytes(), rows)
    }

    /// The rows of a log just written with `keys` in this order, one row each.
    pub(crate) fn written(path: &Path, row_bytes: u64, keys: &[u64]) -> Result<LogRows> {
        let rows = keys
            .iter()
            .zip(0u32..)
            .map(|(&key, row)| (key, row))
            .collect();
        Self::with_rows(path, row_bytes, rows)
    }

    fn with_rows(path: &Path, row_bytes: u64, rows: HashMap<u64, u32>) -> Result<LogRows> {
        let file = File::open(path).map_err(IndexError::io(path))?;
        Ok(LogRows {
            path: path.to_owned(),
            file,
            row_bytes,
            rows,
        })
    }

    /// Records rows appended to the log from row `first` on.
    pub(crate) fn appended<'a>(&mut self, first: u64, keys: impl Iterator<Item = &'a u64>) {
        for (row, &key) in (first..).zip(keys) {
            record(&mut self.rows, row, key);
        }
    }

    /// Live papers: keys whose latest row is not a deletion.
    pub(crate) fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether `row` is `key`'s latest row and holds its vector.
    pub(crate) fn is_latest(&self, key: u64, row: u64) -> bool {
        self.rows
            .get(&key)
            .is_some_and(|&latest| u64::from(latest) == row)
    }

    pub(crate) fn keys(&self) -> impl Iterator<Item = u64> + '_ {
        self.rows.keys().copied()
    }

    /// `key`'s vector as last written. A read error is logged and treated as a
    /// missing vector: a search drops that one candidate rather than failing.
    pub(crate) fn vector(&self, key: u64) -> Option<Vec<f16>> {
        match self.read(key) {
            Ok(vector) => vector,
            Err(error) => {
                tracing::warn!(%error, key, "reading a vector from the log");
                None
            }
        }
    }

    /// `key`'s vector, or an error naming the log.
    pub(crate) fn read(&self, key: u64) -> Result<Option<Vec<f16>>> {
        let Some(&row) = self.rows.get(&key) else {
            return Ok(None);
        };
        let mut bytes = vec![0u8; self.row_bytes as usize];
        self.file
            .read_exact_at(&mut bytes, DATA_START + row as u64 * self.row_bytes)
            .map_err(IndexError::io(&self.path))?;
        let stored = u64::from_le_bytes(bytes[..8].try_into().unwrap_or([0; 8]));
        if stored != key {
            return Err(IndexError::DenseFormat {
                path: self.path.clone(),
                reason: format!("row {row} holds key {stored}, expected {key}"),
            });
        }
        Ok(Some(
            bytes[8..]
                .chunks_exact(2)
                .map(|b| f16::from_le_bytes([b[0], b[1]]))
                .collect(),
        ))
    }

    /// The key map's share of memory: hashbrown keeps at least 1/8 of its buckets
    /// free, each bucket a (key, row) pair and a control byte.
    fn bytes_per_paper(&self) -> usize {
        let buckets = (self.rows.capacity() * 8 / 7).next_power_of_two();
        buckets * (size_of::<(u64, u32)>() + 1) / self.rows.len().max(1)
    }
}

/// Notes log row `row` of `key` (a deletion when the tombstone bit is set).
fn record(rows: &mut HashMap<u64, u32>, row: u64, key: u64) {
    if key & TOMBSTONE != 0 {
        rows.remove(&(key & !TOMBSTONE));
    } else {
        rows.insert(key, row as u32);
    }
}
