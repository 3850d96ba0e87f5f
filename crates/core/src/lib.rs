//! Domain types shared by every layer of papers: identifiers, categories, the paper
//! record and the search modes.
//!
//! Everything here is pure data. Types that carry an invariant (an arXiv id, a category)
//! are newtypes whose constructors parse and reject invalid input, so code that holds
//! one never re-validates it.

mod arxiv_id;
mod category;
mod links;
mod paper;
mod search_mode;

pub use arxiv_id::{ArxivId, ArxivIdError, VersionedId};
pub use category::{Category, CategoryError};
pub use links::{Links, find_links};
pub use paper::{Community, Metadata, Paper, PaperRecord, Source, Version};
pub use search_mode::{SearchMode, SearchModeError};
