//! One module per subcommand.

pub mod config;
pub mod digest;
pub mod eval;
pub mod harvest;
pub mod index;
pub mod ingest;
pub mod model;
pub mod search;
pub mod serve;
pub mod show;
pub mod stats;
pub mod topics;
pub mod user;
