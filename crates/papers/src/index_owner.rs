//! One process at a time writes a data directory's indexes. Tantivy allows one
//! writer per directory, and the vector log is appended from the writer's memory, so
//! two writers would each miss the other's commits or interleave their appends. The
//! owner holds an OS file lock, `index/owner.lock`, for as long as it runs; it dies
//! with the process, so a crashed owner is replaced by the next process that opens
//! the directory.
//!
//! A process that finds the lock taken either reads the owner's indexes as they are
//! on disk (a one-off command: the owner keeps them current) or keeps indexes of its
//! own in memory, built and kept current from the store (a second `papers serve` on
//! the same directory, which must show new papers without the owner's help).

use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;

use anyhow::Context;

const LOCK_FILE: &str = "owner.lock";

/// What a process does when another process owns the indexes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhenIndexTaken {
    /// Search the owner's indexes as they are on disk and never write them.
    ReadTheirs,
    /// Build indexes of its own in memory and keep them current from the store.
    KeepOwn,
}

/// How this process uses the directory's indexes.
#[derive(Debug)]
pub enum IndexAccess {
    /// Writes them; the lock is released when this is dropped.
    Owner { _lock: File },
    /// Reads the owner's indexes on disk.
    Reader,
    /// Keeps its own indexes in memory.
    Private,
}

impl IndexAccess {
    /// Takes ownership of the indexes in `dir` (created if missing), or settles for
    /// what `when_taken` says when another process holds it.
    pub fn claim(dir: &Path, when_taken: WhenIndexTaken) -> anyhow::Result<IndexAccess> {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating the index directory {}", dir.display()))?;
        let path = dir.join(LOCK_FILE);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("opening {}", path.display()))?;
        match file.try_lock() {
            Ok(()) => Ok(IndexAccess::Owner { _lock: file }),
            Err(TryLockError::WouldBlock) => Ok(match when_taken {
                WhenIndexTaken::ReadTheirs => IndexAccess::Reader,
                WhenIndexTaken::KeepOwn => IndexAccess::Private,
            }),
            Err(TryLockError::Error(error)) => {
                Err(error).with_context(|| format!("locking {}", path.display()))
            }
        }
    }

    /// Whether this process may change the indexes it searches.
    pub fn writes(&self) -> bool {
        !matches!(self, IndexAccess::Reader)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_claim_owns_and_later_ones_follow_what_they_asked_for() {
        let dir = tempfile::tempdir().expect("tempdir");
        let owner = IndexAccess::claim(dir.path(), WhenIndexTaken::ReadTheirs).expect("claim");
        assert!(matches!(owner, IndexAccess::Owner { .. }));
        let reader = IndexAccess::claim(dir.path(), WhenIndexTaken::ReadTheirs).expect("claim");
        assert!(matches!(reader, IndexAccess::Reader));
        assert!(!reader.writes());
        let private = IndexAccess::claim(dir.path(), WhenIndexTaken::KeepOwn).expect("claim");
        assert!(matches!(private, IndexAccess::Private));
        assert!(private.writes());
        drop(owner);
        let next = IndexAccess::claim(dir.path(), WhenIndexTaken::KeepOwn).expect("claim");
        assert!(
            matches!(next, IndexAccess::Owner { .. }),
            "the lock dies with its holder"
        );
    }
}
