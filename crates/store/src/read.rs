//! Reading papers back: one by id, or in bulk for the index builders.

use std::collections::HashMap;
use std::ops::ControlFlow;

use papers_core::{ArxivId, Community, Links, Metadata, Paper, Source, Version};

use crate::codec::{
    count, parse_authors, parse_categories, parse_day, parse_id, parse_source, parse_string_list,
    parse_timestamp,
};
use crate::db::{Db, Row, ToValue, Value, args};
use crate::{Store, StoreError};

/// A paper as stored, with what only the store knows: its integer key, the votes
/// members cast here, and the sources that mentioned it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPaper {
    pub key: i64,
    pub paper: Paper,
    pub member_upvotes: u32,
    /// Members' visible comments here (neither deleted nor hidden).
    pub member_comments: u32,
    pub links: Links,
}

impl StoredPaper {
    /// Upvotes shown to readers: those imported from the source plus those cast here.
    pub fn upvotes(&self) -> u32 {
        self.paper.community.upvotes.unwrap_or(0) + self.member_upvotes
    }

    /// Comments shown to readers: those counted by the source plus members' here.
    pub fn comments(&self) -> u32 {
        self.paper.community.num_comments.unwrap_or(0) + self.member_comments
    }

    /// The order of "newest papers" lists (followed papers, a topic's newest): the
    /// first version's date, newest first, then the store key, highest (the last
    /// ingested) first, so equal dates keep one order on every page. For `sort_by`.
    pub fn cmp_newest_first(&self, other: &StoredPaper) -> std::cmp::Ordering {
        other
            .paper
            .metadata
            .published
            .cmp(&self.paper.metadata.published)
            .then(other.key.cmp(&self.key))
    }
}

pub(crate) const PAPER_COLUMNS: &str = "key, id, title, abstract, authors, categories, doi, journal_ref, \
     comments, report_no, license, submitter, published, updated, metadata_source, feed_day, \
     submitted_by, organization, source_upvotes, member_upvotes, num_comments, github_repo, \
     project_page, github_url, project_url, ai_summary, ai_keywords, github_stars, \
     organization_fullname, organization_avatar, thumbnail, media_urls, member_comments";

/// Decodes a row selected with [`PAPER_COLUMNS`]; versions are filled in separately.
/// Text moves out of the row rather than being copied: the paper page decodes seven
/// papers, each with a score of text columns.
pub(crate) fn paper_from_row(mut row: Row) -> Result<StoredPaper, StoreError> {
    let id = parse_id(row.text(1)?)?;
    let text = id.as_str();
    let metadata = Metadata {
        title: row.take(2)?,
        abstract_text: row.take(3)?,
        authors: parse_authors(text, row.text(4)?)?,
        categories: parse_categories(text, row.text(5)?)?,
        doi: row.take(6)?,
        journal_ref: row.take(7)?,
        comments: row.take(8)?,
        report_no: row.take(9)?,
        license: row.take(10)?,
        submitter: row.take(11)?,
        published: parse_timestamp(text, row.get(12)?)?,
        updated: parse_timestamp(text, row.get(13)?)?,
        versions: Vec::new(),
    };
    let community = Community {
        feed_day: parse_day(text, row.get(15)?)?,
        submitted_by: row.take(16)?,
        organization: row.take(17)?,
        upvotes: count(row.get(18)?),
        num_comments: count(row.get(20)?),
        github_repo: row.take(21)?,
        project_page: row.take(22)?,
        ai_summary: row.take(25)?,
        ai_keywords: parse_string_list(text, row.take(26)?)?,
        github_stars: count(row.get(27)?),
        organization_fullname: row.take(28)?,
        organization_avatar: row.take(29)?,
        thumbnail: row.take(30)?,
        media_urls: parse_string_list(text, row.take(31)?)?,
    };
    let metadata_source = parse_source(text, row.text(14)?)?;
    Ok(StoredPaper {
        key: row.get(0)?,
        paper: Paper {
            id,
            metadata,
            metadata_source,
            community,
        },
        member_upvotes: count(row.get(19)?).unwrap_or(0),
        member_comments: count(row.get(32)?).unwrap_or(0),
        links: Links {
            github: row.take(23)?,
            project_page: row.take(24)?,
        },
    })
}

pub(crate) fn load_versions(db: &Db, key: i64, id: &str) -> Result<Vec<Version>, StoreError> {
    let rows = db.query(
        "SELECT number, created, size FROM versions WHERE paper_key = ?1 ORDER BY number",
        args![key],
    )?;
    let mut versions = Vec::with_capacity(rows.len());
    for row in rows {
        versions.push(Version {
            number: row.get(0)?,
            created: parse_timestamp(id, row.get(1)?)?,
            size: row.get(2)?,
        });
    }
    Ok(versions)
}

/// The versions of each of `keys`, ascending by number, a statement per few hundred
/// keys.
pub(crate) fn load_versions_of(
    db: &Db,
    keys: &[i64],
) -> Result<HashMap<i64, Vec<Version>>, StoreError> {
    let values: Vec<Value> = keys.iter().map(ToValue::to_value).collect();
    let mut versions: HashMap<i64, Vec<Version>> = HashMap::with_capacity(keys.len());
    crate::rows::select_in(
        db,
        "SELECT paper_key, number, created, size FROM versions WHERE paper_key",
        &[],
        &values,
        "ORDER BY paper_key, number",
        |row| {
            let key: i64 = row.get(0)?;
            let version = Version {
                number: row.get(1)?,
                created: parse_timestamp(&key.to_string(), row.get(2)?)?,
                size: row.get(3)?,
            };
            versions.entry(key).or_default().push(version);
            Ok(())
        },
    )?;
    Ok(versions)
}

pub(crate) fn find_by_id(db: &Db, id: &str) -> Result<Option<StoredPaper>, StoreError> {
    let row = db.query_opt(
        &format!("SELECT {PAPER_COLUMNS} FROM papers WHERE id = ?1"),
        args![id],
    )?;
    match row {
        Some(row) => {
            let mut stored = paper_from_row(row)?;
            stored.paper.metadata.versions = load_versions(db, stored.key, id)?;
            Ok(Some(stored))
        }
        None => Ok(None),
    }
}

impl Store {
    pub fn paper(&self, id: &ArxivId) -> Result<Option<StoredPaper>, StoreError> {
        find_by_id(&self.db, id.as_str())
    }

    /// The sources that have mentioned a paper, in their fixed order.
    pub fn sources_of(&self, key: i64) -> Result<Vec<Source>, StoreError> {
        let rows = self.db.query(
            "SELECT source FROM paper_sources WHERE paper_key = ?1",
            args![key],
        )?;
        let mut sources = Vec::with_capacity(rows.len());
        for row in rows {
            sources.push(parse_source(&key.to_string(), &row.get::<String>(0)?)?);
        }
        sources.sort();
        Ok(sources)
    }

    /// Calls `visit` for every paper in key order, without versions: what an index
    /// builder needs, streamed so memory stays flat however large the store is.
    pub fn for_each_paper(&self, mut visit: impl FnMut(StoredPaper)) -> Result<(), StoreError> {
        self.db.for_each(
            &format!("SELECT {PAPER_COLUMNS} FROM papers ORDER BY key"),
            &[],
            |row| {
                visit(paper_from_row(row)?);
                Ok(())
            },
        )
    }

    /// Calls `visit` for every paper in key order (without versions) with its vector
    /// for `model`, if it has one: what a new index is built from, in one streamed
    /// pass. `visit` may stop the scan early by answering `Break`.
    pub fn for_each_paper_with_embedding(
        &self,
        model: &str,
        mut visit: impl FnMut(StoredPaper, Option<Vec<f32>>) -> ControlFlow<()>,
    ) -> Result<(), StoreError> {
        let columns: Vec<String> = PAPER_COLUMNS
            .split(',')
            .map(|column| format!("p.{}", column.trim()))
            .collect();
        let vector_column = columns.len();
        self.db.for_each_until(
            &format!(
                "SELECT {}, e.vector FROM papers p LEFT JOIN embeddings e \
                 ON e.paper_key = p.key AND e.model = ?1 ORDER BY p.key",
                columns.join(", ")
            ),
            crate::db::args![model],
            |row| {
                let vector = match row.get::<Option<Vec<u8>>>(vector_column)? {
                    Some(bytes) => {
                        let mut vector = Vec::new();
                        crate::vectors::from_bytes(&bytes, &mut vector);
                        Some(vector)
                    }
                    None => None,
                };
                Ok(visit(paper_from_row(row)?, vector))
            },
        )
    }

    /// The highest change sequence number, for index watermarks.
    pub fn last_change(&self) -> Result<i64, StoreError> {
        self.db
            .query_one("SELECT COALESCE(MAX(seq), 0) FROM changes", &[])?
            .get(0)
    }

    /// Keys of papers changed after `seq`, each once, with the highest sequence seen.
    pub fn changed_since(&self, seq: i64) -> Result<(Vec<i64>, i64), StoreError> {
        let rows = self.db.query(
            "SELECT paper_key, MAX(seq) FROM changes WHERE seq > ?1 GROUP BY paper_key",
            args![seq],
        )?;
        let mut keys = Vec::with_capacity(rows.len());
        let mut last = seq;
        for row in rows {
            keys.push(row.get::<i64>(0)?);
            last = last.max(row.get::<i64>(1)?);
        }
        keys.sort_unstable();
        Ok((keys, last))
    }

    /// Papers by key (for search results and the index builders), in the order
    /// asked; a statement per few hundred keys.
    pub fn papers_by_keys(&self, keys: &[i64]) -> Result<Vec<StoredPaper>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let values: Vec<Value> = keys.iter().map(ToValue::to_value).collect();
        let mut found = HashMap::with_capacity(keys.len());
        crate::rows::select_in(
            &self.db,
            &format!("SELECT {PAPER_COLUMNS} FROM papers WHERE key"),
            &[],
            &values,
            "",
            |row| {
                let paper = paper_from_row(row)?;
                found.insert(paper.key, paper);
                Ok(())
            },
        )?;
        Ok(keys.iter().filter_map(|key| found.remove(key)).collect())
    }
}
