//! SCALE TEST of the dense index alone, for `bench/dense-scale.sh`: N random unit
//! vectors (384-d) in a vector log and its HNSW graph, then the memory a fresh
//! process needs to open and search them.
//!
//! ```text
//! dense_scale build DIR N        append N vectors in commits of 100,000
//! dense_scale open DIR QUERIES   reopen, report memory, time QUERIES searches
//! ```
//!
//! Random vectors are the hard case for a graph (no clusters to follow), so the
//! latencies are pessimistic; only speed and memory are measured, never quality.

use std::path::Path;
use std::time::{Duration, Instant};

use papers_index::dense::DenseIndex;

const DIM: usize = 384;
const MODEL: &str = "SCALE TEST random vectors";
const BATCH: usize = 100_000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| {
        args.get(i)
            .map(String::as_str)
            .ok_or("usage: see examples/dense_scale.rs")
    };
    let path = Path::new(arg(1)?).join("vectors.papers");
    match arg(0)? {
        "build" => build(&path, arg(2)?.parse()?),
        "open" => open(&path, arg(2)?.parse()?),
        other => Err(format!("unknown step {other:?}").into()),
    }
}

/// SplitMix64 with roughly normal draws: unit vectors uniform on the sphere.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn unit(&mut self) -> Vec<f32> {
        let mut v: Vec<f32> = (0..DIM)
            .map(|_| {
                (0..4)
                    .map(|_| (self.next() >> 40) as f32 / (1u64 << 24) as f32)
                    .sum::<f32>()
                    - 2.0
            })
            .collect();
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter_mut().for_each(|x| *x /= norm);
        v
    }
}

fn build(path: &Path, n: usize) -> Result<(), Box<dyn std::error::Error>> {
    std::fs::create_dir_all(path.parent().ok_or("path")?)?;
    let started = Instant::now();
    let mut index = DenseIndex::open(path, MODEL, DIM)?;
    let mut random = Random(3_000_000);
    let mut key = index.len() as u64;
    while (key as usize) < n {
        let end = (key as usize + BATCH).min(n) as u64;
        for k in key..end {
            index.upsert(k, &random.unit())?;
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

/// Lines of /proc/self/status that say where memory goes, as "name value".
fn memory() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .filter(|l| {
            ["VmHWM", "VmRSS", "RssAnon", "RssFile"]
                .iter()
                .any(|p| l.starts_with(p))
        })
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join(", ")
}

fn percentiles(mut times: Vec<Duration>) -> (f64, f64) {
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize].as_secs_f64() * 1e3;
    (at(0.50), at(0.99))
}

fn open(path: &Path, queries: usize) -> Result<(), Box<dyn std::error::Error>> {
    println!("before open: {}", memory());
    let started = Instant::now();
    let index = DenseIndex::open(path, MODEL, DIM)?;
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
    let mut random = Random(7);
    let mut times = Vec::new();
    let mut empty = 0;
    for _ in 0..queries {
        let query = random.unit();
        let t = Instant::now();
        let hits = index.search(&query, 100, None)?;
        times.push(t.elapsed());
        empty += usize::from(hits.len() < 100);
    }
    let (p50, p99) = percentiles(times);
    println!("search top 100  p50={p50:.2}ms p99={p99:.2}ms ({queries} random queries)");
    let mut times = Vec::new();
    for _ in 0..queries {
        let key = random.next() % index.len() as u64;
        let t = Instant::now();
        let hits = index.similar(key, 10, None)?.unwrap_or_default();
        times.push(t.elapsed());
        empty += usize::from(hits.len() < 10);
    }
    let (p50, p99) = percentiles(times);
    println!("similar top 10  p50={p50:.2}ms p99={p99:.2}ms ({queries} stored papers)");
    println!("after searches: {}", memory());
    if empty > 0 {
        return Err(format!("{empty} searches returned too few results").into());
    }
    Ok(())
}
