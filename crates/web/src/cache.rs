//! In-memory caches. The response cache answers anonymous `GET`s of pages, feeds and
//! API listings with bytes rendered earlier, plus a precomputed ETag; the data cache
//! keeps the query results logged-in pages are rendered from. Large bodies are also
//! kept gzipped, for clients that accept it. Entries remember the store generation
//! they were built at and a deadline; a vote or an ingest bumps the generation, so no
//! entry outlives the data it shows.
//!
//! Only the data structures live here; the layer that consults them on each request
//! is `routes::cached`, above the state that holds them.

use std::collections::{HashMap, VecDeque};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Put in a response's extensions by a handler whose anonymous output may be shared
/// for `ttl`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cacheable {
    pub ttl: Duration,
}

impl Cacheable {
    pub(crate) const DEFAULT: Cacheable = Cacheable {
        ttl: Duration::from_secs(60),
    };
}

/// Papers' vectors by key, shared: For you's "not this" sample, kept per generation.
pub(crate) type SharedVectors = Arc<Vec<(i64, Vec<f32>)>>;

/// Largest body kept in the cache.
const MAX_BODY: usize = 4 * 1024 * 1024;

struct Entry<T> {
    generation: u64,
    expires: Instant,
    value: T,
    /// When it was put, in [`Entries::order`].
    stamp: u64,
    /// `value`'s weight, as counted in [`Entries::bytes`].
    weight: usize,
}

/// The bytes a cached value holds beyond its entry, as far as they are worth counting.
pub(crate) trait Weigh {
    fn weight(&self) -> usize;
}

impl Weigh for Arc<CachedResponse> {
    /// The body, the gzip copy a reader may add later (a quarter of the body is a
    /// generous guess for HTML and JSON), and the headers.
    fn weight(&self) -> usize {
        let headers: usize = self
            .headers
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len() + 16)
            .sum();
        self.body.len() + self.body.len() / 4 + headers
    }
}

/// A feed view holds whole papers (abstracts and all), 50 to a page: about 150 KB,
/// so 1,024 of them (the count bound alone, reached by anyone paging through
/// categories and sorts) would have been 150 MB.
impl Weigh for Arc<crate::views::FeedView> {
    fn weight(&self) -> usize {
        let links: usize = self
            .related
            .iter()
            .chain(&self.previous)
            .chain(&self.next)
            .map(|link| link.label.len() + link.href.len() + 48)
            .sum();
        let categories: usize = self
            .categories
            .iter()
            .map(|(name, _)| name.len() + 32)
            .sum();
        let items: usize = self
            .items
            .iter()
            .map(|item| paper_weight(&item.paper))
            .sum();
        size_of::<crate::views::FeedView>()
            + self.heading.len()
            + self.path.len()
            + self.explanation.as_ref().map_or(0, String::len)
            + links
            + categories
            + items
    }
}

/// The heap a stored paper holds, near enough: its struct and its texts (each
/// `String` or list entry costs its bytes and a header).
fn paper_weight(paper: &papers_store::StoredPaper) -> usize {
    let text = |value: &Option<String>| value.as_ref().map_or(0, |text| text.len() + 24);
    let list = |values: &[String]| values.iter().map(|text| text.len() + 24).sum::<usize>();
    let metadata = &paper.paper.metadata;
    let community = &paper.paper.community;
    size_of::<crate::views::ViewItem>()
        + metadata.title.len()
        + metadata.abstract_text.len()
        + list(&metadata.authors)
        + metadata.categories.len() * 32
        + metadata.versions.len() * 64
        + [
            &metadata.doi,
            &metadata.journal_ref,
            &metadata.comments,
            &metadata.report_no,
            &metadata.license,
            &metadata.submitter,
            &community.submitted_by,
            &community.organization,
            &community.github_repo,
            &community.project_page,
            &community.ai_summary,
            &community.organization_fullname,
            &community.organization_avatar,
            &community.thumbnail,
        ]
        .into_iter()
        .map(text)
        .sum::<usize>()
        + list(&community.ai_keywords)
        + list(&community.media_urls)
}

/// A sample of vectors: four at most are kept (one per generation).
impl Weigh for SharedVectors {
    fn weight(&self) -> usize {
        self.iter().map(|(_, vector)| 8 + 4 * vector.len()).sum()
    }
}

impl Weigh for Option<chrono::NaiveDate> {
    fn weight(&self) -> usize {
        0
    }
}

/// The most bytes of response bodies the response cache keeps by default
/// (`AppConfig::response_cache_bytes`): a soak filled its 4,096 entries with stale
/// paper pages (every vote makes every entry stale, and stale entries stayed until
/// the map was full), hundreds of MB at the largest pages.
pub(crate) const RESPONSE_CACHE_BYTES: usize = 64 * 1024 * 1024;

/// The most bytes of feed views kept: a few hundred pages of 50 papers.
pub(crate) const FEED_CACHE_BYTES: usize = 32 * 1024 * 1024;

/// What a cache holds now and may hold, for `/metrics` and the soak's samples: the
/// site's caches and the search backend's ([`crate::SearchBackend::caches`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheStats {
    pub entries: usize,
    pub bytes: usize,
    pub max_entries: usize,
    /// `None`: bounded by the entry count alone.
    pub max_bytes: Option<usize>,
    /// How many times a new entry found the cache at one of its bounds and made room:
    /// from the first, the cache is as large as it gets (warmed up).
    pub full: u64,
}

/// A bounded map from a key to a value stamped with generation and deadline, at most
/// `capacity` entries and `max_bytes` of values (by [`Weigh`]). When full, the oldest
/// entries make room, one by one: after a vote or an ingest (a new generation) those
/// are the stale ones. It used to be cleared in one go when stale entries were not
/// enough: dropping 4,096 rendered pages at once held the request worker for tens of
/// milliseconds, and uncached paper pages under load had a p99 of 30-50 ms against
/// 6 ms without those clears.
pub(crate) struct DataCache<T> {
    capacity: usize,
    max_bytes: usize,
    entries: RwLock<Entries<T>>,
    /// See [`CacheStats::full`].
    full: AtomicU64,
}

struct Entries<T> {
    map: HashMap<String, Entry<T>>,
    /// Keys in the order they were put, oldest first, each with the stamp of its put:
    /// a key put again is here twice, and only its latest stamp counts.
    order: VecDeque<(u64, String)>,
    next_stamp: u64,
    /// The weights of the values in `map`.
    bytes: usize,
}

impl<T> Entries<T> {
    /// Drops the oldest entry; false when there is none.
    fn evict_oldest(&mut self) -> bool {
        while let Some((stamp, key)) = self.order.pop_front() {
            if self.map.get(&key).is_some_and(|entry| entry.stamp == stamp) {
                if let Some(entry) = self.map.remove(&key) {
                    self.bytes -= entry.weight;
                }
                return true;
            }
        }
        false
    }

    /// Forgets the order's records of keys since put again or evicted, once they
    /// outnumber the entries: a page put again after every vote would otherwise
    /// grow it without bound.
    fn compact_order(&mut self) {
        if self.order.len() > 2 * self.map.len() + 64 {
            let map = &self.map;
            self.order
                .retain(|(stamp, key)| map.get(key).is_some_and(|entry| entry.stamp == *stamp));
        }
    }
}

impl<T: Clone + Weigh> DataCache<T> {
    pub(crate) fn new(capacity: usize) -> DataCache<T> {
        Self::with_budget(capacity, usize::MAX)
    }

    pub(crate) fn with_budget(capacity: usize, max_bytes: usize) -> DataCache<T> {
        DataCache {
            capacity,
            max_bytes,
            entries: RwLock::new(Entries {
                map: HashMap::new(),
                order: VecDeque::new(),
                next_stamp: 0,
                bytes: 0,
            }),
            full: AtomicU64::new(0),
        }
    }

    /// Entries and bytes held.
    #[cfg(test)]
    pub(crate) fn size(&self) -> (usize, usize) {
        let stats = self.stats();
        (stats.entries, stats.bytes)
    }

    pub(crate) fn stats(&self) -> CacheStats {
        let (entries, bytes) = self
            .entries
            .read()
            .map(|entries| (entries.map.len(), entries.bytes))
            .unwrap_or_default();
        CacheStats {
            entries,
            bytes,
            max_entries: self.capacity,
            max_bytes: (self.max_bytes != usize::MAX).then_some(self.max_bytes),
            full: self.full.load(Ordering::Relaxed),
        }
    }

    pub(crate) fn get(&self, key: &str, generation: u64) -> Option<T> {
        let entries = self.entries.read().ok()?;
        let entry = entries.map.get(key)?;
        (entry.generation == generation && entry.expires > Instant::now())
            .then(|| entry.value.clone())
    }

    pub(crate) fn put(&self, key: String, generation: u64, ttl: Duration, value: T) {
        let Ok(mut entries) = self.entries.write() else {
            return;
        };
        let weight = value.weight();
        if weight > self.max_bytes {
            return;
        }
        if let Some(old) = entries.map.remove(&key) {
            entries.bytes -= old.weight;
        }
        let mut made_room = false;
        while entries.map.len() >= self.capacity || entries.bytes + weight > self.max_bytes {
            if !entries.evict_oldest() {
                break;
            }
            made_room = true;
        }
        if made_room {
            self.full.fetch_add(1, Ordering::Relaxed);
        }
        let stamp = entries.next_stamp;
        entries.next_stamp += 1;
        entries.bytes += weight;
        entries.order.push_back((stamp, key.clone()));
        entries.map.insert(
            key,
            Entry {
                generation,
                expires: Instant::now() + ttl,
                value,
                stamp,
                weight,
            },
        );
        entries.compact_order();
    }
}

/// A rendered response, and its gzip encoding when that is worth having.
pub(crate) struct CachedResponse {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
    etag: HeaderValue,
    /// Made by the first reader that accepts gzip, not when the entry is stored: most
    /// search responses are asked for once, often by clients that never send
    /// `Accept-Encoding`, and compressing them all cost a twentieth of a search.
    gzip: OnceLock<Option<(Bytes, HeaderValue)>>,
}

/// Bodies smaller than this are sent as they are.
const GZIP_FROM: usize = 1024;

fn gzip(body: &[u8]) -> Option<Bytes> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(body).ok()?;
    // Cut to its length: a `Vec` grown by doubling keeps up to twice that, which
    // the cache's byte budget would not see.
    encoder
        .finish()
        .ok()
        .map(|encoded| Bytes::from(encoded.into_boxed_slice()))
}

fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.trim().split(';');
            parts.next() == Some("gzip") && parts.all(|p| p.trim() != "q=0")
        })
}

pub(crate) type ResponseCache = DataCache<Arc<CachedResponse>>;

impl CachedResponse {
    fn gzipped(&self) -> Option<&(Bytes, HeaderValue)> {
        self.gzip
            .get_or_init(|| {
                let encoded = (self.body.len() >= GZIP_FROM)
                    .then(|| gzip(&self.body))
                    .flatten()?;
                let tagged = self
                    .etag
                    .to_str()
                    .unwrap_or("\"0\"")
                    .trim_end_matches('"')
                    .to_owned()
                    + "-gz\"";
                let tag = HeaderValue::from_str(&tagged).unwrap_or_else(|_| self.etag.clone());
                Some((encoded, tag))
            })
            .as_ref()
    }

    /// Keeps a rendered response for later readers, without its `Set-Cookie` headers
    /// (they belong to one reader). `None` when the body cannot be read or is larger
    /// than the cache keeps.
    pub(crate) async fn read(response: Response, generation: u64) -> Option<CachedResponse> {
        let (parts, body) = response.into_parts();
        let body = axum::body::to_bytes(body, MAX_BODY).await.ok()?;
        // A copy of exactly its length: the rendered body is a `String` or `Vec` grown
        // by doubling, and `Bytes` keeps its whole capacity, up to twice what the
        // byte budget counts (a copy of a page costs microseconds; rendering it, ms).
        let body = Bytes::copy_from_slice(&body);
        let mut headers = parts.headers;
        headers.remove(header::SET_COOKIE);
        Some(CachedResponse {
            status: parts.status,
            headers,
            etag: etag(&body, generation),
            body,
            gzip: OnceLock::new(),
        })
    }

    /// The response for one reader: gzipped when they accept it, 304 when their
    /// copy's ETag still matches.
    pub(crate) fn respond(&self, request_headers: &HeaderMap) -> Response {
        let gzipped = if accepts_gzip(request_headers) {
            self.gzipped()
        } else {
            None
        };
        let (body, etag) = match gzipped {
            Some((body, etag)) => (body, etag),
            None => (&self.body, &self.etag),
        };
        let matches = request_headers
            .get(header::IF_NONE_MATCH)
            .is_some_and(|sent| sent.as_bytes() == etag.as_bytes());
        let mut response = if matches {
            StatusCode::NOT_MODIFIED.into_response()
        } else {
            let mut response = Response::new(Body::from(body.clone()));
            *response.status_mut() = self.status;
            *response.headers_mut() = self.headers.clone();
            if gzipped.is_some() {
                response
                    .headers_mut()
                    .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            }
            response
        };
        let headers = response.headers_mut();
        headers.insert(header::ETAG, etag.clone());
        headers.insert(
            header::VARY,
            HeaderValue::from_static("Cookie, Accept-Encoding"),
        );
        response
    }
}

fn etag(body: &[u8], generation: u64) -> HeaderValue {
    let mut hasher = DefaultHasher::new();
    body.hash(&mut hasher);
    generation.hash(&mut hasher);
    HeaderValue::from_str(&format!("\"{:016x}\"", hasher.finish()))
        .unwrap_or_else(|_| HeaderValue::from_static("\"0\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(bytes: usize) -> Arc<CachedResponse> {
        Arc::new(CachedResponse {
            status: StatusCode::OK,
            headers: HeaderMap::new(),
            body: Bytes::from(vec![b'x'; bytes]),
            etag: HeaderValue::from_static("\"0\""),
            gzip: OnceLock::new(),
        })
    }

    #[test]
    fn stale_entries_go_first_and_the_bytes_stay_within_the_budget() {
        let ttl = Duration::from_secs(60);
        // 1,000 bytes of body weigh 1,250.
        let cache: ResponseCache = DataCache::with_budget(100, 10_000);
        for page in 0..4 {
            cache.put(format!("/old/{page}"), 1, ttl, response(1000));
        }
        assert_eq!(cache.size(), (4, 5000));
        // A new generation: the stale pages, the oldest, make room rather than the
        // whole cache being dropped or growing past its budget.
        for page in 0..7 {
            cache.put(format!("/new/{page}"), 2, ttl, response(1000));
            assert!(cache.size().1 <= 10_000, "{:?}", cache.size());
        }
        assert!(cache.get("/old/0", 1).is_none());
        assert!(cache.get("/new/6", 2).is_some());
        // Over budget within one generation: the oldest go, one at a time, so the
        // cache stays full and never past the budget.
        for page in 7..40 {
            cache.put(format!("/new/{page}"), 2, ttl, response(1000));
            assert!(cache.size().1 <= 10_000);
            assert!(cache.size().1 > 10_000 - 1250, "{:?}", cache.size());
        }
        assert!(cache.get("/new/31", 2).is_none(), "among the oldest");
        assert!(cache.get("/new/39", 2).is_some(), "the newest");
        // A body larger than the whole budget is not kept.
        cache.put("/huge".to_owned(), 2, ttl, response(20_000));
        assert!(cache.get("/huge", 2).is_none());
        // Replacing a key does not count it twice.
        let cache: ResponseCache = DataCache::with_budget(100, 10_000);
        for _ in 0..50 {
            cache.put("/same".to_owned(), 1, ttl, response(1000));
        }
        assert_eq!(cache.size(), (1, 1250));
        assert!(
            cache.entries.read().map(|e| e.order.len()).unwrap_or(0) <= 2 + 64,
            "the order forgets earlier puts of a key"
        );
        // A key put again counts as new: the other, older one goes first.
        let cache: ResponseCache = DataCache::with_budget(2, usize::MAX);
        cache.put("/a".to_owned(), 1, ttl, response(10));
        cache.put("/b".to_owned(), 1, ttl, response(10));
        cache.put("/a".to_owned(), 1, ttl, response(10));
        cache.put("/c".to_owned(), 1, ttl, response(10));
        assert!(cache.get("/b", 1).is_none());
        assert!(cache.get("/a", 1).is_some() && cache.get("/c", 1).is_some());
    }

    fn feed_view(papers: usize, abstract_bytes: usize) -> Arc<crate::views::FeedView> {
        let paper = |n: usize| {
            let metadata = papers_core::Metadata {
                title: format!("Paper {n}"),
                abstract_text: "a".repeat(abstract_bytes),
                authors: vec!["Ada Lovelace".to_owned(), "Alan Turing".to_owned()],
                ..papers_core::Metadata::default()
            };
            crate::views::ViewItem {
                paper: papers_store::StoredPaper {
                    key: n as i64,
                    paper: papers_core::Paper {
                        id: papers_core::ArxivId::parse("2401.00001").expect("an id"),
                        metadata,
                        metadata_source: papers_core::Source::Kaggle,
                        community: papers_core::Community::default(),
                    },
                    member_upvotes: 0,
                    member_comments: 0,
                    links: papers_core::Links::default(),
                },
                trending: None,
            }
        };
        Arc::new(crate::views::FeedView {
            heading: "Daily Papers".to_owned(),
            path: "/papers".to_owned(),
            items: (0..papers).map(paper).collect(),
            total: papers,
            page: 1,
            page_size: 50,
            previous: None,
            next: None,
            related: Vec::new(),
            categories: Vec::new(),
            sort: crate::views::SortChoice::Upvotes,
            sortable: true,
            category: None,
            topic: None,
            feed_base: None,
            explanation: None,
        })
    }

    #[test]
    fn feed_views_are_weighed_by_their_papers_and_kept_within_the_budget() {
        let page = feed_view(50, 1500);
        let weight = page.weight();
        // Fifty abstracts of 1,500 bytes, plus each paper's struct and other texts.
        assert!(weight > 50 * 1500, "{weight}");
        assert!(weight < 50 * 1500 * 2, "{weight}");
        assert!(feed_view(50, 3000).weight() > weight + 50 * 1400);
        // Every page a crawler can ask for (categories, sorts, pages) is a new key:
        // the byte budget holds where the entry count alone would not.
        let ttl = Duration::from_secs(60);
        let cache: DataCache<Arc<crate::views::FeedView>> = DataCache::with_budget(1024, 1 << 20);
        for key in 0..100 {
            cache.put(format!("/papers|{key}"), 1, ttl, page.clone());
            let (entries, bytes) = cache.size();
            assert!(bytes <= 1 << 20, "{bytes}");
            assert!(entries <= (1 << 20) / weight, "{entries}");
        }
        let stats = cache.stats();
        assert!(stats.full > 0, "it reached its bound");
        assert_eq!(stats.max_bytes, Some(1 << 20));
        assert_eq!(stats.max_entries, 1024);
    }
}
