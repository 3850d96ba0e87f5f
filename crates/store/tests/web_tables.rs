//! What the web layer keeps in the store: members, sessions and votes (uniqueness,
//! expiry, exact counts under concurrent toggles from several connections) and the
//! listings it reads (keyset pages, community pages, day ranges, categories). One
//! binary beside `store.rs`, which belongs to the ingest side.

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use papers_core::{ArxivId, Category, Community, Metadata, PaperRecord, Source};
use papers_store::testing::{Engine, TestDatabase};
use papers_store::{ListingOwner, SignUpConflict, Store, on_both_engines};

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 3, 1, 12, 0, 0)
        .single()
        .expect("time")
}

/// A store on `engine` holding one paper; `None` skips a PostgreSQL run outside CI.
fn seeded(engine: Engine) -> Option<(TestDatabase, Store, i64)> {
    let database = TestDatabase::create(engine)?;
    let mut store = database.open();
    let mut batch = store.begin_ingest(now()).expect("begin");
    batch
        .upsert(PaperRecord {
            id: ArxivId::parse("2401.00001").expect("id"),
            source: Source::HuggingFace,
            metadata: Metadata {
                title: "T".into(),
                ..Metadata::default()
            },
            community: Some(Community {
                feed_day: NaiveDate::from_ymd_opt(2024, 1, 2),
                upvotes: Some(5),
                ..Community::default()
            }),
        })
        .expect("upsert");
    batch.commit().expect("commit");
    let key = store
        .paper(&ArxivId::parse("2401.00001").expect("id"))
        .expect("read")
        .expect("paper")
        .key;
    Some((database, store, key))
}

fn usernames_and_emails_are_unique_without_regard_to_case(engine: Engine) {
    let Some((_db, store, _)) = seeded(engine) else {
        return;
    };
    let id = store
        .create_user("Alice", "a@example.org", "hash", now())
        .expect("sql")
        .expect("created");
    assert_eq!(
        store
            .create_user("alice", "b@example.org", "h", now())
            .expect("sql"),
        Err(SignUpConflict::UsernameTaken)
    );
    assert_eq!(
        store
            .create_user("bob", "A@EXAMPLE.org", "h", now())
            .expect("sql"),
        Err(SignUpConflict::EmailTaken)
    );
    let user = store.user_by_name("ALICE").expect("sql").expect("found");
    assert_eq!((user.id, user.username.as_str()), (id, "Alice"));
}

fn sessions_expire_and_can_be_deleted(engine: Engine) {
    let Some((_db, store, _)) = seeded(engine) else {
        return;
    };
    let user = store
        .create_user("carol", "c@example.org", "h", now())
        .expect("sql")
        .expect("created");
    store
        .create_session("digest", user, "csrf", now(), now() + Duration::hours(1))
        .expect("session");
    let session = store.session("digest", now()).expect("sql").expect("live");
    assert_eq!(
        (session.username.as_str(), session.csrf_token.as_str()),
        ("carol", "csrf")
    );
    assert!(
        store
            .session("digest", now() + Duration::hours(2))
            .expect("sql")
            .is_none()
    );
    assert_eq!(
        store
            .purge_sessions(now() + Duration::hours(2))
            .expect("purge"),
        1
    );
    assert!(store.session("digest", now()).expect("sql").is_none());
}

fn votes_toggle_and_unknown_papers_are_refused(engine: Engine) {
    let Some((_db, mut store, key)) = seeded(engine) else {
        return;
    };
    let user = store
        .create_user("dan", "d@example.org", "h", now())
        .expect("sql")
        .expect("created");
    let first = store
        .toggle_vote(user, key, now())
        .expect("sql")
        .expect("paper");
    assert!(first.voted && first.member_upvotes == 1);
    assert!(store.voted_keys(user).expect("sql").contains(&key));
    let second = store
        .toggle_vote(user, key, now())
        .expect("sql")
        .expect("paper");
    assert!(!second.voted && second.member_upvotes == 0);
    assert!(
        store
            .toggle_vote(user, key + 100, now())
            .expect("sql")
            .is_none()
    );
}

fn concurrent_toggles_from_many_connections_keep_the_count_exact(engine: Engine) {
    let Some((db, store, key)) = seeded(engine) else {
        return;
    };
    let users: Vec<i64> = (0..8)
        .map(|n| {
            store
                .create_user(&format!("u{n}"), &format!("u{n}@example.org"), "h", now())
                .expect("sql")
                .expect("created")
        })
        .collect();
    std::thread::scope(|scope| {
        for user in &users {
            let db = &db;
            scope.spawn(move || {
                let mut own = db.open();
                // Five toggles each: an odd number, so every member ends up voting.
                for _ in 0..5 {
                    own.toggle_vote(*user, key, now())
                        .expect("toggle")
                        .expect("paper");
                }
            });
        }
    });
    let paper = store
        .paper(&ArxivId::parse("2401.00001").expect("id"))
        .expect("read")
        .expect("paper");
    assert_eq!(paper.member_upvotes, 8);
    assert_eq!(store.vote_rows(key).expect("rows"), 8);
    assert_eq!(paper.upvotes(), 13);
}

fn record(id: &str, day: u32, upvotes: u32, category: &str, submitter: &str) -> PaperRecord {
    PaperRecord {
        id: ArxivId::parse(id).expect("id"),
        source: Source::Kaggle,
        metadata: Metadata {
            title: id.into(),
            categories: Category::parse_list(category).expect("category"),
            ..Metadata::default()
        },
        community: Some(Community {
            feed_day: NaiveDate::from_ymd_opt(2024, 1, day),
            submitted_by: Some(submitter.into()),
            upvotes: Some(upvotes),
            ..Community::default()
        }),
    }
}

fn listings_page_filter_and_count(engine: Engine) {
    let Some(db) = TestDatabase::create(engine) else {
        return;
    };
    let mut store = db.open();
    let now = Utc
        .with_ymd_and_hms(2024, 2, 1, 0, 0, 0)
        .single()
        .expect("time");
    let mut batch = store.begin_ingest(now).expect("begin");
    for (n, (day, votes, category, who)) in [
        (2, 5, "cs.CL", "ann"),
        (2, 9, "cs.IR cs.CL", "bo"),
        (3, 1, "cs.CV", "ann"),
        (9, 4, "cs.CL", "ann"),
    ]
    .into_iter()
    .enumerate()
    {
        batch
            .upsert(record(&format!("2401.0000{n}"), day, votes, category, who))
            .expect("upsert");
    }
    batch.commit().expect("commit");

    let first = store.papers_after(0, 3).expect("page");
    let rest = store.papers_after(first[2].key, 3).expect("page");
    assert_eq!((first.len(), rest.len()), (3, 1));

    let (papers, total) = store
        .community_papers(&ListingOwner::Submitter("ann"), 0, 2)
        .expect("ann");
    assert_eq!(total, 3);
    assert_eq!(
        papers[0].paper.community.feed_day,
        NaiveDate::from_ymd_opt(2024, 1, 9),
        "newest feed day first"
    );

    let (start, end) = (
        NaiveDate::from_ymd_opt(2024, 1, 1).expect("d"),
        NaiveDate::from_ymd_opt(2024, 1, 8).expect("d"),
    );
    let range = store.feed_range(start, end, Some("cs.CL")).expect("range");
    let ids: Vec<&str> = range.iter().map(|p| p.paper.id.as_str()).collect();
    assert_eq!(
        ids,
        ["2401.00001", "2401.00000"],
        "most upvoted first, cross-lists count"
    );
    let categories = store.feed_categories(start, end).expect("categories");
    assert_eq!(categories[0], ("cs.CL".to_owned(), 2));
}

on_both_engines!(
    usernames_and_emails_are_unique_without_regard_to_case,
    sessions_expire_and_can_be_deleted,
    votes_toggle_and_unknown_papers_are_refused,
    concurrent_toggles_from_many_connections_keep_the_count_exact,
    listings_page_filter_and_count,
);
