//! What the digest sender keeps in the store: subscriptions through their whole life
//! (one row per address) and the exactly-once records of what was mailed.

use std::collections::HashSet;

use chrono::{DateTime, TimeZone, Utc};
use papers_store::testing::{Engine, TestDatabase};
use papers_store::{
    Frequency, NewSubscription, SendState, Store, SubscriptionStatus, on_both_engines,
};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 1, 3, 12, 0, 0)
        .single()
        .expect("valid time")
}

/// A store on `engine` with one subscription; `None` skips PostgreSQL outside CI.
fn store_with_subscription(engine: Engine) -> Option<(TestDatabase, Store, i64)> {
    let database = TestDatabase::create(engine)?;
    let mut store = database.open();
    let new = NewSubscription {
        email: "alice@example.org".to_owned(),
        frequency: Frequency::Daily,
        categories: Vec::new(),
        queries: Vec::new(),
        user_id: None,
        token_nonce: "n1".to_owned(),
    };
    let id = store.upsert_subscription(&new, now()).expect("insert").id;
    Some((database, store, id))
}

fn a_claim_is_taken_once_sent_and_released_only_while_sending(engine: Engine) {
    let Some((_db, mut store, id)) = store_with_subscription(engine) else {
        return;
    };
    let key = "daily:2024-01-02";
    assert!(store.claim_digest_send(id, key, now()).expect("claim"));
    // A stopped run's claim is taken over.
    assert!(
        store
            .claim_digest_send(id, key, now())
            .expect("claim again")
    );
    assert!(matches!(
        store.digest_sends(key).expect("read").get(&id),
        Some(SendState::Sending { .. })
    ));
    store.release_digest_send(id, key).expect("release");
    assert!(store.digest_sends(key).expect("read").is_empty());

    assert!(store.claim_digest_send(id, key, now()).expect("claim"));
    store
        .record_digest_sent(id, key, "<m@x>", &[], now())
        .expect("record");
    assert_eq!(
        store.digest_sends(key).expect("read").get(&id),
        Some(&SendState::Sent)
    );
    assert!(
        !store
            .claim_digest_send(id, key, now())
            .expect("sent stays sent")
    );
    store.release_digest_send(id, key).expect("no-op");
    assert_eq!(
        store.digest_sends(key).expect("read").get(&id),
        Some(&SendState::Sent)
    );
}

fn sent_papers_accumulate_across_periods(engine: Engine) {
    let Some((_db, mut store, id)) = store_with_subscription(engine) else {
        return;
    };
    let mut batch = store.begin_ingest(now()).expect("batch");
    for id in ["2401.00001", "2401.00002"] {
        batch
            .upsert(papers_core::PaperRecord {
                id: papers_core::ArxivId::parse(id).expect("id"),
                source: papers_core::Source::Kaggle,
                metadata: papers_core::Metadata {
                    title: format!("Paper {id}"),
                    ..papers_core::Metadata::default()
                },
                community: None,
            })
            .expect("upsert");
    }
    batch.commit().expect("commit");
    store
        .record_digest_sent(id, "daily:2024-01-02", "<a@x>", &[1], now())
        .expect("first");
    store
        .record_digest_sent(id, "daily:2024-01-03", "<b@x>", &[1, 2], now())
        .expect("second");
    let keys = store.digest_paper_keys(id).expect("read");
    assert_eq!(keys, HashSet::from([1, 2]));
}

fn new(frequency: Frequency, nonce: &str, user_id: Option<i64>) -> NewSubscription {
    NewSubscription {
        email: "alice@example.org".to_owned(),
        frequency,
        categories: vec!["cs.CL".to_owned()],
        queries: vec!["diffusion".to_owned()],
        user_id,
        token_nonce: nonce.to_owned(),
    }
}

fn one_row_per_address_through_confirm_unsubscribe_and_return(engine: Engine) {
    let Some(db) = TestDatabase::create(engine) else {
        return;
    };
    let mut store = db.open();
    let first = store
        .upsert_subscription(&new(Frequency::Daily, "n1", Some(4)), now())
        .expect("insert");
    assert_eq!(
        (first.status, first.token_nonce.as_str()),
        (SubscriptionStatus::Pending, "n1")
    );
    assert_eq!(first.queries, ["diffusion"]);
    assert!(
        store
            .confirm_subscription(first.id, now())
            .expect("confirm")
    );
    assert!(!store.confirm_subscription(first.id, now()).expect("twice"));

    // A confirmed address keeps its status, nonce and member link.
    let updated = store
        .upsert_subscription(&new(Frequency::Weekly, "n2", None), now())
        .expect("update");
    assert_eq!(updated.id, first.id);
    assert_eq!(
        (
            updated.status,
            updated.frequency,
            updated.token_nonce.as_str(),
            updated.user_id
        ),
        (
            SubscriptionStatus::Confirmed,
            Frequency::Weekly,
            "n1",
            Some(4)
        )
    );

    assert!(
        store
            .unsubscribe_subscription(first.id, "n3", now())
            .expect("unsubscribe")
    );
    assert!(
        !store
            .unsubscribe_subscription(first.id, "n4", now())
            .expect("twice")
    );
    assert_eq!(
        store
            .subscription(first.id)
            .expect("read")
            .map(|s| s.token_nonce),
        Some("n3".to_owned())
    );
    assert!(
        store
            .confirmed_subscriptions(Frequency::Weekly)
            .expect("read")
            .is_empty()
    );

    // Coming back means confirming again, with a fresh nonce.
    let back = store
        .upsert_subscription(&new(Frequency::Daily, "n5", None), now())
        .expect("return");
    assert_eq!(
        (back.id, back.status, back.token_nonce.as_str()),
        (first.id, SubscriptionStatus::Pending, "n5")
    );
    assert_eq!(
        store.subscription_of_user(4).expect("read").map(|s| s.id),
        Some(first.id)
    );
}

on_both_engines!(
    a_claim_is_taken_once_sent_and_released_only_while_sending,
    sent_papers_accumulate_across_periods,
    one_row_per_address_through_confirm_unsubscribe_and_return,
);
