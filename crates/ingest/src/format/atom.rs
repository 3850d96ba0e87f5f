//! arXiv API (`/api/query`) Atom feeds.
//!
//! Each `<entry>` is one paper at the version its id URL names
//! (`http://arxiv.org/abs/2104.12255v1`). When a query is bad the API still answers
//! with a feed, holding one entry titled "Error": that becomes
//! [`ErrorKind::ApiError`] with the API's message, never an empty success. A feed with
//! no entries (an unknown id) is an empty success.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use papers_core::{Category, Metadata, PaperRecord, Source, Version};

use super::{Item, Positioned, parse_id, require_title};
use crate::error::{ErrorKind, IngestError, Position};
use crate::input::{Input, Progress};
use crate::text::{normalize_whitespace, optional, parse_iso8601};
use crate::xml::{Element, XmlStream};

/// Parses a whole feed, as [`crate::harvest::arxiv_api`] receives it. The first error
/// (an API error entry, a syntax error, an invalid entry) fails the feed.
pub fn parse_feed(body: &[u8]) -> Result<Vec<PaperRecord>, IngestError> {
    AtomRecords::new(body, Path::new("arXiv API response"))
        .map(|item| item.map(|positioned| positioned.record))
        .collect()
}

pub(crate) struct AtomRecords<R> {
    stream: XmlStream<R>,
    path: PathBuf,
    index: u64,
    done: bool,
}

impl AtomRecords<Box<dyn BufRead + Send>> {
    pub fn open(path: &Path, progress: &Progress) -> Result<Self, IngestError> {
        let input = Input::open(path, progress)?;
        Ok(AtomRecords::new(input.reader, path))
    }
}

impl<R: BufRead> AtomRecords<R> {
    fn new(reader: R, path: &Path) -> Self {
        AtomRecords {
            stream: XmlStream::new(reader),
            path: path.to_owned(),
            index: 0,
            done: false,
        }
    }
}

impl<R: BufRead> Iterator for AtomRecords<R> {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        if self.done {
            return None;
        }
        let entry = match self.stream.next_element(&["entry"]) {
            Ok(Some(entry)) => entry,
            Ok(None) => {
                self.done = true;
                return None;
            }
            Err(message) => {
                self.done = true;
                let position = (self.index > 0).then_some(Position::Record(self.index));
                return Some(Err(IngestError::new(
                    &self.path,
                    position,
                    ErrorKind::Xml(message),
                )));
            }
        };
        self.index += 1;
        let position = Position::Record(self.index);
        let result = parse_entry(&entry);
        if matches!(result, Err(ErrorKind::ApiError(_))) {
            self.done = true;
        }
        Some(
            result
                .map(|record| Positioned { record, position })
                .map_err(|kind| IngestError::new(&self.path, Some(position), kind)),
        )
    }
}

fn parse_entry(entry: &Element) -> Result<PaperRecord, ErrorKind> {
    let raw_id = entry.child_text("id").unwrap_or("").trim();
    if raw_id.contains("/api/errors") || entry.child_text("title").map(str::trim) == Some("Error") {
        let message = normalize_whitespace(entry.child_text("summary").unwrap_or(raw_id));
        return Err(ErrorKind::ApiError(message));
    }
    let versioned = parse_id(raw_id)?;
    let published = iso_date(entry, "published")?;
    let updated = iso_date(entry, "updated")?;
    // The entry describes the version its id names; `published` is always v1's date and
    // `updated` the named version's.
    let number = versioned.version.unwrap_or(1);
    let mut versions = vec![Version {
        number: 1,
        created: published,
        size: None,
    }];
    if number > 1 {
        versions.push(Version {
            number,
            created: updated,
            size: None,
        });
    }
    let metadata = Metadata {
        title: require_title(normalize_whitespace(
            entry.child_text("title").unwrap_or(""),
        ))?,
        abstract_text: normalize_whitespace(entry.child_text("summary").unwrap_or("")),
        authors: entry
            .children_named("author")
            .filter_map(|author| optional(author.child_text("name")))
            .collect(),
        categories: categories(entry),
        doi: optional(entry.child_text("doi")),
        journal_ref: optional(entry.child_text("journal_ref")),
        comments: optional(entry.child_text("comment")),
        report_no: None,
        license: None,
        submitter: None,
        published,
        updated,
        versions,
    };
    Ok(PaperRecord {
        id: versioned.id,
        source: Source::ArxivApi,
        metadata,
        community: None,
    })
}

/// Primary category first. The API also lists ACM and MSC classes (`I.2.7`, `68T50`) as
/// categories; those are not arXiv categories and are left out.
fn categories(entry: &Element) -> Vec<Category> {
    let primary = entry.child("primary_category").into_iter();
    let all = entry.children_named("category");
    let mut categories: Vec<Category> = Vec::new();
    for element in primary.chain(all) {
        if let Some(category) = element
            .attribute("term")
            .and_then(|t| Category::parse(t).ok())
            && !categories.contains(&category)
        {
            categories.push(category);
        }
    }
    categories
}

fn iso_date(
    entry: &Element,
    name: &str,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, ErrorKind> {
    match entry
        .child_text(name)
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        None => Ok(None),
        Some(text) => parse_iso8601(text)
            .map(Some)
            .ok_or_else(|| ErrorKind::InvalidDate(text.to_owned())),
    }
}
