//! Account mails, made and sent off the request's path: the handler spawns a [`Job`]
//! and answers at once, so an answer never waits for SMTP and never depends on whether
//! an address has an account (the password-reset and sign-up answers must not).
//!
//! Every link is single purpose and single use: a random token whose digest the store
//! keeps with the purpose, the address it was mailed to and its expiry.

use chrono::{Duration, Utc};
use papers_digest::{Email, Mail, PublicUrl};
use papers_store::{NewAccountToken, TokenPurpose};

use crate::error::HttpError;
use crate::session::{digest, random_token};
use crate::state::AppState;
use crate::views::{AccountMail, account_mail};

/// How long a verification link works.
pub(crate) const VERIFY_TTL: Duration = Duration::hours(24);
/// How long a password-reset link works.
pub(crate) const RESET_TTL: Duration = Duration::hours(1);
/// How long a change-of-address link works.
pub(crate) const CHANGE_EMAIL_TTL: Duration = Duration::hours(24);

/// A mail to make and send.
#[derive(Debug, Clone)]
pub(crate) enum Job {
    /// A verification link for a new account or on request.
    Verify {
        user_id: i64,
        username: String,
        email: String,
    },
    /// Someone signed up with an address that has an account: tell its owner.
    SignUpAttempt {
        email: String,
    },
    /// A reset link, if an account has this address (nothing otherwise).
    Reset {
        email: String,
    },
    /// A link to the new address that makes the change.
    ConfirmNewEmail {
        user_id: i64,
        username: String,
        new_email: String,
    },
    /// To the old address after a change.
    EmailChanged {
        username: String,
        old_email: String,
        new_email: String,
    },
    PasswordChanged {
        username: String,
        email: String,
    },
}

impl Job {
    /// Jobs anyone can trigger for any address are limited per address and kind (one
    /// a minute), so the forms cannot flood an inbox; notices of changes are not.
    fn limit_key(&self) -> Option<String> {
        let (kind, address) = match self {
            Job::Verify { email, .. } => ("verify", email),
            Job::SignUpAttempt { email } => ("sign-up", email),
            Job::Reset { email } => ("reset", email),
            Job::ConfirmNewEmail { new_email, .. } => ("new-address", new_email),
            Job::EmailChanged { .. } | Job::PasswordChanged { .. } => return None,
        };
        Some(format!("mail:{kind}:{}", address.to_lowercase()))
    }
}

/// Runs the job on the runtime; failures are logged, never answered.
pub(crate) fn spawn(state: &AppState, job: Job) {
    let state = state.clone();
    tokio::spawn(async move {
        if let Err(error) = run(&state, job).await {
            tracing::warn!(error = %error.message, "an account mail was not sent");
        }
    });
}

async fn run(state: &AppState, job: Job) -> Result<(), HttpError> {
    let Some(mailer) = state.inner.mailer.clone() else {
        tracing::info!("no SMTP settings: account mail not sent");
        return Ok(());
    };
    if let Some(key) = job.limit_key()
        && !state.inner.mail_limiter.allow(&key)
    {
        tracing::info!(
            "an account mail to the same address went out less than a minute ago; not sent"
        );
        return Ok(());
    }
    let Some((to, mail)) = compose(state, job).await? else {
        return Ok(());
    };
    tokio::task::spawn_blocking(move || mailer.deliver(&mail))
        .await
        .map_err(HttpError::internal)?
        .map_err(|error| HttpError::unavailable(format!("mail to {to}: {error}")))
}

/// The recipient and the mail; `None` when there is nothing to send (a reset for an
/// address without an account).
async fn compose(state: &AppState, job: Job) -> Result<Option<(String, Mail)>, HttpError> {
    let base = state.config().public_url.clone();
    let reset_page = format!("{base}/account/password-reset");
    let (to, body) = match job {
        Job::Verify {
            user_id,
            username,
            email,
        } => {
            let token = issue(
                state,
                user_id,
                TokenPurpose::VerifyEmail,
                &email,
                VERIFY_TTL,
            )
            .await?;
            let link = format!("{base}/account/verify/{token}");
            let body = account_mail(
                AccountMail::VerifyEmail {
                    username: &username,
                    link: &link,
                },
                &base,
            );
            (email, body)
        }
        Job::SignUpAttempt { email } => {
            let body = account_mail(
                AccountMail::SignUpAttempt {
                    reset_link: &reset_page,
                },
                &base,
            );
            (email, body)
        }
        Job::Reset { email } => {
            let lookup = email.clone();
            let user = state
                .inner
                .pool
                .run(move |store| store.user_by_email(&lookup))
                .await?;
            let Some(user) = user else {
                return Ok(None);
            };
            let token = issue(
                state,
                user.id,
                TokenPurpose::ResetPassword,
                &user.email,
                RESET_TTL,
            )
            .await?;
            let link = format!("{base}/account/password-reset/{token}");
            let body = account_mail(
                AccountMail::ResetPassword {
                    username: &user.username,
                    link: &link,
                },
                &base,
            );
            (user.email, body)
        }
        Job::ConfirmNewEmail {
            user_id,
            username,
            new_email,
        } => {
            let token = issue(
                state,
                user_id,
                TokenPurpose::ChangeEmail,
                &new_email,
                CHANGE_EMAIL_TTL,
            )
            .await?;
            let link = format!("{base}/account/email/confirm/{token}");
            let body = account_mail(
                AccountMail::ConfirmNewEmail {
                    username: &username,
                    link: &link,
                },
                &base,
            );
            (new_email, body)
        }
        Job::EmailChanged {
            username,
            old_email,
            new_email,
        } => {
            let body = account_mail(
                AccountMail::EmailChanged {
                    username: &username,
                    new_email: &new_email,
                    reset_link: &reset_page,
                },
                &base,
            );
            (old_email, body)
        }
        Job::PasswordChanged { username, email } => {
            let body = account_mail(
                AccountMail::PasswordChanged {
                    username: &username,
                    reset_link: &reset_page,
                },
                &base,
            );
            (email, body)
        }
    };
    let address = Email::parse(&to).map_err(HttpError::internal)?;
    let host = PublicUrl::parse(&base)
        .map(|url| url.host().to_owned())
        .unwrap_or_else(|_| "localhost".to_owned());
    let now = Utc::now();
    let id = random_token()?;
    let mail = Mail {
        to: address,
        subject: body.subject,
        text: body.text,
        html: body.html,
        message_id: format!("<account.{}@{host}>", &id[..24]),
        unsubscribe_url: None,
        date: now,
    };
    Ok(Some((to, mail)))
}

/// A new token for the account and purpose (older ones of the purpose die); returns
/// the token for the link.
async fn issue(
    state: &AppState,
    user_id: i64,
    purpose: TokenPurpose,
    email: &str,
    ttl: Duration,
) -> Result<String, HttpError> {
    let token = random_token()?;
    let token_hash = digest(&token);
    let email = email.to_owned();
    let now = Utc::now();
    state
        .inner
        .pool
        .run(move |store| {
            store.issue_account_token(&NewAccountToken {
                token_hash: &token_hash,
                user_id,
                purpose,
                email: &email,
                now,
                expires: now + ttl,
            })
        })
        .await?;
    Ok(token)
}
