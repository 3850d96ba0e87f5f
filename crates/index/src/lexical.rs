//! The lexical index: tantivy BM25 over the papers' text, with filters.
//!
//! Crash safety comes from tantivy: a commit is atomic and an interrupted one
//! rolls back to the previous commit. Each commit records in its payload the
//! store change-log position it covers (the watermark), so after a crash the
//! binary replays the store from [`LexicalIndex::watermark`]. There is one writer
//! per directory (tantivy takes a lock file); the reader reloads only when told,
//! so a search right after [`LexicalWriter::commit`] plus [`LexicalIndex::reload`]
//! sees the new documents.

mod build;
mod collect;
mod schema;

use std::path::Path;

use papers_core::ArxivId;
use papers_rank::fusion::Scored;
use serde::{Deserialize, Serialize};
use tantivy::collector::TopDocs;
use tantivy::collector::sort_key::SortByStaticFastValue;
use tantivy::directory::MmapDirectory;
use tantivy::query::{Bm25StatisticsProvider, Bm25Weight, BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::snippet::SnippetGenerator;
use tantivy::{
    DateTime, DocAddress, Index, IndexReader, IndexWriter, Order, ReloadPolicy, TantivyDocument,
    Term,
};

use build::Analyzers;
pub use build::FieldBoosts;
use schema::Fields;

use crate::IndexDoc;
use crate::doc::index_key;
use crate::error::{IndexError, Result};
use crate::query::{Filters, ParsedQuery};
use crate::snippet::{self, Snippet};

/// Writer heap: ample for batches of thousands of abstracts on one thread.
const WRITER_MEMORY: usize = 100_000_000;
/// A bulk writer's heap per indexing thread: a thread writes a segment each time its
/// heap fills, so a larger one means fewer, larger segments and less merging later,
/// at this much memory per core.
const BULK_MEMORY_PER_THREAD: usize = 192_000_000;
/// tantivy runs at most this many indexing threads usefully (and it is the memory
/// bound above times this).
const BULK_MAX_THREADS: usize = 8;

/// An open lexical index (reader side).
pub struct LexicalIndex {
    index: Index,
    reader: IndexReader,
    fields: Fields,
    boosts: FieldBoosts,
}

/// The only writer of a lexical index directory.
pub struct LexicalWriter {
    writer: IndexWriter,
    fields: Fields,
}

#[derive(Serialize, Deserialize)]
struct CommitPayload {
    watermark: u64,
}

/// A paper's stored fields and snippet, for listing a hit (what `papers search`
/// prints).
#[derive(Debug, Clone, PartialEq)]
pub struct Described {
    pub id: Option<ArxivId>,
    pub title: String,
    pub snippet: Snippet,
}

/// The first text value of `field` in a stored document, or empty.
fn text_of(document: &TantivyDocument, field: tantivy::schema::Field) -> String {
    document
        .get_first(field)
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_owned()
}

impl LexicalIndex {
    /// Opens the index in `dir`, creating it (and the directory) when absent.
    pub fn open(dir: &Path) -> Result<LexicalIndex> {
        std::fs::create_dir_all(dir).map_err(IndexError::io(dir))?;
        let directory = MmapDirectory::open(dir).map_err(|source| IndexError::OpenDirectory {
            path: dir.to_owned(),
            source,
        })?;
        let (schema, _) = schema::schema();
        let index = Index::open_or_create(directory, schema)?;
        Self::from_index(index)
    }

    /// An index in memory, for tests and evaluations.
    pub fn in_memory() -> Result<LexicalIndex> {
        Self::from_index(Index::create_in_ram(schema::schema().0))
    }

    fn from_index(index: Index) -> Result<LexicalIndex> {
        schema::register_tokenizers(&index);
        let fields = schema::fields_of(&index.schema())?;
        // Manual, never on commit: `Searcher::commit_lexical` commits while searches
        // go on, and they must not see the new documents before `Searcher::publish`
        // has added their vectors and filter sets and reloads.
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(LexicalIndex {
            index,
            reader,
            fields,
            boosts: FieldBoosts::default(),
        })
    }

    pub fn set_boosts(&mut self, boosts: FieldBoosts) {
        self.boosts = boosts;
    }

    /// Takes the directory's writer lock; fails if another writer holds it.
    pub fn writer(&self) -> Result<LexicalWriter> {
        Ok(LexicalWriter {
            writer: self.index.writer_with_num_threads(1, WRITER_MEMORY)?,
            fields: self.fields,
        })
    }

    /// A writer with one indexing thread per core, for loading many papers at once
    /// (see [`crate::BulkLoad`]). Takes the directory's writer lock like
    /// [`LexicalIndex::writer`].
    pub fn bulk_writer(&self) -> Result<LexicalWriter> {
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(BULK_MAX_THREADS);
        Ok(LexicalWriter {
            writer: self
                .index
                .writer_with_num_threads(threads, threads * BULK_MEMORY_PER_THREAD)?,
            fields: self.fields,
        })
    }

    /// Whether the last commit holds no documents.
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self
            .index
            .searchable_segment_metas()?
            .iter()
            .all(|segment| segment.num_docs() == 0))
    }

    /// A searcher over what the last reload made visible.
    pub(crate) fn tantivy_searcher(&self) -> tantivy::Searcher {
        self.reader.searcher()
    }

    /// Makes the last commit visible to searches.
    pub fn reload(&self) -> Result<()> {
        Ok(self.reader.reload()?)
    }

    /// The store change-log position that the last commit covers, if any commit
    /// recorded one.
    pub fn watermark(&self) -> Result<Option<u64>> {
        let metas = self.index.load_metas()?;
        Ok(metas
            .payload
            .and_then(|p| serde_json::from_str::<CommitPayload>(&p).ok())
            .map(|p| p.watermark))
    }

    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// BM25 top `limit` for the query's text, restricted by its filters, as a share
    /// of [`best_possible_score`]: raw BM25 grows with the number and rarity of the
    /// query's words, so only the share is comparable across queries, which the
    /// relevance cutoff needs. A query with filters but no text lists the matching
    /// papers, newest first (ties by key, so the order does not depend on how the
    /// documents fell into segments), at score 0.
    pub fn search(&self, query: &ParsedQuery, limit: usize) -> Result<Vec<Scored>> {
        let searcher = self.reader.searcher();
        let mut analyzers = self.analyzers()?;
        let text = build::text_query(query, &self.fields, &mut analyzers, self.boosts);
        let filter = build::filter_query(&query.filters, &self.fields, &mut analyzers);
        let limit = limit.max(1);
        let addresses: Vec<(f32, DocAddress)> = match (text, filter) {
            (None, None) => Vec::new(),
            (None, Some(filter)) => searcher
                .search(
                    &filter,
                    &TopDocs::with_limit(limit).order_by((
                        (
                            SortByStaticFastValue::<DateTime>::for_field("published"),
                            Order::Desc,
                        ),
                        (SortByStaticFastValue::<u64>::for_field("key"), Order::Asc),
                    )),
                )?
                .into_iter()
                .map(|(_, address)| (0.0, address))
                .collect(),
            (Some(text), filter) => {
                let best = best_possible_score(
                    &searcher,
                    &self.fields,
                    &build::scored_tokens(query, &mut analyzers),
                    self.boosts,
                );
                let tantivy_query: Box<dyn Query> = match filter {
                    None => text,
                    Some(filter) => Box::new(BooleanQuery::new(vec![
                        (Occur::Must, text),
                        (Occur::Must, filter),
                    ])),
                };
                let mut scored = searcher
                    .search(&tantivy_query, &TopDocs::with_limit(limit).order_by_score())?;
                for (score, _) in &mut scored {
                    *score /= best;
                }
                scored
            }
        };
        collect::keys_of(&searcher, addresses)
    }

    /// The keys of every paper the filters allow, or `None` when there are no
    /// filters (everything is allowed). The dense scan uses this as its predicate,
    /// so both sides share one definition of each filter.
    pub fn allowed_keys(&self, filters: &Filters) -> Result<Option<Vec<u64>>> {
        let mut analyzers = self.analyzers()?;
        let Some(filter) = build::filter_query(filters, &self.fields, &mut analyzers) else {
            return Ok(None);
        };
        let searcher = self.reader.searcher();
        Ok(Some(searcher.search(&filter, &collect::AllKeys)?))
    }

    /// The key of the paper with this arXiv id, if it is indexed and `filters` allow it.
    pub fn key_for_id(&self, id: &ArxivId, filters: &Filters) -> Result<Option<u64>> {
        let by_id: Box<dyn Query> = Box::new(TermQuery::new(
            Term::from_field_text(self.fields.id, id.as_str()),
            IndexRecordOption::Basic,
        ));
        let mut analyzers = self.analyzers()?;
        let query = match build::filter_query(filters, &self.fields, &mut analyzers) {
            None => by_id,
            Some(filter) => Box::new(BooleanQuery::new(vec![
                (Occur::Must, by_id),
                (Occur::Must, filter),
            ])),
        };
        let searcher = self.reader.searcher();
        let found = searcher.search(&query, &TopDocs::with_limit(1).order_by_score())?;
        let keys = collect::keys_of(&searcher, found)?;
        Ok(keys.first().map(|s| s.key))
    }

    /// The snippet of each paper's abstract with `query`'s words marked, in the order
    /// of `keys`; `None` for a key not in the index.
    pub fn snippets(&self, keys: &[u64], query: &ParsedQuery) -> Result<Vec<Option<Snippet>>> {
        self.read_documents(keys, query, |_, snippet| snippet)
    }

    /// Ids, titles and snippets (as [`LexicalIndex::snippets`]) of `keys`, in order;
    /// `None` for a key not in the index.
    pub fn describe(&self, keys: &[u64], query: &ParsedQuery) -> Result<Vec<Option<Described>>> {
        self.read_documents(keys, query, |document, snippet| {
            let text = |field| text_of(document, field);
            Described {
                id: ArxivId::parse(&text(self.fields.id)).ok(),
                title: text(self.fields.title),
                snippet,
            }
        })
    }

    /// Reads each key's stored document, makes the snippet of its abstract, and keeps
    /// what `read` takes of the two.
    fn read_documents<T>(
        &self,
        keys: &[u64],
        query: &ParsedQuery,
        mut read: impl FnMut(&TantivyDocument, Snippet) -> T,
    ) -> Result<Vec<Option<T>>> {
        let searcher = self.reader.searcher();
        let mut analyzers = self.analyzers()?;
        let text = build::text_query(query, &self.fields, &mut analyzers, FieldBoosts::SNIPPET);
        let generator = match &text {
            Some(text) => {
                let mut generator =
                    SnippetGenerator::create(&searcher, text.as_ref(), self.fields.abstract_text)?;
                generator.set_max_num_chars(snippet::MAX_CHARS);
                Some(generator)
            }
            None => None,
        };
        let mut read_all = Vec::with_capacity(keys.len());
        for &key in keys {
            let query = TermQuery::new(
                Term::from_field_u64(self.fields.key, key),
                IndexRecordOption::Basic,
            );
            let Some((_, address)) = searcher
                .search(&query, &TopDocs::with_limit(1).order_by_score())?
                .into_iter()
                .next()
            else {
                read_all.push(None);
                continue;
            };
            let document: TantivyDocument = searcher.doc(address)?;
            let abstract_text = text_of(&document, self.fields.abstract_text);
            let highlighted = generator.as_ref().map(|g| g.snippet(&abstract_text));
            let snippet = Snippet::new(&abstract_text, highlighted);
            read_all.push(Some(read(&document, snippet)));
        }
        Ok(read_all)
    }

    fn analyzers(&self) -> Result<Analyzers> {
        Ok(Analyzers {
            prose: self.index.tokenizer_for_field(self.fields.title)?,
            names: self.index.tokenizer_for_field(self.fields.authors)?,
            name_raw: self.index.tokenizer_for_field(self.fields.author_last)?,
        })
    }
}

/// The BM25 score of a paper that matched every one of `tokens` in every prose field
/// as strongly as BM25 allows (tantivy's own bound per term, `boost · idf · (k1 + 1)`,
/// from the same statistics its scorer uses). A word that no paper contains counts
/// with the idf of a word in one paper, so that a query of rare or made-up words
/// cannot be fully matched by a paper that shares one common word with it. Never
/// below `f32::MIN_POSITIVE`, so it can divide.
fn best_possible_score(
    searcher: &tantivy::Searcher,
    fields: &Fields,
    tokens: &[String],
    boosts: FieldBoosts,
) -> f32 {
    let total_docs = Bm25StatisticsProvider::total_num_docs(searcher).unwrap_or(0);
    let mut best = 0.0_f32;
    for (field, boost) in [
        (fields.title, boosts.title),
        (fields.abstract_text, boosts.abstract_text),
        (fields.body, boosts.body),
    ] {
        if boost <= 0.0 || total_docs == 0 {
            continue;
        }
        for token in tokens {
            let frequency = searcher
                .doc_freq(&Term::from_field_text(field, token))
                .unwrap_or(0)
                .clamp(1, total_docs);
            // The shortest field with the highest frequency: the term's weight,
            // whatever the average field length.
            let weight = Bm25Weight::for_one_term(frequency, total_docs, 1.0);
            best += boost * weight.score(0, u32::MAX);
        }
    }
    best.max(f32::MIN_POSITIVE)
}

impl LexicalWriter {
    /// Adds the paper or replaces the version indexed under its key. Takes effect
    /// at the next commit.
    pub fn upsert(&mut self, doc: &IndexDoc) -> Result<()> {
        let key = index_key(doc.key)?;
        self.delete(key);
        self.writer
            .add_document(schema::document(&self.fields, key, doc))?;
        Ok(())
    }

    /// Adds the paper without first deleting what its key held: for an index known
    /// not to have it (a bulk load into an empty index, keys ascending). Takes effect at
    /// the next commit.
    pub fn add(&mut self, doc: &IndexDoc) -> Result<()> {
        let key = index_key(doc.key)?;
        self.writer
            .add_document(schema::document(&self.fields, key, doc))?;
        Ok(())
    }

    pub fn delete(&mut self, key: u64) {
        self.writer
            .delete_term(Term::from_field_u64(self.fields.key, key));
    }

    /// Removes every document (for a full reindex, committed with the new ones so
    /// that readers never see an empty index).
    pub fn clear(&mut self) -> Result<()> {
        self.writer.delete_all_documents()?;
        Ok(())
    }

    /// Atomically publishes everything since the last commit, recording that the
    /// index now covers the store's change log up to `watermark`.
    pub fn commit(&mut self, watermark: u64) -> Result<()> {
        let payload = serde_json::to_string(&CommitPayload { watermark })
            .unwrap_or_else(|_| format!("{{\"watermark\":{watermark}}}"));
        let mut prepared = self.writer.prepare_commit()?;
        prepared.set_payload(&payload);
        prepared.commit()?;
        Ok(())
    }

    /// Drops uncommitted changes.
    pub fn rollback(&mut self) -> Result<()> {
        self.writer.rollback()?;
        Ok(())
    }

    /// Waits for background merges; call before exiting so that merged segments
    /// are not left half-written (they would only be garbage, not corruption).
    pub fn finish(self) -> Result<()> {
        self.writer.wait_merging_threads()?;
        Ok(())
    }
}
