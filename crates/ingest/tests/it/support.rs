//! Locating the shared data sets, and small helpers the tests share.

use std::path::PathBuf;

use papers_ingest::{Format, IngestError, Positioned};

/// `$PAPERS_SHARED/data`, by default the `shared` folder beside the repository; `None`
/// after a skip message when it is missing (a failure under CI).
pub fn data_dir() -> Option<PathBuf> {
    papers_testkit::shared_dir("data").map(|shared| shared.join("data"))
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
