//! The whole output of the commands people read, on a small fixed store (the Kaggle
//! sample and two Hugging Face days), as insta snapshots: `ingest`'s summaries,
//! `stats`, `show` and `search` (lexical, no model). Paths and timings are redacted;
//! everything else is fixed by the inputs. Review a change with `cargo insta review`.

use std::path::Path;

use crate::common::{data, hf_days, papers, shared, succeed};

/// The machine's paths and the timings replaced, in text and JSON snapshots alike.
fn settings(shared: &Path, data_dir: &Path) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(&regex_escape(&shared.display().to_string()), "[shared]");
    settings.add_filter(&regex_escape(&data_dir.display().to_string()), "[data]");
    settings.add_filter(r"in \d+\.\d+s \(\d+ records/s\)", "in [time] ([rate])");
    settings.add_filter(r#""seconds": [0-9.e-]+"#, r#""seconds": "[seconds]""#);
    settings
}

fn regex_escape(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let special = "\\.+*?()|[]{}^$#&-~".contains(c);
            special.then_some('\\').into_iter().chain([c])
        })
        .collect()
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

fn json_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines().map(json).collect()
}

#[test]
fn ingest_stats_show_and_search_print_what_their_snapshots_hold() {
    let Some(shared) = shared() else { return };
    let home = tempfile::tempdir().expect("temp dir");
    let data_dir = home.path().join("data");
    let sample = data(
        &shared,
        "arxiv-kaggle-snapshot/sample-0704.0001-0704.0200.jsonl",
    );
    let days = hf_days(&shared, 2);
    let settings = settings(&shared, &data_dir);
    let _bound = settings.bind_to_scope();

    let run = |args: &[&str]| -> String {
        let mut command = papers(&data_dir);
        // No model anywhere: search is lexical, and its output does not depend on a
        // kernel's rounding.
        command
            .env("PAPERS_MODEL", home.path().join("no-model"))
            .env("HF_HOME", home.path().join("hf"))
            .args(args);
        succeed(command)
    };
    let path = |p: &Path| p.display().to_string();
    insta::assert_snapshot!("ingest", run(&["ingest", &path(&sample)]));
    insta::assert_json_snapshot!(
        "ingest_json",
        json(&run(&[
            "ingest",
            "--json",
            &path(&days[0]),
            &path(&days[1])
        ]))
    );
    insta::assert_snapshot!("stats", run(&["stats"]));
    insta::assert_json_snapshot!("stats_json", json(&run(&["stats", "--json"])));
    insta::assert_snapshot!("show", run(&["show", "0704.0001"]));
    let first_hf_paper =
        json(&std::fs::read_to_string(&days[0]).expect("HF day"))[0]["paper"]["id"]
            .as_str()
            .expect("an id")
            .to_owned();
    insta::assert_snapshot!("show_hf_paper", run(&["show", &first_hf_paper]));
    insta::assert_json_snapshot!(
        "show_hf_paper_json",
        json(&run(&["show", "--json", &first_hf_paper]))
    );
    insta::assert_json_snapshot!(
        "search_json",
        json_lines(&run(&[
            "search",
            "--json",
            "--limit",
            "5",
            "diphoton production cross sections"
        ]))
    );
    insta::assert_snapshot!(
        "search",
        run(&["search", "--limit", "5", "supersymmetry dark matter"])
    );
    insta::assert_snapshot!("search_nothing", run(&["search", "blorptastic snargle"]));
}
