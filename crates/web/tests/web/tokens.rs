//! Personal access tokens and roles, written as the attacks and misuses they must
//! stop: a revoked or made-up token gets 401, a member's token on an admin route 403,
//! a token cannot mint tokens, a cookie without its CSRF token is still refused while
//! a bearer token needs none.

use axum::http::{Method, StatusCode, header};
use papers_store::{Role, Store};
use serde_json::{Value, json};

use crate::common::{TestApp, app};

fn parse(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

/// Makes a token through `/account/tokens` as a member would; returns it.
pub async fn token_for(app: &TestApp, cookie: &str, label: &str) -> String {
    let csrf = app.csrf_for(cookie).await;
    let reply = app
        .post_form(
            "/account/tokens",
            &format!("csrf={csrf}&label={label}"),
            Some(cookie),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(reply.headers[header::CACHE_CONTROL], "private, no-store");
    let at = reply
        .body
        .find("papers_pat_")
        .expect("the new token is shown");
    reply.body[at..]
        .split('<')
        .next()
        .expect("token text")
        .to_owned()
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

async fn upvote(app: &TestApp, headers: &[(&str, &str)]) -> StatusCode {
    app.send(Method::POST, "/api/papers/2401.00002/upvote", None, headers)
        .await
        .status
}

#[tokio::test]
async fn a_token_works_without_csrf_and_a_cookie_still_needs_it() {
    let app = app();
    let cookie = app.sign_up("tara").await;
    let token = token_for(&app, &cookie, "script").await;
    assert_eq!(
        upvote(&app, &[("authorization", &bearer(&token))]).await,
        StatusCode::OK,
        "a bearer token stands in for the cookie and the CSRF header"
    );
    assert_eq!(
        upvote(&app, &[("cookie", &cookie)]).await,
        StatusCode::FORBIDDEN,
        "the cookie alone is what a cross-site page could send"
    );
    let csrf = app.csrf_for(&cookie).await;
    assert_eq!(
        upvote(&app, &[("cookie", &cookie), ("x-csrf-token", &csrf)]).await,
        StatusCode::OK
    );
    let listed = app
        .send(
            Method::GET,
            "/api/tokens",
            None,
            &[("authorization", &bearer(&token))],
        )
        .await;
    assert_eq!(listed.status, StatusCode::OK);
    let listed = parse(&listed.body);
    assert_eq!(listed[0]["label"], "script");
    assert!(listed[0]["lastUsed"].is_string(), "use is recorded");
    assert!(
        !listed.to_string().contains("papers_pat_"),
        "the list never shows a token"
    );
}

#[tokio::test]
async fn revoked_and_made_up_tokens_get_401() {
    let app = app();
    let cookie = app.sign_up("ursula").await;
    let token = token_for(&app, &cookie, "laptop").await;
    let auth = bearer(&token);
    let listed = parse(
        &app.send(
            Method::GET,
            "/api/tokens",
            None,
            &[("authorization", &auth)],
        )
        .await
        .body,
    );
    let id = listed[0]["id"].as_i64().expect("id");
    let revoked = app
        .send(
            Method::DELETE,
            &format!("/api/tokens/{id}"),
            None,
            &[("authorization", &auth)],
        )
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    for sent in [
        auth.clone(),
        // A well-formed token nobody made, and junk.
        format!("Bearer papers_pat_{}", "0".repeat(64)),
        "Bearer hunter2".to_owned(),
    ] {
        let reply = app
            .send(
                Method::POST,
                "/api/papers/2401.00002/upvote",
                None,
                &[("authorization", &sent)],
            )
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{sent}");
        assert_eq!(reply.headers[header::CONTENT_TYPE], "application/json");
        assert!(parse(&reply.body)["error"].is_string());
        // Even on a page anyone may read: sent credentials that fail are an error.
        let page = app
            .send(Method::GET, "/submit", None, &[("authorization", &sent)])
            .await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED, "{sent}");
    }
    // Nobody else can revoke what is not theirs, or revoke twice.
    let other = app.sign_up("victor").await;
    let csrf = app.csrf_for(&other).await;
    let mine = token_for(&app, &cookie, "second").await;
    let mine_id = parse(
        &app.send(
            Method::GET,
            "/api/tokens",
            None,
            &[("authorization", &bearer(&mine))],
        )
        .await
        .body,
    )[0]["id"]
        .as_i64()
        .expect("id");
    let theirs = app
        .send(
            Method::DELETE,
            &format!("/api/tokens/{mine_id}"),
            None,
            &[("cookie", &other), ("x-csrf-token", &csrf)],
        )
        .await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    assert_eq!(
        upvote(&app, &[("authorization", &bearer(&mine))]).await,
        StatusCode::OK,
        "still valid"
    );
}

#[tokio::test]
async fn a_token_cannot_make_tokens_and_forms_need_csrf() {
    let app = app();
    let cookie = app.sign_up("wendy").await;
    let token = token_for(&app, &cookie, "ci").await;
    let minted = app
        .send(
            Method::POST,
            "/api/tokens",
            Some(json!({"label": "successor"})),
            &[("authorization", &bearer(&token))],
        )
        .await;
    assert_eq!(minted.status, StatusCode::FORBIDDEN);
    // A cross-site form post carries the cookie but not the token.
    let forged = app
        .post_form("/account/tokens", "label=evil", Some(&cookie))
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let forged_api = app
        .send(
            Method::POST,
            "/api/tokens",
            Some(json!({"label": "evil"})),
            &[("cookie", &cookie)],
        )
        .await;
    assert_eq!(forged_api.status, StatusCode::FORBIDDEN);
    // With the session's CSRF token the API makes one and shows it once.
    let csrf = app.csrf_for(&cookie).await;
    let made = app
        .send(
            Method::POST,
            "/api/tokens",
            Some(json!({"label": "api"})),
            &[("cookie", &cookie), ("x-csrf-token", &csrf)],
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED);
    let made = parse(&made.body);
    assert!(
        made["token"]
            .as_str()
            .is_some_and(|t| t.starts_with("papers_pat_"))
    );
    assert_eq!(made["label"], "api");
    let page = app.get_as("/account/tokens", Some(&cookie)).await;
    assert!(page.body.contains("api") && page.body.contains("ci"));
    assert!(
        !page.body.contains("papers_pat_"),
        "listed, never shown again"
    );
    let empty = app
        .send(
            Method::POST,
            "/api/tokens",
            Some(json!({"label": "  "})),
            &[("cookie", &cookie), ("x-csrf-token", &csrf)],
        )
        .await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    // Revoking from the page.
    let id = made["id"].as_i64().expect("id");
    let revoked = app
        .post_form(
            &format!("/account/tokens/{id}/revoke"),
            &format!("csrf={csrf}"),
            Some(&cookie),
        )
        .await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER);
    let page = app.get_as("/account/tokens", Some(&cookie)).await;
    assert!(!page.body.contains(">api<"));
    let anonymous = app.get("/account/tokens").await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn admin_routes_are_for_admins_only() {
    let app = app();
    let member = app.sign_up("xavier").await;
    let member_token = token_for(&app, &member, "member").await;
    let admin = app.sign_up("yvonne").await;
    let admin_token = token_for(&app, &admin, "ops").await;
    let store = Store::open(app.dir.path()).expect("store");
    let yvonne = store.user_by_name("yvonne").expect("sql").expect("member");
    store
        .grant_role(yvonne.id, Role::Admin, chrono::Utc::now())
        .expect("grant");

    let as_member = app
        .send(
            Method::GET,
            "/api/admin/status",
            None,
            &[("authorization", &bearer(&member_token))],
        )
        .await;
    assert_eq!(as_member.status, StatusCode::FORBIDDEN);
    assert_eq!(as_member.headers[header::CONTENT_TYPE], "application/json");
    let anonymous = app.get("/api/admin/status").await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.get_as("/admin", Some(&member)).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(app.get("/admin").await.status, StatusCode::SEE_OTHER);

    let status = app
        .send(
            Method::GET,
            "/api/admin/status",
            None,
            &[("authorization", &bearer(&admin_token))],
        )
        .await;
    assert_eq!(status.status, StatusCode::OK, "{}", status.body);
    let status = parse(&status.body);
    assert_eq!(status["store"]["papers"], 7);
    assert_eq!(status["store"]["engine"], "sqlite");
    assert_eq!(status["store"]["members"], 2);
    assert_eq!(status["store"]["accessTokens"], 2);
    assert!(status["store"]["bytes"].as_u64().is_some_and(|b| b > 0));
    assert!(
        status["changeLog"]["newest"]
            .as_i64()
            .is_some_and(|n| n > 0)
    );
    let page = app.get_as("/admin", Some(&admin)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Access tokens") && page.body.contains("sqlite"));

    // The role goes, and with it the access.
    store.revoke_role(yvonne.id, Role::Admin).expect("revoke");
    assert_eq!(
        app.get_as("/admin", Some(&admin)).await.status,
        StatusCode::FORBIDDEN
    );
}
