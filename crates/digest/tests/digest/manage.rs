//! Subscriptions changed only by their owner, in the engine: a request for an address
//! that has a subscription changes nothing and mails a manage link (through the real
//! SMTP server), at most one such mail per address and interval, each link good for
//! one purpose, and unsubscribe links that survive anything but a new subscription.

use chrono::Duration;
use papers_digest::{
    DigestError, Frequency, MAIL_INTERVAL, Preferences, Purpose, SubscribeOutcome,
    SubscriptionStatus, TokenError,
};

use crate::smtp::send;
use crate::support::{BASE, Fixture, SmtpServer, fixture, link, now, request, token_of};

/// `url` with each signed token's MAC (the only part that varies between runs: it
/// covers a random nonce) replaced, keeping its id, purpose and expiry readable.
fn redact_tokens(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = [
        "/subscriptions/manage/",
        "/subscriptions/confirm/",
        "?token=",
    ]
    .iter()
    .filter_map(|prefix| rest.find(prefix).map(|i| i + prefix.len()))
    .min()
    {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.'))
            .unwrap_or(rest.len());
        let token = &rest[..end];
        match token.rsplit_once('.') {
            Some((fields, mac)) if mac.len() == 32 => {
                out.push_str(fields);
                out.push_str(".[mac]");
            }
            _ => out.push_str(token),
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// The request a stranger makes for someone else's address.
fn strangers_request(email: &str) -> papers_digest::SubscribeRequest {
    let mut attack = request(email, Frequency::Weekly);
    attack.categories = vec!["hep-th".to_owned()];
    attack.queries = vec!["claim your prize at evil.example".to_owned()];
    attack
}

fn subscription(fixture: &Fixture, email: &str) -> papers_store::Subscription {
    fixture
        .store
        .subscription_by_email(email)
        .expect("read")
        .expect("row")
}

#[test]
fn a_strangers_request_changes_nothing_and_mails_the_owner_a_manage_link() {
    if !papers_testkit::smtp_available() {
        return;
    }
    let server = SmtpServer::start(&[]);
    let Some(mut fixture) = fixture() else { return };
    let mut own = request("alice@example.org", Frequency::Daily);
    own.categories = vec!["cs.CL".to_owned()];
    fixture.confirmed(own);
    let before = subscription(&fixture, "alice@example.org");

    let later = now() + MAIL_INTERVAL;
    let subscribed = fixture
        .digests
        .subscribe(
            &mut fixture.store,
            &strangers_request("alice@example.org"),
            later,
        )
        .expect("request");
    assert_eq!(subscribed.outcome, SubscribeOutcome::Existing);
    assert_eq!(subscribed.subscription, before);
    assert_eq!(subscription(&fixture, "alice@example.org"), before);
    server
        .mailer()
        .send(&subscribed.mail.expect("manage mail"))
        .expect("sent");

    let received = server.messages_to("alice@example.org").pop().expect("mail");
    assert_eq!(
        received.header("Subject"),
        Some("Manage your Daily Papers subscription")
    );
    assert_eq!(received.header("List-Unsubscribe"), None);
    let text = received.part("text/plain");
    let html = received.part("text/html");
    for part in [text, html] {
        assert!(
            !part.contains("evil.example") && !part.contains("hep-th"),
            "the stranger's preferences are not mailed: {part}"
        );
    }
    let manage = link(text, &format!("{BASE}/subscriptions/manage/"));
    assert!(html.contains(&format!("href=\"{manage}\"")), "{html}");
    let preview = link(text, &format!("{BASE}/digest/preview?token="));
    assert!(
        !text.contains("/subscriptions/confirm/"),
        "a confirmed subscription needs no confirmation link: {text}"
    );

    // Each link does its one thing.
    let manage_token = token_of(&manage);
    let preview_token = preview.rsplit('=').next().expect("token");
    for (token, purpose) in [
        (manage_token, Purpose::Manage),
        (preview_token, Purpose::Preview),
    ] {
        for other in Purpose::ALL.into_iter().filter(|p| *p != purpose) {
            assert!(
                fixture
                    .digests
                    .verified(&fixture.store, token, other, later)
                    .is_err(),
                "a {purpose:?} link works as {other:?}"
            );
        }
        fixture
            .digests
            .verified(&fixture.store, token, purpose, later)
            .expect("its own purpose");
    }
    assert!(
        fixture
            .digests
            .unsubscribe(&fixture.store, manage_token, later)
            .is_err()
    );

    // The owner changes it through the link, until the link expires.
    let preferences = Preferences {
        frequency: Frequency::Weekly,
        categories: vec!["cs.IR".to_owned()],
        queries: vec!["dense retrieval".to_owned()],
    };
    let changed = fixture
        .digests
        .update_preferences(&fixture.store, manage_token, &preferences, later)
        .expect("owner's change");
    assert_eq!(
        (changed.frequency, changed.status, changed.queries.clone()),
        (
            Frequency::Weekly,
            SubscriptionStatus::Confirmed,
            vec!["dense retrieval".to_owned()]
        )
    );
    let expired = fixture.digests.update_preferences(
        &fixture.store,
        manage_token,
        &preferences,
        later + Duration::hours(24),
    );
    assert!(
        matches!(expired, Err(DigestError::Token(TokenError::Expired(_)))),
        "{expired:?}"
    );
}

#[test]
fn a_pending_address_gets_a_manage_mail_with_its_confirmation_link() {
    let Some(mut fixture) = fixture() else { return };
    let first = fixture
        .digests
        .subscribe(
            &mut fixture.store,
            &request("bob@example.org", Frequency::Daily),
            now(),
        )
        .expect("subscribe");
    assert_eq!(first.outcome, SubscribeOutcome::Started);
    let later = now() + MAIL_INTERVAL;
    let again = fixture
        .digests
        .subscribe(
            &mut fixture.store,
            &strangers_request("bob@example.org"),
            later,
        )
        .expect("again");
    assert_eq!(again.outcome, SubscribeOutcome::Existing);
    assert_eq!(again.subscription, first.subscription);
    let mail = again.mail.expect("manage mail");
    let confirm = link(&mail.text, &format!("{BASE}/subscriptions/confirm/"));
    let confirmed = fixture
        .digests
        .confirm(&fixture.store, token_of(&confirm), later)
        .expect("confirm from the manage mail");
    assert_eq!(
        (confirmed.status, confirmed.frequency),
        (SubscriptionStatus::Confirmed, Frequency::Daily)
    );
}

#[test]
fn the_manage_mail_reads_as_designed() {
    let Some(mut fixture) = fixture() else { return };
    let pending = fixture
        .digests
        .subscribe(
            &mut fixture.store,
            &request("carol@example.org", Frequency::Weekly),
            now(),
        )
        .expect("subscribe")
        .subscription;
    let confirmed = fixture.confirmed(request("dave@example.org", Frequency::Daily));
    for (name, subscription) in [("pending", pending), ("confirmed", confirmed)] {
        let mail = fixture
            .digests
            .manage_mail(&subscription, now())
            .expect("manage mail");
        assert_eq!(mail.subject, "Manage your Daily Papers subscription");
        assert!(mail.unsubscribe_url.is_none());
        insta::assert_snapshot!(format!("manage_{name}_text"), redact_tokens(&mail.text));
        insta::assert_snapshot!(format!("manage_{name}_html"), redact_tokens(&mail.html));
    }
}

#[test]
fn a_flood_of_requests_mails_an_address_once_per_interval() {
    let Some(mut fixture) = fixture() else { return };
    let mails: Vec<bool> = (0..15)
        .map(|_| {
            fixture
                .digests
                .subscribe(
                    &mut fixture.store,
                    &request("erin@example.org", Frequency::Daily),
                    now(),
                )
                .expect("request")
                .mail
                .is_some()
        })
        .collect();
    assert_eq!(
        mails.iter().filter(|m| **m).count(),
        1,
        "one confirmation for fifteen requests: {mails:?}"
    );
    assert!(mails[0]);
    let just_before = now() + MAIL_INTERVAL - Duration::seconds(1);
    let early = fixture
        .digests
        .subscribe(
            &mut fixture.store,
            &request("erin@example.org", Frequency::Daily),
            just_before,
        )
        .expect("request");
    assert!(early.mail.is_none());
    // A mail that could not be sent frees the slot for the next request.
    let later = now() + MAIL_INTERVAL;
    let due = fixture
        .digests
        .subscribe(
            &mut fixture.store,
            &request("erin@example.org", Frequency::Daily),
            later,
        )
        .expect("request");
    assert!(due.mail.is_some());
    fixture
        .digests
        .mail_not_sent(&fixture.store, &due, later)
        .expect("release");
    let retry = fixture
        .digests
        .subscribe(
            &mut fixture.store,
            &request("erin@example.org", Frequency::Daily),
            later,
        )
        .expect("retry");
    assert!(retry.mail.is_some());
}

#[test]
fn unsubscribe_links_survive_requests_and_die_with_a_new_subscription() {
    if !papers_testkit::smtp_available() {
        return;
    }
    let server = SmtpServer::start(&[]);
    let Some(mut fixture) = fixture() else { return };
    fixture.confirmed(request("frank@example.org", Frequency::Daily));
    let report = send(&mut fixture, &server, Frequency::Daily, "2024-01-03");
    assert_eq!(report.sent, 1, "{report:?}");
    let digest = server
        .messages_to("frank@example.org")
        .pop()
        .expect("digest");
    let header = digest.header("List-Unsubscribe").expect("header");
    let old_link = token_of(&header[1..header.len() - 1]).to_owned();

    // Someone asks to subscribe the address: the digest's link still works, twice.
    let later = now() + MAIL_INTERVAL;
    fixture
        .digests
        .subscribe(
            &mut fixture.store,
            &strangers_request("frank@example.org"),
            later,
        )
        .expect("request");
    let done = fixture
        .digests
        .unsubscribe(&fixture.store, &old_link, later)
        .expect("one click");
    assert!(done.changed);
    assert!(
        !fixture
            .digests
            .unsubscribe(&fixture.store, &old_link, later)
            .expect("repeated click")
            .changed
    );

    // Subscribing again starts a new subscription: the old link is revoked.
    let again = later + MAIL_INTERVAL;
    let started = fixture
        .digests
        .subscribe(
            &mut fixture.store,
            &request("frank@example.org", Frequency::Daily),
            again,
        )
        .expect("subscribe again");
    assert_eq!(started.outcome, SubscribeOutcome::Started);
    let confirm = link(
        &started.mail.expect("confirmation").text,
        &format!("{BASE}/subscriptions/confirm/"),
    );
    let back = fixture
        .digests
        .confirm(&fixture.store, token_of(&confirm), again)
        .expect("confirm");
    assert_eq!(back.status, SubscriptionStatus::Confirmed);
    let refused = fixture
        .digests
        .unsubscribe(&fixture.store, &old_link, again);
    assert!(
        matches!(refused, Err(DigestError::Token(TokenError::BadSignature))),
        "{refused:?}"
    );
    assert_eq!(
        subscription(&fixture, "frank@example.org").status,
        SubscriptionStatus::Confirmed
    );
    // The new subscription's own links work.
    let fresh = fixture.digests.links().unsubscribe(&back, again);
    fixture
        .digests
        .unsubscribe(&fixture.store, token_of(&fresh), again)
        .expect("new link");
}

#[test]
fn the_redaction_keeps_what_the_snapshot_should_show() {
    let text =
        "open http://x/subscriptions/manage/12.m.1704369600.0123456789abcdef0123456789abcdef now";
    assert_eq!(
        redact_tokens(text),
        "open http://x/subscriptions/manage/12.m.1704369600.[mac] now"
    );
}
