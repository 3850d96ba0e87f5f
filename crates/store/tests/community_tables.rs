//! The community layer's tables on both engines: comments (one level of replies, the
//! visible count kept exact through edits, deletions, hiding and restoring, a deleted
//! member's comments kept as from a deleted member), collections (ownership, the built-in "Read later", notes)
//! and reading state.

use chrono::{NaiveDate, TimeZone, Utc};
use papers_core::{ArxivId, Community, Metadata, PaperRecord, Source};
use papers_store::testing::{Engine, TestDatabase};
use papers_store::{CollectionFields, CommentRefused, Store, on_both_engines};

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 3, 1, 12, 0, 0)
        .single()
        .expect("time")
}

/// A store with two papers and two members; `None` skips a PostgreSQL run outside CI.
fn seeded(engine: Engine) -> Option<(TestDatabase, Store, [i64; 2], [i64; 2])> {
    let database = TestDatabase::create(engine)?;
    let mut store = database.open();
    let mut batch = store.begin_ingest(now()).expect("begin");
    for (id, author) in [
        ("2401.00001", "Ada Lovelace"),
        ("2401.00002", "Grace Hopper"),
    ] {
        batch
            .upsert(PaperRecord {
                id: ArxivId::parse(id).expect("id"),
                source: Source::HuggingFace,
                metadata: Metadata {
                    title: format!("Paper {id}"),
                    authors: vec![author.to_owned()],
                    ..Metadata::default()
                },
                community: Some(Community {
                    feed_day: NaiveDate::from_ymd_opt(2024, 1, 2),
                    num_comments: Some(3),
                    ..Community::default()
                }),
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
    let papers = [key("2401.00001"), key("2401.00002")];
    let user = |name: &str| {
        store
            .create_user(name, &format!("{name}@example.org"), "hash", now())
            .expect("sql")
            .expect("created")
    };
    let members = [user("ann"), user("bob")];
    Some((database, store, papers, members))
}

fn shown_comments(store: &Store, id: &str) -> u32 {
    store
        .paper(&ArxivId::parse(id).expect("id"))
        .expect("read")
        .expect("paper")
        .comments()
}

fn comments_thread_and_count_exactly(engine: Engine) {
    let Some((_db, store, [paper, other], [ann, bob])) = seeded(engine) else {
        return;
    };
    let top = store
        .add_comment(paper, ann, None, "First!", now())
        .expect("sql")
        .expect("stored");
    assert_eq!(top.author.as_deref(), Some("ann"));
    let reply = store
        .add_comment(paper, bob, Some(top.id), "A reply", now())
        .expect("sql")
        .expect("stored");
    assert_eq!(reply.parent, Some(top.id));
    assert_eq!(
        store
            .add_comment(paper, ann, Some(reply.id), "deeper", now())
            .expect("sql"),
        Err(CommentRefused::ReplyToReply),
        "one level of replies"
    );
    assert_eq!(
        store
            .add_comment(other, ann, Some(top.id), "elsewhere", now())
            .expect("sql"),
        Err(CommentRefused::NoSuchParent),
        "a parent on another paper"
    );
    assert_eq!(
        shown_comments(&store, "2401.00001"),
        3 + 2,
        "imported + members'"
    );

    // Only the author edits or deletes; edits are marked.
    assert!(
        !store
            .edit_comment(top.id, bob, "mine now", now())
            .expect("sql")
    );
    assert!(
        store
            .edit_comment(top.id, ann, "First, edited", now())
            .expect("sql")
    );
    let edited = store.comment(top.id).expect("sql").expect("comment");
    assert_eq!(edited.body, "First, edited");
    assert!(edited.edited.is_some());
    assert!(!store.delete_comment(reply.id, ann).expect("sql"));

    // Hiding and deleting each take a comment out of the count once.
    assert!(store.set_comment_hidden(reply.id, true).expect("sql"));
    assert!(!store.set_comment_hidden(reply.id, true).expect("sql"));
    assert_eq!(shown_comments(&store, "2401.00001"), 4);
    assert!(store.delete_comment(reply.id, bob).expect("sql"));
    assert_eq!(
        shown_comments(&store, "2401.00001"),
        4,
        "hidden, then deleted"
    );
    assert!(store.set_comment_hidden(reply.id, false).expect("sql"));
    assert_eq!(
        shown_comments(&store, "2401.00001"),
        4,
        "restoring a deleted one"
    );
    assert!(store.delete_comment(top.id, ann).expect("sql"));
    assert!(!store.delete_comment(top.id, ann).expect("sql"), "once");
    assert_eq!(shown_comments(&store, "2401.00001"), 3);
    assert_eq!(store.visible_comment_rows(paper).expect("sql"), 0);
    let thread = store.comments_of(paper).expect("sql");
    assert_eq!(thread.len(), 2, "deleted comments keep their place");
    assert!(thread[0].deleted && thread[0].body.is_empty());

    // Reports, once per member; the queue lists reported comments.
    let third = store
        .add_comment(paper, bob, None, "spam spam", now())
        .expect("sql")
        .expect("stored");
    assert!(
        store
            .report_comment(third.id, ann, "spam", now())
            .expect("sql")
    );
    assert!(
        !store
            .report_comment(third.id, ann, "spam", now())
            .expect("sql")
    );
    let queue = store.reported_comments(10).expect("sql");
    assert_eq!(queue.len(), 1);
    assert_eq!(queue[0].paper_id, "2401.00001");
    assert_eq!(queue[0].reports, 1);
    assert_eq!(store.comments_by(bob).expect("sql").len(), 2);
}

fn collections_belong_to_their_owner(engine: Engine) {
    let Some((_db, store, [paper, other], [ann, bob])) = seeded(engine) else {
        return;
    };
    let later = store.read_later(ann, now()).expect("sql");
    assert_eq!(
        store.read_later(ann, now()).expect("sql"),
        later,
        "made once"
    );
    let list = store
        .create_collection(
            ann,
            &CollectionFields {
                title: "Retrieval",
                description: "for the reading group",
                public: false,
            },
            now(),
        )
        .expect("sql");
    assert!(
        store
            .add_to_collection(list, ann, paper, "read §3", now())
            .expect("sql")
    );
    assert!(
        store
            .add_to_collection(list, ann, paper, "read §4", now())
            .expect("sql")
    );
    assert!(
        store
            .add_to_collection(list, ann, other, "", now())
            .expect("sql")
    );
    assert!(
        !store
            .add_to_collection(list, bob, paper, "", now())
            .expect("sql"),
        "not bob's"
    );
    let papers = store.collection_papers(list).expect("sql");
    assert_eq!(papers.len(), 2);
    let noted = papers.iter().find(|p| p.paper.key == paper).expect("paper");
    assert_eq!(noted.note, "read §4", "a second add replaces the note");

    let collections = store.collections_of(ann).expect("sql");
    let titles: Vec<&str> = collections.iter().map(|c| c.title.as_str()).collect();
    assert_eq!(titles, ["Read later", "Retrieval"]);
    assert!(collections[0].read_later);
    assert_eq!(collections[1].papers, 2);
    let found = store.collection(list).expect("sql").expect("collection");
    assert!(
        found.readable_by(Some(ann)) && !found.readable_by(Some(bob)) && !found.readable_by(None)
    );
    let public = CollectionFields {
        title: "Retrieval",
        description: "",
        public: true,
    };
    assert!(
        !store
            .update_collection(list, bob, &public, now())
            .expect("sql")
    );
    assert!(
        store
            .update_collection(list, ann, &public, now())
            .expect("sql")
    );
    assert!(
        store
            .collection(list)
            .expect("sql")
            .expect("c")
            .readable_by(None)
    );

    assert_eq!(
        store.saved_keys(ann).expect("sql"),
        [paper, other].into_iter().collect()
    );
    assert!(store.remove_from_collection(list, ann, other).expect("sql"));
    assert!(!store.remove_from_collection(list, ann, other).expect("sql"));
    assert!(
        !store.delete_collection(later, ann).expect("sql"),
        "read later stays"
    );
    assert!(!store.delete_collection(list, bob).expect("sql"));
    assert!(store.delete_collection(list, ann).expect("sql"));
    assert_eq!(store.collections_of(ann).expect("sql").len(), 1);
}

fn reading_state_is_per_member(engine: Engine) {
    let Some((_db, store, [paper, _], [ann, bob])) = seeded(engine) else {
        return;
    };
    assert!(store.mark_read(ann, paper, now()).expect("sql"));
    assert!(!store.mark_read(ann, paper, now()).expect("sql"));
    assert_eq!(
        store.read_keys(ann).expect("sql"),
        [paper].into_iter().collect()
    );
    assert!(store.read_keys(bob).expect("sql").is_empty());
    assert_eq!(store.reads_by(ann).expect("sql")[0].0, "2401.00001");
    assert!(store.mark_unread(ann, paper).expect("sql"));
    assert!(!store.mark_unread(ann, paper).expect("sql"));
}

on_both_engines!(
    comments_thread_and_count_exactly,
    collections_belong_to_their_owner,
    reading_state_is_per_member,
    follows_bring_their_papers,
    deleting_an_account_keeps_comments_and_drops_the_rest,
);

fn follows_bring_their_papers(engine: Engine) {
    let Some((_db, store, [paper, other], [ann, bob])) = seeded(engine) else {
        return;
    };
    let (follow, new) = store
        .follow(ann, papers_store::FollowKind::Category, "cs.CL", now())
        .expect("sql");
    assert!(new);
    let (again, new) = store
        .follow(ann, papers_store::FollowKind::Category, "cs.CL", now())
        .expect("sql");
    assert!(!new);
    assert_eq!(again.id, follow.id);
    store
        .follow(ann, papers_store::FollowKind::Author, "Grace Hopper", now())
        .expect("sql");
    store
        .follow(ann, papers_store::FollowKind::Query, "retrieval", now())
        .expect("sql");
    assert_eq!(store.follows_of(ann).expect("sql").len(), 3);
    assert!(store.follows_of(bob).expect("sql").is_empty());
    let followed = store.followed_papers(ann, 10).expect("sql");
    let keys: Vec<i64> = followed.iter().map(|(p, _)| p.key).collect();
    assert!(keys.contains(&other), "Grace Hopper's paper");
    assert!(!keys.contains(&paper));
    assert_eq!(
        store
            .papers_by_author("Grace Hopper", 5)
            .expect("sql")
            .len(),
        1
    );
    assert!(
        store.papers_by_author("Grace", 5).expect("sql").is_empty(),
        "whole names"
    );
    assert!(!store.unfollow(bob, follow.id).expect("sql"), "not bob's");
    assert!(store.unfollow(ann, follow.id).expect("sql"));
}

fn deleting_an_account_keeps_comments_and_drops_the_rest(engine: Engine) {
    let Some((_db, mut store, [paper, _], [ann, bob])) = seeded(engine) else {
        return;
    };
    let comment = store
        .add_comment(paper, ann, None, "Still worth reading", now())
        .expect("sql")
        .expect("stored");
    store
        .add_comment(paper, bob, Some(comment.id), "Agreed", now())
        .expect("sql")
        .expect("stored");
    assert!(
        store
            .report_comment(comment.id, ann, "test", now())
            .expect("sql")
    );
    let collection = store
        .create_collection(
            ann,
            &CollectionFields {
                title: "Mine",
                description: "",
                public: true,
            },
            now(),
        )
        .expect("sql");
    assert!(
        store
            .add_to_collection(collection, ann, paper, "note", now())
            .expect("sql")
    );
    store.read_later(ann, now()).expect("sql");
    store.mark_read(ann, paper, now()).expect("sql");
    store
        .follow(ann, papers_store::FollowKind::Author, "Grace Hopper", now())
        .expect("sql");
    assert!(store.delete_account(ann, now()).expect("sql"));
    let thread = store.comments_of(paper).expect("sql");
    assert_eq!(thread[0].user_id, None);
    assert_eq!(thread[0].author, None, "shown as from a deleted member");
    assert_eq!(thread[0].body, "Still worth reading");
    assert_eq!(thread[1].author.as_deref(), Some("bob"), "replies stay");
    assert_eq!(
        shown_comments(&store, "2401.00001"),
        5,
        "the count keeps them"
    );
    assert_eq!(store.collection(collection).expect("sql"), None);
    assert!(store.collections_of(ann).expect("sql").is_empty());
    assert!(store.read_keys(ann).expect("sql").is_empty());
    assert!(store.follows_of(ann).expect("sql").is_empty());
}
