//! The 66 real Hugging Face feed days (from `$PAPERS_SHARED`, default `../shared`
//! beside the repository) loaded into a store and read back through the API and the
//! day pages: same papers, same upvotes, highest first. Skipped with a message when the
//! shared data is absent (a failure under CI).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use papers_core::{ArxivId, Community, Metadata, PaperRecord, Source};
use papers_store::Store;
use serde_json::Value;

pub(crate) const DAYS: &str = "data/hf-daily-papers-api/2023-11-to-2024-04";

/// One file: its day, the `(id, upvotes)` it lists, and its records.
pub(crate) type Day = (NaiveDate, Vec<(String, u64)>, Vec<PaperRecord>);

pub(crate) fn read_days(dir: &Path) -> Vec<Day> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("the feed days' directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    let mut days = Vec::new();
    for file in files {
        let name = file.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        let Some(day) = name
            .strip_prefix("daily_papers_")
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        else {
            continue;
        };
        let items: Vec<Value> =
            serde_json::from_str(&std::fs::read_to_string(&file).expect("read")).expect("json");
        let mut expected = Vec::new();
        let mut records = Vec::new();
        for item in items {
            let paper = &item["paper"];
            let id = paper["id"].as_str().expect("id").to_owned();
            let upvotes = paper["upvotes"].as_u64().expect("upvotes");
            expected.push((id.clone(), upvotes));
            records.push(PaperRecord {
                id: ArxivId::parse(&id).expect("valid id"),
                source: Source::HuggingFace,
                metadata: Metadata {
                    title: paper["title"].as_str().unwrap_or("").to_owned(),
                    abstract_text: paper["summary"].as_str().unwrap_or("").to_owned(),
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
                    feed_day: Some(day),
                    upvotes: u32::try_from(upvotes).ok(),
                    num_comments: item["numComments"]
                        .as_u64()
                        .and_then(|n| u32::try_from(n).ok()),
                    ..Community::default()
                }),
            });
        }
        days.push((day, expected, records));
    }
    days
}

#[tokio::test]
async fn real_feed_days_round_trip() {
    let Some(shared) = papers_testkit::shared_dir(DAYS) else {
        return;
    };
    let days = read_days(&shared.join(DAYS));
    assert_eq!(days.len(), 66);
    let dir = tempfile::tempdir().expect("dir");
    {
        let mut store = Store::open(dir.path()).expect("store");
        let mut batch = store.begin_ingest(Utc::now()).expect("begin");
        for (_, _, records) in &days {
            for record in records {
                batch.upsert(record.clone()).expect("upsert");
            }
        }
        batch.commit().expect("commit");
    }
    let state =
        papers_web::AppState::open(papers_web::AppConfig::new(dir.path(), "http://papers.test"))
            .expect("state");
    let app = crate::common::TestApp {
        router: papers_web::router(state.clone()),
        state,
        dir,
        postgres: None,
    };
    for (day, expected, _) in &days {
        let reply = app
            .get(&format!("/api/daily_papers?date={day}&limit=100"))
            .await;
        assert_eq!(reply.status, StatusCode::OK);
        let items: Value = serde_json::from_str(&reply.body).expect("json");
        let got: BTreeSet<(String, u64)> = items
            .as_array()
            .expect("array")
            .iter()
            .map(|i| {
                (
                    i["paper"]["id"].as_str().expect("id").to_owned(),
                    i["paper"]["upvotes"].as_u64().expect("n"),
                )
            })
            .collect();
        // A paper listed on two days belongs to the first (merge rule), so a later
        // day may show fewer than its file.
        let wanted: BTreeSet<(String, u64)> = expected.iter().cloned().collect();
        assert!(
            got.is_subset(&wanted),
            "{day}: {got:?} not within {wanted:?}"
        );
        assert!(!got.is_empty() || wanted.is_empty(), "{day} is empty");

        let page = app.get(&format!("/papers/date/{day}")).await;
        assert_eq!(page.status, StatusCode::OK);
        let order: Vec<usize> = got
            .iter()
            .filter_map(|(id, _)| page.body.find(&format!("href=\"/papers/{id}\"")))
            .collect();
        assert_eq!(order.len(), got.len(), "{day}: every paper on the page");
        let mut by_votes: Vec<&(String, u64)> = got.iter().collect();
        by_votes.sort_by_key(|pair| std::cmp::Reverse(pair.1));
        let positions: Vec<usize> = by_votes
            .iter()
            .filter_map(|(id, _)| page.body.find(&format!("href=\"/papers/{id}\"")))
            .collect();
        let votes_in_page_order: Vec<u64> = {
            let mut pairs: Vec<(usize, u64)> = positions
                .iter()
                .zip(by_votes.iter())
                .map(|(p, (_, v))| (*p, *v))
                .collect();
            pairs.sort();
            pairs.into_iter().map(|(_, v)| v).collect()
        };
        assert!(
            votes_in_page_order.windows(2).all(|w| w[0] >= w[1]),
            "{day}: most upvoted first"
        );
    }
    let feed = app.get("/papers/feed.atom").await;
    assert_eq!(feed.status, StatusCode::OK);
}
