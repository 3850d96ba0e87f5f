//! Bad input: each case gets its own clear message, writes nothing, loses nothing.

use std::io::Write;
use std::path::Path;

use crate::common::{count, data, ingest, ok, run, shared, stats};

/// Ingests `file` expecting failure; returns stderr after checking the store is as before.
fn rejected(store: &Path, file: &Path) -> String {
    let before = ok(store, &["stats", "--json"]);
    let output = run(store, &["ingest", &file.display().to_string()]);
    assert!(
        !output.status.success(),
        "ingest of {} should fail",
        file.display()
    );
    assert_eq!(ok(store, &["stats", "--json"]), before, "store changed");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn seeded_store() -> Option<(tempfile::TempDir, std::path::PathBuf)> {
    let shared = shared()?;
    let dir = tempfile::tempdir().expect("temp dir");
    let sample = data(
        &shared,
        "arxiv-kaggle-snapshot/sample-0704.0001-0704.0200.jsonl",
    );
    ingest(dir.path(), &[&sample]);
    Some((dir, sample))
}

#[test]
fn a_malformed_line_names_file_and_line_and_writes_nothing() {
    let Some((dir, sample)) = seeded_store() else {
        return;
    };
    let text = std::fs::read_to_string(&sample).expect("read");
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    // New papers first, so a partial write would show in the count.
    for line in lines.iter_mut().take(5) {
        *line = line.replace("\"id\":\"0704.000", "\"id\":\"0705.000");
    }
    lines.insert(7, "{\"id\": \"0704.9999\", \"title\": ".to_owned());
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(&bad, lines.join("\n")).expect("write");
    let stderr = rejected(dir.path(), &bad);
    assert!(
        stderr.contains("bad.jsonl") && stderr.contains("line 8"),
        "{stderr}"
    );

    let output = run(
        dir.path(),
        &["ingest", "--skip-invalid", &bad.display().to_string()],
    );
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("line 8"));
    assert_eq!(count(&stats(dir.path()), "papers"), 205);
}

#[test]
fn a_truncated_gzip_is_reported_as_such() {
    let Some((dir, _)) = seeded_store() else {
        return;
    };
    let Some(shared) = shared() else { return };
    let whole = std::fs::read(data(
        &shared,
        "arxiv-kaggle-format/arxiv-archive-2020.jsonl.gz",
    ))
    .expect("read");
    let cut = dir.path().join("cut.jsonl.gz");
    std::fs::write(&cut, &whole[..whole.len() / 3]).expect("write");
    let stderr = rejected(dir.path(), &cut);
    assert!(
        stderr.contains("cut.jsonl.gz") && stderr.to_lowercase().contains("truncated"),
        "{stderr}"
    );
}

#[test]
fn unknown_format_and_empty_file_have_their_own_messages() {
    let Some((dir, _)) = seeded_store() else {
        return;
    };
    let unknown = dir.path().join("notes.txt");
    std::fs::File::create(&unknown)
        .and_then(|mut f| f.write_all(b"Dear diary, today I read a paper.\n"))
        .expect("write");
    let stderr = rejected(dir.path(), &unknown);
    assert!(
        stderr.contains("notes.txt") && stderr.to_lowercase().contains("format"),
        "{stderr}"
    );
    let empty = dir.path().join("empty.json");
    std::fs::File::create(&empty).expect("create");
    let stderr = rejected(dir.path(), &empty);
    assert!(
        stderr.contains("empty.json") && stderr.to_lowercase().contains("empty"),
        "{stderr}"
    );
}

#[test]
fn the_arxiv_api_error_feed_is_an_error_not_an_empty_success() {
    let Some((dir, _)) = seeded_store() else {
        return;
    };
    let Some(shared) = shared() else { return };
    let error_feed = data(
        &shared,
        "arxiv-api-atom/arxiv.py-fixtures/id_abc_s0_m100_b79c8dcf6bc3.xml",
    );
    let stderr = rejected(dir.path(), &error_feed);
    assert!(
        stderr.contains("id_abc") && stderr.contains("abc"),
        "{stderr}"
    );
}
