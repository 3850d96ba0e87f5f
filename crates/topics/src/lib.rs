//! Topics from the embeddings: a two-level map of the field, derived from the
//! vector every paper already has.
//!
//! * [`cluster`]: spherical k-means (k-means++ seeding) on unit vectors, the
//!   assignment passes spread over every core with rayon.
//! * [`naming`]: each topic named by its most distinctive terms and phrases
//!   (class-based TF-IDF over titles and abstracts).
//! * [`Corpus`]: what a build reads: keys, f16 vectors, days, and texts held or
//!   fetched by key through [`FetchTexts`] while topics are named.
//! * [`build`]: the whole build: about √N/8 broad topics, each split again,
//!   named, placed on a 2-D map ([`projection`]) and given ids that survive
//!   rebuilds ([`stable`]: new centroids matched to the previous map's).
//! * [`TopicMap`]: the result, which pages and the API read: topics, each
//!   paper's topics, growth ([`growth`]), saved as JSON under the data directory.
//!
//! Architecture invariant: pure code over vectors and texts handed in (texts may
//! come through [`FetchTexts`], which the caller implements); no store,
//! no clock (the build's time and "now" are parameters). The map is derived state:
//! deleting its file loses nothing that `papers topics` cannot rebuild, except
//! that ids are matched afresh.

pub mod build;
pub mod cluster;
mod corpus;
mod error;
pub mod growth;
mod kernel;
mod map;
pub mod naming;
mod phases;
pub mod projection;
mod rows;
mod shared;
pub mod stable;
mod tokens;

pub use build::{BuildOptions, build, build_timed, phase};
pub use corpus::{Corpus, FetchTexts, Texts};
pub use error::{Result, TopicsError};
pub use growth::Growth;
pub use map::{Membership, Topic, TopicId, TopicMap};
pub use phases::Phases;
pub use rows::Element;
pub use shared::SharedTopics;
