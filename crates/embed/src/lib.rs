//! papers-embed.
