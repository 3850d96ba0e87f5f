//! The relevance cutoff of a search by meaning (dense mode) judges its hits on the
//! same evidence as a hybrid search: a hit whose words match the query strongly keeps
//! the lower cosine floor, so a paper found by its own title is not cut as noise when
//! the title says little of its abstract (issue 15: two of 18 harvested papers were
//! never found by meaning; one was this case).

use papers_core::SearchMode;
use papers_index::{ParsedQuery, Searcher, Update};

use crate::fixtures::{DIM, doc};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// A unit vector with cosine `cosine` to the first axis, the rest along `axis`.
fn at_cosine(cosine: f32, axis: usize) -> Vec<f32> {
    let mut v = vec![0.0; DIM];
    v[0] = cosine;
    v[axis] = (1.0 - cosine * cosine).sqrt();
    v
}

fn dense_hits(searcher: &Searcher, query: &str) -> Result<Vec<i64>, papers_index::IndexError> {
    let parsed = ParsedQuery::parse(query);
    let results = searcher.search(&parsed, Some(&at_cosine(1.0, 1)), SearchMode::Dense, 10)?;
    assert_eq!(results.mode_used, SearchMode::Dense);
    Ok(results.hits.iter().map(|hit| hit.key).collect())
}

#[test]
fn a_dense_hit_with_strong_word_overlap_keeps_the_lower_floor() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut searcher = Searcher::open(dir.path(), "fixture", DIM)?;
    let paper = |key, title: &str, abstract_text: &str, cosine, axis| Update {
        doc: doc(
            key,
            "",
            title,
            abstract_text,
            &["A. Author"],
            "cs.GT",
            "2021-01-02",
        ),
        vector: Some(at_cosine(cosine, axis)),
    };
    let mut updates = vec![
        // The real paper's title against its title-and-abstract vector scores between
        // the two floors (0.20 and 0.30); so do two papers that share no word with it.
        // Its words cover over half of what the query could earn (0.61 for the real
        // paper among 82, 0.52 here): strong overlap.
        paper(
            1,
            "When only the last one will do",
            "When only the last one will do.",
            0.25,
            1,
        ),
        paper(
            2,
            "Secretary problems",
            "Stopping rules for hiring.",
            0.25,
            2,
        ),
        paper(
            3,
            "Matroid bases",
            "Greedy algorithms on matroids.",
            0.28,
            3,
        ),
        // Above the plain floor: kept with or without word overlap.
        paper(4, "Optimal stopping", "Prophet inequalities.", 0.45, 4),
        // Shares one common word with the query but weakly: no vouching.
        paper(
            5,
            "One more lemma on graphs",
            "Planar graphs and their minors in depth.",
            0.22,
            5,
        ),
    ];
    // A collection of unrelated papers around them, so that word statistics are
    // those of a collection rather than of five papers.
    updates.extend((10..60).map(|key| {
        paper(
            key,
            "Homology of simplicial complexes",
            "Betti numbers of random complexes.",
            0.0,
            6,
        )
    }));
    let mut writer = searcher.writer()?;
    searcher.apply(&mut writer, &updates, &[], 1)?;
    writer.finish()?;

    // Before the fix the dense search answered [4]: its own paper was cut as noise.
    assert_eq!(
        dense_hits(&searcher, "When only the last one will do")?,
        [4, 1]
    );
    // Without word overlap the plain floor still applies.
    assert_eq!(dense_hits(&searcher, "auctions with reserve prices")?, [4]);
    // The hybrid search agrees on what passes.
    let parsed = ParsedQuery::parse("When only the last one will do");
    let hybrid = searcher.search(&parsed, Some(&at_cosine(1.0, 1)), SearchMode::Hybrid, 10)?;
    let mut hybrid: Vec<i64> = hybrid.hits.iter().map(|hit| hit.key).collect();
    hybrid.sort_unstable();
    assert_eq!(hybrid, [1, 4]);
    Ok(())
}
