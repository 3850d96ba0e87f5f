//! End-to-end tests of the `papers` binary: one test binary, one module per command.

mod closed_stdout;
mod common;
mod config;
mod digest;
mod index;
mod ingest;
mod ingest_bad_input;
mod model;
mod nodes;
mod output;
mod search;
