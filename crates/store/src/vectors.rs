//! Stored sentence embeddings: which papers still need one, and the vectors themselves.

use rusqlite::params;

use crate::{Store, StoreError};

/// The text a paper is embedded from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbeddingInput {
    pub key: i64,
    pub title: String,
    pub abstract_text: String,
}

impl Store {
    /// Up to `limit` papers without a vector for `model`, lowest keys first, so a
    /// restarted run continues where the last one stopped.
    pub fn papers_without_embedding(
        &self,
        model: &str,
        limit: usize,
    ) -> Result<Vec<EmbeddingInput>, StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT key, title, abstract FROM papers p WHERE NOT EXISTS \
             (SELECT 1 FROM embeddings e WHERE e.model = ?1 AND e.paper_key = p.key) ORDER BY key LIMIT ?2",
        )?;
        let rows = statement.query_map(params![model, limit as i64], |row| {
            Ok(EmbeddingInput {
                key: row.get(0)?,
                title: row.get(1)?,
                abstract_text: row.get(2)?,
            })
        })?;
        rows.collect::<Result<_, _>>().map_err(StoreError::from)
    }

    pub fn count_without_embedding(&self, model: &str) -> Result<u64, StoreError> {
        let count: i64 = self.conn.query_row(
            "SELECT COUNT(*) FROM papers p WHERE NOT EXISTS \
             (SELECT 1 FROM embeddings e WHERE e.model = ?1 AND e.paper_key = p.key)",
            params![model],
            |row| row.get(0),
        )?;
        Ok(count.max(0) as u64)
    }

    /// Stores vectors in one transaction, so a killed run loses at most one batch.
    pub fn put_embeddings(
        &mut self,
        model: &str,
        vectors: &[(i64, Vec<f32>)],
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT OR REPLACE INTO embeddings (model, paper_key, vector) VALUES (?1, ?2, ?3)",
            )?;
            for (key, vector) in vectors {
                insert.execute(params![model, key, to_bytes(vector)])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Every stored vector of `model` in key order, streamed.
    pub fn for_each_embedding(
        &self,
        model: &str,
        mut visit: impl FnMut(i64, &[f32]),
    ) -> Result<(), StoreError> {
        let mut statement = self.conn.prepare(
            "SELECT paper_key, vector FROM embeddings WHERE model = ?1 ORDER BY paper_key",
        )?;
        let mut rows = statement.query(params![model])?;
        let mut vector = Vec::new();
        while let Some(row) = rows.next()? {
            let key: i64 = row.get(0)?;
            let bytes = row.get_ref(1)?.as_blob()?;
            from_bytes(bytes, &mut vector);
            visit(key, &vector);
        }
        Ok(())
    }

    pub fn embedding(&self, model: &str, key: i64) -> Result<Option<Vec<f32>>, StoreError> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT vector FROM embeddings WHERE model = ?1 AND paper_key = ?2")?;
        let mut rows = statement.query(params![model, key])?;
        match rows.next()? {
            Some(row) => {
                let mut vector = Vec::new();
                from_bytes(row.get_ref(0)?.as_blob()?, &mut vector);
                Ok(Some(vector))
            }
            None => Ok(None),
        }
    }
}

fn to_bytes(vector: &[f32]) -> Vec<u8> {
    vector.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn from_bytes(bytes: &[u8], out: &mut Vec<f32>) {
    out.clear();
    out.extend(
        bytes
            .chunks_exact(4)
            .map(|chunk| f32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]])),
    );
}
