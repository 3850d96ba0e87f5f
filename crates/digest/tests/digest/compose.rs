//! Composition without SMTP: sections, personal picks, saved searches, categories,
//! empty digests and the preview.

use chrono::{NaiveDate, TimeZone, Utc};
use papers_core::{ArxivId, Category, Community, Metadata, PaperRecord, Source};
use papers_digest::{
    Frequency, NoDelivery, NoVotes, PeriodData, SectionKind, SendRequest, Sources, TermSearch,
    VotesFn,
};
use papers_store::StoredPaper;

use crate::load;
use crate::support::{Fixture, fixture, now, request};

fn day(text: &str) -> NaiveDate {
    text.parse().expect("valid date")
}

fn period_papers(fixture: &Fixture, from: &str, to: &str) -> Vec<StoredPaper> {
    fixture
        .store
        .papers_new_between(day(from), day(to))
        .expect("papers")
}

#[test]
fn members_get_picks_close_to_their_upvotes_with_the_closest_as_reason() {
    let Some(mut fixture) = fixture() else { return };
    // The member upvoted the three later papers closest to a diffusion paper of the week.
    let week = period_papers(&fixture, "2024-01-01", "2024-01-08");
    let target = week
        .iter()
        .find(|p| p.paper.metadata.title.contains("Diffusion"))
        .expect("a diffusion paper");
    let target_vector = load::hashed_embedding(&format!(
        "{} {}",
        target.paper.metadata.title, target.paper.metadata.abstract_text
    ));
    let mut others = period_papers(&fixture, "2024-01-08", "2024-01-13");
    others.sort_by(|a, b| {
        let similarity = |p: &StoredPaper| {
            let v = load::hashed_embedding(&format!(
                "{} {}",
                p.paper.metadata.title, p.paper.metadata.abstract_text
            ));
            papers_rank::recommend::cosine(&v, &target_vector)
        };
        similarity(b).total_cmp(&similarity(a))
    });
    let upvoted: Vec<i64> = others.iter().take(3).map(|p| p.key).collect();
    let upvoted_titles: Vec<String> = others
        .iter()
        .take(3)
        .map(|p| {
            p.paper
                .metadata
                .title
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();

    let mut member = request("member@example.org", Frequency::Weekly);
    member.owner = Some(7);
    let subscription = fixture.confirmed(member);
    let votes = VotesFn(move |_: &papers_store::Store, user: i64| {
        Ok(if user == 7 {
            upvoted.clone()
        } else {
            Vec::new()
        })
    });
    let sources = Sources {
        search: &TermSearch,
        votes: &votes,
    };
    let data = PeriodData::load(
        &fixture.store,
        fixture.digests.settings(),
        papers_digest::Period::due(Frequency::Weekly, day("2024-01-08")),
    )
    .expect("period");
    let digest = fixture
        .digests
        .compose_for(&fixture.store, &data, &sources, &subscription)
        .expect("compose");
    let kinds: Vec<&SectionKind> = digest.sections.iter().map(|s| &s.kind).collect();
    assert_eq!(kinds, [&SectionKind::Trending, &SectionKind::PickedForYou]);
    let picks = &digest.sections[1].papers;
    assert!(!picks.is_empty() && picks.len() <= 5);
    for pick in picks {
        let reason = pick.reason.as_deref().expect("a reason");
        assert!(
            upvoted_titles
                .iter()
                .any(|t| reason == format!("Close to “{t}”, which you upvoted")),
            "{reason}"
        );
    }
    // No paper twice in one digest.
    let keys = digest.paper_keys();
    let mut unique = keys.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(keys.len(), unique.len());

    // The same subscriber without upvotes gets no picks.
    let sources = Sources {
        search: &TermSearch,
        votes: &NoVotes,
    };
    let plain = fixture
        .digests
        .compose_for(&fixture.store, &data, &sources, &subscription)
        .expect("compose");
    assert!(
        plain
            .sections
            .iter()
            .all(|s| s.kind != SectionKind::PickedForYou)
    );
}

#[test]
fn saved_searches_and_categories_get_their_sections_and_empty_ones_are_left_out() {
    let Some(mut fixture) = fixture() else { return };
    // An arXiv-only paper announced on the covered day, with categories.
    let mut batch = fixture.store.begin_ingest(now()).expect("batch");
    batch
        .upsert(PaperRecord {
            id: ArxivId::parse("2401.00999").expect("id"),
            source: Source::Kaggle,
            metadata: Metadata {
                title: "Tokenizer-free parsing of legal text".to_owned(),
                abstract_text: "We parse statutes.".to_owned(),
                authors: vec!["A. Author".to_owned()],
                categories: vec![Category::parse("cs.CL").expect("category")],
                published: Utc.with_ymd_and_hms(2024, 1, 2, 15, 0, 0).single(),
                ..Metadata::default()
            },
            community: None::<Community>,
        })
        .expect("upsert");
    batch.commit().expect("commit");
    let mut alice = request("alice@example.org", Frequency::Daily);
    alice.categories = vec!["cs".to_owned(), "math.AG".to_owned()];
    alice.queries = vec!["language model".to_owned(), "zebra finch song".to_owned()];
    let subscription = fixture.confirmed(alice);
    let sources = Sources {
        search: &TermSearch,
        votes: &NoVotes,
    };
    let data = PeriodData::load(
        &fixture.store,
        fixture.digests.settings(),
        papers_digest::Period::due(Frequency::Daily, day("2024-01-03")),
    )
    .expect("period");
    let digest = fixture
        .digests
        .compose_for(&fixture.store, &data, &sources, &subscription)
        .expect("compose");
    let titles: Vec<&str> = digest.sections.iter().map(|s| s.title.as_str()).collect();
    assert_eq!(
        titles,
        ["Trending", "Matching “language model”", "New in cs"],
        "empty sections are left out"
    );
    assert_eq!(digest.sections[2].papers[0].id.as_str(), "2401.00999");
    for paper in &digest.sections[1].papers {
        let stored = fixture
            .store
            .paper(&paper.id)
            .expect("read")
            .expect("exists");
        let text = format!(
            "{} {}",
            stored.paper.metadata.title, stored.paper.metadata.abstract_text
        )
        .to_lowercase();
        assert!(
            text.contains("language") && text.contains("model"),
            "{}",
            paper.title
        );
    }
}

#[test]
fn an_empty_digest_is_not_sent_and_a_dry_run_records_nothing() {
    let Some(mut fixture) = fixture() else { return };
    fixture.confirmed(request("alice@example.org", Frequency::Daily));
    let sources = Sources {
        search: &TermSearch,
        votes: &NoVotes,
    };
    // The feed data starts on 2024-01-01, so the digest due that day is empty.
    let empty = SendRequest {
        frequency: Frequency::Daily,
        as_of: day("2024-01-01"),
        now: now(),
        dry_run: false,
    };
    let report = fixture
        .digests
        .send_digests(&mut fixture.store, &NoDelivery, &sources, &empty)
        .expect("runs");
    assert_eq!(
        (report.sent, report.skipped_empty, report.failed.len()),
        (0, 1, 0),
        "{report:?}"
    );
    let dry = SendRequest {
        as_of: day("2024-01-03"),
        dry_run: true,
        ..empty
    };
    let report = fixture
        .digests
        .send_digests(&mut fixture.store, &NoDelivery, &sources, &dry)
        .expect("runs");
    assert_eq!((report.sent, report.failed.len()), (1, 0));
    assert!(
        fixture
            .store
            .digest_sends("daily:2024-01-02")
            .expect("read")
            .is_empty()
    );
}

#[test]
fn preview_renders_the_next_digest_or_nothing() {
    let Some(mut fixture) = fixture() else { return };
    let subscription = fixture.confirmed(request("alice@example.org", Frequency::Weekly));
    let sources = Sources {
        search: &TermSearch,
        votes: &NoVotes,
    };
    let preview = fixture
        .digests
        .preview(
            &fixture.store,
            &sources,
            &subscription,
            day("2024-01-08"),
            now(),
        )
        .expect("preview")
        .expect("not empty");
    assert_eq!(
        preview.subject,
        "Your weekly papers: the week of 1 January 2024"
    );
    assert!(preview.html.starts_with("<!DOCTYPE html>") && preview.html.contains("Trending"));
    assert!(!preview.text.contains('<'), "{}", preview.text);
    let nothing = fixture
        .digests
        .preview(
            &fixture.store,
            &sources,
            &subscription,
            day("2023-12-01"),
            now(),
        )
        .expect("preview");
    assert!(nothing.is_none());
}

#[test]
fn only_one_sender_runs_at_a_time() {
    let Some(mut fixture) = fixture() else { return };
    fixture.confirmed(request("alice@example.org", Frequency::Daily));
    // Another sender (here: this test) holds the claim.
    let holder = fixture
        .store
        .try_claim_job(papers_digest::SENDER_JOB)
        .expect("claim")
        .expect("free");
    let sources = Sources {
        search: &TermSearch,
        votes: &NoVotes,
    };
    let send = SendRequest {
        frequency: Frequency::Daily,
        as_of: day("2024-01-03"),
        now: now(),
        dry_run: false,
    };
    let error = fixture
        .digests
        .send_digests(&mut fixture.store, &NoDelivery, &sources, &send)
        .expect_err("busy");
    assert!(
        matches!(error, papers_digest::DigestError::SenderBusy { .. }),
        "{error}"
    );
    drop(holder);
    let report = fixture
        .digests
        .send_digests(&mut fixture.store, &NoDelivery, &sources, &send)
        .expect("runs");
    assert_eq!(
        report.failed.len(),
        1,
        "NoDelivery reports the mail undelivered: {report:?}"
    );
    assert!(
        fixture
            .store
            .digest_sends("daily:2024-01-02")
            .expect("read")
            .is_empty(),
        "a failed send leaves no claim"
    );
}

#[test]
fn weekly_digests_list_the_rising_topics_and_daily_ones_do_not() {
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
    let sources = Sources {
        search: &TermSearch,
        votes: &NoVotes,
    };
    let weekly = fixture.confirmed(request("weekly@example.org", Frequency::Weekly));
    let period = papers_digest::Period::due(Frequency::Weekly, day("2024-01-08"));
    let expected: Vec<(u32, usize)> = map
        .rising(period.end, papers_digest::RISING_IN_DIGEST)
        .iter()
        .map(|g| (g.topic, g.recent))
        .collect();
    assert!(
        !expected.is_empty(),
        "some topic grew in the fixture's weeks"
    );
    let data =
        PeriodData::load(&fixture.store, fixture.digests.settings(), period).expect("period");
    let digest = fixture
        .digests
        .compose_for(&fixture.store, &data, &sources, &weekly)
        .expect("compose");
    let got: Vec<(u32, usize)> = digest.rising.iter().map(|t| (t.id, t.recent)).collect();
    assert_eq!(got, expected);
    let mail = fixture
        .digests
        .digest_mail(
            &papers_digest::Email::parse("weekly@example.org").expect("email"),
            &weekly,
            &digest,
            now(),
        )
        .expect("mail");
    assert!(mail.text.contains("Rising topics"));
    for topic in &digest.rising {
        let url = format!("{}/topics/{}", crate::support::BASE, topic.id);
        assert!(mail.text.contains(&url), "{url}");
        assert!(mail.html.contains(&url));
        assert!(mail.text.contains(&topic.name));
    }

    let daily = fixture.confirmed(request("daily@example.org", Frequency::Daily));
    let period = papers_digest::Period::due(Frequency::Daily, day("2024-01-09"));
    let data =
        PeriodData::load(&fixture.store, fixture.digests.settings(), period).expect("period");
    let digest = fixture
        .digests
        .compose_for(&fixture.store, &data, &sources, &daily)
        .expect("compose");
    assert!(digest.rising.is_empty());
}

/// Issue 14: an account made with someone else's address must not get digests. A
/// subscription made through an account waits until the account's address is
/// verified; one made without an account was verified by its own confirmation.
#[test]
fn a_subscription_through_an_unverified_account_gets_no_digest() {
    let Some(mut fixture) = fixture() else { return };
    let member = fixture
        .store
        .create_user("mallory", "victim@example.org", "hash", now())
        .expect("sql")
        .expect("created");
    fixture.confirmed(papers_digest::SubscribeRequest {
        owner: Some(member),
        ..request("victim@example.org", Frequency::Daily)
    });
    fixture.confirmed(request("plain@example.org", Frequency::Daily));
    let sources = Sources {
        search: &TermSearch,
        votes: &NoVotes,
    };
    let dry = SendRequest {
        frequency: Frequency::Daily,
        as_of: day("2024-01-03"),
        now: now(),
        dry_run: true,
    };
    let report = fixture
        .digests
        .send_digests(&mut fixture.store, &NoDelivery, &sources, &dry)
        .expect("runs");
    assert_eq!((report.sent, report.failed.len()), (1, 0), "{report:?}");

    let token = "a verification token digest";
    fixture
        .store
        .issue_account_token(&papers_store::NewAccountToken {
            token_hash: token,
            user_id: member,
            purpose: papers_store::TokenPurpose::VerifyEmail,
            email: "victim@example.org",
            now: now(),
            expires: now() + chrono::Duration::hours(1),
        })
        .expect("issue");
    fixture
        .store
        .verify_email(token, now())
        .expect("sql")
        .expect("verified");
    let report = fixture
        .digests
        .send_digests(&mut fixture.store, &NoDelivery, &sources, &dry)
        .expect("runs");
    assert_eq!((report.sent, report.failed.len()), (2, 0), "{report:?}");
}
