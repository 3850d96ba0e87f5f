//! Email digests on the site: the subscribe form and API, confirmation and manage
//! links, the one-click unsubscribe (RFC 8058), members' preferences and the digest
//! preview. The engine (`papers_digest::Digests`) does the work; these handlers map
//! HTTP onto it. Mail goes out on a blocking thread so a slow SMTP server never stalls
//! a worker.
//!
//! A subscription is changed only by its owner. A subscribe request for an address
//! that already has one changes nothing and mails the address a manage link, and the
//! answer is the same bytes whether the address was new, pending, confirmed or mailed
//! a minute ago: only the mailbox learns which. Each mailed link works for one purpose
//! only (confirm, manage, unsubscribe, preview).

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{NaiveDate, Utc};
use papers_digest::{
    DigestError, Digests, Frequency, Preferences, Purpose, SavedSearch, Sources, SubscribeOutcome,
    SubscribeRequest, SubscriptionStatus, TermSearch, VotesFn, feed_day,
};
use papers_store::{Subscription, User};
use serde::Deserialize;

use crate::csrf;
use crate::error::HttpError;
use crate::extract::Form;
use crate::html::html_response;
use crate::routes::auth::form_page;
use crate::routes::params::json_body;
use crate::session::{Client, MaybeUser, SessionUser};
use crate::state::AppState;
use crate::views::{self, ManageLinks, SubscribeFields, Viewer};

/// The policy of the preview page: the digest's HTML uses inline styles, as mail
/// must, and nothing else.
const PREVIEW_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; \
     form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The one answer to every accepted subscribe request through the API.
const CHECK_INBOX_JSON: &str = r#"{"status":"check_your_inbox","message":"If the address can receive mail, a link to confirm a new subscription, or to manage the one it already has, is on its way. An address gets at most one such mail every 10 minutes."}"#;

fn engine(state: &AppState) -> Result<Arc<Digests>, HttpError> {
    state
        .inner
        .digests
        .clone()
        .ok_or_else(|| HttpError::unavailable("Email digests are not set up on this site."))
}

/// Bad input and bad links are the reader's to fix (400); anything else is ours.
fn digest_error(error: DigestError) -> HttpError {
    match error {
        DigestError::Email(_)
        | DigestError::Invalid { .. }
        | DigestError::Token(_)
        | DigestError::Ended => HttpError::bad_request(error.to_string()),
        DigestError::UnknownSubscription(_) => {
            HttpError::bad_request("this link is no longer valid")
        }
        other => HttpError::internal(other),
    }
}

fn viewer_of(user: Option<&SessionUser>) -> Viewer {
    Viewer {
        user: user.map(|user| user.session.clone()),
        votes: Default::default(),
        ..Viewer::default()
    }
}

/// Whether the member has proven they read mail at their account's current address
/// (a mailed link, which an address change resets). Until they have, no subscription
/// is shown or changed on the member's own pages, because an account can be made with
/// someone else's address.
fn address_verified(user: &User) -> bool {
    user.is_verified()
}

/// The logged-in member's account address, and whether they own it (verified).
struct MemberAddress {
    email: String,
    owner: bool,
}

async fn member_address(state: &AppState, user: &SessionUser) -> Result<MemberAddress, HttpError> {
    let name = user.session.username.clone();
    let found = state
        .inner
        .pool
        .run(move |store| store.user_by_name(&name))
        .await?;
    let user = found.ok_or_else(|| HttpError::internal("session without a user"))?;
    Ok(MemberAddress {
        owner: address_verified(&user),
        email: user.email,
    })
}

/// The subscription of the member's own address, when they own it. Found by address,
/// not by the stored member link: a link made before addresses were verified, or
/// before the member changed their address, proves nothing.
async fn owned_subscription(
    state: &AppState,
    address: &MemberAddress,
) -> Result<Option<Subscription>, HttpError> {
    if !address.owner {
        return Ok(None);
    }
    let email = address.email.to_lowercase();
    Ok(state
        .inner
        .pool
        .run(move |store| store.subscription_by_email(&email))
        .await?)
}

/// A link of the engine's on the site itself, as a path (pages link relatively).
fn site_path(digests: &Digests, url: &str) -> String {
    let base = digests.links().base().as_str();
    url.strip_prefix(base).unwrap_or(url).to_owned()
}

pub(crate) async fn form(
    State(state): State<AppState>,
    user: MaybeUser,
    headers: HeaderMap,
) -> Result<Response, HttpError> {
    match user.0 {
        Some(member) => {
            let address = member_address(&state, &member).await?;
            let mut fields = match owned_subscription(&state, &address).await? {
                Some(subscription) => SubscribeFields::of(&subscription),
                None => SubscribeFields::default(),
            };
            fields.email = address.email;
            let viewer = viewer_of(Some(&member));
            let form = views::subscribe_form(&viewer, member.csrf(), &fields, true, None);
            Ok(html_response(views::subscribe_page(form, &viewer), false))
        }
        None => form_page(&state, &headers, StatusCode::OK, |token| {
            let viewer = Viewer::anonymous();
            let form =
                views::subscribe_form(&viewer, token, &SubscribeFields::default(), false, None);
            views::subscribe_page(form, &viewer)
        }),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SubscribeForm {
    csrf: Option<String>,
    email: Option<String>,
    frequency: Option<String>,
    categories: Option<String>,
    queries: Option<String>,
}

fn frequency(text: Option<&str>) -> Result<Frequency, HttpError> {
    Frequency::parse(text.unwrap_or("daily"))
        .ok_or_else(|| HttpError::bad_request("frequency must be daily or weekly"))
}

/// The form's categories box: names separated by spaces or commas.
fn form_categories(text: Option<&str>) -> Vec<String> {
    text.unwrap_or("")
        .split([' ', ',', '\t'])
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The form's saved searches box: one per line.
fn form_queries(text: Option<&str>) -> Vec<String> {
    text.unwrap_or("")
        .lines()
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .map(str::to_owned)
        .collect()
}

/// One subscribe request per client address and token of the limiter.
fn limit(state: &AppState, client: &Client) -> Result<(), HttpError> {
    state
        .inner
        .subscribe_limiter
        .check(&format!("subscribe:{}", client.key()))
        .map_err(|wait| {
            HttpError::too_many_because(
                "Too many subscribe requests from your address; try again shortly.",
            )
            .retry_after(wait)
        })
}

/// Runs the request and sends the mail it calls for. Refuses up front when the site
/// cannot send mail, so no address waits for a link that never comes. A mail that
/// cannot be sent gives the address's mail slot back and is a 503, the same for every
/// address (each would have been mailed).
async fn subscribe_and_mail(
    state: &AppState,
    request: SubscribeRequest,
) -> Result<SubscribeOutcome, HttpError> {
    let digests = engine(state)?;
    let mailer = state.inner.mailer.clone().ok_or_else(|| {
        HttpError::unavailable(
            "Mail is not configured on this site, so it cannot send the confirmation link.",
        )
    })?;
    let now = Utc::now();
    let engine_for_store = digests.clone();
    let subscribed = state
        .inner
        .pool
        .run(move |store| Ok(engine_for_store.subscribe(store, &request, now)))
        .await?
        .map_err(digest_error)?;
    let outcome = subscribed.outcome;
    let Some(mail) = subscribed.mail.clone() else {
        return Ok(outcome);
    };
    let sent = tokio::task::spawn_blocking(move || mailer.deliver(&mail))
        .await
        .map_err(HttpError::internal)?;
    if let Err(error) = sent {
        tracing::warn!(%error, "cannot send a subscription mail");
        let released = state
            .inner
            .pool
            .run(move |store| Ok(digests.mail_not_sent(store, &subscribed, now)))
            .await?;
        if let Err(error) = released {
            tracing::warn!(%error, "cannot give the mail slot back");
        }
        return Err(HttpError::unavailable(
            "The mail could not be sent; try again in a few minutes.",
        ));
    }
    Ok(outcome)
}

pub(crate) async fn submit(
    State(state): State<AppState>,
    client: Client,
    user: MaybeUser,
    headers: HeaderMap,
    Form(form): Form<SubscribeForm>,
) -> Result<Response, HttpError> {
    match &user.0 {
        Some(member) => csrf::check_session(member, form.csrf.as_deref())?,
        None => csrf::check_pre_session(&state, &headers, form.csrf.as_deref())?,
    }
    limit(&state, &client)?;
    let (email, owner) = match &user.0 {
        Some(member) => {
            let address = member_address(&state, member).await?;
            let owner = address.owner.then_some(member.session.user_id);
            (address.email, owner)
        }
        None => (form.email.clone().unwrap_or_default(), None),
    };
    let request = SubscribeRequest {
        email: email.trim().to_owned(),
        frequency: frequency(form.frequency.as_deref())?,
        categories: form_categories(form.categories.as_deref()),
        queries: form_queries(form.queries.as_deref()),
        owner,
    };
    let outcome = subscribe_and_mail(&state, request).await?;
    let viewer = viewer_of(user.0.as_ref());
    let page = match outcome {
        // Only a verified owner gets here, about their own address.
        SubscribeOutcome::Owned => views::notice_page(
            &viewer,
            "Preferences saved",
            "Your digest preferences are saved.",
        ),
        SubscribeOutcome::Started | SubscribeOutcome::Existing => views::check_inbox_page(&viewer),
    };
    Ok(html_response(page, false))
}

#[derive(Debug, Deserialize)]
pub(crate) struct ApiSubscribeBody {
    email: String,
    frequency: Option<String>,
    categories: Option<Vec<String>>,
    queries: Option<Vec<String>>,
}

pub(crate) async fn api_subscribe(
    State(state): State<AppState>,
    client: Client,
    body: Result<Json<ApiSubscribeBody>, JsonRejection>,
) -> Result<Response, HttpError> {
    async {
        limit(&state, &client)?;
        let body = json_body(body)?;
        let request = SubscribeRequest {
            email: body.email,
            frequency: frequency(body.frequency.as_deref())?,
            categories: body.categories.unwrap_or_default(),
            queries: body.queries.unwrap_or_default(),
            owner: None,
        };
        subscribe_and_mail(&state, request).await?;
        Ok((
            StatusCode::ACCEPTED,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            CHECK_INBOX_JSON,
        )
            .into_response())
    }
    .await
    .map_err(HttpError::into_json)
}

pub(crate) async fn confirm(
    State(state): State<AppState>,
    user: MaybeUser,
    Path(token): Path<String>,
) -> Result<Response, HttpError> {
    let digests = engine(&state)?;
    let subscription = state
        .inner
        .pool
        .run(move |store| Ok(digests.confirm(store, &token, Utc::now())))
        .await?
        .map_err(digest_error)?;
    let message = format!(
        "{} will get the {} digest of trending papers.",
        subscription.email,
        subscription.frequency.as_str()
    );
    Ok(html_response(
        views::notice_page(
            &viewer_of(user.0.as_ref()),
            "Subscription confirmed",
            &message,
        ),
        false,
    ))
}

/// The page a manage link opens: the subscription's preferences to change, and the
/// ways to preview, confirm or stop it. Changes nothing (mail scanners prefetch).
pub(crate) async fn manage_page(
    State(state): State<AppState>,
    user: MaybeUser,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Result<Response, HttpError> {
    let digests = engine(&state)?;
    let engine_for_store = digests.clone();
    let check = token.clone();
    let now = Utc::now();
    let subscription = state
        .inner
        .pool
        .run(move |store| Ok(engine_for_store.verified(store, &check, Purpose::Manage, now)))
        .await?
        .map_err(digest_error)?;
    let viewer = viewer_of(user.0.as_ref());
    if subscription.status == SubscriptionStatus::Unsubscribed {
        return Ok(html_response(
            views::notice_page(
                &viewer,
                "Subscription ended",
                "This address is unsubscribed. Subscribe again to start a new digest.",
            ),
            false,
        ));
    }
    let links = ManageLinks {
        save: format!("/subscriptions/manage/{token}"),
        preview: site_path(&digests, &digests.links().preview(&subscription, now)),
        unsubscribe: site_path(&digests, &digests.links().unsubscribe(&subscription, now)),
        confirm: (subscription.status == SubscriptionStatus::Pending)
            .then(|| site_path(&digests, &digests.links().confirm(&subscription, now))),
    };
    form_page(&state, &headers, StatusCode::OK, |csrf| {
        views::manage_page(&viewer, csrf, &subscription, &links)
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ManageForm {
    csrf: Option<String>,
    frequency: Option<String>,
    categories: Option<String>,
    queries: Option<String>,
}

/// Saves the preferences from the manage page. The signed link is the authority; the
/// pre-session CSRF token keeps another site from submitting it.
pub(crate) async fn manage_save(
    State(state): State<AppState>,
    user: MaybeUser,
    headers: HeaderMap,
    Path(token): Path<String>,
    Form(form): Form<ManageForm>,
) -> Result<Response, HttpError> {
    csrf::check_pre_session(&state, &headers, form.csrf.as_deref())?;
    let digests = engine(&state)?;
    let preferences = Preferences {
        frequency: frequency(form.frequency.as_deref())?,
        categories: form_categories(form.categories.as_deref()),
        queries: form_queries(form.queries.as_deref()),
    };
    let path = format!("/subscriptions/manage/{token}");
    state
        .inner
        .pool
        .run(move |store| Ok(digests.update_preferences(store, &token, &preferences, Utc::now())))
        .await?
        .map_err(digest_error)?;
    Ok(html_response(
        views::saved_page(&viewer_of(user.0.as_ref()), &path),
        false,
    ))
}

pub(crate) async fn unsubscribe_page(
    State(state): State<AppState>,
    user: MaybeUser,
    Path(token): Path<String>,
) -> Result<Response, HttpError> {
    let digests = engine(&state)?;
    let check = token.clone();
    let subscription = state
        .inner
        .pool
        .run(move |store| Ok(digests.verified(store, &check, Purpose::Unsubscribe, Utc::now())))
        .await?
        .map_err(digest_error)?;
    let path = format!("/unsubscribe/{token}");
    Ok(html_response(
        views::unsubscribe_confirm_page(&viewer_of(user.0.as_ref()), &subscription.email, &path),
        false,
    ))
}

/// RFC 8058 one-click: a POST to the link unsubscribes, with no login and no CSRF
/// token (the signed link is the authority). The body is not needed.
pub(crate) async fn unsubscribe(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, HttpError> {
    let digests = engine(&state)?;
    let done = state
        .inner
        .pool
        .run(move |store| Ok(digests.unsubscribe(store, &token, Utc::now())))
        .await?
        .map_err(digest_error)?;
    let message = format!(
        "{} will get no more digests. You can subscribe again at any time.",
        done.subscription.email
    );
    Ok(html_response(
        views::notice_page(&Viewer::anonymous(), "Unsubscribed", &message),
        false,
    ))
}

/// A member's digest page: their own subscription to change, when they own their
/// account's address; otherwise the form that mails the address a link.
pub(crate) async fn preferences(
    State(state): State<AppState>,
    user: MaybeUser,
) -> Result<Response, HttpError> {
    let Some(member) = user.0 else {
        return Ok(Redirect::to("/login?next=/subscriptions").into_response());
    };
    let digests = engine(&state)?;
    let address = member_address(&state, &member).await?;
    let subscription = owned_subscription(&state, &address).await?;
    let mut fields = subscription
        .as_ref()
        .map(SubscribeFields::of)
        .unwrap_or_default();
    fields.email = address.email.clone();
    let unsubscribe_path = subscription
        .as_ref()
        .filter(|s| s.status != SubscriptionStatus::Unsubscribed)
        .map(|s| site_path(&digests, &digests.links().unsubscribe(s, Utc::now())));
    let viewer = viewer_of(Some(&member));
    let form = views::subscribe_form(&viewer, member.csrf(), &fields, true, None);
    Ok(html_response(
        views::preferences_page(
            &viewer,
            form,
            address.owner,
            subscription.as_ref(),
            unsubscribe_path.as_deref(),
        ),
        false,
    ))
}

#[derive(Debug, Deserialize)]
pub(crate) struct PreviewParams {
    token: Option<String>,
    /// The day the digest is due (default: today's feed day), so a subscriber can see
    /// what a given day's digest held.
    as_of: Option<NaiveDate>,
}

/// The digest due for the subscriber whose preview link (from a manage mail or page)
/// is given, or for the member's own subscription, as the mail's HTML. Composed with
/// the sender's own saved-search path, so the preview is the digest.
pub(crate) async fn preview(
    State(state): State<AppState>,
    user: MaybeUser,
    Query(params): Query<PreviewParams>,
) -> Result<Response, HttpError> {
    let digests = engine(&state)?;
    let own = match (&params.token, &user.0) {
        (Some(_), _) => None,
        (None, Some(member)) => {
            let address = member_address(&state, member).await?;
            Some(owned_subscription(&state, &address).await?)
        }
        (None, None) => return Ok(Redirect::to("/login?next=/digest/preview").into_response()),
    };
    let now = Utc::now();
    let as_of = params.as_of.unwrap_or_else(|| feed_day(now));
    let search = state.inner.search.clone();
    let rendered = state
        .inner
        .pool
        .run(move |store| {
            let subscription = match (params.token, own) {
                (Some(token), _) => match digests.verified(store, &token, Purpose::Preview, now) {
                    Ok(found) => Some(found),
                    Err(error) => return Ok(Err(error)),
                },
                (None, own) => own.flatten(),
            };
            let Some(subscription) = subscription else {
                return Ok(Ok(None));
            };
            let votes = VotesFn(|store: &papers_store::Store, user: i64| {
                Ok(store.voted_keys(user)?.into_iter().collect())
            });
            let saved: &dyn SavedSearch = search
                .as_deref()
                .and_then(|backend| backend.saved_search())
                .unwrap_or(&TermSearch);
            let sources = Sources {
                search: saved,
                votes: &votes,
            };
            Ok(digests
                .preview(store, &sources, &subscription, as_of, now)
                .map(Some))
        })
        .await?
        .map_err(digest_error)?;
    let viewer = viewer_of(user.0.as_ref());
    match rendered {
        None => Ok(html_response(
            views::notice_page(
                &viewer,
                "Digest preview",
                "No digest to preview: open the preview link from a mail we sent, or subscribe first.",
            ),
            false,
        )),
        Some(None) => Ok(html_response(
            views::notice_page(
                &viewer,
                "Digest preview",
                "Your next digest would be empty, so it would not be sent.",
            ),
            false,
        )),
        Some(Some(rendered)) => {
            let mut response = rendered.html.into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            headers.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            );
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(PREVIEW_POLICY),
            );
            Ok(response)
        }
    }
}
