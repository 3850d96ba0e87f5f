//! The dense index's file format: an append-only log of (key, f16 vector) rows.
//!
//! ```text
//! 0    magic "PAPRVEC1"
//! 8    format version u32 (1)
//! 12   dimensions u32
//! 16   element kind u32 (1 = f16)
//! 20   model id length u32 (at most 256)
//! 24   rows in the file u64
//! 32   watermark u64 (store change-log position the file covers)
//! 40   log id u64 (random, new for every rewrite; 0 in files from before it)
//! 48   reserved, zero, up to 64
//! 64   model id, UTF-8, zero-padded to 256 bytes
//! 320  rows: key u64, then dimensions × f16, all little-endian
//! ```
//!
//! A later row for a key supersedes an earlier one; a key with the top bit set is
//! a deletion. Appending writes the rows, syncs, then rewrites the row count and
//! watermark in the header and syncs again: a crash in between leaves bytes past
//! the counted rows, which are ignored on load and overwritten by the next append.
//! Rewrites (compaction) go to a temporary file that is renamed over the old one,
//! with a fresh log id: the HNSW snapshot (see [`super::hnsw`]) names the log id and
//! row count it covers, so it can never be replayed against another file's rows.

use std::fs::{File, OpenOptions};
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;

use half::f16;

use crate::error::{IndexError, Result};

const MAGIC: &[u8; 8] = b"PAPRVEC1";
const FORMAT_VERSION: u32 = 1;
const KIND_F16: u32 = 1;
const MODEL_ID_MAX: usize = 256;
pub(crate) const DATA_START: u64 = 64 + MODEL_ID_MAX as u64;
pub(crate) const TOMBSTONE: u64 = 1 << 63;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Header {
    pub dim: usize,
    pub model: String,
    pub rows: u64,
    pub watermark: u64,
    /// Identifies this file's row sequence (see the module docs).
    pub log_id: u64,
}

impl Header {
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(DATA_START as usize);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&(self.dim as u32).to_le_bytes());
        out.extend_from_slice(&KIND_F16.to_le_bytes());
        out.extend_from_slice(&(self.model.len() as u32).to_le_bytes());
        out.extend_from_slice(&self.rows.to_le_bytes());
        out.extend_from_slice(&self.watermark.to_le_bytes());
        out.extend_from_slice(&self.log_id.to_le_bytes());
        out.resize(64, 0);
        out.extend_from_slice(self.model.as_bytes());
        out.resize(DATA_START as usize, 0);
        out
    }

    fn decode(path: &Path, bytes: &[u8]) -> Result<Header> {
        let bad = |reason: &str| IndexError::DenseFormat {
            path: path.to_owned(),
            reason: reason.to_owned(),
        };
        if bytes.len() < DATA_START as usize || &bytes[..8] != MAGIC {
            return Err(bad("not a papers vector file"));
        }
        let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap_or([0; 4]));
        let u64_at = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap_or([0; 8]));
        if u32_at(8) != FORMAT_VERSION || u32_at(16) != KIND_F16 {
            return Err(bad("unsupported format version or element kind"));
        }
        let model_len = u32_at(20) as usize;
        if model_len > MODEL_ID_MAX {
            return Err(bad("model id too long"));
        }
        let model = std::str::from_utf8(&bytes[64..64 + model_len])
            .map_err(|_| bad("model id is not UTF-8"))?
            .to_owned();
        Ok(Header {
            dim: u32_at(12) as usize,
            model,
            rows: u64_at(24),
            watermark: u64_at(32),
            log_id: u64_at(40),
        })
    }

    pub fn row_bytes(&self) -> u64 {
        8 + 2 * self.dim as u64
    }
}

pub(crate) fn check_model_id(model: &str) -> Result<()> {
    if model.len() > MODEL_ID_MAX {
        return Err(IndexError::DenseFormat {
            path: Default::default(),
            reason: format!("model id longer than {MODEL_ID_MAX} bytes"),
        });
    }
    Ok(())
}

/// A fresh log id: unique enough to tell two rewrites of one file apart, never 0.
pub(crate) fn new_log_id() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    hasher.write_u32(std::process::id());
    hasher.finish().max(1)
}

/// Reads only the header.
pub(crate) fn read_header(path: &Path) -> Result<Header> {
    let mut file = File::open(path).map_err(IndexError::io(path))?;
    let mut head = vec![0; DATA_START as usize];
    file.read_exact(&mut head).map_err(IndexError::io(path))?;
    Header::decode(path, &head)
}

/// Reads the header and the counted rows, calling `row` for each in file order.
pub(crate) fn read(path: &Path, mut row: impl FnMut(u64, &[f16])) -> Result<Header> {
    let file = File::open(path).map_err(IndexError::io(path))?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut head = vec![0; DATA_START as usize];
    reader.read_exact(&mut head).map_err(IndexError::io(path))?;
    let header = Header::decode(path, &head)?;
    let mut buffer = vec![0u8; header.row_bytes() as usize];
    let mut vector = vec![f16::ZERO; header.dim];
    for _ in 0..header.rows {
        reader
            .read_exact(&mut buffer)
            .map_err(IndexError::io(path))?;
        let key = u64::from_le_bytes(buffer[..8].try_into().unwrap_or([0; 8]));
        for (slot, bytes) in vector.iter_mut().zip(buffer[8..].chunks_exact(2)) {
            *slot = f16::from_le_bytes([bytes[0], bytes[1]]);
        }
        row(key, &vector);
    }
    Ok(header)
}

fn encode_row(out: &mut impl Write, key: u64, vector: &[f16]) -> std::io::Result<()> {
    out.write_all(&key.to_le_bytes())?;
    for value in vector {
        out.write_all(&value.to_le_bytes())?;
    }
    Ok(())
}

fn encode_rows<'a>(
    out: &mut impl Write,
    rows: impl Iterator<Item = (u64, &'a [f16])>,
) -> std::io::Result<()> {
    for (key, vector) in rows {
        encode_row(out, key, vector)?;
    }
    Ok(())
}

/// Writes a complete file to a temporary sibling and renames it into place; the
/// first failed row leaves the old file as it was.
pub(crate) fn write_all<V: AsRef<[f16]>>(
    path: &Path,
    header: &Header,
    rows: impl Iterator<Item = Result<(u64, V)>>,
) -> Result<()> {
    replace_atomically(path, |file| {
        let mut writer = BufWriter::with_capacity(1 << 20, file);
        writer.write_all(&header.encode())?;
        for row in rows {
            let (key, vector) = row.map_err(std::io::Error::other)?;
            encode_row(&mut writer, key, vector.as_ref())?;
        }
        writer.flush()
    })
}

/// Appends rows after the `header.rows` counted ones, then publishes the new count
/// and watermark. `header` is updated on success.
pub(crate) fn append<'a>(
    path: &Path,
    header: &mut Header,
    rows: impl ExactSizeIterator<Item = (u64, &'a [f16])>,
    watermark: u64,
) -> Result<()> {
    let io = IndexError::io(path);
    let added = rows.len() as u64;
    let inner = || -> std::io::Result<()> {
        let mut file = OpenOptions::new().read(true).write(true).open(path)?;
        file.seek(SeekFrom::Start(
            DATA_START + header.rows * header.row_bytes(),
        ))?;
        let mut writer = BufWriter::with_capacity(1 << 20, &mut file);
        encode_rows(&mut writer, rows)?;
        writer.flush()?;
        drop(writer);
        file.sync_data()?;
        let next = Header {
            rows: header.rows + added,
            watermark,
            ..header.clone()
        };
        file.seek(SeekFrom::Start(0))?;
        file.write_all(&next.encode())?;
        file.sync_data()?;
        header.rows = next.rows;
        header.watermark = watermark;
        Ok(())
    };
    inner().map_err(io)
}

/// Writes `path` through `write` into a temporary sibling, syncs it and renames it
/// into place, so a reader sees the old file or the whole new one.
pub(crate) fn replace_atomically(
    path: &Path,
    write: impl FnOnce(&File) -> std::io::Result<()>,
) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(IndexError::io(dir))?;
    let temp = tempfile::NamedTempFile::new_in(dir).map_err(IndexError::io(dir))?;
    write(temp.as_file())
        .and_then(|()| temp.as_file().sync_all())
        .map_err(IndexError::io(path))?;
    temp.persist(path).map_err(|e| IndexError::Io {
        path: path.to_owned(),
        source: e.error,
    })?;
    // The rename is durable only once the directory entry is.
    if let Ok(dir) = File::open(dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}
