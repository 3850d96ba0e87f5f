//! arXiv OAI-PMH responses (`ListRecords`, `GetRecord`) with `arXiv` or `arXivRaw` metadata.
//!
//! The XML is streamed record by record. A record whose content is invalid is reported
//! and reading goes on; an XML syntax error or an OAI `<error>` ends the document.
//! Deleted records are skipped, and `noRecordsMatch` is an empty, successful answer.

use std::io::BufRead;
use std::path::Path;

use papers_core::{Metadata, PaperRecord, Source, Version};

use super::{
    Item, Positioned, parse_bare_id, parse_categories, parse_version_number, require_title,
    version_dates,
};
use crate::error::{ErrorKind, IngestError, Position};
use crate::input::{Input, Progress};
use crate::text::{
    join_name, normalize_whitespace, optional, parse_any_date, parse_rfc2822, split_authors,
};
use crate::xml::{Element, XmlStream};

/// One harvested page: its records, the records that could not be read, and the token
/// for the next page (`None` on the last one).
#[derive(Debug)]
pub struct OaiPage {
    pub records: Vec<PaperRecord>,
    pub skipped: Vec<IngestError>,
    pub resumption_token: Option<String>,
    pub complete_list_size: Option<u64>,
    /// The day of the response's `responseDate`, by the server's clock (UTC): where an
    /// incremental harvest's next `from` can safely start.
    pub response_date: Option<chrono::NaiveDate>,
}

/// Parses a whole response body, as the harvester receives it. Errors are fatal ones
/// (XML syntax, an OAI error other than `noRecordsMatch`); bad records land in
/// [`OaiPage::skipped`].
pub fn parse_page(body: &[u8]) -> Result<OaiPage, IngestError> {
    let mut records = OaiRecords::new(body, Path::new("OAI-PMH response"));
    let mut page = OaiPage {
        records: Vec::new(),
        skipped: Vec::new(),
        resumption_token: None,
        complete_list_size: None,
        response_date: None,
    };
    while let Some(item) = records.next() {
        match item {
            Ok(positioned) => page.records.push(positioned.record),
            Err(error) if records.done => return Err(error),
            Err(error) => page.skipped.push(error),
        }
    }
    page.resumption_token = records.resumption_token;
    page.complete_list_size = records.complete_list_size;
    page.response_date = records.response_date;
    Ok(page)
}

pub(crate) struct OaiRecords<R> {
    stream: XmlStream<R>,
    path: std::path::PathBuf,
    index: u64,
    done: bool,
    resumption_token: Option<String>,
    complete_list_size: Option<u64>,
    response_date: Option<chrono::NaiveDate>,
}

impl OaiRecords<Box<dyn BufRead + Send>> {
    pub fn open(path: &Path, progress: &Progress) -> Result<Self, IngestError> {
        let input = Input::open(path, progress)?;
        Ok(OaiRecords::new(input.reader, path))
    }
}

impl<R: BufRead> OaiRecords<R> {
    fn new(reader: R, path: &Path) -> Self {
        OaiRecords {
            stream: XmlStream::new(reader),
            path: path.to_owned(),
            index: 0,
            done: false,
            resumption_token: None,
            complete_list_size: None,
            response_date: None,
        }
    }

    fn fatal(&mut self, kind: ErrorKind) -> Option<Item> {
        self.done = true;
        let position = (self.index > 0).then_some(Position::Record(self.index));
        Some(Err(IngestError::new(&self.path, position, kind)))
    }
}

impl<R: BufRead> Iterator for OaiRecords<R> {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        while !self.done {
            let element = match self.stream.next_element(&[
                "record",
                "error",
                "resumptionToken",
                "responseDate",
            ]) {
                Ok(Some(element)) => element,
                Ok(None) => {
                    self.done = true;
                    return None;
                }
                Err(message) => return self.fatal(ErrorKind::Xml(message)),
            };
            match element.name.as_str() {
                "record" => {
                    self.index += 1;
                    let position = Position::Record(self.index);
                    match parse_record(&element) {
                        Ok(None) => continue,
                        Ok(Some(record)) => return Some(Ok(Positioned { record, position })),
                        Err(kind) => {
                            return Some(Err(IngestError::new(&self.path, Some(position), kind)));
                        }
                    }
                }
                "error" => {
                    let code = element.attribute("code").unwrap_or("unknown").to_owned();
                    if code == "noRecordsMatch" {
                        continue;
                    }
                    let message = normalize_whitespace(&element.text);
                    return self.fatal(ErrorKind::OaiError { code, message });
                }
                "responseDate" => {
                    // `2024-01-03T20:31:06Z`: the day is what `from` takes.
                    self.response_date = element
                        .text
                        .trim()
                        .get(..10)
                        .and_then(|day| day.parse().ok());
                }
                _ => {
                    let token = element.text.trim();
                    self.resumption_token = (!token.is_empty()).then(|| token.to_owned());
                    self.complete_list_size = element
                        .attribute("completeListSize")
                        .and_then(|size| size.parse().ok());
                }
            }
        }
        None
    }
}

/// A `<record>`: `None` for a deleted one.
fn parse_record(record: &Element) -> Result<Option<PaperRecord>, ErrorKind> {
    let header = record.child("header").ok_or(ErrorKind::Missing("header"))?;
    if header.attribute("status") == Some("deleted") {
        return Ok(None);
    }
    let metadata = record
        .child("metadata")
        .and_then(|m| m.children.first())
        .ok_or(ErrorKind::Missing("metadata"))?;
    let (id, metadata) = match metadata.name.as_str() {
        "arXiv" => parse_arxiv(metadata)?,
        "arXivRaw" => parse_arxiv_raw(metadata)?,
        other => {
            return Err(ErrorKind::Invalid(format!(
                "unsupported metadata format {other:?} (use arXiv or arXivRaw)"
            )));
        }
    };
    Ok(Some(PaperRecord {
        id: parse_bare_id(id)?,
        source: Source::OaiPmh,
        metadata,
        community: None,
    }))
}

/// Fields both metadata formats share, by the same element names.
fn common(element: &Element, authors: Vec<String>) -> Result<Metadata, ErrorKind> {
    let text = |name: &str| element.child_text(name);
    Ok(Metadata {
        title: require_title(normalize_whitespace(text("title").unwrap_or("")))?,
        abstract_text: normalize_whitespace(text("abstract").unwrap_or("")),
        authors,
        categories: parse_categories(text("categories").unwrap_or(""))?,
        doi: optional(text("doi")),
        journal_ref: optional(text("journal-ref")),
        comments: optional(text("comments")),
        report_no: optional(text("report-no")),
        license: optional(text("license")),
        submitter: optional(text("submitter")),
        ..Metadata::default()
    })
}

/// `arXiv` format: structured authors, `created`/`updated` days, no version list.
fn parse_arxiv(element: &Element) -> Result<(&str, Metadata), ErrorKind> {
    let id = element.child_text("id").ok_or(ErrorKind::Missing("id"))?;
    let authors = element
        .child("authors")
        .map(|authors| {
            authors
                .children_named("author")
                .map(|author| {
                    let part = |name| author.child_text(name).unwrap_or("");
                    join_name([part("forenames"), part("keyname"), part("suffix")])
                })
                .filter(|name| !name.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let mut metadata = common(element, authors)?;
    metadata.published = date_field(element, "created")?;
    metadata.updated = date_field(element, "updated")?;
    // `created` is the v1 submission day; later versions are not listed in this format.
    metadata.versions = metadata
        .published
        .map(|created| Version {
            number: 1,
            created: Some(created),
            size: None,
        })
        .into_iter()
        .collect();
    Ok((id, metadata))
}

/// `arXivRaw` format: authors as one string, and every version with its date and size.
fn parse_arxiv_raw(element: &Element) -> Result<(&str, Metadata), ErrorKind> {
    let id = element.child_text("id").ok_or(ErrorKind::Missing("id"))?;
    let authors = split_authors(element.child_text("authors").unwrap_or(""));
    let mut metadata = common(element, authors)?;
    for version in element.children_named("version") {
        let number = parse_version_number(version.attribute("version").unwrap_or(""))?;
        let date = version.child_text("date").unwrap_or("");
        metadata.versions.push(Version {
            number,
            created: Some(
                parse_rfc2822(date).ok_or_else(|| ErrorKind::InvalidDate(date.to_owned()))?,
            ),
            size: optional(version.child_text("size")),
        });
    }
    metadata.versions.sort_by_key(|v| v.number);
    (metadata.published, metadata.updated) = version_dates(&metadata.versions);
    Ok((id, metadata))
}

fn date_field(
    element: &Element,
    name: &str,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, ErrorKind> {
    match element
        .child_text(name)
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        None => Ok(None),
        Some(text) => parse_any_date(text)
            .map(Some)
            .ok_or_else(|| ErrorKind::InvalidDate(text.to_owned())),
    }
}
