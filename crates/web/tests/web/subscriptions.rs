//! Subscriptions changed only by their owner, each finding of issue 14 written as the
//! attack, through the router and a real SMTP server: a stranger rewriting a confirmed
//! subscriber's digest, answers that tell subscribed addresses apart, an account made
//! with someone else's address taking their subscription over, mail floods (per
//! address and per client), an unsubscribe link opening the preview, unsubscribe links
//! that cannot be revoked, and a preview that is not the digest. Each runs on both store
//! engines.

use std::sync::Arc;

use axum::http::StatusCode;
use chrono::{Duration, NaiveDate, Utc};
use papers_digest::{
    Frequency, Mailer, NoVotes, Report, SavedSearch, SendRequest, SourceError, Sources,
    SubscribeRequest, SubscriptionStatus, TermSearch,
};
use papers_store::{Store, StoredPaper, Subscription};
use papers_web::{SearchBackend, SearchError, SearchHit, SearchOutcome, SearchRequest};

use crate::common::{TestApp, TitleSearch, csrf_in, set_cookie};
use crate::engines::{Engine, SiteStore};
use crate::mail::{
    BASE, SmtpServer, api_subscribe, digests, link_path, mail_site, post_form_from, site_over,
    smtp_available,
};

const VICTIM: &str = "victim@example.org";
const ATTACKER_IP: [u8; 4] = [203, 0, 113, 66];

fn request(email: &str, frequency: Frequency, categories: &[&str]) -> SubscribeRequest {
    SubscribeRequest {
        email: email.to_owned(),
        frequency,
        categories: categories.iter().map(|c| (*c).to_owned()).collect(),
        queries: Vec::new(),
        owner: None,
    }
}

/// What the victim did an hour ago: subscribed (and, if `confirm`, followed the
/// confirmation link), with the site's own engine and secret. An hour ago, so the
/// address's mail slot is long free when the attack starts.
fn subscribed_an_hour_ago(
    app: &TestApp,
    request: &SubscribeRequest,
    confirm: bool,
) -> Subscription {
    app.with_store(|store| subscribe_directly(store, request, confirm))
}

fn subscribe_directly(
    store: &mut Store,
    request: &SubscribeRequest,
    confirm: bool,
) -> Subscription {
    let earlier = Utc::now() - Duration::hours(1);
    let engine = digests();
    let subscribed = engine
        .subscribe(store, request, earlier)
        .expect("subscribe");
    if confirm {
        let mail = subscribed.mail.expect("confirmation mail");
        let path = link_path(&mail.text, &format!("{BASE}/subscriptions/confirm/"));
        let token = path.rsplit('/').next().expect("token");
        engine.confirm(store, token, earlier).expect("confirm");
    }
    subscription_in(store, &request.email)
}

/// The subscription of `email` as the site's store holds it now.
fn row(app: &TestApp, email: &str) -> Subscription {
    app.with_store(|store| subscription_in(store, email))
}

fn subscription_in(store: &Store, email: &str) -> Subscription {
    store
        .subscription_by_email(email)
        .expect("read")
        .expect("subscribed")
}

/// Mails the digests of `frequency` due on `as_of` through the real server, as the
/// sender does.
fn send_digests(app: &TestApp, server: &SmtpServer, frequency: Frequency, as_of: &str) -> Report {
    let mailer = server.mailer();
    app.with_store(|store| send_digests_in(store, &mailer, frequency, as_of))
}

fn send_digests_in(
    store: &mut Store,
    mailer: &Mailer,
    frequency: Frequency,
    as_of: &str,
) -> Report {
    let sources = Sources {
        search: &TermSearch,
        votes: &NoVotes,
    };
    let request = SendRequest {
        frequency,
        as_of: as_of.parse::<NaiveDate>().expect("date"),
        now: Utc::now(),
        dry_run: false,
    };
    digests()
        .send_digests(store, mailer, &sources, &request)
        .expect("send")
}

/// The unsubscribe link (a path) a received digest carries in `List-Unsubscribe`.
fn unsubscribe_path(server: &SmtpServer, email: &str) -> String {
    let digest = server
        .messages_to(email)
        .into_iter()
        .rev()
        .find(|m| m.subject().starts_with("Your "))
        .expect("a digest");
    let header = digest.header("List-Unsubscribe").expect("List-Unsubscribe");
    header[1..header.len() - 1]
        .strip_prefix(BASE)
        .expect("on the site")
        .to_owned()
}

async fn a_stranger_cannot_rewrite_a_confirmed_subscribers_digest(engine: Engine) {
    if !smtp_available() {
        return;
    }
    let server = SmtpServer::start();
    let Some(app) = mail_site(engine, &server) else {
        return;
    };
    let before = subscribed_an_hour_ago(&app, &request(VICTIM, Frequency::Daily, &["cs.IR"]), true);

    // No cookie, no token: the attacker's preferences and text for the victim's mail.
    let attack = api_subscribe(
        &app,
        ATTACKER_IP,
        r#"{"email":"victim@example.org","frequency":"weekly","categories":["hep-th"],"queries":["claim your prize at evil.example"]}"#,
    )
    .await;
    assert_eq!(attack.status, StatusCode::ACCEPTED, "{}", attack.text());
    assert!(
        !attack.text().contains("confirmed"),
        "the answer does not say the address is subscribed: {}",
        attack.text()
    );
    assert_eq!(
        row(&app, VICTIM),
        before,
        "the subscription is exactly as its owner left it"
    );

    // The owner hears of it, with a way to manage the subscription, and none of the
    // attacker's text.
    let mails = server.messages_to(VICTIM);
    assert_eq!(mails.len(), 1, "one mail: the manage link");
    let mail = &mails[0];
    assert_eq!(mail.subject(), "Manage your Daily Papers subscription");
    let text = mail.part("text/plain");
    assert!(
        !text.contains("evil.example") && !text.contains("hep-th"),
        "{text}"
    );

    // The owner's link opens the subscription as it is, and changes it.
    let manage = link_path(text, &format!("{BASE}/subscriptions/manage/"));
    let page = app.get(&manage).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("cs.IR") && page.body.contains(VICTIM),
        "{}",
        page.body
    );
    let pre = set_cookie(&page.headers, "papers_csrf").expect("pre-session cookie");
    let csrf = csrf_in(&page.body).expect("csrf");
    let forged = app
        .post_form(
            &manage,
            "csrf=wrong&frequency=weekly&categories=cs.CL",
            Some(&format!("papers_csrf={pre}")),
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let saved = app
        .post_form(
            &manage,
            &format!("csrf={csrf}&frequency=weekly&categories=cs.CL"),
            Some(&format!("papers_csrf={pre}")),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    let after = row(&app, VICTIM);
    assert_eq!(
        (after.frequency, after.categories, after.status),
        (
            Frequency::Weekly,
            vec!["cs.CL".to_owned()],
            SubscriptionStatus::Confirmed
        )
    );
}

async fn the_answer_is_the_same_bytes_for_new_pending_and_confirmed_addresses(engine: Engine) {
    if !smtp_available() {
        return;
    }
    let server = SmtpServer::start();
    let Some(app) = mail_site(engine, &server) else {
        return;
    };
    subscribed_an_hour_ago(
        &app,
        &request("pending@example.org", Frequency::Daily, &[]),
        false,
    );
    subscribed_an_hour_ago(
        &app,
        &request("confirmed@example.org", Frequency::Daily, &[]),
        true,
    );

    let body = |email: &str| {
        format!(r#"{{"email":"{email}","frequency":"weekly","categories":["cs.CL"]}}"#)
    };
    let new = api_subscribe(&app, [198, 51, 100, 1], &body("new@example.org")).await;
    let pending = api_subscribe(&app, [198, 51, 100, 2], &body("pending@example.org")).await;
    let confirmed = api_subscribe(&app, [198, 51, 100, 3], &body("confirmed@example.org")).await;
    // And again at once, when no mail may go out: the same answer still.
    let suppressed = api_subscribe(&app, [198, 51, 100, 4], &body("confirmed@example.org")).await;
    assert_eq!(new.status, StatusCode::ACCEPTED, "{}", new.text());
    assert_eq!(
        new, pending,
        "new and pending answer alike, headers and bytes"
    );
    assert_eq!(new, confirmed, "new and confirmed answer alike");
    assert_eq!(new, suppressed, "a suppressed mail answers alike");

    // Each mailbox got what fits it: a confirmation, or a manage link.
    let subjects = |email: &str| -> Vec<String> {
        server
            .messages_to(email)
            .iter()
            .map(|m| m.subject().to_owned())
            .collect()
    };
    assert_eq!(
        subjects("new@example.org"),
        ["Confirm your Daily Papers subscription"]
    );
    assert_eq!(
        subjects("pending@example.org"),
        ["Manage your Daily Papers subscription"]
    );
    assert_eq!(
        subjects("confirmed@example.org"),
        ["Manage your Daily Papers subscription"]
    );

    // The form answers alike too.
    let form = app.get("/subscribe").await;
    let pre = set_cookie(&form.headers, "papers_csrf").expect("pre-session cookie");
    let cookie = format!("papers_csrf={pre}");
    let token = csrf_in(&form.body).expect("csrf");
    let mut answers = Vec::new();
    for (n, email) in [
        "other@example.org",
        "pending@example.org",
        "confirmed@example.org",
    ]
    .into_iter()
    .enumerate()
    {
        let email = email.replace('@', "%40");
        let body = format!("csrf={token}&email={email}&frequency=daily&categories=cs.IR");
        let client = [198, 51, 100, 10 + n as u8];
        answers.push(post_form_from(&app, client, "/subscribe", &body, Some(&cookie)).await);
    }
    assert_eq!(answers[0].status, StatusCode::OK, "{}", answers[0].text());
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[0], answers[2]);
}

async fn an_account_made_with_someone_elses_address_does_not_take_over_their_subscription(
    engine: Engine,
) {
    if !smtp_available() {
        return;
    }
    let server = SmtpServer::start();
    let Some(app) = mail_site(engine, &server) else {
        return;
    };
    let before = subscribed_an_hour_ago(&app, &request(VICTIM, Frequency::Daily, &["cs.IR"]), true);

    // Sign-up does not prove the address: the attacker signs up with the victim's.
    let cookie = app.sign_up("victim").await;
    let page = app.get_as("/subscribe", Some(&cookie)).await;
    let csrf = csrf_in(&page.body).expect("csrf");
    let reply = app
        .post_form(
            "/subscribe",
            &format!("csrf={csrf}&frequency=weekly&categories=hep-th"),
            Some(&cookie),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let after = row(&app, VICTIM);
    assert_eq!(after, before, "not linked, not changed");

    // The member's pages show nothing of the victim's subscription.
    let preferences = app.get_as("/subscriptions", Some(&cookie)).await;
    assert_eq!(preferences.status, StatusCode::OK);
    for secret in ["/unsubscribe/", "cs.IR", "Your digest is active"] {
        assert!(
            !preferences.body.contains(secret),
            "{secret} in {}",
            preferences.body
        );
    }
    let preview = app
        .get_as("/digest/preview?as_of=2024-01-03", Some(&cookie))
        .await;
    assert!(
        preview.body.contains("No digest to preview"),
        "{}",
        preview.body
    );
    // Only the address's owner heard of the request, by mail (besides the sign-up's
    // verification link, which also went to the address, not to the member).
    let mails: Vec<_> = server
        .messages_to(VICTIM)
        .into_iter()
        .filter(|mail| !mail.subject().contains("Verify"))
        .collect();
    assert_eq!(
        mails.len(),
        1,
        "{:?}",
        mails.iter().map(|m| m.subject()).collect::<Vec<_>>()
    );
    assert_eq!(mails[0].subject(), "Manage your Daily Papers subscription");

    // A link made before addresses were verified (as the old code made them) proves
    // nothing either.
    app.with_store(|store| {
        let attacker = store.user_by_name("victim").expect("read").expect("member");
        store
            .set_owned_subscription(
                &papers_store::NewSubscription {
                    email: VICTIM.to_owned(),
                    frequency: Frequency::Daily,
                    categories: vec!["cs.IR".to_owned()],
                    queries: Vec::new(),
                    user_id: Some(attacker.id),
                    token_nonce: String::new(),
                    link_nonce: String::new(),
                },
                Utc::now(),
            )
            .expect("legacy link");
    });
    let preferences = app.get_as("/subscriptions", Some(&cookie)).await;
    assert!(
        !preferences.body.contains("/unsubscribe/") && !preferences.body.contains("cs.IR"),
        "{}",
        preferences.body
    );
}

async fn a_flood_of_requests_mails_an_address_once_across_clients_and_restarts(engine: Engine) {
    if !smtp_available() {
        return;
    }
    let server = SmtpServer::start();
    let Some(app) = mail_site(engine, &server) else {
        return;
    };
    let body = r#"{"email":"pending@example.org","frequency":"daily"}"#;
    let first = api_subscribe(&app, [198, 51, 100, 1], body).await;
    assert_eq!(first.status, StatusCode::ACCEPTED, "{}", first.text());
    // Fifteen more within a second, each from another client address (a per-client
    // limit would not stop this).
    for n in 0..15u8 {
        let reply = api_subscribe(&app, [198, 51, 100, 100 + n], body).await;
        assert_eq!(reply, first, "request {n}");
    }
    assert_eq!(server.messages_to("pending@example.org").len(), 1);

    // The slot is in the store: a restarted node (or another one) keeps to it.
    let restarted = site_over(app.stop(), &server, None);
    let reply = api_subscribe(&restarted, [198, 51, 100, 200], body).await;
    assert_eq!(reply, first);
    assert_eq!(server.messages_to("pending@example.org").len(), 1);
}

async fn one_client_cannot_have_many_addresses_mailed(engine: Engine) {
    if !smtp_available() {
        return;
    }
    let server = SmtpServer::start();
    let Some(app) = mail_site(engine, &server) else {
        return;
    };
    let limit = app.state.config().subscribe_per_minute as usize;
    let mut statuses = Vec::new();
    for n in 0..limit + 4 {
        let body = format!(r#"{{"email":"reader{n}@example.org","frequency":"daily"}}"#);
        statuses.push(api_subscribe(&app, ATTACKER_IP, &body).await.status);
    }
    assert!(
        statuses[..limit].iter().all(|s| *s == StatusCode::ACCEPTED),
        "{statuses:?}"
    );
    assert!(
        statuses[limit..]
            .iter()
            .all(|s| *s == StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    assert_eq!(server.messages().len(), limit);
    // Another client is not held up.
    let other = api_subscribe(
        &app,
        [198, 51, 100, 7],
        r#"{"email":"else@example.org","frequency":"daily"}"#,
    )
    .await;
    assert_eq!(other.status, StatusCode::ACCEPTED);
}

async fn an_unsubscribe_link_opens_neither_the_preview_nor_the_manage_page(engine: Engine) {
    if !smtp_available() {
        return;
    }
    let server = SmtpServer::start();
    let Some(app) = mail_site(engine, &server) else {
        return;
    };
    subscribed_an_hour_ago(&app, &request(VICTIM, Frequency::Daily, &[]), true);
    let report = send_digests(&app, &server, Frequency::Daily, "2024-01-03");
    assert_eq!(report.sent, 1, "{report:?}");
    let unsubscribe = unsubscribe_path(&server, VICTIM);
    let token = unsubscribe.rsplit('/').next().expect("token");

    // A digest is forwarded: its unsubscribe link must not show what the subscriber
    // reads, nor let anyone change it.
    let preview = app
        .get(&format!("/digest/preview?token={token}&as_of=2024-01-09"))
        .await;
    assert_eq!(preview.status, StatusCode::BAD_REQUEST, "{}", preview.body);
    assert!(
        !preview.body.contains("Quantum kernels"),
        "{}",
        preview.body
    );
    let manage = app.get(&format!("/subscriptions/manage/{token}")).await;
    assert_eq!(manage.status, StatusCode::BAD_REQUEST);

    // The owner's own preview link, from a manage mail, works; and no other link
    // works in its place.
    api_subscribe(
        &app,
        [198, 51, 100, 1],
        r#"{"email":"victim@example.org","frequency":"daily"}"#,
    )
    .await;
    let mail = server.messages_to(VICTIM).pop().expect("manage mail");
    let text = mail.part("text/plain");
    let preview_path = link_path(text, &format!("{BASE}/digest/preview?token="));
    let preview = app.get(&format!("{preview_path}&as_of=2024-01-09")).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    assert!(preview.body.contains("Quantum kernels"), "{}", preview.body);
    let preview_token = preview_path.rsplit('=').next().expect("token");
    let manage_path = link_path(text, &format!("{BASE}/subscriptions/manage/"));
    let manage_token = manage_path.rsplit('/').next().expect("token");
    for (path, what) in [
        (
            format!("/unsubscribe/{preview_token}"),
            "preview as unsubscribe",
        ),
        (
            format!("/subscriptions/manage/{preview_token}"),
            "preview as manage",
        ),
        (
            format!("/unsubscribe/{manage_token}"),
            "manage as unsubscribe",
        ),
        (
            format!("/digest/preview?token={manage_token}"),
            "manage as preview",
        ),
        (
            format!("/subscriptions/confirm/{manage_token}"),
            "manage as confirm",
        ),
    ] {
        assert_eq!(
            app.get(&path).await.status,
            StatusCode::BAD_REQUEST,
            "{what}"
        );
    }
    let refused = app
        .post_form(
            &format!("/unsubscribe/{manage_token}"),
            "List-Unsubscribe=One-Click",
            None,
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(row(&app, VICTIM).status, SubscriptionStatus::Confirmed);
}

async fn a_subscribe_request_leaves_the_one_click_unsubscribe_of_a_digest_just_sent_working(
    engine: Engine,
) {
    if !smtp_available() {
        return;
    }
    let server = SmtpServer::start();
    let Some(app) = mail_site(engine, &server) else {
        return;
    };
    subscribed_an_hour_ago(&app, &request(VICTIM, Frequency::Daily, &[]), true);
    send_digests(&app, &server, Frequency::Daily, "2024-01-03");
    let unsubscribe = unsubscribe_path(&server, VICTIM);

    let attack = api_subscribe(
        &app,
        ATTACKER_IP,
        r#"{"email":"victim@example.org","frequency":"weekly"}"#,
    )
    .await;
    assert_eq!(attack.status, StatusCode::ACCEPTED);
    let done = app
        .post_form(&unsubscribe, "List-Unsubscribe=One-Click", None)
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(row(&app, VICTIM).status, SubscriptionStatus::Unsubscribed);
    let again = app
        .post_form(&unsubscribe, "List-Unsubscribe=One-Click", None)
        .await;
    assert_eq!(
        again.status,
        StatusCode::OK,
        "a repeated one-click is harmless"
    );
}

async fn subscribing_again_revokes_the_old_unsubscribe_links(engine: Engine) {
    if !smtp_available() {
        return;
    }
    let server = SmtpServer::start();
    let Some(app) = mail_site(engine, &server) else {
        return;
    };
    subscribed_an_hour_ago(&app, &request(VICTIM, Frequency::Daily, &[]), true);
    send_digests(&app, &server, Frequency::Daily, "2024-01-03");
    // The old digest's link leaked (a forwarded mail); its owner unsubscribes and
    // subscribes again to cut it off.
    let leaked = unsubscribe_path(&server, VICTIM);
    let done = app
        .post_form(&leaked, "List-Unsubscribe=One-Click", None)
        .await;
    assert_eq!(done.status, StatusCode::OK);
    let back = api_subscribe(
        &app,
        [198, 51, 100, 1],
        r#"{"email":"victim@example.org","frequency":"daily"}"#,
    )
    .await;
    assert_eq!(back.status, StatusCode::ACCEPTED);
    let confirmation = server.messages_to(VICTIM).pop().expect("confirmation");
    assert_eq!(
        confirmation.subject(),
        "Confirm your Daily Papers subscription"
    );
    let confirm = link_path(
        confirmation.part("text/plain"),
        &format!("{BASE}/subscriptions/confirm/"),
    );
    assert_eq!(app.get(&confirm).await.status, StatusCode::OK);
    assert_eq!(row(&app, VICTIM).status, SubscriptionStatus::Confirmed);

    for attempt in ["GET", "POST"] {
        let reply = if attempt == "GET" {
            app.get(&leaked).await
        } else {
            app.post_form(&leaked, "List-Unsubscribe=One-Click", None)
                .await
        };
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{attempt}: {}",
            reply.body
        );
    }
    assert_eq!(
        row(&app, VICTIM).status,
        SubscriptionStatus::Confirmed,
        "the leaked link no longer unsubscribes"
    );
}

/// A saved search by author, as an index with an `author:` field answers it; the term
/// matching fallback looks for the name in titles and abstracts and finds nothing.
struct AuthorSearch;

impl SavedSearch for AuthorSearch {
    fn matching(&self, query: &str, candidates: &[&StoredPaper]) -> Result<Vec<i64>, SourceError> {
        let name = query.to_lowercase();
        Ok(candidates
            .iter()
            .filter(|paper| {
                paper
                    .paper
                    .metadata
                    .authors
                    .iter()
                    .any(|author| author.to_lowercase() == name)
            })
            .map(|paper| paper.key)
            .collect())
    }
}

/// The test index, which also answers digests' saved searches by author.
struct IndexWithSavedSearches(TitleSearch);

impl SearchBackend for IndexWithSavedSearches {
    fn search(&self, request: &SearchRequest) -> Result<SearchOutcome, SearchError> {
        self.0.search(request)
    }

    fn similar(&self, key: i64, k: usize) -> Result<Vec<SearchHit>, SearchError> {
        self.0.similar(key, k)
    }

    fn saved_search(&self) -> Option<&dyn SavedSearch> {
        Some(&AuthorSearch)
    }
}

/// The arXiv ids a digest's HTML links to, in order.
fn linked_papers(html: &str) -> Vec<String> {
    let prefix = format!("href=\"{BASE}/papers/");
    html.match_indices(&prefix)
        .filter_map(|(at, _)| html[at + prefix.len()..].split('"').next())
        .map(str::to_owned)
        .collect()
}

async fn the_preview_lists_the_papers_the_sender_then_mails(engine: Engine) {
    if !smtp_available() {
        return;
    }
    let server = SmtpServer::start();
    let Some(site) = SiteStore::seeded(engine) else {
        return;
    };
    let backend = Arc::new(IndexWithSavedSearches(
        site.with_store(|store| TitleSearch::of(store)),
    ));
    let app = site_over(site, &server, Some(backend.clone()));
    let mut wanted = request(VICTIM, Frequency::Weekly, &[]);
    wanted.queries = vec!["Ada Lovelace".to_owned()];
    let subscription = subscribed_an_hour_ago(&app, &wanted, true);

    let preview = digests().links().preview(&subscription, Utc::now());
    let path = preview.strip_prefix(BASE).expect("on the site");
    let page = app.get(&format!("{path}&as_of=2024-01-08")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let previewed = linked_papers(&page.body);

    let mailer = server.mailer();
    let report = app
        .with_store(|store| {
            let sources = Sources {
                search: backend.saved_search().expect("the backend's"),
                votes: &NoVotes,
            };
            digests().send_digests(
                store,
                &mailer,
                &sources,
                &SendRequest {
                    frequency: Frequency::Weekly,
                    as_of: "2024-01-08".parse().expect("date"),
                    now: Utc::now(),
                    dry_run: false,
                },
            )
        })
        .expect("send");
    assert_eq!(report.sent, 1, "{report:?}");
    let mail = server.messages_to(VICTIM).pop().expect("digest");
    let mailed = linked_papers(mail.part("text/html"));
    assert!(
        mail.part("text/plain").contains("Matching “Ada Lovelace”"),
        "the saved search has a section: {}",
        mail.part("text/plain")
    );
    assert!(
        previewed.contains(&"2401.00005".to_owned()),
        "{previewed:?}"
    );
    assert_eq!(previewed, mailed, "the preview is the digest");
}

crate::on_both_engines!(
    a_stranger_cannot_rewrite_a_confirmed_subscribers_digest,
    the_answer_is_the_same_bytes_for_new_pending_and_confirmed_addresses,
    an_account_made_with_someone_elses_address_does_not_take_over_their_subscription,
    a_flood_of_requests_mails_an_address_once_across_clients_and_restarts,
    one_client_cannot_have_many_addresses_mailed,
    an_unsubscribe_link_opens_neither_the_preview_nor_the_manage_page,
    a_subscribe_request_leaves_the_one_click_unsubscribe_of_a_digest_just_sent_working,
    subscribing_again_revokes_the_old_unsubscribe_links,
    the_preview_lists_the_papers_the_sender_then_mails,
);
