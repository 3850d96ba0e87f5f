//! One module per subcommand.

pub mod digest;
pub mod harvest;
pub mod ingest;
pub mod serve;
pub mod show;
pub mod stats;
