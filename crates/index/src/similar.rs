//! Each paper's similar papers, kept until a change can affect them.
//!
//! A paper page lists the papers nearest to it. Finding them is a graph walk plus
//! rescoring (about half a millisecond at 76,803 papers), which under load was most
//! of an uncached paper page's time. A paper's unconditioned list (no filters) only
//! changes when vectors change near it, so the lists of the papers asked for recently
//! are kept here, each with the paper's own vector, and a commit that changes vectors
//! drops exactly the lists it can affect:
//!
//! * the list of a paper whose own vector changed or went;
//! * a list naming a paper whose vector changed or went;
//! * a list that a new or changed vector would enter: one at least as close to the
//!   paper as the last paper on its list, or any new vector for a list shorter than
//!   it was asked to be (the index had fewer papers).
//!
//! The last test is a dot product per kept list and new vector. A commit with more
//! than that can pay for (a bulk load) drops every list instead. Lists are kept to
//! at least [`DEPTH`] papers whatever was asked, so the paper page's six and the
//! API's default ten share one.
//!
//! Conditioned lists (with filters) are not kept: they go to the index every time.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use half::f16;
use papers_rank::fusion::Scored;

use crate::dense::kernel::DotsFn;

/// The shortest list kept.
pub(crate) const DEPTH: usize = 10;
/// Lists kept, at most: the most recently asked. Each costs its paper's vector (two
/// bytes a dimension) and its hits, about 900 bytes at 384 dimensions.
const CAPACITY: usize = 50_000;
/// Dot products (kept lists × new vectors) an invalidation may do before it drops
/// every list instead: about a tenth of a second of one core.
const MAX_CHECKS: usize = 1 << 22;

struct Entry {
    /// Best first, at most `depth` long.
    hits: Vec<Scored>,
    /// How many were asked for when this list was made.
    depth: usize,
    /// The paper's vector, to test new vectors against.
    vector: Vec<f16>,
}

impl Entry {
    /// Whether a vector scoring `score` against this paper would enter its list.
    fn admits(&self, score: f32) -> bool {
        match self.hits.last() {
            Some(last) if self.hits.len() >= self.depth => score >= last.score,
            _ => true,
        }
    }
}

/// What changed in the dense index since the last invalidation.
pub(crate) enum Changes {
    /// These keys' vectors were added, replaced or removed.
    Keys(Vec<u64>),
    /// Too many to list.
    Many,
}

/// Two generations of lists: the newest half and the half before it. A lookup that
/// finds a list in the older one moves it into the newer; when the newer fills up,
/// the older is dropped. Least recently used, near enough, without bookkeeping per
/// lookup.
#[derive(Default)]
struct Generations {
    current: HashMap<u64, Arc<Entry>>,
    previous: HashMap<u64, Arc<Entry>>,
    /// How many times the newer half filled up and the older was dropped.
    rotations: u64,
}

/// What the kept lists hold and may hold, for the server's `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeptListStats {
    pub lists: usize,
    pub max_lists: usize,
    /// The lists' vectors, hits and map slots.
    pub bytes: usize,
    /// How many times the newer half of the lists filled up and the older half was
    /// dropped: from the first, the lists take as much memory as they will.
    pub rotations: u64,
}

#[derive(Default)]
pub(crate) struct SimilarCache {
    lists: Mutex<Generations>,
}

impl SimilarCache {
    /// The kept list of `key`, cut to `k`, if one as deep is kept.
    pub(crate) fn get(&self, key: u64, k: usize) -> Option<Vec<Scored>> {
        let mut lists = self.lists.lock().ok()?;
        let entry = match lists.current.get(&key) {
            Some(entry) => entry.clone(),
            None => {
                let entry = lists.previous.remove(&key)?;
                lists.current.insert(key, entry.clone());
                entry
            }
        };
        (entry.depth >= k).then(|| entry.hits.iter().take(k).copied().collect())
    }

    /// Keeps `hits`, the `depth` papers nearest to `key` (whose vector is `vector`).
    pub(crate) fn put(&self, key: u64, depth: usize, vector: Vec<f16>, hits: Vec<Scored>) {
        let Ok(mut lists) = self.lists.lock() else {
            return;
        };
        if lists.current.len() >= CAPACITY / 2 {
            lists.previous = std::mem::take(&mut lists.current);
            lists.rotations += 1;
        }
        lists.previous.remove(&key);
        lists.current.insert(
            key,
            Arc::new(Entry {
                hits,
                depth,
                vector,
            }),
        );
    }

    /// What the lists hold: a walk over them, for a scrape of `/metrics` now and then.
    pub(crate) fn stats(&self) -> KeptListStats {
        let Ok(lists) = self.lists.lock() else {
            return KeptListStats {
                lists: 0,
                max_lists: CAPACITY,
                bytes: 0,
                rotations: 0,
            };
        };
        let slot = size_of::<u64>() + size_of::<Arc<Entry>>() + 1;
        let bytes = lists
            .current
            .values()
            .chain(lists.previous.values())
            .map(|entry| {
                slot + size_of::<Entry>()
                    + 2 * size_of::<usize>()
                    + entry.hits.capacity() * size_of::<Scored>()
                    + entry.vector.capacity() * size_of::<f16>()
            })
            .sum();
        KeptListStats {
            lists: lists.current.len() + lists.previous.len(),
            max_lists: CAPACITY,
            bytes,
            rotations: lists.rotations,
        }
    }

    /// Drops the lists `changes` can affect (see the module documentation).
    /// `vector_of` gives a changed key's vector now (`None` when it has none).
    pub(crate) fn invalidate(
        &self,
        changes: Changes,
        vector_of: impl Fn(u64) -> Option<Vec<f16>>,
        dots: DotsFn,
    ) {
        let Ok(mut lists) = self.lists.lock() else {
            return;
        };
        let kept = lists.current.len() + lists.previous.len();
        let changed = match changes {
            _ if kept == 0 => return,
            Changes::Keys(keys) if keys.is_empty() => return,
            Changes::Keys(keys) if kept.saturating_mul(keys.len()) <= MAX_CHECKS => keys,
            _ => {
                let rotations = lists.rotations;
                *lists = Generations {
                    rotations,
                    ..Generations::default()
                };
                return;
            }
        };
        let new_vectors: Vec<Vec<f16>> = changed.iter().filter_map(|&key| vector_of(key)).collect();
        let changed: HashSet<u64> = changed.into_iter().collect();
        let block: Vec<f16> = new_vectors.concat();
        let mut query = Vec::new();
        let mut scores = vec![0.0_f32; new_vectors.len()];
        let mut unaffected = |key: &u64, entry: &mut Arc<Entry>| {
            if changed.contains(key) || entry.hits.iter().any(|hit| changed.contains(&hit.key)) {
                return false;
            }
            if new_vectors.is_empty() {
                return true;
            }
            query.clear();
            query.extend(entry.vector.iter().map(|x| x.to_f32()));
            dots(&query, &block, &mut scores);
            !scores.iter().any(|&score| entry.admits(score))
        };
        lists.current.retain(&mut unaffected);
        lists.previous.retain(&mut unaffected);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(values: &[f32]) -> Vec<f16> {
        let norm = values.iter().map(|x| x * x).sum::<f32>().sqrt();
        values.iter().map(|x| f16::from_f32(x / norm)).collect()
    }

    fn hit(key: u64, score: f32) -> Scored {
        Scored { key, score }
    }

    /// Invalidates with `changes`: keys and their vectors now.
    fn invalidate(cache: &SimilarCache, changes: Vec<(u64, Option<Vec<f16>>)>) {
        let keys = changes.iter().map(|(key, _)| *key).collect();
        let vector_of = |key: u64| {
            changes
                .iter()
                .find(|(k, _)| *k == key)
                .and_then(|(_, vector)| vector.clone())
        };
        cache.invalidate(Changes::Keys(keys), vector_of, dots());
    }

    fn cache_with_one_list() -> SimilarCache {
        let cache = SimilarCache::default();
        // Paper 1 points along x; its two neighbours score 0.9 and 0.8.
        cache.put(1, 2, unit(&[1.0, 0.0]), vec![hit(2, 0.9), hit(3, 0.8)]);
        cache
    }

    fn dots() -> DotsFn {
        crate::dense::kernel::best().0
    }

    #[test]
    fn stats_count_the_kept_lists_and_their_bytes() {
        let cache = SimilarCache::default();
        assert_eq!(cache.stats().lists, 0);
        assert_eq!(cache.stats().bytes, 0);
        let one = cache_with_one_list().stats();
        assert_eq!(one.lists, 1);
        assert_eq!(one.max_lists, CAPACITY);
        // At least the two-dimensional vector and the two hits.
        assert!(
            one.bytes >= 2 * size_of::<f16>() + 2 * size_of::<Scored>(),
            "{one:?}"
        );
        assert_eq!(one.rotations, 0);
    }

    #[test]
    fn a_list_is_served_to_its_depth_and_no_deeper() {
        let cache = cache_with_one_list();
        assert_eq!(cache.get(1, 1), Some(vec![hit(2, 0.9)]));
        assert_eq!(cache.get(1, 2).map(|hits| hits.len()), Some(2));
        assert_eq!(cache.get(1, 3), None);
        assert_eq!(cache.get(9, 1), None);
    }

    #[test]
    fn only_the_lists_a_change_can_affect_are_dropped() {
        let cache = cache_with_one_list();
        // A far vector (cosine 0) and a removal of a paper not listed: kept.
        invalidate(&cache, vec![(7, Some(unit(&[0.0, 1.0]))), (8, None)]);
        assert!(cache.get(1, 2).is_some());
        // A vector closer than the last listed paper (cosine 0.95 > 0.8): dropped.
        invalidate(&cache, vec![(7, Some(unit(&[0.95, 0.31])))]);
        assert!(cache.get(1, 2).is_none());

        let cache = cache_with_one_list();
        invalidate(&cache, vec![(3, None)]);
        assert!(cache.get(1, 2).is_none(), "a listed paper went");
        let cache = cache_with_one_list();
        invalidate(&cache, vec![(1, Some(unit(&[0.0, 1.0])))]);
        assert!(cache.get(1, 2).is_none(), "its own vector changed");
        let cache = cache_with_one_list();
        cache.invalidate(Changes::Many, |_| None, dots());
        assert!(cache.get(1, 2).is_none(), "a bulk load drops everything");
    }

    #[test]
    fn a_short_list_takes_any_new_vector() {
        let cache = SimilarCache::default();
        cache.put(1, 5, unit(&[1.0, 0.0]), vec![hit(2, 0.9)]);
        invalidate(&cache, vec![(7, Some(unit(&[-1.0, 0.0])))]);
        assert!(cache.get(1, 1).is_none());
    }

    #[test]
    fn the_oldest_lists_go_first_when_full() {
        let cache = SimilarCache::default();
        for key in 0..CAPACITY as u64 {
            cache.put(key, 1, unit(&[1.0, 0.0]), vec![hit(key + 1, 0.5)]);
            if key % 1000 == 0 {
                // Asked for again: moved into the newest generation.
                assert!(cache.get(0, 1).is_some());
            }
        }
        cache.put(u64::MAX, 1, unit(&[1.0, 0.0]), vec![]);
        assert!(cache.get(0, 1).is_some(), "recently asked");
        assert!(cache.get(1, 1).is_none(), "least recently asked");
        assert!(cache.get(CAPACITY as u64 - 1, 1).is_some());
    }
}
