//! Integration tests of papers-index: the whole pipeline through the public API,
//! on synthetic papers and on the shared data sets (BEIR SciFact, arXiv 2020 with
//! reference vectors).
//!
//! Shared data is found through `PAPERS_SHARED` (default: `../shared` beside the
//! repository). Without it, data-set tests skip with a message, unless `CI` is
//! set, where missing data fails.

mod arxiv;
mod fixtures;
mod graph;
mod lifecycle;
mod scifact;

use std::path::PathBuf;

/// The shared data directory, or `None` (after saying so) when it is absent
/// outside CI.
pub fn shared_dir(needed: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("PAPERS_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    if dir.join(needed).exists() {
        return Some(dir);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "shared data {} missing under {} (set PAPERS_SHARED)",
        needed,
        dir.display()
    );
    eprintln!(
        "skipping: shared data {needed} not found under {} (set PAPERS_SHARED)",
        dir.display()
    );
    None
}
