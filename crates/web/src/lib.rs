//! papers-web.
