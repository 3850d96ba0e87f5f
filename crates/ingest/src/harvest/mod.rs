//! Fetching records online: arXiv OAI-PMH, the Hugging Face API and the arXiv API.
//!
//! All requests go through one [`Client`], which paces them (arXiv asks for no more
//! than one request every 3 seconds), waits out `503 Retry-After` answers, and takes
//! time from an injected [`Clock`] so tests run instantly and deterministically.

pub mod arxiv_api;
mod client;
mod clock;
pub mod hf;
pub mod oai;

pub use client::{Client, HarvestError, Response};
pub use clock::{Clock, SystemClock};
