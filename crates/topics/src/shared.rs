//! The current topic map, shared between the thread that rebuilds it and the
//! requests that read it: readers take an `Arc` of the map and never wait for a build.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use crate::map::TopicMap;

#[derive(Debug, Default)]
pub struct SharedTopics {
    current: RwLock<Option<Arc<TopicMap>>>,
    /// Bumped by every [`SharedTopics::set`]: the site's page cache keys on it, so a
    /// rebuilt map shows at once.
    version: AtomicU64,
}

impl SharedTopics {
    pub fn new(map: Option<TopicMap>) -> SharedTopics {
        SharedTopics {
            current: RwLock::new(map.map(Arc::new)),
            version: AtomicU64::new(0),
        }
    }

    /// The map in force, if one was built.
    pub fn get(&self) -> Option<Arc<TopicMap>> {
        // A panicked writer left a whole map or none: the value is still usable.
        match self.current.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Puts a new map in force.
    pub fn set(&self, map: TopicMap) {
        let map = Some(Arc::new(map));
        match self.current.write() {
            Ok(mut guard) => *guard = map,
            Err(poisoned) => *poisoned.into_inner() = map,
        }
        self.version.fetch_add(1, Ordering::AcqRel);
    }

    /// How many maps were put in force since this one was made.
    pub fn version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }
}
