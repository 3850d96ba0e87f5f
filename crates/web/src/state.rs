//! Configuration and the state every handler shares.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use papers_digest::{Deliver, Digests};
use papers_store::{Database, Store, StoreError};
use papers_topics::{SharedTopics, TopicMap};

use crate::cache::{CacheStats, DataCache, ResponseCache, SharedVectors};
use crate::client::TrustedProxies;
use crate::node::NodeStatus;
use crate::pool::StorePool;
use crate::rate_limit::{Backoff, RateLimiter};
use crate::search::{PaperFetcher, SearchBackend};
use crate::views::FeedView;

/// What the site needs to know; the binary fills it from its config file and
/// `PAPERS_*` variables.
#[derive(Debug, Clone)]
pub struct AppConfig {
    pub data_dir: PathBuf,
    /// Where the store lives: SQLite in `data_dir` unless set to PostgreSQL.
    pub database: Database,
    /// The address readers use, without a trailing slash (`https://papers.example`):
    /// feeds and `Link` headers carry absolute URLs, and an `https` URL marks cookies
    /// `Secure`.
    pub public_url: String,
    /// Store connections in the pool.
    pub connections: usize,
    /// How long a log-in lasts.
    pub session_lifetime: Duration,
    /// Largest request body accepted; larger ones get 413.
    pub body_limit: usize,
    /// Requests per minute for sign-up, log-in and password-reset attempts per client
    /// address.
    pub auth_per_minute: u32,
    /// Failed log-ins per account before each further attempt must wait (1 s, then
    /// twice as long each time, up to `login_max_delay`): slowed, never locked out.
    pub login_free_failures: u32,
    pub login_max_delay: Duration,
    /// The proxies whose `X-Forwarded-For` names the client (`PAPERS_TRUSTED_PROXIES`);
    /// empty: the connection's peer is the client.
    pub trusted_proxies: TrustedProxies,
    /// Votes per minute per member.
    pub votes_per_minute: u32,
    /// Subscribe requests (form and API) per minute per client address. Each address
    /// is mailed at most once per 10 minutes whatever this is; this bounds how many
    /// addresses one client can have mailed.
    pub subscribe_per_minute: u32,
    /// Comments (and edits and reports of comments) a member may write per hour.
    pub comments_per_hour: u32,
    /// Papers a member may submit per hour (`/submit`, `POST /api/papers/submit`).
    pub submissions_per_hour: u32,
    /// How old (days since arXiv's v1) a paper may be and still enter the daily feed
    /// by submission, as on Hugging Face; 0 takes papers of any age.
    pub submit_max_age_days: u32,
    /// Searches run at once; later ones wait their turn. Searching is CPU-bound, but
    /// the binary embeds the queries of concurrent searches in one batch (one pass over
    /// the model's weights for all), so several per core raise throughput: on the
    /// 76,803-paper bench, 2 at once served 348 searches/s and 16 at once 480.
    pub search_concurrency: usize,
    /// The most bytes of rendered pages the response cache keeps (bodies, their gzip
    /// copies and headers); the cache is also bounded to 4,096 entries.
    pub response_cache_bytes: usize,
}

impl AppConfig {
    pub fn new(data_dir: impl Into<PathBuf>, public_url: impl Into<String>) -> AppConfig {
        let data_dir = data_dir.into();
        AppConfig {
            database: Database::Sqlite(data_dir.clone()),
            data_dir,
            public_url: public_url.into().trim_end_matches('/').to_owned(),
            connections: 4,
            session_lifetime: Duration::from_secs(30 * 24 * 3600),
            body_limit: 64 * 1024,
            auth_per_minute: 10,
            login_free_failures: 5,
            login_max_delay: Duration::from_secs(5 * 60),
            trusted_proxies: TrustedProxies::default(),
            votes_per_minute: 60,
            subscribe_per_minute: 5,
            submissions_per_hour: 20,
            comments_per_hour: 30,
            submit_max_age_days: 14,
            search_concurrency: 8 * std::thread::available_parallelism().map_or(2, |n| n.get()),
            response_cache_bytes: crate::cache::RESPONSE_CACHE_BYTES,
        }
    }

    /// Keeps the store somewhere else than SQLite in the data directory.
    pub fn with_database(mut self, database: Database) -> AppConfig {
        self.database = database;
        self
    }

    /// An `https` public URL: cookies are `Secure` with the `__Host-` prefix, and every
    /// answer carries HSTS. Plain `http` (a laptop, `127.0.0.1`) keeps plain cookies.
    pub(crate) fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Shared state: cheap to clone (one `Arc`).
#[derive(Clone)]
pub struct AppState {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub config: AppConfig,
    pub pool: StorePool,
    pub search: Option<Arc<dyn SearchBackend>>,
    pub fetcher: Option<Arc<dyn PaperFetcher>>,
    /// The node's indexes and model, for `/admin`, `/readyz` and `/metrics`; without
    /// it they report the store alone.
    pub node: Option<Arc<dyn NodeStatus>>,
    /// The digest engine behind `/subscribe`, `/subscriptions`, `/unsubscribe` and
    /// `/digest/preview`; without it those pages say digests are not set up.
    pub digests: Option<Arc<Digests>>,
    /// Sends confirmation and account mails; `None` when the site has no SMTP settings.
    pub mailer: Option<Arc<dyn Deliver + Send + Sync>>,
    /// The topic map behind `/topics`, `topic=` filters and each paper's topics;
    /// `None` (or an empty handle) until one is built.
    pub topics: Option<Arc<SharedTopics>>,
    /// Bumped whenever what a page shows may have changed (a vote, a submission, an
    /// ingest noticed by [`AppState::watch_store`]); cache entries from an older
    /// generation are ignored.
    pub generation: AtomicU64,
    pub responses: ResponseCache,
    pub feeds: DataCache<Arc<FeedView>>,
    /// The latest feed day: `MAX(feed_day)` scans the table, so it is asked once per
    /// generation.
    pub latest_day: DataCache<Option<chrono::NaiveDate>>,
    /// For you's "not this" sample with its vectors, per model and window: drawing it
    /// lists every embedded paper, so it is drawn once per generation.
    pub for_you_background: DataCache<SharedVectors>,
    pub auth_limiter: RateLimiter,
    /// Failed log-ins per account.
    pub login_backoff: Backoff,
    /// Account mails (verification, reset, notices) per address: one a minute, so
    /// nobody can flood an inbox through the forms.
    pub mail_limiter: RateLimiter,
    pub vote_limiter: RateLimiter,
    pub subscribe_limiter: RateLimiter,
    pub submit_limiter: RateLimiter,
    pub comment_limiter: RateLimiter,
    /// Renders `/metrics`; `None` when another metrics recorder owns the process.
    pub metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
    /// [`AppConfig::search_concurrency`] permits; tokio's semaphore is first come,
    /// first served, so a wait is never longer than the queue ahead of it.
    pub search_slots: Arc<tokio::sync::Semaphore>,
}

impl AppState {
    /// Opens the store pool (applying migrations) with no search or fetch backend.
    pub fn open(config: AppConfig) -> Result<AppState, OpenError> {
        let mut stores = Vec::with_capacity(config.connections.max(1));
        for _ in 0..config.connections.max(1) {
            stores.push(Store::connect_long_lived(&config.database)?);
        }
        let auth = config.auth_per_minute;
        let login_backoff = Backoff::new(config.login_free_failures, config.login_max_delay);
        let votes = config.votes_per_minute;
        let subscribes = config.subscribe_per_minute;
        let submissions = config.submissions_per_hour;
        let comments = config.comments_per_hour;
        let search_slots = Arc::new(tokio::sync::Semaphore::new(
            config.search_concurrency.max(1),
        ));
        let response_bytes = config.response_cache_bytes;
        Ok(AppState {
            inner: Arc::new(Inner {
                config,
                pool: StorePool::new(stores),
                search: None,
                fetcher: None,
                node: None,
                digests: None,
                mailer: None,
                topics: None,
                generation: AtomicU64::new(1),
                responses: ResponseCache::with_budget(4096, response_bytes),
                feeds: DataCache::with_budget(1024, crate::cache::FEED_CACHE_BYTES),
                latest_day: DataCache::new(1),
                for_you_background: DataCache::new(4),
                auth_limiter: RateLimiter::per_minute(auth),
                login_backoff,
                mail_limiter: RateLimiter::per_minute(1),
                vote_limiter: RateLimiter::per_minute(votes),
                subscribe_limiter: RateLimiter::per_minute(subscribes),
                submit_limiter: RateLimiter::per_period(submissions, Duration::from_secs(3600)),
                comment_limiter: RateLimiter::per_period(comments, Duration::from_secs(3600)),
                metrics: crate::telemetry::handle(),
                search_slots,
            }),
        })
    }

    /// Adds the search backend behind `/search`, `/api/papers/search` and similar papers.
    pub fn with_search(self, backend: Arc<dyn SearchBackend>) -> AppState {
        self.rebuild(|inner| inner.search = Some(backend))
    }

    /// Adds the hook `/submit` uses for papers the store does not have.
    pub fn with_fetcher(self, fetcher: Arc<dyn PaperFetcher>) -> AppState {
        self.rebuild(|inner| inner.fetcher = Some(fetcher))
    }

    /// Adds what only the binary knows about this node (its indexes' watermarks, its
    /// model), which `/admin`, `/readyz` and `/metrics` report.
    pub fn with_node_status(self, node: Arc<dyn NodeStatus>) -> AppState {
        self.rebuild(|inner| inner.node = Some(node))
    }

    /// Adds the topic map, which the binary rebuilds in the background.
    pub fn with_topics(self, topics: Arc<SharedTopics>) -> AppState {
        self.rebuild(|inner| inner.topics = Some(topics))
    }

    /// The topic map in force, if any.
    pub(crate) fn topic_map(&self) -> Option<Arc<TopicMap>> {
        self.inner.topics.as_ref()?.get()
    }

    /// Adds the digest engine and, when SMTP is configured, the mailer that sends
    /// confirmation mails (the binary passes `papers_digest::Mailer`).
    pub fn with_digests(
        self,
        digests: Arc<Digests>,
        mailer: Option<Arc<dyn Deliver + Send + Sync>>,
    ) -> AppState {
        self.rebuild(|inner| {
            inner.digests = Some(digests);
            if mailer.is_some() {
                inner.mailer = mailer;
            }
        })
    }

    /// Adds the mailer for account mails (verification, password reset, notices)
    /// without the digest engine; [`AppState::with_digests`] sets both.
    pub fn with_mailer(self, mailer: Arc<dyn Deliver + Send + Sync>) -> AppState {
        self.rebuild(|inner| inner.mailer = Some(mailer))
    }

    fn rebuild(self, change: impl FnOnce(&mut Inner)) -> AppState {
        match Arc::try_unwrap(self.inner) {
            Ok(mut inner) => {
                change(&mut inner);
                AppState {
                    inner: Arc::new(inner),
                }
            }
            // Already shared (a router was built): keep it as it is rather than panic.
            Err(inner) => {
                tracing::warn!("backend added after the state was shared; ignored");
                AppState { inner }
            }
        }
    }

    pub fn config(&self) -> &AppConfig {
        &self.inner.config
    }

    /// The cache generation: store writes and topic map rebuilds both move it.
    pub(crate) fn generation(&self) -> u64 {
        let topics = self.inner.topics.as_ref().map_or(0, |t| t.version());
        self.inner.generation.load(Ordering::Acquire) + (topics << 40)
    }

    /// Each in-memory cache by name, with what it holds and may hold (`/metrics`).
    pub(crate) fn cache_stats(&self) -> Vec<(&'static str, CacheStats)> {
        let inner = &self.inner;
        let mut caches = vec![
            ("responses", inner.responses.stats()),
            ("feeds", inner.feeds.stats()),
            ("latest_day", inner.latest_day.stats()),
            ("for_you_background", inner.for_you_background.stats()),
        ];
        if let Some(search) = &inner.search {
            caches.extend(search.caches());
        }
        caches
    }

    /// Marks every cached page stale.
    pub fn invalidate(&self) {
        self.inner.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// Polls the store's data version (change log and vote clock) twice a second and
    /// invalidates the caches when another process or node has written (`papers
    /// ingest`, votes cast elsewhere); purges expired sessions and mailed links hourly;
    /// drains the metrics' histograms every 5 s. Needs a tokio runtime.
    pub fn watch_store(&self) {
        let state = self.clone();
        tokio::spawn(async move {
            let mut last = None;
            let mut rounds: u64 = 0;
            loop {
                // Expired sessions are dropped about once an hour.
                if rounds.is_multiple_of(7200) {
                    let purged = state
                        .inner
                        .pool
                        .run(|store| {
                            let now = chrono::Utc::now();
                            store.purge_sessions(now)?;
                            store.purge_account_tokens(now)
                        })
                        .await;
                    if let Err(error) = purged {
                        tracing::warn!(%error, "cannot purge expired sessions and links");
                    }
                }
                // Every request's latency waits in the exporter's buffer until a
                // drain: `/metrics` drains it, but a node nobody scrapes would keep
                // every sample (8 bytes a request, 70 MB a day at 100 requests/s).
                if rounds.is_multiple_of(10)
                    && let Some(metrics) = &state.inner.metrics
                {
                    metrics.run_upkeep();
                }
                rounds += 1;
                // Another node's ingest or votes change this too.
                let seen = state.inner.pool.run(|store| store.data_version()).await;
                match (seen, last) {
                    (Ok(now), Some(before)) if now != before => {
                        state.invalidate();
                        last = Some(now);
                    }
                    (Ok(now), _) => last = Some(now),
                    (Err(error), _) => tracing::warn!(%error, "cannot read the change log"),
                }
                // Two cheap indexed reads; twice a second keeps other nodes' writes
                // visible here within a second.
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        });
    }
}
