//! Recognising an input's format from its content, and expanding directories of inputs.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::error::{ErrorKind, IngestError};
use crate::input::Input;

/// The input formats ingestion understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// arXiv OAI-PMH XML (`arXiv` or `arXivRaw` metadata).
    OaiPmh,
    /// An arXiv API (`/api/query`) Atom feed.
    ArxivAtom,
    /// Kaggle `arxiv-metadata-oai-snapshot` JSON lines, plain or gzipped.
    KaggleJsonl,
    /// arXiv `.abs` metadata files (one file, or a directory of them).
    Abs,
    /// A Hugging Face `/api/daily_papers` response (a JSON array).
    HfDailyPapers,
    /// A Hugging Face `/api/papers/{id}` response (one JSON object).
    HfPaper,
}

impl Format {
    pub const ALL: [Format; 6] = [
        Format::OaiPmh,
        Format::ArxivAtom,
        Format::KaggleJsonl,
        Format::Abs,
        Format::HfDailyPapers,
        Format::HfPaper,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::OaiPmh => "oai-pmh",
            Format::ArxivAtom => "arxiv-atom",
            Format::KaggleJsonl => "kaggle",
            Format::Abs => "abs",
            Format::HfDailyPapers => "hf-daily",
            Format::HfPaper => "hf-paper",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown format {0:?} (expected one of oai-pmh, arxiv-atom, kaggle, abs, hf-daily, hf-paper)"
)]
pub struct FormatParseError(pub String);

impl FromStr for Format {
    type Err = FormatParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| FormatParseError(s.to_owned()))
    }
}

/// How much of a file detection looks at: enough for a whole first JSON line (long
/// abstracts included), so keys are found in whatever order a writer put them.
const SNIFF_BYTES: u64 = 64 * 1024;

/// Detects the format of `path` from its content (after gunzip), never its name.
/// A directory is taken to hold `.abs` files.
pub fn detect_format(path: &Path) -> Result<Format, IngestError> {
    if path.is_dir() {
        return Ok(Format::Abs);
    }
    let head = Input::sniff(path, SNIFF_BYTES)?;
    sniff(&head).ok_or_else(|| {
        let shown: String = String::from_utf8_lossy(&head).chars().take(40).collect();
        IngestError::new(path, None, ErrorKind::UnknownFormat(shown))
    })
}

/// Classifies the first bytes of a decoded input.
pub(crate) fn sniff(head: &[u8]) -> Option<Format> {
    let text = String::from_utf8_lossy(head);
    let text = text.trim_start_matches('\u{feff}').trim_start();
    match text.chars().next()? {
        '<' => {
            if text.contains("<OAI-PMH") {
                Some(Format::OaiPmh)
            } else if text.contains("<feed") {
                Some(Format::ArxivAtom)
            } else {
                None
            }
        }
        '[' => Some(Format::HfDailyPapers),
        '{' => sniff_object(text),
        _ if text.starts_with("---") || text.starts_with("\\\\") || text.contains("\narXiv:") => {
            Some(Format::Abs)
        }
        _ => None,
    }
}

/// Kaggle lines carry `authors` as a string and keys HF never uses; an HF paper
/// object has an `authors` array.
fn sniff_object(text: &str) -> Option<Format> {
    let first_line = text.lines().next().unwrap_or_default();
    if let Ok(serde_json::Value::Object(object)) = serde_json::from_str(first_line) {
        let authors = object.get("authors");
        if object.contains_key("paper") || authors.is_some_and(serde_json::Value::is_array) {
            return Some(Format::HfPaper);
        }
        if authors.is_some_and(serde_json::Value::is_string)
            || ["submitter", "update_date", "versions", "authors_parsed"]
                .iter()
                .any(|key| object.contains_key(*key))
        {
            return Some(Format::KaggleJsonl);
        }
    }
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let kaggle_keys = [
        "\"submitter\":",
        "\"update_date\":",
        "\"versions\":",
        "\"authors_parsed\":",
    ];
    if compact.contains("\"authors\":\"") || kaggle_keys.iter().any(|k| compact.contains(k)) {
        Some(Format::KaggleJsonl)
    } else if compact.contains("\"authors\":[")
        || compact.contains("\"upvotes\":")
        || compact.contains("\"publishedAt\":")
        || compact.contains("\"paper\":{")
    {
        Some(Format::HfPaper)
    } else {
        None
    }
}

/// Expands directories into the files below them (recursively), sorted by path; plain
/// files are kept as given. Hidden files (`.DS_Store`, editor swap files) are skipped.
pub fn input_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, IngestError> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found = Vec::new();
            walk(path, &mut found)?;
            found.sort();
            files.extend(found);
        } else if path.exists() {
            files.push(path.clone());
        } else {
            let error = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
            return Err(IngestError::new(path, None, error));
        }
    }
    Ok(files)
}

fn walk(dir: &Path, found: &mut Vec<PathBuf>) -> Result<(), IngestError> {
    let entries = std::fs::read_dir(dir).map_err(|e| IngestError::new(dir, None, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| IngestError::new(dir, None, e))?;
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        if path.is_dir() {
            walk(&path, found)?;
        } else {
            found.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for format in Format::ALL {
            assert_eq!(format.as_str().parse::<Format>(), Ok(format));
        }
        assert!("csv".parse::<Format>().is_err());
    }

    #[test]
    fn sniffs_each_format() {
        let cases: [(&str, Option<Format>); 8] = [
            (
                "<?xml version=\"1.0\"?>\n<OAI-PMH xmlns=",
                Some(Format::OaiPmh),
            ),
            (
                "<?xml version='1.0'?>\n<feed xmlns=",
                Some(Format::ArxivAtom),
            ),
            (
                "{\"id\":\"0704.0001\",\"submitter\":null",
                Some(Format::KaggleJsonl),
            ),
            (
                "{\"id\": \"cmp-lg/9404002\", \"authors\": \"S\"",
                Some(Format::KaggleJsonl),
            ),
            (
                "[{\"paper\":{\"id\":\"2410.17243\"",
                Some(Format::HfDailyPapers),
            ),
            (
                "{\"id\":\"2410.17243\",\"authors\":[{",
                Some(Format::HfPaper),
            ),
            ("-----\n\\\\\narXiv:0704.0001\n", Some(Format::Abs)),
            ("PK\u{3}\u{4}", None),
        ];
        for (head, expected) in cases {
            assert_eq!(sniff(head.as_bytes()), expected, "{head:?}");
        }
    }
}
