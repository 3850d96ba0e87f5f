//! `papers search` and `papers eval beir` without an embedding model: the lexical
//! fallback, said once, with its relevance cutoff.

use std::path::Path;
use std::process::{Command, Output};

use crate::common::{data, ingest, papers, shared};

/// `papers` with no model anywhere it could find one, and any hub download pointed at a
/// closed loopback port, so the fallback is what runs and no traffic leaves the machine.
fn papers_without_model(data_dir: &Path, home: &Path) -> Command {
    let mut command = papers(data_dir);
    command
        .env_remove("PAPERS_MODEL")
        .env("HF_HOME", home.join("hf"))
        .env("HF_HUB_OFFLINE", "1")
        .env("HF_ENDPOINT", "http://127.0.0.1:9");
    command
}

/// Runs a prepared command and insists on success, keeping stderr for the caller.
fn passed(mut command: Command) -> Output {
    let output = command.output().expect("papers runs");
    assert!(
        output.status.success(),
        "{command:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn search(data_dir: &Path, home: &Path, args: &[&str]) -> Output {
    let mut command = papers_without_model(data_dir, home);
    command.arg("search").args(args);
    passed(command)
}

fn json_lines(output: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON object per line"))
        .collect()
}

#[test]
fn search_without_a_model_is_lexical_says_so_once_and_ends_where_the_words_stop() {
    let Some(shared) = shared() else { return };
    let home = tempfile::tempdir().expect("temp dir");
    let data_dir = home.path().join("data");
    let sample = data(
        &shared,
        "arxiv-kaggle-snapshot/sample-0704.0001-0704.0200.jsonl",
    );
    ingest(&data_dir, &[&sample]);

    let found = search(
        &data_dir,
        home.path(),
        &["diphoton production cross sections", "--json"],
    );
    let hits = json_lines(&found);
    assert_eq!(hits[0]["id"], "0704.0001", "{hits:?}");
    assert!(
        hits[0]["snippet"]
            .as_str()
            .expect("snippet")
            .contains("diphoton")
    );
    assert!(
        !hits[0]["highlights"]
            .as_array()
            .expect("highlights")
            .is_empty()
    );
    let stderr = String::from_utf8_lossy(&found.stderr);
    assert_eq!(
        stderr.matches("searching by keywords only").count(),
        1,
        "{stderr}"
    );

    // Made-up words match nothing; a query sharing one common word with a few
    // abstracts covers too little of itself to pass the cutoff.
    for query in [
        "blorptastic snargle frimble",
        "best pizza dough with a sourdough starter",
    ] {
        let nothing = search(&data_dir, home.path(), &[query]);
        assert_eq!(
            String::from_utf8_lossy(&nothing.stdout).trim(),
            "no good matches",
            "{query}"
        );
    }

    // A pasted arXiv URL goes straight to the paper.
    let direct = search(
        &data_dir,
        home.path(),
        &["https://arxiv.org/abs/0704.0002v2", "--json"],
    );
    let hits = json_lines(&direct);
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0]["id"], "0704.0002");
}

#[test]
fn eval_beir_without_a_model_reports_the_lexical_figures_and_holds_the_cutoff() {
    let Some(shared) = shared() else { return };
    let home = tempfile::tempdir().expect("temp dir");
    let scifact = data(&shared, "beir-scifact");
    let qrels = scifact.join("qrels/train.tsv");
    let mut command = papers_without_model(&home.path().join("data"), home.path());
    command
        .arg("eval")
        .arg("beir")
        .arg(&scifact)
        .arg("--qrels")
        .arg(&qrels)
        .arg("--json");
    let output = passed(command);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("report JSON");
    assert_eq!(report["mode"], "lexical", "{report}");
    assert_eq!(report["fell_back"], true);
    assert_eq!(report["queries"], 809);
    // Measured: nDCG@10 0.7050 (the BM25 anchor is 0.658), retention 0.981,
    // 1.44 results per unrelated query.
    let figure = |path: &[&str]| {
        path.iter()
            .fold(&report, |value, key| &value[key])
            .as_f64()
            .expect("a figure")
    };
    assert!(figure(&["metrics", "ndcg_at_10"]) >= 0.69, "{report}");
    assert!(figure(&["cutoff_retention"]) >= 0.95, "{report}");
    assert!(figure(&["unrelated_mean_results"]) <= 2.0, "{report}");
}
