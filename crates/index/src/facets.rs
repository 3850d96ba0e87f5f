//! The papers each date and category filter allows, kept in memory beside the
//! indexes, so that a filtered dense search or similar-papers list combines bitsets
//! instead of running a lexical query to list the allowed keys (and sorting them)
//! on every request.
//!
//! Each paper's published day sits in an array indexed by key, and each category
//! term (a category and, as the lexical index files it, its archive) has a bitset
//! over keys. [`Facets::allowed`] answers the filters the query language and the
//! site's category box set (`cat:`, `within`, `after:`, `before:`) with exactly the
//! lexical filter's meaning (see `lexical::build::filter_query`); `author:` needs
//! the name analyzers, so a filter naming an author goes to the lexical index.
//!
//! The sets change with the lexical index: [`crate::Searcher::apply`] and bulk
//! loads update them, and opening an index reads them from its fast fields. Store
//! keys are dense (rowids and identities), so arrays indexed by key stay close to
//! the paper count; a key far beyond it (more than [`SPARSE_FACTOR`] times the
//! papers held, past [`MIN_SPAN`]) turns the sets off and every filter runs as a
//! query again, rather than allocate for the gap.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};

use crate::IndexDoc;
use crate::query::Filters;

/// Keys below this are always held in the arrays (a few MB at most).
const MIN_SPAN: u64 = 1 << 20;
/// Beyond [`MIN_SPAN`], keys may reach this multiple of the papers held.
const SPARSE_FACTOR: u64 = 8;
/// The published day of a key with no day, or no paper.
const NO_DAY: i32 = i32::MIN;

/// A set of keys as a bitset over the key range.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct KeyBits {
    words: Vec<u64>,
}

impl KeyBits {
    fn insert(&mut self, key: u64) {
        let word = (key / 64) as usize;
        if self.words.len() <= word {
            self.words.resize(word + 1, 0);
        }
        self.words[word] |= 1 << (key % 64);
    }

    fn remove(&mut self, key: u64) {
        if let Some(word) = self.words.get_mut((key / 64) as usize) {
            *word &= !(1 << (key % 64));
        }
    }

    fn union_with(&mut self, other: &KeyBits) {
        if self.words.len() < other.words.len() {
            self.words.resize(other.words.len(), 0);
        }
        for (word, other) in self.words.iter_mut().zip(&other.words) {
            *word |= other;
        }
    }

    fn intersect_with(&mut self, other: &KeyBits) {
        self.words.truncate(other.words.len());
        for (word, other) in self.words.iter_mut().zip(&other.words) {
            *word &= other;
        }
    }

    /// The keys, ascending.
    pub(crate) fn keys(&self) -> Vec<u64> {
        let count = self.words.iter().map(|w| w.count_ones() as usize).sum();
        let mut keys = Vec::with_capacity(count);
        for (i, &word) in self.words.iter().enumerate() {
            let mut word = word;
            while word != 0 {
                keys.push(i as u64 * 64 + u64::from(word.trailing_zeros()));
                word &= word - 1;
            }
        }
        keys
    }

    /// The words, bit `key % 64` of word `key / 64` set for each key.
    pub(crate) fn into_words(self) -> Vec<u64> {
        self.words
    }
}

/// A day as the number the arrays hold: days since 0001-01-01, ordered as dates.
fn day_number(day: NaiveDate) -> i32 {
    day.num_days_from_ce()
}

/// What a filter allows, in the terms of [`Facets::allowed`].
#[derive(Debug, PartialEq)]
pub(crate) enum Allowed {
    /// No filter: every paper.
    All,
    /// These keys.
    Keys(KeyBits),
    /// The sets cannot answer (an author filter, or sets turned off): ask the
    /// lexical index.
    Query,
}

#[derive(Debug, Default)]
pub(crate) struct Facets {
    /// Each key's published day ([`NO_DAY`] for none), indexed by key; also which
    /// keys are held, in `held`.
    days: Vec<i32>,
    held: KeyBits,
    count: u64,
    /// Category term (category or archive) → the keys filed under it.
    categories: HashMap<String, KeyBits>,
    /// Off after a key too far past the others (see the module documentation).
    off: bool,
}

impl Facets {
    /// Files `doc` under its key, replacing what the key held.
    pub(crate) fn upsert(&mut self, key: u64, doc: &IndexDoc) {
        let mut terms: Vec<&str> = Vec::with_capacity(doc.categories.len() * 2);
        for category in &doc.categories {
            terms.push(category.as_str());
            terms.push(category.archive());
        }
        self.insert(key, doc.published.map(day_number), &terms);
    }

    /// Files `key` with its day number and category terms (as the lexical index
    /// holds them), replacing what the key held.
    fn insert(&mut self, key: u64, day: Option<i32>, terms: &[&str]) {
        self.remove(key);
        if self.off {
            return;
        }
        let span = MIN_SPAN.max(SPARSE_FACTOR.saturating_mul(self.count + 1));
        if key >= span {
            tracing::warn!(
                key,
                papers = self.count,
                "index keys too sparse for filter sets; filters run as queries"
            );
            *self = Facets {
                off: true,
                ..Facets::default()
            };
            return;
        }
        let at = key as usize;
        if self.days.len() <= at {
            self.days.resize(at + 1, NO_DAY);
        }
        self.days[at] = day.unwrap_or(NO_DAY);
        self.held.insert(key);
        self.count += 1;
        for term in terms {
            match self.categories.get_mut(*term) {
                Some(keys) => keys.insert(key),
                None => {
                    let mut keys = KeyBits::default();
                    keys.insert(key);
                    self.categories.insert((*term).to_owned(), keys);
                }
            }
        }
    }

    /// Forgets `key`.
    pub(crate) fn remove(&mut self, key: u64) {
        let at = key as usize;
        if at >= self.days.len()
            || self
                .held
                .words
                .get(at / 64)
                .is_none_or(|w| w & (1 << (key % 64)) == 0)
        {
            return;
        }
        self.days[at] = NO_DAY;
        self.held.remove(key);
        self.count -= 1;
        // A paper has a few terms of a few hundred; clearing its bit in each is
        // cheaper than keeping every paper's list of terms.
        for keys in self.categories.values_mut() {
            keys.remove(key);
        }
    }

    /// The papers `filters` allow.
    pub(crate) fn allowed(&self, filters: &Filters) -> Allowed {
        if filters.is_empty() {
            return Allowed::All;
        }
        if self.off || !filters.authors.is_empty() {
            return Allowed::Query;
        }
        let term = |name: &str| self.categories.get(name).cloned().unwrap_or_default();
        let mut allowed: Option<KeyBits> = None;
        if !filters.categories.is_empty() {
            let mut any = KeyBits::default();
            for category in &filters.categories {
                if let Some(keys) = self.categories.get(category.as_str()) {
                    any.union_with(keys);
                }
            }
            allowed = Some(any);
        }
        if let Some(category) = &filters.within {
            allowed = Some(match allowed {
                Some(mut keys) => {
                    keys.intersect_with(&term(category.as_str()));
                    keys
                }
                None => term(category.as_str()),
            });
        }
        if filters.after.is_some() || filters.before.is_some() {
            let from = filters.after.map_or(i32::MIN + 1, day_number);
            let until = filters.before.map_or(i32::MAX, day_number);
            let in_range = |day: i32| day != NO_DAY && day >= from && day < until;
            allowed = Some(match allowed {
                Some(mut keys) => {
                    for (i, word) in keys.words.iter_mut().enumerate() {
                        let mut bits = *word;
                        while bits != 0 {
                            let bit = bits.trailing_zeros() as usize;
                            let day = self.days.get(i * 64 + bit).copied().unwrap_or(NO_DAY);
                            if !in_range(day) {
                                *word &= !(1 << bit);
                            }
                            bits &= bits - 1;
                        }
                    }
                    keys
                }
                None => {
                    let words = self
                        .days
                        .chunks(64)
                        .map(|days| {
                            days.iter().enumerate().fold(0u64, |word, (bit, &day)| {
                                word | (u64::from(in_range(day)) << bit)
                            })
                        })
                        .collect();
                    KeyBits { words }
                }
            });
        }
        allowed.map_or(Allowed::All, Allowed::Keys)
    }

    /// The sets of every live document in the lexical index `searcher` reads.
    pub(crate) fn read(searcher: &tantivy::Searcher) -> crate::Result<Facets> {
        let mut facets = Facets::default();
        let mut name = String::new();
        for segment in searcher.segment_readers() {
            let fast = segment.fast_fields();
            let keys = fast.u64("key")?;
            let published = fast.date("published")?;
            let categories = fast.str("categories")?;
            // Each term once per segment, not once per paper.
            let mut terms: HashMap<u64, String> = HashMap::new();
            let mut ords: Vec<u64> = Vec::new();
            for doc in segment.doc_ids_alive() {
                let Some(key) = keys.first(doc) else {
                    continue;
                };
                let day = published.first(doc).and_then(|date| {
                    let seconds = date.into_timestamp_secs();
                    chrono::DateTime::from_timestamp(seconds, 0).map(|t| day_number(t.date_naive()))
                });
                ords.clear();
                if let Some(column) = &categories {
                    ords.extend(column.term_ords(doc));
                    for &ord in &ords {
                        if let std::collections::hash_map::Entry::Vacant(slot) = terms.entry(ord) {
                            name.clear();
                            column
                                .ord_to_str(ord, &mut name)
                                .map_err(tantivy::TantivyError::from)?;
                            slot.insert(name.clone());
                        }
                    }
                }
                let doc_terms: Vec<&str> = ords
                    .iter()
                    .filter_map(|ord| terms.get(ord).map(String::as_str))
                    .collect();
                facets.insert(key, day, &doc_terms);
            }
        }
        Ok(facets)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use papers_core::Category;

    fn doc(cats: &str, day: Option<&str>) -> IndexDoc {
        IndexDoc {
            key: 0,
            id: None,
            title: String::new(),
            abstract_text: String::new(),
            authors: Vec::new(),
            categories: Category::parse_list(cats).unwrap_or_default(),
            published: day.and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()),
        }
    }

    fn keys(allowed: Allowed) -> Vec<u64> {
        match allowed {
            Allowed::Keys(keys) => keys.keys(),
            other => panic!("expected keys, got {other:?}"),
        }
    }

    fn day(text: &str) -> Option<NaiveDate> {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
    }

    #[test]
    fn each_filter_keeps_the_lexical_meaning() -> Result<(), Box<dyn std::error::Error>> {
        let mut facets = Facets::default();
        facets.upsert(1, &doc("cs.LG stat.ML", Some("2024-01-10")));
        facets.upsert(2, &doc("cs.CL", Some("2024-02-01")));
        facets.upsert(70, &doc("math.OC", None));
        facets.upsert(130, &doc("cs.LG", Some("2024-03-01")));
        let within = |name: &str| -> Result<Filters, papers_core::CategoryError> {
            Ok(Filters {
                within: Some(Category::parse(name)?),
                ..Filters::default()
            })
        };
        assert_eq!(keys(facets.allowed(&within("cs.LG")?)), [1, 130]);
        assert_eq!(keys(facets.allowed(&within("cs")?)), [1, 2, 130], "archive");
        assert_eq!(
            keys(facets.allowed(&within("q-bio.NC")?)),
            Vec::<u64>::new()
        );
        let any = Filters {
            categories: vec![Category::parse("cs.CL")?, Category::parse("math.OC")?],
            ..Filters::default()
        };
        assert_eq!(keys(facets.allowed(&any)), [2, 70]);
        // after: inclusive, before: exclusive, no day: never in a range.
        let range = Filters {
            after: day("2024-02-01"),
            before: day("2024-03-01"),
            ..Filters::default()
        };
        assert_eq!(keys(facets.allowed(&range)), [2]);
        let after = Filters {
            after: day("2024-01-11"),
            ..within("cs")?
        };
        assert_eq!(keys(facets.allowed(&after)), [2, 130]);
        // Replacing and removing.
        facets.upsert(2, &doc("cs.LG", Some("2023-01-01")));
        facets.remove(130);
        assert_eq!(keys(facets.allowed(&within("cs.LG")?)), [1, 2]);
        assert_eq!(keys(facets.allowed(&after)), Vec::<u64>::new());
        assert_eq!(facets.allowed(&Filters::default()), Allowed::All);
        let author = Filters {
            authors: vec!["hinton".into()],
            ..Filters::default()
        };
        assert_eq!(facets.allowed(&author), Allowed::Query);
        Ok(())
    }

    #[test]
    fn a_key_far_past_the_others_turns_the_sets_off() {
        let mut facets = Facets::default();
        facets.upsert(1, &doc("cs.LG", None));
        facets.upsert(MIN_SPAN * 4, &doc("cs.LG", None));
        let filters = Filters {
            after: day("2020-01-01"),
            ..Filters::default()
        };
        assert_eq!(facets.allowed(&filters), Allowed::Query);
    }
}
