//! The store through its public API: merging, idempotence, atomic batches, feeds, stats.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use papers_core::{ArxivId, Category, Community, Metadata, PaperRecord, Source, Version};
use papers_store::on_both_engines;
use papers_store::testing::{Engine, TestDatabase};
use papers_store::{FeedPeriod, FeedQuery, FeedSort, Store, StoreError, UpsertOutcome};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 1, 10, 12, 0, 0)
        .single()
        .expect("valid time")
}

fn arxiv(id: &str, version: u32, title: &str) -> PaperRecord {
    PaperRecord {
        id: ArxivId::parse(id).expect("valid id"),
        source: Source::Kaggle,
        metadata: Metadata {
            title: title.into(),
            abstract_text: "We study things. Code: https://github.com/a/b".into(),
            authors: vec!["Ada Lovelace".into(), "Alan Turing".into()],
            categories: Category::parse_list("cs.IR cs.CL").expect("valid"),
            doi: Some("10.1/x".into()),
            published: Utc.with_ymd_and_hms(2024, 1, 1, 10, 0, 0).single(),
            versions: (1..=version)
                .map(|number| Version {
                    number,
                    created: Utc.with_ymd_and_hms(2024, 1, number, 10, 0, 0).single(),
                    size: Some("12kb".into()),
                })
                .collect(),
            ..Metadata::default()
        },
        community: None,
    }
}

fn hf(id: &str, day: u32, upvotes: u32) -> PaperRecord {
    PaperRecord {
        id: ArxivId::parse(id).expect("valid id"),
        source: Source::HuggingFace,
        metadata: Metadata {
            title: "From HF".into(),
            abstract_text: "Summary".into(),
            authors: vec!["A. Lovelace".into()],
            ..Metadata::default()
        },
        community: Some(Community {
            feed_day: NaiveDate::from_ymd_opt(2024, 1, day),
            upvotes: Some(upvotes),
            submitted_by: Some("akhaliq".into()),
            ..Community::default()
        }),
    }
}

fn ingest(store: &mut Store, records: Vec<PaperRecord>) -> Vec<UpsertOutcome> {
    let mut batch = store.begin_ingest(now()).expect("begin");
    let outcomes = records
        .into_iter()
        .map(|r| batch.upsert(r).expect("upsert"))
        .collect();
    batch.commit().expect("commit");
    outcomes
}

/// A fresh store on `engine`; `None` skips a PostgreSQL run outside CI.
fn open(engine: Engine) -> Option<(TestDatabase, Store)> {
    let database = TestDatabase::create(engine)?;
    let store = database.open();
    Some((database, store))
}

fn round_trips_a_paper_and_reingest_changes_nothing(engine: Engine) {
    let Some((_db, mut store)) = open(engine) else {
        return;
    };
    assert_eq!(
        ingest(&mut store, vec![arxiv("2401.00001", 2, "T")]),
        [UpsertOutcome::Inserted]
    );
    let last = store.last_change().expect("changes");
    assert_eq!(
        ingest(&mut store, vec![arxiv("2401.00001", 2, "T")]),
        [UpsertOutcome::Unchanged]
    );
    assert_eq!(
        store.last_change().expect("changes"),
        last,
        "no change logged"
    );

    let id = ArxivId::parse("2401.00001").expect("id");
    let stored = store.paper(&id).expect("read").expect("present");
    assert_eq!(
        stored.paper.metadata.authors,
        ["Ada Lovelace", "Alan Turing"]
    );
    assert_eq!(stored.paper.metadata.versions.len(), 2);
    assert_eq!(stored.paper.metadata.categories[0].as_str(), "cs.IR");
    assert_eq!(
        stored.links.github.as_deref(),
        Some("https://github.com/a/b")
    );
}

fn huggingface_community_merges_onto_the_arxiv_record(engine: Engine) {
    let Some((_db, mut store)) = open(engine) else {
        return;
    };
    ingest(&mut store, vec![arxiv("2401.00001", 1, "Real title")]);
    assert_eq!(
        ingest(&mut store, vec![hf("2401.00001", 3, 42)]),
        [UpsertOutcome::Updated]
    );
    let stored = store
        .paper(&ArxivId::parse("2401.00001").expect("id"))
        .expect("read")
        .expect("present");
    assert_eq!(stored.paper.metadata.title, "Real title");
    assert_eq!(stored.paper.metadata.doi.as_deref(), Some("10.1/x"));
    assert_eq!(stored.upvotes(), 42);
    assert_eq!(
        stored.paper.community.feed_day,
        NaiveDate::from_ymd_opt(2024, 1, 3)
    );
    let stats = store.stats().expect("stats");
    assert_eq!(stats.papers, 1);
    let sources: Vec<&str> = stats.by_source.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(sources, ["huggingface", "kaggle"]);
}

fn an_uncommitted_batch_leaves_no_trace(engine: Engine) {
    let Some((db, mut store)) = open(engine) else {
        return;
    };
    ingest(&mut store, vec![arxiv("2401.00001", 1, "Kept")]);
    {
        let mut batch = store.begin_ingest(now()).expect("begin");
        batch
            .upsert(arxiv("2401.00002", 1, "Dropped"))
            .expect("upsert");
        batch
            .upsert(arxiv("2401.00001", 3, "Changed"))
            .expect("upsert");
    }
    drop(store);
    let store = db.open();
    let stats = store.stats().expect("stats");
    assert_eq!((stats.papers, stats.versions), (1, 1));
    let kept = store
        .paper(&ArxivId::parse("2401.00001").expect("id"))
        .expect("read")
        .expect("present");
    assert_eq!(kept.paper.metadata.title, "Kept");
}

fn feeds_by_day_week_and_month_with_sorts_and_category_filter(engine: Engine) {
    let Some((_db, mut store)) = open(engine) else {
        return;
    };
    ingest(
        &mut store,
        vec![
            hf("2401.00001", 2, 5),
            hf("2401.00002", 2, 50),
            hf("2401.00003", 3, 20),
            hf("2401.00004", 9, 100),
            arxiv("2401.00003", 1, "Third"),
        ],
    );
    let query = |period, sort, category: Option<&str>| FeedQuery {
        period,
        sort,
        category: category.map(str::to_owned),
        submitter: None,
        organization: None,
        offset: 0,
        limit: 10,
    };
    let ids = |q: FeedQuery| -> Vec<String> {
        let (items, _) = store.feed(&q).expect("feed");
        items.iter().map(|i| i.paper.paper.id.to_string()).collect()
    };
    let day2 = FeedPeriod::Day(NaiveDate::from_ymd_opt(2024, 1, 2).expect("date"));
    assert_eq!(
        ids(query(day2, FeedSort::Upvotes, None)),
        ["2401.00002", "2401.00001"]
    );
    let week = FeedPeriod::containing_week(NaiveDate::from_ymd_opt(2024, 1, 2).expect("date"));
    assert_eq!(
        ids(query(week, FeedSort::Upvotes, None)),
        ["2401.00002", "2401.00003", "2401.00001"]
    );
    let month = FeedPeriod::Month {
        year: 2024,
        month: 1,
    };
    assert_eq!(
        ids(query(month, FeedSort::Upvotes, Some("cs.IR"))),
        ["2401.00003"]
    );
    // On the 10th, the fresh paper with 100 votes leads, and the 20-vote paper from
    // the 3rd overtakes nothing: trending is votes discounted by age.
    let trending = ids(query(month, FeedSort::Trending { now: now() }, None));
    assert_eq!(trending[0], "2401.00004");
    assert_eq!(
        store.latest_feed_day().expect("latest"),
        NaiveDate::from_ymd_opt(2024, 1, 9)
    );
    let (previous, next) = store
        .neighbouring_feed_days(NaiveDate::from_ymd_opt(2024, 1, 3).expect("date"))
        .expect("neighbours");
    assert_eq!(previous, NaiveDate::from_ymd_opt(2024, 1, 2));
    assert_eq!(next, NaiveDate::from_ymd_opt(2024, 1, 9));
}

fn change_log_lists_each_changed_paper_once(engine: Engine) {
    let Some((_db, mut store)) = open(engine) else {
        return;
    };
    ingest(
        &mut store,
        vec![arxiv("2401.00001", 1, "A"), arxiv("2401.00002", 1, "B")],
    );
    let mark = store.last_change().expect("mark");
    ingest(
        &mut store,
        vec![arxiv("2401.00002", 2, "B2"), hf("2401.00002", 2, 1)],
    );
    let (keys, last) = store.changed_since(mark).expect("changes");
    assert_eq!(keys.len(), 1);
    assert!(last > mark);
}

fn embeddings_are_stored_per_model_and_dropped_when_the_text_changes(engine: Engine) {
    let Some((_db, mut store)) = open(engine) else {
        return;
    };
    ingest(
        &mut store,
        vec![arxiv("2401.00001", 1, "A"), arxiv("2401.00002", 1, "B")],
    );
    assert_eq!(store.count_without_embedding("m").expect("count"), 2);
    let first = store
        .papers_without_embedding("m", i64::MIN, 1)
        .expect("missing");
    assert_eq!(first.len(), 1);
    let second = store
        .papers_without_embedding("m", first[0].key, 10)
        .expect("after the first");
    assert_eq!(second.len(), 1, "only the paper after the first");
    assert!(second[0].key > first[0].key);
    store
        .put_embeddings("m", &[(first[0].key, vec![0.6, 0.8])], now())
        .expect("put");
    assert_eq!(store.count_without_embedding("m").expect("count"), 1);
    // Among given keys: only those without a vector, lowest first, at most `limit`.
    let both = [first[0].key, second[0].key];
    let among = store
        .papers_without_embedding_among("m", &both, 10)
        .expect("among");
    assert_eq!(among, second);
    let among_other = store
        .papers_without_embedding_among("other", &both, 1)
        .expect("among, other model");
    assert_eq!(among_other, first, "limited to one, the lowest key");
    assert!(
        store
            .papers_without_embedding_among("m", &[], 10)
            .expect("no keys")
            .is_empty()
    );
    assert_eq!(store.count_without_embedding("other").expect("count"), 2);
    assert_eq!(store.count_embeddings("m").expect("count"), 1);
    assert_eq!(store.count_embeddings("other").expect("count"), 0);
    assert_eq!(
        store.embedding("m", first[0].key).expect("get"),
        Some(vec![0.6, 0.8])
    );
    let mut seen = Vec::new();
    store
        .for_each_embedding("m", |key, vector| seen.push((key, vector.to_vec())))
        .expect("scan");
    assert_eq!(seen, [(first[0].key, vec![0.6, 0.8])]);
    // Community-only changes keep the vector; a new title drops it.
    ingest(&mut store, vec![hf("2401.00001", 2, 3)]);
    assert_eq!(store.count_without_embedding("m").expect("count"), 1);
    ingest(&mut store, vec![arxiv("2401.00001", 2, "A, revised")]);
    assert_eq!(store.count_without_embedding("m").expect("count"), 2);
}

fn job_claims_are_exclusive_until_dropped(engine: Engine) {
    let Some((db, store)) = open(engine) else {
        return;
    };
    let other = db.open();
    let claim = store.try_claim_job("embedder").expect("claim");
    assert!(claim.is_some(), "a free job is claimed");
    assert!(
        other.try_claim_job("embedder").expect("claim").is_none(),
        "a held job is refused to another connection"
    );
    assert!(
        other
            .try_claim_job("digest-sender")
            .expect("claim")
            .is_some(),
        "other jobs are independent"
    );
    drop(claim);
    assert!(
        other.try_claim_job("embedder").expect("claim").is_some(),
        "a dropped claim frees the job"
    );
}

fn concurrent_writers_commit_change_numbers_in_order(engine: Engine) {
    let Some((db, store)) = open(engine) else {
        return;
    };
    // Several connections ingest at once while this one follows the change log the
    // way a node does; every paper must be seen, none skipped behind the watermark.
    let mut watermark = 0;
    let mut seen = std::collections::HashSet::new();
    std::thread::scope(|scope| {
        let writers: Vec<_> = (0..4)
            .map(|writer| {
                let db = &db;
                scope.spawn(move || {
                    let mut own = db.open();
                    for n in 0..10 {
                        let id = format!("2401.{:05}", writer * 100 + n + 1);
                        ingest(&mut own, vec![arxiv(&id, 1, "T")]);
                    }
                })
            })
            .collect();
        while writers.iter().any(|w| !w.is_finished()) {
            let (keys, last) = store.changed_since(watermark).expect("follow");
            seen.extend(keys);
            watermark = last;
        }
    });
    let (keys, _) = store.changed_since(watermark).expect("follow");
    seen.extend(keys);
    assert_eq!(seen.len(), 40);
    assert_eq!(store.stats().expect("stats").papers, 40);
}

/// Records that merge in every way: a paper named twice, community onto metadata,
/// Hugging Face metadata replaced by arXiv's, a new version changing the text, a
/// timestamp finer than the store keeps, and enough papers to need several
/// statements per table.
fn mixed_records() -> Vec<PaperRecord> {
    let mut fine = arxiv("2401.00004", 1, "Fine");
    fine.metadata.published = Utc
        .timestamp_opt(1_704_103_200, 500_000_000)
        .single()
        .map(|t| t.with_timezone(&Utc));
    let mut records = vec![
        hf("2401.00001", 2, 5),
        arxiv("2401.00001", 2, "A, revised"),
        arxiv("2401.00002", 1, "B"),
        arxiv("2401.00002", 1, "B"),
        hf("2401.00003", 4, 7),
        arxiv("2401.00003", 1, "C"),
        hf("2401.00003", 3, 9),
        fine.clone(),
        fine,
    ];
    for n in 0..1300 {
        let id = format!("2402.{:05}", n + 1);
        records.push(arxiv(&id, 1 + n % 3, &format!("Paper {n}")));
        if n % 7 == 0 {
            records.push(hf(&id, 1 + n % 28, n));
        }
    }
    records
}

/// Everything the store holds about `ids`, for comparing two stores.
fn snapshot(store: &Store, ids: &[ArxivId]) -> Vec<String> {
    ids.iter()
        .map(|id| {
            let paper = store.paper(id).expect("read").expect("present");
            let sources = store.sources_of(paper.key).expect("sources");
            format!("{paper:?} {sources:?}")
        })
        .collect()
}

fn a_bulk_upsert_equals_one_upsert_per_record(engine: Engine) {
    let (Some((_a, mut one_by_one)), Some((_b, mut bulk))) = (open(engine), open(engine)) else {
        return;
    };
    for store in [&mut one_by_one, &mut bulk] {
        ingest(store, vec![arxiv("2401.00001", 1, "A")]);
        let key = store
            .papers_without_embedding("m", i64::MIN, 1)
            .expect("missing")[0]
            .key;
        store
            .put_embeddings("m", &[(key, vec![1.0])], now())
            .expect("put");
    }
    let records = mixed_records();
    let expected = ingest(&mut one_by_one, records.clone());
    let mut batch = bulk.begin_ingest(now()).expect("begin");
    let outcomes = batch.upsert_all(records.clone()).expect("upsert_all");
    batch.commit().expect("commit");
    assert_eq!(outcomes, expected);
    assert_eq!(
        &outcomes[..9],
        [
            UpsertOutcome::Updated,
            UpsertOutcome::Updated,
            UpsertOutcome::Inserted,
            UpsertOutcome::Unchanged,
            UpsertOutcome::Inserted,
            UpsertOutcome::Updated,
            UpsertOutcome::Updated,
            UpsertOutcome::Inserted,
            // The same record again merges onto what the store gives back (to the
            // second) and changes nothing, as a separate upsert would.
            UpsertOutcome::Unchanged,
        ]
    );
    let mut ids: Vec<ArxivId> = records.iter().map(|r| r.id.clone()).collect();
    ids.dedup();
    assert_eq!(snapshot(&bulk, &ids), snapshot(&one_by_one, &ids));
    assert_eq!(
        bulk.stats().expect("stats"),
        one_by_one.stats().expect("stats")
    );
    // The new text dropped the vector in both.
    for store in [&one_by_one, &bulk] {
        assert_eq!(store.count_without_embedding("m").expect("count"), 1304);
    }
    let (changed, _) = bulk.changed_since(0).expect("changes");
    assert_eq!(changed.len(), 1304);
    // Re-ingesting answers as re-ingesting record by record does, and changes at
    // most the paper whose time is finer than a second.
    let expected_again = ingest(&mut one_by_one, records.clone());
    let mut batch = bulk.begin_ingest(now()).expect("begin");
    let again = batch.upsert_all(records).expect("again");
    batch.commit().expect("commit");
    assert_eq!(again, expected_again);
    let updated = again
        .iter()
        .filter(|o| **o == UpsertOutcome::Updated)
        .count();
    assert!(updated <= 2, "{again:?}");
    assert_eq!(snapshot(&bulk, &ids), snapshot(&one_by_one, &ids));
}

/// Reads run together give the answers they give apart, and an error inside leaves
/// the connection free for the next write.
fn reads_together_answer_as_apart(engine: Engine) {
    let Some((_database, mut store)) = open(engine) else {
        return;
    };
    ingest(&mut store, vec![arxiv("2401.00001", 2, "Together")]);
    let id = ArxivId::parse("2401.00001").expect("id");
    let apart = store.paper(&id).expect("read");
    let together = store
        .read_together(|store| store.paper(&id))
        .expect("read together");
    assert_eq!(together, apart);
    assert_eq!(together.expect("paper").paper.metadata.versions.len(), 2);

    let failed: Result<(), StoreError> = store.read_together(|store| {
        store.paper(&id)?;
        Err(StoreError::NoRow {
            sql: "a failing read".into(),
        })
    });
    assert!(matches!(failed, Err(StoreError::NoRow { .. })));
    ingest(&mut store, vec![arxiv("2401.00002", 1, "After")]);
    assert_eq!(store.paper_count().expect("count"), 2);

    // Nor does a panic inside (a pooled connection outlives it).
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _: Result<(), StoreError> = store.read_together(|store| {
            store.paper(&id)?;
            panic!("a bug in the reads");
        });
    }));
    assert!(panicked.is_err());
    ingest(&mut store, vec![arxiv("2401.00003", 1, "After a panic")]);
    assert_eq!(store.paper_count().expect("count"), 3);
}

/// On SQLite reads run together see one snapshot: another connection's write between
/// them shows in neither, and in the next read after.
#[test]
fn reads_together_on_sqlite_see_one_snapshot() {
    let Some((database, mut reader)) = open(Engine::Sqlite) else {
        panic!("SQLite is always there");
    };
    ingest(&mut reader, vec![arxiv("2401.00001", 1, "First")]);
    let mut writer = database.open();
    let (before, after) = reader
        .read_together(|store| {
            let before = store.paper_count()?;
            ingest(&mut writer, vec![arxiv("2401.00002", 1, "Second")]);
            Ok((before, store.paper_count()?))
        })
        .expect("read together");
    assert_eq!((before, after), (1, 1));
    assert_eq!(reader.paper_count().expect("count"), 2);
}

on_both_engines!(
    reads_together_answer_as_apart,
    a_bulk_upsert_equals_one_upsert_per_record,
    round_trips_a_paper_and_reingest_changes_nothing,
    huggingface_community_merges_onto_the_arxiv_record,
    an_uncommitted_batch_leaves_no_trace,
    feeds_by_day_week_and_month_with_sorts_and_category_filter,
    change_log_lists_each_changed_paper_once,
    embeddings_are_stored_per_model_and_dropped_when_the_text_changes,
    job_claims_are_exclusive_until_dropped,
    concurrent_writers_commit_change_numbers_in_order,
);
