//! The one error type of ingestion: which file, where in it, and what went wrong.

use std::fmt;
use std::path::{Path, PathBuf};

/// Where in an input a record (or an error) sits, 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    /// A line of a JSON-lines file.
    Line(u64),
    /// The n-th record of an XML document, JSON array or directory of `.abs` files.
    Record(u64),
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Position::Line(n) => write!(f, "line {n}"),
            Position::Record(n) => write!(f, "record {n}"),
        }
    }
}

/// Why an input (or one record of it) could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ErrorKind {
    #[error("read error: {0}")]
    Io(#[from] std::io::Error),
    #[error("empty file")]
    Empty,
    #[error("unknown format (starts with {0:?})")]
    UnknownFormat(String),
    #[error("truncated gzip stream")]
    TruncatedGzip,
    /// serde's message; for JSON lines without its "line 1", which would contradict the
    /// file's line number in front of it.
    #[error("{0}")]
    Json(String),
    #[error("XML error: {0}")]
    Xml(String),
    /// The arXiv API answered with its error feed (an entry titled "Error").
    #[error("arXiv API error: {0}")]
    ApiError(String),
    /// An OAI-PMH `<error code="...">` other than `noRecordsMatch`.
    #[error("OAI-PMH error {code}: {message}")]
    OaiError { code: String, message: String },
    #[error("missing {0}")]
    Missing(&'static str),
    /// The id as the source wrote it, and why it is not one (from `papers_core`).
    #[error("invalid arXiv id {0:?}: {1}")]
    InvalidId(String, &'static str),
    #[error("invalid category list {0:?}")]
    InvalidCategory(String),
    #[error("invalid date {0:?}")]
    InvalidDate(String),
    #[error("{0}")]
    Invalid(String),
}

impl From<serde_json::Error> for ErrorKind {
    fn from(error: serde_json::Error) -> Self {
        let message = error.to_string();
        let location = format!(" at line {} column {}", error.line(), error.column());
        match message.strip_suffix(&location) {
            Some(bare) if error.line() <= 1 => ErrorKind::Json(bare.to_owned()),
            _ => ErrorKind::Json(message),
        }
    }
}

/// An error tied to the input it came from, displayed as
/// `data.jsonl: line 12: missing field `title``.
#[derive(Debug, thiserror::Error)]
pub struct IngestError {
    pub path: PathBuf,
    pub position: Option<Position>,
    pub kind: ErrorKind,
}

impl IngestError {
    pub fn new(path: &Path, position: Option<Position>, kind: impl Into<ErrorKind>) -> Self {
        IngestError {
            path: path.to_owned(),
            position,
            kind: kind.into(),
        }
    }
}

impl fmt::Display for IngestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.path.display())?;
        if let Some(position) = self.position {
            write!(f, "{position}: ")?;
        }
        write!(f, "{}", self.kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_file_position_and_reason() {
        let error = IngestError::new(
            Path::new("data.jsonl"),
            Some(Position::Line(12)),
            ErrorKind::Missing("title"),
        );
        assert_eq!(error.to_string(), "data.jsonl: line 12: missing title");
        let error = IngestError::new(Path::new("x.gz"), None, ErrorKind::TruncatedGzip);
        assert_eq!(error.to_string(), "x.gz: truncated gzip stream");
    }
}
