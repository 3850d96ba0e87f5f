//! SCALE TEST of the dense index alone, for `bench/dense-scale.sh`: N random unit
//! vectors (384-d) in a vector log and its HNSW graph, then the memory a fresh
//! process needs to open and search them. This is how the 3-million-paper memory
//! figure is measured without a 3-million-paper store.
//!
//! Random vectors are the hard case for a graph (no clusters to follow), so the
//! latencies are pessimistic; only speed and memory are measured, never quality.

use std::path::Path;
use std::time::Instant;

use anyhow::bail;
use papers_index::dense::DenseIndex;

use super::{SplitMix, memory, percentiles};

const DIM: usize = 384;
const MODEL: &str = "SCALE TEST random vectors";
const BATCH: usize = 100_000;

/// Appends random vectors to `DIR/vectors.papers` up to `n`, in commits of 100,000.
pub fn build(dir: &Path, n: usize) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    let started = Instant::now();
    let mut index = DenseIndex::open(&dir.join("vectors.papers"), MODEL, DIM)?;
    let mut random = SplitMix(3_000_000);
    let mut key = index.len() as u64;
    while (key as usize) < n {
        let end = (key as usize + BATCH).min(n) as u64;
        for k in key..end {
            index.upsert(k, &random.unit(DIM))?;
        }
        index.commit(end)?;
        key = end;
        eprintln!(
            "{key} vectors, {} path, {:.0}s",
            index.method(),
            started.elapsed().as_secs_f64()
        );
    }
    index.checkpoint()?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "built {} papers in {seconds:.0}s = {:.0} papers/s ({} path)",
        index.len(),
        index.len() as f64 / seconds,
        index.method()
    );
    Ok(())
}

/// Opens the index in this fresh process, reports its memory, and times
/// `queries` random searches and as many similar-paper lookups.
pub fn open(dir: &Path, queries: usize) -> anyhow::Result<()> {
    println!("before open: {}", memory());
    let started = Instant::now();
    let index = DenseIndex::open(&dir.join("vectors.papers"), MODEL, DIM)?;
    println!(
        "opened {} papers ({} path{}) in {:.1}s, {} B/paper by its account",
        index.len(),
        index.method(),
        if index.opened_from_snapshot() {
            ", from its snapshot"
        } else {
            ""
        },
        started.elapsed().as_secs_f64(),
        index.bytes_per_paper()
    );
    println!("after open: {}", memory());
    let mut random = SplitMix(7);
    let mut times = Vec::new();
    let mut short = 0;
    for _ in 0..queries {
        let query = random.unit(DIM);
        let t = Instant::now();
        let hits = index.search(&query, 100, None)?;
        times.push(t.elapsed());
        short += usize::from(hits.len() < 100);
    }
    let (p50, p99) = percentiles(times);
    println!("search top 100  p50={p50:.2}ms p99={p99:.2}ms ({queries} random queries)");
    let mut times = Vec::new();
    for _ in 0..queries {
        let key = random.next() % index.len() as u64;
        let t = Instant::now();
        let hits = index.similar(key, 10, None)?.unwrap_or_default();
        times.push(t.elapsed());
        short += usize::from(hits.len() < 10);
    }
    let (p50, p99) = percentiles(times);
    println!("similar top 10  p50={p50:.2}ms p99={p99:.2}ms ({queries} stored papers)");
    println!("after searches: {}", memory());
    if short > 0 {
        bail!("{short} searches returned too few results");
    }
    Ok(())
}
