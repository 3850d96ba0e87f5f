//! The search box's query syntax (`papers search`, `/search`, the API and saved
//! searches in digests).

#![no_main]

use libfuzzer_sys::fuzz_target;
use papers_fuzz::{check_id, text};
use papers_index::ParsedQuery;

fuzz_target!(|data: &[u8]| {
    let Some(input) = text(data) else { return };
    let query = ParsedQuery::parse(input);
    if let Some(id) = &query.direct {
        check_id(id);
        assert!(query.terms.is_empty() && query.phrases.is_empty());
    }
    for term in &query.terms {
        assert!(!term.is_empty(), "empty term from {input:?}");
        assert!(
            !term.contains(char::is_whitespace),
            "term {term:?} has spaces"
        );
    }
    for phrase in &query.phrases {
        assert!(phrase.split(' ').count() >= 2, "one-word phrase {phrase:?}");
        assert_eq!(
            phrase.split_whitespace().collect::<Vec<_>>().join(" "),
            *phrase
        );
    }
    for author in &query.filters.authors {
        assert!(!author.trim().is_empty());
    }
    let _ = query.embedding_text();
    let _ = query.has_text();
    // Parsing is a pure function of the input.
    assert_eq!(ParsedQuery::parse(input), query);
});
