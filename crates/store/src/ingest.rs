//! Writing records: each batch is one transaction that lands whole or not at all.

use chrono::{DateTime, Utc};
use papers_core::{Paper, PaperRecord};

use crate::codec::{authors, categories, count_param, day, string_list, timestamp};
use crate::db::{Db, ToValue, Value, WriteOrder, args};
use crate::read::find_by_id;
use crate::{Store, StoreError};

/// What an upsert did to the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpsertOutcome {
    Inserted,
    Updated,
    Unchanged,
}

/// A write transaction over the store. Dropping it without [`IngestBatch::commit`]
/// rolls everything back, which is how a bad file leaves no trace.
pub struct IngestBatch<'a> {
    db: &'a Db,
    now: String,
    open: bool,
}

impl Store {
    /// Starts a write transaction. `now` stamps the change log and first-seen times.
    pub fn begin_ingest(&mut self, now: DateTime<Utc>) -> Result<IngestBatch<'_>, StoreError> {
        self.db.begin(WriteOrder::ChangeLog)?;
        Ok(IngestBatch {
            db: &self.db,
            now: timestamp(Some(now)).unwrap_or_default(),
            open: true,
        })
    }
}

impl IngestBatch<'_> {
    /// Merges one record into the store. Re-sending a record already merged writes
    /// nothing.
    pub fn upsert(&mut self, record: PaperRecord) -> Result<UpsertOutcome, StoreError> {
        let source = record.source;
        let (key, outcome) = match find_by_id(self.db, record.id.as_str())? {
            None => {
                let paper = Paper::from_record(record);
                (self.insert(&paper)?, UpsertOutcome::Inserted)
            }
            Some(mut stored) => {
                let text_before = (
                    stored.paper.metadata.title.clone(),
                    stored.paper.metadata.abstract_text.clone(),
                );
                if stored.paper.merge(record) {
                    let metadata = &stored.paper.metadata;
                    if (&metadata.title, &metadata.abstract_text)
                        != (&text_before.0, &text_before.1)
                    {
                        // The vectors embed the old text; drop them so `papers index` redoes them.
                        self.db.execute(
                            "DELETE FROM embeddings WHERE paper_key = ?1",
                            args![stored.key],
                        )?;
                    }
                    self.update(stored.key, &stored.paper)?;
                    (stored.key, UpsertOutcome::Updated)
                } else {
                    (stored.key, UpsertOutcome::Unchanged)
                }
            }
        };
        self.db.execute(
            "INSERT INTO paper_sources (paper_key, source, first_seen) VALUES (?1, ?2, ?3) \
             ON CONFLICT DO NOTHING",
            args![key, source.as_str(), self.now],
        )?;
        Ok(outcome)
    }

    /// The transaction's connection, for other store modules that write in it.
    pub(crate) fn db(&self) -> &Db {
        self.db
    }

    /// The batch's `now`, as stored.
    pub(crate) fn now(&self) -> &str {
        &self.now
    }

    pub fn commit(mut self) -> Result<(), StoreError> {
        self.open = false;
        self.db.commit()
    }

    fn insert(&mut self, paper: &Paper) -> Result<i64, StoreError> {
        let key: i64 = self
            .db
            .query_one(
                "INSERT INTO papers (id, title, abstract, authors, categories, primary_category, doi, \
                 journal_ref, comments, report_no, license, submitter, published, updated, latest_version, \
                 metadata_source, feed_day, submitted_by, organization, source_upvotes, num_comments, \
                 github_repo, project_page, github_url, project_url, ai_summary, ai_keywords, \
                 github_stars, organization_fullname, organization_avatar, thumbnail, media_urls) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, \
                 ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32) RETURNING key",
                &paper_params(paper),
            )?
            .get(0)?;
        self.write_children(key, paper)?;
        Ok(key)
    }

    fn update(&mut self, key: i64, paper: &Paper) -> Result<(), StoreError> {
        let mut values = paper_params(paper);
        values.push(Value::Int(key));
        self.db.execute(
                "UPDATE papers SET id = ?1, title = ?2, abstract = ?3, authors = ?4, categories = ?5, \
                 primary_category = ?6, doi = ?7, journal_ref = ?8, comments = ?9, report_no = ?10, \
                 license = ?11, submitter = ?12, published = ?13, updated = ?14, latest_version = ?15, \
                 metadata_source = ?16, feed_day = ?17, submitted_by = ?18, organization = ?19, \
                 source_upvotes = ?20, num_comments = ?21, github_repo = ?22, project_page = ?23, \
                 github_url = ?24, project_url = ?25, ai_summary = ?26, ai_keywords = ?27, \
                 github_stars = ?28, organization_fullname = ?29, organization_avatar = ?30, \
                 thumbnail = ?31, media_urls = ?32 WHERE key = ?33",
                &values,
            )?;
        self.db
            .execute("DELETE FROM versions WHERE paper_key = ?1", args![key])?;
        self.db.execute(
            "DELETE FROM paper_categories WHERE paper_key = ?1",
            args![key],
        )?;
        self.write_children(key, paper)
    }

    /// Versions, categories and the change-log entry: one statement each, whatever
    /// the counts, because on PostgreSQL every statement is a round trip.
    fn write_children(&mut self, key: i64, paper: &Paper) -> Result<(), StoreError> {
        let versions = &paper.metadata.versions;
        if !versions.is_empty() {
            let mut values = Vec::with_capacity(versions.len() * 4);
            for version in versions {
                values.extend([
                    key.to_value(),
                    version.number.to_value(),
                    timestamp(version.created).to_value(),
                    version.size.to_value(),
                ]);
            }
            self.db.execute(
                &multi_row_insert(
                    "versions (paper_key, number, created, size)",
                    4,
                    versions.len(),
                ),
                &values,
            )?;
        }
        let categories = &paper.metadata.categories;
        if !categories.is_empty() {
            let mut values = Vec::with_capacity(categories.len() * 3);
            for (position, category) in categories.iter().enumerate() {
                values.extend([
                    key.to_value(),
                    position.to_value(),
                    category.as_str().to_value(),
                ]);
            }
            self.db.execute(
                &multi_row_insert(
                    "paper_categories (paper_key, position, category)",
                    3,
                    categories.len(),
                ),
                &values,
            )?;
        }
        self.db.execute(
            "INSERT INTO changes (paper_key, at) VALUES (?1, ?2)",
            args![key, self.now],
        )?;
        Ok(())
    }
}

/// `INSERT INTO <target> VALUES (?, …), (?, …)` for `rows` rows of `width` values.
fn multi_row_insert(target: &str, width: usize, rows: usize) -> String {
    let row = format!("({})", vec!["?"; width].join(", "));
    format!("INSERT INTO {target} VALUES {}", vec![row; rows].join(", "))
}

impl Drop for IngestBatch<'_> {
    fn drop(&mut self) {
        if self.open {
            // Nothing to report to: the caller is already unwinding from an error or
            // chose not to commit.
            let _ = self.db.rollback();
        }
    }
}

/// The 25 column values shared by insert and update, in statement order.
fn paper_params(paper: &Paper) -> Vec<Value> {
    let metadata = &paper.metadata;
    let community = &paper.community;
    let links = paper.links();
    vec![
        paper.id.to_string().to_value(),
        metadata.title.to_value(),
        metadata.abstract_text.to_value(),
        authors(&metadata.authors).to_value(),
        categories(&metadata.categories).to_value(),
        metadata
            .primary_category()
            .map(|c| c.to_string())
            .to_value(),
        metadata.doi.to_value(),
        metadata.journal_ref.to_value(),
        metadata.comments.to_value(),
        metadata.report_no.to_value(),
        metadata.license.to_value(),
        metadata.submitter.to_value(),
        timestamp(metadata.published).to_value(),
        timestamp(metadata.updated).to_value(),
        metadata.latest_version().to_value(),
        paper.metadata_source.as_str().to_value(),
        day(community.feed_day).to_value(),
        community.submitted_by.to_value(),
        community.organization.to_value(),
        count_param(community.upvotes).to_value(),
        count_param(community.num_comments).to_value(),
        community.github_repo.to_value(),
        community.project_page.to_value(),
        links.github.to_value(),
        links.project_page.to_value(),
        community.ai_summary.to_value(),
        string_list(&community.ai_keywords).to_value(),
        count_param(community.github_stars).to_value(),
        community.organization_fullname.to_value(),
        community.organization_avatar.to_value(),
        community.thumbnail.to_value(),
        string_list(&community.media_urls).to_value(),
    ]
}
