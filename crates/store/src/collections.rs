//! Collections: a member's named lists of papers, each paper with an optional note.
//! Every member has one built-in list, "Read later", made the first time it is needed.
//! A public collection is readable by anyone who has its URL; a private one only by
//! its owner (the web layer checks, with [`Collection::readable_by`]).

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use crate::codec::{parse_timestamp, timestamp};
use crate::db::{Db, Row, WriteOrder, args};
use crate::{Store, StoreError, StoredPaper};

/// The `builtin` value of every member's "Read later" list.
const READ_LATER: &str = "read_later";
pub const READ_LATER_TITLE: &str = "Read later";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collection {
    pub id: i64,
    pub user_id: i64,
    pub owner: String,
    pub title: String,
    pub description: String,
    pub public: bool,
    /// The built-in "Read later" list: it cannot be renamed or deleted.
    pub read_later: bool,
    pub created: Option<DateTime<Utc>>,
    pub updated: Option<DateTime<Utc>>,
    /// Papers in it.
    pub papers: u32,
}

impl Collection {
    /// Public collections are readable by anyone; private ones by their owner only.
    pub fn readable_by(&self, user_id: Option<i64>) -> bool {
        self.public || user_id == Some(self.user_id)
    }
}

/// One paper in a collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectedPaper {
    pub paper: StoredPaper,
    pub note: String,
    pub added: Option<DateTime<Utc>>,
}

/// What a new collection or an edit sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectionFields<'a> {
    pub title: &'a str,
    pub description: &'a str,
    pub public: bool,
}

const COLUMNS: &str = "c.id, c.user_id, u.username, c.title, c.description, c.public, c.builtin, \
     c.created, c.updated, (SELECT COUNT(*) FROM collection_papers p WHERE p.collection_id = c.id)";

fn collection_from_row(row: &Row) -> Result<Collection, StoreError> {
    let id: i64 = row.get(0)?;
    let label = format!("collection {id}");
    Ok(Collection {
        id,
        user_id: row.get(1)?,
        owner: row.get(2)?,
        title: row.get(3)?,
        description: row.get(4)?,
        public: row.get::<i64>(5)? != 0,
        read_later: row.get::<Option<String>>(6)?.as_deref() == Some(READ_LATER),
        created: parse_timestamp(&label, row.get(7)?)?,
        updated: parse_timestamp(&label, row.get(8)?)?,
        papers: row.get(9)?,
    })
}

impl Store {
    /// Makes a collection for the member; returns its id.
    pub fn create_collection(
        &self,
        user_id: i64,
        fields: &CollectionFields<'_>,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        let at = timestamp(Some(now));
        self.db
            .query_one(
                "INSERT INTO collections (user_id, title, description, public, created, updated) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5) RETURNING id",
                args![
                    user_id,
                    fields.title,
                    fields.description,
                    i64::from(fields.public),
                    at
                ],
            )?
            .get(0)
    }

    /// The member's "Read later" list, made on first use; returns its id.
    pub fn read_later(&self, user_id: i64, now: DateTime<Utc>) -> Result<i64, StoreError> {
        let at = timestamp(Some(now));
        self.db.execute(
            "INSERT INTO collections (user_id, title, description, public, builtin, created, updated) \
             VALUES (?1, ?2, '', 0, ?3, ?4, ?4) ON CONFLICT DO NOTHING",
            args![user_id, READ_LATER_TITLE, READ_LATER, at],
        )?;
        self.db
            .query_one(
                "SELECT id FROM collections WHERE user_id = ?1 AND builtin = ?2",
                args![user_id, READ_LATER],
            )?
            .get(0)
    }

    pub fn collection(&self, id: i64) -> Result<Option<Collection>, StoreError> {
        self.db
            .query_opt(
                &format!(
                    "SELECT {COLUMNS} FROM collections c JOIN users u ON u.id = c.user_id WHERE c.id = ?1"
                ),
                args![id],
            )?
            .map(|row| collection_from_row(&row))
            .transpose()
    }

    /// The member's collections: "Read later" first, then the rest by title.
    pub fn collections_of(&self, user_id: i64) -> Result<Vec<Collection>, StoreError> {
        self.db
            .query(
                &format!(
                    "SELECT {COLUMNS} FROM collections c JOIN users u ON u.id = c.user_id \
                     WHERE c.user_id = ?1 ORDER BY CASE WHEN c.builtin IS NULL THEN 1 ELSE 0 END, \
                     lower(c.title), c.id"
                ),
                args![user_id],
            )?
            .iter()
            .map(collection_from_row)
            .collect()
    }

    /// Changes the owner's collection; false when it is not theirs. The built-in list
    /// keeps its title.
    pub fn update_collection(
        &self,
        id: i64,
        user_id: i64,
        fields: &CollectionFields<'_>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.db.transaction(WriteOrder::Concurrent, |db| {
            let changed = db.execute(
                "UPDATE collections SET title = CASE WHEN builtin IS NULL THEN ?3 ELSE title END, \
                 description = ?4, public = ?5, updated = ?6 WHERE id = ?1 AND user_id = ?2",
                args![
                    id,
                    user_id,
                    fields.title,
                    fields.description,
                    i64::from(fields.public),
                    timestamp(Some(now))
                ],
            )?;
            if changed == 1 {
                tell_other_nodes(db)?;
            }
            Ok(changed == 1)
        })
    }

    /// Deletes the owner's collection and its entries; false when it is not theirs or
    /// is the built-in list.
    pub fn delete_collection(&self, id: i64, user_id: i64) -> Result<bool, StoreError> {
        self.db.transaction(WriteOrder::Concurrent, |db| {
            let owned = db
                .query_opt(
                    "SELECT id FROM collections WHERE id = ?1 AND user_id = ?2 AND builtin IS NULL",
                    args![id, user_id],
                )?
                .is_some();
            if owned {
                db.execute(
                    "DELETE FROM collection_papers WHERE collection_id = ?1",
                    args![id],
                )?;
                db.execute("DELETE FROM collections WHERE id = ?1", args![id])?;
                tell_other_nodes(db)?;
            }
            Ok(owned)
        })
    }

    /// Adds a paper to a collection, or replaces its note when it is there already.
    /// False when the collection is not the member's.
    pub fn add_to_collection(
        &self,
        id: i64,
        user_id: i64,
        paper_key: i64,
        note: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.db.transaction(WriteOrder::Concurrent, |db| {
            let at = timestamp(Some(now));
            let owned = db.execute(
                "UPDATE collections SET updated = ?3 WHERE id = ?1 AND user_id = ?2",
                args![id, user_id, at],
            )?;
            if owned != 1 {
                return Ok(false);
            }
            db.execute(
                "INSERT INTO collection_papers (collection_id, paper_key, note, added) \
                 VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (collection_id, paper_key) DO UPDATE SET note = excluded.note",
                args![id, paper_key, note, at],
            )?;
            tell_other_nodes(db)?;
            Ok(true)
        })
    }

    /// Takes a paper out of the member's collection; false when it was not in it.
    pub fn remove_from_collection(
        &self,
        id: i64,
        user_id: i64,
        paper_key: i64,
    ) -> Result<bool, StoreError> {
        self.db.transaction(WriteOrder::Concurrent, |db| {
            let removed = db.execute(
                "DELETE FROM collection_papers WHERE paper_key = ?3 AND collection_id = \
                 (SELECT id FROM collections WHERE id = ?1 AND user_id = ?2)",
                args![id, user_id, paper_key],
            )?;
            if removed == 1 {
                tell_other_nodes(db)?;
            }
            Ok(removed == 1)
        })
    }

    /// The papers of a collection, most recently added first.
    pub fn collection_papers(&self, id: i64) -> Result<Vec<CollectedPaper>, StoreError> {
        let rows = self.db.query(
            "SELECT paper_key, note, added FROM collection_papers WHERE collection_id = ?1 \
             ORDER BY added DESC, paper_key DESC",
            args![id],
        )?;
        let mut entries = Vec::with_capacity(rows.len());
        for row in &rows {
            let key: i64 = row.get(0)?;
            let note: String = row.get(1)?;
            let added = parse_timestamp(&format!("collection {id}"), row.get(2)?)?;
            entries.push((key, note, added));
        }
        let keys: Vec<i64> = entries.iter().map(|(key, _, _)| *key).collect();
        let mut papers: std::collections::HashMap<i64, StoredPaper> = self
            .papers_by_keys(&keys)?
            .into_iter()
            .map(|paper| (paper.key, paper))
            .collect();
        Ok(entries
            .into_iter()
            .filter_map(|(key, note, added)| {
                let paper = papers.remove(&key)?;
                Some(CollectedPaper { paper, note, added })
            })
            .collect())
    }

    /// Which of the member's collections hold the paper.
    pub fn collections_holding(
        &self,
        user_id: i64,
        paper_key: i64,
    ) -> Result<HashSet<i64>, StoreError> {
        self.db
            .query(
                "SELECT c.id FROM collections c JOIN collection_papers p ON p.collection_id = c.id \
                 WHERE c.user_id = ?1 AND p.paper_key = ?2",
                args![user_id, paper_key],
            )?
            .iter()
            .map(|row| row.get::<i64>(0))
            .collect()
    }

    /// Papers the member has in any of their collections (cards show them as saved).
    pub fn saved_keys(&self, user_id: i64) -> Result<HashSet<i64>, StoreError> {
        self.db
            .query(
                "SELECT DISTINCT p.paper_key FROM collection_papers p \
                 JOIN collections c ON c.id = p.collection_id WHERE c.user_id = ?1",
                args![user_id],
            )?
            .iter()
            .map(|row| row.get::<i64>(0))
            .collect()
    }
}

/// Public collection pages and feeds sit in every node's page cache: a change moves
/// the vote clock, part of the data version the nodes watch, as a comment does.
fn tell_other_nodes(db: &Db) -> Result<(), StoreError> {
    db.execute("UPDATE vote_clock SET ticks = ticks + 1", &[])?;
    Ok(())
}
