//! Query embedding in batches.
//!
//! A short query costs the model little arithmetic but a full pass over its weights
//! (22 M parameters: tens of megabytes, more than the CPU's cache), so embedding
//! queries one at a time is bound by memory bandwidth, and concurrent searches each
//! stream the weights again. One thread embeds every query: when it finishes a batch
//! it takes all queries that arrived meanwhile as the next one, so a lone query goes
//! through at once and a burst shares one pass over the weights. Batching does not
//! change a vector (the embed crate's parity tests check batched against single).
//!
//! The vectors of recent queries are kept ([`RecentQueries`]): people search for the
//! same things (a popular topic, the next page of a result, the site's search page
//! and the API for one query), and a query's vector depends on its text alone. In a
//! soak (`scripts/soak.sh`) embedding queries took the server's busiest thread, about
//! 40 % of a core at 130 searches a second.

use std::num::NonZeroUsize;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::sync::{Arc, Mutex};

use lru::LruCache;
use papers_embed::Embedder;
use papers_web::CacheStats;

/// Queries embedded in one pass at most: beyond this a batch gains little and the
/// queries at its end wait longer.
const MAX_BATCH: usize = 32;

type Reply = Result<Vec<f32>, String>;

struct Request {
    text: String,
    reply: SyncSender<Reply>,
}

/// Query vectors kept: 4,096 of 384 dimensions take about 6.5 MB.
const KEPT_QUERIES: usize = 4096;

/// Embeds queries on its own thread, batching those that wait, and keeps the vectors
/// of recent ones; stops with the last handle.
pub struct QueryBatcher {
    requests: Sender<Request>,
    recent: RecentQueries,
}

impl QueryBatcher {
    pub fn start(embedder: Arc<Embedder>) -> std::io::Result<QueryBatcher> {
        let (requests, incoming) = mpsc::channel();
        std::thread::Builder::new()
            .name("query-embedder".to_owned())
            .spawn(move || serve(&embedder, &incoming))?;
        Ok(QueryBatcher {
            requests,
            recent: RecentQueries::new(KEPT_QUERIES),
        })
    }

    /// What the kept query vectors hold (`/metrics`).
    pub fn kept(&self) -> CacheStats {
        self.recent.stats()
    }

    /// The query's unit vector, or why there is none.
    pub fn embed(&self, text: &str) -> Reply {
        if let Some(vector) = self.recent.get(text) {
            return Ok(vector.to_vec());
        }
        let vector = self.embed_now(text)?;
        self.recent.put(text, &vector);
        Ok(vector)
    }

    fn embed_now(&self, text: &str) -> Reply {
        let stopped = || "the query embedder stopped".to_owned();
        let (reply, answer) = mpsc::sync_channel(1);
        self.requests
            .send(Request {
                text: text.to_owned(),
                reply,
            })
            .map_err(|_| stopped())?;
        answer.recv().map_err(|_| stopped())?
    }
}

fn serve(embedder: &Embedder, incoming: &Receiver<Request>) {
    while let Ok(first) = incoming.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match incoming.try_recv() {
                Ok(request) => batch.push(request),
                Err(_) => break,
            }
        }
        let texts: Vec<&str> = batch.iter().map(|r| r.text.as_str()).collect();
        // A panic in the model fails this batch's searches over to lexical, not every
        // later one.
        let outcome = catch_unwind(AssertUnwindSafe(|| embedder.embed(&texts)));
        match outcome {
            Ok(Ok(vectors)) if vectors.len() == batch.len() => {
                for (request, vector) in batch.into_iter().zip(vectors) {
                    // A searcher that gave up waiting has dropped its receiver.
                    let _ = request.reply.send(Ok(vector));
                }
            }
            failed => {
                let reason = match failed {
                    Ok(Err(error)) => error.to_string(),
                    Ok(Ok(_)) => "the model returned the wrong number of vectors".to_owned(),
                    Err(_) => "the model panicked".to_owned(),
                };
                for request in batch {
                    let _ = request.reply.send(Err(reason.clone()));
                }
            }
        }
    }
}

/// The vectors of the most recently searched query texts, shared by every search.
struct RecentQueries {
    inner: Mutex<Kept>,
}

struct Kept {
    vectors: LruCache<String, Arc<[f32]>>,
    /// How many vectors made room for a newer one: from the first, the cache is as
    /// large as it gets.
    evicted: u64,
}

impl RecentQueries {
    fn new(capacity: usize) -> RecentQueries {
        let capacity = NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN);
        RecentQueries {
            inner: Mutex::new(Kept {
                vectors: LruCache::new(capacity),
                evicted: 0,
            }),
        }
    }

    fn get(&self, text: &str) -> Option<Arc<[f32]>> {
        self.inner.lock().ok()?.vectors.get(text).cloned()
    }

    fn put(&self, text: &str, vector: &[f32]) {
        let Ok(mut kept) = self.inner.lock() else {
            return;
        };
        if let Some((old, _)) = kept.vectors.push(text.to_owned(), vector.into())
            && old != text
        {
            kept.evicted += 1;
        }
    }

    fn stats(&self) -> CacheStats {
        let Ok(kept) = self.inner.lock() else {
            return CacheStats {
                entries: 0,
                bytes: 0,
                max_entries: 0,
                max_bytes: None,
                full: 0,
            };
        };
        let bytes = kept
            .vectors
            .iter()
            .map(|(text, vector)| text.capacity() + size_of_val(&**vector) + 64)
            .sum();
        CacheStats {
            entries: kept.vectors.len(),
            bytes,
            max_entries: kept.vectors.cap().get(),
            max_bytes: None,
            full: kept.evicted,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_queries_keep_the_latest_vectors_up_to_their_bound() {
        let recent = RecentQueries::new(2);
        assert_eq!(recent.get("graph neural"), None);
        recent.put("graph neural", &[1.0, 0.0]);
        recent.put("speech", &[0.0, 1.0]);
        assert_eq!(recent.get("graph neural").as_deref(), Some(&[1.0, 0.0][..]));
        // "speech" is now the least recently used: a third query takes its place.
        recent.put("robot", &[0.6, 0.8]);
        assert_eq!(recent.get("speech"), None);
        assert_eq!(recent.get("graph neural").as_deref(), Some(&[1.0, 0.0][..]));
        assert_eq!(recent.get("robot").as_deref(), Some(&[0.6, 0.8][..]));
        // Putting a kept query again replaces it and evicts nothing.
        recent.put("robot", &[0.8, 0.6]);
        assert_eq!(recent.get("robot").as_deref(), Some(&[0.8, 0.6][..]));
        let stats = recent.stats();
        assert_eq!((stats.entries, stats.max_entries, stats.full), (2, 2, 1));
        assert!(stats.bytes >= 2 * 2 * size_of::<f32>(), "{stats:?}");
    }
}
