//! `papers serve`: the web site, JSON API and feeds over the data directory, plus,
//! when SMTP is configured, the scheduler that sends the digests every day, and with
//! `--harvest` the scheduled harvesters (`crate::harvester`).

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use chrono::{NaiveTime, Utc};
use chrono_tz::Tz;
use papers_digest::{
    Deliver, DigestError, Digests, Frequency, Mailer, SENDER_JOB, feed_day, next_send_time,
};
use papers_store::{Database, JobClaim, JobFinish, Store};
use papers_web::{AppConfig, AppState};

use crate::cmd::digest;
use crate::config::Config;
use crate::embed_backlog::EmbedBacklog;
use crate::fetcher::ArxivFetcher;
use crate::search_service::{
    EMBED_BATCH, IndexedSavedSearch, SearchService, WebSearch, WhenIndexTaken, embed_batch,
    load_optional_model,
};
use crate::topics_service;

pub fn run(config: &Config) -> anyhow::Result<ExitCode> {
    crate::memory::configure_allocator();
    let addr = config.web.addr;
    let public_url = config
        .web
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"));
    let database = config.store.database();
    if matches!(database, Database::Postgres(_)) && config.mail.secret.is_none() {
        anyhow::bail!(
            "set PAPERS_SECRET (or mail.secret in the config file): with --database-url, \
             several nodes sign and check the same confirmation and unsubscribe links, so \
             they must share one key"
        );
    }
    let mut app_config = AppConfig::new(config.store.data_dir.clone(), public_url.clone())
        .with_database(database.clone());
    app_config.trusted_proxies = config.web.trusted_proxies.clone().unwrap_or_default();
    app_config.submit_max_age_days = u32::try_from(config.web.submit_max_age_days)
        .context("--submit-max-age-days is too large")?;
    app_config.submissions_per_hour =
        u32::try_from(config.web.submit_per_hour).context("--submit-per-hour is too large")?;
    app_config.comments_per_hour =
        u32::try_from(config.web.comments_per_hour).context("--comments-per-hour is too large")?;
    app_config.response_cache_bytes = config
        .web
        .cache_mb
        .checked_mul(1024 * 1024)
        .context("--cache-mb is too large")?;
    let search = open_search(config)?;
    // The topic map on disk serves at once; a missing or outgrown one is rebuilt
    // in the background.
    let topics = Arc::new(papers_topics::SharedTopics::new(topics_service::load(
        &config.store.data_dir,
        search.model_id(),
    )?));
    let digests = Arc::new(digest::engine(
        config,
        &public_url,
        search.embedder_model_id().as_deref(),
        Some(topics.clone()),
    )?);
    let mailer = digest::mailer(&config.mail, &public_url)?.map(Arc::new);
    if mailer.is_none() {
        tracing::info!("PAPERS_SMTP_URL is not set: no confirmation mails, no scheduled digests");
    }
    let web_mailer = mailer.clone().map(|m| m as Arc<dyn Deliver + Send + Sync>);
    let state = AppState::open(app_config)
        .with_context(|| format!("opening {}", database.describe()))?
        .with_digests(digests.clone(), web_mailer)
        .with_search(Arc::new(WebSearch(search.clone())))
        .with_node_status(Arc::new(WebSearch(search.clone())))
        .with_topics(topics.clone())
        .with_fetcher(Arc::new(ArxivFetcher::new(&config.harvest.arxiv_api_url)));
    let search_for_digests = search.clone();
    topics_service::spawn_rebuilder(
        database.clone(),
        config.store.data_dir.clone(),
        search.model_id().to_owned(),
        topics,
        config.topics.rebuild_percent,
    );
    spawn_index_follower(database.clone(), search, state.clone());
    crate::harvester::spawn(&database, &config.harvest);
    crate::memory::spawn_trimmer();
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    if let Some(workers) = config.web.workers {
        runtime.worker_threads(workers.max(1));
    }
    let runtime = runtime
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    if let Some(mailer) = mailer {
        runtime.spawn(schedule(
            database.clone(),
            search_for_digests,
            digests,
            mailer,
            config.digest.time,
            config.digest.tz,
        ));
    }
    tracing::info!(%addr, data_dir = %config.store.data_dir.display(), store = %database.describe(), "serving");
    eprintln!("papers: serving on http://{addr}");
    runtime
        .block_on(papers_web::serve(addr, state))
        .with_context(|| format!("serving on {addr}"))?;
    Ok(ExitCode::SUCCESS)
}

/// Sleeps until the next send time, then sends the daily and weekly digests due on
/// that feed day. A failed run is logged; the next one catches up
/// because sends are recorded per subscriber and period.
async fn schedule(
    database: Database,
    search: Arc<SearchService>,
    digests: Arc<Digests>,
    mailer: Arc<Mailer>,
    send_at: NaiveTime,
    tz: Tz,
) {
    loop {
        let now = Utc::now();
        let at = next_send_time(now, send_at, tz);
        tracing::info!(next = %at, "digest scheduler waiting");
        let wait = (at - now).to_std().unwrap_or_default();
        tokio::time::sleep(wait).await;
        let (database, search, digests, mailer) = (
            database.clone(),
            search.clone(),
            digests.clone(),
            mailer.clone(),
        );
        // On a background thread of its own, not the runtime's blocking pool: its
        // threads also answer requests, and a thread's lowered priority stays.
        let sending = crate::background::spawn(
            "digest-send",
            crate::background::Priority::Lower,
            move || send_due(&database, &search, &digests, &mailer, send_at, tz),
        );
        let result = match sending {
            Ok(thread) => tokio::task::spawn_blocking(move || thread.join().is_ok()).await,
            Err(error) => {
                tracing::error!(%error, "cannot start the digest send");
                continue;
            }
        };
        if !matches!(result, Ok(true)) {
            tracing::error!("digest send task failed");
        }
    }
}

fn send_due(
    database: &Database,
    search: &SearchService,
    digests: &Digests,
    mailer: &Mailer,
    send_at: NaiveTime,
    tz: Tz,
) {
    let now = Utc::now();
    let as_of = feed_day(now);
    let mut store = match Store::connect(database) {
        Ok(store) => store,
        Err(error) => {
            tracing::error!(%error, "cannot open the store for digests");
            return;
        }
    };
    let run = match store.record_job_start(SENDER_JOB, now) {
        Ok(run) => run,
        Err(error) => {
            tracing::error!(%error, "cannot record the digest run");
            return;
        }
    };
    let mut sent = 0;
    let mut errors = Vec::new();
    let mut busy = false;
    // The weekly period due on any day of a week is the week before, so asking every
    // day sends it on the first run of the week and skips it (already sent) after;
    // a failed Monday is caught up on Tuesday.
    for frequency in [Frequency::Daily, Frequency::Weekly] {
        let saved_searches = IndexedSavedSearch(search);
        match digest::send(
            digests,
            &mut store,
            &saved_searches,
            mailer,
            frequency,
            as_of,
            now,
            false,
        ) {
            Ok(report) => {
                tracing::info!(
                    period = %report.period_key,
                    sent = report.sent,
                    skipped_empty = report.skipped_empty,
                    already_sent = report.already_sent,
                    failed = report.failed.len(),
                    "digests sent"
                );
                sent += report.sent as u64;
                if let Some((address, reason)) = report.failed.first() {
                    errors.push(format!(
                        "{}: {} not delivered, first {address}: {reason}",
                        report.period_key,
                        report.failed.len()
                    ));
                }
            }
            // Another node holds the sender claim and sends everything due.
            Err(error)
                if matches!(
                    error.downcast_ref::<DigestError>(),
                    Some(DigestError::SenderBusy { .. })
                ) =>
            {
                tracing::info!("another node is sending the digests");
                busy = true;
            }
            Err(error) => {
                tracing::error!(error = format!("{error:#}"), "digest send failed");
                errors.push(format!("{error:#}"));
            }
        }
    }
    let recorded = if busy && sent == 0 && errors.is_empty() {
        store.forget_job_run(run)
    } else {
        let next = Some(next_send_time(Utc::now(), send_at, tz));
        let finish = if errors.is_empty() {
            JobFinish::ok(sent, next)
        } else {
            JobFinish::failed(sent, errors.join("; "), next)
        };
        store.record_job_finish(run, &finish, Utc::now())
    };
    if let Err(error) = recorded {
        tracing::error!(%error, "cannot record the digest run");
    }
}

/// Opens search over the data directory and brings it up to date with the store before
/// the first request. Without a model, search is lexical and the site says so.
fn open_search(config: &Config) -> anyhow::Result<Arc<SearchService>> {
    let embedder = load_optional_model(&config.model, "no embedding model, search is keyword-only");
    // A second server on the directory must still show new papers within seconds, so
    // it keeps indexes of its own when another process owns the directory's.
    let service = Arc::new(SearchService::open(
        &config.store.data_dir,
        embedder,
        WhenIndexTaken::KeepOwn,
    )?);
    let store = config.store.open()?;
    let started = std::time::Instant::now();
    let indexed = service.catch_up(&store)?;
    if indexed > 0 {
        eprintln!(
            "papers: indexed {indexed} papers in {:.1}s",
            started.elapsed().as_secs_f64()
        );
    }
    Ok(service)
}

/// Follows the store from a background thread: twice a second, papers ingested by any
/// process or node are indexed; every two seconds, with a model, a small batch of
/// papers without a vector is embedded, so new papers become findable by meaning
/// without a separate `papers index` run. While a backlog lasts (a new installation,
/// a large ingest) batches follow one another without the wait. Only the node holding
/// the embedder claim embeds; the others load its vectors through the change log. A
/// claim dies with its node, so another one takes over. Whatever the indexes took in
/// marks the site's cached pages stale: the store watcher may have seen the change
/// first, and a search answered between the two would otherwise stay cached without it.
fn spawn_index_follower(database: Database, search: Arc<SearchService>, state: AppState) {
    // The thread keeps the requests' priority: it holds the searcher's write lock
    // while it applies changes, and searches wait for that; lowered, it would keep
    // them waiting while it waits for a core. Its heavy part, embedding, runs on idle
    // cores only (`embed_step`).
    std::thread::spawn(move || {
        let mut store = match Store::connect_long_lived(&database) {
            Ok(store) => store,
            Err(error) => {
                tracing::error!(%error, "index follower cannot open the store");
                return;
            }
        };
        let mut claim = None;
        let mut unembedded = EmbedBacklog::default();
        // Whether the last embedding step found papers to embed (`None` before the first).
        let mut backlog: Option<bool> = None;
        for tick in 0u64.. {
            match search.catch_up(&store) {
                Ok(0) => {}
                Ok(_) => state.invalidate(),
                Err(error) => tracing::warn!(error = format!("{error:#}"), "index follower"),
            }
            if tick.is_multiple_of(4) || backlog == Some(true) {
                match embed_step(&mut store, &search, &mut claim, &mut unembedded, tick) {
                    Ok(Some(embedded)) => {
                        if embedded > 0 {
                            // The step loaded the new vectors into the index.
                            state.invalidate();
                        }
                        if embedded == 0 && backlog != Some(false) {
                            // Said once per backlog; bench/first-run.sh waits for it.
                            tracing::info!(
                                "every paper has a vector and the indexes cover the store"
                            );
                        }
                        backlog = Some(embedded > 0);
                    }
                    Ok(None) => {}
                    Err(error) => {
                        tracing::warn!(error = format!("{error:#}"), "embedding new papers");
                        backlog = None;
                    }
                }
            }
            if backlog != Some(true) {
                std::thread::sleep(std::time::Duration::from_millis(500));
            }
        }
    });
}

/// The job name under which one node embeds new papers for all.
const EMBEDDER_JOB: &str = "embedder";

/// Embeds one batch if this node holds the embedder claim: the number of papers
/// embedded, or `None` when this node does not embed.
fn embed_step(
    store: &mut Store,
    search: &SearchService,
    claim: &mut Option<JobClaim>,
    unembedded: &mut EmbedBacklog,
    tick: u64,
) -> anyhow::Result<Option<usize>> {
    let Some(embedder) = search.embedder() else {
        return Ok(None);
    };
    // Asking for the claim costs a connection on PostgreSQL: a node without it asks
    // again every 20 seconds, so a dead holder is replaced within that.
    if claim.is_none() && tick.is_multiple_of(40) {
        *claim = store.try_claim_job(EMBEDDER_JOB)?;
        if claim.is_some() {
            tracing::info!("this node embeds new papers");
        }
    }
    if claim.is_none() {
        return Ok(None);
    }
    let started = Utc::now();
    // Computing a batch's vectors takes every core for a second or more: on idle cores
    // only, the request workers come first (see `crate::background`). Storing them is
    // not: it holds the store's write lock, which members' writes wait for.
    let model = embedder.model_id();
    let result = unembedded
        .next(store, model, EMBED_BATCH)
        .map_err(anyhow::Error::from)
        .and_then(|batch| match batch.is_empty() {
            true => Ok(Vec::new()),
            false => embed_batch(store, model, &batch, |texts| {
                crate::background::run_idle(|| embedder.embed(texts))
            }),
        });
    // A step that found nothing to embed is not worth a record; one that embedded or
    // failed is (one per batch: while a backlog lasts the steps run back to back).
    let finish = match &result {
        Ok(embedded) if embedded.is_empty() => None,
        Ok(embedded) => Some(JobFinish::ok(embedded.len() as u64, None)),
        Err(error) => Some(JobFinish::failed(0, format!("{error:#}"), None)),
    };
    if let Some(finish) = finish {
        let run = store.record_job_start(EMBEDDER_JOB, started)?;
        store.record_job_finish(run, &finish, Utc::now())?;
    }
    if result.is_err() {
        // The failed batch was handed out and is not stored: start a new pass, which
        // finds it again (and whatever else a failure may have left).
        *unembedded = EmbedBacklog::default();
    }
    let embedded = result?;
    if !embedded.is_empty() {
        // Storing the vectors logged changes; catching up loads them.
        search.catch_up(store)?;
        tracing::info!(papers = embedded.len(), "embedded new papers");
    }
    Ok(Some(embedded.len()))
}
