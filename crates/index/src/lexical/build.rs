//! Turns a [`ParsedQuery`] into tantivy queries: a scored text part and a
//! non-scoring filter part, built separately because the dense side needs the
//! filter alone.

use std::ops::Bound;

use tantivy::Term;
use tantivy::query::{
    BooleanQuery, BoostQuery, ConstScoreQuery, Occur, PhraseQuery, Query, RangeQuery, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::tokenizer::TextAnalyzer;

use super::schema::{Fields, to_tantivy_date};
use crate::query::{Filters, ParsedQuery};

/// Per-field weights of the text query; a field at 0 is not searched. Title
/// matches count extra: a title is a summary its authors chose. The snippet
/// highlighter reads the abstract's terms, so snippets use their own weights
/// whatever the ranking uses.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FieldBoosts {
    pub title: f32,
    pub abstract_text: f32,
    pub body: f32,
    pub authors: f32,
}

impl FieldBoosts {
    pub(crate) const SNIPPET: FieldBoosts = FieldBoosts {
        title: 0.0,
        abstract_text: 1.0,
        body: 0.0,
        authors: 0.0,
    };
}

impl Default for FieldBoosts {
    /// Tuned on BEIR SciFact train: BM25 over title+abstract as one field, plus a
    /// title-only match worth a fifth of it (nDCG@10 0.705, versus 0.675 for
    /// separate title and abstract fields at equal weight and 0.653 with the title
    /// boosted 1.5×: a title's words are also in the body, so a separate field
    /// counts them twice).
    fn default() -> Self {
        FieldBoosts {
            title: 0.2,
            abstract_text: 0.0,
            body: 1.0,
            authors: 0.5,
        }
    }
}

pub(crate) struct Analyzers {
    pub prose: TextAnalyzer,
    pub names: TextAnalyzer,
    pub name_raw: TextAnalyzer,
}

pub(crate) fn analyze(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    analyze_positions(analyzer, text)
        .into_iter()
        .map(|(_, token)| token)
        .collect()
}

/// Tokens with their positions, which phrases need: a stop word removed from the
/// middle of a phrase leaves a gap that the phrase must keep.
pub(crate) fn analyze_positions(analyzer: &mut TextAnalyzer, text: &str) -> Vec<(usize, String)> {
    let mut stream = analyzer.token_stream(text);
    let mut tokens = Vec::new();
    while stream.advance() {
        let token = stream.token();
        tokens.push((token.position, token.text.clone()));
    }
    tokens
}

/// The scored part: every word in every field, as a union (BM25 rewards documents
/// that match more of them); every phrase required, in title or abstract.
pub(crate) fn text_query(
    query: &ParsedQuery,
    fields: &Fields,
    analyzers: &mut Analyzers,
    boosts: FieldBoosts,
) -> Option<Box<dyn Query>> {
    let mut should: Vec<Box<dyn Query>> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for word in &query.terms {
        for token in analyze(&mut analyzers.prose, word) {
            if seen.insert((fields.title, token.clone())) {
                for (field, boost) in [
                    (fields.title, boosts.title),
                    (fields.abstract_text, boosts.abstract_text),
                    (fields.body, boosts.body),
                ] {
                    if boost > 0.0 {
                        should.push(boosted(term(field, &token), boost));
                    }
                }
            }
        }
        for token in analyze(&mut analyzers.names, word) {
            if boosts.authors > 0.0 && seen.insert((fields.authors, token.clone())) {
                should.push(boosted(term(fields.authors, &token), boosts.authors));
            }
        }
    }
    let mut must: Vec<Box<dyn Query>> = Vec::new();
    for phrase in &query.phrases {
        let tokens = analyze_positions(&mut analyzers.prose, phrase);
        let in_field = |field: Field, boost: f32| boosted(phrase_or_term(field, &tokens), boost);
        if tokens.is_empty() {
            continue;
        }
        let any_field: Vec<(Occur, Box<dyn Query>)> = [
            (fields.title, boosts.title),
            (fields.abstract_text, boosts.abstract_text),
            (fields.body, boosts.body),
        ]
        .into_iter()
        .filter(|&(_, boost)| boost > 0.0)
        .map(|(field, boost)| (Occur::Should, in_field(field, boost)))
        .collect();
        must.push(Box::new(BooleanQuery::new(any_field)));
    }
    if should.is_empty() && must.is_empty() {
        return None;
    }
    let mut clauses: Vec<(Occur, Box<dyn Query>)> =
        must.into_iter().map(|q| (Occur::Must, q)).collect();
    if !should.is_empty() {
        let words: Box<dyn Query> = Box::new(BooleanQuery::new(
            should.into_iter().map(|q| (Occur::Should, q)).collect(),
        ));
        // With phrases present the words only rank; without, at least one must match.
        let occur = if clauses.is_empty() {
            Occur::Must
        } else {
            Occur::Should
        };
        clauses.push((occur, words));
    }
    Some(Box::new(BooleanQuery::new(clauses)))
}

/// The distinct prose tokens the text query scores: its words and its phrases'
/// words, as the index stores them.
pub(crate) fn scored_tokens(query: &ParsedQuery, analyzers: &mut Analyzers) -> Vec<String> {
    let mut tokens: Vec<String> = Vec::new();
    for text in query.terms.iter().chain(&query.phrases) {
        for token in analyze(&mut analyzers.prose, text) {
            if !tokens.contains(&token) {
                tokens.push(token);
            }
        }
    }
    tokens
}

/// The filter part, or `None` when there are no filters. It scores nothing.
pub(crate) fn filter_query(
    filters: &Filters,
    fields: &Fields,
    analyzers: &mut Analyzers,
) -> Option<Box<dyn Query>> {
    let mut must: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    if !filters.categories.is_empty() {
        let any: Vec<(Occur, Box<dyn Query>)> = filters
            .categories
            .iter()
            .map(|c| (Occur::Should, basic_term(fields.categories, c.as_str())))
            .collect();
        must.push((Occur::Must, Box::new(BooleanQuery::new(any))));
    }
    if let Some(category) = &filters.within {
        must.push((
            Occur::Must,
            basic_term(fields.categories, category.as_str()),
        ));
    }
    for author in &filters.authors {
        must.push((Occur::Must, author_query(author, fields, analyzers)));
    }
    if filters.after.is_some() || filters.before.is_some() {
        let bound = |day: Option<chrono::NaiveDate>, inclusive: bool| match day {
            None => Bound::Unbounded,
            Some(day) => {
                let term = Term::from_field_date_for_search(fields.published, to_tantivy_date(day));
                if inclusive {
                    Bound::Included(term)
                } else {
                    Bound::Excluded(term)
                }
            }
        };
        let range = RangeQuery::new(bound(filters.after, true), bound(filters.before, false));
        must.push((Occur::Must, Box::new(range)));
    }
    if must.is_empty() {
        return None;
    }
    Some(Box::new(ConstScoreQuery::new(
        Box::new(BooleanQuery::new(must)),
        0.0,
    )))
}

/// One word matches a last name or any word of a name; several words must appear
/// as a phrase in one name (`author:"van der waals"`).
fn author_query(author: &str, fields: &Fields, analyzers: &mut Analyzers) -> Box<dyn Query> {
    let words = analyze_positions(&mut analyzers.names, author);
    if words.len() <= 1 {
        let last = analyze(&mut analyzers.name_raw, author.trim());
        let mut any: Vec<(Occur, Box<dyn Query>)> = last
            .iter()
            .map(|w| (Occur::Should, basic_term(fields.author_last, w)))
            .collect();
        any.extend(
            words
                .iter()
                .map(|(_, w)| (Occur::Should, basic_term(fields.authors, w))),
        );
        return Box::new(BooleanQuery::new(any));
    }
    phrase_or_term(fields.authors, &words)
}

fn phrase_or_term(field: Field, tokens: &[(usize, String)]) -> Box<dyn Query> {
    match tokens {
        [(_, single)] => term(field, single),
        _ => Box::new(PhraseQuery::new_with_offset(
            tokens
                .iter()
                .map(|(position, t)| (*position, Term::from_field_text(field, t)))
                .collect(),
        )),
    }
}

fn term(field: Field, token: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, token),
        IndexRecordOption::WithFreqs,
    ))
}

fn basic_term(field: Field, token: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, token),
        IndexRecordOption::Basic,
    ))
}

fn boosted(query: Box<dyn Query>, boost: f32) -> Box<dyn Query> {
    if boost == 1.0 {
        query
    } else {
        Box::new(BoostQuery::new(query, boost))
    }
}
