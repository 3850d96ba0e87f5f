//! What members do to their own accounts, in the store, on both engines: mailed links
//! that work once, for one purpose, until they expire; verification that counts only
//! for the address it was mailed to; resets and password changes that end sessions;
//! sessions listed and ended by their owner only; deletion that forgets the member and
//! keeps the counts; and the database files readable by their owner only.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use papers_core::{ArxivId, Community, Metadata, PaperRecord, Source};
use papers_store::testing::{Engine, TestDatabase};
use papers_store::{
    DELETED_MEMBER, EmailChangeRefused, Frequency, NewAccountToken, NewSession, NewSubscription,
    Store, SubscriptionStatus, TokenPurpose, on_both_engines,
};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 3, 1, 12, 0, 0)
        .single()
        .expect("time")
}

/// A store holding one paper submitted through the site by `ada`, and the account
/// `ada` (unverified); `None` skips a PostgreSQL run outside CI.
fn seeded(engine: Engine) -> Option<(TestDatabase, Store, i64, i64)> {
    let database = TestDatabase::create(engine)?;
    let mut store = database.open();
    let mut batch = store.begin_ingest(now()).expect("begin");
    batch
        .upsert(PaperRecord {
            id: ArxivId::parse("2401.00001").expect("id"),
            source: Source::Submitted,
            metadata: Metadata {
                title: "Submitted by Ada".into(),
                ..Metadata::default()
            },
            community: Some(Community {
                feed_day: NaiveDate::from_ymd_opt(2024, 1, 2),
                submitted_by: Some("ada".into()),
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
    let user = store
        .create_user("ada", "ada@example.org", "hash-1", now())
        .expect("sql")
        .expect("created");
    Some((database, store, key, user))
}

fn token<'a>(
    hash: &'a str,
    user_id: i64,
    purpose: TokenPurpose,
    email: &'a str,
) -> NewAccountToken<'a> {
    NewAccountToken {
        token_hash: hash,
        user_id,
        purpose,
        email,
        now: now(),
        expires: now() + Duration::hours(1),
    }
}

fn session(store: &Store, hash: &str, user_id: i64) {
    store
        .open_session(&NewSession {
            token_hash: hash,
            user_id,
            csrf_token: "csrf",
            now: now(),
            expires: now() + Duration::days(30),
            user_agent: Some("Firefox"),
            ip: Some("198.51.100.4"),
        })
        .expect("session");
}

fn verification_links_work_once_for_their_purpose_and_address(engine: Engine) {
    let Some((_db, mut store, _, ada)) = seeded(engine) else {
        return;
    };
    let user = store.user_by_id(ada).expect("sql").expect("user");
    assert!(!user.is_verified());
    // A reset token never verifies, and a verification token never resets.
    let reset = token(
        "reset-1",
        ada,
        TokenPurpose::ResetPassword,
        "ada@example.org",
    );
    store.issue_account_token(&reset).expect("issue");
    assert_eq!(store.verify_email("reset-1", now()).expect("sql"), None);
    let verify = token(
        "verify-1",
        ada,
        TokenPurpose::VerifyEmail,
        "ada@example.org",
    );
    store.issue_account_token(&verify).expect("issue");
    assert_eq!(
        store
            .reset_password("verify-1", "evil", now())
            .expect("sql"),
        None
    );
    // Used for the wrong purpose, it is untouched (and still only a verification).
    assert!(
        store
            .account_token("verify-1", TokenPurpose::VerifyEmail, now())
            .expect("sql")
            .is_some()
    );

    // A newer link replaces the older one; an expired one does nothing.
    store
        .issue_account_token(&token(
            "verify-2",
            ada,
            TokenPurpose::VerifyEmail,
            "ada@example.org",
        ))
        .expect("issue");
    store
        .issue_account_token(&token(
            "verify-3",
            ada,
            TokenPurpose::VerifyEmail,
            "ada@example.org",
        ))
        .expect("issue");
    assert_eq!(store.verify_email("verify-1", now()).expect("sql"), None);
    assert_eq!(store.verify_email("verify-2", now()).expect("sql"), None);
    let late = now() + Duration::hours(2);
    assert_eq!(
        store
            .account_token("verify-3", TokenPurpose::VerifyEmail, late)
            .expect("sql"),
        None
    );
    assert_eq!(store.verify_email("verify-3", late).expect("sql"), None);
    assert!(
        !store
            .user_by_id(ada)
            .expect("sql")
            .expect("user")
            .is_verified()
    );

    // A link mailed to an address the account no longer has verifies nothing.
    store
        .issue_account_token(&token(
            "verify-4",
            ada,
            TokenPurpose::VerifyEmail,
            "old@example.org",
        ))
        .expect("issue");
    assert_eq!(store.verify_email("verify-4", now()).expect("sql"), None);

    store
        .issue_account_token(&token(
            "verify-5",
            ada,
            TokenPurpose::VerifyEmail,
            "ADA@example.org",
        ))
        .expect("issue");
    let done = store
        .verify_email("verify-5", now())
        .expect("sql")
        .expect("verified");
    assert_eq!(
        (done.user_id, done.email.as_str()),
        (ada, "ada@example.org")
    );
    assert_eq!(
        store.verify_email("verify-5", now()).expect("sql"),
        None,
        "once"
    );
    let user = store.user_by_id(ada).expect("sql").expect("user");
    assert_eq!(user.email_verified, Some(now()));
    assert_eq!(
        store.purge_account_tokens(late).expect("sql"),
        1,
        "reset-1 expired"
    );
}

fn a_reset_ends_every_session_and_a_change_keeps_one(engine: Engine) {
    let Some((_db, mut store, _, ada)) = seeded(engine) else {
        return;
    };
    for hash in ["s1", "s2", "s3"] {
        session(&store, hash, ada);
    }
    let listed = store.sessions_of(ada, "s2", now()).expect("sql");
    assert_eq!(listed.len(), 3);
    assert!(listed[0].current, "the asking session first");
    assert_eq!(listed[0].user_agent.as_deref(), Some("Firefox"));
    assert_eq!(listed[0].ip.as_deref(), Some("198.51.100.4"));

    store.set_password(ada, "hash-2", "s2").expect("sql");
    assert!(store.session("s1", now()).expect("sql").is_none());
    assert!(store.session("s2", now()).expect("sql").is_some());
    assert_eq!(
        store
            .user_by_id(ada)
            .expect("sql")
            .expect("user")
            .password_hash,
        "hash-2"
    );

    store
        .issue_account_token(&token(
            "reset",
            ada,
            TokenPurpose::ResetPassword,
            "ada@example.org",
        ))
        .expect("issue");
    assert_eq!(
        store.reset_password("reset", "hash-3", now()).expect("sql"),
        Some(ada)
    );
    assert!(
        store.session("s2", now()).expect("sql").is_none(),
        "every session"
    );
    let user = store.user_by_id(ada).expect("sql").expect("user");
    assert_eq!(user.password_hash, "hash-3");
    assert!(user.is_verified(), "the link reached the address");
    assert_eq!(
        store.reset_password("reset", "hash-4", now()).expect("sql"),
        None,
        "single use"
    );
}

fn sessions_are_ended_by_their_owner_only(engine: Engine) {
    let Some((_db, store, _, ada)) = seeded(engine) else {
        return;
    };
    let bob = store
        .create_user("bob", "bob@example.org", "h", now())
        .expect("sql")
        .expect("created");
    let ada_token = "a".repeat(64);
    session(&store, &ada_token, ada);
    session(&store, &"b".repeat(64), bob);
    let handle = store.sessions_of(ada, "", now()).expect("sql")[0]
        .handle
        .clone();
    assert_eq!(handle.len(), 16);
    assert!(!store.end_session(bob, &handle).expect("sql"), "not bob's");
    assert!(store.session(&ada_token, now()).expect("sql").is_some());
    assert!(!store.end_session(ada, "%").expect("sql"), "no patterns");
    assert!(store.end_session(ada, &handle).expect("sql"));
    assert!(store.session(&ada_token, now()).expect("sql").is_none());
    session(&store, "keep", bob);
    assert_eq!(store.end_other_sessions(bob, "keep").expect("sql"), 1);
    assert!(store.session("keep", now()).expect("sql").is_some());
}

fn a_new_address_takes_effect_when_its_link_is_followed(engine: Engine) {
    let Some((_db, mut store, _, ada)) = seeded(engine) else {
        return;
    };
    store
        .create_user("bob", "bob@example.org", "h", now())
        .expect("sql")
        .expect("created");
    store
        .issue_account_token(&token(
            "reset",
            ada,
            TokenPurpose::ResetPassword,
            "ada@example.org",
        ))
        .expect("issue");
    store
        .issue_account_token(&token(
            "to-bob",
            ada,
            TokenPurpose::ChangeEmail,
            "bob@example.org",
        ))
        .expect("issue");
    assert_eq!(
        store.change_email("to-bob", now()).expect("sql"),
        Err(EmailChangeRefused::AddressTaken)
    );
    store
        .issue_account_token(&token(
            "move",
            ada,
            TokenPurpose::ChangeEmail,
            "ada@new.example",
        ))
        .expect("issue");
    let changed = store
        .change_email("move", now())
        .expect("sql")
        .expect("changed");
    assert_eq!(
        (changed.old_email.as_str(), changed.new_email.as_str()),
        ("ada@example.org", "ada@new.example")
    );
    let user = store.user_by_id(ada).expect("sql").expect("user");
    assert_eq!(user.email, "ada@new.example");
    assert!(user.is_verified());
    assert_eq!(
        store.change_email("move", now()).expect("sql"),
        Err(EmailChangeRefused::InvalidLink)
    );
    // A reset link mailed to the old address died with the change.
    assert_eq!(
        store.reset_password("reset", "x", now()).expect("sql"),
        None
    );
}

fn subscriptions_of_unverified_accounts_wait(engine: Engine) {
    let Some((_db, mut store, _, ada)) = seeded(engine) else {
        return;
    };
    let subscribe = |store: &mut Store, email: &str, user_id: Option<i64>| {
        let subscription = store
            .set_owned_subscription(
                &NewSubscription {
                    email: email.into(),
                    frequency: Frequency::Daily,
                    categories: vec![],
                    queries: vec![],
                    user_id,
                    token_nonce: format!("nonce-{email}"),
                    link_nonce: format!("link-{email}"),
                },
                now(),
            )
            .expect("subscribe");
        store
            .confirm_subscription(subscription.id, now())
            .expect("confirm");
        subscription.id
    };
    let through_account = subscribe(&mut store, "ada@example.org", Some(ada));
    let plain = subscribe(&mut store, "reader@example.org", None);
    let waiting = store.subscriptions_awaiting_verification().expect("sql");
    assert!(waiting.contains(&through_account));
    assert!(
        !waiting.contains(&plain),
        "verified by its own confirmation"
    );
    store
        .issue_account_token(&token(
            "v",
            ada,
            TokenPurpose::VerifyEmail,
            "ada@example.org",
        ))
        .expect("issue");
    store
        .verify_email("v", now())
        .expect("sql")
        .expect("verified");
    assert!(
        store
            .subscriptions_awaiting_verification()
            .expect("sql")
            .is_empty()
    );
}

fn deleting_an_account_forgets_the_member_and_keeps_the_counts(engine: Engine) {
    let Some((_db, mut store, key, ada)) = seeded(engine) else {
        return;
    };
    store
        .toggle_vote(ada, key, now())
        .expect("sql")
        .expect("paper");
    session(&store, "s1", ada);
    store
        .issue_account_token(&token(
            "reset",
            ada,
            TokenPurpose::ResetPassword,
            "ada@example.org",
        ))
        .expect("issue");
    let subscription = store
        .set_owned_subscription(
            &NewSubscription {
                email: "ada@example.org".into(),
                frequency: Frequency::Weekly,
                categories: vec![],
                queries: vec![],
                user_id: Some(ada),
                token_nonce: "nonce".into(),
                link_nonce: "link".into(),
            },
            now(),
        )
        .expect("subscribe");
    store
        .confirm_subscription(subscription.id, now())
        .expect("confirm");
    assert_eq!(store.votes_of(ada).expect("sql").len(), 1);
    assert_eq!(store.submissions_of("ada").expect("sql").len(), 1);

    assert!(store.delete_account(ada, now()).expect("sql"));
    assert!(!store.delete_account(ada, now()).expect("sql"), "gone");
    assert!(store.user_by_name("ada").expect("sql").is_none());
    assert!(
        store
            .user_by_email("ada@example.org")
            .expect("sql")
            .is_none()
    );
    assert!(store.session("s1", now()).expect("sql").is_none());
    assert!(
        store
            .account_token("reset", TokenPurpose::ResetPassword, now())
            .expect("sql")
            .is_none()
    );
    let paper = store
        .paper(&ArxivId::parse("2401.00001").expect("id"))
        .expect("sql")
        .expect("paper");
    assert_eq!(paper.member_upvotes, 1, "the vote still counts");
    assert_eq!(
        store.vote_rows(key).expect("sql"),
        0,
        "but nobody's row is left"
    );
    let community = &paper.paper.community;
    assert_eq!(community.submitted_by.as_deref(), Some(DELETED_MEMBER));
    let subscription = store
        .subscription(subscription.id)
        .expect("sql")
        .expect("row");
    assert_eq!(subscription.status, SubscriptionStatus::Unsubscribed);
    assert_eq!(subscription.user_id, None);
    assert_ne!(subscription.token_nonce, "nonce", "old links are revoked");
}

on_both_engines!(
    verification_links_work_once_for_their_purpose_and_address,
    a_reset_ends_every_session_and_a_change_keeps_one,
    sessions_are_ended_by_their_owner_only,
    a_new_address_takes_effect_when_its_link_is_followed,
    subscriptions_of_unverified_accounts_wait,
    deleting_an_account_forgets_the_member_and_keeps_the_counts,
);

/// The database holds password hashes and session digests: its files are readable by
/// their owner only, whatever the umask (issue 14: they were created 0644).
#[cfg(unix)]
#[test]
fn the_database_files_are_readable_by_their_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(dir.path()).expect("open");
    store
        .create_user("ada", "ada@example.org", "hash", now())
        .expect("sql")
        .expect("created");
    let mut seen = 0;
    for name in ["papers.sqlite3", "papers.sqlite3-wal", "papers.sqlite3-shm"] {
        let path = dir.path().join(name);
        let Ok(metadata) = std::fs::metadata(&path) else {
            continue;
        };
        seen += 1;
        let mode = metadata.permissions().mode() & 0o777;
        assert_eq!(mode & 0o077, 0, "{name} is {mode:o}");
    }
    assert!(seen >= 2, "the database and its WAL exist");
    drop(store);
    // A file left wider by an older version is narrowed when the store opens it.
    let path = dir.path().join("papers.sqlite3");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    drop(Store::open(dir.path()).expect("reopen"));
    let mode = std::fs::metadata(&path).expect("file").permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}
