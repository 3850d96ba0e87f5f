//! Integration tests of papers-index: the whole pipeline through the public API,
//! on synthetic papers and on the shared data sets (BEIR SciFact with vectors from
//! the installed model, arXiv 2020 with reference vectors).
//!
//! Shared data and the model are found through `papers-testkit` (`PAPERS_SHARED`,
//! default `../shared` beside the repository; `PAPERS_MODEL`). Without them the tests
//! that need them skip with a message, unless `CI` is set, where they fail.

mod arxiv;
mod dense_cutoff;
mod filter_sets;
mod fixtures;
mod graph;
mod lifecycle;
mod scifact;
