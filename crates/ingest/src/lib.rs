//! papers-ingest.
