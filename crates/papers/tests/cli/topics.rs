//! `papers topics` and `papers reindex` over real papers with the reference model's
//! vectors stored under the installed model's identity: the map lands in the data
//! directory, names its topics, and a rebuild keeps every id.

use std::io::{BufRead, BufReader, Read};

use papers_core::ArxivId;
use papers_store::Store;

use crate::common::{data, ingest, papers, shared, succeed};

/// Kaggle lines ingested: a few topics' worth, fast to cluster.
const LINES: usize = 2_000;
const DIM: usize = 384;

#[test]
fn topics_are_built_saved_and_keep_their_ids_across_rebuilds() {
    let Some(shared) = shared() else { return };
    let Some(model) = papers_testkit::model() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let store_dir = dir.path().join("data");
    // The first lines of the 2020 file, and the reference vectors of the same rows.
    let source = data(&shared, "arxiv-kaggle-format/arxiv-archive-2020.jsonl.gz");
    let reader = BufReader::new(flate2::read::GzDecoder::new(
        std::fs::File::open(&source).expect("Kaggle file"),
    ));
    let lines: Vec<String> = reader
        .lines()
        .take(LINES)
        .map(|line| line.expect("line"))
        .collect();
    let slice = dir.path().join("slice.jsonl");
    std::fs::write(&slice, lines.join("\n")).expect("slice");
    ingest(&store_dir, &[&slice]);
    let mut bytes = vec![0u8; LINES * DIM * 2];
    std::fs::File::open(shared.join("reference/arxiv-2020-minilm/vectors.f16"))
        .expect("vectors")
        .read_exact(&mut bytes)
        .expect("read");
    let with_model = |args: &[&str]| {
        let mut command = papers(&store_dir);
        command.arg("--model").arg(&model).args(args);
        succeed(command)
    };
    let model_id = with_model(&["model", "info"])
        .lines()
        .find_map(|line| line.strip_prefix("model"))
        .map(|id| id.trim().to_owned())
        .expect("model id in `model info`");
    {
        let mut store = Store::open(&store_dir).expect("store");
        let mut rows = Vec::new();
        for (row, line) in lines.iter().enumerate() {
            let record: serde_json::Value = serde_json::from_str(line).expect("json");
            let Ok(id) = ArxivId::parse(record["id"].as_str().unwrap_or_default()) else {
                continue;
            };
            let Some(paper) = store.paper(&id).expect("paper") else {
                continue;
            };
            let vector: Vec<f32> = bytes[row * DIM * 2..(row + 1) * DIM * 2]
                .chunks_exact(2)
                .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect();
            rows.push((paper.key, vector));
        }
        rows.sort_by_key(|(key, _)| *key);
        rows.dedup_by_key(|(key, _)| *key);
        store
            .put_embeddings(&model_id, &rows, chrono::Utc::now())
            .expect("vectors");
    }

    let output = with_model(&["topics"]);
    let first = output.lines().next().unwrap_or_default().to_owned();
    let clustered: usize = first
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("paper count first");
    assert!(clustered > 1_500, "{output}");
    let broad = papers_topics::build::broad_count(clustered);
    assert!(
        first.contains(&format!(" papers: {broad} topics, ")),
        "{output}"
    );
    assert_eq!(output.lines().count(), broad + 1, "{output}");
    let map = papers_topics::TopicMap::load(&store_dir.join("index/topics.json"))
        .expect("readable")
        .expect("saved");
    assert_eq!(map.model, model_id);
    assert!(map.broad().all(|topic| output.contains(&topic.name)));

    // Rebuilt from the same vectors: every topic keeps its id.
    let json: serde_json::Value =
        serde_json::from_str(&with_model(&["topics", "--json"])).expect("json");
    let ids: Vec<u64> = json
        .as_array()
        .expect("array")
        .iter()
        .map(|t| t["id"].as_u64().expect("id"))
        .collect();
    let before: Vec<u64> = map.topics.iter().map(|t| u64::from(t.id)).collect();
    assert_eq!(ids, before);

    // `papers reindex` rebuilds the map with the indexes.
    std::fs::remove_file(store_dir.join("index/topics.json")).expect("remove");
    let output = with_model(&["reindex"]);
    assert!(output.contains(&format!("into {broad} topics")), "{output}");
    assert!(store_dir.join("index/topics.json").exists());
}
