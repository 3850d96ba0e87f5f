//! What the operators' tools keep and read: roles, personal access tokens (digests,
//! last use, revocation), and the health figures (footprint,
//! change-log lag, embedding backlog). On both engines.

use chrono::{Duration, TimeZone, Utc};
use papers_core::{ArxivId, Metadata, PaperRecord, Source};
use papers_store::testing::{Engine, TestDatabase};
use papers_store::{Role, Store, on_both_engines};

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 3, 1, 12, 0, 0)
        .single()
        .expect("time")
}

fn member(store: &Store, name: &str) -> i64 {
    store
        .create_user(name, &format!("{name}@example.org"), "hash", now())
        .expect("sql")
        .expect("created")
}

fn roles_are_granted_once_and_revoked(engine: Engine) {
    let Some(db) = TestDatabase::create(engine) else {
        return;
    };
    let store = db.open();
    let ann = member(&store, "ann");
    let bob = member(&store, "Bob");
    assert!(
        store
            .grant_role(ann, Role::Moderator, now())
            .expect("grant")
    );
    assert!(store.grant_role(ann, Role::Admin, now()).expect("grant"));
    assert!(
        !store.grant_role(ann, Role::Admin, now()).expect("grant"),
        "granting twice changes nothing"
    );
    assert_eq!(
        store.roles(ann).expect("roles"),
        [Role::Admin, Role::Moderator]
    );
    assert!(store.has_role(ann, Role::Admin).expect("sql"));
    assert!(!store.has_role(bob, Role::Admin).expect("sql"));

    assert!(store.revoke_role(ann, Role::Admin).expect("revoke"));
    assert!(!store.revoke_role(ann, Role::Admin).expect("revoke"));
    assert_eq!(store.roles(ann).expect("roles"), [Role::Moderator]);

    store
        .create_access_token(bob, "digest-b", "laptop", now())
        .expect("token");
    let members = store.members().expect("members");
    let summary: Vec<(&str, Vec<Role>, u64)> = members
        .iter()
        .map(|m| (m.username.as_str(), m.roles.clone(), m.tokens))
        .collect();
    assert_eq!(
        summary,
        [("ann", vec![Role::Moderator], 0), ("Bob", Vec::new(), 1)],
        "by name regardless of case"
    );
    assert_eq!(members[0].created, Some(now()));
    assert_eq!(Role::parse("admin"), Some(Role::Admin));
    assert_eq!(Role::parse("root"), None);
}

fn tokens_resolve_record_use_and_revoke(engine: Engine) {
    let Some(db) = TestDatabase::create(engine) else {
        return;
    };
    let store = db.open();
    let ann = member(&store, "ann");
    let bob = member(&store, "bob");
    let first = store
        .create_access_token(ann, "digest-1", "ci", now())
        .expect("token");
    let second = store
        .create_access_token(ann, "digest-2", "laptop", now())
        .expect("token");

    let owner = store
        .token_owner("digest-1", now())
        .expect("sql")
        .expect("known");
    assert_eq!(
        (owner.token_id, owner.user_id, owner.username.as_str()),
        (first, ann, "ann")
    );
    assert_eq!(store.token_owner("digest-9", now()).expect("sql"), None);

    // Use is recorded at most once a minute.
    store
        .token_owner("digest-1", now() + Duration::seconds(30))
        .expect("sql");
    let listed = store.access_tokens(ann).expect("list");
    assert_eq!(
        listed.iter().map(|t| t.label.as_str()).collect::<Vec<_>>(),
        ["laptop", "ci"],
        "newest first"
    );
    assert_eq!(listed[1].last_used, Some(now()));
    assert_eq!(listed[0].last_used, None);
    store
        .token_owner("digest-1", now() + Duration::seconds(90))
        .expect("sql");
    assert_eq!(
        store.access_tokens(ann).expect("list")[1].last_used,
        Some(now() + Duration::seconds(90))
    );

    assert!(
        !store.revoke_access_token(bob, first).expect("sql"),
        "another member's token is not theirs to revoke"
    );
    assert!(store.revoke_access_token(ann, first).expect("sql"));
    assert_eq!(store.token_owner("digest-1", now()).expect("sql"), None);
    assert!(!store.revoke_access_token(ann, first).expect("sql"));
    assert_eq!(store.access_tokens(ann).expect("list")[0].id, second);
}

fn health_counts_lag_and_backlog(engine: Engine) {
    let Some(db) = TestDatabase::create(engine) else {
        return;
    };
    let mut store = db.open();
    let empty = store.change_lag(0).expect("lag");
    assert_eq!(
        (empty.newest, empty.pending, empty.oldest_pending),
        (0, 0, None)
    );

    let mut batch = store.begin_ingest(now()).expect("begin");
    for n in 1..=3 {
        batch
            .upsert(PaperRecord {
                id: ArxivId::parse(&format!("2401.0000{n}")).expect("id"),
                source: Source::Kaggle,
                metadata: Metadata {
                    title: format!("Paper {n}"),
                    ..Metadata::default()
                },
                community: None,
            })
            .expect("upsert");
    }
    batch.commit().expect("commit");
    let lag = store.change_lag(0).expect("lag");
    assert_eq!((lag.pending, lag.oldest_pending), (3, Some(now())));
    assert_eq!(
        lag.delay(now() + Duration::seconds(75)),
        Duration::seconds(75)
    );
    let caught_up = store.change_lag(lag.newest).expect("lag");
    assert_eq!(
        (caught_up.pending, caught_up.delay(now())),
        (0, Duration::zero())
    );

    let first = store
        .paper(&ArxivId::parse("2401.00001").expect("id"))
        .expect("sql")
        .expect("paper");
    assert_eq!(store.embedding_backlog("m").expect("backlog"), 3);
    store
        .put_embeddings("m", &[(first.key, vec![1.0, 0.0])], now())
        .expect("vectors");
    assert_eq!(store.embedding_backlog("m").expect("backlog"), 2);
    assert_eq!(store.embedding_backlog("other").expect("backlog"), 3);

    let user = member(&store, "ann");
    store
        .create_access_token(user, "digest", "ci", now())
        .expect("token");
    let footprint = store.footprint().expect("footprint");
    assert_eq!(
        (
            footprint.papers,
            footprint.in_feed,
            footprint.embeddings,
            footprint.members,
            footprint.access_tokens,
            footprint.changes
        ),
        (3, 0, 1, 1, 1, 4)
    );
    assert!(footprint.bytes.is_some_and(|bytes| bytes > 0));
    assert_eq!(
        footprint.engine,
        match engine {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgres",
        }
    );
}

on_both_engines!(
    roles_are_granted_once_and_revoked,
    tokens_resolve_record_use_and_revoke,
    health_counts_lag_and_backlog,
);
