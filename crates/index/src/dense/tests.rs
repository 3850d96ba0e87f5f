//! Unit tests of the dense index: ranking, filters, persistence and crash recovery.

use std::io::Write;

use super::*;

fn unit(values: &[f32]) -> Vec<f32> {
    let norm = values.iter().map(|x| x * x).sum::<f32>().sqrt();
    values.iter().map(|x| x / norm).collect()
}

/// Six 4-d vectors at increasing angles from the x axis.
fn sample() -> Vec<(u64, Vec<f32>)> {
    (0..6)
        .map(|i| {
            let angle = i as f32 * 0.3;
            (100 + i as u64, unit(&[angle.cos(), angle.sin(), 0.1, 0.0]))
        })
        .collect()
}

fn keys(scored: &[Scored]) -> Vec<u64> {
    scored.iter().map(|s| s.key).collect()
}

#[test]
fn ranks_by_cosine_and_honours_filters() -> Result<()> {
    let mut index = DenseIndex::in_memory("test", 4)?;
    for (key, vector) in sample() {
        index.upsert(key, &vector)?;
    }
    let query = unit(&[1.0, 0.0, 0.0, 0.0]);
    assert_eq!(keys(&index.search(&query, 3, None)?), vec![100, 101, 102]);
    let allowed = index.row_set(&[103, 105, 999]);
    assert_eq!(
        keys(&index.search(&query, 3, Some(&allowed))?),
        vec![103, 105]
    );
    let similar = index.similar(100, 2, None)?.unwrap_or_default();
    assert_eq!(keys(&similar), vec![101, 102]);
    assert!(index.similar(999, 2, None)?.is_none());
    assert!(matches!(
        index.search(&[1.0], 3, None),
        Err(IndexError::Dimension { .. })
    ));
    Ok(())
}

#[test]
fn persists_appends_removals_and_survives_a_torn_append() -> Result<()> {
    let dir = tempfile::tempdir().map_err(IndexError::io("tempdir"))?;
    let path = dir.path().join("vectors.papers");
    let query = unit(&[1.0, 0.0, 0.0, 0.0]);
    {
        let mut index = DenseIndex::open(&path, "test", 4)?;
        for (key, vector) in sample().into_iter().take(4) {
            index.upsert(key, &vector)?;
        }
        index.commit(7)?;
        for (key, vector) in sample().into_iter().skip(4) {
            index.upsert(key, &vector)?;
        }
        index.remove(100);
        index.upsert(101, &unit(&[0.0, 0.0, 0.0, 1.0]))?;
        index.commit(9)?;
        // Uncommitted work must not survive.
        index.upsert(555, &query)?;
    }
    // A torn append: bytes after the counted rows.
    std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .and_then(|mut f| f.write_all(&[0xAB; 13]))
        .map_err(IndexError::io(&path))?;

    let mut index = DenseIndex::open(&path, "test", 4)?;
    assert_eq!(index.watermark(), 9);
    assert_eq!(index.len(), 5);
    assert!(!index.contains(100) && !index.contains(555));
    assert_eq!(keys(&index.search(&query, 2, None)?), vec![102, 103]);
    // Appending after the torn bytes overwrites them.
    index.upsert(600, &query)?;
    index.commit(10)?;
    let reopened = DenseIndex::open(&path, "test", 4)?;
    assert_eq!(keys(&reopened.search(&query, 1, None)?), vec![600]);
    assert!(matches!(
        DenseIndex::open(&path, "other-model", 4),
        Err(IndexError::ModelMismatch { .. })
    ));
    Ok(())
}

#[test]
fn rewrite_matches_the_log() -> Result<()> {
    let dir = tempfile::tempdir().map_err(IndexError::io("tempdir"))?;
    let path = dir.path().join("vectors.papers");
    let mut index = DenseIndex::open(&path, "test", 4)?;
    for round in 0..3 {
        for (key, vector) in sample() {
            index.upsert(key + round, &vector)?;
        }
        index.commit(round)?;
    }
    let query = unit(&[0.5, 0.5, 0.0, 0.0]);
    let before = index.search(&query, 8, None)?;
    index.rewrite(&path, 42)?;
    let after = DenseIndex::open(&path, "test", 4)?;
    assert_eq!(after.search(&query, 8, None)?, before);
    assert_eq!(after.watermark(), 42);
    Ok(())
}

// The HNSW path. The graph threshold is lowered so a few hundred vectors use it;
// vectors come from a fixed-seed generator, so every run sees the same graph
// inputs (usearch inserts on several threads, so the graph itself may differ
// between runs: the assertions hold for any graph).

/// A small deterministic generator (SplitMix64) for random unit vectors.
struct Vectors(u64);

impl Vectors {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn unit(&mut self, dim: usize) -> Vec<f32> {
        let values: Vec<f32> = (0..dim)
            .map(|_| (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32 - 0.5)
            .collect();
        unit(&values)
    }
}

fn graph_options() -> DenseOptions {
    DenseOptions {
        graph_threshold: 100,
        ..DenseOptions::default()
    }
}

const DIM: usize = 32;

/// An index at `path` in graph mode holding keys 0..n.
fn graph_index(path: &Path, n: u64, seed: u64) -> Result<(DenseIndex, Vec<Vec<f32>>)> {
    let mut index = DenseIndex::open_with(path, "test", DIM, graph_options())?;
    let mut generator = Vectors(seed);
    let vectors: Vec<Vec<f32>> = (0..n).map(|_| generator.unit(DIM)).collect();
    for (key, vector) in vectors.iter().enumerate() {
        index.upsert(key as u64, vector)?;
    }
    index.commit(1)?;
    assert_eq!(index.method(), "hnsw");
    Ok((index, vectors))
}

fn tempdir() -> Result<tempfile::TempDir> {
    tempfile::tempdir().map_err(IndexError::io("tempdir"))
}

#[test]
fn graph_recall_against_the_exact_scan() -> Result<()> {
    let mut generator = Vectors(7);
    let mut exact = DenseIndex::in_memory("test", DIM)?;
    let mut graph = DenseIndex::in_memory("test", DIM)?;
    graph.set_options(graph_options());
    for key in 0..3_000 {
        let vector = generator.unit(DIM);
        exact.upsert(key, &vector)?;
        graph.upsert(key, &vector)?;
    }
    graph.commit(0)?;
    assert_eq!((exact.method(), graph.method()), ("exact", "hnsw"));
    let (mut overlap, mut total) = (0, 0);
    for _ in 0..100 {
        let query = generator.unit(DIM);
        let truth = keys(&exact.search(&query, 10, None)?);
        let found = graph.search(&query, 10, None)?;
        // Scores on the graph path come from the exact kernel.
        for hit in &found {
            assert_eq!(exact.similarity(&query, hit.key), Some(hit.score));
        }
        overlap += found.iter().filter(|h| truth.contains(&h.key)).count();
        total += truth.len();
    }
    let recall = overlap as f64 / total as f64;
    assert!(recall >= 0.99, "recall@10 {recall}");
    Ok(())
}

/// `options` with every filter above a [`EXACT_FILTER_DIVISOR`]th of the graph
/// walking it (the default).
fn walking(options: DenseOptions) -> DenseOptions {
    DenseOptions {
        filter_scan_limit: 0,
        ..options
    }
}

/// `options` with every filter scored exactly.
fn scanning(options: DenseOptions) -> DenseOptions {
    DenseOptions {
        filter_scan_limit: usize::MAX,
        ..options
    }
}

#[test]
fn graph_filters_apply_during_the_search() -> Result<()> {
    let dir = tempdir()?;
    let (mut index, vectors) = graph_index(&dir.path().join("vectors.papers"), 2_000, 11)?;
    let query = &vectors[5];
    // A broad filter (every other key) goes through the graph walk by default and
    // through exact scoring of the allowed keys under a scan limit; a narrow one (1 in 100) is scored exactly either way. Every plan must
    // return k allowed keys, which a post-filter of the unfiltered top k would not.
    for options in [walking(graph_options()), scanning(graph_options())] {
        index.set_options(options);
        for step in [2, 100] {
            let allowed_keys: Vec<u64> = (0..2_000).step_by(step).collect();
            let allowed = index.row_set(&allowed_keys);
            let found = index.search(query, 10, Some(&allowed))?;
            assert_eq!(found.len(), 10, "step {step}");
            assert!(
                found.iter().all(|h| h.key % step as u64 == 0),
                "step {step}"
            );
            let truth = index.search_exact(query, 10, &allowed_keys)?;
            let overlap = found.iter().filter(|h| truth.contains(h)).count();
            assert!(overlap >= 9, "step {step}: {overlap}/10");
        }
        // `similar` excludes the paper itself and honours the filter.
        let allowed = index.row_set(&(0..2_000).step_by(2).collect::<Vec<_>>());
        let similar = index.similar(4, 5, Some(&allowed))?.unwrap_or_default();
        assert_eq!(similar.len(), 5);
        assert!(similar.iter().all(|h| h.key != 4 && h.key % 2 == 0));
    }
    Ok(())
}

/// Recall@10 of filtered similar lists against the exact filtered scan, for a
/// large filter (a quarter of the papers) on one side of the space and query papers
/// from the other side, where a filtered walk has the most trouble: scoring the
/// allowed papers (under a scan limit) must do at least as well as the walk.
#[test]
fn large_filters_keep_their_recall() -> Result<()> {
    let dir = tempdir()?;
    let (mut index, vectors) = graph_index(&dir.path().join("vectors.papers"), 4_000, 23)?;
    let mut by_side: Vec<(f32, u64)> = vectors
        .iter()
        .zip(0u64..)
        .map(|(vector, key)| (vector[0], key))
        .collect();
    by_side.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let allowed_keys: Vec<u64> = by_side[..1_000].iter().map(|(_, key)| *key).collect();
    let queries: Vec<u64> = by_side[3_000..]
        .iter()
        .step_by(10)
        .map(|(_, key)| *key)
        .collect();
    let allowed = index.row_set(&allowed_keys);
    let mut recall = Vec::new();
    for options in [walking(graph_options()), scanning(graph_options())] {
        index.set_options(options);
        let (mut overlap, mut total) = (0, 0);
        for &key in &queries {
            // The paper's own vector as stored (f16), as `similar` reads it.
            let own: Vec<f32> = index
                .vector(key)
                .unwrap_or_default()
                .iter()
                .map(|x| x.to_f32())
                .collect();
            let truth = index.search_exact(&own, 10, &allowed_keys)?;
            let found = index.similar(key, 10, Some(&allowed))?.unwrap_or_default();
            assert!(found.iter().all(|hit| allowed_keys.contains(&hit.key)));
            let truth = keys(&truth);
            overlap += found.iter().filter(|hit| truth.contains(&hit.key)).count();
            total += truth.len();
        }
        recall.push(overlap as f64 / total as f64);
    }
    let (walk, scan) = (recall[0], recall[1]);
    assert!(
        scan >= walk && scan >= 0.99,
        "recall@10: scan {scan}, walk {walk}"
    );
    Ok(())
}

#[test]
fn quantised_queries_score_by_cosine() {
    let mut generator = Vectors(5);
    for _ in 0..20 {
        let (query, other) = (generator.unit(DIM), generator.unit(DIM));
        let exact: f32 = query.iter().zip(&other).map(|(a, b)| a * b).sum();
        let largest = other.iter().fold(0.0_f32, |m, x| m.max(x.abs()));
        let stored: Vec<i8> = other
            .iter()
            .map(|x| (x * 127.0 / largest).round() as i8)
            .collect();
        let scored = hnsw::QuantisedQuery::new(&query).cosine(&stored);
        assert!((scored - exact).abs() < 0.02, "{scored} vs {exact}");
    }
}

#[test]
fn graph_updates_removals_and_reopen() -> Result<()> {
    let dir = tempdir()?;
    let path = dir.path().join("vectors.papers");
    let target = unit(&[1.0; DIM]);
    {
        let (mut index, _) = graph_index(&path, 500, 3)?;
        index.upsert(7, &target)?;
        index.remove(8);
        index.upsert(9_999, &target)?;
        index.commit(2)?;
        assert_eq!(index.len(), 500);
        assert!(!index.contains(8));
        let top = keys(&index.search(&target, 2, None)?);
        assert_eq!(top, vec![7, 9_999]);
        // Uncommitted work must not survive the reopen.
        index.remove(7);
    }
    // The snapshot covers the first commit; the second is replayed from the log.
    let index = DenseIndex::open_with(&path, "test", DIM, graph_options())?;
    assert!(index.opened_from_snapshot());
    assert_eq!(
        (index.method(), index.len(), index.watermark()),
        ("hnsw", 500, 2)
    );
    assert!(!index.contains(8) && index.contains(7));
    assert_eq!(keys(&index.search(&target, 2, None)?), vec![7, 9_999]);
    Ok(())
}

#[test]
fn torn_or_stale_graph_snapshots_are_rebuilt() -> Result<()> {
    let dir = tempdir()?;
    let path = dir.path().join("vectors.papers");
    let (graph_path, meta_path) = hnsw::snapshot_paths(&path);
    let (mut index, vectors) = graph_index(&path, 400, 5)?;
    index.checkpoint()?;
    drop(index);
    let whole = DenseIndex::open_with(&path, "test", DIM, graph_options())?;
    assert!(whole.opened_from_snapshot());
    drop(whole);
    let expected = |index: &DenseIndex| -> Result<()> {
        assert!(!index.opened_from_snapshot(), "a bad snapshot was used");
        assert_eq!((index.method(), index.len()), ("hnsw", 400));
        assert_eq!(index.search(&vectors[17], 1, None)?[0].key, 17);
        Ok(())
    };
    // A flipped byte in the middle of the graph file.
    let mut bytes = std::fs::read(&graph_path).map_err(IndexError::io(&graph_path))?;
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xFF;
    std::fs::write(&graph_path, &bytes).map_err(IndexError::io(&graph_path))?;
    expected(&DenseIndex::open_with(&path, "test", DIM, graph_options())?)?;
    // The rebuild wrote a fresh snapshot; now truncate it.
    let length = std::fs::metadata(&graph_path)
        .map_err(IndexError::io(&graph_path))?
        .len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&graph_path)
        .and_then(|f| f.set_len(length / 3))
        .map_err(IndexError::io(&graph_path))?;
    expected(&DenseIndex::open_with(&path, "test", DIM, graph_options())?)?;
    // A whole, valid snapshot of another log (as after a crash midway through a
    // reindex's swap).
    let other = tempdir()?;
    let other_path = other.path().join("vectors.papers");
    drop(graph_index(&other_path, 400, 6)?);
    let (other_graph, other_meta) = hnsw::snapshot_paths(&other_path);
    for (from, to) in [(&other_graph, &graph_path), (&other_meta, &meta_path)] {
        std::fs::copy(from, to).map_err(IndexError::io(to))?;
    }
    expected(&DenseIndex::open_with(&path, "test", DIM, graph_options())?)?;
    // A corrupt meta file.
    let mut meta = std::fs::read(&meta_path).map_err(IndexError::io(&meta_path))?;
    meta[30] ^= 1;
    std::fs::write(&meta_path, &meta).map_err(IndexError::io(&meta_path))?;
    expected(&DenseIndex::open_with(&path, "test", DIM, graph_options())?)?;
    std::fs::remove_file(&meta_path).map_err(IndexError::io(&meta_path))?;
    expected(&DenseIndex::open_with(&path, "test", DIM, graph_options())?)?;
    // Below the threshold the same log opens as an exact index.
    let small = DenseIndex::open_with(&path, "test", DIM, DenseOptions::default())?;
    assert_eq!(small.method(), "exact");
    assert_eq!(small.search(&vectors[17], 1, None)?[0].key, 17);
    Ok(())
}

#[test]
fn graph_log_compaction_keeps_the_snapshot_valid() -> Result<()> {
    let dir = tempdir()?;
    let path = dir.path().join("vectors.papers");
    let (mut index, _) = graph_index(&path, 300, 9)?;
    let mut generator = Vectors(99);
    // Rewriting every vector repeatedly makes superseded rows most of the log.
    for round in 0..6 {
        for key in 0..300 {
            index.upsert(key, &generator.unit(DIM))?;
        }
        index.commit(10 + round)?;
    }
    let query = generator.unit(DIM);
    let all: Vec<u64> = (0..300).collect();
    let before = index.search_exact(&query, 5, &all)?;
    drop(index);
    let reopened = DenseIndex::open_with(&path, "test", DIM, graph_options())?;
    assert!(reopened.opened_from_snapshot());
    assert_eq!(reopened.watermark(), 15);
    assert_eq!(reopened.len(), 300);
    assert_eq!(reopened.search_exact(&query, 5, &all)?, before);
    assert_eq!(keys(&reopened.search(&query, 5, None)?), keys(&before));
    let log_rows = read_header(&path)?.rows;
    assert!(log_rows < 1_500, "log was not compacted: {log_rows} rows");
    Ok(())
}

#[test]
fn like_one_paper_not_another_moves_away_from_the_other() -> Result<()> {
    let mut index = DenseIndex::in_memory("test", 4)?;
    // 2 and 3 are equally close to 1, on either side of it; 4 is far on 3's side.
    index.upsert(1, &unit(&[1.0, 0.0, 0.0, 0.0]))?;
    index.upsert(2, &unit(&[0.9, 0.3, 0.0, 0.0]))?;
    index.upsert(3, &unit(&[0.9, -0.3, 0.0, 0.0]))?;
    index.upsert(4, &unit(&[0.5, -0.8, 0.0, 0.0]))?;
    index.upsert(5, &unit(&[0.0, 0.0, 1.0, 0.0]))?;
    index.commit(1)?;
    let plain = keys(&index.similar(1, 2, None)?.unwrap_or_default());
    assert!(plain.contains(&2) && plain.contains(&3), "{plain:?}");
    // Unlike 2: 3 and 4, which lie away from 2, come first; 2 and 1 never.
    let unlike = keys(&index.similar_unlike(1, 2, 3, None)?.unwrap_or_default());
    assert_eq!(unlike[..2], [3, 4]);
    assert!(!unlike.contains(&2) && !unlike.contains(&1));
    // Filters hold, and a paper without a vector gives nothing.
    let allowed = index.row_set(&[4, 5]);
    assert_eq!(
        keys(
            &index
                .similar_unlike(1, 2, 3, Some(&allowed))?
                .unwrap_or_default()
        ),
        vec![4, 5]
    );
    assert!(index.similar_unlike(1, 99, 3, None)?.is_none());
    Ok(())
}
