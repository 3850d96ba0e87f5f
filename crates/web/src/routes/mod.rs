//! The route table of the site and the layers around it.

pub(crate) mod account;
mod admin;
mod api;
mod assets;
mod auth;
mod cached;
mod collections;
mod comments;
mod community;
pub(crate) mod feed;
mod feeds;
mod follows;
pub(crate) mod for_you;
mod health;
mod new;
mod paper;
mod params;
mod reads;
pub(crate) mod search;
pub(crate) mod similar;
mod submit;
pub(crate) mod subscribe;
mod tokens;
pub(crate) mod topics;
mod vote;

use axum::Router;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;

pub(crate) use auth::check_new_account;

use crate::error::HttpError;
use crate::period::PeriodKind;
use crate::session::MaybeUser;
use crate::state::AppState;
use feed::RawFeedParams;
use feeds::Format;
use search::RawSearchParams;

/// No inline scripts or styles anywhere, so the policy can forbid them: an injected
/// `<script>` would not run even if escaping failed.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

pub(crate) fn build(state: AppState) -> Router {
    let body_limit = state.config().body_limit;
    Router::new()
        .route("/", get(feed::latest))
        .route("/papers", get(feed::latest))
        .route("/papers/trending", get(feed::trending))
        .merge(period_routes())
        .merge(feed_routes())
        .route("/papers/{*id}", get(paper::show))
        .route("/search", get(search::page))
        .route("/new", get(new::all))
        .route("/new/{category}", get(new::in_category))
        .route("/topics", get(topics::index))
        .route("/topics/{id}", get(topics::show))
        .route("/users/{name}", get(community::user))
        .route("/organizations/{name}", get(community::organization))
        .route("/submit", get(submit::form).post(submit::submit))
        .route("/login", get(auth::login_form).post(auth::login))
        .route("/signup", get(auth::signup_form).post(auth::signup))
        .route("/logout", post(auth::logout))
        .merge(account_routes())
        .route("/vote", post(vote::vote))
        .merge(community_routes())
        .route("/subscribe", get(subscribe::form).post(subscribe::submit))
        .route("/subscriptions", get(subscribe::preferences))
        .route("/subscriptions/confirm/{token}", get(subscribe::confirm))
        .route(
            "/subscriptions/manage/{token}",
            get(subscribe::manage_page).post(subscribe::manage_save),
        )
        .route(
            "/unsubscribe/{token}",
            get(subscribe::unsubscribe_page).post(subscribe::unsubscribe),
        )
        .route("/digest/preview", get(subscribe::preview))
        .route("/account/tokens", get(tokens::page).post(tokens::create))
        .route("/account/tokens/{id}/revoke", post(tokens::revoke))
        .route("/admin", get(admin::page))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .route("/static/style.css", get(assets::style))
        .route("/static/app.js", get(assets::script))
        .merge(api::router())
        .fallback(fallback)
        .layer(middleware::from_fn(crate::form_text::check))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            cached::respond,
        ))
        // Outside the cache, so answers from it are counted and timed too; inside the
        // router, so the matched route template is known.
        .layer(middleware::from_fn(crate::telemetry::track))
        .layer(RequestBodyLimitLayer::new(body_limit))
        // A handler may set a stricter policy of its own (the digest preview does).
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        .layer(header_layer(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(header_layer(
            header::REFERRER_POLICY,
            "strict-origin-when-cross-origin",
        ))
        .layer(header_layer(header::X_FRAME_OPTIONS, "DENY"))
        .layer(middleware::map_response_with_state(
            state.clone(),
            strict_transport,
        ))
        .with_state(state)
}

/// Comments, moderation, collections, reading state, following and For you: the forms
/// behind the paper page, the cards, `/collections`, `/following` and `/for-you`, and
/// author pages.
fn community_routes() -> Router<AppState> {
    use crate::extract::MemberForm;
    let moderate = |hidden: bool| {
        post(
            move |s: State<AppState>, c: Path<String>, f: MemberForm<comments::ActionForm>| {
                comments::moderate_form(s, c, f, hidden)
            },
        )
    };
    Router::new()
        .route("/comments", post(comments::create))
        .route(
            "/comments/{cid}/edit",
            get(comments::edit_form).post(comments::edit),
        )
        .route("/comments/{cid}/delete", post(comments::delete))
        .route("/comments/{cid}/report", post(comments::report_form))
        .route("/comments/{cid}/hide", moderate(true))
        .route("/comments/{cid}/restore", moderate(false))
        .route("/moderation", get(comments::queue))
        .route("/read", post(reads::form))
        .route("/follow", post(follows::follow_form))
        .route("/follows/{id}/delete", post(follows::unfollow_form))
        .route("/following", get(follows::page))
        .route("/for-you", get(for_you::page))
        .route("/for-you/categories", post(for_you::pick))
        .route("/feedback", post(for_you::form))
        .route("/authors/{name}", get(follows::author))
        .route(
            "/collections",
            get(collections::list).post(collections::create),
        )
        .route("/collections/save", post(collections::save))
        .route("/collections/{id}", get(collections::show))
        .route("/collections/{id}/edit", post(collections::edit))
        .route("/collections/{id}/delete", post(collections::delete))
        .route("/collections/{id}/remove", post(collections::remove))
        .route("/collections/{id}/export", get(collections::export))
        .route(
            "/collections/{id}/feed.rss",
            get(|s: State<AppState>, Path(id): Path<String>| async move {
                collections::feed(&s, &id, Format::Rss).await
            }),
        )
        .route(
            "/collections/{id}/feed.atom",
            get(|s: State<AppState>, Path(id): Path<String>| async move {
                collections::feed(&s, &id, Format::Atom).await
            }),
        )
}

/// The member's account pages and the landing pages of mailed account links.
fn account_routes() -> Router<AppState> {
    use account::{export, recovery, sessions, verify};
    Router::new()
        .route("/account", get(account::page))
        .route("/account/password", post(account::change_password))
        .route("/account/email", post(account::change_email))
        .route(
            "/account/email/confirm/{token}",
            get(verify::confirm_new_email),
        )
        .route("/account/verify/resend", post(account::resend_verification))
        .route("/account/verify/{token}", get(verify::verify_email))
        .route("/account/delete", post(account::delete))
        .route("/account/sessions", get(sessions::list))
        .route("/account/sessions/end-others", post(sessions::end_others))
        .route("/account/sessions/{handle}/end", post(sessions::end_one))
        .route("/account/export", get(export::download))
        .route(
            "/account/password-reset",
            get(recovery::form).post(recovery::submit),
        )
        .route(
            "/account/password-reset/{token}",
            get(recovery::link_form).post(recovery::link_submit),
        )
        .route("/api/account/password-reset", post(recovery::api_request))
}

/// HSTS on every answer when the site is served over https: browsers then refuse
/// plain http to it for a year, so a network attacker cannot strip TLS from a later
/// visit. Never on plain http (a laptop), where it would mean nothing.
async fn strict_transport(State(state): State<AppState>, mut response: Response) -> Response {
    if state.config().secure_cookies() {
        response.headers_mut().insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    response
}

fn header_layer(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::overriding(name, HeaderValue::from_static(value))
}

/// `/papers/date/…`, `/papers/week/…` and `/papers/month/…`: one handler, told which.
fn period_routes() -> Router<AppState> {
    PeriodKind::ALL
        .into_iter()
        .fold(Router::new(), |router, kind| {
            router.route(
                &format!("/papers/{}/{{period}}", kind.segment()),
                get(
                    move |s: State<AppState>,
                          u: MaybeUser,
                          p: Path<String>,
                          q: Query<RawFeedParams>| {
                        feed::period(s, u, p, q, kind)
                    },
                ),
            )
        })
}

/// RSS and Atom beside every feed view.
fn feed_routes() -> Router<AppState> {
    let mut router = Router::new();
    for format in [Format::Rss, Format::Atom] {
        let file = match format {
            Format::Rss => "feed.rss",
            Format::Atom => "feed.atom",
        };
        router = router
            .route(
                &format!("/papers/{file}"),
                get(move |s: State<AppState>, q: Query<RawFeedParams>| {
                    feeds::latest_feed(s, q, format)
                }),
            )
            .route(
                &format!("/papers/trending/{file}"),
                get(move |s: State<AppState>, q: Query<RawFeedParams>| {
                    feeds::trending_feed(s, q, format)
                }),
            )
            .route(
                &format!("/new/{file}"),
                get(move |s, q| new::all_feed(s, q, format)),
            )
            .route(
                &format!("/new/{{category}}/{file}"),
                get(move |s, p, q| new::category_feed(s, p, q, format)),
            )
            .route(
                &format!("/topics/{{id}}/{file}"),
                get(move |s, p| topics::feed(s, p, format)),
            )
            .route(
                &format!("/search/{file}"),
                get(move |s: State<AppState>, q: Query<RawSearchParams>| {
                    feeds::search_feed(s, q, format)
                }),
            );
        for kind in PeriodKind::ALL {
            router = router.route(
                &format!("/papers/{}/{{period}}/{file}", kind.segment()),
                get(move |s: State<AppState>, p, q: Query<RawFeedParams>| {
                    feeds::period_feed(s, p, q, kind, format)
                }),
            );
        }
    }
    router
}

async fn fallback(request: Request) -> Response {
    let error = HttpError::not_found("no such page");
    if request.uri().path().starts_with("/api/") {
        error.into_json().into_response()
    } else {
        error.into_response()
    }
}
