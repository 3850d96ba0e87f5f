//! The kept filter sets (dates and categories in memory) against the lexical query
//! they replace: for every condition, similar papers, "like this, not like that" and
//! dense search must give exactly the same papers either way, after incremental
//! updates, replacements and deletions, after a reopen (the sets read back from the
//! index), on the graph path, and after a bulk load.

use chrono::NaiveDate;
use papers_core::Category;
use papers_index::{DenseOptions, Filters, IndexDoc, ParsedQuery, SearchMode, Searcher, Update};

const DIM: usize = 16;
const PAPERS: i64 = 400;
const CATEGORIES: [&str; 7] = [
    "cs.LG", "cs.CL", "cs.IR", "stat.ML", "math.OC", "q-bio.NC", "hep-th",
];

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// A deterministic stream of numbers for the synthetic papers.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
}

/// Paper `key` in its `version`: a few categories, a day in 2023-2024 (none for
/// every 9th), and a vector.
fn paper(key: i64, version: u64) -> Update {
    let mut rng = Lcg(key as u64 * 7919 + version * 104_729);
    let count = 1 + rng.next() as usize % 3;
    let categories = (0..count)
        .filter_map(|_| Category::parse(CATEGORIES[rng.next() as usize % CATEGORIES.len()]).ok())
        .collect();
    let published = (key % 9 != 0).then(|| {
        NaiveDate::from_ymd_opt(2023, 1, 1)
            .and_then(|d| d.checked_add_days(chrono::Days::new(rng.next() % 730)))
    });
    let mut vector: Vec<f32> = (0..DIM).map(|_| rng.next() as f32 / 2e9 - 1.0).collect();
    let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
    vector.iter_mut().for_each(|x| *x /= norm);
    Update {
        doc: IndexDoc {
            key,
            id: None,
            title: format!("paper {key}"),
            abstract_text: format!("synthetic abstract {key}"),
            authors: vec![
                if key % 2 == 0 {
                    "Ada Lovelace"
                } else {
                    "Alan Turing"
                }
                .to_owned(),
            ],
            categories,
            published: published.flatten(),
        },
        vector: Some(vector),
    }
}

fn day(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}

fn conditions() -> Result<Vec<(&'static str, Filters)>, papers_core::CategoryError> {
    let within = |name: &str| -> Result<Filters, papers_core::CategoryError> {
        Ok(Filters {
            within: Some(Category::parse(name)?),
            ..Filters::default()
        })
    };
    Ok(vec![
        (
            "after",
            Filters {
                after: day("2024-01-01"),
                ..Filters::default()
            },
        ),
        (
            "before",
            Filters {
                before: day("2023-06-01"),
                ..Filters::default()
            },
        ),
        (
            "after and before",
            Filters {
                after: day("2023-03-01"),
                before: day("2023-03-20"),
                ..Filters::default()
            },
        ),
        ("category", within("cs.LG")?),
        ("archive", within("cs")?),
        ("archive-only category", within("hep-th")?),
        ("category nobody has", within("q-fin.ST")?),
        (
            "any of two cat:",
            Filters {
                categories: vec![Category::parse("cs.CL")?, Category::parse("math.OC")?],
                ..Filters::default()
            },
        ),
        (
            "cat:, category and after",
            Filters {
                categories: vec![Category::parse("cs")?],
                after: day("2023-09-01"),
                ..within("stat.ML")?
            },
        ),
        (
            "author (always a query) and category",
            Filters {
                authors: vec!["turing".to_owned()],
                ..within("cs.IR")?
            },
        ),
    ])
}

/// Every condition, both ways, for similar papers, similar-unlike and dense search;
/// returns how many lists were non-empty (so the comparison cannot be vacuous).
fn compare(searcher: &mut Searcher, stage: &str) -> Result<usize, Box<dyn std::error::Error>> {
    let mut non_empty = 0;
    for (name, filters) in conditions()? {
        for key in (1..PAPERS).step_by(37) {
            let query = paper(key, 0).vector.unwrap_or_default();
            let parsed = ParsedQuery {
                terms: vec!["synthetic".to_owned()],
                filters: filters.clone(),
                ..ParsedQuery::default()
            };
            let mut answers = Vec::new();
            for kept in [false, true] {
                searcher.use_kept_filter_sets(kept);
                let similar = searcher.similar_unkept(key, 8, &filters)?;
                let unlike = searcher.similar_unlike(key, key + 1, 8, &filters)?;
                let dense = searcher.search(&parsed, Some(&query), SearchMode::Dense, 20)?;
                answers.push((similar, unlike, dense.hits));
            }
            assert_eq!(answers[0], answers[1], "{stage}: {name}, paper {key}");
            non_empty += usize::from(answers[1].0.as_ref().is_some_and(|h| !h.is_empty()));
        }
    }
    searcher.use_kept_filter_sets(true);
    Ok(non_empty)
}

fn all_papers(version: u64) -> Vec<Update> {
    (1..=PAPERS).map(|key| paper(key, version)).collect()
}

#[test]
fn kept_filter_sets_give_the_lexical_filters_papers() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut searcher = Searcher::open(dir.path(), "fixture", DIM)?;
    let mut writer = searcher.writer()?;
    for (i, chunk) in all_papers(0).chunks(100).enumerate() {
        searcher.apply(&mut writer, chunk, &[], i as u64 + 1)?;
    }
    assert!(compare(&mut searcher, "applied")? > 40);
    // Replace a third of the papers (new categories and days) and delete some.
    let replaced: Vec<Update> = (1..=PAPERS).step_by(3).map(|key| paper(key, 1)).collect();
    let deleted: Vec<i64> = (2..=PAPERS).step_by(11).collect();
    searcher.apply(&mut writer, &replaced, &deleted, 10)?;
    assert!(compare(&mut searcher, "replaced and deleted")? > 40);
    writer.finish()?;
    drop(searcher);
    let mut reopened = Searcher::open(dir.path(), "fixture", DIM)?;
    assert!(compare(&mut reopened, "reopened")? > 40);
    drop(reopened);
    // The graph path: the filter reaches the walk (or the selective scan) as keys.
    let graph = DenseOptions {
        graph_threshold: 0,
        ..DenseOptions::default()
    };
    let mut on_graph = Searcher::open_with(dir.path(), "fixture", DIM, graph)?;
    assert_eq!(on_graph.dense().method(), "hnsw");
    assert!(compare(&mut on_graph, "graph")? > 40);
    Ok(())
}

#[test]
fn kept_filter_sets_follow_a_bulk_load() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut searcher = Searcher::open(dir.path(), "fixture", DIM)?;
    let writer = searcher.lexical().bulk_writer()?;
    let mut load = searcher.begin_bulk(writer, PAPERS as usize)?;
    for chunk in all_papers(0).chunks(64) {
        load.add(&mut searcher, chunk)?;
    }
    load.finish(&mut searcher, 1)?;
    assert!(compare(&mut searcher, "bulk loaded")? > 40);
    // A second load over a non-empty index replaces papers.
    let writer = searcher.lexical().bulk_writer()?;
    let mut load = searcher.begin_bulk(writer, PAPERS as usize)?;
    load.add(&mut searcher, &all_papers(2))?;
    load.finish(&mut searcher, 2)?;
    assert!(compare(&mut searcher, "bulk replaced")? > 40);
    Ok(())
}
