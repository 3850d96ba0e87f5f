//! Members and their sessions. Password hashing and token generation happen in the web
//! layer; the store only keeps what it is given (a PHC hash string, a token digest).

use chrono::{DateTime, Utc};

use crate::codec::{parse_timestamp, timestamp};
use crate::db::args;
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
        let Some(row) = self.db.query_opt(
            "SELECT id, username, email, password_hash FROM users \
             WHERE lower(username) = lower(?1)",
            args![username],
        )?
        else {
            return Ok(None);
        };
        Ok(Some(User {
            id: row.get(0)?,
            username: row.get(1)?,
            email: row.get(2)?,
            password_hash: row.get(3)?,
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
        self.db.execute(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, created, expires) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
            args![
                token_hash,
                user_id,
                csrf_token,
                timestamp(Some(now)),
                timestamp(Some(expires))
            ],
        )?;
        Ok(())
    }

    /// The live session for a token digest; expired sessions resolve to nothing.
    pub fn session(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Session>, StoreError> {
        let row = self
            .db
            .query_opt(
                "SELECT s.user_id, u.username, s.csrf_token, s.expires FROM sessions s \
                 JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?1",
                args![token_hash],
            )?
            .map(|row| -> Result<_, StoreError> {
                Ok((
                    row.get::<i64>(0)?,
                    row.get::<String>(1)?,
                    row.get::<String>(2)?,
                    row.get::<String>(3)?,
                ))
            })
            .transpose()?;
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
