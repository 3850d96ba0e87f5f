//! Public collection pages and feeds come from the shared response cache like the
//! other anonymous pages: a change to a collection shows on the next request, and a
//! private collection (or one made private) is never served to anyone but its owner.

use axum::http::{StatusCode, header};
use chrono::Utc;
use papers_store::{CollectionFields, Store};

use crate::common::{TestApp, app, csrf_in};

/// Makes a collection through the owner's form; its id.
async fn make(app: &TestApp, owner: &str, title: &str, public: bool) -> i64 {
    let page = app.get_as("/collections", Some(owner)).await;
    let csrf = csrf_in(&page.body).expect("csrf on /collections");
    let public = if public { "&public=1" } else { "" };
    let made = app
        .post_form(
            "/collections",
            &format!("csrf={csrf}&title={title}&description=d{public}"),
            Some(owner),
        )
        .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.body);
    let location = made.headers[header::LOCATION].to_str().expect("location");
    location
        .trim_start_matches("/collections/")
        .parse()
        .expect("collection id")
}

async fn form(app: &TestApp, owner: &str, path: &str, fields: &str) {
    let page = app.get_as("/collections", Some(owner)).await;
    let csrf = csrf_in(&page.body).expect("csrf on /collections");
    let reply = app
        .post_form(path, &format!("csrf={csrf}&{fields}"), Some(owner))
        .await;
    assert_eq!(
        reply.status,
        StatusCode::SEE_OTHER,
        "{path}: {}",
        reply.body
    );
}

#[tokio::test]
async fn public_collections_are_cached_until_they_change_and_private_ones_never() {
    let app = app();
    let owner = app.sign_up("carol").await;
    let other = app.sign_up("dave").await;
    let id = make(&app, &owner, "Shared+list", true).await;
    let page = format!("/collections/{id}");

    let first = app.get(&page).await;
    assert_eq!(first.status, StatusCode::OK);
    assert!(first.body.contains("Shared list"));
    // Written behind the site's back (no generation bump): the cached page still
    // answers, which shows the page is cached at all.
    let store = Store::open(app.dir.path()).expect("store");
    let carol = store.user_by_name("carol").expect("sql").expect("carol");
    store
        .update_collection(
            id,
            carol.id,
            &CollectionFields {
                title: "Renamed behind the back",
                description: "d",
                public: true,
            },
            Utc::now(),
        )
        .expect("update");
    let cached = app.get(&page).await;
    assert!(cached.body.contains("Shared list"), "served from the cache");
    let feed = app.get(&format!("{page}/feed.atom")).await;
    assert_eq!(feed.status, StatusCode::OK);
    assert_eq!(feed.body.matches("<entry>").count(), 0);

    // Each change through the site shows on the next request.
    form(
        &app,
        &owner,
        "/collections/save",
        &format!("paper=2401.00001&collection={id}&back=/"),
    )
    .await;
    let saved = app.get(&page).await;
    assert!(
        saved.body.contains("Renamed behind the back"),
        "generation bumped"
    );
    assert!(
        saved.body.contains("/papers/2401.00001"),
        "the saved paper shows"
    );
    let feed = app.get(&format!("{page}/feed.atom")).await;
    assert_eq!(feed.body.matches("<entry>").count(), 1, "the feed follows");
    form(
        &app,
        &owner,
        &format!("{page}/edit"),
        "title=Edited+title&description=d&public=1",
    )
    .await;
    assert!(app.get(&page).await.body.contains("Edited title"));
    form(&app, &owner, &format!("{page}/remove"), "paper=2401.00001").await;
    assert!(!app.get(&page).await.body.contains("/papers/2401.00001"));

    // Made private: gone for everyone else at once, cached copies included.
    form(
        &app,
        &owner,
        &format!("{page}/edit"),
        "title=Edited+title&description=d",
    )
    .await;
    assert_eq!(app.get(&page).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get(&format!("{page}/feed.atom")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get_as(&page, Some(&other)).await.status,
        StatusCode::NOT_FOUND
    );
    let own = app.get_as(&page, Some(&owner)).await;
    assert_eq!(own.status, StatusCode::OK);
    assert!(
        own.headers[header::CACHE_CONTROL]
            .to_str()
            .expect("cc")
            .contains("no-store")
    );

    // A private collection the owner reads (and so renders) is never in the shared
    // cache: an anonymous reader and another member still get 404.
    let secret = make(&app, &owner, "Secret+list", false).await;
    let secret_page = format!("/collections/{secret}");
    for _ in 0..2 {
        let own = app.get_as(&secret_page, Some(&owner)).await;
        assert_eq!(own.status, StatusCode::OK);
        assert!(own.body.contains("Secret list"));
    }
    for cookie in [None, Some(other.as_str())] {
        let reply = app.get_as(&secret_page, cookie).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{cookie:?}");
        assert!(!reply.body.contains("Secret list"));
    }

    // Deleted: gone from the cache too.
    let public_again = make(&app, &owner, "Short+lived", true).await;
    let short = format!("/collections/{public_again}");
    assert_eq!(app.get(&short).await.status, StatusCode::OK);
    form(&app, &owner, &format!("{short}/delete"), "").await;
    assert_eq!(app.get(&short).await.status, StatusCode::NOT_FOUND);
}
