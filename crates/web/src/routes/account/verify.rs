//! Where the mailed verification and change-of-address links land. Following one uses
//! it up. A GET does the work: the link proves the mail arrived, which is all these
//! links prove, so a mail scanner that fetches it first changes nothing it could not.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Utc;
use papers_store::EmailChangeRefused;

use crate::error::HttpError;
use crate::html::html_with_status;
use crate::session::{MaybeUser, digest};
use crate::state::AppState;
use crate::views::{self, Viewer};

use super::jobs::{self, Job};

/// Tokens are 64 hex digits; anything else is refused without asking the store.
pub(crate) fn well_formed(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

fn viewer_of(user: &MaybeUser) -> Viewer {
    Viewer {
        user: user.0.as_ref().map(|member| member.session.clone()),
        votes: Default::default(),
        ..Viewer::default()
    }
}

fn answer(user: &MaybeUser, status: StatusCode, title: &str, message: &str) -> Response {
    let next = if user.0.is_some() {
        ("/account", "Your account")
    } else {
        ("/login", "Log in")
    };
    html_with_status(
        views::account_notice_page(&viewer_of(user), title, message, next),
        status,
    )
}

const USED_UP: &str = "This link is not valid: it was used already, a newer one was sent, or it expired. \
     Ask for a new one on your account page.";

pub(crate) async fn verify_email(
    State(state): State<AppState>,
    user: MaybeUser,
    Path(token): Path<String>,
) -> Result<Response, HttpError> {
    if !well_formed(&token) {
        return Ok(answer(
            &user,
            StatusCode::BAD_REQUEST,
            "Link not valid",
            USED_UP,
        ));
    }
    let hash = digest(&token);
    let verified = state
        .inner
        .pool
        .run(move |store| store.verify_email(&hash, Utc::now()))
        .await?;
    Ok(match verified {
        Some(done) => answer(
            &user,
            StatusCode::OK,
            "Address verified",
            &format!("{} is verified for {}.", done.email, done.username),
        ),
        None => answer(&user, StatusCode::BAD_REQUEST, "Link not valid", USED_UP),
    })
}

pub(crate) async fn confirm_new_email(
    State(state): State<AppState>,
    user: MaybeUser,
    Path(token): Path<String>,
) -> Result<Response, HttpError> {
    if !well_formed(&token) {
        return Ok(answer(
            &user,
            StatusCode::BAD_REQUEST,
            "Link not valid",
            USED_UP,
        ));
    }
    let hash = digest(&token);
    let changed = state
        .inner
        .pool
        .run(move |store| store.change_email(&hash, Utc::now()))
        .await?;
    Ok(match changed {
        Ok(change) => {
            let message = format!("{} now uses {}.", change.username, change.new_email);
            jobs::spawn(
                &state,
                Job::EmailChanged {
                    username: change.username,
                    old_email: change.old_email,
                    new_email: change.new_email,
                },
            );
            answer(&user, StatusCode::OK, "Address changed", &message)
        }
        Err(EmailChangeRefused::InvalidLink) => {
            answer(&user, StatusCode::BAD_REQUEST, "Link not valid", USED_UP)
        }
        // Only the owner of the address reads this (the link went to it).
        Err(EmailChangeRefused::AddressTaken) => answer(
            &user,
            StatusCode::CONFLICT,
            "Address in use",
            "Another account uses this address, so it cannot be added to this one.",
        ),
    })
}
