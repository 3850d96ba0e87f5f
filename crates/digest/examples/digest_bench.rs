//! Digest bench: composes the digests of 100,000 confirmed subscribers over the full
//! store (Kaggle 2020 archive plus the Hugging Face feed days), then delivers a few
//! thousand digests to a local aiosmtpd, and prints both figures. It asserts on what
//! it measured, so a broken run cannot print a good number.
//!
//!     cargo run --release -p papers-digest --example digest_bench -- \
//!         [--data-dir DIR] [--subscribers 100000] [--deliver 3000] [--smtp-port PORT]
//!
//! The store in DIR is built on the first run and reused after. Without
//! `--smtp-port` the delivery part is skipped. `bench/digest.sh` runs it all.

#[path = "../tests/digest/load.rs"]
mod load;

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Instant;

use chrono::{DateTime, NaiveDate, Utc};
use papers_digest::{
    Digests, Frequency, Links, MemberVotes, NoDelivery, PublicUrl, Report, Secret, SendRequest,
    Settings, SmtpConfig, SourceError, Sources, SubscribeRequest, TermSearch,
};
use papers_store::Store;

const MODEL: &str = "bench-hashed-words-384";
// Daily covers Wednesday 2024-01-10, weekly covers 2024-W01 (1 to 7 January).
const AS_OF: &str = "2024-01-11";

const CATEGORIES: &[&str] = &[
    "cs.CL",
    "cs.CV",
    "cs.LG",
    "cs.AI",
    "stat.ML",
    "cs",
    "hep-th",
    "quant-ph",
    "math.AG",
    "cond-mat.str-el",
    "astro-ph.GA",
    "cs.RO",
    "eess.AS",
    "math",
    "physics.optics",
];
const TOPICS: &[&str] = &[
    "language model",
    "diffusion",
    "reinforcement learning",
    "\"text to image\"",
    "video",
    "benchmark",
    "agents",
    "retrieval",
    "speech",
    "robot",
    "3D",
    "transformer",
    "instruction tuning",
    "code generation",
    "multimodal",
    "reasoning",
    "alignment",
    "quantization",
    "mixture of experts",
    "segmentation",
];

struct Options {
    data_dir: PathBuf,
    subscribers: usize,
    deliver: usize,
    smtp_port: Option<u16>,
}

fn options() -> Options {
    let mut options = Options {
        data_dir: std::env::temp_dir().join("papers-digest-bench"),
        subscribers: 100_000,
        deliver: 3_000,
        smtp_port: None,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let value = pair.get(1).map(String::as_str).unwrap_or_default();
        match pair[0].as_str() {
            "--data-dir" => options.data_dir = PathBuf::from(value),
            "--subscribers" => options.subscribers = value.parse().expect("--subscribers N"),
            "--deliver" => options.deliver = value.parse().expect("--deliver N"),
            "--smtp-port" => options.smtp_port = Some(value.parse().expect("--smtp-port N")),
            other => panic!("unknown option {other}"),
        }
    }
    options
}

fn now() -> DateTime<Utc> {
    "2024-01-15T12:00:00Z".parse().expect("valid time")
}

/// Upvotes of the bench's members: member `u` upvoted a run of papers on one topic.
struct BenchVotes(HashMap<i64, Vec<i64>>);

impl MemberVotes for BenchVotes {
    fn upvoted(&self, _store: &Store, user_id: i64) -> Result<Vec<i64>, SourceError> {
        Ok(self.0.get(&user_id).cloned().unwrap_or_default())
    }
}

fn fill_store(store: &mut Store, kaggle: bool) {
    let started = Instant::now();
    let mut batch = store.begin_ingest(now()).expect("batch");
    let mut count = 0;
    if kaggle {
        load::kaggle(&load::shared(load::KAGGLE_FILE), |record| {
            batch.upsert(record).expect("upsert");
            count += 1;
        });
    }
    for file in load::hf_days("2023-01-01", "2025-01-01") {
        for record in load::hf_day(&file) {
            batch.upsert(record).expect("upsert");
            count += 1;
        }
    }
    batch.commit().expect("commit");
    let mut vectors = Vec::new();
    store
        .for_each_paper(|paper| {
            let text = format!(
                "{} {}",
                paper.paper.metadata.title, paper.paper.metadata.abstract_text
            );
            vectors.push((paper.key, load::hashed_embedding(&text)));
        })
        .expect("papers");
    for chunk in vectors.chunks(5_000) {
        store
            .put_embeddings(MODEL, chunk, now())
            .expect("embeddings");
    }
    store.checkpoint().expect("checkpoint");
    eprintln!(
        "store: {count} records, {} vectors in {:.1}s",
        vectors.len(),
        started.elapsed().as_secs_f64()
    );
}

/// Creates `count` confirmed subscribers; every tenth is a member with upvotes.
fn add_subscribers(
    store: &mut Store,
    digests: &Digests,
    count: usize,
    votes: &mut HashMap<i64, Vec<i64>>,
) {
    let started = Instant::now();
    let mut feed_keys = Vec::new();
    store
        .for_each_paper(|paper| {
            if paper.paper.community.feed_day.is_some() {
                feed_keys.push(paper.key);
            }
        })
        .expect("papers");
    let existing = store
        .confirmed_subscriptions(Frequency::Weekly)
        .expect("read")
        .len()
        + store
            .confirmed_subscriptions(Frequency::Daily)
            .expect("read")
            .len();
    for n in existing..count {
        let member = n % 10 == 0;
        let request = SubscribeRequest {
            email: format!("reader{n}@bench.example.org"),
            frequency: if n % 3 == 0 {
                Frequency::Daily
            } else {
                Frequency::Weekly
            },
            categories: (0..n % 4)
                .map(|i| CATEGORIES[(n * 7 + i * 3) % CATEGORIES.len()].to_owned())
                .collect(),
            queries: (0..n % 3)
                .map(|i| {
                    let topic = TOPICS[(n * 5 + i * 11) % TOPICS.len()];
                    // One in five queries is unique to its subscriber, so the cache of
                    // shared queries does not make the figure.
                    if n % 5 == 0 {
                        format!("{topic} {}", TOPICS[n % 7])
                    } else {
                        topic.to_owned()
                    }
                })
                .collect(),
            owner: member.then_some(n as i64),
        };
        let subscribed = digests
            .subscribe(store, &request, now())
            .expect("subscribe");
        store
            .confirm_subscription(subscribed.subscription.id, now())
            .expect("confirm");
    }
    for n in (0..count).step_by(10) {
        let start = (n * 13) % feed_keys.len().max(1);
        let upvotes = 5 + n % 25;
        votes.insert(
            n as i64,
            feed_keys
                .iter()
                .cycle()
                .skip(start)
                .take(upvotes)
                .copied()
                .collect(),
        );
    }
    eprintln!(
        "subscribers: {count} ({} new) in {:.1}s",
        count - existing.min(count),
        started.elapsed().as_secs_f64()
    );
}

fn run(
    digests: &Digests,
    store: &mut Store,
    votes: &BenchVotes,
    frequency: Frequency,
    dry_run: bool,
    deliver: &dyn papers_digest::Deliver,
) -> Report {
    let sources = Sources {
        search: &TermSearch,
        votes,
    };
    let as_of: NaiveDate = AS_OF.parse().expect("date");
    let request = SendRequest {
        frequency,
        as_of,
        now: now(),
        dry_run,
    };
    digests
        .send_digests(store, deliver, &sources, &request)
        .expect("send runs")
}

fn digests_for(base: &str) -> Digests {
    let links = Links::new(
        PublicUrl::parse(base).expect("url"),
        Secret::new(*b"bench secret, 32 bytes long.....").expect("secret"),
    );
    Digests::new(links, Settings::new(MODEL)).expect("digests")
}

fn main() {
    let options = options();
    let digests = digests_for("https://papers.example.org");
    let mut store = Store::open(&options.data_dir).expect("store");
    if store.stats().expect("stats").papers < 70_000 {
        fill_store(&mut store, true);
    }
    let papers = store.stats().expect("stats").papers;
    let mut votes = HashMap::new();
    add_subscribers(&mut store, &digests, options.subscribers, &mut votes);
    let votes = BenchVotes(votes);

    // Composition: every digest composed and rendered, nothing mailed or recorded.
    let started = Instant::now();
    let mut composed = 0;
    let mut reports = Vec::new();
    for frequency in [Frequency::Daily, Frequency::Weekly] {
        let report = run(&digests, &mut store, &votes, frequency, true, &NoDelivery);
        composed += report.subscribers;
        reports.push(report);
    }
    let compose_seconds = started.elapsed().as_secs_f64();
    for report in &reports {
        eprintln!(
            "{}: {} subscribers, {} digests, {} empty, {} failed",
            report.period_key,
            report.subscribers,
            report.sent,
            report.skipped_empty,
            report.failed.len()
        );
        assert!(
            report.failed.is_empty(),
            "composition failed: {:?}",
            &report.failed[..1]
        );
        assert!(
            report.sent > report.subscribers / 2,
            "most digests have something"
        );
    }
    assert_eq!(composed, options.subscribers);
    println!(
        "compose: {composed} subscribers over {papers} papers in {compose_seconds:.1} s ({:.0} digests/s)",
        composed as f64 / compose_seconds
    );

    if let Some(port) = options.smtp_port {
        deliver(&options, port, &votes);
    }
}

/// Delivery: a fresh store with the feed days and `--deliver` subscribers, sent for
/// real to the SMTP server on `port`.
fn deliver(options: &Options, port: u16, votes: &BenchVotes) {
    let dir = tempfile::TempDir::new().expect("temp dir");
    let digests = digests_for("https://papers.example.org");
    let mut store = Store::open(dir.path()).expect("store");
    fill_store(&mut store, false);
    let mut unused = HashMap::new();
    add_subscribers(&mut store, &digests, options.deliver, &mut unused);
    let config = SmtpConfig::new(
        &format!("smtp://127.0.0.1:{port}"),
        None,
        "Daily Papers <papers@papers.example.org>",
        "https://papers.example.org",
    )
    .expect("config");
    let mailer = papers_digest::Mailer::new(&config).expect("mailer");
    let started = Instant::now();
    let mut sent = 0;
    let mut deliver_seconds = 0.0;
    for frequency in [Frequency::Daily, Frequency::Weekly] {
        let report = run(&digests, &mut store, votes, frequency, false, &mailer);
        assert!(
            report.failed.is_empty(),
            "delivery failed: {:?}",
            &report.failed[..1]
        );
        sent += report.sent;
        deliver_seconds += report.deliver_seconds;
    }
    let total = started.elapsed().as_secs_f64();
    assert!(sent > options.deliver / 2, "most digests were sent");
    println!(
        "deliver: {sent} messages to 127.0.0.1:{port} in {total:.1} s: {:.0} messages/s end to end (compose, record, SMTP), {:.0} messages/s SMTP alone",
        sent as f64 / total,
        sent as f64 / deliver_seconds
    );
}
