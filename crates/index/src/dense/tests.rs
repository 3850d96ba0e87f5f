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
