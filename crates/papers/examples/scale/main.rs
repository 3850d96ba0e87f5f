//! SCALE TEST helper for `bench/scale.sh`: synthetic records, their vectors, and
//! search timing over a data directory built by `papers ingest` and `papers index`.
//!
//! Everything this generates is synthetic and exists only to measure speed and
//! memory at a million papers (issue 7): titles and abstracts are recombined from
//! the real Kaggle-format records, ids are `YYMM.NNNNN` from 8101 on (the 2080s, so they
//! can never be real), and the stored vectors are either random unit vectors (the
//! worst case for the HNSW graph) or made from the real reference embeddings of the
//! records each text was recombined from (see structured.rs), never the embedding
//! of the synthetic text itself. No quality figure is ever measured on this data.
//! Query vectors do come from the real embedder, and their embedding is inside the
//! timing.
//!
//! ```text
//! scale generate N KAGGLE.jsonl.gz OUT.jsonl
//! scale vectors DATA_DIR MODEL_DIR [random | mixed REFERENCE.f16 KAGGLE.jsonl.gz]
//! scale reference-vectors DATA_DIR MODEL_DIR KAGGLE.jsonl.gz VECTORS.f16
//! scale search DATA_DIR MODEL_DIR KAGGLE.jsonl.gz QUERIES [default|exact|hnsw] [HITS_OUT]
//!                                HITS_OUT: each query's dense and hybrid top 10 as
//!                                KEY:SCORE, one line per query and mode, for recall@10
//!                                of one dense path against another
//! scale dense-build DIR N [random | mixed REFERENCE.f16 | real REFERENCE.f16]
//!                                the dense index alone: N vectors (see dense.rs)
//! scale dense-open DIR QUERIES   reopen it, report memory, time QUERIES searches
//! ```
//!
//! `search` takes the graph walk's search expansion from `SCALE_EXPANSION` when set.
//!
//! `search` exits non-zero when the searches stop returning results, so a fast
//! but broken index cannot pass.
//!
//! `reference-vectors` is not synthetic: it stores the shared reference vectors of
//! the real 2020 set (sentence-transformers' all-MiniLM-L6-v2, the same model the
//! embedder matches at cosine ≥ 0.999) so that `bench/web.sh` serves a fully
//! embedded store without first embedding 76,803 abstracts.

use std::io::{BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use papers_embed::{EmbedOptions, Embedder};
use papers_index::{DenseOptions, ParsedQuery, SearchConfig, SearchMode, Searcher};
use papers_store::Store;

mod dense;
mod structured;

use structured::Reference;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| {
        args.get(i)
            .map(String::as_str)
            .context("missing argument (see the usage in examples/scale/main.rs)")
    };
    match arg(0)? {
        "generate" => generate(arg(1)?.parse()?, Path::new(arg(2)?), Path::new(arg(3)?)),
        "vectors" => vectors(Path::new(arg(1)?), Path::new(arg(2)?), &args[3..]),
        "reference-vectors" => reference_vectors(
            Path::new(arg(1)?),
            Path::new(arg(2)?),
            Path::new(arg(3)?),
            Path::new(arg(4)?),
        ),
        "search" => search(
            Path::new(arg(1)?),
            Path::new(arg(2)?),
            Path::new(arg(3)?),
            arg(4)?.parse()?,
            args.get(5).map_or("default", String::as_str),
            args.get(6).map(Path::new),
        ),
        "dense-build" => dense::build(Path::new(arg(1)?), arg(2)?.parse()?, &args[3..]),
        "dense-open" => dense::open(Path::new(arg(1)?), arg(2)?.parse()?),
        other => bail!("unknown step {other:?}"),
    }
}

/// A small deterministic generator (SplitMix64): the same run gives the same data.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(SPLITMIX_GAMMA);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// Roughly normal (sum of uniforms), for directions uniform on the sphere.
    fn normal(&mut self) -> f32 {
        (0..4)
            .map(|_| (self.next() >> 40) as f32 / (1u64 << 24) as f32)
            .sum::<f32>()
            - 2.0
    }

    /// A random unit vector: directions uniform on the sphere.
    fn unit(&mut self, dim: usize) -> Vec<f32> {
        let vector: Vec<f32> = (0..dim).map(|_| self.normal()).collect();
        let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
        vector.iter().map(|x| x / norm).collect()
    }
}

fn read_records(path: &Path) -> anyhow::Result<Vec<serde_json::Value>> {
    let file = std::fs::File::open(path).with_context(|| format!("{}", path.display()))?;
    let reader = std::io::BufReader::new(flate2::read::GzDecoder::new(file));
    reader
        .lines()
        .map(|line| Ok(serde_json::from_str(&line?)?))
        .collect()
}

fn text<'a>(record: &'a serde_json::Value, field: &str) -> &'a str {
    record[field].as_str().unwrap_or_default()
}

fn words(text: &str) -> Vec<&str> {
    text.split_whitespace().collect()
}

/// The `i`th synthetic id: 100,000 a month from January 2081 (years up to 2090
/// read as 20YY; 91-99 would be the 1990s, before new-style ids).
fn synthetic_id(i: usize) -> String {
    let month = i / 100_000;
    format!(
        "{}{:02}.{:05}",
        81 + month / 12,
        month % 12 + 1,
        i % 100_000
    )
}

/// The position of synthetic id `id` among the generated records (the inverse of
/// [`synthetic_id`]).
fn synthetic_index(id: &str) -> Option<usize> {
    let (yymm, number) = id.split_once('.')?;
    let (yy, mm): (usize, usize) = (yymm.get(..2)?.parse().ok()?, yymm.get(2..)?.parse().ok()?);
    let month = (yy.checked_sub(81)?) * 12 + mm.checked_sub(1)?;
    Some(month * 100_000 + number.parse::<usize>().ok()?)
}

/// Seed of the draws that choose each synthetic record's two real records.
const GENERATE_SEED: u64 = 2099;
/// SplitMix64's increment: its state after k draws is the seed plus k of these.
const SPLITMIX_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// The two real records (of `real` lines) synthetic record `i` is recombined from:
/// draws 2i and 2i+1 of SplitMix(GENERATE_SEED), computed directly so that the
/// vectors step finds them again from the id alone.
fn sources(i: usize, real: usize) -> (usize, usize) {
    let mut random =
        SplitMix(GENERATE_SEED.wrapping_add((2 * i as u64).wrapping_mul(SPLITMIX_GAMMA)));
    (random.below(real), random.below(real))
}

/// Writes `n` Kaggle-format records: title = the first half of one real title and
/// the second half of another, abstract = the first half of one real abstract's
/// sentences and the second half of another's; authors, categories and dates come
/// from the first record.
fn generate(n: usize, kaggle: &Path, out: &Path) -> anyhow::Result<()> {
    if n > 12_000_000 {
        bail!("at most 12,000,000 synthetic ids (2081-2090, 100,000 a month)");
    }
    let records = read_records(kaggle)?;
    let mut writer = BufWriter::with_capacity(1 << 20, std::fs::File::create(out)?);
    for i in 0..n {
        let (a, b) = sources(i, records.len());
        let (a, b) = (&records[a], &records[b]);
        let (title_a, title_b) = (words(text(a, "title")), words(text(b, "title")));
        let title = [
            &title_a[..title_a.len().div_ceil(2)],
            &title_b[title_b.len() / 2..],
        ]
        .concat()
        .join(" ");
        let (abstract_a, abstract_b) = (
            sentences(text(a, "abstract")),
            sentences(text(b, "abstract")),
        );
        let abstract_text = [
            &abstract_a[..abstract_a.len().div_ceil(2)],
            &abstract_b[abstract_b.len() / 2..],
        ]
        .concat()
        .join(" ");
        let record = serde_json::json!({
            "id": synthetic_id(i),
            "submitter": a["submitter"],
            "authors": a["authors"],
            "title": title,
            "comments": "SCALE TEST: synthetic record recombined from real arXiv metadata",
            "journal-ref": null,
            "doi": null,
            "report-no": null,
            "categories": a["categories"],
            "license": null,
            "abstract": abstract_text,
            "versions": a["versions"],
            "update_date": a["update_date"],
            "authors_parsed": a["authors_parsed"],
        });
        serde_json::to_writer(&mut writer, &record)?;
        writer.write_all(b"\n")?;
    }
    writer.flush()?;
    println!(
        "generated {n} SCALE TEST records from {} real ones",
        records.len()
    );
    Ok(())
}

fn sentences(text: &str) -> Vec<&str> {
    text.split_inclusive(". ")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

fn load_embedder(model_dir: &Path) -> anyhow::Result<Embedder> {
    Ok(Embedder::load_with(model_dir, EmbedOptions::default())?)
}

/// The id and dimension vectors of the model in `model_dir` are stored under.
fn model_identity(model_dir: &Path) -> anyhow::Result<(String, usize)> {
    let embedder = load_embedder(model_dir)?;
    Ok((embedder.model_id().to_owned(), embedder.dim()))
}

/// Stores a vector for every paper, under the real model's id so that `papers
/// index` indexes them as that model's vectors: random unit vectors (`random`, the
/// worst case for the graph), or with `mixed REFERENCE.f16 KAGGLE.jsonl.gz` each
/// synthetic paper's vector made from the real embeddings of the two records its
/// text was recombined from (see structured.rs).
fn vectors(data_dir: &Path, model_dir: &Path, kind: &[String]) -> anyhow::Result<()> {
    let (model, dim) = model_identity(model_dir)?;
    let reference = match kind {
        [] => None,
        [random] if random == "random" => None,
        [mixed, reference, kaggle] if mixed == "mixed" => {
            let real = read_records(Path::new(kaggle))?.len();
            Some(Reference::read(Path::new(reference), dim, real)?)
        }
        other => bail!("vectors: expected `random` or `mixed REFERENCE KAGGLE`, got {other:?}"),
    };
    let mut store = Store::open(data_dir)?;
    let mut papers = Vec::new();
    store.for_each_paper(|paper| {
        papers.push((paper.key, synthetic_index(paper.paper.id.as_str())))
    })?;
    let started = Instant::now();
    let mut random = SplitMix(384);
    for chunk in papers.chunks(10_000) {
        let rows = chunk
            .iter()
            .map(|&(key, index)| match (&reference, index) {
                (None, _) => Ok((key, random.unit(dim))),
                (Some(reference), Some(i)) => Ok((key, reference.mixed(i, &mut random))),
                (Some(_), None) => bail!("paper {key} has no synthetic id"),
            })
            .collect::<anyhow::Result<Vec<(i64, Vec<f32>)>>>()?;
        store.put_embeddings(&model, &rows, chrono::Utc::now())?;
    }
    let seconds = started.elapsed().as_secs_f64();
    let what = if reference.is_some() {
        "vectors mixed from the real embeddings of their source records"
    } else {
        "random unit vectors"
    };
    println!(
        "stored {} {what} ({dim}-d, SCALE TEST) in {seconds:.1}s = {:.0} vectors/s",
        papers.len(),
        papers.len() as f64 / seconds
    );
    Ok(())
}

/// Stores row i of the reference vectors (f16) for the paper on line i of the Kaggle
/// file; an id that appears twice gets its last row, like its stored metadata.
fn reference_vectors(
    data_dir: &Path,
    model_dir: &Path,
    kaggle: &Path,
    vectors: &Path,
) -> anyhow::Result<()> {
    let (model, dim) = model_identity(model_dir)?;
    let bytes = std::fs::read(vectors).with_context(|| format!("reading {}", vectors.display()))?;
    let row_bytes = dim * 2;
    let mut store = Store::open(data_dir)?;
    let mut rows: Vec<(i64, Vec<f32>)> = Vec::new();
    // Read as `papers ingest` reads it, so ids come out as they were stored (the
    // file has float-mangled ones that ingest repairs).
    let records = papers_ingest::open(kaggle, papers_ingest::Format::KaggleJsonl)?;
    for (line_number, positioned) in records.enumerate() {
        let id = positioned?.record.id;
        let row = bytes
            .get(line_number * row_bytes..(line_number + 1) * row_bytes)
            .with_context(|| format!("{} has no row {line_number}", vectors.display()))?;
        let vector = row
            .chunks_exact(2)
            .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect();
        if let Some(paper) = store.paper(&id)? {
            rows.push((paper.key, vector));
        }
    }
    let count = rows.len();
    for chunk in rows.chunks(10_000) {
        store.put_embeddings(&model, chunk, chrono::Utc::now())?;
    }
    println!(
        "stored {count} reference vectors ({dim}-d) from {}",
        vectors.display()
    );
    Ok(())
}

fn percentiles(mut times: Vec<Duration>) -> (f64, f64) {
    times.sort();
    let at = |q: f64| {
        times[((times.len() as f64 * q) as usize).min(times.len() - 1)].as_secs_f64() * 1e3
    };
    (at(0.50), at(0.99))
}

/// Queries: the first three to six words of real titles (every k-th record). Only
/// the titles are kept, so the records do not inflate the memory measured after.
fn queries(kaggle: &Path, count: usize) -> anyhow::Result<Vec<String>> {
    let titles: Vec<String> = read_records(kaggle)?
        .iter()
        .map(|record| text(record, "title").to_owned())
        .collect();
    let stride = (titles.len() / count.max(1)).max(1);
    Ok(titles
        .iter()
        .step_by(stride)
        .take(count)
        .enumerate()
        .map(|(i, title)| {
            let title = title.replace(['$', '\\', '{', '}', '"', ':'], " ");
            words(&title)
                .into_iter()
                .take(3 + i % 4)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect())
}

/// Where this process's memory is: RssAnon is what it must keep; RssFile is
/// memory-mapped index files the kernel pages in and may evict again.
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

fn search(
    data_dir: &Path,
    model_dir: &Path,
    kaggle: &Path,
    count: usize,
    method: &str,
    hits_out: Option<&Path>,
) -> anyhow::Result<()> {
    // The queries first: reading them parses the whole Kaggle file, whose heap the
    // allocator may keep; the memory lines below are then the model's and the
    // indexes' growth over that.
    let texts = queries(kaggle, count)?;
    println!("memory with the queries read: {}", memory());
    let embedder = load_embedder(model_dir)?;
    println!("memory with the model loaded: {}", memory());
    // The dense path: the default (by size), or one forced for comparison.
    let graph_threshold = match method {
        "default" => DenseOptions::default().graph_threshold,
        "exact" => usize::MAX,
        "hnsw" => 0,
        other => bail!("unknown dense method {other:?}"),
    };
    let mut options = DenseOptions {
        graph_threshold,
        ..DenseOptions::default()
    };
    // SCALE_EXPANSION: the graph walk's search expansion instead of the default, to
    // see what a wider walk buys in recall and costs in time at this size.
    if let Ok(expansion) = std::env::var("SCALE_EXPANSION") {
        options.hnsw.expansion_search = expansion
            .parse()
            .with_context(|| format!("SCALE_EXPANSION={expansion:?} is not a number"))?;
    }
    let started = Instant::now();
    let index_dir: PathBuf = data_dir.join("index");
    let mut searcher =
        Searcher::open_with(&index_dir, embedder.model_id(), embedder.dim(), options)?;
    // Random vectors have cosines near 0, which the relevance cutoff would drop,
    // leaving less work than real queries do: time the pipeline with the cutoff
    // off, so every query fuses ten hits and makes their snippets.
    searcher.set_config(SearchConfig {
        cutoff: papers_rank::cutoff::Cutoff::OFF,
        ..SearchConfig::default()
    });
    let searcher = searcher;
    let dense = searcher.dense();
    println!(
        "opened {} papers ({} dense{}, {} B/paper of vector memory) in {:.1}s",
        dense.len(),
        dense.method(),
        if dense.opened_from_snapshot() {
            " from its snapshot"
        } else {
            ""
        },
        dense.bytes_per_paper(),
        started.elapsed().as_secs_f64()
    );
    println!("memory with the indexes open: {}", memory());
    let parsed: Vec<ParsedQuery> = texts.iter().map(|t| ParsedQuery::parse(t)).collect();
    let embed = |query: &ParsedQuery| -> anyhow::Result<Vec<f32>> {
        let mut vectors = embedder.embed(&[query.embedding_text().as_str()])?;
        vectors.pop().context("no vector")
    };
    // Warm the page cache, the model and the CPU before timing.
    for query in parsed.iter().take(20) {
        searcher.search(query, Some(&embed(query)?), SearchMode::Hybrid, 10)?;
    }
    let mut empty = 0;
    let mut lines = Vec::new();
    // "MODE QUERY_INDEX KEY:SCORE ...": the unfiltered dense and hybrid top 10.
    let mut hit_lines = Vec::new();
    for (label, mode, filter) in [
        ("lexical", SearchMode::Lexical, None),
        ("dense", SearchMode::Dense, None),
        ("hybrid", SearchMode::Hybrid, None),
        ("hybrid cat:cs.LG", SearchMode::Hybrid, Some("cat:cs.LG")),
        (
            "hybrid cat:math.AG",
            SearchMode::Hybrid,
            Some("cat:math.AG"),
        ),
    ] {
        let mut times = Vec::with_capacity(parsed.len());
        for query in &parsed {
            let mut query = query.clone();
            if let Some(filter) = filter {
                query.filters = ParsedQuery::parse(filter).filters;
            }
            let t = Instant::now();
            let vector = match mode {
                SearchMode::Lexical => None,
                _ => Some(embed(&query)?),
            };
            let results = searcher.search(&query, vector.as_deref(), mode, 10)?;
            // The site's request: the hits, then the snippets of the ten it shows.
            searcher.snippets(&results.hits, &query)?;
            times.push(t.elapsed());
            if filter.is_none() && results.hits.is_empty() {
                empty += 1;
            }
            if filter.is_none() && mode != SearchMode::Lexical {
                let pairs: Vec<String> = results
                    .hits
                    .iter()
                    .map(|h| format!("{}:{}", h.key, h.score))
                    .collect();
                hit_lines.push(format!("{label} {} {}", times.len(), pairs.join(" ")));
            }
        }
        let (p50, p99) = percentiles(times);
        let embedding = if mode == SearchMode::Lexical {
            ""
        } else {
            ", query embedding included"
        };
        lines.push(format!(
            "{label:<20} p50={p50:7.2}ms p99={p99:7.2}ms  ({} queries, top 10 with snippets{embedding})",
            parsed.len()
        ));
    }
    // The dense index alone, query vectors precomputed.
    let vectors: Vec<Vec<f32>> = parsed.iter().map(embed).collect::<anyhow::Result<_>>()?;
    let mut times = Vec::new();
    for vector in &vectors {
        let t = Instant::now();
        let found = dense.search(vector, 100, None)?;
        times.push(t.elapsed());
        if found.len() < 100.min(dense.len()) {
            bail!("the dense index returned {} of 100 neighbours", found.len());
        }
    }
    let (p50, p99) = percentiles(times);
    lines.push(format!(
        "dense index only     p50={p50:7.2}ms p99={p99:7.2}ms  (top 100, {} path, vector given)",
        dense.method()
    ));
    let mut embed_times = Vec::new();
    for query in &parsed {
        let t = Instant::now();
        embed(query)?;
        embed_times.push(t.elapsed());
    }
    let (p50, p99) = percentiles(embed_times);
    lines.push(format!(
        "query embedding      p50={p50:7.2}ms p99={p99:7.2}ms  (real MiniLM embedder, one query at a time)"
    ));
    for line in &lines {
        println!("{line}");
    }
    println!("memory after the searches: {}", memory());
    if let Some(path) = hits_out {
        std::fs::write(path, hit_lines.join("\n") + "\n")
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if empty * 10 > parsed.len() {
        bail!("{empty} of {} queries returned nothing", parsed.len());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_index_inverts_synthetic_id() {
        for i in [0, 1, 99_999, 100_000, 1_199_999, 1_200_000, 11_999_999] {
            assert_eq!(
                synthetic_index(&synthetic_id(i)),
                Some(i),
                "{}",
                synthetic_id(i)
            );
        }
        assert_eq!(synthetic_index("2001.00001"), None);
        assert_eq!(synthetic_index("not an id"), None);
    }

    /// The vectors step finds each record's sources from its id alone, so they must be
    /// the draws one sequential generator gives, two a record.
    #[test]
    fn sources_are_the_sequential_draws() {
        let real = 76_803;
        let mut sequential = SplitMix(GENERATE_SEED);
        for i in 0..1_000 {
            let expected = (sequential.below(real), sequential.below(real));
            assert_eq!(sources(i, real), expected, "record {i}");
        }
    }
}
