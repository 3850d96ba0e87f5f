//! Data-driven tests of the query language: each case is an input and a compact
//! rendering of what it parses to.

use super::ParsedQuery;

fn render(query: &ParsedQuery) -> String {
    let mut parts = Vec::new();
    if let Some(id) = &query.direct {
        parts.push(format!("paper={id}"));
    }
    if !query.terms.is_empty() {
        parts.push(format!("terms={}", query.terms.join("|")));
    }
    for phrase in &query.phrases {
        parts.push(format!("phrase=\"{phrase}\""));
    }
    for category in &query.filters.categories {
        parts.push(format!("cat={category}"));
    }
    for author in &query.filters.authors {
        parts.push(format!("author={author}"));
    }
    if let Some(day) = query.filters.after {
        parts.push(format!("after={day}"));
    }
    if let Some(day) = query.filters.before {
        parts.push(format!("before={day}"));
    }
    parts.join(" ")
}

fn check(input: &str, expect: &str) {
    let parsed = ParsedQuery::parse(input);
    assert_eq!(render(&parsed), expect, "input: {input:?}");
}

#[test]
fn words_and_phrases() {
    check("", "");
    check("   ", "");
    check("dense retrieval", "terms=dense|retrieval");
    check(
        "\"knowledge graph\" embedding",
        "terms=embedding phrase=\"knowledge graph\"",
    );
    check("\"  spaced   out  \"", "phrase=\"spaced out\"");
    check("\"single\"", "terms=single");
    check("\"unclosed phrase here", "phrase=\"unclosed phrase here\"");
    check("a\"b", "terms=a\"b");
}

#[test]
fn filters() {
    check("author:hinton", "author=hinton");
    check(
        "author:\"geoffrey hinton\" capsules",
        "terms=capsules author=geoffrey hinton",
    );
    check("AU:lecun", "author=lecun");
    check(
        "cat:cs.IR cat:cs.CL cat:cs.IR ranking",
        "terms=ranking cat=cs.IR cat=cs.CL",
    );
    check("cat:hep-th", "cat=hep-th");
    check(
        "after:2024-01-01 before:2024-02-01 llm",
        "terms=llm after=2024-01-01 before=2024-02-01",
    );
    check("after:2024", "after=2024-01-01");
    check("before:2023-06", "before=2023-06-01");
}

#[test]
fn unknown_or_malformed_fields_are_words() {
    check("title:transformers", "terms=title:transformers");
    check("cat:NOT_A_CAT x", "terms=cat:NOT_A_CAT|x");
    check("after:yesterday", "terms=after:yesterday");
    check("after:2024-13-01", "terms=after:2024-13-01");
    check("author:", "terms=author:");
    check("foo:\"bar baz\"", "terms=foo: phrase=\"bar baz\"");
    check("http://example.com/x", "terms=http://example.com/x");
    check("IL-6:receptor", "terms=IL-6:receptor");
}

#[test]
fn pasted_ids_go_to_the_paper() {
    check("2401.01234", "paper=2401.01234");
    check("  arXiv:2401.01234v2 ", "paper=2401.01234");
    check("https://arxiv.org/abs/2401.01234v3", "paper=2401.01234");
    check("https://arxiv.org/pdf/2401.01234.pdf", "paper=2401.01234");
    check("hep-th/9901001", "paper=hep-th/9901001");
    // An id among other words is just a word.
    check("2401.01234 transformers", "terms=2401.01234|transformers");
}

#[test]
fn embedding_text_drops_filters() {
    let parsed = ParsedQuery::parse("\"graph neural\" networks cat:cs.LG after:2020");
    assert_eq!(parsed.embedding_text(), "networks graph neural");
    assert!(parsed.has_text());
    assert!(!ParsedQuery::parse("cat:cs.LG").has_text());
}
