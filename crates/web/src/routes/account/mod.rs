//! The member's own account: the account page and what it changes (password, address,
//! verification link, deletion), the sessions page, the data export, password reset,
//! and the mailed links' landing pages. Every change asks for the password again,
//! except through a mailed link, whose token is the proof.

pub(crate) mod export;
pub(crate) mod jobs;
pub(crate) mod recovery;
pub(crate) mod sessions;
pub(crate) mod verify;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use papers_store::User;
use serde::Deserialize;

use crate::csrf;
use crate::error::HttpError;
use crate::extract::Form;
use crate::html::{html_response, html_with_status};
use crate::password;
use crate::routes::auth::{TokenForm, check_backoff, check_password};
use crate::session::{self, MaybeUser, SessionUser};
use crate::state::AppState;
use crate::views::{self, AccountView, CommunitySummary, Flash, Viewer};
use jobs::Job;

/// The logged-in member, or the redirect to log in first (and come back to `path`).
pub(crate) fn member(user: MaybeUser, path: &str) -> Result<SessionUser, Redirect> {
    user.0
        .ok_or_else(|| Redirect::to(&format!("/login?next={}", views::encode(path))))
}

pub(crate) fn viewer(member: &SessionUser) -> Viewer {
    Viewer {
        user: Some(member.session.clone()),
        votes: Default::default(),
        ..Viewer::default()
    }
}

/// The member's account row.
pub(crate) async fn account(state: &AppState, member: &SessionUser) -> Result<User, HttpError> {
    let id = member.session.user_id;
    state
        .inner
        .pool
        .run(move |store| store.user_by_id(id))
        .await?
        .ok_or_else(|| HttpError::internal("a session without its account"))
}

async fn render(
    state: &AppState,
    member: &SessionUser,
    status: StatusCode,
    message: Option<Flash<'_>>,
) -> Result<Response, HttpError> {
    let user = account(state, member).await?;
    let user_id = user.id;
    let mut community = state
        .inner
        .pool
        .run(move |store| {
            // Every member has Read later; it is made the first time it is shown.
            store.read_later(user_id, Utc::now())?;
            Ok(CommunitySummary {
                collections: store.collections_of(user_id)?,
                follows: store.follows_of(user_id)?,
                comments: store.comments_by(user_id)?.len(),
                read: store.read_keys(user_id)?.len(),
                tokens: store.access_tokens(user_id)?.len(),
                ..CommunitySummary::default()
            })
        })
        .await?;
    community.username = user.username.clone();
    community.member_since = Some(user.created);
    let view = AccountView {
        verified: user.is_verified(),
        email: user.email,
        community,
    };
    let markup = views::account_page(&viewer(member), &view, message);
    Ok(html_with_status(markup, status))
}

pub(crate) async fn page(
    State(state): State<AppState>,
    user: MaybeUser,
) -> Result<Response, HttpError> {
    let member = match member(user, "/account") {
        Ok(member) => member,
        Err(redirect) => return Ok(redirect.into_response()),
    };
    render(&state, &member, StatusCode::OK, None).await
}

/// Checks the password a form asked for again; `Err` is the page saying it was wrong
/// (or that the account must wait after too many wrong ones).
async fn reauthenticate(
    state: &AppState,
    member: &SessionUser,
    user: &User,
    password: String,
) -> Result<Result<(), Response>, HttpError> {
    if let Err(wait) = check_backoff(state, &user.username) {
        return Ok(Err(wait.into_response()));
    }
    if check_password(
        state,
        &user.username,
        Some(user.password_hash.clone()),
        password,
    )
    .await?
    {
        return Ok(Ok(()));
    }
    let page = render(
        state,
        member,
        StatusCode::FORBIDDEN,
        Some(Flash::Problem("That password is not right.")),
    )
    .await?;
    Ok(Err(page))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PasswordForm {
    csrf: Option<String>,
    current: String,
    new_password: String,
}

/// Changes the password: asks the current one, ends every other session.
pub(crate) async fn change_password(
    State(state): State<AppState>,
    user: MaybeUser,
    Form(form): Form<PasswordForm>,
) -> Result<Response, HttpError> {
    let member = match member(user, "/account") {
        Ok(member) => member,
        Err(redirect) => return Ok(redirect.into_response()),
    };
    csrf::check_session(&member, form.csrf.as_deref())?;
    let user = account(&state, &member).await?;
    if let Err(page) = reauthenticate(&state, &member, &user, form.current).await? {
        return Ok(page);
    }
    if let Some(problem) = password::weakness(&form.new_password, &[&user.username, &user.email]) {
        return render(
            &state,
            &member,
            StatusCode::BAD_REQUEST,
            Some(Flash::Problem(&problem)),
        )
        .await;
    }
    let hash = password::hash_blocking(form.new_password).await?;
    let keep = member.token_hash.clone();
    state
        .inner
        .pool
        .run(move |store| store.set_password(user.id, &hash, &keep))
        .await?;
    jobs::spawn(
        &state,
        Job::PasswordChanged {
            username: user.username,
            email: user.email,
        },
    );
    render(
        &state,
        &member,
        StatusCode::OK,
        Some(Flash::Done(
            "Password changed. Every other browser is logged out.",
        )),
    )
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EmailForm {
    csrf: Option<String>,
    password: String,
    email: String,
}

/// Starts a change of address: the new address gets a link, and the change happens
/// when it is followed. The answer is the same whether or not another account has the
/// address (following the link says so, to the address's owner only).
pub(crate) async fn change_email(
    State(state): State<AppState>,
    user: MaybeUser,
    Form(form): Form<EmailForm>,
) -> Result<Response, HttpError> {
    let member = match member(user, "/account") {
        Ok(member) => member,
        Err(redirect) => return Ok(redirect.into_response()),
    };
    csrf::check_session(&member, form.csrf.as_deref())?;
    let user = account(&state, &member).await?;
    if let Err(page) = reauthenticate(&state, &member, &user, form.password).await? {
        return Ok(page);
    }
    let Ok(address) = papers_digest::Email::parse(&form.email) else {
        let problem = Flash::Problem("That email address does not look right.");
        return render(&state, &member, StatusCode::BAD_REQUEST, Some(problem)).await;
    };
    if address.as_str().eq_ignore_ascii_case(&user.email) {
        let problem = Flash::Problem("That is already your address.");
        return render(&state, &member, StatusCode::BAD_REQUEST, Some(problem)).await;
    }
    let new_email = address.as_str().to_owned();
    jobs::spawn(
        &state,
        Job::ConfirmNewEmail {
            user_id: user.id,
            username: user.username,
            new_email: new_email.clone(),
        },
    );
    let message = format!(
        "We sent a link to {new_email}. Your address changes when you follow it; until then it stays {}.",
        user.email
    );
    render(&state, &member, StatusCode::OK, Some(Flash::Done(&message))).await
}

/// Mails a new verification link to the account's address.
pub(crate) async fn resend_verification(
    State(state): State<AppState>,
    user: MaybeUser,
    Form(form): Form<TokenForm>,
) -> Result<Response, HttpError> {
    let member = match member(user, "/account") {
        Ok(member) => member,
        Err(redirect) => return Ok(redirect.into_response()),
    };
    csrf::check_session(&member, form.csrf.as_deref())?;
    let user = account(&state, &member).await?;
    if user.is_verified() {
        return render(
            &state,
            &member,
            StatusCode::OK,
            Some(Flash::Done("Your address is verified.")),
        )
        .await;
    }
    let message = format!("We sent a new link to {}.", user.email);
    jobs::spawn(
        &state,
        Job::Verify {
            user_id: user.id,
            username: user.username,
            email: user.email,
        },
    );
    render(&state, &member, StatusCode::OK, Some(Flash::Done(&message))).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DeleteForm {
    csrf: Option<String>,
    password: String,
}

/// Deletes the account after asking for the password again (see
/// `papers_store::Store::delete_account` for what goes and what stays).
pub(crate) async fn delete(
    State(state): State<AppState>,
    user: MaybeUser,
    Form(form): Form<DeleteForm>,
) -> Result<Response, HttpError> {
    let member = match member(user, "/account") {
        Ok(member) => member,
        Err(redirect) => return Ok(redirect.into_response()),
    };
    csrf::check_session(&member, form.csrf.as_deref())?;
    let user = account(&state, &member).await?;
    if let Err(page) = reauthenticate(&state, &member, &user, form.password).await? {
        return Ok(page);
    }
    let user_id = user.id;
    state
        .inner
        .pool
        .run(move |store| store.delete_account(user_id, Utc::now()))
        .await?;
    // Submissions now show as from a deleted member on every cached page.
    state.invalidate();
    tracing::info!(user.id = user_id, "account deleted");
    let mut response = html_response(
        views::account_notice_page(
            &Viewer::anonymous(),
            "Account deleted",
            "Your account and what we held about you are gone. Thank you for reading with us.",
            ("/papers", "Back to the papers"),
        ),
        false,
    );
    session::clear(&state, &mut response);
    Ok(response)
}
