//! Search indexes for papers: derived state rebuilt from the store.
//!
//! * [`lexical`]: a tantivy BM25 index over title, abstract, authors, categories
//!   and dates, with a commit watermark for crash-safe replay.
//! * [`dense`]: f16 vectors in an append-only log of our own format, searched by
//!   an exact SIMD scan up to a threshold (50,000 papers by default) and through
//!   a usearch HNSW graph beyond it, filters applied during either search.
//! * [`query`]: the search box's query language.
//! * [`Searcher`]: the facade the binary calls: both indexes, fusion and the
//!   relevance cutoff from `papers-rank`, ranked store keys, and snippets for the
//!   hits a surface shows; [`Searcher::apply`] for incremental updates,
//!   [`BulkLoad`] for many papers at once on every core, and [`Reindex`] for
//!   rebuilds.
//! * [`eval`]: BEIR evaluation (nDCG@10, Recall@100, MRR@10, cutoff figures).
//!
//! Architecture invariant: the store is the source of truth. Everything here can be
//! deleted and rebuilt by `papers reindex`; after a crash, the binary replays the
//! store's change log from the watermark each index reports.

mod bulk;
pub mod dense;
mod doc;
mod error;
pub mod eval;
mod facets;
pub mod lexical;
mod maintain;
pub mod query;
mod searcher;
mod similar;
mod snippet;

pub use bulk::BulkLoad;
pub use dense::DenseOptions;
pub use doc::IndexDoc;
pub use error::{IndexError, Result};
pub use lexical::Described;
pub use maintain::{Reindex, Update, reindex};
pub use papers_core::SearchMode;
pub use query::{Filters, ParsedQuery};
pub use searcher::{Hit, Ranking, SearchConfig, SearchResults, Searcher};
pub use similar::KeptListStats;
pub use snippet::Snippet;
