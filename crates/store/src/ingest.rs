//! Writing records: each batch is one transaction that lands whole or not at all.
//!
//! Records are merged in bulk: [`IngestBatch::upsert_all`] reads every paper a chunk
//! of records names in one statement per few hundred ids, merges the records onto
//! them in memory in the order given (so a chunk that names a paper twice gives what
//! two upserts one after the other would), and writes the papers that changed with
//! multi-row statements (see `rows.rs`). A chunk of a thousand records costs a few
//! dozen statements instead of several thousand, which is what PostgreSQL needs: each
//! statement there is a round trip to the server.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use papers_core::{Paper, PaperRecord, Source};

use crate::codec::{
    authors, categories, count_param, day, parse_categories, parse_timestamp, string_list,
    timestamp,
};
use crate::db::{Db, ToValue, Value, WriteOrder};
use crate::read::{PAPER_COLUMNS, load_versions_of, paper_from_row};
use crate::rows;
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

/// One paper a chunk of records touches, as merged so far.
struct Merged {
    /// The store key, for a paper the store already had.
    key: Option<i64>,
    paper: Paper,
    /// Title and abstract as stored before this chunk: their vectors embed this text.
    stored_text: Option<(String, String)>,
    changed: bool,
}

impl IngestBatch<'_> {
    /// Merges one record into the store. Re-sending a record already merged writes
    /// nothing.
    pub fn upsert(&mut self, record: PaperRecord) -> Result<UpsertOutcome, StoreError> {
        let outcomes = self.upsert_all(vec![record])?;
        Ok(outcomes
            .first()
            .copied()
            .unwrap_or(UpsertOutcome::Unchanged))
    }

    /// Merges records into the store in order, as [`IngestBatch::upsert`] on each
    /// would, with a few statements for the whole slice: the outcome of each record,
    /// in order. Callers pass chunks of about a thousand records.
    pub fn upsert_all(
        &mut self,
        records: Vec<PaperRecord>,
    ) -> Result<Vec<UpsertOutcome>, StoreError> {
        let mut order: Vec<String> = Vec::new();
        let mut merged: HashMap<String, Merged> = HashMap::new();
        let mut stored = self.stored_papers(&records)?;
        let mut outcomes = Vec::with_capacity(records.len());
        let mut sources: Vec<(String, Source)> = Vec::with_capacity(records.len());
        for record in records {
            let id = record.id.as_str().to_owned();
            sources.push((id.clone(), record.source));
            let entry = match merged.get_mut(&id) {
                Some(entry) => entry,
                None => {
                    order.push(id.clone());
                    let Some(found) = stored.remove(&id) else {
                        let mut paper = Paper::from_record(record);
                        stored_form(&mut paper)?;
                        merged.insert(
                            id,
                            Merged {
                                key: None,
                                paper,
                                stored_text: None,
                                changed: true,
                            },
                        );
                        outcomes.push(UpsertOutcome::Inserted);
                        continue;
                    };
                    let metadata = &found.paper.metadata;
                    let stored_text = (metadata.title.clone(), metadata.abstract_text.clone());
                    merged.entry(id).or_insert(Merged {
                        key: Some(found.key),
                        paper: found.paper,
                        stored_text: Some(stored_text),
                        changed: false,
                    })
                }
            };
            if entry.paper.merge(record) {
                // The next record for this paper merges onto what the store would
                // give back, as it would after a separate upsert.
                stored_form(&mut entry.paper)?;
                entry.changed = true;
                outcomes.push(UpsertOutcome::Updated);
            } else {
                outcomes.push(UpsertOutcome::Unchanged);
            }
        }
        let written: Vec<Merged> = order
            .iter()
            .filter_map(|id| merged.remove(id))
            .filter(|entry| entry.changed)
            .collect();
        let mut keys = self.write_papers(&written)?;
        let new_keys: HashSet<i64> = written
            .iter()
            .filter(|entry| entry.key.is_none())
            .filter_map(|entry| keys.get(entry.paper.id.as_str()).copied())
            .collect();
        // Unchanged papers still record who mentioned them.
        keys.extend(stored_keys(&order, &merged));
        self.write_sources(&sources, &keys, &new_keys)?;
        Ok(outcomes)
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

    /// The stored papers (with versions) that `records` name, by id.
    fn stored_papers(
        &self,
        records: &[PaperRecord],
    ) -> Result<HashMap<String, crate::StoredPaper>, StoreError> {
        let mut ids: Vec<&str> = records.iter().map(|r| r.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        let values: Vec<Value> = ids.iter().map(ToValue::to_value).collect();
        let mut found = HashMap::new();
        rows::select_in(
            self.db,
            &format!("SELECT {PAPER_COLUMNS} FROM papers WHERE id"),
            &[],
            &values,
            "",
            |row| {
                let paper = paper_from_row(row)?;
                found.insert(paper.paper.id.as_str().to_owned(), paper);
                Ok(())
            },
        )?;
        let keys: Vec<i64> = found.values().map(|paper| paper.key).collect();
        let mut versions = load_versions_of(self.db, &keys)?;
        for paper in found.values_mut() {
            paper.paper.metadata.versions = versions.remove(&paper.key).unwrap_or_default();
        }
        Ok(found)
    }

    /// Writes the changed papers: new ones inserted (keys assigned in order), known
    /// ones replaced by key, then their versions, categories and change-log entries.
    /// Returns the key of every paper written, by id.
    fn write_papers(&mut self, written: &[Merged]) -> Result<HashMap<String, i64>, StoreError> {
        let mut keys = HashMap::with_capacity(written.len());
        let (known, new): (Vec<&Merged>, Vec<&Merged>) =
            written.iter().partition(|entry| entry.key.is_some());
        self.insert_new_papers(&new, &mut keys)?;
        let mut values = Vec::with_capacity(known.len() * (PARAMS + 1));
        let mut replaced = Vec::with_capacity(known.len());
        let mut new_text = Vec::new();
        for entry in &known {
            let key = entry.key.unwrap_or_default();
            keys.insert(entry.paper.id.as_str().to_owned(), key);
            values.push(Value::Int(key));
            values.extend(paper_params(&entry.paper));
            replaced.push(Value::Int(key));
            let metadata = &entry.paper.metadata;
            if entry.stored_text.as_ref()
                != Some(&(metadata.title.clone(), metadata.abstract_text.clone()))
            {
                new_text.push(Value::Int(key));
            }
        }
        // Every row names a key the table has, so each insert becomes the update:
        // one statement per few hundred papers instead of an UPDATE each. (The key is
        // given, so PostgreSQL draws no identity value for it.)
        rows::insert(
            self.db,
            &format!("papers (key, {WRITTEN_COLUMNS})"),
            PARAMS + 1,
            &values,
            &format!("ON CONFLICT (key) DO UPDATE SET {}", update_assignments()),
        )?;
        // The vectors embed the old text; dropped, so `papers index` redoes them.
        rows::delete_in(self.db, "embeddings", "paper_key", &new_text)?;
        rows::delete_in(self.db, "versions", "paper_key", &replaced)?;
        rows::delete_in(self.db, "paper_categories", "paper_key", &replaced)?;
        self.write_children(written, &keys)?;
        Ok(keys)
    }

    /// Inserts papers the store does not have yet and records the key each gets.
    fn insert_new_papers(
        &self,
        new: &[&Merged],
        keys: &mut HashMap<String, i64>,
    ) -> Result<(), StoreError> {
        if new.is_empty() {
            return Ok(());
        }
        if !self.db.is_postgres() {
            let values: Vec<Value> = new
                .iter()
                .flat_map(|entry| paper_params(&entry.paper))
                .collect();
            return rows::insert_returning(
                self.db,
                &format!("papers ({WRITTEN_COLUMNS})"),
                PARAMS,
                &values,
                "RETURNING key, id",
                |row| {
                    keys.insert(row.get::<String>(1)?, row.get::<i64>(0)?);
                    Ok(())
                },
            );
        }
        // PostgreSQL: the keys are drawn from the identity first (in order, as the
        // INSERT would have), so the rows can go in one COPY, which returns nothing.
        let mut drawn: Vec<i64> = Vec::with_capacity(new.len());
        self.db.for_each(
            "SELECT nextval(pg_get_serial_sequence('papers', 'key')) \
             FROM generate_series(1, CAST(? AS BIGINT))",
            &[Value::Int(new.len() as i64)],
            |row| {
                drawn.push(row.get::<i64>(0)?);
                Ok(())
            },
        )?;
        drawn.sort_unstable();
        let mut values = Vec::with_capacity(new.len() * (PARAMS + 1));
        for (entry, key) in new.iter().zip(drawn) {
            keys.insert(entry.paper.id.as_str().to_owned(), key);
            values.push(Value::Int(key));
            values.extend(paper_params(&entry.paper));
        }
        rows::append(
            self.db,
            "papers",
            &format!("key, {WRITTEN_COLUMNS}"),
            PARAMS + 1,
            &values,
        )
    }

    /// Versions, categories and the change-log entry of every written paper.
    fn write_children(
        &mut self,
        written: &[Merged],
        keys: &HashMap<String, i64>,
    ) -> Result<(), StoreError> {
        let (mut versions, mut categories, mut changes) = (Vec::new(), Vec::new(), Vec::new());
        for entry in written {
            let Some(&key) = keys.get(entry.paper.id.as_str()) else {
                return Err(StoreError::NoRow {
                    sql: format!("INSERT INTO papers … RETURNING key ({})", entry.paper.id),
                });
            };
            let metadata = &entry.paper.metadata;
            for version in &metadata.versions {
                versions.extend([
                    key.to_value(),
                    version.number.to_value(),
                    timestamp(version.created).to_value(),
                    version.size.to_value(),
                ]);
            }
            for (position, category) in metadata.categories.iter().enumerate() {
                categories.extend([
                    key.to_value(),
                    position.to_value(),
                    category.as_str().to_value(),
                ]);
            }
            changes.extend([key.to_value(), self.now.to_value()]);
        }
        // The old versions and categories of replaced papers were deleted above, so
        // these rows are all new.
        rows::append(
            self.db,
            "versions",
            "paper_key, number, created, size",
            4,
            &versions,
        )?;
        rows::append(
            self.db,
            "paper_categories",
            "paper_key, position, category",
            3,
            &categories,
        )?;
        rows::append(self.db, "changes", "paper_key, at", 2, &changes)
    }

    /// Who mentioned each paper: one row per paper and source, kept from the first
    /// time. Papers inserted by this chunk (`new_keys`) have no row yet, so theirs are
    /// appended; the others' may exist and are kept.
    fn write_sources(
        &mut self,
        sources: &[(String, Source)],
        keys: &HashMap<String, i64>,
        new_keys: &HashSet<i64>,
    ) -> Result<(), StoreError> {
        let mut pairs: Vec<(i64, Source)> = sources
            .iter()
            .filter_map(|(id, source)| Some((*keys.get(id)?, *source)))
            .collect();
        pairs.sort_unstable();
        pairs.dedup();
        let (new, known): (Vec<_>, Vec<_>) =
            pairs.iter().partition(|(key, _)| new_keys.contains(key));
        let values = |pairs: Vec<&(i64, Source)>| -> Vec<Value> {
            pairs
                .iter()
                .flat_map(|(key, source)| {
                    [
                        key.to_value(),
                        source.as_str().to_value(),
                        self.now.to_value(),
                    ]
                })
                .collect()
        };
        rows::append(
            self.db,
            "paper_sources",
            "paper_key, source, first_seen",
            3,
            &values(new),
        )?;
        rows::insert(
            self.db,
            "paper_sources (paper_key, source, first_seen)",
            3,
            &values(known),
            "ON CONFLICT DO NOTHING",
        )
    }
}

/// The keys of the papers a chunk named but left unchanged, by id.
fn stored_keys<'a>(
    order: &'a [String],
    unchanged: &'a HashMap<String, Merged>,
) -> impl Iterator<Item = (String, i64)> + 'a {
    order.iter().filter_map(|id| {
        let entry = unchanged.get(id)?;
        Some((id.clone(), entry.key?))
    })
}

/// A paper as the store gives it back: timestamps to the second, categories through
/// their column. Merging onto this form is merging onto what a separate upsert would
/// have read.
fn stored_form(paper: &mut Paper) -> Result<(), StoreError> {
    let id = paper.id.as_str().to_owned();
    let metadata = &mut paper.metadata;
    let round = |time| parse_timestamp(&id, timestamp(time));
    metadata.published = round(metadata.published)?;
    metadata.updated = round(metadata.updated)?;
    for version in &mut metadata.versions {
        version.created = round(version.created)?;
    }
    metadata.categories = parse_categories(&id, &categories(&metadata.categories))?;
    Ok(())
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

/// The columns an ingest writes, in [`paper_params`] order (everything but the key and
/// the votes members cast here).
const WRITTEN_COLUMNS: &str = "id, title, abstract, authors, categories, primary_category, doi, \
     journal_ref, comments, report_no, license, submitter, published, updated, latest_version, \
     metadata_source, feed_day, submitted_by, organization, source_upvotes, num_comments, \
     github_repo, project_page, github_url, project_url, ai_summary, ai_keywords, github_stars, \
     organization_fullname, organization_avatar, thumbnail, media_urls";
/// How many they are.
const PARAMS: usize = 32;

/// `column = excluded.column` for each of [`WRITTEN_COLUMNS`].
fn update_assignments() -> String {
    WRITTEN_COLUMNS
        .split(',')
        .map(|column| {
            let column = column.trim();
            format!("{column} = excluded.{column}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The 32 values of [`WRITTEN_COLUMNS`] for one paper.
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
