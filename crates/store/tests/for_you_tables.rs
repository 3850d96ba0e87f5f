//! For you's tables on both engines (a member's private more / less signals and picked
//! categories, erased with the account), following a topic, and author names matched
//! ignoring case the same way on SQLite and PostgreSQL.

use chrono::{TimeZone, Utc};
use papers_core::{ArxivId, Metadata, PaperRecord, Source};
use papers_store::testing::{Engine, TestDatabase};
use papers_store::{FollowKind, Store, on_both_engines};

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 3, 1, 12, 0, 0)
        .single()
        .expect("time")
}

/// Three papers (authors with and without accents) and two members; `None` skips a
/// PostgreSQL run outside CI.
fn seeded(engine: Engine) -> Option<(TestDatabase, Store, [i64; 3], [i64; 2])> {
    let database = TestDatabase::create(engine)?;
    let mut store = database.open();
    let mut batch = store.begin_ingest(now()).expect("begin");
    for (id, authors) in [
        ("2401.00001", vec!["Ada Lovelace", "Émile Zoë"]),
        ("2401.00002", vec!["Grace Hopper"]),
        ("2401.00003", vec!["ada lovelace", "Émilie Zoë"]),
    ] {
        batch
            .upsert(PaperRecord {
                id: ArxivId::parse(id).expect("id"),
                source: Source::ArxivApi,
                metadata: Metadata {
                    title: format!("Paper {id}"),
                    authors: authors.into_iter().map(str::to_owned).collect(),
                    ..Metadata::default()
                },
                community: None,
            })
            .expect("upsert");
    }
    batch.commit().expect("commit");
    let key = |id: &str| {
        store
            .paper(&ArxivId::parse(id).expect("id"))
            .expect("read")
            .expect("paper")
            .key
    };
    let papers = [key("2401.00001"), key("2401.00002"), key("2401.00003")];
    let user = |name: &str| {
        store
            .create_user(name, &format!("{name}@example.org"), "hash", now())
            .expect("sql")
            .expect("created")
    };
    let members = [user("ann"), user("bob")];
    Some((database, store, papers, members))
}

on_both_engines!(
    feedback_is_private_and_replaced,
    picked_categories_are_replaced,
    a_topic_can_be_followed,
    author_names_match_ignoring_case_alike,
    deleting_an_account_erases_signals,
);

fn feedback_is_private_and_replaced(engine: Engine) {
    let Some((_db, store, [first, second, _], [ann, bob])) = seeded(engine) else {
        return;
    };
    store.set_feedback(ann, first, true, now()).expect("sql");
    store.set_feedback(ann, second, true, now()).expect("sql");
    store.set_feedback(ann, second, false, now()).expect("sql");
    let signals = store.feedback_of(ann).expect("sql");
    assert_eq!(signals.len(), 2);
    assert_eq!(signals.get(&first), Some(&true));
    assert_eq!(signals.get(&second), Some(&false), "the later signal wins");
    assert!(
        store.feedback_of(bob).expect("sql").is_empty(),
        "ann's only"
    );
    let exported = store.feedback_by(ann).expect("sql");
    assert_eq!(exported.len(), 2);
    assert!(
        exported
            .iter()
            .any(|(id, more, _)| id == "2401.00002" && !more)
    );
    assert!(!store.clear_feedback(bob, first).expect("sql"), "not bob's");
    assert!(store.clear_feedback(ann, first).expect("sql"));
    assert!(!store.clear_feedback(ann, first).expect("sql"));
    assert_eq!(store.feedback_of(ann).expect("sql").len(), 1);
}

fn picked_categories_are_replaced(engine: Engine) {
    let Some((_db, store, _, [ann, bob])) = seeded(engine) else {
        return;
    };
    assert!(store.picked_categories(ann).expect("sql").is_empty());
    let pick = |list: &[&str]| list.iter().map(|c| (*c).to_owned()).collect::<Vec<_>>();
    store
        .set_picked_categories(ann, &pick(&["cs.LG", "cs.CL", "cs.CL"]))
        .expect("sql");
    assert_eq!(
        store.picked_categories(ann).expect("sql"),
        ["cs.CL", "cs.LG"]
    );
    store
        .set_picked_categories(ann, &pick(&["math.PR"]))
        .expect("sql");
    assert_eq!(store.picked_categories(ann).expect("sql"), ["math.PR"]);
    assert!(store.picked_categories(bob).expect("sql").is_empty());
    store.set_picked_categories(ann, &[]).expect("sql");
    assert!(store.picked_categories(ann).expect("sql").is_empty());
}

fn a_topic_can_be_followed(engine: Engine) {
    let Some((_db, store, _, [ann, _])) = seeded(engine) else {
        return;
    };
    let (follow, new) = store
        .follow(ann, FollowKind::Topic, "17", now())
        .expect("the topic kind passes the table's check");
    assert!(new);
    assert_eq!(follow.kind, FollowKind::Topic);
    let follows = store.follows_of(ann).expect("sql");
    assert_eq!(follows.len(), 1);
    assert_eq!(
        (follows[0].kind, follows[0].value.as_str()),
        (FollowKind::Topic, "17")
    );
    assert!(
        store.followed_papers(ann, 10).expect("sql").is_empty(),
        "topics' papers come from the topic map, not the store"
    );
}

fn author_names_match_ignoring_case_alike(engine: Engine) {
    let Some((_db, store, [first, _, third], _)) = seeded(engine) else {
        return;
    };
    let keys = |name: &str| {
        let mut keys: Vec<i64> = store
            .papers_by_author(name, 10)
            .expect("sql")
            .iter()
            .map(|p| p.key)
            .collect();
        keys.sort_unstable();
        keys
    };
    let mut both = vec![first, third];
    both.sort_unstable();
    assert_eq!(keys("Ada Lovelace"), both);
    assert_eq!(keys("ADA LOVELACE"), both, "ASCII case");
    assert_eq!(keys("émile zoë"), vec![first], "non-ASCII case");
    assert_eq!(keys("ÉMILE ZOË"), vec![first]);
    assert!(keys("Emile Zoe").is_empty(), "accents are not case");
    assert!(keys("Ada").is_empty(), "whole names");
    assert!(keys("ada_lovelace").is_empty(), "wildcards are literal");
    assert_eq!(
        store
            .papers_by_author("ada lovelace", 1)
            .expect("sql")
            .len(),
        1
    );
}

fn deleting_an_account_erases_signals(engine: Engine) {
    let Some((_db, mut store, [first, _, _], [ann, bob])) = seeded(engine) else {
        return;
    };
    store.set_feedback(ann, first, false, now()).expect("sql");
    store.set_feedback(bob, first, true, now()).expect("sql");
    store
        .set_picked_categories(ann, &["cs.CL".to_owned()])
        .expect("sql");
    assert!(store.delete_account(ann, now()).expect("sql"));
    assert!(store.feedback_of(ann).expect("sql").is_empty());
    assert!(store.picked_categories(ann).expect("sql").is_empty());
    assert_eq!(store.feedback_of(bob).expect("sql").len(), 1, "bob's stays");
}
