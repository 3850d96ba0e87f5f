//! Locating the shared data sets, and small helpers the tests share.

use std::path::PathBuf;

use papers_ingest::{Format, IngestError, Positioned};

/// `$PAPERS_SHARED/data`, by default the `shared` folder beside the repository. When it
/// is missing the test is skipped with a message, except under CI (`CI` set), where a
/// silently skipped data test would hide a broken setup.
pub fn data_dir() -> Option<PathBuf> {
    let shared = std::env::var_os("PAPERS_SHARED").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
        PathBuf::from,
    );
    let data = shared.join("data");
    if data.is_dir() {
        return Some(data);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "shared data not found at {} (set PAPERS_SHARED)",
        data.display()
    );
    eprintln!(
        "skipping: shared data not found at {} (set PAPERS_SHARED)",
        data.display()
    );
    None
}

/// Reads every item of a file in the given format, or the detected one when `None`.
pub fn read_all(
    path: &std::path::Path,
    format: Option<Format>,
) -> Vec<Result<Positioned, IngestError>> {
    let format = format.unwrap_or_else(|| papers_ingest::detect_format(path).expect("detectable"));
    papers_ingest::open(path, format).expect("opens").collect()
}

/// The records of items that must all be valid.
pub fn records(items: Vec<Result<Positioned, IngestError>>) -> Vec<papers_core::PaperRecord> {
    items
        .into_iter()
        .map(|item| item.expect("valid record").record)
        .collect()
}
