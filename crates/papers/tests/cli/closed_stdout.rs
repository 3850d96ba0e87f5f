//! A reader that stops early (`papers search x | head -1`) ends the command quietly:
//! success, no panic, nothing on stderr about the pipe.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Output, Stdio};

use crate::common::{data, ingest, papers, shared};

/// Runs `papers ARGS` with stdout a pipe whose read end is already closed, so the first
/// line of data meets a broken pipe.
fn with_stdout_closed(data_dir: &Path, args: &[&str]) -> Output {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    papers(data_dir)
        .args(args)
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .expect("papers runs")
}

/// Runs `papers ARGS`, reads one line of its output and closes the pipe, as `head -1`
/// does.
fn with_one_line_read(data_dir: &Path, args: &[&str]) -> Output {
    let mut child = papers(data_dir)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("papers starts");
    let stdout = child.stdout.take().expect("stdout piped");
    let mut first = String::new();
    BufReader::new(stdout)
        .read_line(&mut first)
        .expect("read a line");
    assert!(!first.is_empty(), "papers {args:?} printed nothing");
    child.wait_with_output().expect("papers exits")
}

fn assert_quiet_success(args: &[&str], output: &Output) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("panicked") && !stderr.contains("Broken pipe"),
        "papers {args:?} complained about the closed pipe:\n{stderr}"
    );
    assert!(
        output.status.success(),
        "papers {args:?} exited with {:?}:\n{stderr}",
        output.status
    );
}

#[test]
fn commands_end_quietly_when_nobody_reads_their_output() {
    let Some(shared) = shared() else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let sample = data(
        &shared,
        "arxiv-kaggle-snapshot/sample-0704.0001-0704.0200.jsonl",
    );
    ingest(dir.path(), &[&sample]);
    let sample = sample.display().to_string();
    let commands: [&[&str]; 6] = [
        &["stats"],
        &["stats", "--json"],
        &["show", "0704.0001"],
        &["search", "--mode", "lexical", "--limit", "50", "photon"],
        &["search", "--mode", "lexical", "--json", "photon"],
        &["ingest", &sample],
    ];
    for args in commands {
        assert_quiet_success(args, &with_stdout_closed(dir.path(), args));
        assert_quiet_success(args, &with_one_line_read(dir.path(), args));
    }
}
