//! Stored sentence embeddings: which papers still need one, and the vectors themselves.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use crate::db::{ToValue, Value, WriteOrder, args};
use crate::{Store, StoreError};

/// The text a paper is embedded from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbeddingInput {
    pub key: i64,
    pub title: String,
    pub abstract_text: String,
}

/// Keys checked per statement by [`Store::papers_without_embedding_among`]: a batch
/// to embed is found in the first chunk or two, without reading every key's row.
const CHECK_CHUNK: usize = 512;

fn embedding_input(row: &crate::db::Row) -> Result<EmbeddingInput, StoreError> {
    Ok(EmbeddingInput {
        key: row.get(0)?,
        title: row.get(1)?,
        abstract_text: row.get(2)?,
    })
}

impl Store {
    /// Up to `limit` papers without a vector for `model` whose keys come after
    /// `after`, lowest keys first: a pass over the store goes on from the last key
    /// of its previous batch instead of reading past every paper embedded so far
    /// each time.
    pub fn papers_without_embedding(
        &self,
        model: &str,
        after: i64,
        limit: usize,
    ) -> Result<Vec<EmbeddingInput>, StoreError> {
        self.db
            .query(
                "SELECT key, title, abstract FROM papers p WHERE p.key > ?3 AND NOT EXISTS \
                 (SELECT 1 FROM embeddings e WHERE e.model = ?1 AND e.paper_key = p.key) \
                 ORDER BY key LIMIT ?2",
                args![model, limit, after],
            )?
            .into_iter()
            .map(|row| embedding_input(&row))
            .collect()
    }

    /// Up to `limit` of the papers `keys` (ascending) that have no vector for `model`,
    /// lowest keys first: what a serving node checks after the change log names a
    /// few papers, instead of a pass over the whole store.
    pub fn papers_without_embedding_among(
        &self,
        model: &str,
        keys: &[i64],
        limit: usize,
    ) -> Result<Vec<EmbeddingInput>, StoreError> {
        let mut found = Vec::new();
        for chunk in keys.chunks(CHECK_CHUNK) {
            let values: Vec<Value> = chunk.iter().map(ToValue::to_value).collect();
            crate::rows::select_in(
                &self.db,
                "SELECT key, title, abstract FROM papers p WHERE NOT EXISTS \
                 (SELECT 1 FROM embeddings e WHERE e.model = ? AND e.paper_key = p.key) \
                 AND p.key",
                &[model.to_value()],
                &values,
                "",
                |row| {
                    found.push(embedding_input(&row)?);
                    Ok(())
                },
            )?;
            if found.len() >= limit {
                break;
            }
        }
        found.sort_unstable_by_key(|input| input.key);
        found.truncate(limit);
        Ok(found)
    }

    pub fn count_without_embedding(&self, model: &str) -> Result<u64, StoreError> {
        let count: i64 = self
            .db
            .query_one(
                "SELECT COUNT(*) FROM papers p WHERE NOT EXISTS \
                 (SELECT 1 FROM embeddings e WHERE e.model = ?1 AND e.paper_key = p.key)",
                args![model],
            )?
            .get(0)?;
        Ok(count.max(0) as u64)
    }

    /// How many papers have a vector of `model` (the topic map rebuilds as this grows).
    pub fn count_embeddings(&self, model: &str) -> Result<u64, StoreError> {
        let count: i64 = self
            .db
            .query_one(
                "SELECT COUNT(*) FROM embeddings WHERE model = ?1",
                args![model],
            )?
            .get(0)?;
        Ok(count.max(0) as u64)
    }

    /// Stores vectors in one transaction, so a killed run loses at most one batch. Each
    /// paper also gets a change-log entry stamped `now`: other nodes learn of the
    /// vector that way and load it into their dense indexes.
    pub fn put_embeddings(
        &mut self,
        model: &str,
        vectors: &[(i64, Vec<f32>)],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let now = crate::codec::timestamp(Some(now)).unwrap_or_default();
        self.db.transaction(WriteOrder::ChangeLog, |db| {
            for (key, vector) in vectors {
                db.execute(
                    "INSERT INTO changes (paper_key, at) VALUES (?1, ?2)",
                    args![key, now],
                )?;
                db.execute(
                    "INSERT INTO embeddings (model, paper_key, vector) VALUES (?1, ?2, ?3) \
                     ON CONFLICT (model, paper_key) DO UPDATE SET vector = excluded.vector",
                    args![model, key, to_bytes(vector)],
                )?;
            }
            Ok(())
        })
    }

    /// Every stored vector of `model` in key order, streamed.
    pub fn for_each_embedding(
        &self,
        model: &str,
        mut visit: impl FnMut(i64, &[f32]),
    ) -> Result<(), StoreError> {
        let mut vector = Vec::new();
        self.db.for_each(
            "SELECT paper_key, vector FROM embeddings WHERE model = ?1 ORDER BY paper_key",
            args![model],
            |row| {
                from_bytes(row.blob(1)?, &mut vector);
                visit(row.get(0)?, &vector);
                Ok(())
            },
        )
    }

    /// The vectors of `model` that `keys` have, by key; a statement per few hundred
    /// keys.
    pub fn embeddings_of(
        &self,
        model: &str,
        keys: &[i64],
    ) -> Result<HashMap<i64, Vec<f32>>, StoreError> {
        let values: Vec<Value> = keys.iter().map(ToValue::to_value).collect();
        let mut found = HashMap::with_capacity(keys.len());
        crate::rows::select_in(
            &self.db,
            "SELECT paper_key, vector FROM embeddings WHERE model = ? AND paper_key",
            &[model.to_value()],
            &values,
            "",
            |row| {
                let mut vector = Vec::new();
                from_bytes(row.blob(1)?, &mut vector);
                found.insert(row.get(0)?, vector);
                Ok(())
            },
        )?;
        Ok(found)
    }

    /// The For you classifiers' "not this": `count` papers with a vector of `model`,
    /// none of them in `except`, evenly spaced over the keys
    /// ([`papers_rank::recommend::for_you::background_sample`]), with their vectors,
    /// in key order. Lists every key of the model: callers on a request path cache it.
    pub fn background_vectors(
        &self,
        model: &str,
        except: &HashSet<i64>,
        count: usize,
    ) -> Result<Vec<(i64, Vec<f32>)>, StoreError> {
        let mut keys = self.embedding_keys(model)?;
        keys.retain(|key| !except.contains(key));
        let sample = papers_rank::recommend::for_you::background_sample(&keys, count);
        let mut vectors = self.embeddings_of(model, &sample)?;
        Ok(sample
            .into_iter()
            .filter_map(|key| Some((key, vectors.remove(&key)?)))
            .collect())
    }

    pub fn embedding(&self, model: &str, key: i64) -> Result<Option<Vec<f32>>, StoreError> {
        let row = self.db.query_opt(
            "SELECT vector FROM embeddings WHERE model = ?1 AND paper_key = ?2",
            args![model, key],
        )?;
        match row {
            Some(row) => {
                let mut vector = Vec::new();
                from_bytes(row.blob(0)?, &mut vector);
                Ok(Some(vector))
            }
            None => Ok(None),
        }
    }
}

fn to_bytes(vector: &[f32]) -> Vec<u8> {
    vector.iter().flat_map(|x| x.to_le_bytes()).collect()
}

pub(crate) fn from_bytes(bytes: &[u8], out: &mut Vec<f32>) {
    out.clear();
    out.extend(
        bytes
            .chunks_exact(4)
            .map(|chunk| f32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]])),
    );
}
