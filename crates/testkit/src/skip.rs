//! Skipped tests, said out loud: a test that cannot run here calls [`skip`], which
//! prints the reason past the test harness's output capture and appends a line to the
//! file named by `PAPERS_TEST_SKIPS`, so `scripts/test.sh` reports the test as skipped
//! instead of passed. [`missing`] is the same for inputs CI must have: under `CI` it
//! fails the test instead.

use std::fmt::Display;
use std::io::Write;

/// The environment variable naming the file skips are appended to (one line each:
/// test binary, test name, reason, separated by tabs). Unset: skips are only printed.
pub const SKIPS_FILE_VAR: &str = "PAPERS_TEST_SKIPS";

/// Records that the running test is skipped, and why; the caller then returns.
pub fn skip(reason: impl Display) {
    let reason = one_line(&reason.to_string());
    let test = test_name();
    let binary = binary_name();
    // Straight to the process's stderr: `eprintln!` would be captured by the harness
    // and shown only for failing tests, and a skip must be seen.
    let _ = writeln!(
        std::io::stderr().lock(),
        "SKIPPED {binary} {test}: {reason}"
    );
    if let Some(path) = std::env::var_os(SKIPS_FILE_VAR) {
        let line = format!("{binary}\t{test}\t{reason}\n");
        // One append of one short line: concurrent tests do not interleave.
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut file| file.write_all(line.as_bytes()));
        if let Err(error) = written {
            panic!(
                "cannot record the skip in {}: {error}",
                std::path::Path::new(&path).display()
            );
        }
    }
}

/// Whether the tests run under CI (`CI` set), where every input must be present.
pub fn in_ci() -> bool {
    std::env::var_os("CI").is_some()
}

/// For an input the test needs and CI provides (shared data, the model, a helper
/// program): fails the test under CI, else skips it. Always `None`, so a caller can
/// write `let Some(x) = find().or_else(|| missing(...)) else { return };`.
pub fn missing<T>(what: impl Display) -> Option<T> {
    if in_ci() {
        panic!("CI is set and {what}");
    }
    skip(what);
    None
}

/// The running test's name: the harness names each test's thread after it.
fn test_name() -> String {
    std::thread::current()
        .name()
        .filter(|name| *name != "main")
        .unwrap_or("(unnamed test)")
        .to_owned()
}

/// The test binary, without the hash cargo appends (`cli`, `papers_embed`).
fn binary_name() -> String {
    let exe = std::env::current_exe().ok();
    let stem = exe
        .as_deref()
        .and_then(std::path::Path::file_stem)
        .and_then(|stem| stem.to_str())
        .unwrap_or("test");
    match stem.rsplit_once('-') {
        Some((name, hash)) if hash.chars().all(|c| c.is_ascii_hexdigit()) => name.to_owned(),
        _ => stem.to_owned(),
    }
}

fn one_line(text: &str) -> String {
    text.split(['\n', '\r', '\t'])
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_fit_on_one_line() {
        assert_eq!(one_line("a\n  b\tc\r\n"), "a b c");
    }

    #[test]
    fn the_test_name_is_the_harness_thread_name() {
        assert_eq!(
            test_name(),
            "skip::tests::the_test_name_is_the_harness_thread_name"
        );
    }
}
