//! papers-rank.
