//! For you's quality on the 2020 arXiv set with the reference all-MiniLM-L6-v2
//! vectors: simulated members each upvote 5 random papers of one arXiv primary
//! category; the figure is the share of that category in their top 20 For you papers
//! ([`papers_rank::recommend::for_you`], as the site ranks: the recent papers of the
//! last 30 days before `now`, 300 evenly spaced other papers as the classifier's "not
//! this"), against its share in the top 20 of the plain trending feed over the same
//! recent papers, which is the same for every member. The set has no upvotes, so the
//! trending feed is its rule with every paper entering the feed on its arXiv day and
//! no votes: newest first.
//!
//! Usage: `for_you_bench SHARED_DIR [MEMBERS_PER_CATEGORY] [CATEGORIES] [SEED]`
//! (defaults 5, 10, 2020; run through `bench/for-you.sh`). Exits non-zero when For
//! you does no better than trending, so a broken ranking cannot pass.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, Read};
use std::path::PathBuf;
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use papers_rank::recommend::for_you::{Candidate, Inputs, Liked, Params, Signal, for_you};
use papers_rank::trending;

const DIM: usize = 384;
const RECORDS: &str = "data/arxiv-kaggle-format/arxiv-archive-2020.jsonl.gz";
const VECTORS: &str = "reference/arxiv-2020-minilm/vectors.f16";
const TOP: usize = 20;
const UPVOTES: usize = 5;
const BACKGROUND: usize = 300;

struct Paper {
    key: i64,
    primary: String,
    categories: Vec<String>,
    published: Option<DateTime<Utc>>,
    vector: Vec<f32>,
}

/// xorshift64: a fixed seed gives the same members on every run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let shared = PathBuf::from(
        args.get(1)
            .ok_or("usage: for_you_bench SHARED_DIR [MEMBERS_PER_CATEGORY] [CATEGORIES] [SEED]")?,
    );
    let per_category: usize = args.get(2).map_or(Ok(5), |a| a.parse())?;
    let wanted_categories: usize = args.get(3).map_or(Ok(10), |a| a.parse())?;
    let seed: u64 = args.get(4).map_or(Ok(2020), |a| a.parse())?;

    let started = Instant::now();
    let papers = load(&shared)?;
    println!(
        "papers: {} distinct (by title and abstract) of 76,803 lines, loaded in {:.1} s",
        papers.len(),
        started.elapsed().as_secs_f64()
    );
    let newest = papers
        .iter()
        .filter_map(|p| p.published)
        .max()
        .ok_or("no dates")?;
    let now = newest + Duration::days(1);
    let params = Params::default();
    let oldest = now - Duration::days(params.window_days);
    let recent: Vec<&Paper> = papers
        .iter()
        .filter(|p| p.published.is_some_and(|at| at >= oldest))
        .collect();
    let recent_keys: HashSet<i64> = recent.iter().map(|p| p.key).collect();
    println!(
        "now: {} (the day after the newest paper); recent papers (last {} days): {}",
        now.date_naive(),
        params.window_days,
        recent.len()
    );

    // The plain trending feed over the recent papers: the same for every member.
    let trending_top: Vec<&Paper> =
        trending::rank(recent.iter().copied(), now, |p| trending::Candidate {
            upvotes: 0,
            entered: p.published,
            published: p.published,
            key: p.key,
        })
        .into_iter()
        .take(TOP)
        .map(|r| r.item)
        .collect();

    // The categories with the most recent papers (enough to fill a top 20), largest
    // first; members upvote papers of one of them from the whole set.
    let mut recent_per_category: HashMap<&str, usize> = HashMap::new();
    for paper in &recent {
        *recent_per_category
            .entry(paper.primary.as_str())
            .or_default() += 1;
    }
    let mut categories: Vec<(&str, usize)> = recent_per_category
        .into_iter()
        .filter(|(_, n)| *n >= TOP)
        .collect();
    categories.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    categories.truncate(wanted_categories);

    let background: Vec<(i64, &[f32])> = {
        let others: Vec<&Paper> = papers
            .iter()
            .filter(|p| !recent_keys.contains(&p.key))
            .collect();
        let step = (others.len() / BACKGROUND).max(1);
        others
            .iter()
            .step_by(step)
            .take(BACKGROUND)
            .map(|p| (p.key, p.vector.as_slice()))
            .collect()
    };
    let candidates: Vec<Candidate<'_>> = recent
        .iter()
        .map(|p| Candidate {
            key: p.key,
            vector: Some(&p.vector),
            categories: &p.categories,
            published: p.published,
            trending: 0.0,
        })
        .collect();
    let by_key: HashMap<i64, &Paper> = papers.iter().map(|p| (p.key, p)).collect();

    let mut rng = Rng(seed.max(1));
    let mut rows = Vec::new();
    let (mut sum_for_you, mut sum_trending, mut sum_base, mut members) = (0.0, 0.0, 0.0, 0);
    let ranking_started = Instant::now();
    for (category, recent_count) in &categories {
        let pool: Vec<&Paper> = papers.iter().filter(|p| p.primary == *category).collect();
        let trending_share = share(trending_top.iter().map(|p| p.primary.as_str()), category);
        let base = *recent_count as f64 / recent.len() as f64;
        let mut shares = Vec::new();
        for _ in 0..per_category {
            let mut upvoted: Vec<&Paper> = Vec::new();
            while upvoted.len() < UPVOTES.min(pool.len()) {
                let pick = pool[rng.below(pool.len())];
                if !upvoted.iter().any(|p| p.key == pick.key) {
                    upvoted.push(pick);
                }
            }
            let liked: Vec<Liked<'_>> = upvoted
                .iter()
                .map(|p| Liked {
                    key: p.key,
                    signal: Signal::Upvoted,
                    vector: &p.vector,
                })
                .collect();
            let inputs = Inputs {
                liked: &liked,
                less: &[],
                less_without_vectors: &[],
                background: &background,
                picked: &[],
                candidates: &candidates,
            };
            let ranked = for_you(&inputs, now, TOP, &params);
            let top = ranked
                .iter()
                .filter_map(|r| by_key.get(&r.key))
                .map(|p| p.primary.as_str());
            shares.push(share(top, category));
        }
        let mean = shares.iter().sum::<f64>() / shares.len() as f64;
        sum_for_you += shares.iter().sum::<f64>();
        sum_trending += trending_share * shares.len() as f64;
        sum_base += base * shares.len() as f64;
        members += shares.len();
        rows.push(format!(
            "{category:<16} {recent_count:>7} {:>9.1} % {:>11.1} % {:>10.1} %",
            base * 100.0,
            trending_share * 100.0,
            mean * 100.0
        ));
    }
    let seconds = ranking_started.elapsed().as_secs_f64();
    println!(
        "members: {members} ({per_category} per category, {} categories, seed {seed}), each upvoting {UPVOTES} random papers of its category",
        categories.len()
    );
    println!(
        "{:<16} {:>7} {:>11} {:>13} {:>12}",
        "category", "recent", "in recent", "trending@20", "for-you@20"
    );
    for row in rows {
        println!("{row}");
    }
    let mean = |sum: f64| sum / members.max(1) as f64 * 100.0;
    println!(
        "{:<16} {:>7} {:>9.1} % {:>11.1} % {:>10.1} %",
        "mean (members)",
        "",
        mean(sum_base),
        mean(sum_trending),
        mean(sum_for_you)
    );
    println!(
        "ranking: {:.1} ms per member (train + score {} candidates)",
        seconds * 1000.0 / members.max(1) as f64,
        candidates.len()
    );
    if sum_for_you <= sum_trending {
        return Err("For you does no better than the trending feed".into());
    }
    Ok(())
}

/// The share of `category` among `primaries` (of `TOP` places).
fn share<'a>(primaries: impl Iterator<Item = &'a str>, category: &str) -> f64 {
    primaries.filter(|p| *p == category).count() as f64 / TOP as f64
}

/// The distinct papers (by title and abstract) with their reference vectors.
fn load(shared: &std::path::Path) -> Result<Vec<Paper>, Box<dyn std::error::Error>> {
    let mut bytes = Vec::new();
    std::fs::File::open(shared.join(VECTORS))?.read_to_end(&mut bytes)?;
    let file = std::fs::File::open(shared.join(RECORDS))?;
    let reader = std::io::BufReader::new(flate2::read::GzDecoder::new(file));
    let mut seen = HashSet::new();
    let mut papers = Vec::new();
    for (row, line) in reader.lines().enumerate() {
        let value: serde_json::Value = serde_json::from_str(&line?)?;
        let text = |name: &str| value[name].as_str().unwrap_or_default().trim().to_owned();
        if !seen.insert(format!("{}\n{}", text("title"), text("abstract"))) {
            continue;
        }
        let vector: Vec<f32> = bytes
            .get(row * DIM * 2..(row + 1) * DIM * 2)
            .ok_or("fewer vectors than records")?
            .chunks_exact(2)
            .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect();
        let published = value["versions"][0]["created"]
            .as_str()
            .and_then(|s| DateTime::parse_from_rfc2822(s).ok())
            .map(|t| t.with_timezone(&Utc));
        let categories: Vec<String> = text("categories")
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        papers.push(Paper {
            key: row as i64 + 1,
            primary: categories.first().cloned().unwrap_or_default(),
            categories,
            published,
            vector,
        });
    }
    Ok(papers)
}
