//! Pure scoring for papers: how ranked lists from the lexical and dense indexes are
//! fused into one list, and where that list stops being relevant.
//!
//! Nothing here does IO or reads the clock; callers pass every input in, so the
//! same inputs always give the same ranking and every rule is unit-testable.

pub mod cutoff;
pub mod fusion;
