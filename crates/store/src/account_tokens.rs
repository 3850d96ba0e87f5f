//! Single-use, single-purpose links mailed for an account: verify the address, reset
//! the password, change the address. The web layer makes the random token and mails
//! it; the store keeps its SHA-256 digest, the purpose, the address it was mailed to
//! and when it expires. Taking a token deletes it, so a link works once; issuing one
//! deletes the account's older tokens of the same purpose, so only the latest works.

use chrono::{DateTime, Utc};

use crate::codec::{corrupt, parse_timestamp, timestamp};
use crate::db::{Db, WriteOrder, args};
use crate::{Corruption, Store, StoreError};

/// What a mailed account link is for; a token of one purpose never serves another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenPurpose {
    VerifyEmail,
    ResetPassword,
    ChangeEmail,
}

impl TokenPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenPurpose::VerifyEmail => "verify_email",
            TokenPurpose::ResetPassword => "reset_password",
            TokenPurpose::ChangeEmail => "change_email",
        }
    }
}

/// A live token: whose, and the address its link was mailed to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountToken {
    pub user_id: i64,
    pub purpose: TokenPurpose,
    pub email: String,
    pub expires: DateTime<Utc>,
}

/// A token to store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewAccountToken<'a> {
    pub token_hash: &'a str,
    pub user_id: i64,
    pub purpose: TokenPurpose,
    pub email: &'a str,
    pub now: DateTime<Utc>,
    pub expires: DateTime<Utc>,
}

impl Store {
    /// Stores a token, replacing the account's earlier tokens of the same purpose.
    pub fn issue_account_token(&mut self, new: &NewAccountToken<'_>) -> Result<(), StoreError> {
        self.db.transaction(WriteOrder::Concurrent, |db| {
            db.execute(
                "DELETE FROM account_tokens WHERE user_id = ?1 AND purpose = ?2",
                args![new.user_id, new.purpose.as_str()],
            )?;
            db.execute(
                "INSERT INTO account_tokens (token_hash, user_id, purpose, email, created, \
                 expires) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                args![
                    new.token_hash,
                    new.user_id,
                    new.purpose.as_str(),
                    new.email,
                    timestamp(Some(new.now)),
                    timestamp(Some(new.expires))
                ],
            )?;
            Ok(())
        })
    }

    /// The live token of `purpose` with this digest, without using it up (the reset
    /// page shows its form first).
    pub fn account_token(
        &self,
        token_hash: &str,
        purpose: TokenPurpose,
        now: DateTime<Utc>,
    ) -> Result<Option<AccountToken>, StoreError> {
        let row = self.db.query_opt(
            "SELECT user_id, email, expires FROM account_tokens \
             WHERE token_hash = ?1 AND purpose = ?2",
            args![token_hash, purpose.as_str()],
        )?;
        row.map(|row| decode(&row, purpose))
            .transpose()
            .map(|token| token.filter(|t| t.expires > now))
    }

    /// Removes expired tokens; returns how many.
    pub fn purge_account_tokens(&self, now: DateTime<Utc>) -> Result<usize, StoreError> {
        Ok(self.db.execute(
            "DELETE FROM account_tokens WHERE expires <= ?1",
            args![timestamp(Some(now))],
        )? as usize)
    }
}

/// Deletes the token and returns it if it was live: whatever happens next, the link
/// cannot be used again. Runs inside the caller's transaction.
pub(crate) fn take(
    db: &Db,
    token_hash: &str,
    purpose: TokenPurpose,
    now: DateTime<Utc>,
) -> Result<Option<AccountToken>, StoreError> {
    let row = db.query_opt(
        "DELETE FROM account_tokens WHERE token_hash = ?1 AND purpose = ?2 \
         RETURNING user_id, email, expires",
        args![token_hash, purpose.as_str()],
    )?;
    let token = row.map(|row| decode(&row, purpose)).transpose()?;
    Ok(token.filter(|t| t.expires > now))
}

fn decode(row: &crate::db::Row, purpose: TokenPurpose) -> Result<AccountToken, StoreError> {
    let user_id: i64 = row.get(0)?;
    let label = format!("account token of user {user_id}");
    Ok(AccountToken {
        user_id,
        purpose,
        email: row.get(1)?,
        expires: parse_timestamp(&label, row.get(2)?)?
            .ok_or_else(|| corrupt(&label, Corruption::Missing("expires")))?,
    })
}
