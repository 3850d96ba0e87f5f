//! Personal access tokens: what an API client sends as `Authorization: Bearer …` in
//! place of a session cookie. The web layer makes the token and hashes it; the store
//! keeps only the digest, a label, and when it was made and last used.

use chrono::{DateTime, Utc};

use crate::codec::{parse_timestamp, timestamp};
use crate::db::args;
use crate::{Store, StoreError};

/// A token as its member sees it in their list (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessToken {
    pub id: i64,
    pub label: String,
    pub created: Option<DateTime<Utc>>,
    /// Recorded at most once a minute (see [`Store::token_owner`]).
    pub last_used: Option<DateTime<Utc>>,
}

/// Whom a token digest stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenOwner {
    pub token_id: i64,
    pub user_id: i64,
    pub username: String,
    /// Whether the member's address is verified (as [`crate::Session::email_verified`]).
    pub email_verified: bool,
}

/// How stale `last_used` may get: recording every request would make each API call a
/// write; once a minute is enough to tell a token in use from a forgotten one.
const LAST_USED_RESOLUTION: chrono::Duration = chrono::Duration::seconds(60);

impl Store {
    /// Stores a new token's digest for the member; returns the token's id.
    pub fn create_access_token(
        &self,
        user_id: i64,
        token_hash: &str,
        label: &str,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        self.db
            .query_one(
                "INSERT INTO access_tokens (user_id, token_hash, label, created) \
                 VALUES (?1, ?2, ?3, ?4) RETURNING id",
                args![user_id, token_hash, label, timestamp(Some(now))],
            )?
            .get(0)
    }

    /// The member's live tokens, newest first.
    pub fn access_tokens(&self, user_id: i64) -> Result<Vec<AccessToken>, StoreError> {
        self.db
            .query(
                "SELECT id, label, created, last_used FROM access_tokens WHERE user_id = ?1 \
                 ORDER BY id DESC",
                args![user_id],
            )?
            .into_iter()
            .map(|row| {
                let label: String = row.get(1)?;
                Ok(AccessToken {
                    id: row.get(0)?,
                    created: parse_timestamp(&label, row.get(2)?)?,
                    last_used: parse_timestamp(&label, row.get(3)?)?,
                    label,
                })
            })
            .collect()
    }

    /// Revokes one of the member's tokens; false when they have no such token (another
    /// member's token id is "no such token", so ids reveal nothing).
    pub fn revoke_access_token(&self, user_id: i64, token_id: i64) -> Result<bool, StoreError> {
        let removed = self.db.execute(
            "DELETE FROM access_tokens WHERE id = ?1 AND user_id = ?2",
            args![token_id, user_id],
        )?;
        Ok(removed == 1)
    }

    /// The member a token digest stands for, recording the use (at most once a
    /// minute); `None` for a digest no live token has.
    pub fn token_owner(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<TokenOwner>, StoreError> {
        self.db.execute(
            "UPDATE access_tokens SET last_used = ?2 \
             WHERE token_hash = ?1 AND (last_used IS NULL OR last_used < ?3)",
            args![
                token_hash,
                timestamp(Some(now)),
                timestamp(Some(now - LAST_USED_RESOLUTION))
            ],
        )?;
        self.db
            .query_opt(
                "SELECT t.id, t.user_id, u.username, u.email_verified FROM access_tokens t \
                 JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?1",
                args![token_hash],
            )?
            .map(|row| {
                Ok(TokenOwner {
                    token_id: row.get(0)?,
                    user_id: row.get(1)?,
                    username: row.get(2)?,
                    email_verified: row.get::<Option<String>>(3)?.is_some(),
                })
            })
            .transpose()
    }
}
