//! Fetching records online: arXiv OAI-PMH, the Hugging Face API and the arXiv API.
//!
//! All requests go through one [`Client`], which paces them (arXiv asks for no more
//! than one request every 3 seconds), waits out `503 Retry-After` answers, and takes
//! time from an injected [`Clock`] so tests run instantly and deterministically.
//! [`Prefetch`] runs a page iterator on its own thread one page ahead, so a harvester
//! stores one page while the next is fetched.

pub mod arxiv_api;
mod client;
mod clock;
pub mod hf;
pub mod oai;
mod prefetch;

pub use client::{Client, HarvestError, Response};
pub use clock::{Clock, SystemClock};
pub use prefetch::Prefetch;
