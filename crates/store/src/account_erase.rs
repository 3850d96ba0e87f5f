//! Deleting an account. Personal data goes; what others see keeps its shape: votes
//! stay in the papers' counts (`member_upvotes`) but the rows saying who voted go,
//! papers the member submitted through the site show as from a deleted member,
//! subscriptions made through the account are unsubscribed and unlinked, comments stay
//! in their threads as from a deleted member, and collections, reading state,
//! For you's signals and picked categories, and follows go.
//!
//! The work is a list of steps run in order in one transaction, so an account is
//! erased whole or not at all. A feature that keeps data about members adds its step
//! to [`STEPS`] (and its section to the web crate's export), and nowhere else.

use chrono::{DateTime, Utc};

use crate::codec::timestamp;
use crate::db::{Db, WriteOrder, args};
use crate::{Store, StoreError};

/// What `papers.submitted_by` says for a paper whose submitter deleted their account.
/// Brackets cannot occur in a username here or on Hugging Face, so it names nobody
/// (GitHub's "ghost" does the same for deleted users' issues and comments).
pub const DELETED_MEMBER: &str = "[deleted]";

/// The account being erased.
struct Member<'a> {
    id: i64,
    username: &'a str,
    now: String,
}

/// One step: what it erases, and how.
struct EraseStep {
    what: &'static str,
    run: fn(&Db, &Member<'_>) -> Result<u64, StoreError>,
}

/// In order; the account row goes last, after everything that refers to it.
const STEPS: &[EraseStep] = &[
    EraseStep {
        what: "vote rows (the papers' member_upvotes keep counting them)",
        run: |db, member| db.execute("DELETE FROM votes WHERE user_id = ?1", args![member.id]),
    },
    EraseStep {
        what: "submissions through the site, shown as from a deleted member",
        run: erase_submissions,
    },
    EraseStep {
        what: "subscriptions made through the account: unsubscribed and unlinked",
        // The nonce changes so a confirmation link mailed earlier cannot re-subscribe.
        run: |db, member| {
            db.execute(
                "UPDATE subscriptions SET user_id = NULL, \
                 unsubscribed_at = CASE WHEN status = 'unsubscribed' THEN unsubscribed_at \
                 ELSE ?2 END, status = 'unsubscribed', token_nonce = 'erased-' || token_nonce \
                 WHERE user_id = ?1",
                args![member.id, member.now],
            )
        },
    },
    EraseStep {
        what: "comments, kept in their threads and shown as from a deleted member",
        run: |db, member| {
            db.execute(
                "UPDATE comments SET user_id = NULL WHERE user_id = ?1",
                args![member.id],
            )
        },
    },
    EraseStep {
        what: "reports of comments the member made",
        run: |db, member| {
            db.execute(
                "DELETE FROM comment_reports WHERE user_id = ?1",
                args![member.id],
            )
        },
    },
    EraseStep {
        what: "collections (Read later among them) and the papers and notes in them",
        run: |db, member| {
            let entries = db.execute(
                "DELETE FROM collection_papers WHERE collection_id IN \
                 (SELECT id FROM collections WHERE user_id = ?1)",
                args![member.id],
            )?;
            let lists = db.execute(
                "DELETE FROM collections WHERE user_id = ?1",
                args![member.id],
            )?;
            Ok(entries + lists)
        },
    },
    EraseStep {
        what: "reading state",
        run: |db, member| {
            db.execute(
                "DELETE FROM paper_reads WHERE user_id = ?1",
                args![member.id],
            )
        },
    },
    EraseStep {
        what: "For you's signals (more / less like this) and picked categories",
        run: |db, member| {
            let signals = db.execute(
                "DELETE FROM paper_feedback WHERE user_id = ?1",
                args![member.id],
            )?;
            let picked = db.execute(
                "DELETE FROM picked_categories WHERE user_id = ?1",
                args![member.id],
            )?;
            Ok(signals + picked)
        },
    },
    EraseStep {
        what: "follows",
        run: |db, member| db.execute("DELETE FROM follows WHERE user_id = ?1", args![member.id]),
    },
    EraseStep {
        what: "personal access tokens (the API refuses them from now on)",
        run: |db, member| {
            db.execute(
                "DELETE FROM access_tokens WHERE user_id = ?1",
                args![member.id],
            )
        },
    },
    EraseStep {
        what: "roles granted to the member",
        run: |db, member| {
            db.execute(
                "DELETE FROM user_roles WHERE user_id = ?1",
                args![member.id],
            )
        },
    },
    EraseStep {
        what: "sessions",
        run: |db, member| db.execute("DELETE FROM sessions WHERE user_id = ?1", args![member.id]),
    },
    EraseStep {
        what: "mailed account links",
        run: |db, member| {
            db.execute(
                "DELETE FROM account_tokens WHERE user_id = ?1",
                args![member.id],
            )
        },
    },
    EraseStep {
        what: "the account: username, address, password hash",
        run: |db, member| db.execute("DELETE FROM users WHERE id = ?1", args![member.id]),
    },
];

/// Papers the member submitted through the site: `submitted_by` is their name and the
/// site is among the paper's sources. Each rewritten paper goes into the change log,
/// so every node re-renders it.
fn erase_submissions(db: &Db, member: &Member<'_>) -> Result<u64, StoreError> {
    let keys = db
        .query(
            "SELECT p.key FROM papers p JOIN paper_sources s ON s.paper_key = p.key \
             AND s.source = 'submitted' WHERE p.submitted_by = ?1",
            args![member.username],
        )?
        .iter()
        .map(|row| row.get::<i64>(0))
        .collect::<Result<Vec<_>, _>>()?;
    for key in &keys {
        db.execute(
            "UPDATE papers SET submitted_by = ?2 WHERE key = ?1",
            args![*key, DELETED_MEMBER],
        )?;
        db.execute(
            "INSERT INTO changes (paper_key, at) VALUES (?1, ?2)",
            args![*key, member.now],
        )?;
    }
    Ok(keys.len() as u64)
}

impl Store {
    /// Erases the account (see the module doc). False when there is no such account.
    pub fn delete_account(&mut self, user_id: i64, now: DateTime<Utc>) -> Result<bool, StoreError> {
        self.db.transaction(WriteOrder::ChangeLog, |db| {
            let Some(row) =
                db.query_opt("SELECT username FROM users WHERE id = ?1", args![user_id])?
            else {
                return Ok(false);
            };
            let username: String = row.get(0)?;
            let member = Member {
                id: user_id,
                username: &username,
                now: timestamp(Some(now)).unwrap_or_default(),
            };
            for step in STEPS {
                let rows = (step.run)(db, &member)?;
                tracing::debug!(
                    user.id = user_id,
                    step = step.what,
                    rows,
                    "erasing an account"
                );
            }
            Ok(true)
        })
    }
}
