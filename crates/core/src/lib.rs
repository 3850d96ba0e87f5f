//! Domain types shared by every layer of papers: identifiers, categories and the paper record.
//!
//! Everything here is pure data. Types that carry an invariant (an arXiv id, a category)
//! are newtypes whose constructors parse and reject invalid input, so code that holds
//! one never re-validates it.

mod arxiv_id;
mod category;
mod links;
mod paper;

pub use arxiv_id::{ArxivId, ArxivIdError, VersionedId};
pub use category::{Category, CategoryError};
pub use links::{Links, find_links};
pub use paper::{Community, Metadata, Paper, PaperRecord, Source, Version};
