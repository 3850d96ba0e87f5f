//! In-memory caches. The response cache answers anonymous `GET`s of pages, feeds and
//! API listings with bytes rendered earlier, plus a precomputed ETag; the data cache
//! keeps the query results logged-in pages are rendered from. Large bodies are also
//! kept gzipped, for clients that accept it. Entries remember the store generation
//! they were built at and a deadline; a vote or an ingest bumps the generation, so no
//! entry outlives the data it shows.
//!
//! Only the data structures live here; the layer that consults them on each request
//! is `routes::cached`, above the state that holds them.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
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
}

/// A bounded map from a key to a value stamped with generation and deadline. When full
/// it is cleared: simple, and a burst of distinct keys cannot grow memory.
pub(crate) struct DataCache<T> {
    capacity: usize,
    entries: RwLock<HashMap<String, Entry<T>>>,
}

impl<T: Clone> DataCache<T> {
    pub(crate) fn new(capacity: usize) -> DataCache<T> {
        DataCache {
            capacity,
            entries: RwLock::new(HashMap::new()),
        }
    }

    pub(crate) fn get(&self, key: &str, generation: u64) -> Option<T> {
        let entries = self.entries.read().ok()?;
        let entry = entries.get(key)?;
        (entry.generation == generation && entry.expires > Instant::now())
            .then(|| entry.value.clone())
    }

    pub(crate) fn put(&self, key: String, generation: u64, ttl: Duration, value: T) {
        let Ok(mut entries) = self.entries.write() else {
            return;
        };
        if entries.len() >= self.capacity {
            entries.clear();
        }
        entries.insert(
            key,
            Entry {
                generation,
                expires: Instant::now() + ttl,
                value,
            },
        );
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
    encoder.finish().ok().map(Bytes::from)
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
