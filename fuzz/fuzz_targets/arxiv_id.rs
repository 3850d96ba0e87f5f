//! arXiv ids and references as people paste them (`papers show`, `/submit`, search).

#![no_main]

use libfuzzer_sys::fuzz_target;
use papers_core::{ArxivId, Category, VersionedId, find_links};
use papers_fuzz::{check_id, text};

fuzz_target!(|data: &[u8]| {
    let Some(input) = text(data) else { return };
    if let Ok(id) = ArxivId::parse(input) {
        assert_eq!(id.as_str(), input, "a bare id is kept as written");
        check_id(&id);
    }
    if let Ok(reference) = VersionedId::parse_reference(input) {
        check_id(&reference.id);
        assert!(reference.version != Some(0), "versions start at 1");
    }
    if let Ok(category) = Category::parse(input) {
        assert_eq!(category.as_str(), input);
        assert!(input.starts_with(category.archive()));
    }
    if let Ok(categories) = Category::parse_list(input) {
        for (i, category) in categories.iter().enumerate() {
            assert!(!categories[..i].contains(category), "duplicate category");
        }
    }
    let links = find_links(input.split('\n'));
    if let Some(github) = links.github {
        assert!(github.starts_with("https://github.com/"));
    }
});
