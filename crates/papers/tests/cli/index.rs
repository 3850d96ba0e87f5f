//! `papers index` killed midway, then run again: it resumes where the last committed
//! batch ended, every paper ends with exactly one vector for the model, the vectors are
//! those `papers model encode` gives for the same text, and the store and the search
//! index work afterwards.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use papers_store::Store;

use crate::common::{count, data, ingest, papers, read_vectors, shared, stats, succeed};

/// Papers ingested: about six batches, so a kill after two lands well inside the run.
const PAPERS: usize = 1_500;
/// `EMBED_BATCH` in the binary: vectors are committed this many at a time.
const BATCH: u64 = 256;

/// The first `lines` records of the 2020 Kaggle file, as a file of their own.
fn kaggle_slice(shared: &Path, into: &Path, lines: usize) {
    let file = std::fs::File::open(data(
        shared,
        "arxiv-kaggle-format/arxiv-archive-2020.jsonl.gz",
    ))
    .expect("Kaggle file");
    let reader = BufReader::new(flate2::read::GzDecoder::new(file));
    let mut out = std::io::BufWriter::new(std::fs::File::create(into).expect("create slice"));
    for line in reader.lines().take(lines) {
        writeln!(out, "{}", line.expect("line")).expect("write");
    }
    out.flush().expect("flush");
}

fn with_model(data_dir: &Path, model: &Path) -> std::process::Command {
    let mut command = papers(data_dir);
    command.arg("--model").arg(model);
    command
}

#[test]
fn killed_index_resumes_and_stores_each_vector_once() {
    let Some(shared) = shared() else { return };
    let Some(model) = papers_testkit::model() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let store_dir = dir.path().join("data");
    let slice = dir.path().join("slice.jsonl");
    kaggle_slice(&shared, &slice, PAPERS);
    ingest(&store_dir, &[&slice]);
    let total = count(&stats(&store_dir), "papers");
    assert!(total > 1_200, "{total} papers");
    let info = succeed({
        let mut command = with_model(&store_dir, &model);
        command.args(["model", "info"]);
        command
    });
    let model_id = info
        .lines()
        .find_map(|line| line.strip_prefix("model"))
        .map(|id| id.trim().to_owned())
        .expect("model id in `model info`");

    // Kill once at least two batches are stored, polling the store from here.
    let mut child = with_model(&store_dir, &model)
        .arg("index")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("papers index starts");
    let observer = Store::open(&store_dir).expect("store opens beside the indexer");
    papers_testkit::wait_for("two batches of vectors", Duration::from_secs(600), || {
        let stored = total - observer.count_without_embedding(&model_id).expect("count");
        if let Some(status) = child.try_wait().expect("child status") {
            panic!("papers index ended ({status}) before it could be killed, at {stored}");
        }
        stored >= 2 * BATCH
    });
    child.kill().expect("SIGKILL");
    let status = child.wait().expect("reaped");
    assert!(!status.success(), "killed, not finished: {status}");
    drop(observer);

    // What the killed run committed: whole batches, the lowest keys first.
    let store = Store::open(&store_dir).expect("store opens after the kill");
    let embedded_before = store.embedding_keys(&model_id).expect("keys");
    let before = embedded_before.len() as u64;
    assert!(before >= 2 * BATCH && before < total, "{before} of {total}");
    assert_eq!(before % BATCH, 0, "only whole batches are committed");
    let mut all_keys = Vec::new();
    store
        .for_each_paper(|paper| all_keys.push(paper.key))
        .expect("papers");
    all_keys.sort_unstable();
    assert_eq!(embedded_before, all_keys[..before as usize]);
    drop(store);
    assert_eq!(count(&stats(&store_dir), "papers"), total);

    // The rerun embeds only the rest.
    let output = succeed({
        let mut command = with_model(&store_dir, &model);
        command.arg("index");
        command
    });
    assert!(
        output.contains(&format!("embedded {} papers", total - before)),
        "{output}"
    );
    let store = Store::open(&store_dir).expect("store opens");
    assert_eq!(
        store.embedding_keys(&model_id).expect("keys"),
        all_keys,
        "one vector per paper"
    );
    assert_eq!(store.count_without_embedding(&model_id).expect("count"), 0);

    // Stored vectors equal `papers model encode` of the same text: every twentieth paper, and
    // every paper of the batches on either side of the kill.
    let sample: Vec<i64> = all_keys
        .iter()
        .enumerate()
        .filter(|(index, _)| index % 20 == 0 || (*index as u64).abs_diff(before) < BATCH)
        .map(|(_, key)| *key)
        .collect();
    let papers = store.papers_by_keys(&sample).expect("papers");
    assert_eq!(papers.len(), sample.len());
    let input = dir.path().join("sample.jsonl");
    let lines: Vec<String> = papers
        .iter()
        .map(|paper| {
            let metadata = &paper.paper.metadata;
            let text = format!(
                "{}\n{}",
                metadata.title.trim(),
                metadata.abstract_text.trim()
            );
            serde_json::json!({ "text": text }).to_string()
        })
        .collect();
    std::fs::write(&input, lines.join("\n")).expect("write sample");
    let output = dir.path().join("sample.f32");
    succeed({
        let mut command = with_model(&store_dir, &model);
        command
            .args(["model", "encode", "--input"])
            .arg(&input)
            .arg("--output")
            .arg(&output);
        command
    });
    let encoded = read_vectors(&output, 384);
    for (paper, expected) in papers.iter().zip(&encoded) {
        let stored = store
            .embedding(&model_id, paper.key)
            .expect("read")
            .expect("stored vector");
        assert_eq!(&stored, expected, "vector of {}", paper.paper.id);
    }

    // Search: the lexical index finds a paper by its title (`--mode lexical` opens the
    // index without loading the model, under the model its vectors came from).
    let target = &papers[papers.len() / 2];
    let title = target.paper.metadata.title.replace(['\n', '"'], " ");
    let hits = succeed({
        let mut command = with_model(&store_dir, &model);
        command.args(["search", &title, "--mode", "lexical", "--json"]);
        command
    });
    let hit = hits
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .find(|hit| hit["id"] == target.paper.id.to_string());
    let hit =
        hit.unwrap_or_else(|| panic!("search for {title:?} missed {}:\n{hits}", target.paper.id));
    // Highlighted words come from the lexical index only.
    assert!(
        hit["highlights"].as_array().is_some_and(|h| !h.is_empty()),
        "{hit}"
    );
}
