//! One module per input format, each turning raw input into [`papers_core::PaperRecord`]s,
//! and the [`Positioned`] items they all yield. `records` picks a format and wraps its
//! items; the formats never look back at it.

pub mod abs;
pub mod atom;
pub mod hf;
pub mod kaggle;
pub mod oai;

use papers_core::{ArxivId, Category, PaperRecord, Version, VersionedId};

use crate::error::{ErrorKind, IngestError, Position};

/// A record and where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Positioned {
    pub record: PaperRecord,
    pub position: Position,
}

/// What a format's iterator yields: a record, or the error that took its place.
pub(crate) type Item = Result<Positioned, IngestError>;

/// Parses an id as a source writes it (bare, `arXiv:`-prefixed, URL), keeping the version.
pub(crate) fn parse_id(text: &str) -> Result<VersionedId, ErrorKind> {
    VersionedId::parse_reference(text)
        .map_err(|error| ErrorKind::InvalidId(text.trim().to_owned(), error.reason))
}

/// Parses a bare id, tolerating a version suffix (which is dropped).
pub(crate) fn parse_bare_id(text: &str) -> Result<ArxivId, ErrorKind> {
    parse_id(text).map(|versioned| versioned.id)
}

pub(crate) fn parse_categories(text: &str) -> Result<Vec<Category>, ErrorKind> {
    Category::parse_list(text).map_err(|_| ErrorKind::InvalidCategory(text.trim().to_owned()))
}

/// `"v2"` → 2.
pub(crate) fn parse_version_number(text: &str) -> Result<u32, ErrorKind> {
    text.trim()
        .strip_prefix('v')
        .and_then(|n| n.parse().ok())
        .filter(|&n| n > 0)
        .ok_or_else(|| ErrorKind::Invalid(format!("invalid version {text:?}")))
}

/// The v1 date and the latest version's date of a version list.
pub(crate) fn version_dates(
    versions: &[Version],
) -> (
    Option<chrono::DateTime<chrono::Utc>>,
    Option<chrono::DateTime<chrono::Utc>>,
) {
    let first = versions
        .iter()
        .min_by_key(|v| v.number)
        .and_then(|v| v.created);
    let last = versions
        .iter()
        .max_by_key(|v| v.number)
        .and_then(|v| v.created);
    (first, last)
}

/// Titles are the one field no record can do without.
pub(crate) fn require_title(title: String) -> Result<String, ErrorKind> {
    if title.is_empty() {
        Err(ErrorKind::Missing("title"))
    } else {
        Ok(title)
    }
}
