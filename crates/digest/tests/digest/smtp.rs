//! End to end through a real SMTP server: confirmation, the digest's MIME structure,
//! headers and contents, one-click unsubscribe, exactly-once sending, one message in
//! flight at a time, a refused recipient, temporary failures, and a server that is
//! down.

use chrono::NaiveDate;
use papers_digest::{
    Frequency, NoVotes, Report, SendRequest, Sources, SubscriptionStatus, TermSearch,
};
use serde_json::Value;

use crate::load;
use crate::support::{BASE, Fixture, SmtpServer, fixture, link, now, request, token_of};

fn day(text: &str) -> NaiveDate {
    text.parse().expect("valid date")
}

pub(crate) fn send(
    fixture: &mut Fixture,
    server: &SmtpServer,
    frequency: Frequency,
    as_of: &str,
) -> Report {
    let sources = Sources {
        search: &TermSearch,
        votes: &NoVotes,
    };
    let request = SendRequest {
        frequency,
        as_of: day(as_of),
        now: now(),
        dry_run: false,
    };
    fixture
        .digests
        .send_digests(&mut fixture.store, &server.mailer(), &sources, &request)
        .expect("send runs")
}

/// Titles of the feed day's papers, most upvoted first, read straight from the data.
fn feed_titles_by_upvotes(feed_day: &str) -> Vec<(u64, String)> {
    let path = load::shared(load::HF_DIR).join(format!("daily_papers_{feed_day}.json"));
    let items: Vec<Value> =
        serde_json::from_slice(&std::fs::read(path).expect("file")).expect("json");
    let mut titles: Vec<(u64, String)> = items
        .iter()
        .map(|i| {
            let upvotes = i["paper"]["upvotes"].as_u64().unwrap_or(0);
            let title = i["title"]
                .as_str()
                .unwrap_or("")
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            (upvotes, title)
        })
        .collect();
    titles.sort_by_key(|(upvotes, _)| std::cmp::Reverse(*upvotes));
    titles
}

#[test]
fn subscribe_confirm_receive_and_unsubscribe_in_one_click() {
    if !papers_testkit::smtp_available() {
        return;
    }
    let server = SmtpServer::start(&[]);
    let Some(mut fixture) = fixture() else { return };
    let subscribed = fixture
        .digests
        .subscribe(
            &mut fixture.store,
            &request("Alice@Example.org", Frequency::Daily),
            now(),
        )
        .expect("subscribe");
    assert_eq!(subscribed.subscription.status, SubscriptionStatus::Pending);
    assert_eq!(subscribed.subscription.email, "alice@example.org");
    server
        .mailer()
        .send(&subscribed.mail.expect("confirmation"))
        .expect("confirmation sent");

    // Nothing is sent before the address is confirmed.
    let report = send(&mut fixture, &server, Frequency::Daily, "2024-01-03");
    assert_eq!((report.subscribers, report.sent), (0, 0));

    let confirmation = server
        .messages_to("alice@example.org")
        .pop()
        .expect("confirmation received");
    assert_eq!(
        confirmation.header("Subject"),
        Some("Confirm your Daily Papers subscription")
    );
    let url = link(
        confirmation.part("text/plain"),
        &format!("{BASE}/subscriptions/confirm/"),
    );
    assert!(
        confirmation
            .part("text/html")
            .contains(&format!("href=\"{url}\""))
    );
    let confirmed = fixture
        .digests
        .confirm(&fixture.store, token_of(&url), now())
        .expect("confirm");
    assert_eq!(confirmed.status, SubscriptionStatus::Confirmed);

    let report = send(&mut fixture, &server, Frequency::Daily, "2024-01-03");
    assert_eq!(
        (report.period_key.as_str(), report.sent, report.failed.len()),
        ("daily:2024-01-02", 1, 0),
        "{report:?}"
    );
    let digest = server
        .messages_to("alice@example.org")
        .pop()
        .expect("digest received");

    // Structure: multipart/alternative with a plain and an HTML part, nothing else.
    assert_eq!(digest.content_type, "multipart/alternative");
    let types: Vec<&str> = digest
        .parts
        .iter()
        .map(|p| p.content_type.as_str())
        .collect();
    assert_eq!(types, ["text/plain", "text/html"]);
    assert_eq!(
        digest.header("From"),
        Some("Daily Papers <papers@papers.test>")
    );
    assert_eq!(
        digest.header("Subject"),
        Some("Your daily papers: Tuesday 2 January 2024")
    );
    assert!(
        digest
            .header("Message-ID")
            .is_some_and(|id| id.starts_with("<digest.daily.2024-01-02."))
    );

    // RFC 8058: exactly one HTTPS-or-HTTP URI in angle brackets, and the POST marker.
    let unsubscribe = digest.header("List-Unsubscribe").expect("List-Unsubscribe");
    assert!(
        digest
            .raw_headers
            .iter()
            .any(|(k, v)| k == "List-Unsubscribe" && v == unsubscribe),
        "sent as is, not encoded or folded: {:?}",
        digest.raw_headers
    );
    assert!(
        unsubscribe.starts_with(&format!("<{BASE}/unsubscribe/")) && unsubscribe.ends_with('>'),
        "{unsubscribe}"
    );
    let raw_post: Vec<&str> = digest
        .raw_headers
        .iter()
        .filter(|(k, _)| k == "List-Unsubscribe-Post")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(raw_post, ["List-Unsubscribe=One-Click"]);

    // Contents: the day's papers, most upvoted first, linked on the public URL.
    let text = digest.part("text/plain");
    let html = digest.part("text/html");
    let expected = feed_titles_by_upvotes("2024-01-02");
    let (top_votes, top_title) = &expected[0];
    assert!(*top_votes > expected[1].0, "the data's top paper is unique");
    let first_listed = text
        .lines()
        .find(|l| l.starts_with("* "))
        .expect("a listed paper");
    assert_eq!(first_listed, format!("* {top_title}"));
    assert!(text.contains(&format!("{BASE}/papers/")), "{text}");
    assert!(html.contains(&format!("href=\"{BASE}/papers/")), "{html}");
    assert!(html.contains("style=") && !html.to_lowercase().contains("<script"));
    let unsubscribe_url = &unsubscribe[1..unsubscribe.len() - 1];
    assert!(text.contains(unsubscribe_url) && html.contains(unsubscribe_url));

    // One click (the POST the web route forwards), twice: harmless.
    let first = fixture
        .digests
        .unsubscribe(&fixture.store, token_of(unsubscribe_url), now())
        .expect("unsubscribe");
    assert!(first.changed);
    assert_eq!(first.subscription.status, SubscriptionStatus::Unsubscribed);
    let again = fixture
        .digests
        .unsubscribe(&fixture.store, token_of(unsubscribe_url), now())
        .expect("repeat");
    assert!(!again.changed);
    // The old confirmation link cannot bring the subscription back.
    assert!(
        fixture
            .digests
            .confirm(&fixture.store, token_of(&url), now())
            .is_err()
    );
    let report = send(&mut fixture, &server, Frequency::Daily, "2024-01-04");
    assert_eq!((report.subscribers, report.sent), (0, 0));
    assert_eq!(server.messages_to("alice@example.org").len(), 2);
}

#[test]
fn running_twice_sends_nothing_twice_and_papers_are_never_repeated() {
    if !papers_testkit::smtp_available() {
        return;
    }
    let server = SmtpServer::start(&[]);
    let Some(mut fixture) = fixture() else { return };
    fixture.confirmed(request("alice@example.org", Frequency::Daily));
    fixture.confirmed(request("bob@example.org", Frequency::Daily));
    let first = send(&mut fixture, &server, Frequency::Daily, "2024-01-03");
    assert_eq!((first.sent, first.already_sent), (2, 0));
    let second = send(&mut fixture, &server, Frequency::Daily, "2024-01-03");
    assert_eq!((second.sent, second.already_sent), (0, 2), "{second:?}");
    assert_eq!(server.messages().len(), 2);

    // Alice moves to weekly; the week's digest leaves out what she got on Tuesday.
    let daily_text = server.messages_to("alice@example.org")[0]
        .part("text/plain")
        .to_owned();
    fixture.confirmed_update(request("alice@example.org", Frequency::Weekly));
    let weekly = send(&mut fixture, &server, Frequency::Weekly, "2024-01-08");
    assert_eq!(
        (weekly.period_key.as_str(), weekly.sent),
        ("weekly:2024-W01", 1)
    );
    let weekly_text = server
        .messages_to("alice@example.org")
        .pop()
        .expect("weekly")
        .part("text/plain")
        .to_owned();
    let listed = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| l.starts_with("* "))
            .map(str::to_owned)
            .collect()
    };
    let repeated: Vec<String> = listed(&weekly_text)
        .into_iter()
        .filter(|t| listed(&daily_text).contains(t))
        .collect();
    assert!(repeated.is_empty(), "sent again: {repeated:?}");
    assert!(!listed(&weekly_text).is_empty());
}

#[test]
fn a_refused_recipient_does_not_stop_the_others_and_temporary_failures_are_retried() {
    if !papers_testkit::smtp_available() {
        return;
    }
    let server = SmtpServer::start(&[
        "--refuse",
        "bob@example.org",
        "--tempfail",
        "carol@example.org=1",
        "--tempfail",
        "dave@example.org=-1",
    ]);
    let Some(mut fixture) = fixture() else { return };
    for name in ["alice", "bob", "carol", "dave", "erin"] {
        fixture.confirmed(request(&format!("{name}@example.org"), Frequency::Daily));
    }
    let report = send(&mut fixture, &server, Frequency::Daily, "2024-01-03");
    assert_eq!(report.sent, 3, "{report:?}");
    let failed: Vec<&str> = report
        .failed
        .iter()
        .map(|(email, _)| email.as_str())
        .collect();
    assert_eq!(failed, ["bob@example.org", "dave@example.org"]);
    assert!(report.failed[0].1.contains("550"), "{:?}", report.failed[0]);
    assert!(
        report.failed[1].1.contains("451") && report.failed[1].1.contains("3 attempts"),
        "{:?}",
        report.failed[1]
    );
    for name in ["alice", "carol", "erin"] {
        assert_eq!(
            server.messages_to(&format!("{name}@example.org")).len(),
            1,
            "{name}"
        );
    }
    // The failed ones are retried by the next run; the delivered ones are not.
    let again = send(&mut fixture, &server, Frequency::Daily, "2024-01-03");
    assert_eq!(
        (again.sent, again.already_sent, again.failed.len()),
        (0, 3, 2),
        "{again:?}"
    );
}

#[test]
fn a_server_that_is_down_is_reported_and_the_next_run_catches_up() {
    if !papers_testkit::smtp_available() {
        return;
    }
    let mut server = SmtpServer::reserved(&[]);
    let Some(mut fixture) = fixture() else { return };
    for name in ["alice", "bob", "carol", "dave", "erin"] {
        fixture.confirmed(request(&format!("{name}@example.org"), Frequency::Daily));
    }
    let down = send(&mut fixture, &server, Frequency::Daily, "2024-01-03");
    assert_eq!((down.sent, down.failed.len()), (0, 5), "{down:?}");
    assert!(
        down.failed
            .iter()
            .all(|(_, reason)| reason.contains("unreachable")),
        "{down:?}"
    );

    server.launch();
    let up = send(&mut fixture, &server, Frequency::Daily, "2024-01-03");
    assert_eq!(
        (up.sent, up.already_sent, up.failed.len()),
        (5, 0, 0),
        "{up:?}"
    );
    assert_eq!(server.messages().len(), 5);
}

#[test]
fn a_run_stopped_mid_send_resumes_with_at_most_the_in_flight_digest_repeated() {
    if !papers_testkit::smtp_available() {
        return;
    }
    let server = SmtpServer::start(&[]);
    let Some(mut fixture) = fixture() else { return };
    let alice = fixture.confirmed(request("alice@example.org", Frequency::Daily));
    fixture.confirmed(request("bob@example.org", Frequency::Daily));
    // A stopped run: it had claimed Alice's digest and died before recording it.
    assert!(
        fixture
            .store
            .claim_digest_send(alice.id, "daily:2024-01-02", now())
            .expect("claim")
    );
    let report = send(&mut fixture, &server, Frequency::Daily, "2024-01-03");
    assert_eq!((report.sent, report.resumed), (2, 1), "{report:?}");
    let again = send(&mut fixture, &server, Frequency::Daily, "2024-01-03");
    assert_eq!((again.sent, again.already_sent), (0, 2));
}

#[test]
fn one_connection_carries_every_digest_with_one_message_in_flight() {
    if !papers_testkit::smtp_available() {
        return;
    }
    // Each DATA takes 5 ms on the server, so overlapping transactions would show.
    let server = SmtpServer::start(&["--data-delay-ms", "5"]);
    let Some(mut fixture) = fixture() else { return };
    let readers = 40;
    for n in 0..readers {
        fixture.confirmed(request(&format!("reader{n}@example.org"), Frequency::Daily));
    }
    // aiosmtpd's controller connects once itself to see that the server is up.
    let before = server.stats()["total"]["connections"]
        .as_u64()
        .expect("count");
    let report = send(&mut fixture, &server, Frequency::Daily, "2024-01-03");
    assert_eq!(
        (report.sent, report.failed.len()),
        (readers, 0),
        "{report:?}"
    );
    assert_eq!(server.messages().len(), readers);
    let stats = server.stats();
    // One message between claim and record is what bounds a crash to one duplicate.
    assert_eq!(stats["most"]["data"], 1, "{stats}");
    assert_eq!(stats["most"]["connections"], 1, "{stats}");
    assert_eq!(stats["total"]["data"], readers, "{stats}");
    assert_eq!(
        stats["total"]["connections"].as_u64(),
        Some(before + 1),
        "one connection, kept open across messages: {stats}"
    );
}
