//! Merge rules: order independence, idempotence, and the two sides never erasing each other.

use chrono::{NaiveDate, TimeZone, Utc};

use super::*;

fn id() -> ArxivId {
    ArxivId::parse("2401.00368").expect("valid id")
}

fn version(number: u32, day: u32) -> Version {
    Version {
        number,
        created: Utc.with_ymd_and_hms(2024, 1, day, 0, 0, 0).single(),
        size: None,
    }
}

fn arxiv(versions: Vec<Version>, title: &str) -> PaperRecord {
    PaperRecord {
        id: id(),
        source: Source::Kaggle,
        metadata: Metadata {
            title: title.into(),
            abstract_text: "An abstract.".into(),
            authors: vec!["Liang Wang".into()],
            categories: Category::parse_list("cs.CL cs.IR").expect("valid"),
            doi: Some("10.1/x".into()),
            versions,
            ..Metadata::default()
        },
        community: None,
    }
}

fn hf(upvotes: u32, day: u32) -> PaperRecord {
    PaperRecord {
        id: id(),
        source: Source::HuggingFace,
        metadata: Metadata {
            title: "HF title".into(),
            abstract_text: "HF summary".into(),
            authors: vec!["L. Wang".into()],
            ..Metadata::default()
        },
        community: Some(Community {
            feed_day: NaiveDate::from_ymd_opt(2024, 1, day),
            upvotes: Some(upvotes),
            ..Community::default()
        }),
    }
}

fn merged(records: Vec<PaperRecord>) -> Paper {
    let mut iter = records.into_iter();
    let mut paper = Paper::from_record(iter.next().expect("one record"));
    for record in iter {
        paper.merge(record);
    }
    paper
}

#[test]
fn remerging_the_same_record_changes_nothing() {
    let mut paper = Paper::from_record(arxiv(vec![version(1, 2)], "T"));
    assert!(!paper.merge(arxiv(vec![version(1, 2)], "T")));
    assert!(paper.merge(hf(5, 3)));
    assert!(!paper.merge(hf(5, 3)));
}

#[test]
fn newer_version_replaces_metadata_and_keeps_the_version_list() {
    let paper = merged(vec![
        arxiv(vec![version(1, 2)], "Old"),
        arxiv(vec![version(2, 9)], "New"),
    ]);
    assert_eq!(paper.metadata.title, "New");
    let numbers: Vec<u32> = paper.metadata.versions.iter().map(|v| v.number).collect();
    assert_eq!(numbers, [1, 2]);
    let again = merged(vec![
        arxiv(vec![version(2, 9)], "New"),
        arxiv(vec![version(1, 2)], "Old"),
    ]);
    assert_eq!(again, paper, "order of arrival must not matter");
}

#[test]
fn huggingface_adds_community_without_erasing_arxiv_fields() {
    let one_way = merged(vec![arxiv(vec![version(1, 2)], "T"), hf(7, 3)]);
    let other_way = merged(vec![hf(7, 3), arxiv(vec![version(1, 2)], "T")]);
    for paper in [&one_way, &other_way] {
        assert_eq!(paper.metadata.title, "T");
        assert_eq!(paper.metadata.authors, ["Liang Wang"]);
        assert_eq!(paper.metadata.doi.as_deref(), Some("10.1/x"));
        assert_eq!(paper.community.upvotes, Some(7));
        assert_eq!(
            paper.community.feed_day,
            NaiveDate::from_ymd_opt(2024, 1, 3)
        );
        assert_eq!(paper.metadata_source, Source::Kaggle);
    }
    assert_eq!(one_way, other_way);
}

#[test]
fn counts_never_roll_back_and_the_first_feed_day_stays() {
    let paper = merged(vec![hf(9, 5), hf(4, 3)]);
    assert_eq!(paper.community.upvotes, Some(9));
    assert_eq!(
        paper.community.feed_day,
        NaiveDate::from_ymd_opt(2024, 1, 3)
    );
}
