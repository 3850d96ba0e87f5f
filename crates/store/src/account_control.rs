//! What a member does to their own account through mailed links and the account
//! pages: verify the address, change it, reset or change the password, list and end
//! sessions. Every change that should log other browsers out (a reset, a new
//! password) ends their sessions in the same transaction.

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use crate::account_tokens::{self, TokenPurpose};
use crate::codec::{parse_timestamp, timestamp};
use crate::db::{WriteOrder, args};
use crate::{Store, StoreError};

/// A verified or changed address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedEmail {
    pub user_id: i64,
    pub username: String,
    pub email: String,
}

/// A completed change of address: the new one is verified by the link that set it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailChanged {
    pub user_id: i64,
    pub username: String,
    pub old_email: String,
    pub new_email: String,
}

/// Why a change-of-address link did not change anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailChangeRefused {
    /// Unknown, used, superseded or expired.
    InvalidLink,
    /// Another account took the address after the link was mailed.
    AddressTaken,
}

/// One of a member's sessions, as their sessions page lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    /// A handle for ending the session: a prefix of the token digest (the digest of a
    /// random token; it opens nothing).
    pub handle: String,
    pub created: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub expires: DateTime<Utc>,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    /// The session this request came with.
    pub current: bool,
}

/// Characters of the token digest that name a session on the sessions page.
const HANDLE_LENGTH: usize = 16;

impl Store {
    /// Follows a verification link: the address it was mailed to becomes verified,
    /// provided the account still has that address. `None` for an unknown, used,
    /// superseded or expired link.
    pub fn verify_email(
        &mut self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<VerifiedEmail>, StoreError> {
        self.db.transaction(WriteOrder::Concurrent, |db| {
            let Some(token) = account_tokens::take(db, token_hash, TokenPurpose::VerifyEmail, now)?
            else {
                return Ok(None);
            };
            let row = db.query_opt(
                "UPDATE users SET email_verified = COALESCE(email_verified, ?3) \
                 WHERE id = ?1 AND lower(email) = lower(?2) RETURNING username, email",
                args![token.user_id, token.email, timestamp(Some(now))],
            )?;
            row.map(|row| {
                Ok(VerifiedEmail {
                    user_id: token.user_id,
                    username: row.get(0)?,
                    email: row.get(1)?,
                })
            })
            .transpose()
        })
    }

    /// Follows a change-of-address link: the account takes the address the link was
    /// mailed to, verified. Links mailed to the old address (resets, verifications) die.
    pub fn change_email(
        &mut self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Result<EmailChanged, EmailChangeRefused>, StoreError> {
        self.db.transaction(WriteOrder::Concurrent, |db| {
            let Some(token) = account_tokens::take(db, token_hash, TokenPurpose::ChangeEmail, now)?
            else {
                return Ok(Err(EmailChangeRefused::InvalidLink));
            };
            let Some(before) = db.query_opt(
                "SELECT username, email FROM users WHERE id = ?1",
                args![token.user_id],
            )?
            else {
                return Ok(Err(EmailChangeRefused::InvalidLink));
            };
            let taken = db.query_opt(
                "SELECT id FROM users WHERE lower(email) = lower(?1) AND id != ?2",
                args![token.email, token.user_id],
            )?;
            if taken.is_some() {
                return Ok(Err(EmailChangeRefused::AddressTaken));
            }
            let updated = db.execute(
                "UPDATE users SET email = ?2, email_verified = ?3 WHERE id = ?1",
                args![token.user_id, token.email, timestamp(Some(now))],
            );
            match updated {
                Ok(_) => {}
                // Taken between the check and the update by a concurrent change.
                Err(error) if error.unique_violation().is_some() => {
                    return Ok(Err(EmailChangeRefused::AddressTaken));
                }
                Err(error) => return Err(error),
            }
            db.execute(
                "DELETE FROM account_tokens WHERE user_id = ?1 AND purpose != ?2",
                args![token.user_id, TokenPurpose::ChangeEmail.as_str()],
            )?;
            Ok(Ok(EmailChanged {
                user_id: token.user_id,
                username: before.get(0)?,
                old_email: before.get(1)?,
                new_email: token.email,
            }))
        })
    }

    /// Follows a password-reset link: sets the new hash, ends every session of the
    /// account, and marks the address verified (the link reached it). `None` (and nothing changed) for an unknown, used, superseded or
    /// expired link, or one mailed to an address the account no longer has.
    pub fn reset_password(
        &mut self,
        token_hash: &str,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<i64>, StoreError> {
        self.db.transaction(WriteOrder::Concurrent, |db| {
            let Some(token) =
                account_tokens::take(db, token_hash, TokenPurpose::ResetPassword, now)?
            else {
                return Ok(None);
            };
            // The link arrived at the account's address: that verifies it too.
            let changed = db.execute(
                "UPDATE users SET password_hash = ?3, email_verified = COALESCE(email_verified, ?4) \
                 WHERE id = ?1 AND lower(email) = lower(?2)",
                args![token.user_id, token.email, password_hash, timestamp(Some(now))],
            )?;
            if changed == 0 {
                return Ok(None);
            }
            db.execute(
                "DELETE FROM sessions WHERE user_id = ?1",
                args![token.user_id],
            )?;
            db.execute(
                "DELETE FROM account_tokens WHERE user_id = ?1 AND purpose = ?2",
                args![token.user_id, TokenPurpose::ResetPassword.as_str()],
            )?;
            Ok(Some(token.user_id))
        })
    }

    /// Sets a new password hash (the caller checked the current password) and ends
    /// every other session of the account, and any reset link in flight.
    pub fn set_password(
        &mut self,
        user_id: i64,
        password_hash: &str,
        keep_session: &str,
    ) -> Result<(), StoreError> {
        self.db.transaction(WriteOrder::Concurrent, |db| {
            db.execute(
                "UPDATE users SET password_hash = ?2 WHERE id = ?1",
                args![user_id, password_hash],
            )?;
            db.execute(
                "DELETE FROM sessions WHERE user_id = ?1 AND token_hash != ?2",
                args![user_id, keep_session],
            )?;
            db.execute(
                "DELETE FROM account_tokens WHERE user_id = ?1 AND purpose = ?2",
                args![user_id, TokenPurpose::ResetPassword.as_str()],
            )?;
            Ok(())
        })
    }

    /// The account's live sessions, most recently used first; `current` is the digest
    /// of the session asking.
    pub fn sessions_of(
        &self,
        user_id: i64,
        current: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<SessionInfo>, StoreError> {
        let rows = self.db.query(
            "SELECT token_hash, created, COALESCE(last_seen, created), expires, user_agent, ip \
             FROM sessions WHERE user_id = ?1 AND expires > ?2",
            args![user_id, timestamp(Some(now))],
        )?;
        let mut sessions = Vec::with_capacity(rows.len());
        for row in rows {
            let hash: String = row.get(0)?;
            let label = "session";
            let time = |index: usize| -> Result<DateTime<Utc>, StoreError> {
                Ok(parse_timestamp(label, row.get(index)?)?.unwrap_or(now))
            };
            sessions.push(SessionInfo {
                handle: hash.chars().take(HANDLE_LENGTH).collect(),
                created: time(1)?,
                last_seen: time(2)?,
                expires: time(3)?,
                user_agent: row.get(4)?,
                ip: row.get(5)?,
                current: hash == current,
            });
        }
        sessions.sort_by(|a, b| {
            b.current
                .cmp(&a.current)
                .then(b.last_seen.cmp(&a.last_seen))
                .then(a.handle.cmp(&b.handle))
        });
        Ok(sessions)
    }

    /// Ends the member's session named by `handle`; false when they have none such.
    pub fn end_session(&self, user_id: i64, handle: &str) -> Result<bool, StoreError> {
        if handle.len() != HANDLE_LENGTH || !handle.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(false);
        }
        let ended = self.db.execute(
            "DELETE FROM sessions WHERE user_id = ?1 AND substr(token_hash, 1, 16) = ?2",
            args![user_id, handle.to_ascii_lowercase()],
        )?;
        Ok(ended > 0)
    }

    /// Ends every session of the member but `keep`; returns how many ended.
    pub fn end_other_sessions(&self, user_id: i64, keep: &str) -> Result<usize, StoreError> {
        Ok(self.db.execute(
            "DELETE FROM sessions WHERE user_id = ?1 AND token_hash != ?2",
            args![user_id, keep],
        )? as usize)
    }

    /// Subscriptions made through an account whose address is not verified: the
    /// digest sender skips them. A subscription without an account was verified by
    /// its own double opt-in and is not here.
    pub fn subscriptions_awaiting_verification(&self) -> Result<HashSet<i64>, StoreError> {
        self.db
            .query(
                "SELECT s.id FROM subscriptions s JOIN users u ON u.id = s.user_id \
                 WHERE u.email_verified IS NULL",
                &[],
            )?
            .iter()
            .map(|row| row.get::<i64>(0))
            .collect()
    }
}
