//! What the indexes are built from: one paper's searchable fields.

use chrono::NaiveDate;
use papers_core::{ArxivId, Category};

use crate::error::{IndexError, Result};

/// A paper as the indexes see it. `key` is the store's integer key, the same `i64`
/// from the store through the index to the surfaces, and the only join key between
/// the store, the lexical index and the dense index.
///
/// `id` is optional so that non-arXiv corpora (BEIR evaluation sets) can be
/// indexed through the same code path; they keep their own ids in a side map.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexDoc {
    pub key: i64,
    pub id: Option<ArxivId>,
    pub title: String,
    pub abstract_text: String,
    pub authors: Vec<String>,
    pub categories: Vec<Category>,
    pub published: Option<NaiveDate>,
}

impl IndexDoc {
    /// The text the dense side embeds for this paper: title and abstract, as the
    /// reference vectors and BEIR's own dense baselines do.
    pub fn embedding_text(&self) -> String {
        let mut text = String::with_capacity(self.title.len() + 1 + self.abstract_text.len());
        text.push_str(self.title.trim());
        text.push(' ');
        text.push_str(self.abstract_text.trim());
        text.trim().to_owned()
    }
}

/// A store key as the indexes hold it: tantivy's key field and usearch's keys are
/// `u64`. Store keys are positive (SQLite rowids, PostgreSQL identities), so the
/// conversion is exact; this and [`store_key`] are the only places it happens.
pub(crate) fn index_key(key: i64) -> Result<u64> {
    u64::try_from(key).map_err(|_| IndexError::Key(i128::from(key)))
}

/// The store key of an index key (see [`index_key`]).
pub(crate) fn store_key(key: u64) -> Result<i64> {
    i64::try_from(key).map_err(|_| IndexError::Key(i128::from(key)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_convert_exactly_and_refuse_what_the_store_cannot_hold() {
        for key in [0, 1, 76_803, i64::MAX] {
            assert_eq!(index_key(key).and_then(store_key).ok(), Some(key));
        }
        assert!(matches!(index_key(-1), Err(IndexError::Key(-1))));
        assert!(store_key(u64::MAX).is_err());
    }
}
