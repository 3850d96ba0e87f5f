//! Integration tests of papers-ingest over the real shared data sets and a local HTTP
//! server that replays recorded responses.

mod formats;
mod harvest;
mod server;
mod support;
