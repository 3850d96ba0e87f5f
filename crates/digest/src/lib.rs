//! papers-digest.
