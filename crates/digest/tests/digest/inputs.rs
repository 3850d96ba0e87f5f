//! Bad input: invalid addresses, header injection, tampered and expired tokens. Each
//! gets a clear error and changes nothing.

use chrono::Duration;
use papers_digest::{
    DigestError, Frequency, Mail, SmtpConfig, SubscribeOutcome, SubscriptionStatus, TokenError,
};

use crate::support::{BASE, fixture, link, now, request, token_of};

#[test]
fn an_invalid_address_gets_an_error_naming_it() {
    let Some(mut fixture) = fixture() else { return };
    for bad in [
        "not-an-address",
        "alice@",
        "alice@example.org\r\nBcc: eve@example.org",
        "a b@example.org",
    ] {
        let error = fixture
            .digests
            .subscribe(&mut fixture.store, &request(bad, Frequency::Daily), now())
            .expect_err(bad);
        assert!(matches!(error, DigestError::Email(_)), "{error}");
        assert!(error.to_string().contains(&format!("{bad:?}")), "{error}");
    }
    assert!(
        fixture
            .store
            .subscription_by_email("not-an-address")
            .expect("read")
            .is_none()
    );
}

#[test]
fn line_breaks_are_refused_wherever_they_could_reach_a_header() {
    let Some(mut fixture) = fixture() else { return };
    let mut with_query = request("alice@example.org", Frequency::Daily);
    with_query.queries = vec!["llm\r\nSubject: spam".to_owned()];
    assert!(matches!(
        fixture
            .digests
            .subscribe(&mut fixture.store, &with_query, now()),
        Err(DigestError::Invalid { field: "query", .. })
    ));
    let mut with_category = request("alice@example.org", Frequency::Daily);
    with_category.categories = vec!["cs.CL\n".to_owned()];
    assert!(
        fixture
            .digests
            .subscribe(&mut fixture.store, &with_category, now())
            .is_err()
    );
    assert!(
        fixture
            .store
            .subscription_by_email("alice@example.org")
            .expect("read")
            .is_none()
    );
    let error = SmtpConfig::new(
        "smtp://127.0.0.1:25",
        None,
        "Papers <p@papers.test>\nBcc: eve@example.org",
        BASE,
    )
    .expect_err("injected sender");
    assert!(error.to_string().contains("line break"), "{error}");
}

#[test]
fn tampered_or_expired_tokens_are_errors_and_change_nothing() {
    let Some(mut fixture) = fixture() else { return };
    let subscribed = fixture
        .digests
        .subscribe(
            &mut fixture.store,
            &request("alice@example.org", Frequency::Daily),
            now(),
        )
        .expect("subscribe");
    let mail: Mail = subscribed.mail.expect("confirmation");
    let token = token_of(&link(&mail.text, &format!("{BASE}/subscriptions/confirm/"))).to_owned();
    let id = subscribed.subscription.id;
    let status = |fixture: &crate::support::Fixture| {
        fixture
            .store
            .subscription(id)
            .expect("read")
            .expect("exists")
            .status
    };

    let mut tampered = token.clone();
    let last = tampered.pop().map(|c| if c == 'a' { 'b' } else { 'a' });
    tampered.extend(last);
    let other_id = token.replacen(&format!("{id}."), &format!("{}.", id + 1), 1);
    for bad in [tampered.as_str(), other_id.as_str(), "garbage", ""] {
        let error = fixture
            .digests
            .confirm(&fixture.store, bad, now())
            .expect_err(bad);
        assert!(matches!(error, DigestError::Token(_)), "{error}");
        assert_eq!(status(&fixture), SubscriptionStatus::Pending);
    }
    let late = now() + Duration::hours(49);
    assert!(matches!(
        fixture.digests.confirm(&fixture.store, &token, late),
        Err(DigestError::Token(TokenError::Expired(_)))
    ));
    assert_eq!(status(&fixture), SubscriptionStatus::Pending);
    // A confirmation token does not unsubscribe, nor the reverse.
    assert!(
        fixture
            .digests
            .unsubscribe(&fixture.store, &token, now())
            .is_err()
    );
    fixture
        .digests
        .confirm(&fixture.store, &token, now())
        .expect("genuine token");
    assert_eq!(status(&fixture), SubscriptionStatus::Confirmed);
}

#[test]
fn the_owner_changes_the_one_row_through_the_manage_link() {
    let Some(mut fixture) = fixture() else { return };
    let first = fixture.confirmed(request("alice@example.org", Frequency::Daily));
    let mut change = request("ALICE@example.org ", Frequency::Weekly);
    change.categories = vec!["cs.CL".to_owned()];
    let updated = fixture.confirmed_update(change);
    assert_eq!(updated.id, first.id);
    assert_eq!(
        (updated.frequency, updated.status),
        (Frequency::Weekly, SubscriptionStatus::Confirmed)
    );
    assert_eq!(updated.categories, ["cs.CL"]);
    assert_eq!(updated.user_id, None, "a manage link links no member");
    assert_eq!(
        fixture
            .store
            .confirmed_subscriptions(Frequency::Daily)
            .expect("read")
            .len(),
        0
    );
    assert_eq!(
        fixture
            .store
            .confirmed_subscriptions(Frequency::Weekly)
            .expect("read")
            .len(),
        1
    );
}

#[test]
fn a_verified_owner_changes_and_links_their_subscription_directly() {
    let Some(mut fixture) = fixture() else { return };
    let first = fixture.confirmed(request("alice@example.org", Frequency::Daily));
    let mut change = request("alice@example.org", Frequency::Weekly);
    change.categories = vec!["cs.IR".to_owned()];
    change.owner = Some(3);
    let subscribed = fixture
        .digests
        .subscribe(&mut fixture.store, &change, now())
        .expect("owner");
    assert_eq!(subscribed.outcome, SubscribeOutcome::Owned);
    assert!(subscribed.mail.is_none());
    let owned = subscribed.subscription;
    assert_eq!(
        (owned.id, owned.frequency, owned.status, owned.user_id),
        (
            first.id,
            Frequency::Weekly,
            SubscriptionStatus::Confirmed,
            Some(3)
        )
    );
    assert_eq!(owned.categories, ["cs.IR"]);
}
