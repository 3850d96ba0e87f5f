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

#[test]
fn a_followed_topic_brings_its_papers_of_the_period() {
    let Some(mut fixture) = fixture() else { return };
    // A topic map over the fixture's papers and their (stand-in) vectors.
    let mut corpus = papers_topics::Corpus::new(0);
    let mut vectors = std::collections::HashMap::new();
    fixture
        .store
        .for_each_embedding(crate::support::MODEL, |key, vector| {
            vectors.insert(key, vector.to_vec());
        })
        .expect("vectors");
    fixture
        .store
        .for_each_paper(|paper| {
            if let Some(vector) = vectors.get(&paper.key) {
                corpus.dim = vector.len();
                let metadata = &paper.paper.metadata;
                corpus.push(
                    paper.key,
                    vector,
                    format!("{}\n{}", metadata.title, metadata.abstract_text),
                    metadata.published.map(|t| t.date_naive()),
                );
            }
        })
        .expect("papers");
    let map = papers_topics::build(
        &corpus,
        crate::support::MODEL,
        now(),
        None,
        &papers_topics::BuildOptions::default(),
    )
    .expect("topic map");
    fixture.digests = crate::support::digests().with_topics(std::sync::Arc::new(
        papers_topics::SharedTopics::new(Some(map.clone())),
    ));
    let ann = member(&mut fixture);
    let subscription = fixture
        .store
        .subscription_of_user(ann)
        .expect("sql")
        .expect("subscription");
    // The broad topic with the most papers in the week.
    let week = papers_between(&fixture, "2024-01-01", "2024-01-08");
    let topic = map
        .broad()
        .max_by_key(|t| week.iter().filter(|p| map.contains(t.id, p.key)).count())
        .expect("a topic");
    fixture
        .store
        .follow(ann, FollowKind::Topic, &topic.id.to_string(), now())
        .expect("follow");
    let sources = papers_digest::Sources {
        search: &papers_digest::TermSearch,
        votes: &papers_digest::NoVotes,
    };
    let period = papers_digest::Period::due(Frequency::Weekly, "2024-01-08".parse().expect("day"));
    let data = papers_digest::PeriodData::load(&fixture.store, fixture.digests.settings(), period)
        .expect("period");
    let digest = fixture
        .digests
        .compose_for(&fixture.store, &data, &sources, &subscription)
        .expect("compose");
    let section = digest
        .sections
        .iter()
        .find(|s| s.kind == papers_digest::SectionKind::Following)
        .expect("a From what you follow section");
    assert_eq!(section.title, "From what you follow");
    assert!(!section.papers.is_empty());
    for paper in &section.papers {
        assert!(
            map.contains(topic.id, paper.key),
            "{} is in the topic",
            paper.title
        );
        assert_eq!(
            paper.reason.as_deref(),
            Some(format!("Because you follow topic {}", topic.name).as_str())
        );
    }
}

#[test]
fn without_signal_the_picks_are_the_picked_categories() {
    let Some(mut fixture) = fixture() else { return };
    add_arxiv_papers(&mut fixture);
    let ann = member(&mut fixture);
    fixture
        .store
        .set_picked_categories(ann, &["cs.PL".to_owned(), "q-bio".to_owned()])
        .expect("pick");
    let subscription = fixture
        .store
        .subscription_of_user(ann)
        .expect("sql")
        .expect("subscription");
    let sources = papers_digest::Sources {
        search: &papers_digest::TermSearch,
        votes: &papers_digest::NoVotes,
    };
    let period = papers_digest::Period::due(Frequency::Weekly, "2024-01-08".parse().expect("day"));
    let data = papers_digest::PeriodData::load(&fixture.store, fixture.digests.settings(), period)
        .expect("period");
    let digest = fixture
        .digests
        .compose_for(&fixture.store, &data, &sources, &subscription)
        .expect("compose");
    let picks = digest
        .sections
        .iter()
        .find(|s| s.kind == papers_digest::SectionKind::PickedForYou)
        .expect("picks from the picked categories");
    let listed: Vec<(&str, Option<&str>)> = picks
        .papers
        .iter()
        .map(|p| (p.title.as_str(), p.reason.as_deref()))
        .collect();
    // Equal trending scores (none) and days: by key, the order they were stored in.
    assert_eq!(
        listed,
        [
            (
                "Compilers for the rest of us",
                Some("In cs.PL, which you picked")
            ),
            (
                "Spiking networks of the cortex",
                Some("In q-bio, which you picked")
            ),
            (
                "Zebra finch song learning",
                Some("In q-bio, which you picked")
            ),
        ]
    );
}
