//! Email digests on the site: the subscribe form and API, confirmation links, the
//! one-click unsubscribe (RFC 8058), members' preferences and the digest preview.
//! The engine (`papers_digest::Digests`) does the work; these handlers map HTTP onto
//! it. Mail goes out on a blocking thread so a slow SMTP server never stalls a worker.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use papers_digest::{
    DigestError, Digests, Frequency, Purpose, Sources, SubscribeRequest, SubscriptionStatus,
    TermSearch, VotesFn, feed_day,
};
use papers_store::Subscription;
use serde::{Deserialize, Serialize};

use crate::csrf;
use crate::error::HttpError;
use crate::html::html_response;
use crate::routes::auth::form_page;
use crate::session::{MaybeUser, SessionUser};
use crate::state::AppState;
use crate::views::{self, SubscribeFields, Viewer};

/// The policy of the preview page: the digest's HTML uses inline styles, as mail
/// must, and nothing else.
const PREVIEW_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; \
     form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

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
        DigestError::Email(_) | DigestError::Invalid { .. } | DigestError::Token(_) => {
            HttpError::bad_request(error.to_string())
        }
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
    }
}

/// The member's account address.
async fn account_email(state: &AppState, user: &SessionUser) -> Result<String, HttpError> {
    let name = user.session.username.clone();
    let found = state
        .inner
        .pool
        .run(move |store| store.user_by_name(&name))
        .await?;
    found
        .map(|u| u.email)
        .ok_or_else(|| HttpError::internal("session without a user"))
}

/// The subscription made through the member's account. An account whose address is
/// not verified has none: it may have been made with someone else's address.
async fn member_subscription(
    state: &AppState,
    member: &SessionUser,
) -> Result<Option<Subscription>, HttpError> {
    if !member.session.email_verified {
        return Ok(None);
    }
    let user_id = member.session.user_id;
    Ok(state
        .inner
        .pool
        .run(move |store| store.subscription_of_user(user_id))
        .await?)
}

pub(crate) async fn form(
    State(state): State<AppState>,
    user: MaybeUser,
    headers: HeaderMap,
) -> Result<Response, HttpError> {
    match user.0 {
        Some(member) => {
            let mut fields = match member_subscription(&state, &member).await? {
                Some(subscription) => SubscribeFields::of(&subscription),
                None => SubscribeFields::default(),
            };
            fields.email = account_email(&state, &member).await?;
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

/// What a subscribe call did, for the page or the JSON answer.
#[derive(Debug, Serialize)]
pub(crate) struct SubscribeOutcome {
    email: String,
    frequency: &'static str,
    status: &'static str,
    confirmation_sent: bool,
}

/// Stores the subscription and mails its confirmation. Refuses up front when the site
/// cannot send mail, so no address waits for a link that never comes.
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
    let subscribed = state
        .inner
        .pool
        .run(move |store| Ok(digests.subscribe(store, &request, now)))
        .await?
        .map_err(digest_error)?;
    let confirmation_sent = subscribed.confirmation.is_some();
    if let Some(mail) = subscribed.confirmation {
        tokio::task::spawn_blocking(move || mailer.deliver(&mail))
            .await
            .map_err(HttpError::internal)?
            .map_err(|error| {
                tracing::warn!(%error, "cannot send a confirmation mail");
                HttpError::unavailable(
                    "The confirmation mail could not be sent; try again in a few minutes.",
                )
            })?;
    }
    Ok(SubscribeOutcome {
        email: subscribed.subscription.email,
        frequency: subscribed.subscription.frequency.as_str(),
        status: subscribed.subscription.status.as_str(),
        confirmation_sent,
    })
}

pub(crate) async fn submit(
    State(state): State<AppState>,
    user: MaybeUser,
    headers: HeaderMap,
    Form(form): Form<SubscribeForm>,
) -> Result<Response, HttpError> {
    match &user.0 {
        Some(member) => csrf::check_session(member, form.csrf.as_deref())?,
        None => csrf::check_pre_session(&state, &headers, form.csrf.as_deref())?,
    }
    if let Some(member) = &user.0
        && !member.session.email_verified
    {
        return Ok(crate::html::html_with_status(
            views::notice_page(
                &viewer_of(Some(member)),
                "Verify your address first",
                "Your account's address is not verified yet, so it cannot subscribe. Follow the link \
                 we mailed you, or ask for a new one on your account page (/account).",
            ),
            StatusCode::FORBIDDEN,
        ));
    }
    let (email, user_id) = match &user.0 {
        Some(member) => (
            account_email(&state, member).await?,
            Some(member.session.user_id),
        ),
        None => (form.email.clone().unwrap_or_default(), None),
    };
    let request = SubscribeRequest {
        email: email.trim().to_owned(),
        frequency: frequency(form.frequency.as_deref())?,
        categories: form
            .categories
            .as_deref()
            .unwrap_or("")
            .split([' ', ',', '\t'])
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .collect(),
        queries: form
            .queries
            .as_deref()
            .unwrap_or("")
            .lines()
            .map(str::trim)
            .filter(|q| !q.is_empty())
            .map(str::to_owned)
            .collect(),
        user_id,
    };
    let outcome = subscribe_and_mail(&state, request).await?;
    let viewer = viewer_of(user.0.as_ref());
    let message = if outcome.confirmation_sent {
        format!(
            "We sent a confirmation link to {}. Follow it to start your {} digest.",
            outcome.email, outcome.frequency
        )
    } else {
        "Your preferences are saved.".to_owned()
    };
    Ok(html_response(
        views::notice_page(&viewer, "Check your inbox", &message),
        false,
    ))
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
    body: Result<Json<ApiSubscribeBody>, JsonRejection>,
) -> Result<Response, HttpError> {
    async {
        let Json(body) = body.map_err(|rejection| HttpError::bad_request(rejection.body_text()))?;
        let request = SubscribeRequest {
            email: body.email,
            frequency: frequency(body.frequency.as_deref())?,
            categories: body.categories.unwrap_or_default(),
            queries: body.queries.unwrap_or_default(),
            user_id: None,
        };
        let outcome = subscribe_and_mail(&state, request).await?;
        Ok((StatusCode::ACCEPTED, Json(outcome)).into_response())
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

pub(crate) async fn preferences(
    State(state): State<AppState>,
    user: MaybeUser,
) -> Result<Response, HttpError> {
    let Some(member) = user.0 else {
        return Ok(Redirect::to("/login?next=/subscriptions").into_response());
    };
    let digests = engine(&state)?;
    let subscription = member_subscription(&state, &member).await?;
    let mut fields = subscription
        .as_ref()
        .map(SubscribeFields::of)
        .unwrap_or_default();
    fields.email = account_email(&state, &member).await?;
    let unsubscribe_path = subscription
        .as_ref()
        .filter(|s| s.status != SubscriptionStatus::Unsubscribed)
        .map(|s| {
            let url = digests.links().unsubscribe(s, Utc::now());
            let base = digests.links().base().as_str();
            url.strip_prefix(base).unwrap_or(&url).to_owned()
        });
    let viewer = viewer_of(Some(&member));
    let form = views::subscribe_form(&viewer, member.csrf(), &fields, true, None);
    Ok(html_response(
        views::preferences_page(
            &viewer,
            form,
            subscription.as_ref(),
            unsubscribe_path.as_deref(),
        ),
        false,
    ))
}

#[derive(Debug, Deserialize)]
pub(crate) struct PreviewParams {
    token: Option<String>,
}

/// The digest due today for the member's subscription, or for the subscriber whose
/// unsubscribe token (from any digest mail) is given, as the mail's HTML.
pub(crate) async fn preview(
    State(state): State<AppState>,
    user: MaybeUser,
    Query(params): Query<PreviewParams>,
) -> Result<Response, HttpError> {
    let digests = engine(&state)?;
    // An unverified account previews nothing of a subscription it may not own.
    let user_id = user
        .0
        .as_ref()
        .filter(|m| m.session.email_verified)
        .map(|m| m.session.user_id);
    if params.token.is_none() && user.0.is_none() {
        return Ok(Redirect::to("/login?next=/digest/preview").into_response());
    }
    let now = Utc::now();
    let rendered = state
        .inner
        .pool
        .run(move |store| {
            let subscription = match (params.token, user_id) {
                (Some(token), _) => {
                    match digests.verified(store, &token, Purpose::Unsubscribe, now) {
                        Ok(found) => Some(found),
                        Err(error) => return Ok(Err(error)),
                    }
                }
                (None, Some(user_id)) => store.subscription_of_user(user_id)?,
                (None, None) => None,
            };
            let Some(subscription) = subscription else {
                return Ok(Ok(None));
            };
            let votes = VotesFn(|store: &papers_store::Store, user: i64| {
                Ok(store.voted_keys(user)?.into_iter().collect())
            });
            let sources = Sources {
                search: &TermSearch,
                votes: &votes,
            };
            Ok(digests
                .preview(store, &sources, &subscription, feed_day(now), now)
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
                "No digest yet: subscribe first, or nothing new matches your preferences for the next one.",
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
