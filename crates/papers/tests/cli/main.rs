//! End-to-end tests of the `papers` binary: one test binary, one module per command.

mod closed_stdout;
mod common;
mod digest;
mod ingest;
mod ingest_bad_input;
mod nodes;
mod search;
