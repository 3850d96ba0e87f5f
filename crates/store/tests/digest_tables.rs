//! What the digest sender keeps in the store: subscriptions through their whole life
//! (one row per address, changed only by its owner), the per-address mail slot, and
//! the exactly-once records of what was mailed.

use std::collections::HashSet;

use chrono::{DateTime, Duration, TimeZone, Utc};
use papers_store::testing::{Engine, TestDatabase};
use papers_store::{
    Frequency, NewSubscription, Preferences, SendState, Store, SubscriptionStatus, on_both_engines,
};

const MAIL_INTERVAL: Duration = Duration::minutes(10);

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
        link_nonce: "l1".to_owned(),
    };
    let id = store
        .request_subscription(&new, now(), MAIL_INTERVAL)
        .expect("insert")
        .subscription
        .id;
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
        token_nonce: format!("t-{nonce}"),
        link_nonce: format!("l-{nonce}"),
    }
}

fn one_row_per_address_through_confirm_unsubscribe_and_return(engine: Engine) {
    let Some(db) = TestDatabase::create(engine) else {
        return;
    };
    let mut store = db.open();
    let first = store
        .request_subscription(&new(Frequency::Daily, "1", None), now(), MAIL_INTERVAL)
        .expect("insert");
    assert!(first.started && first.may_mail);
    let first = first.subscription;
    assert_eq!(
        (
            first.status,
            first.token_nonce.as_str(),
            first.link_nonce.as_str()
        ),
        (SubscriptionStatus::Pending, "t-1", "l-1")
    );
    assert_eq!(first.queries, ["diffusion"]);
    assert!(
        store
            .confirm_subscription(first.id, now())
            .expect("confirm")
    );
    assert!(!store.confirm_subscription(first.id, now()).expect("twice"));

    assert!(
        store
            .unsubscribe_subscription(first.id, "t-3", now())
            .expect("unsubscribe")
    );
    assert!(
        !store
            .unsubscribe_subscription(first.id, "t-4", now())
            .expect("twice")
    );
    // The confirmation nonce is replaced, the link nonce kept: a repeated one-click
    // unsubscribe still verifies, an old confirmation link does not.
    let ended = store.subscription(first.id).expect("read").expect("row");
    assert_eq!(
        (ended.token_nonce.as_str(), ended.link_nonce.as_str()),
        ("t-3", "l-1")
    );
    assert!(
        store
            .confirmed_subscriptions(Frequency::Daily)
            .expect("read")
            .is_empty()
    );

    // Coming back is a new subscription: the request's preferences, pending, and
    // fresh nonces, so every link of the old one stops working.
    let later = now() + Duration::hours(1);
    let back = store
        .request_subscription(&new(Frequency::Weekly, "5", None), later, MAIL_INTERVAL)
        .expect("return");
    assert!(back.started && back.may_mail);
    let back = back.subscription;
    assert_eq!(
        (
            back.id,
            back.status,
            back.frequency,
            back.token_nonce.as_str(),
            back.link_nonce.as_str()
        ),
        (
            first.id,
            SubscriptionStatus::Pending,
            Frequency::Weekly,
            "t-5",
            "l-5"
        )
    );
}

/// The attack: a request naming a confirmed (or pending) address, with other
/// preferences and a member to link, changes nothing at all.
fn a_request_for_a_subscribed_address_changes_nothing(engine: Engine) {
    let Some(db) = TestDatabase::create(engine) else {
        return;
    };
    let mut store = db.open();
    let pending = store
        .request_subscription(&new(Frequency::Daily, "1", None), now(), MAIL_INTERVAL)
        .expect("insert")
        .subscription;
    let mut attack = new(Frequency::Weekly, "2", Some(66));
    attack.categories = vec!["hep-th".to_owned()];
    attack.queries = vec!["the attacker's text".to_owned()];
    let again = store
        .request_subscription(&attack, now(), MAIL_INTERVAL)
        .expect("request");
    assert!(!again.started);
    assert_eq!(
        again.subscription, pending,
        "a pending row is left as it was"
    );

    assert!(
        store
            .confirm_subscription(pending.id, now())
            .expect("confirm")
    );
    let confirmed = store.subscription(pending.id).expect("read").expect("row");
    let later = now() + Duration::hours(1);
    let attacked = store
        .request_subscription(&attack, later, MAIL_INTERVAL)
        .expect("request");
    assert!(!attacked.started);
    assert_eq!(attacked.subscription, confirmed, "a confirmed row too");
    assert_eq!(
        store.subscription_of_user(66).expect("read"),
        None,
        "and it is linked to nobody"
    );
}

fn one_mail_per_address_per_interval(engine: Engine) {
    let Some(db) = TestDatabase::create(engine) else {
        return;
    };
    let mut store = db.open();
    let request = new(Frequency::Daily, "1", None);
    let first = store
        .request_subscription(&request, now(), MAIL_INTERVAL)
        .expect("first");
    assert!(first.may_mail);
    let id = first.subscription.id;
    for seconds in [0, 1, 599] {
        let at = now() + Duration::seconds(seconds);
        let again = store
            .request_subscription(&request, at, MAIL_INTERVAL)
            .expect("again");
        assert!(!again.may_mail, "{seconds} s after the first mail");
    }
    // Ten minutes on, the slot is free again, and taken by the first who asks.
    let later = now() + MAIL_INTERVAL;
    assert!(
        store
            .request_subscription(&request, later, MAIL_INTERVAL)
            .expect("later")
            .may_mail
    );
    assert!(
        !store
            .request_subscription(&request, later, MAIL_INTERVAL)
            .expect("later again")
            .may_mail
    );
    // A mail that could not be sent gives the slot back; releasing an older claim
    // does not free a newer one.
    assert!(!store.release_subscription_mail(id, now()).expect("stale"));
    assert!(store.release_subscription_mail(id, later).expect("release"));
    assert!(
        store
            .request_subscription(&request, later, MAIL_INTERVAL)
            .expect("retry")
            .may_mail
    );
    // The slot lives in the store: another connection (another node) sees it.
    let mut other = db.open();
    assert!(
        !other
            .request_subscription(&request, later, MAIL_INTERVAL)
            .expect("other node")
            .may_mail
    );
}

fn the_owner_changes_the_subscription_directly(engine: Engine) {
    let Some(db) = TestDatabase::create(engine) else {
        return;
    };
    let mut store = db.open();
    let anonymous = store
        .request_subscription(&new(Frequency::Daily, "1", None), now(), MAIL_INTERVAL)
        .expect("insert")
        .subscription;
    let owned = store
        .set_owned_subscription(&new(Frequency::Weekly, "2", Some(4)), now())
        .expect("owner");
    assert_eq!(
        (
            owned.id,
            owned.status,
            owned.frequency,
            owned.user_id,
            owned.confirmed_at
        ),
        (
            anonymous.id,
            SubscriptionStatus::Confirmed,
            Frequency::Weekly,
            Some(4),
            Some(now())
        )
    );
    // The running subscription keeps its nonces: links already mailed keep working.
    assert_eq!(
        (owned.token_nonce.as_str(), owned.link_nonce.as_str()),
        ("t-1", "l-1")
    );
    assert_eq!(
        store.subscription_of_user(4).expect("read").map(|s| s.id),
        Some(owned.id)
    );
    // After an unsubscribe, the owner's return starts anew.
    assert!(
        store
            .unsubscribe_subscription(owned.id, "t-3", now())
            .expect("unsubscribe")
    );
    let back = store
        .set_owned_subscription(&new(Frequency::Daily, "4", Some(4)), now())
        .expect("back");
    assert_eq!(
        (
            back.status,
            back.token_nonce.as_str(),
            back.link_nonce.as_str()
        ),
        (SubscriptionStatus::Confirmed, "t-4", "l-4")
    );
}

fn preferences_change_only_while_subscribed(engine: Engine) {
    let Some((_db, store, id)) = store_with_subscription(engine) else {
        return;
    };
    let preferences = Preferences {
        frequency: Frequency::Weekly,
        categories: vec!["cs.IR".to_owned()],
        queries: vec!["dense retrieval".to_owned()],
    };
    assert!(
        store
            .update_subscription_preferences(id, &preferences)
            .expect("update")
    );
    let updated = store.subscription(id).expect("read").expect("row");
    assert_eq!(
        (
            updated.frequency,
            updated.categories.clone(),
            updated.queries.clone(),
            updated.status
        ),
        (
            Frequency::Weekly,
            preferences.categories.clone(),
            preferences.queries.clone(),
            SubscriptionStatus::Pending
        )
    );
    assert!(
        store
            .unsubscribe_subscription(id, "t-2", now())
            .expect("unsubscribe")
    );
    let daily = Preferences {
        frequency: Frequency::Daily,
        ..preferences
    };
    assert!(
        !store
            .update_subscription_preferences(id, &daily)
            .expect("ended")
    );
    assert_eq!(
        store.subscription(id).expect("read").map(|s| s.frequency),
        Some(Frequency::Weekly)
    );
}

on_both_engines!(
    a_claim_is_taken_once_sent_and_released_only_while_sending,
    sent_papers_accumulate_across_periods,
    one_row_per_address_through_confirm_unsubscribe_and_return,
    a_request_for_a_subscribed_address_changes_nothing,
    one_mail_per_address_per_interval,
    the_owner_changes_the_subscription_directly,
    preferences_change_only_while_subscribed,
);
