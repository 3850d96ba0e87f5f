//! Members' comments on papers: one level of replies, edits marked, deletion by the
//! author, reports, and hiding by moderators. `papers.member_comments` counts a paper's
//! visible comments and is changed in the same transaction as the rows, so the count
//! on cards always equals what the paper page shows. Every write bumps the vote clock,
//! which is what other nodes poll to drop their cached pages.

use chrono::{DateTime, Utc};

use crate::codec::{parse_timestamp, timestamp};
use crate::db::{Db, Row, WriteOrder, args};
use crate::{Store, StoreError};

/// A comment as stored. The web layer decides what a reader sees of it (a deleted or
/// hidden comment keeps its place in a thread with replies).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    pub id: i64,
    pub paper_key: i64,
    /// The paper's arXiv id.
    pub paper_id: String,
    /// `None` once the author deleted their account.
    pub user_id: Option<i64>,
    /// The author's username; `None` once the account is deleted.
    pub author: Option<String>,
    /// The comment replied to; replies are never replied to (one level).
    pub parent: Option<i64>,
    /// Markdown as written (empty once deleted).
    pub body: String,
    pub created: Option<DateTime<Utc>>,
    /// When the author last edited it.
    pub edited: Option<DateTime<Utc>>,
    pub deleted: bool,
    pub hidden: bool,
    /// How many members reported it.
    pub reports: u32,
}

impl Comment {
    /// Neither deleted by its author nor hidden by a moderator.
    pub fn visible(&self) -> bool {
        !self.deleted && !self.hidden
    }
}

/// Why a new comment was not stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommentRefused {
    /// The comment replied to is not on this paper.
    NoSuchParent,
    /// The comment replied to is itself a reply.
    ReplyToReply,
}

const COLUMNS: &str = "c.id, c.paper_key, c.user_id, u.username, c.parent_id, c.body, c.created, \
     c.edited, c.deleted, c.hidden, \
     (SELECT COUNT(*) FROM comment_reports r WHERE r.comment_id = c.id), p.id";

/// The tables [`COLUMNS`] reads from.
const FROM: &str =
    "comments c LEFT JOIN users u ON u.id = c.user_id JOIN papers p ON p.key = c.paper_key";

fn comment_from_row(row: &Row) -> Result<Comment, StoreError> {
    let id: i64 = row.get(0)?;
    let label = format!("comment {id}");
    Ok(Comment {
        id,
        paper_key: row.get(1)?,
        user_id: row.get(2)?,
        author: row.get(3)?,
        parent: row.get(4)?,
        body: row.get(5)?,
        created: parse_timestamp(&label, row.get(6)?)?,
        edited: parse_timestamp(&label, row.get(7)?)?,
        deleted: row.get::<i64>(8)? != 0,
        hidden: row.get::<i64>(9)? != 0,
        reports: row.get(10)?,
        paper_id: row.get(11)?,
    })
}

fn find(db: &Db, id: i64) -> Result<Option<Comment>, StoreError> {
    db.query_opt(
        &format!("SELECT {COLUMNS} FROM {FROM} WHERE c.id = ?1"),
        args![id],
    )?
    .map(|row| comment_from_row(&row))
    .transpose()
}

/// Moves the paper's visible-comment count by `delta` and tells other nodes.
fn recount(db: &Db, paper_key: i64, delta: i64) -> Result<(), StoreError> {
    db.execute(
        "UPDATE papers SET member_comments = \
         CASE WHEN member_comments + ?2 > 0 THEN member_comments + ?2 ELSE 0 END WHERE key = ?1",
        args![paper_key, delta],
    )?;
    db.execute("UPDATE vote_clock SET ticks = ticks + 1", &[])?;
    Ok(())
}

impl Store {
    /// Stores a member's comment (a reply when `parent` is given). `Ok(Err(_))` when
    /// the parent is not a top-level comment of the same paper.
    pub fn add_comment(
        &self,
        paper_key: i64,
        user_id: i64,
        parent: Option<i64>,
        body: &str,
        now: DateTime<Utc>,
    ) -> Result<Result<Comment, CommentRefused>, StoreError> {
        self.db.transaction(WriteOrder::Concurrent, |db| {
            if let Some(parent) = parent {
                match find(db, parent)? {
                    Some(found) if found.paper_key != paper_key => {
                        return Ok(Err(CommentRefused::NoSuchParent));
                    }
                    None => return Ok(Err(CommentRefused::NoSuchParent)),
                    Some(found) if found.parent.is_some() => {
                        return Ok(Err(CommentRefused::ReplyToReply));
                    }
                    Some(_) => {}
                }
            }
            let id: i64 = db
                .query_one(
                    "INSERT INTO comments (paper_key, user_id, parent_id, body, created) \
                     VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
                    args![paper_key, user_id, parent, body, timestamp(Some(now))],
                )?
                .get(0)?;
            recount(db, paper_key, 1)?;
            find(db, id)?.map(Ok).ok_or_else(|| StoreError::NoRow {
                sql: "comment just inserted".to_owned(),
            })
        })
    }

    /// One comment, whatever its state.
    pub fn comment(&self, id: i64) -> Result<Option<Comment>, StoreError> {
        find(&self.db, id)
    }

    /// Every comment on a paper, oldest first (deleted and hidden ones included: the
    /// page shows what remains of them).
    pub fn comments_of(&self, paper_key: i64) -> Result<Vec<Comment>, StoreError> {
        self.db
            .query(
                &format!("SELECT {COLUMNS} FROM {FROM} WHERE c.paper_key = ?1 ORDER BY c.id"),
                args![paper_key],
            )?
            .iter()
            .map(comment_from_row)
            .collect()
    }

    /// Replaces the body of the author's own comment and marks it edited; false when
    /// it is not theirs, or deleted or hidden.
    pub fn edit_comment(
        &self,
        id: i64,
        user_id: i64,
        body: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.db.transaction(WriteOrder::Concurrent, |db| {
            let changed = db.execute(
                "UPDATE comments SET body = ?3, edited = ?4 \
                 WHERE id = ?1 AND user_id = ?2 AND deleted = 0 AND hidden = 0",
                args![id, user_id, body, timestamp(Some(now))],
            )?;
            if changed == 1 {
                db.execute("UPDATE vote_clock SET ticks = ticks + 1", &[])?;
            }
            Ok(changed == 1)
        })
    }

    /// Deletes the author's own comment: its text goes, its place in the thread stays
    /// (replies to it still read). False when it is not theirs or already deleted.
    pub fn delete_comment(&self, id: i64, user_id: i64) -> Result<bool, StoreError> {
        self.db.transaction(WriteOrder::Concurrent, |db| {
            let Some(found) = find(db, id)? else {
                return Ok(false);
            };
            if found.user_id != Some(user_id) || found.deleted {
                return Ok(false);
            }
            db.execute(
                "UPDATE comments SET deleted = 1, body = '' WHERE id = ?1",
                args![id],
            )?;
            recount(db, found.paper_key, if found.hidden { 0 } else { -1 })?;
            Ok(true)
        })
    }

    /// A moderator hides (`true`) or restores a comment; false when there is no such
    /// comment or it already is in that state.
    pub fn set_comment_hidden(&self, id: i64, hidden: bool) -> Result<bool, StoreError> {
        self.db.transaction(WriteOrder::Concurrent, |db| {
            let Some(found) = find(db, id)? else {
                return Ok(false);
            };
            if found.hidden == hidden {
                return Ok(false);
            }
            db.execute(
                "UPDATE comments SET hidden = ?2 WHERE id = ?1",
                args![id, i64::from(hidden)],
            )?;
            let delta = match (found.deleted, hidden) {
                (true, _) => 0,
                (false, true) => -1,
                (false, false) => 1,
            };
            recount(db, found.paper_key, delta)?;
            Ok(true)
        })
    }

    /// Records a member's report of a comment; false when they had reported it already.
    pub fn report_comment(
        &self,
        id: i64,
        user_id: i64,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let added = self.db.execute(
            "INSERT INTO comment_reports (comment_id, user_id, reason, created) \
             VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
            args![id, user_id, reason, timestamp(Some(now))],
        )?;
        Ok(added == 1)
    }

    /// Reported comments that are still shown or were hidden, most reported first:
    /// the moderators' queue.
    pub fn reported_comments(&self, limit: usize) -> Result<Vec<Comment>, StoreError> {
        self.db
            .query(
                &format!(
                    "SELECT {COLUMNS} FROM {FROM} \
                     WHERE c.deleted = 0 AND EXISTS (SELECT 1 FROM comment_reports r WHERE r.comment_id = c.id) \
                     ORDER BY c.hidden, (SELECT COUNT(*) FROM comment_reports r WHERE r.comment_id = c.id) DESC, c.id DESC \
                     LIMIT ?1"
                ),
                args![limit],
            )?
            .iter()
            .map(comment_from_row)
            .collect()
    }

    /// A member's own comments, newest first (their export).
    pub fn comments_by(&self, user_id: i64) -> Result<Vec<Comment>, StoreError> {
        self.db
            .query(
                &format!("SELECT {COLUMNS} FROM {FROM} WHERE c.user_id = ?1 ORDER BY c.id DESC"),
                args![user_id],
            )?
            .iter()
            .map(comment_from_row)
            .collect()
    }

    /// The number of visible comment rows of a paper: what `member_comments` must equal.
    pub fn visible_comment_rows(&self, paper_key: i64) -> Result<u64, StoreError> {
        let count: i64 = self
            .db
            .query_one(
                "SELECT COUNT(*) FROM comments WHERE paper_key = ?1 AND deleted = 0 AND hidden = 0",
                args![paper_key],
            )?
            .get(0)?;
        Ok(count.max(0) as u64)
    }
}
