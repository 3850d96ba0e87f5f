//! Members and their sessions. Password hashing and token generation happen in the web
//! layer; the store only keeps what it is given (a PHC hash string, a token digest).
//! What a member can do to their own account (verify, reset, sessions, export,
//! deletion) is in `account_control`, `account_tokens` and `account_erase`.

use chrono::{DateTime, Utc};

use crate::codec::{corrupt, parse_timestamp, timestamp};
use crate::db::args;
use crate::{Corruption, Store, StoreError};

/// A member as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub email: String,
    /// The PHC string of the password hash.
    pub password_hash: String,
    pub created: DateTime<Utc>,
    /// When the current address was proven by a mailed link; `None` until then. An
    /// unverified account works, but cannot be linked to a subscription or get digests.
    pub email_verified: Option<DateTime<Utc>>,
}

impl User {
    pub fn is_verified(&self) -> bool {
        self.email_verified.is_some()
    }
}

/// What a session cookie resolves to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub user_id: i64,
    pub username: String,
    /// The per-session synchronizer token every form and unsafe API call must echo.
    pub csrf_token: String,
    pub expires: DateTime<Utc>,
    /// When the session was last used (its creation until then); refreshed now and
    /// then, not on every request.
    pub last_seen: DateTime<Utc>,
    /// Whether the member's address is verified.
    pub email_verified: bool,
}

/// A session to create: the cookie token's digest and what the sessions page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession<'a> {
    pub token_hash: &'a str,
    pub user_id: i64,
    pub csrf_token: &'a str,
    pub now: DateTime<Utc>,
    pub expires: DateTime<Utc>,
    /// The browser's `User-Agent`, as sent (cut to a sane length by the caller).
    pub user_agent: Option<&'a str>,
    /// The client address, as seen through trusted proxies.
    pub ip: Option<&'a str>,
}

/// Why a sign-up was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignUpConflict {
    UsernameTaken,
    EmailTaken,
}

impl Store {
    /// Creates a member. Uniqueness of username and email (both case-insensitive) is
    /// enforced by the database, so two simultaneous sign-ups cannot both win.
    pub fn create_user(
        &self,
        username: &str,
        email: &str,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Result<i64, SignUpConflict>, StoreError> {
        let inserted = self.db.query_one(
            "INSERT INTO users (username, email, password_hash, created) VALUES (?1, ?2, ?3, ?4) \
             RETURNING id",
            args![username, email, password_hash, timestamp(Some(now))],
        );
        match inserted {
            Ok(row) => Ok(Ok(row.get(0)?)),
            Err(error) => match error.unique_violation() {
                Some(clash) if clash.contains("email") => Ok(Err(SignUpConflict::EmailTaken)),
                Some(_) => Ok(Err(SignUpConflict::UsernameTaken)),
                None => Err(error),
            },
        }
    }

    /// A member by username, case-insensitively.
    pub fn user_by_name(&self, username: &str) -> Result<Option<User>, StoreError> {
        self.user_where("lower(username) = lower(?1)", args![username])
    }

    pub fn user_by_id(&self, id: i64) -> Result<Option<User>, StoreError> {
        self.user_where("id = ?1", args![id])
    }

    /// The member whose address this is, case-insensitively (addresses are unique).
    pub fn user_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        self.user_where("lower(email) = lower(?1)", args![email])
    }

    fn user_where(
        &self,
        condition: &str,
        values: &[crate::db::Value],
    ) -> Result<Option<User>, StoreError> {
        let Some(row) = self.db.query_opt(
            &format!(
                "SELECT id, username, email, password_hash, created, email_verified FROM users \
                 WHERE {condition}"
            ),
            values,
        )?
        else {
            return Ok(None);
        };
        let username: String = row.get(1)?;
        Ok(Some(User {
            id: row.get(0)?,
            email: row.get(2)?,
            password_hash: row.get(3)?,
            created: parse_timestamp(&username, row.get(4)?)?
                .ok_or_else(|| corrupt(&username, Corruption::Missing("created")))?,
            email_verified: parse_timestamp(&username, row.get(5)?)?,
            username,
        }))
    }

    pub fn create_session(
        &self,
        token_hash: &str,
        user_id: i64,
        csrf_token: &str,
        now: DateTime<Utc>,
        expires: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.open_session(&NewSession {
            token_hash,
            user_id,
            csrf_token,
            now,
            expires,
            user_agent: None,
            ip: None,
        })
    }

    /// Creates a session with what the member's sessions page shows about it.
    pub fn open_session(&self, new: &NewSession<'_>) -> Result<(), StoreError> {
        self.db.execute(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, created, expires, last_seen, \
             user_agent, ip) VALUES (?1, ?2, ?3, ?4, ?5, ?4, ?6, ?7)",
            args![
                new.token_hash,
                new.user_id,
                new.csrf_token,
                timestamp(Some(new.now)),
                timestamp(Some(new.expires)),
                new.user_agent,
                new.ip
            ],
        )?;
        Ok(())
    }

    /// Records that a session was used at `now`.
    pub fn touch_session(&self, token_hash: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.db.execute(
            "UPDATE sessions SET last_seen = ?2 WHERE token_hash = ?1",
            args![token_hash, timestamp(Some(now))],
        )?;
        Ok(())
    }

    /// The live session for a token digest; expired sessions resolve to nothing.
    pub fn session(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Session>, StoreError> {
        let Some(row) = self.db.query_opt(
            "SELECT s.user_id, u.username, s.csrf_token, s.expires, \
             COALESCE(s.last_seen, s.created), u.email_verified FROM sessions s \
             JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?1",
            args![token_hash],
        )?
        else {
            return Ok(None);
        };
        let username: String = row.get(1)?;
        let Some(expires) = parse_timestamp("session", row.get(3)?)? else {
            return Ok(None);
        };
        if expires <= now {
            return Ok(None);
        }
        let last_seen = parse_timestamp("session", row.get(4)?)?.unwrap_or(expires);
        Ok(Some(Session {
            user_id: row.get(0)?,
            username,
            csrf_token: row.get(2)?,
            expires,
            last_seen,
            email_verified: row.get::<Option<String>>(5)?.is_some(),
        }))
    }

    pub fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        self.db.execute(
            "DELETE FROM sessions WHERE token_hash = ?1",
            args![token_hash],
        )?;
        Ok(())
    }

    /// Removes expired sessions; returns how many.
    pub fn purge_sessions(&self, now: DateTime<Utc>) -> Result<usize, StoreError> {
        Ok(self.db.execute(
            "DELETE FROM sessions WHERE expires <= ?1",
            args![timestamp(Some(now))],
        )? as usize)
    }
}
