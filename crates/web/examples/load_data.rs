//! Loads the shared data into a data directory for the benchmarks, until the `papers`
//! binary's `ingest` is wired: the Kaggle-format arXiv archive (JSON lines, gzipped)
//! and Hugging Face daily-paper days (`daily_papers_YYYY-MM-DD.json`).
//!
//! `cargo run --release -p papers-web --example load_data -- DATA_DIR FILE_OR_DIR...`
//!
//! A deliberately small reader: the real parsers live in papers-ingest.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use papers_core::{ArxivId, Category, Community, Metadata, PaperRecord, Source, Version};
use papers_store::Store;
use serde_json::Value;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let data_dir = PathBuf::from(
        args.next()
            .ok_or("usage: load_data DATA_DIR FILE_OR_DIR...")?,
    );
    let mut store = Store::open(&data_dir)?;
    let mut records = Vec::new();
    for input in args {
        let path = PathBuf::from(input);
        if path.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(&path)?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "json"))
                .collect();
            files.sort();
            for file in files {
                records.extend(hugging_face_day(&file)?);
            }
        } else if path.to_string_lossy().ends_with(".jsonl.gz")
            || path.to_string_lossy().ends_with(".jsonl")
        {
            records.extend(kaggle(&path)?);
        } else {
            records.extend(hugging_face_day(&path)?);
        }
    }
    let total = records.len();
    let mut batch = store.begin_ingest(Utc::now())?;
    for record in records {
        batch.upsert(record)?;
    }
    batch.commit()?;
    store.checkpoint()?;
    eprintln!("loaded {total} records into {}", data_dir.display());
    Ok(())
}

fn kaggle(path: &Path) -> Result<Vec<PaperRecord>, Box<dyn std::error::Error>> {
    let file = std::fs::File::open(path)?;
    let reader: Box<dyn BufRead> = if path.to_string_lossy().ends_with(".gz") {
        Box::new(BufReader::new(flate2::read::GzDecoder::new(file)))
    } else {
        Box::new(BufReader::new(file))
    };
    let mut records = Vec::new();
    for line in reader.lines() {
        let value: Value = serde_json::from_str(&line?)?;
        let Some(id) = repaired_id(value["id"].as_str().unwrap_or("")) else {
            continue;
        };
        let published = value["versions"][0]["created"]
            .as_str()
            .and_then(|t| DateTime::parse_from_rfc2822(t).ok())
            .map(|t| t.with_timezone(&Utc));
        let authors = value["authors"]
            .as_str()
            .unwrap_or("")
            .replace(" and ", ", ")
            .split(", ")
            .map(|a| a.trim().to_owned())
            .filter(|a| !a.is_empty())
            .collect();
        records.push(PaperRecord {
            id,
            source: Source::Kaggle,
            metadata: Metadata {
                title: text(&value["title"]),
                abstract_text: text(&value["abstract"]).trim().to_owned(),
                authors,
                categories: Category::parse_list(value["categories"].as_str().unwrap_or(""))
                    .unwrap_or_default(),
                doi: value["doi"].as_str().map(str::to_owned),
                comments: value["comments"].as_str().map(str::to_owned),
                published,
                versions: vec![Version {
                    number: 1,
                    created: published,
                    size: None,
                }],
                ..Metadata::default()
            },
            community: None,
        });
    }
    Ok(records)
}

fn hugging_face_day(path: &Path) -> Result<Vec<PaperRecord>, Box<dyn std::error::Error>> {
    let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    let day = name
        .strip_prefix("daily_papers_")
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
    let items: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(path)?)?;
    let mut records = Vec::new();
    for item in items {
        let paper = &item["paper"];
        let Ok(id) = ArxivId::parse(paper["id"].as_str().unwrap_or("")) else {
            continue;
        };
        let feed_day = day.or_else(|| {
            item["publishedAt"]
                .as_str()
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.date_naive())
        });
        records.push(PaperRecord {
            id,
            source: Source::HuggingFace,
            metadata: Metadata {
                title: text(&paper["title"]),
                abstract_text: text(&paper["summary"]),
                authors: paper["authors"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|x| x["name"].as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default(),
                published: paper["publishedAt"]
                    .as_str()
                    .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                    .map(|t| t.with_timezone(&Utc)),
                ..Metadata::default()
            },
            community: Some(Community {
                feed_day,
                submitted_by: item["submittedBy"]["name"].as_str().map(str::to_owned),
                upvotes: paper["upvotes"].as_u64().map(|u| u as u32),
                num_comments: item["numComments"].as_u64().map(|u| u as u32),
                ..Community::default()
            }),
        });
    }
    Ok(records)
}

/// The archive's ids went through a spreadsheet: `0704.3500` became `704.35`. Leading
/// zeros of the month and trailing zeros of the number are put back.
fn repaired_id(raw: &str) -> Option<ArxivId> {
    if let Ok(id) = ArxivId::parse(raw) {
        return Some(id);
    }
    let (yymm, _) = raw.split_once('.')?;
    let yymm = format!("{yymm:0>4}");
    let width = if yymm.as_str() < "1501" { 4 } else { 5 };
    // Some also picked up binary floating-point noise (`1501.0403800000001`): round.
    let value: f64 = raw.parse().ok()?;
    let number = format!("{value:.width$}");
    let (_, number) = number.split_once('.')?;
    ArxivId::parse(&format!("{yymm}.{number}")).ok()
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or("").to_owned()
}
