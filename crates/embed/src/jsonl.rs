//! `encode_jsonl`: texts in as JSON lines, vectors out as little-endian f32 rows.
//!
//! This is what `papers model encode` and the `encode` example call, and what the benchmark
//! compares against sentence-transformers.

use std::io::{BufRead, Write};

use crate::{EmbedError, Embedder};

/// Texts embedded per call, bounding memory for large inputs while keeping batches full.
const CHUNK: usize = 4096;

/// Reads lines `{"text": ...}` (blank lines skipped) and writes one normalised row of
/// [`Embedder::dim`] little-endian f32 per line, in input order. Returns the number of rows.
pub fn encode_jsonl(
    embedder: &Embedder,
    reader: impl BufRead,
    mut writer: impl Write,
) -> Result<usize, EmbedError> {
    let io_error = |source| EmbedError::Io {
        path: "<stream>".into(),
        source,
    };
    let mut texts = Vec::new();
    let mut written = 0;
    for (index, line) in reader.lines().enumerate() {
        let line = line.map_err(io_error)?;
        if line.trim().is_empty() {
            continue;
        }
        texts.push(parse_line(&line, index + 1)?);
        if texts.len() == CHUNK {
            written += write_rows(embedder, &texts, &mut writer)?;
            texts.clear();
        }
    }
    written += write_rows(embedder, &texts, &mut writer)?;
    writer.flush().map_err(io_error)?;
    Ok(written)
}

fn parse_line(line: &str, number: usize) -> Result<String, EmbedError> {
    let value: serde_json::Value =
        serde_json::from_str(line).map_err(|error| EmbedError::Input {
            line: number,
            message: error.to_string(),
        })?;
    match value.get("text") {
        Some(serde_json::Value::String(text)) => Ok(text.clone()),
        _ => Err(EmbedError::Input {
            line: number,
            message: "expected an object with a string \"text\"".to_owned(),
        }),
    }
}

fn write_rows(
    embedder: &Embedder,
    texts: &[String],
    writer: &mut impl Write,
) -> Result<usize, EmbedError> {
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let vectors = embedder.embed(&refs)?;
    let mut bytes = Vec::with_capacity(vectors.len() * embedder.dim() * 4);
    for value in vectors.iter().flatten() {
        bytes.extend_from_slice(&value.to_le_bytes());
    }
    writer.write_all(&bytes).map_err(|source| EmbedError::Io {
        path: "<stream>".into(),
        source,
    })?;
    Ok(vectors.len())
}
