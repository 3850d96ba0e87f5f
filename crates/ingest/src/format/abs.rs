//! arXiv `.abs` metadata files: a header of `Key: value` lines between `\\` separators,
//! then the abstract.
//!
//! ```text
//! \\
//! arXiv:0704.0002
//! From: Louis Theran <email>
//! Date: Sat, 31 Mar 2007 02:26:18 GMT   (377kb,D)
//! Date (revised v2): ...
//!
//! Title: Sparsity-certifying Graph Decompositions
//! Authors: Ileana Streinu and Louis Theran
//! Categories: math.CO cs.CG
//! \\
//!   We describe a new algorithm, ...
//! \\
//! ```
//!
//! Continuation lines are indented. Old files are Latin-1; newer ones UTF-8. Each file
//! is one record, so a bad file is reported and the next one is read.

use std::path::{Path, PathBuf};

use papers_core::{Category, Metadata, PaperRecord, Source, Version};

use super::{Item, Positioned, parse_bare_id, parse_categories, version_dates};
use crate::detect::input_files;
use crate::error::{ErrorKind, IngestError, Position};
use crate::input::Progress;
use crate::text::{
    decode_utf8_or_latin1, normalize_whitespace, optional, parse_rfc2822, split_authors,
};

/// The `.abs` files below `dir`, sorted; other files are ignored.
pub(crate) fn files_in(dir: &Path) -> Result<Vec<PathBuf>, IngestError> {
    let files = input_files(&[dir.to_owned()])?;
    Ok(files
        .into_iter()
        .filter(|f| f.extension().is_some_and(|e| e == "abs"))
        .collect())
}

pub(crate) struct AbsFiles {
    files: std::vec::IntoIter<PathBuf>,
    index: u64,
    progress: Progress,
}

impl AbsFiles {
    pub fn new(files: Vec<PathBuf>, progress: Progress) -> Self {
        AbsFiles {
            files: files.into_iter(),
            index: 0,
            progress,
        }
    }
}

impl Iterator for AbsFiles {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        let path = self.files.next()?;
        self.index += 1;
        let position = Position::Record(self.index);
        let result = std::fs::read(&path)
            .map_err(ErrorKind::Io)
            .and_then(|bytes| {
                self.progress.add(bytes.len() as u64);
                parse(&decode_utf8_or_latin1(&bytes))
            });
        Some(
            result
                .map(|record| Positioned { record, position })
                .map_err(|kind| IngestError::new(&path, Some(position), kind)),
        )
    }
}

/// The header fields, each with continuation lines joined.
#[derive(Default)]
struct Header<'a> {
    fields: Vec<(&'a str, String)>,
}

impl Header<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }
}

/// Parses the text of one `.abs` file.
pub fn parse(text: &str) -> Result<PaperRecord, ErrorKind> {
    if text.trim().is_empty() {
        return Err(ErrorKind::Empty);
    }
    // Sections are separated by lines holding only `\\`: [rule], header, abstract.
    let mut sections: Vec<Vec<&str>> = vec![Vec::new()];
    for line in text.lines() {
        if line.trim_end() == "\\\\" {
            sections.push(Vec::new());
        } else if let Some(section) = sections.last_mut() {
            section.push(line);
        }
    }
    let header_lines = sections
        .get(1)
        .ok_or_else(|| ErrorKind::Invalid("no `\\\\` header separator".into()))?;
    let header = parse_header(header_lines);
    let abstract_text = sections
        .get(2)
        .map(|lines| lines.join("\n"))
        .unwrap_or_default();

    let raw_id = header
        .get("arXiv")
        .or_else(|| header.get("Paper"))
        .ok_or(ErrorKind::Missing("arXiv id"))?;
    let id = parse_bare_id(raw_id)?;
    let title = normalize_whitespace(header.get("Title").unwrap_or(""));
    if title.is_empty() {
        return Err(ErrorKind::Missing("title"));
    }
    let versions = parse_versions(&header)?;
    let (published, updated) = version_dates(&versions);
    let categories = match header.get("Categories") {
        Some(list) => parse_categories(list)?,
        // A few old files lack the line; their archive is in the id itself.
        None => id
            .as_str()
            .split_once('/')
            .and_then(|(archive, _)| Category::parse(archive).ok())
            .into_iter()
            .collect(),
    };
    let metadata = Metadata {
        title,
        abstract_text: normalize_whitespace(&abstract_text),
        authors: split_authors(header.get("Authors").unwrap_or("")),
        categories,
        doi: optional(header.get("DOI")),
        journal_ref: optional(header.get("Journal-ref")),
        comments: optional(header.get("Comments")),
        report_no: optional(header.get("Report-no")),
        license: optional(header.get("License")),
        submitter: header
            .get("From")
            .and_then(|from| optional(Some(strip_email(from)))),
        published,
        updated,
        versions,
    };
    Ok(PaperRecord {
        id,
        source: Source::AbsFile,
        metadata,
        community: None,
    })
}

fn parse_header<'a>(lines: &[&'a str]) -> Header<'a> {
    let mut header = Header::default();
    for line in lines {
        if line.trim().is_empty() {
            continue;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = header.fields.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
        } else if let Some((key, value)) = line.split_once(':') {
            header.fields.push((key.trim(), value.trim().to_owned()));
        }
    }
    header
}

/// `Date: Tue, 1 Nov 1994 18:57:48 GMT   (199kb)` is v1; `Date (revised v2): …` v2.
fn parse_versions(header: &Header<'_>) -> Result<Vec<Version>, ErrorKind> {
    let mut versions = Vec::new();
    for (key, value) in &header.fields {
        let number = if key.eq_ignore_ascii_case("Date") {
            1
        } else if let Some(revised) = key
            .strip_prefix("Date (revised ")
            .and_then(|k| k.strip_suffix(')'))
        {
            super::parse_version_number(revised)?
        } else {
            continue;
        };
        let (date, size) = match value.rsplit_once('(') {
            Some((date, size)) => (date, size.trim_end_matches(')').split(',').next()),
            None => (value.as_str(), None),
        };
        versions.push(Version {
            number,
            created: Some(
                parse_rfc2822(date)
                    .ok_or_else(|| ErrorKind::InvalidDate(date.trim().to_owned()))?,
            ),
            size: size.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()),
        });
    }
    versions.sort_by_key(|v| v.number);
    Ok(versions)
}

/// `Salman Habib <user@example.org>` → `Salman Habib`; the address is not ours to keep.
fn strip_email(from: &str) -> &str {
    from.split_once('<').map_or(from, |(name, _)| name).trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "------------------------------------------------------------------------------\n\\\\\narXiv:1607.08199\nFrom: Benjamin Schmidt <latin-1@example.org>\nDate: Wed, 27 Jul 2016 17:52:31 GMT   (39kb,D)\nDate (revised v2): Thu, 18 Aug 2016 16:20:16 GMT   (41kb,D)\n\nTitle: Bridgeland Stability Conditions on\n  Fano Threefolds\nAuthors: Marcello Bernardara, Emanuele Macr\\`i, Benjamin Schmidt, Xiaolei Zhao\nCategories: math.AG\nJournal-ref: \u{c9}pijournal de G\u{e9}om\u{e9}trie\n  Alg\u{e9}brique\n\\\\\n  We show the existence\nof conditions.\n\\\\\n";

    #[test]
    fn parses_header_versions_and_abstract() {
        let record = parse(SAMPLE).expect("valid file");
        let metadata = &record.metadata;
        assert_eq!(record.id.as_str(), "1607.08199");
        assert_eq!(
            metadata.title,
            "Bridgeland Stability Conditions on Fano Threefolds"
        );
        assert_eq!(metadata.authors.len(), 4);
        assert_eq!(
            metadata.abstract_text,
            "We show the existence of conditions."
        );
        assert_eq!(metadata.submitter.as_deref(), Some("Benjamin Schmidt"));
        assert_eq!(
            metadata.journal_ref.as_deref(),
            Some("Épijournal de Géométrie Algébrique")
        );
        assert_eq!(metadata.versions.len(), 2);
        assert_eq!(metadata.versions[1].size.as_deref(), Some("41kb"));
        assert_eq!(
            metadata.updated.map(|d| d.to_rfc3339()).as_deref(),
            Some("2016-08-18T16:20:16+00:00")
        );
    }

    #[test]
    fn latin1_bytes_decode() {
        let bytes: Vec<u8> = SAMPLE.chars().map(|c| c as u32 as u8).collect();
        let record = parse(&decode_utf8_or_latin1(&bytes)).expect("valid latin-1 file");
        assert_eq!(
            record.metadata.journal_ref.as_deref(),
            Some("Épijournal de Géométrie Algébrique")
        );
    }

    #[test]
    fn empty_and_headless_files_are_errors() {
        assert_eq!(
            parse("").expect_err("error expected").to_string(),
            "empty file"
        );
        assert!(parse("Title: x\n").is_err());
        assert_eq!(
            parse("\\\\\narXiv:0704.0001\nDate: Mon, 2 Apr 2007 19:18:42 GMT\n\\\\\nx\n")
                .expect_err("error expected")
                .to_string(),
            "missing title"
        );
    }
}
