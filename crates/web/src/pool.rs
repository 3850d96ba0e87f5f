//! A fixed pool of store connections (SQLite or PostgreSQL). A connection is `Send` but
//! not `Sync`, so each lives behind its own mutex; calls run on tokio's blocking threads
//! so a slow query never stalls the async workers. In WAL mode readers do not block
//! each other or the single writer; writers queue on SQLite's busy timeout.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use papers_store::{Database, Store, StoreError};

#[derive(Clone)]
pub(crate) struct StorePool {
    stores: Arc<Vec<Mutex<Store>>>,
    next: Arc<AtomicUsize>,
    /// Whether short reads may run on the async worker (see [`StorePool::run_quick`]).
    quick_reads: bool,
}

/// Why a pooled call did not produce a result.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PoolError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("store task failed: {0}")]
    Task(String),
}

impl StorePool {
    pub(crate) fn new(stores: Vec<Store>) -> StorePool {
        let quick_reads = stores
            .iter()
            .all(|store| matches!(store.location(), Database::Sqlite(_)));
        StorePool {
            quick_reads,
            stores: Arc::new(stores.into_iter().map(Mutex::new).collect()),
            next: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Runs `work` with a connection on a blocking thread.
    pub(crate) async fn run<T, F>(&self, work: F) -> Result<T, PoolError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> Result<T, StoreError> + Send + 'static,
    {
        let pool = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut store = pool.checkout();
            work(&mut store).map_err(PoolError::from)
        })
        .await
        .map_err(|e| PoolError::Task(e.to_string()))?
    }

    /// Runs a short indexed read (a paper by id, a session, a member's votes) right
    /// here on the async worker when a connection is free, else like [`StorePool::run`].
    /// Handing such a read to a blocking thread and back costs two context switches,
    /// more than the read; under load those switches were most of a paper page's
    /// time. A busy pool still goes to a blocking thread, so the worker never waits
    /// on a connection. In WAL mode a read does not wait for the writer. Only for
    /// SQLite: a PostgreSQL read is a network round trip, and its synchronous client
    /// runs its own event loop, which may not be entered from an async worker.
    pub(crate) async fn run_quick<T, F>(&self, work: F) -> Result<T, PoolError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> Result<T, StoreError> + Send + 'static,
    {
        if self.quick_reads
            && let Some(mut store) = self.try_checkout()
        {
            return work(&mut store).map_err(PoolError::from);
        }
        self.run(work).await
    }

    /// A free connection, if there is one now.
    fn try_checkout(&self) -> Option<MutexGuard<'_, Store>> {
        let count = self.stores.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        (0..count).find_map(|offset| self.stores[(start + offset) % count].try_lock().ok())
    }

    /// A free connection if there is one, else waits on the next in turn.
    fn checkout(&self) -> MutexGuard<'_, Store> {
        if let Some(guard) = self.try_checkout() {
            return guard;
        }
        let count = self.stores.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        // A panic inside a store call poisons only that mutex; the connection itself
        // is still usable, so take it back.
        match self.stores[start % count].lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}
