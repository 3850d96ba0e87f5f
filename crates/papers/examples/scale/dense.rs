//! SCALE TEST of the dense index alone, for `bench/dense-scale.sh`: N unit vectors
//! (384-d) in a vector log and its HNSW graph, then the memory a fresh process needs
//! to open and search them. This is how the 3-million-paper memory figure is
//! measured without a 3-million-paper store.
//!
//! The vectors are random by default: the hard case for a graph (no clusters to
//! follow), so build rates and latencies are pessimistic. `mixed REFERENCE.f16`
//! builds from vectors made of real embeddings as `bench/scale.sh` stores them (see
//! structured.rs), and `real REFERENCE.f16` from the reference embeddings
//! themselves (at most their 76,803 rows), which calibrates the other two at equal
//! N. `SCALE_EXPANSION_ADD` overrides the graph's insert expansion. Only speed and
//! memory are measured, never quality.

use std::path::Path;
use std::time::Instant;

use anyhow::bail;
use papers_index::DenseOptions;
use papers_index::dense::DenseIndex;

use super::{Reference, SplitMix, memory, percentiles};

const DIM: usize = 384;
/// Rows of the reference embeddings: the 76,803 records of the real 2020 file.
const REFERENCE_ROWS: usize = 76_803;
/// The model id the vector log records: synthetic vectors of no model.
const MODEL: &str = "SCALE TEST vectors";
const BATCH: usize = 100_000;

/// Appends vectors (random unless `kind` says otherwise, see the module comment) to
/// `DIR/vectors.papers` up to `n`, in commits of 100,000.
pub fn build(dir: &Path, n: usize, kind: &[String]) -> anyhow::Result<()> {
    let (reference, real) = match kind {
        [] => (None, false),
        [random] if random == "random" => (None, false),
        [how, path] if how == "mixed" || how == "real" => {
            let reference = Reference::read(Path::new(path), DIM, REFERENCE_ROWS)?;
            if how == "real" && n > reference.len() {
                bail!("only {} real vectors", reference.len());
            }
            (Some(reference), how == "real")
        }
        other => bail!(
            "dense-build: expected `random`, `mixed REFERENCE` or `real REFERENCE`, got {other:?}"
        ),
    };
    let mut options = DenseOptions::default();
    if let Ok(expansion) = std::env::var("SCALE_EXPANSION_ADD") {
        options.hnsw.expansion_add = expansion.parse()?;
    }
    std::fs::create_dir_all(dir)?;
    let started = Instant::now();
    let mut index = DenseIndex::open_with(&dir.join("vectors.papers"), MODEL, DIM, options)?;
    let mut random = SplitMix(3_000_000);
    let mut key = index.len() as u64;
    while (key as usize) < n {
        let end = (key as usize + BATCH).min(n) as u64;
        for k in key..end {
            let vector = match &reference {
                None => random.unit(DIM),
                Some(reference) if real => reference.row(k as usize).to_vec(),
                Some(reference) => reference.mixed(k as usize, &mut random),
            };
            index.upsert(k, &vector)?;
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
        "built {} papers in {seconds:.0}s = {:.0} papers/s ({} path, {} vectors, expansion_add {})",
        index.len(),
        index.len() as f64 / seconds,
        index.method(),
        kind.first().map_or("random", String::as_str),
        options.hnsw.expansion_add
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
