//! The mails as a reader gets them, whole: the confirmation mail and a weekly digest
//! with every kind of section (subject, text and HTML), as insta snapshots. The store,
//! the clock and the secret are fixed, so only the confirmation token's MAC varies (it
//! signs a random nonce) and is redacted. Review a change with `cargo insta review`.

use papers_digest::{Frequency, Mail, NoVotes, Sources, TermSearch, VotesFn};

use papers_store::StoredPaper;

use crate::load;
use crate::support::{fixture, now, request};

/// Tokens keep their subscription, purpose and expiry; the MAC is replaced.
fn settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"(\d+\.[cu]\.\d+\.)[0-9a-f]{32}", "$1[mac]");
    settings
}

/// One document per mail: the headers a reader sees, then both bodies.
fn whole(subject: &str, headers: &[(&str, &str)], text: &str, html: &str) -> String {
    let mut out = format!("Subject: {subject}\n");
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\n"));
    }
    out.push_str(&format!(
        "\n----- text/plain -----\n{text}\n----- text/html -----\n{html}\n"
    ));
    out
}

#[test]
fn the_confirmation_mail() {
    let Some(mut fixture) = fixture() else { return };
    let _bound = settings().bind_to_scope();
    let mut alice = request("alice@example.org", Frequency::Weekly);
    alice.categories = vec!["cs.CL".to_owned()];
    alice.queries = vec!["language model".to_owned()];
    let mail: Mail = fixture
        .digests
        .subscribe(&mut fixture.store, &alice, now())
        .expect("subscribe")
        .mail
        .expect("a confirmation mail");
    let date = mail.date.to_rfc3339();
    insta::assert_snapshot!(
        "confirmation",
        whole(
            &mail.subject,
            &[
                ("To", mail.to.as_str()),
                ("Date", &date),
                ("Message-ID", &mail.message_id),
                (
                    "List-Unsubscribe",
                    mail.unsubscribe_url.as_deref().unwrap_or("(none)")
                ),
            ],
            &mail.text,
            &mail.html,
        )
    );
}

#[test]
fn a_weekly_digest_with_trending_picks_and_a_saved_search() {
    let Some(mut fixture) = fixture() else { return };
    let _bound = settings().bind_to_scope();
    let mut member = request("member@example.org", Frequency::Weekly);
    member.owner = Some(7);
    member.queries = vec!["language model".to_owned()];
    let subscription = fixture.confirmed(member);
    // The member upvoted the three papers of the next week closest to a diffusion
    // paper of this one: picks close to them, with the closest as the reason.
    let text_of = |p: &StoredPaper| {
        load::hashed_embedding(&format!(
            "{} {}",
            p.paper.metadata.title, p.paper.metadata.abstract_text
        ))
    };
    let papers = |from: &str, to: &str| {
        fixture
            .store
            .papers_new_between(from.parse().expect("day"), to.parse().expect("day"))
            .expect("papers")
    };
    let target = papers("2024-01-01", "2024-01-08")
        .into_iter()
        .find(|p| p.paper.metadata.title.contains("Diffusion"))
        .map(|p| text_of(&p))
        .expect("a diffusion paper");
    let mut next_week = papers("2024-01-08", "2024-01-13");
    next_week.sort_by(|a, b| {
        let similarity = |p: &StoredPaper| papers_rank::recommend::cosine(&text_of(p), &target);
        similarity(b)
            .total_cmp(&similarity(a))
            .then(a.key.cmp(&b.key))
    });
    let upvoted: Vec<i64> = next_week.iter().take(3).map(|p| p.key).collect();
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
    let digest = fixture
        .digests
        .preview(
            &fixture.store,
            &sources,
            &subscription,
            "2024-01-08".parse().expect("day"),
            now(),
        )
        .expect("preview")
        .expect("a digest");
    insta::assert_snapshot!(
        "weekly_digest",
        whole(&digest.subject, &[], &digest.text, &digest.html)
    );

    // Without votes or matches: the trending section alone.
    let plain = fixture.confirmed(request("plain@example.org", Frequency::Daily));
    let sources = Sources {
        search: &TermSearch,
        votes: &NoVotes,
    };
    let digest = fixture
        .digests
        .preview(
            &fixture.store,
            &sources,
            &plain,
            "2024-01-03".parse().expect("day"),
            now(),
        )
        .expect("preview")
        .expect("a digest");
    insta::assert_snapshot!(
        "daily_digest",
        whole(&digest.subject, &[], &digest.text, &digest.html)
    );
}
