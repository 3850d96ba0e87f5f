//! A member's digest through the real SMTP server: "Picked for you" from what the
//! member saved and asked more of (the site's For you ranking), "From what you follow"
//! (an author matched ignoring case, a category, a saved search), and the papers the
//! member has read left out of every section.

use chrono::{TimeZone, Utc};
use papers_core::{ArxivId, Category, Metadata, PaperRecord, Source};
use papers_digest::{Frequency, SubscribeRequest};
use papers_store::{FollowKind, StoredPaper};

use crate::load;
use crate::smtp::send;
use crate::support::{Fixture, SmtpServer, fixture, now, request};

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A verified member with a confirmed weekly subscription; returns their id.
fn member(fixture: &mut Fixture) -> i64 {
    let member = fixture
        .store
        .create_user("ann", "ann@example.org", "hash", now())
        .expect("sql")
        .expect("created");
    let token = "ann's verification token";
    fixture
        .store
        .issue_account_token(&papers_store::NewAccountToken {
            token_hash: token,
            user_id: member,
            purpose: papers_store::TokenPurpose::VerifyEmail,
            email: "ann@example.org",
            now: now(),
            expires: now() + chrono::Duration::hours(1),
        })
        .expect("issue");
    fixture
        .store
        .verify_email(token, now())
        .expect("sql")
        .expect("verified");
    fixture.confirmed(SubscribeRequest {
        owner: Some(member),
        ..request("ann@example.org", Frequency::Weekly)
    });
    member
}

/// arXiv-only papers of the week (no upvotes, so never trending).
fn add_arxiv_papers(fixture: &mut Fixture) {
    let mut batch = fixture.store.begin_ingest(now()).expect("batch");
    for (id, title, author, category) in [
        (
            "2401.00901",
            "Compilers for the rest of us",
            "Grace Hopper",
            "cs.PL",
        ),
        (
            "2401.00902",
            "Spiking networks of the cortex",
            "A. Neuro",
            "q-bio.NC",
        ),
        (
            "2401.00903",
            "Zebra finch song learning",
            "B. Bird",
            "q-bio.QM",
        ),
    ] {
        batch
            .upsert(PaperRecord {
                id: ArxivId::parse(id).expect("id"),
                source: Source::Kaggle,
                metadata: Metadata {
                    title: title.to_owned(),
                    abstract_text: format!("{title}: an abstract."),
                    authors: vec![author.to_owned()],
                    categories: vec![Category::parse(category).expect("category")],
                    published: Utc.with_ymd_and_hms(2024, 1, 3, 15, 0, 0).single(),
                    ..Metadata::default()
                },
                community: None,
            })
            .expect("upsert");
    }
    batch.commit().expect("commit");
}

fn papers_between(fixture: &Fixture, from: &str, to: &str) -> Vec<StoredPaper> {
    fixture
        .store
        .papers_new_between(from.parse().expect("day"), to.parse().expect("day"))
        .expect("papers")
}

#[test]
fn a_members_digest_has_their_picks_and_follows_and_not_what_they_read() {
    if !papers_testkit::smtp_available() {
        return;
    }
    let server = SmtpServer::start(&[]);
    let Some(mut fixture) = fixture() else { return };
    add_arxiv_papers(&mut fixture);
    let ann = member(&mut fixture);

    // Saves and a "more like this" of next week's papers closest to a diffusion
    // paper of this week: the picks are close to them, with the closest as reason.
    let text_of = |p: &StoredPaper| {
        load::hashed_embedding(&format!(
            "{} {}",
            p.paper.metadata.title, p.paper.metadata.abstract_text
        ))
    };
    let week = papers_between(&fixture, "2024-01-01", "2024-01-08");
    let target = week
        .iter()
        .find(|p| p.paper.metadata.title.contains("Diffusion"))
        .map(text_of)
        .expect("a diffusion paper");
    let mut next_week = papers_between(&fixture, "2024-01-08", "2024-01-13");
    next_week.sort_by(|a, b| {
        let similarity = |p: &StoredPaper| papers_rank::recommend::cosine(&text_of(p), &target);
        similarity(b)
            .total_cmp(&similarity(a))
            .then(a.key.cmp(&b.key))
    });
    let list = fixture.store.read_later(ann, now()).expect("read later");
    for paper in next_week.iter().take(2) {
        fixture
            .store
            .add_to_collection(list, ann, paper.key, "", now())
            .expect("save");
    }
    fixture
        .store
        .set_feedback(ann, next_week[2].key, true, now())
        .expect("more");
    let liked_titles: Vec<String> = next_week
        .iter()
        .take(3)
        .map(|p| one_line(&p.paper.metadata.title))
        .collect();

    for (kind, value) in [
        (FollowKind::Author, "grace HOPPER"),
        (FollowKind::Category, "q-bio.NC"),
        (FollowKind::Query, "zebra finch"),
    ] {
        fixture
            .store
            .follow(ann, kind, value, now())
            .expect("follow");
    }

    // The most upvoted paper of the week, read: in no section.
    let mut trending = week.clone();
    trending.sort_by_key(|p| std::cmp::Reverse(p.upvotes()));
    let read = &trending[0];
    fixture.store.mark_read(ann, read.key, now()).expect("read");
    let read_title = one_line(&read.paper.metadata.title);

    let report = send(&mut fixture, &server, Frequency::Weekly, "2024-01-08");
    assert_eq!((report.sent, report.failed.len()), (1, 0), "{report:?}");
    let mail = server
        .messages_to("ann@example.org")
        .pop()
        .expect("digest received");
    let text = mail.part("text/plain");
    let html = mail.part("text/html");
    assert!(
        !text.contains(&read_title),
        "the read paper is left out:\n{text}"
    );
    assert!(
        text.contains(&one_line(&trending[1].paper.metadata.title)),
        "{text}"
    );

    let picked = text
        .split("Picked for you")
        .nth(1)
        .expect("a Picked for you section")
        .split("From what you follow")
        .next()
        .expect("section");
    let reasons: Vec<&str> = picked
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("Close to “"))
        .collect();
    assert!(!reasons.is_empty(), "{picked}");
    for reason in &reasons {
        assert!(
            liked_titles.iter().any(|t| {
                *reason == format!("Close to “{t}”, which you saved")
                    || *reason == format!("Close to “{t}”, which you asked more like")
            }),
            "{reason}"
        );
    }

    let followed = text
        .split("From what you follow")
        .nth(1)
        .expect("a From what you follow section");
    for (title, because) in [
        ("Compilers for the rest of us", "author grace HOPPER"),
        ("Spiking networks of the cortex", "category q-bio.NC"),
        ("Zebra finch song learning", "search “zebra finch”"),
    ] {
        assert!(followed.contains(title), "{title} in:\n{followed}");
        assert!(
            followed.contains(&format!("Because you follow {because}")),
            "{because} in:\n{followed}"
        );
        assert!(html.contains(title));
    }
    assert!(html.contains("From what you follow"));
}
