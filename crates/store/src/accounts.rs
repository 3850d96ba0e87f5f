//! Members and their sessions. Password hashing and token generation happen in the web
//! layer; the store only keeps what it is given (a PHC hash string, a token digest).

use chrono::{DateTime, Utc};
use rusqlite::{ErrorCode, OptionalExtension, params};

use crate::codec::{parse_timestamp, timestamp};
use crate::{Store, StoreError};

/// A member as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub email: String,
    /// The PHC string of the password hash.
    pub password_hash: String,
}

/// What a session cookie resolves to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub user_id: i64,
    pub username: String,
    /// The per-session synchronizer token every form and unsafe API call must echo.
    pub csrf_token: String,
    pub expires: DateTime<Utc>,
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
        let inserted = self
            .conn
            .prepare_cached(
                "INSERT INTO users (username, email, password_hash, created) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![username, email, password_hash, timestamp(Some(now))]);
        match inserted {
            Ok(_) => Ok(Ok(self.conn.last_insert_rowid())),
            Err(rusqlite::Error::SqliteFailure(failure, message))
                if failure.code == ErrorCode::ConstraintViolation =>
            {
                let text = message.unwrap_or_default();
                if text.contains("users.email") {
                    Ok(Err(SignUpConflict::EmailTaken))
                } else {
                    Ok(Err(SignUpConflict::UsernameTaken))
                }
            }
            Err(other) => Err(other.into()),
        }
    }

    /// A member by username, case-insensitively.
    pub fn user_by_name(&self, username: &str) -> Result<Option<User>, StoreError> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT id, username, email, password_hash FROM users WHERE username = ?1",
            )?
            .query_row(params![username], |row| {
                Ok(User {
                    id: row.get(0)?,
                    username: row.get(1)?,
                    email: row.get(2)?,
                    password_hash: row.get(3)?,
                })
            })
            .optional()?)
    }

    pub fn create_session(
        &self,
        token_hash: &str,
        user_id: i64,
        csrf_token: &str,
        now: DateTime<Utc>,
        expires: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO sessions (token_hash, user_id, csrf_token, created, expires) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                token_hash,
                user_id,
                csrf_token,
                timestamp(Some(now)),
                timestamp(Some(expires))
            ])?;
        Ok(())
    }

    /// The live session for a token digest; expired sessions resolve to nothing.
    pub fn session(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Session>, StoreError> {
        let row = self
            .conn
            .prepare_cached(
                "SELECT s.user_id, u.username, s.csrf_token, s.expires FROM sessions s \
                 JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?1",
            )?
            .query_row(params![token_hash], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, String>(3)?,
                ))
            })
            .optional()?;
        let Some((user_id, username, csrf_token, expires)) = row else {
            return Ok(None);
        };
        let Some(expires) = parse_timestamp("session", Some(expires))? else {
            return Ok(None);
        };
        if expires <= now {
            return Ok(None);
        }
        Ok(Some(Session {
            user_id,
            username,
            csrf_token,
            expires,
        }))
    }

    pub fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("DELETE FROM sessions WHERE token_hash = ?1")?
            .execute(params![token_hash])?;
        Ok(())
    }

    /// Removes expired sessions; returns how many.
    pub fn purge_sessions(&self, now: DateTime<Utc>) -> Result<usize, StoreError> {
        Ok(self
            .conn
            .prepare_cached("DELETE FROM sessions WHERE expires <= ?1")?
            .execute(params![timestamp(Some(now))])?)
    }
}
