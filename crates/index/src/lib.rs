//! papers-index.
