//! Filters in every mode, direct ids, fallback, snippets, similar papers, the
//! cutoff, crash-safe reopen and reindex equivalence, on the synthetic corpus.

use papers_core::{ArxivId, Category};
use papers_index::{Hit, ParsedQuery, SearchConfig, SearchMode, Searcher, Update, reindex};
use papers_rank::cutoff::Cutoff;

use crate::fixtures::{DIM, corpus, doc, vector};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn build(
    dir: &std::path::Path,
    updates: &[Update],
) -> Result<Searcher, Box<dyn std::error::Error>> {
    let mut searcher = Searcher::open(dir, "fixture", DIM)?;
    let mut writer = searcher.writer()?;
    searcher.apply(&mut writer, updates, &[], 1)?;
    writer.finish()?;
    Ok(searcher)
}

fn keys(
    searcher: &Searcher,
    query: &str,
    mode: SearchMode,
) -> Result<Vec<i64>, Box<dyn std::error::Error>> {
    let parsed = ParsedQuery::parse(query);
    let results = searcher.search(&parsed, Some(&vector(0, 0.2)), mode, 20)?;
    assert_eq!(results.mode_used, mode);
    let mut keys: Vec<i64> = results.hits.iter().map(|h| h.key).collect();
    keys.sort_unstable();
    Ok(keys)
}

#[test]
fn filters_apply_during_lexical_dense_and_hybrid_search() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut searcher = build(dir.path(), &corpus())?;
    // Without the cutoff every paper is a dense candidate, so only the filter can
    // explain a missing one.
    searcher.set_config(SearchConfig {
        cutoff: Cutoff::OFF,
        ..SearchConfig::default()
    });
    let cases: [(&str, &[i64]); 6] = [
        ("retrieval cat:cs.IR", &[1, 3, 5]),
        ("graph cat:cs.LG", &[2, 4, 6]),
        ("retrieval author:turing", &[1, 3]),
        ("networks author:hinton", &[2, 4]),
        ("retrieval after:2024-02-01 before:2024-03-01", &[3, 4]),
        ("retrieval cat:cs author:\"ada lovelace\"", &[1, 6]),
    ];
    for (query, allowed) in cases {
        let dense = keys(&searcher, query, SearchMode::Dense)?;
        assert_eq!(dense, allowed.to_vec(), "dense {query}");
        for mode in [SearchMode::Lexical, SearchMode::Hybrid] {
            let found = keys(&searcher, query, mode)?;
            assert!(
                !found.is_empty() && found.iter().all(|k| allowed.contains(k)),
                "{mode} {query}: {found:?}"
            );
        }
    }
    // Filters alone list the matching papers, newest first.
    let listed = searcher.search(
        &ParsedQuery::parse("cat:cs.IR"),
        None,
        SearchMode::Lexical,
        10,
    )?;
    assert_eq!(
        listed.hits.iter().map(|h| h.key).collect::<Vec<_>>(),
        vec![5, 3, 1]
    );
    Ok(())
}

#[test]
fn papers_listed_by_filters_alone_tie_on_their_date_by_key() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut searcher = Searcher::open(dir.path(), "fixture", DIM)?;
    let mut writer = searcher.writer()?;
    // One commit each, in descending key order: the documents sit in the index in the
    // reverse of their keys' order, as a bulk load's threads may leave them.
    for key in [3, 2, 1] {
        let update = Update {
            doc: doc(
                key,
                &format!("2401.0000{key}"),
                "One day's paper",
                "Three papers published on one day.",
                &["Ada Lovelace"],
                "cs.IR",
                "2024-01-10",
            ),
            vector: None,
        };
        searcher.apply(&mut writer, &[update], &[], key.unsigned_abs())?;
    }
    writer.finish()?;
    let listed = searcher.search(
        &ParsedQuery::parse("cat:cs.IR"),
        None,
        SearchMode::Lexical,
        10,
    )?;
    assert_eq!(
        listed.hits.iter().map(|h| h.key).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    Ok(())
}

#[test]
fn a_surface_category_narrows_the_query_and_its_own_cat_filters() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut searcher = build(dir.path(), &corpus())?;
    searcher.set_config(SearchConfig {
        cutoff: Cutoff::OFF,
        ..SearchConfig::default()
    });
    let within = |text: &str, category: &str| -> Result<ParsedQuery, Box<dyn std::error::Error>> {
        let mut query = ParsedQuery::parse(text);
        query.filters.within = Some(Category::parse(category)?);
        Ok(query)
    };
    // `cat:cs.LG cat:cs.IR` allows either; the surface's cs.IR narrows it to one.
    let query = within("retrieval graph cat:cs.LG cat:cs.IR", "cs.IR")?;
    assert!(!query.filters.is_empty());
    for mode in [SearchMode::Lexical, SearchMode::Dense, SearchMode::Hybrid] {
        let results = searcher.search(&query, Some(&vector(0, 0.2)), mode, 20)?;
        let mut found: Vec<i64> = results.hits.iter().map(|h| h.key).collect();
        found.sort_unstable();
        if mode == SearchMode::Dense {
            assert_eq!(found, vec![1, 3, 5], "{mode}");
        } else {
            assert!(
                !found.is_empty() && found.iter().all(|k| [1, 3, 5].contains(k)),
                "{mode}: {found:?}"
            );
        }
    }
    // An archive takes its subjects, as `cat:` does; another archive has none of them.
    let archive = searcher.search(&within("retrieval", "cs")?, None, SearchMode::Lexical, 10)?;
    assert!(!archive.hits.is_empty());
    assert!(archive.hits.iter().all(|h| [1, 3, 5].contains(&h.key)));
    let elsewhere = searcher.search(
        &within("retrieval", "hep-th")?,
        None,
        SearchMode::Lexical,
        10,
    )?;
    assert!(elsewhere.hits.is_empty());
    // A pasted id is found only inside the category.
    let outside = searcher.search(
        &within("2402.00004", "cs.IR")?,
        None,
        SearchMode::Hybrid,
        10,
    )?;
    assert!(outside.hits.is_empty());
    let inside = searcher.search(&within("2402.00004", "cs")?, None, SearchMode::Hybrid, 10)?;
    assert_eq!(
        inside.hits.iter().map(|h| h.key).collect::<Vec<_>>(),
        vec![4]
    );
    Ok(())
}

#[test]
fn direct_ids_fallback_snippets_similar_and_cutoff() -> TestResult {
    let dir = tempfile::tempdir()?;
    let searcher = build(dir.path(), &corpus())?;

    let direct = searcher.search(
        &ParsedQuery::parse("https://arxiv.org/abs/2402.00004v2"),
        None,
        SearchMode::Hybrid,
        10,
    )?;
    assert_eq!(
        direct.hits.iter().map(|h| h.key).collect::<Vec<_>>(),
        vec![4]
    );
    let described = searcher.describe(&direct.hits, &ParsedQuery::default())?;
    assert_eq!(described[0].1.title, "Capsule networks for vision");
    let missing = searcher.search(
        &ParsedQuery::parse("2405.99999"),
        None,
        SearchMode::Hybrid,
        10,
    )?;
    assert!(missing.hits.is_empty());

    let query = ParsedQuery::parse("relevance cutoff");
    let fallback = searcher.search(&query, None, SearchMode::Hybrid, 10)?;
    assert!(fallback.fell_back);
    assert_eq!(fallback.mode_used, SearchMode::Lexical);
    let hit = fallback.hits[0];
    assert_eq!(hit.key, 1);
    // Snippets are made for the hits a surface shows, on request.
    let snippets = searcher.snippets(&fallback.hits[..1], &query)?;
    let snippet = snippets[0].as_ref().ok_or("no snippet")?;
    let marked: Vec<&str> = snippet
        .highlights
        .iter()
        .map(|r| &snippet.text[r.clone()])
        .collect();
    assert_eq!(marked, vec!["relevance", "cutoff"]);
    // What `papers search` prints: the same snippet with the id and title.
    let described = searcher.describe(&[hit], &query)?;
    assert_eq!(described.len(), 1);
    assert_eq!(described[0].0, hit);
    assert_eq!(
        described[0].1.id.as_ref().map(ArxivId::as_str),
        Some("2401.00001")
    );
    assert_eq!(&described[0].1.snippet, snippet);
    // A key the lexical index does not have: no snippet, no description.
    let ghost = [Hit {
        key: 99,
        score: 1.0,
    }];
    assert_eq!(searcher.snippets(&ghost, &query)?, vec![None]);
    assert!(searcher.describe(&ghost, &query)?.is_empty());
    assert_eq!("HYBRID".parse::<SearchMode>(), Ok(SearchMode::Hybrid));
    assert_eq!("semantic".parse::<SearchMode>(), Ok(SearchMode::Dense));

    let hybrid = searcher.search(&query, Some(&vector(0, 0.0)), SearchMode::Hybrid, 10)?;
    assert!(!hybrid.fell_back);
    assert_eq!(hybrid.hits[0].key, 1);
    // The cutoff keeps the on-topic papers (axis 0) and drops the rest.
    let mut kept: Vec<i64> = hybrid.hits.iter().map(|h| h.key).collect();
    kept.sort_unstable();
    assert_eq!(kept, vec![1, 3, 5]);
    // A vector near nothing in the corpus, with words that match nothing: nothing.
    let nowhere = searcher.search(
        &ParsedQuery::parse("pizza recipe"),
        Some(&vector(7, 0.0)),
        SearchMode::Hybrid,
        10,
    )?;
    assert!(nowhere.hits.is_empty(), "{:?}", nowhere.hits);
    let dense_nowhere = searcher.search(
        &ParsedQuery::parse("relevance"),
        Some(&vector(7, 0.0)),
        SearchMode::Dense,
        10,
    )?;
    assert!(dense_nowhere.hits.is_empty());

    let similar = searcher
        .similar(1, 2, &Default::default())?
        .unwrap_or_default();
    assert_eq!(
        similar.iter().map(|h| h.key).collect::<Vec<_>>(),
        vec![5, 3]
    );
    let similar_old = searcher
        .similar(1, 3, &ParsedQuery::parse("before:2024-02-01").filters)?
        .unwrap_or_default();
    assert!(similar_old.iter().all(|h| [2, 7, 8].contains(&h.key)));
    assert!(searcher.similar(99, 2, &Default::default())?.is_none());

    // The plain list is kept once asked for; the deep lists of conditions the caller
    // narrows itself read a kept list but are never kept.
    let keys = |hits: Vec<Hit>| hits.iter().map(|h| h.key).collect::<Vec<_>>();
    assert_eq!(
        keys(searcher.similar_cached(1, 2)?.unwrap_or_default()),
        vec![5, 3]
    );
    assert_eq!(
        keys(
            searcher
                .similar_unkept(1, 2, &Default::default())?
                .unwrap_or_default()
        ),
        vec![5, 3]
    );
    assert!(searcher.similar_cached(3, 2)?.is_none());
    let unkept = keys(
        searcher
            .similar_unkept(3, 2, &Default::default())?
            .unwrap_or_default(),
    );
    assert_eq!(unkept.len(), 2, "{unkept:?}");
    assert!(
        searcher.similar_cached(3, 2)?.is_none(),
        "a list computed for a condition was kept"
    );
    let plain = keys(
        searcher
            .similar(3, 2, &Default::default())?
            .unwrap_or_default(),
    );
    assert_eq!(unkept, plain);
    assert_eq!(
        keys(searcher.similar_cached(3, 2)?.unwrap_or_default()),
        plain
    );
    Ok(())
}

#[test]
fn uncommitted_writes_vanish_on_reopen_and_the_watermark_survives() -> TestResult {
    let dir = tempfile::tempdir()?;
    {
        let mut searcher = Searcher::open(dir.path(), "fixture", DIM)?;
        let mut writer = searcher.writer()?;
        searcher.apply(&mut writer, &corpus()[..4], &[], 4)?;
        // A crash: documents added but never committed.
        let mut extra = corpus()[4].clone();
        extra.doc.key = 40;
        writer.upsert(&extra.doc)?;
        drop(writer);
    }
    let searcher = Searcher::open(dir.path(), "fixture", DIM)?;
    assert_eq!(searcher.watermark()?, 4);
    assert_eq!(searcher.lexical().num_docs(), 4);
    assert_eq!(searcher.dense().len(), 4);
    let found = searcher.search(
        &ParsedQuery::parse("reciprocal rank fusion"),
        None,
        SearchMode::Lexical,
        10,
    )?;
    assert!(found.hits.iter().all(|h| h.key != 40));
    // Replaying from the watermark is idempotent.
    let mut searcher = searcher;
    let mut writer = searcher.writer()?;
    searcher.apply(&mut writer, &corpus(), &[], 8)?;
    searcher.apply(&mut writer, &corpus(), &[], 8)?;
    assert_eq!(searcher.lexical().num_docs(), 8);
    assert_eq!(searcher.dense().len(), 8);
    Ok(())
}

#[test]
fn another_model_drops_the_dense_side_and_keyword_search_keeps_the_vectors() -> TestResult {
    let dir = tempfile::tempdir()?;
    {
        let mut searcher = Searcher::open(dir.path(), "model-a", DIM)?;
        let mut writer = searcher.writer()?;
        searcher.apply(&mut writer, &corpus(), &[], 8)?;
        writer.finish()?;
    }
    // Without a model, search opens the index under the model its vectors came from.
    assert_eq!(
        Searcher::indexed_model(dir.path())?,
        Some(("model-a".to_owned(), DIM))
    );
    assert!(Searcher::open(dir.path(), "model-b", DIM).is_err());
    // A new model's vectors must not mix with the old ones: its dense side starts
    // empty and covers nothing, so the caller's catch-up replays everything.
    let searcher = Searcher::open_replacing_other_model(dir.path(), "model-b", DIM)?;
    assert_eq!(searcher.dense().len(), 0);
    assert_eq!(searcher.dense().model(), "model-b");
    assert_eq!(searcher.watermark()?, 0);
    assert_eq!(searcher.lexical().num_docs(), 8);
    Ok(())
}

#[test]
fn reindex_gives_the_same_results_as_incremental_updates() -> TestResult {
    let incremental_dir = tempfile::tempdir()?;
    let mut incremental = Searcher::open(incremental_dir.path(), "fixture", DIM)?;
    let mut writer = incremental.writer()?;
    let all = corpus();
    incremental.apply(&mut writer, &all[..5], &[], 5)?;
    incremental.apply(&mut writer, &all[5..], &[], 8)?;
    let mut changed = all[2].clone();
    changed.doc.title = "Sparse lexical retrieval revisited".to_owned();
    incremental.apply(&mut writer, std::slice::from_ref(&changed), &[8], 9)?;
    writer.finish()?;

    let mut final_docs: Vec<Update> = all.into_iter().filter(|u| u.doc.key != 8).collect();
    final_docs[2] = changed;
    let rebuilt_dir = tempfile::tempdir()?;
    let count = reindex(
        rebuilt_dir.path(),
        "fixture",
        DIM,
        final_docs.clone().into_iter(),
        9,
    )?;
    assert_eq!(count, 7);
    let rebuilt = Searcher::open(rebuilt_dir.path(), "fixture", DIM)?;
    assert_eq!(rebuilt.watermark()?, 9);

    for query in [
        "sparse lexical retrieval",
        "knowledge graph",
        "strings",
        "retrieval cat:cs.IR",
        "author:hinton",
    ] {
        for mode in [SearchMode::Lexical, SearchMode::Dense, SearchMode::Hybrid] {
            let parsed = ParsedQuery::parse(query);
            let a = incremental.search(&parsed, Some(&vector(0, 0.2)), mode, 10)?;
            let b = rebuilt.search(&parsed, Some(&vector(0, 0.2)), mode, 10)?;
            // Order, not scores: until tantivy merges segments, replaced and
            // deleted documents still count in BM25's document frequencies, so
            // the incremental index's raw scores differ slightly.
            let summary = |r: &papers_index::SearchResults| -> Vec<i64> {
                r.hits.iter().map(|h| h.key).collect()
            };
            assert_eq!(summary(&a), summary(&b), "{mode} {query}");
        }
    }
    // Reindexing in place swaps the new indexes in.
    drop(incremental);
    reindex(
        incremental_dir.path(),
        "fixture",
        DIM,
        final_docs.into_iter(),
        10,
    )?;
    let swapped = Searcher::open(incremental_dir.path(), "fixture", DIM)?;
    assert_eq!(swapped.watermark()?, 10);
    assert_eq!(swapped.lexical().num_docs(), 7);
    Ok(())
}

#[test]
fn a_lexical_commit_stays_unseen_until_the_batch_is_published() -> TestResult {
    // A server commits the lexical half while searches go on and takes the searcher
    // for itself only to publish: in between, searches answer from the last batch.
    let dir = tempfile::tempdir()?;
    let mut searcher = Searcher::open(dir.path(), "fixture", DIM)?;
    let mut writer = searcher.writer()?;
    searcher.apply(&mut writer, &corpus()[..4], &[], 4)?;
    let rest = &corpus()[4..];
    Searcher::commit_lexical(&mut writer, rest, &[], 8)?;
    assert_eq!(searcher.lexical().num_docs(), 4);
    assert_eq!(searcher.dense().len(), 4);
    // Committed at 8 on the lexical side only: a crash here replays from 4.
    assert_eq!(searcher.watermark()?, 4);
    searcher.publish(rest, &[], 8)?;
    assert_eq!(searcher.lexical().num_docs(), 8);
    assert_eq!(searcher.dense().len(), 8);
    assert_eq!(searcher.watermark()?, 8);
    Ok(())
}
