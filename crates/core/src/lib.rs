//! papers-core.
