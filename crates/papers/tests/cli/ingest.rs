//! Ingesting every real format: counts, idempotence, merging, kill and resume.

use std::io::Write;
use std::process::Stdio;
use std::time::Duration;

use crate::common::{HELD_BYTES, HeldInput, count, data, ingest, ok, papers, shared, show, stats};

#[test]
fn kaggle_snapshot_sample_then_reingest_changes_nothing() {
    let Some(shared) = shared() else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let file = data(
        &shared,
        "arxiv-kaggle-snapshot/sample-0704.0001-0704.0200.jsonl",
    );
    ingest(dir.path(), &[&file]);
    let first = stats(dir.path());
    assert_eq!(count(&first, "papers"), 200);
    let changes_before = ok(dir.path(), &["stats", "--json"]);
    let output = ingest(dir.path(), &[&file]);
    assert!(
        output.contains("0 new, 0 updated, 200 unchanged"),
        "{output}"
    );
    assert_eq!(ok(dir.path(), &["stats", "--json"]), changes_before);

    let paper = show(dir.path(), "0704.0001");
    assert_eq!(
        paper["title"],
        "Calculation of prompt diphoton production cross sections at Tevatron and LHC energies"
    );
    assert_eq!(paper["categories"][0], "hep-ph");
    assert_eq!(paper["doi"], "10.1103/PhysRevD.76.013009");
    assert!(
        paper["versions"].as_array().is_some_and(|v| v.len() >= 2),
        "{paper}"
    );
}

#[test]
fn huggingface_days_keep_upvotes_and_merge_onto_arxiv_records() {
    let Some(shared) = shared() else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let days = data(&shared, "hf-daily-papers-api/2023-11-to-2024-04");
    let mut files: Vec<_> = std::fs::read_dir(&days)
        .expect("HF days")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 66);
    let paths: Vec<&std::path::Path> = files.iter().map(|p| p.as_path()).collect();
    ingest(dir.path(), &paths);
    let after_hf = stats(dir.path());
    assert_eq!(count(&after_hf, "papers"), 739);
    assert_eq!(count(&after_hf, "in_feed"), 739);
    let upvotes = count(&after_hf, "upvotes");
    assert!(upvotes > 739, "upvotes kept: {upvotes}");

    // The arXiv record of a paper from the feed arrives later, as a Kaggle line.
    let hf_paper = show(dir.path(), "2401.00368");
    let votes = hf_paper["upvotes"].as_u64().expect("upvotes");
    let kaggle = dir.path().join("arxiv.jsonl");
    let line = serde_json::json!({
        "id": "2401.00368", "submitter": "Liang Wang", "authors": "Liang Wang, Nan Yang, Xiaolong Huang, Linjun Yang, Rangan Majumder, Furu Wei",
        "title": "Improving Text Embeddings with\n  Large Language Models", "comments": "20 pages", "journal-ref": null,
        "doi": null, "report-no": null, "categories": "cs.CL cs.IR", "license": "http://creativecommons.org/licenses/by/4.0/",
        "abstract": hf_paper["abstract"], "versions": [{"version": "v1", "created": "Sun, 31 Dec 2023 02:13:18 GMT"},
        {"version": "v2", "created": "Fri, 19 Jan 2024 03:38:57 GMT"}], "update_date": "2024-01-22", "authors_parsed": []
    });
    writeln!(std::fs::File::create(&kaggle).expect("create"), "{line}").expect("write");
    ingest(dir.path(), &[&kaggle]);
    let merged = show(dir.path(), "2401.00368");
    assert_eq!(
        merged["upvotes"].as_u64(),
        Some(votes),
        "upvotes survive the arXiv record"
    );
    assert_eq!(merged["feed_day"], hf_paper["feed_day"]);
    assert_eq!(merged["categories"][0], "cs.CL");
    assert_eq!(merged["versions"].as_array().map(Vec::len), Some(2));
    assert_eq!(count(&stats(dir.path()), "papers"), 739);
    // And Hugging Face again, after the arXiv record: still one paper, nothing erased.
    ingest(dir.path(), &[&days.join("daily_papers_2024-01-02.json")]);
    let again = show(dir.path(), "2401.00368");
    assert_eq!(again["categories"][0], "cs.CL");
    assert_eq!(again["license"], merged["license"]);
}

#[test]
fn arxiv_xml_formats_ingest() {
    let Some(shared) = shared() else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let oai = data(
        &shared,
        "arxiv-oai-pmh/paperhive-nock-2018/oaipmh-listrecords---should-list-identifiers-from-arxiv.1.xml",
    );
    let get = data(
        &shared,
        "arxiv-oai-pmh/paperhive-nock-2018/oaipmh-getrecord---should-get-a-record.0.xml",
    );
    ingest(dir.path(), &[&oai, &get]);
    // ListRecords holds 1412.8544 and hep-th/9504118; GetRecord fetched 1412.8544 again.
    assert_eq!(count(&stats(dir.path()), "papers"), 2);
    let atom = data(
        &shared,
        "arxiv-api-atom/arxiv.py-fixtures/id_0808.05394_1707.08567_s0_m100_42e5aa0ec3af.xml",
    );
    // The API answered only 1707.08567: 0808.05394 is not a valid id.
    ingest(dir.path(), &[&atom]);
    assert_eq!(count(&stats(dir.path()), "papers"), 3);
}

#[test]
fn abs_files_from_a_directory() {
    let Some(shared) = shared() else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let abs_dir = dir.path().join("abs");
    write_abs_files(
        &data(&shared, "arxiv-abs-files/abs_files.jsonl.gz"),
        &abs_dir,
    );
    let store = dir.path().join("store");
    // One file is empty by design: without --skip-invalid it stops that file only.
    let output = papers(&store)
        .args(["ingest", "--skip-invalid"])
        .arg(&abs_dir)
        .output()
        .expect("runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("0509037") && stderr.contains("empty"),
        "{stderr}"
    );
    assert_eq!(count(&stats(&store), "papers"), 1130);
    let latin1 = show(&store, "1607.08199");
    assert!(
        latin1["title"]
            .as_str()
            .is_some_and(|t| !t.contains('\u{fffd}')),
        "{latin1}"
    );
}

fn write_abs_files(archive: &std::path::Path, into: &std::path::Path) {
    use std::io::BufRead;
    let reader = std::io::BufReader::new(flate2::read::GzDecoder::new(
        std::fs::File::open(archive).expect("open"),
    ));
    for line in reader.lines() {
        let entry: serde_json::Value = serde_json::from_str(&line.expect("line")).expect("json");
        let path = into.join(entry["path"].as_str().expect("path"));
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        let text = entry["abs"].as_str().expect("abs");
        let bytes: Vec<u8> = if entry["encoding"] == "latin-1" {
            text.chars()
                .map(|c| u8::try_from(u32::from(c)).expect("latin-1"))
                .collect()
        } else {
            text.as_bytes().to_vec()
        };
        std::fs::write(path, bytes).expect("write");
    }
}

#[test]
fn killed_ingest_leaves_the_committed_state_and_a_rerun_completes() {
    let Some(shared) = shared() else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let store = dir.path().join("store");
    let big = data(&shared, "arxiv-kaggle-format/arxiv-archive-2020.jsonl.gz");
    let sample = data(
        &shared,
        "arxiv-kaggle-snapshot/sample-0704.0001-0704.0200.jsonl",
    );
    ingest(&store, &[&sample]);
    let before = stats(&store);
    assert_eq!(count(&before, "papers"), 200);

    // The big file arrives through a pipe that is fed part of it and held open: the
    // ingest is inside the file's transaction, with thousands of records written and
    // no end of file to commit on, when it is killed.
    let input = HeldInput::create(dir.path(), &big, HELD_BYTES);
    let mut child = papers(&store)
        .args(["ingest", "--format", "kaggle"])
        .arg(&input.path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    assert_eq!(
        input.wait_fed(&mut child, Duration::from_secs(300)),
        HELD_BYTES
    );
    // Another process sees only what was committed, while the writer holds its records.
    assert_eq!(stats(&store), before, "uncommitted records are invisible");
    assert!(
        child.try_wait().expect("ingest status").is_none(),
        "the ingest ended before it was killed"
    );
    child.kill().expect("SIGKILL");
    let status = child.wait().expect("reaped");
    assert!(!status.success(), "killed, not finished: {status}");
    drop(input);
    assert_eq!(
        stats(&store),
        before,
        "nothing of the killed file is stored"
    );

    // 76,803 lines hold 75,992 distinct papers (811 appear twice, once with a mangled
    // id), 8 of which are also in the 200-paper sample.
    ingest(&store, &[&big]);
    assert_eq!(count(&stats(&store), "papers"), 76_184);
}
