//! Kaggle `arxiv-metadata-oai-snapshot` JSON lines (plain or gzipped), one paper a line.
//!
//! The full snapshot is several GB, so lines are read into one reused buffer and
//! deserialised into a struct that borrows from it; only the finished record allocates.
//! A bad line is reported with its line number and reading goes on with the next.

use std::borrow::Cow;
use std::io::BufRead;
use std::path::Path;

use papers_core::{Metadata, PaperRecord, Source, Version};
use serde::Deserialize;

use super::{
    Item, Positioned, parse_bare_id, parse_categories, parse_version_number, require_title,
    version_dates,
};
use crate::error::{ErrorKind, IngestError, Position};
use crate::input::{Input, Progress};
use crate::text::{
    join_name, normalize_whitespace, optional, parse_day, parse_rfc2822, split_authors,
};

/// A string borrowed from the line when it has no escapes. A newtype, because serde only
/// borrows a `Cow` that is a field in its own right, not one nested in `Option`/`Vec`.
#[derive(Deserialize)]
struct Text<'a>(#[serde(borrow)] Cow<'a, str>);

fn text<'a>(value: &'a Option<Text<'_>>) -> Option<&'a str> {
    value.as_ref().map(|t| t.0.as_ref())
}

#[derive(Deserialize)]
struct Line<'a> {
    #[serde(borrow)]
    id: Text<'a>,
    #[serde(borrow, default)]
    submitter: Option<Text<'a>>,
    #[serde(borrow, default)]
    authors: Option<Text<'a>>,
    /// Required (so a line without it names the field), yet `null` is read as absent
    /// and reported as a missing title.
    #[serde(borrow, deserialize_with = "nullable")]
    title: Option<Text<'a>>,
    #[serde(borrow, default)]
    comments: Option<Text<'a>>,
    #[serde(borrow, default, rename = "journal-ref")]
    journal_ref: Option<Text<'a>>,
    #[serde(borrow, default)]
    doi: Option<Text<'a>>,
    #[serde(borrow, default, rename = "report-no")]
    report_no: Option<Text<'a>>,
    #[serde(borrow, default)]
    categories: Option<Text<'a>>,
    #[serde(borrow, default)]
    license: Option<Text<'a>>,
    #[serde(borrow, default, rename = "abstract")]
    abstract_text: Option<Text<'a>>,
    #[serde(borrow, default)]
    versions: Option<Vec<LineVersion<'a>>>,
    #[serde(borrow, default)]
    update_date: Option<Text<'a>>,
    #[serde(borrow, default)]
    authors_parsed: Option<Vec<Vec<Text<'a>>>>,
}

fn nullable<'de: 'a, 'a, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Text<'a>>, D::Error> {
    Option::<Text<'a>>::deserialize(deserializer)
}

#[derive(Deserialize)]
struct LineVersion<'a> {
    #[serde(borrow)]
    version: Text<'a>,
    #[serde(borrow, default)]
    created: Option<Text<'a>>,
}

pub(crate) struct KaggleRecords {
    input: Input,
    line: Vec<u8>,
    line_number: u64,
    done: bool,
}

impl KaggleRecords {
    pub fn open(path: &Path, progress: &Progress) -> Result<Self, IngestError> {
        Ok(KaggleRecords {
            input: Input::open(path, progress)?,
            line: Vec::with_capacity(16 * 1024),
            line_number: 0,
            done: false,
        })
    }
}

impl Iterator for KaggleRecords {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        while !self.done {
            self.line.clear();
            match self.input.reader.read_until(b'\n', &mut self.line) {
                Ok(0) => self.done = true,
                Ok(_) => {
                    self.line_number += 1;
                    if self.line.iter().all(u8::is_ascii_whitespace) {
                        continue;
                    }
                    let position = Position::Line(self.line_number);
                    let line = self.line.trim_ascii_end();
                    return Some(
                        parse_line(line)
                            .map(|record| Positioned { record, position })
                            .map_err(|kind| {
                                IngestError::new(&self.input.path, Some(position), kind)
                            }),
                    );
                }
                Err(error) => {
                    self.done = true;
                    let position = Position::Line(self.line_number + 1);
                    return Some(Err(self.input.read_error(error, Some(position))));
                }
            }
        }
        None
    }
}

/// Parses one snapshot line.
pub fn parse_line(line: &[u8]) -> Result<PaperRecord, ErrorKind> {
    let line: Line<'_> = serde_json::from_slice(line)?;
    // `ArxivId` rejects a number of the wrong width for its month (`1903.1234`), which
    // is how a float column's lost zeros show; those get repaired, the rest reported.
    let id = match parse_bare_id(&line.id.0) {
        Ok(id) => id,
        Err(error) => repair_float_id(&line.id.0).ok_or(error)?,
    };
    let title = require_title(normalize_whitespace(text(&line.title).unwrap_or("")))?;
    let authors = match &line.authors_parsed {
        Some(parsed) if !parsed.is_empty() => parsed
            .iter()
            .map(|parts| {
                // Kaggle writes [last, first, suffix]; people read "First Last Suffix".
                let part = |i: usize| parts.get(i).map_or("", |t| t.0.as_ref());
                join_name([part(1), part(0), part(2)])
            })
            .filter(|name| !name.is_empty())
            .collect(),
        _ => split_authors(text(&line.authors).unwrap_or("")),
    };
    let mut versions = Vec::new();
    for version in line.versions.iter().flatten() {
        versions.push(Version {
            number: parse_version_number(&version.version.0)?,
            created: text(&version.created).and_then(parse_rfc2822),
            size: None,
        });
    }
    versions.sort_by_key(|v| v.number);
    let (published, last_version) = version_dates(&versions);
    let updated = text(&line.update_date).and_then(parse_day).or(last_version);
    let metadata = Metadata {
        title,
        abstract_text: normalize_whitespace(text(&line.abstract_text).unwrap_or("")),
        authors,
        categories: parse_categories(text(&line.categories).unwrap_or(""))?,
        doi: optional(text(&line.doi)),
        journal_ref: optional(text(&line.journal_ref)),
        comments: optional(text(&line.comments)),
        report_no: optional(text(&line.report_no)),
        license: optional(text(&line.license)),
        submitter: optional(text(&line.submitter)),
        published,
        updated,
        versions,
    };
    Ok(PaperRecord {
        id,
        source: Source::Kaggle,
        metadata,
        community: None,
    })
}

/// Repairs a new-style id that went through a spreadsheet or a float column on its
/// way into the file: `704.1353` (lost leading zero), `1001.227` (lost trailing zero),
/// `1501.0403800000001` (binary float noise). Such ids exist in real Kaggle-format
/// exports, e.g. 24,000 of the 76,803 lines of `arxiv-archive-2020.jsonl.gz`. The
/// number has 4 digits before 2015-01 and 5 since, which fixes where to round.
fn repair_float_id(raw: &str) -> Option<papers_core::ArxivId> {
    let (yymm, number) = raw.trim().split_once('.')?;
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !(all_digits(yymm) && all_digits(number)) || yymm.len() > 4 {
        return None;
    }
    let value: f64 = raw.trim().parse().ok()?;
    let digits = if yymm.parse::<u32>().ok()? >= 1501 {
        5
    } else {
        4
    };
    let repaired = format!("{value:0width$.digits$}", width = 5 + digits);
    // Rounding may only drop float noise; `1412.12345` is a wrong id, not `1412.1235`.
    let noise = (repaired.parse::<f64>().ok()? - value).abs();
    if noise > 1e-9 {
        return None;
    }
    papers_core::ArxivId::parse(&repaired).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_snapshot_line() {
        let line = br#"{"id":"0704.0001","submitter":"Pavel Nadolsky","authors":"C. Bal\\'azs, E. L. Berger","title":"Calculation of prompt\n  diphoton","comments":null,"journal-ref":"Phys.Rev.D76:013009,2007","doi":"10.1103/PhysRevD.76.013009","report-no":null,"categories":"hep-ph","license":null,"abstract":"  A fully\ndifferential calculation\n","versions":[{"version":"v1","created":"Mon, 2 Apr 2007 19:18:42 GMT"},{"version":"v2","created":"Tue, 24 Jul 2007 20:10:27 GMT"}],"update_date":"2008-11-26","authors_parsed":[["Bal\u00e1zs","C.",""],["Berger","E. L.",""]]}"#;
        let record = parse_line(line).expect("valid line");
        assert_eq!(record.id.as_str(), "0704.0001");
        assert_eq!(record.metadata.title, "Calculation of prompt diphoton");
        assert_eq!(
            record.metadata.abstract_text,
            "A fully differential calculation"
        );
        assert_eq!(record.metadata.authors, ["C. Balázs", "E. L. Berger"]);
        assert_eq!(record.metadata.latest_version(), 2);
        assert_eq!(
            record.metadata.published.map(|d| d.to_rfc3339()).as_deref(),
            Some("2007-04-02T19:18:42+00:00")
        );
        assert_eq!(
            record.metadata.updated.map(|d| d.to_rfc3339()).as_deref(),
            Some("2008-11-26T00:00:00+00:00")
        );
        assert_eq!(record.metadata.comments, None);
    }

    #[test]
    fn repairs_float_mangled_ids() {
        for (raw, fixed) in [
            ("704.1353", "0704.1353"),
            ("704.35", "0704.3500"),
            ("1001.227", "1001.2270"),
            ("808.1", "0808.1000"),
            ("1501.0403800000001", "1501.04038"),
            ("1501.0194099999999", "1501.01941"),
            ("1903.1", "1903.10000"),
            ("1903.1234", "1903.12340"),
        ] {
            assert_eq!(
                repair_float_id(raw).map(|id| id.to_string()).as_deref(),
                Some(fixed),
                "{raw}"
            );
        }
        assert_eq!(repair_float_id("hep-th/9901001"), None);
        assert_eq!(repair_float_id("1412.12345"), None);
        let line = br#"{"id":"1903.1234","title":"T"}"#;
        assert_eq!(
            parse_line(line).expect("repaired").id.as_str(),
            "1903.12340"
        );
        let line = br#"{"id":"1412.1234","title":"T"}"#;
        assert_eq!(parse_line(line).expect("valid").id.as_str(), "1412.1234");
        assert_eq!(repair_float_id("12345.1"), None);
    }

    #[test]
    fn bad_lines_say_why() {
        let missing =
            parse_line(br#"{"id":"0704.0001","abstract":"x"}"#).expect_err("error expected");
        assert_eq!(missing.to_string(), "missing field `title`");
        let bad_id = parse_line(br#"{"id":"xyz","title":"T"}"#).expect_err("error expected");
        assert_eq!(
            bad_id.to_string(),
            "invalid arXiv id \"xyz\": expected YYMM.NNNNN or archive/YYMMNNN"
        );
        let null_title =
            parse_line(br#"{"id":"0704.0001","title":null}"#).expect_err("error expected");
        assert_eq!(null_title.to_string(), "missing title");
        assert!(parse_line(b"{not json").is_err());
    }
}
