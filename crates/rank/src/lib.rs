//! Ranking: pure functions that order papers. The trending score, how ranked lists from
//! the lexical and dense indexes fuse into one and where that list stops being relevant,
//! and per-member recommendations.
//!
//! Nothing here does IO or reads the clock; callers pass every input in (including
//! `now`), so the same inputs always give the same ranking and every rule is testable.

pub mod cutoff;
pub mod fusion;
pub mod recommend;
pub mod trending;
