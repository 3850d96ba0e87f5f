//! "New on arXiv" (`/new`, `/new/{category}`, their RSS/Atom) and the Hugging Face
//! fields readers see (AI summary and keywords, stars, organisation, thumbnail; only
//! http(s) URLs become links or images).

use axum::http::{StatusCode, header};
use chrono::{TimeZone, Utc};
use papers_core::{ArxivId, Category, Community, Metadata, PaperRecord, Source};
use papers_store::Store;

use crate::common::{app, app_with};

#[tokio::test]
async fn new_lists_papers_by_first_version_day_with_neighbours_and_feeds() {
    let app = app();
    // The seeded 2401.* papers first appeared on 2024-01-01, 2312.09999 on 2023-12-01.
    let page = app.get("/new").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("New on arXiv"), "{}", page.body);
    assert!(page.body.contains("Monday 1 January 2024"));
    for id in ["2401.00001", "2401.00002", "2401.00004", "2401.00005"] {
        assert!(page.body.contains(&format!("/papers/{id}")), "{id} listed");
    }
    assert!(
        !page.body.contains("A paper never in the feed"),
        "other day"
    );
    assert!(
        page.body.contains("href=\"/new?day=2023-12-01\""),
        "previous day"
    );
    assert!(page.body.contains("href=\"/new\""), "header nav link");

    let day = app.get("/new?day=2023-12-01").await;
    assert!(day.body.contains("A paper never in the feed"));
    assert!(
        day.body.contains("href=\"/new?day=2024-01-01\""),
        "next day"
    );

    let category = app.get("/new/cs.IR").await;
    assert_eq!(category.status, StatusCode::OK);
    assert!(category.body.contains("/papers/2401.00001"));
    assert!(category.body.contains("/papers/2401.00004"));
    assert!(!category.body.contains("/papers/2401.00002"), "cs.CV only");

    let redirect = app.get("/new?category=cs.IR").await;
    assert_eq!(redirect.status, StatusCode::SEE_OTHER);
    assert_eq!(redirect.headers[header::LOCATION], "/new/cs.IR");
    assert_eq!(
        app.get("/new/NOT%20A%20CATEGORY").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/new?day=yesterday").await.status,
        StatusCode::BAD_REQUEST
    );

    let atom = app.get("/new/cs.IR/feed.atom").await;
    assert_eq!(atom.status, StatusCode::OK);
    assert!(
        atom.headers[header::CONTENT_TYPE]
            .to_str()
            .is_ok_and(|t| t.starts_with("application/atom+xml"))
    );
    assert!(atom.body.contains("http://papers.test/papers/2401.00004"));
    assert!(!atom.body.contains("2401.00002"));
    let rss = app.get("/new/feed.rss").await;
    assert!(rss.body.contains("<rss") && rss.body.contains("2401.00001"));
}

#[tokio::test]
async fn a_member_sends_a_new_paper_to_todays_feed_in_one_click() {
    // The seed's paper is from 2023: the submission age limit is off here.
    let app = app_with(true, |config| config.submit_max_age_days = 0);
    let anonymous = app.get("/new?day=2023-12-01").await;
    assert!(anonymous.body.contains("to add it to the daily feed"));
    assert!(!anonymous.body.contains("action=\"/submit\""));

    let cookie = app.sign_up("erin").await;
    let page = app.get_as("/new?day=2023-12-01", Some(&cookie)).await;
    assert!(page.body.contains("action=\"/submit\""), "{}", page.body);
    assert!(
        page.body
            .contains("name=\"reference\" value=\"2312.09999\"")
    );
    let csrf = app.csrf_for(&cookie).await;
    // The form posts to the submit route, which checks the token: without it, refused.
    let forged = app
        .post_form("/submit", "reference=2312.09999", Some(&cookie))
        .await;
    assert_ne!(forged.status, StatusCode::SEE_OTHER);
    let sent = app
        .post_form(
            "/submit",
            &format!("csrf={csrf}&reference=2312.09999"),
            Some(&cookie),
        )
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER);
    let today = Utc::now().date_naive();
    let feed = app.get(&format!("/papers/date/{today}")).await;
    assert!(feed.body.contains("A paper never in the feed"));
    let after = app.get_as("/new?day=2023-12-01", Some(&cookie)).await;
    assert!(after.body.contains("In the daily feed of"));
    assert!(
        !after
            .body
            .contains("name=\"reference\" value=\"2312.09999\"")
    );
}

fn hub_paper() -> PaperRecord {
    PaperRecord {
        id: ArxivId::parse("2401.00009").expect("id"),
        source: Source::HuggingFace,
        metadata: Metadata {
            title: "Agents that read papers".to_owned(),
            abstract_text: "We build agents.".to_owned(),
            authors: vec!["Grace Hopper".into()],
            categories: Category::parse_list("cs.AI").expect("category"),
            published: Utc.with_ymd_and_hms(2024, 1, 1, 9, 0, 0).single(),
            ..Metadata::default()
        },
        community: Some(Community {
            feed_day: chrono::NaiveDate::from_ymd_opt(2024, 1, 8),
            organization: Some("acme".into()),
            organization_fullname: Some("ACME Research".into()),
            organization_avatar: Some("https://cdn.example/acme.png".into()),
            upvotes: Some(5),
            github_repo: Some("https://github.com/acme/agents".into()),
            github_stars: Some(1234),
            ai_summary: Some("Agents read papers and write summaries.".into()),
            ai_keywords: vec!["agents".into(), "summaries".into()],
            thumbnail: Some("javascript:alert(1)".into()),
            media_urls: vec!["https://cdn.example/fig.png".into()],
            ..Community::default()
        }),
    }
}

#[tokio::test]
async fn hugging_face_fields_are_shown_and_served_with_its_names() {
    let app = app();
    {
        let mut store = Store::open(app.dir.path()).expect("store");
        let mut batch = store.begin_ingest(Utc::now()).expect("batch");
        batch.upsert(hub_paper()).expect("upsert");
        batch.commit().expect("commit");
    }
    let page = app.get("/papers/2401.00009").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("AI summary"));
    assert!(
        page.body
            .contains("Agents read papers and write summaries.")
    );
    assert!(page.body.contains("href=\"/search?q=summaries\""));
    assert!(page.body.contains("★ 1234"));
    assert!(page.body.contains("ACME Research"));
    assert!(page.body.contains("src=\"https://cdn.example/acme.png\""));
    assert!(
        !page.body.contains("javascript:"),
        "a javascript: thumbnail never becomes markup"
    );

    let card = app.get("/papers/date/2024-01-08").await;
    assert!(card.body.contains("★ 1234") && card.body.contains("ACME Research"));
    assert!(!card.body.contains("javascript:"));

    let api = app.get("/api/papers/2401.00009").await;
    let json: serde_json::Value = serde_json::from_str(&api.body).expect("JSON");
    assert_eq!(
        json["ai_summary"],
        "Agents read papers and write summaries."
    );
    assert_eq!(json["ai_keywords"][1], "summaries");
    assert_eq!(json["githubStars"], 1234);
    assert_eq!(json["organization"]["fullname"], "ACME Research");
    assert_eq!(
        json["organization"]["avatar"],
        "https://cdn.example/acme.png"
    );
    assert_eq!(json["mediaUrls"][0], "https://cdn.example/fig.png");
    let daily = app.get("/api/daily_papers?date=2024-01-08").await;
    let items: serde_json::Value = serde_json::from_str(&daily.body).expect("JSON");
    let item = items
        .as_array()
        .and_then(|items| items.iter().find(|i| i["paper"]["id"] == "2401.00009"))
        .expect("listed");
    assert_eq!(item["paper"]["githubStars"], 1234);
    assert_eq!(item["organization"]["fullname"], "ACME Research");
}
