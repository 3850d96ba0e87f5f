//! Topic builds on real papers: a stride sample of the 2020 arXiv set with the
//! reference model's vectors (`PAPERS_SHARED`), small enough to keep CI fast.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use papers_topics::{BuildOptions, Corpus, Texts, TopicMap, build};

const RECORDS: &str = "data/arxiv-kaggle-format/arxiv-archive-2020.jsonl.gz";
const VECTORS: &str = "reference/arxiv-2020-minilm/vectors.f16";
const DIM: usize = 384;

/// Every `stride`-th paper of the 2020 set (offset `offset`), with its primary category.
fn sample(root: &Path, stride: usize, offset: usize) -> (Corpus, Vec<String>) {
    let file = std::fs::File::open(root.join(RECORDS)).expect("records");
    let lines = BufReader::new(flate2::read::GzDecoder::new(file)).lines();
    let mut vectors = Vec::new();
    std::fs::File::open(root.join(VECTORS))
        .expect("vectors")
        .read_to_end(&mut vectors)
        .expect("read vectors");
    let mut corpus = Corpus::new(DIM);
    let mut labels = Vec::new();
    for (row, line) in lines.enumerate() {
        if row % stride != offset {
            continue;
        }
        let record: serde_json::Value = serde_json::from_str(&line.expect("line")).expect("json");
        let text = |field: &str| record[field].as_str().unwrap_or_default().trim().to_owned();
        let vector: Vec<f32> = vectors[row * DIM * 2..(row + 1) * DIM * 2]
            .chunks_exact(2)
            .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect();
        let published = record["versions"][0]["created"]
            .as_str()
            .and_then(|s| DateTime::parse_from_rfc2822(s).ok())
            .map(|t| t.date_naive());
        corpus.push(
            row as i64 + 1,
            &vector,
            format!("{}\n{}", text("title"), text("abstract")),
            published,
        );
        labels.push(
            text("categories")
                .split(' ')
                .next()
                .unwrap_or("")
                .to_owned(),
        );
    }
    (corpus, labels)
}

fn built_at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .expect("time")
}

/// Normalised mutual information (arithmetic mean), as scikit-learn computes it.
fn nmi(a: &[String], b: &[u32]) -> f64 {
    let n = a.len() as f64;
    let mut joint: HashMap<(&str, u32), f64> = HashMap::new();
    let mut left: HashMap<&str, f64> = HashMap::new();
    let mut right: HashMap<u32, f64> = HashMap::new();
    for (x, &y) in a.iter().zip(b) {
        *joint.entry((x, y)).or_default() += 1.0;
        *left.entry(x).or_default() += 1.0;
        *right.entry(y).or_default() += 1.0;
    }
    let entropy = |counts: Vec<f64>| -counts.iter().map(|c| c / n * (c / n).ln()).sum::<f64>();
    let mutual: f64 = joint
        .iter()
        .map(|((x, y), c)| c / n * (c * n / (left[x] * right[y])).ln())
        .sum();
    mutual
        / ((entropy(left.into_values().collect()) + entropy(right.into_values().collect())) / 2.0)
}

#[test]
fn a_sample_of_the_2020_set_clusters_into_named_topics() {
    let Some(root) = papers_testkit::shared_dir(VECTORS) else {
        return;
    };
    let (corpus, labels) = sample(&root, 25, 0);
    assert_eq!(corpus.len(), 3073);
    let map = build(
        &corpus,
        "test-model",
        built_at(),
        None,
        &BuildOptions::default(),
    )
    .expect("build");

    // About √N/8 broad topics, each split again; every paper placed in both levels.
    let broad: Vec<_> = map.broad().collect();
    assert_eq!(broad.len(), 7);
    assert_eq!(map.papers.len(), corpus.len());
    assert_eq!(broad.iter().map(|t| t.size).sum::<usize>(), corpus.len());
    for topic in &broad {
        let children: Vec<_> = map.children(topic.id).collect();
        assert!(
            children.len() >= 2,
            "{} has {} subtopics",
            topic.name,
            children.len()
        );
        assert_eq!(children.iter().map(|t| t.size).sum::<usize>(), topic.size);
        assert!(map.contains(topic.id, topic.representative));
        assert!(topic.terms.len() >= 5, "{:?}", topic.terms);
        assert!(topic.position.iter().all(|v| (0.0..=1.0).contains(v)));
    }
    assert!(map.papers.iter().all(|m| m.subtopic.is_some()));
    // Ids are distinct over both levels.
    let mut ids: Vec<u32> = map.topics.iter().map(|t| t.id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), map.topics.len());

    // The broad level agrees with arXiv's categories well beyond chance (a random
    // split into 7 scores about 0.01 here).
    let assigned: Vec<u32> = map.papers.iter().map(|m| m.topic).collect();
    let score = nmi(&labels, &assigned);
    assert!(score > 0.3, "NMI {score:.3}");

    // Names say what the papers are about: most top papers' titles carry a top term.
    let Texts::Held(texts) = &corpus.texts else {
        panic!("the sample holds its texts");
    };
    let titles: HashMap<i64, String> = corpus
        .keys
        .iter()
        .zip(texts)
        .map(|(k, t)| (*k, t.lines().next().unwrap_or("").to_lowercase()))
        .collect();
    let (mut hits, mut total) = (0, 0);
    for topic in &map.topics {
        for member in map.members(topic.id).into_iter().take(10) {
            total += 1;
            let title = &titles[&member.key];
            hits += usize::from(
                topic
                    .terms
                    .iter()
                    .take(5)
                    .any(|t| title.contains(t.as_str())),
            );
        }
    }
    let share = hits as f64 / total as f64;
    assert!(share > 0.5, "label share {share:.2}");

    eprintln!(
        "topics: NMI {score:.3}, label share {share:.2}; {}",
        broad
            .iter()
            .map(|t| t.name.as_str())
            .collect::<Vec<_>>()
            .join(" | ")
    );
}

#[test]
fn ids_survive_a_rebuild_and_the_map_round_trips() {
    let Some(root) = papers_testkit::shared_dir(VECTORS) else {
        return;
    };
    let (first, _) = sample(&root, 40, 1);
    let options = BuildOptions::default();
    let before = build(&first, "test-model", built_at(), None, &options).expect("build");
    // The same corpus and some more papers, clustered from another random start.
    let (more, _) = sample(&root, 40, 2);
    let Texts::Held(more_texts) = &more.texts else {
        panic!("the sample holds its texts");
    };
    let mut grown = first.clone();
    for (row, text) in more_texts.iter().enumerate().take(more.len() / 10) {
        let vector: Vec<f32> = more.vectors[row * DIM..(row + 1) * DIM]
            .iter()
            .map(|v| v.to_f32())
            .collect();
        grown.push(more.keys[row], &vector, text.clone(), more.published[row]);
    }
    let mut reseeded = options.clone();
    reseeded.cluster.seed = 99;
    let after = build(&grown, "test-model", built_at(), Some(&before), &reseeded).expect("rebuild");

    // Most papers keep their broad topic id (topics shift a little between runs, but
    // their ids follow them).
    let kept = first
        .keys
        .iter()
        .filter(|key| {
            before.topics_of(**key).map(|m| m.topic) == after.topics_of(**key).map(|m| m.topic)
        })
        .count();
    assert!(
        kept * 10 >= first.len() * 7,
        "{kept} of {} kept their topic",
        first.len()
    );
    // New ids start past every old one.
    let old_max = before.topics.iter().map(|t| t.id).max().unwrap_or(0);
    for topic in &after.topics {
        if before.topic(topic.id).is_none() {
            assert!(topic.id > old_max);
        }
    }
    assert!(after.next_id > old_max);

    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("topics.json");
    assert!(TopicMap::load(&path).expect("load").is_none());
    after.save(&path).expect("save");
    let loaded = TopicMap::load(&path).expect("load").expect("a map");
    assert_eq!(loaded, after);
    assert_eq!(
        loaded.topic(after.topics[0].id).map(|t| &t.name),
        Some(&after.topics[0].name)
    );
}

#[test]
fn growth_compares_the_last_four_weeks_with_the_year_before() {
    let Some(root) = papers_testkit::shared_dir(VECTORS) else {
        return;
    };
    let (corpus, _) = sample(&root, 50, 3);
    let map = build(
        &corpus,
        "test-model",
        built_at(),
        None,
        &BuildOptions::default(),
    )
    .expect("build");
    let today = NaiveDate::from_ymd_opt(2026, 1, 1).expect("day");
    // The corpus ends in 2020: the window ends after its newest paper.
    let end = map.growth_reference(today);
    assert_eq!(Some(end.pred_opt().expect("day")), map.newest_day());
    let growth = map.growth(today);
    assert_eq!(growth.len(), map.topics.len());
    let window = end - chrono::Duration::days(28);
    for g in &growth {
        let recent = map
            .members(g.topic)
            .iter()
            .filter(|m| m.published.is_some_and(|d| d >= window && d < end))
            .count();
        assert_eq!(g.recent, recent);
        let expected = (recent as f64 + 1.0) / (g.baseline + 1.0) - 1.0;
        assert!((g.growth - expected).abs() < 1e-9);
    }
    let rising = map.rising(today, 5);
    assert!(rising.windows(2).all(|w| w[0].growth >= w[1].growth));
    assert!(rising.iter().all(|g| g.recent >= 3 && g.growth > 0.0));
    // Monthly counts add up to the dated papers.
    let topic = map.broad().next().expect("a topic");
    let months = map.monthly(topic.id);
    let dated = map
        .members(topic.id)
        .iter()
        .filter(|m| m.published.is_some())
        .count();
    assert_eq!(months.iter().map(|(_, n)| n).sum::<usize>(), dated);
}
