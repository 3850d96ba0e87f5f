//! What the indexes are built from: one paper's searchable fields.

use chrono::NaiveDate;
use papers_core::{ArxivId, Category};

/// A paper as the indexes see it. `key` is the store's integer key and the only
/// join key between the store, the lexical index and the dense index.
///
/// `id` is optional so that non-arXiv corpora (BEIR evaluation sets) can be
/// indexed through the same code path; they keep their own ids in a side map.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexDoc {
    pub key: u64,
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
