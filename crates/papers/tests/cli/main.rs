//! End-to-end tests of the `papers` binary: one test binary, one module per command.

mod common;
mod ingest;
mod ingest_bad_input;
