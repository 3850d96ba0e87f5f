//! Writing records: each batch is one transaction that lands whole or not at all.

use chrono::{DateTime, Utc};
use papers_core::{Paper, PaperRecord};
use rusqlite::{Transaction, params};

use crate::codec::{authors, categories, count_param, day, timestamp};
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
    tx: Transaction<'a>,
    now: String,
}

impl Store {
    /// Starts a write transaction. `now` stamps the change log and first-seen times.
    pub fn begin_ingest(&mut self, now: DateTime<Utc>) -> Result<IngestBatch<'_>, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        Ok(IngestBatch {
            tx,
            now: timestamp(Some(now)).unwrap_or_default(),
        })
    }
}

impl IngestBatch<'_> {
    /// Merges one record into the store. Re-sending a record already merged writes
    /// nothing.
    pub fn upsert(&mut self, record: PaperRecord) -> Result<UpsertOutcome, StoreError> {
        let source = record.source;
        let (key, outcome) = match find_by_id(&self.tx, record.id.as_str())? {
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
                        self.tx
                            .prepare_cached("DELETE FROM embeddings WHERE paper_key = ?1")?
                            .execute(params![stored.key])?;
                    }
                    self.update(stored.key, &stored.paper)?;
                    (stored.key, UpsertOutcome::Updated)
                } else {
                    (stored.key, UpsertOutcome::Unchanged)
                }
            }
        };
        self.tx
            .prepare_cached("INSERT OR IGNORE INTO paper_sources (paper_key, source, first_seen) VALUES (?1, ?2, ?3)")?
            .execute(params![key, source.as_str(), self.now])?;
        Ok(outcome)
    }

    pub fn commit(self) -> Result<(), StoreError> {
        self.tx.commit().map_err(StoreError::from)
    }

    fn insert(&mut self, paper: &Paper) -> Result<i64, StoreError> {
        self.tx
            .prepare_cached(
                "INSERT INTO papers (id, title, abstract, authors, categories, primary_category, doi, \
                 journal_ref, comments, report_no, license, submitter, published, updated, latest_version, \
                 metadata_source, feed_day, submitted_by, organization, source_upvotes, num_comments, \
                 github_repo, project_page, github_url, project_url) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, \
                 ?19, ?20, ?21, ?22, ?23, ?24, ?25)",
            )?
            .execute(rusqlite::params_from_iter(paper_params(paper).iter()))?;
        let key = self.tx.last_insert_rowid();
        self.write_children(key, paper)?;
        Ok(key)
    }

    fn update(&mut self, key: i64, paper: &Paper) -> Result<(), StoreError> {
        let mut values = paper_params(paper);
        values.push(Box::new(key));
        self.tx
            .prepare_cached(
                "UPDATE papers SET id = ?1, title = ?2, abstract = ?3, authors = ?4, categories = ?5, \
                 primary_category = ?6, doi = ?7, journal_ref = ?8, comments = ?9, report_no = ?10, \
                 license = ?11, submitter = ?12, published = ?13, updated = ?14, latest_version = ?15, \
                 metadata_source = ?16, feed_day = ?17, submitted_by = ?18, organization = ?19, \
                 source_upvotes = ?20, num_comments = ?21, github_repo = ?22, project_page = ?23, \
                 github_url = ?24, project_url = ?25 WHERE key = ?26",
            )?
            .execute(rusqlite::params_from_iter(values.iter()))?;
        self.tx
            .prepare_cached("DELETE FROM versions WHERE paper_key = ?1")?
            .execute(params![key])?;
        self.tx
            .prepare_cached("DELETE FROM paper_categories WHERE paper_key = ?1")?
            .execute(params![key])?;
        self.write_children(key, paper)
    }

    fn write_children(&mut self, key: i64, paper: &Paper) -> Result<(), StoreError> {
        let mut version_insert = self.tx.prepare_cached(
            "INSERT INTO versions (paper_key, number, created, size) VALUES (?1, ?2, ?3, ?4)",
        )?;
        for version in &paper.metadata.versions {
            version_insert.execute(params![
                key,
                version.number,
                timestamp(version.created),
                version.size
            ])?;
        }
        let mut category_insert = self.tx.prepare_cached(
            "INSERT INTO paper_categories (paper_key, position, category) VALUES (?1, ?2, ?3)",
        )?;
        for (position, category) in paper.metadata.categories.iter().enumerate() {
            category_insert.execute(params![key, position as i64, category.as_str()])?;
        }
        self.tx
            .prepare_cached("INSERT INTO changes (paper_key, at) VALUES (?1, ?2)")?
            .execute(params![key, self.now])?;
        Ok(())
    }
}

type Param = Box<dyn rusqlite::ToSql>;

/// The 25 column values shared by insert and update, in statement order.
fn paper_params(paper: &Paper) -> Vec<Param> {
    let metadata = &paper.metadata;
    let community = &paper.community;
    let links = paper.links();
    vec![
        Box::new(paper.id.to_string()),
        Box::new(metadata.title.clone()),
        Box::new(metadata.abstract_text.clone()),
        Box::new(authors(&metadata.authors)),
        Box::new(categories(&metadata.categories)),
        Box::new(metadata.primary_category().map(|c| c.to_string())),
        Box::new(metadata.doi.clone()),
        Box::new(metadata.journal_ref.clone()),
        Box::new(metadata.comments.clone()),
        Box::new(metadata.report_no.clone()),
        Box::new(metadata.license.clone()),
        Box::new(metadata.submitter.clone()),
        Box::new(timestamp(metadata.published)),
        Box::new(timestamp(metadata.updated)),
        Box::new(metadata.latest_version()),
        Box::new(paper.metadata_source.as_str()),
        Box::new(day(community.feed_day)),
        Box::new(community.submitted_by.clone()),
        Box::new(community.organization.clone()),
        Box::new(count_param(community.upvotes)),
        Box::new(count_param(community.num_comments)),
        Box::new(community.github_repo.clone()),
        Box::new(community.project_page.clone()),
        Box::new(links.github),
        Box::new(links.project_page),
    ]
}
