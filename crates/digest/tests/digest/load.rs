//! Minimal readers for the shared data sets (Hugging Face daily-papers JSON and the
//! Kaggle arXiv JSON lines), so the tests and the bench can fill a store before the
//! ingest crate is merged, and a stand-in embedding: feature-hashed words, which puts
//! papers sharing vocabulary close together like a sentence model would.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use papers_core::{ArxivId, Category, Community, Metadata, PaperRecord, Source, Version};
use serde_json::Value;

pub const HF_DIR: &str = "data/hf-daily-papers-api/2023-11-to-2024-04";
pub const KAGGLE_FILE: &str = "data/arxiv-kaggle-format/arxiv-archive-2020.jsonl.gz";
pub const DIMENSION: usize = 384;

/// A path inside the shared data folder (`papers_testkit::shared_root`: `$PAPERS_SHARED`,
/// else `shared/` beside the repository). Tests check it with `papers_testkit::shared_dir`
/// first.
pub fn shared(relative: &str) -> PathBuf {
    papers_testkit::shared_root().join(relative)
}

fn text(value: &Value, key: &str) -> Option<String> {
    value.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// The records of one `daily_papers_YYYY-MM-DD.json` file.
pub fn hf_day(path: &Path) -> Vec<PaperRecord> {
    let bytes = std::fs::read(path).expect("readable HF day file");
    let items: Vec<Value> = serde_json::from_slice(&bytes).expect("HF day JSON");
    items
        .iter()
        .filter_map(|item| {
            let paper = item.get("paper")?;
            let id = ArxivId::parse(paper.get("id")?.as_str()?).ok()?;
            let feed_day = text(item, "publishedAt")
                .and_then(|t| NaiveDate::parse_from_str(t.get(..10)?, "%Y-%m-%d").ok());
            let published = text(paper, "publishedAt")
                .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
                .map(|t| t.with_timezone(&Utc));
            let authors = paper
                .get("authors")
                .and_then(Value::as_array)
                .map(|list| list.iter().filter_map(|a| text(a, "name")).collect())
                .unwrap_or_default();
            Some(PaperRecord {
                id,
                source: Source::HuggingFace,
                metadata: Metadata {
                    title: text(item, "title").or_else(|| text(paper, "title"))?,
                    abstract_text: text(paper, "summary").unwrap_or_default(),
                    authors,
                    published,
                    ..Metadata::default()
                },
                community: Some(Community {
                    feed_day,
                    upvotes: paper
                        .get("upvotes")
                        .and_then(Value::as_u64)
                        .map(|u| u as u32),
                    submitted_by: item.get("submittedBy").and_then(|s| text(s, "name")),
                    ..Community::default()
                }),
            })
        })
        .collect()
}

/// HF day files whose date is in `[from, to)`, in date order.
pub fn hf_days(from: &str, to: &str) -> Vec<PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(shared(HF_DIR))
        .expect("HF data directory")
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            let day = name
                .trim_start_matches("daily_papers_")
                .trim_end_matches(".json");
            name.ends_with(".json") && day >= from && day < to
        })
        .collect();
    files.sort();
    files
}

/// Calls `visit` with each record of the Kaggle JSON lines file.
pub fn kaggle(path: &Path, mut visit: impl FnMut(PaperRecord)) {
    let file = std::fs::File::open(path).expect("Kaggle file");
    let reader = std::io::BufReader::new(flate2::read::GzDecoder::new(file));
    for line in reader.lines() {
        let line = line.expect("readable line");
        let Ok(value) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        let Some(id) = text(&value, "id").and_then(|id| ArxivId::parse(&repair_id(&id)).ok())
        else {
            continue;
        };
        let versions: Vec<Version> = value
            .get("versions")
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .enumerate()
                    .map(|(index, v)| Version {
                        number: index as u32 + 1,
                        created: text(v, "created")
                            .and_then(|t| DateTime::parse_from_rfc2822(&t).ok())
                            .map(|t| t.with_timezone(&Utc)),
                        size: None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let authors = text(&value, "authors")
            .map(|a| {
                a.replace(" and ", ", ")
                    .split(", ")
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        visit(PaperRecord {
            id,
            source: Source::Kaggle,
            metadata: Metadata {
                title: text(&value, "title").unwrap_or_default(),
                abstract_text: text(&value, "abstract")
                    .unwrap_or_default()
                    .trim()
                    .to_owned(),
                authors,
                categories: text(&value, "categories")
                    .and_then(|c| Category::parse_list(&c).ok())
                    .unwrap_or_default(),
                published: versions.first().and_then(|v| v.created),
                updated: versions.last().and_then(|v| v.created),
                versions,
                ..Metadata::default()
            },
            community: None,
        });
    }
}

/// The Kaggle export wrote some new-style ids through a float: `704.1353` for
/// `0704.1353`, `1001.227` for `1001.2270`, `1501.0403800000001` for `1501.04038`.
fn repair_id(raw: &str) -> String {
    let Some((left, _)) = raw.split_once('.') else {
        return raw.to_owned();
    };
    if raw.contains('/') {
        return raw.to_owned();
    }
    let year_month = format!("{left:0>4}");
    let digits = if year_month.as_str() >= "1501" { 5 } else { 4 };
    let Ok(value) = raw.parse::<f64>() else {
        return raw.to_owned();
    };
    let formatted = format!("{value:.digits$}");
    let fraction = formatted.split_once('.').map_or("", |(_, f)| f);
    format!("{year_month}.{fraction}")
}

/// Feature-hashed bag of words, unit length.
pub fn hashed_embedding(text: &str) -> Vec<f32> {
    let mut vector = vec![0.0f32; DIMENSION];
    for word in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() > 3)
        .map(str::to_lowercase)
    {
        let mut hash = 0xcbf2_9ce4_8422_2325u64;
        for byte in word.bytes() {
            hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
        let sign = if hash >> 63 == 0 { 1.0 } else { -1.0 };
        vector[(hash % DIMENSION as u64) as usize] += sign;
    }
    let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        vector.iter_mut().for_each(|x| *x /= norm);
    }
    vector
}
