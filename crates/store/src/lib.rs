//! papers-store.
