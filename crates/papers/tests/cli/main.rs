//! End-to-end tests of the `papers` binary: one test binary, one module per command.

mod closed_stdout;
mod common;
mod config;
mod digest;
mod harvest_serve;
mod index;
mod ingest;
mod ingest_bad_input;
mod model;
mod nodes;
mod output;
mod recorded_arxiv;
mod search;
mod submit;
mod topics;
mod two_serves;
mod users;
