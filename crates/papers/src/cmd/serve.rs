//! `papers serve`: the web site, JSON API and feeds over the data directory, plus,
//! when SMTP is configured, the scheduler that sends the digests every day.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use chrono::{NaiveTime, Utc};
use chrono_tz::Tz;
use papers_digest::{Deliver, Digests, Frequency, Mailer, feed_day, next_send_time};
use papers_store::Store;
use papers_web::{AppConfig, AppState};

use crate::cli::{Cli, ServeArgs};
use crate::cmd::digest;
use crate::search_service::{SearchService, WebSearch, embed_missing, load_optional_model};

pub fn run(cli: &Cli, args: &ServeArgs) -> anyhow::Result<ExitCode> {
    let public_url = args
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", args.addr));
    let config = AppConfig::new(cli.data_dir.clone(), public_url.clone());
    let search = open_search(cli)?;
    let digests = Arc::new(digest::engine(
        &cli.data_dir,
        &public_url,
        &args.mail,
        search.embedder_model_id().as_deref(),
    )?);
    let mailer = digest::mailer(&args.mail, &public_url)?.map(Arc::new);
    if mailer.is_none() {
        tracing::info!("PAPERS_SMTP_URL is not set: no confirmation mails, no scheduled digests");
    }
    let web_mailer = mailer.clone().map(|m| m as Arc<dyn Deliver + Send + Sync>);
    let state = AppState::open(config)
        .with_context(|| format!("opening {}", cli.data_dir.display()))?
        .with_digests(digests.clone(), web_mailer)
        .with_search(Arc::new(WebSearch(search.clone())));
    spawn_index_follower(cli.data_dir.clone(), search);
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    if let Some(workers) = args.workers {
        runtime.worker_threads(workers.max(1));
    }
    let runtime = runtime
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    if let Some(mailer) = mailer {
        runtime.spawn(schedule(
            cli.data_dir.clone(),
            digests,
            mailer,
            args.digest_time,
            args.digest_tz,
        ));
    }
    tracing::info!(addr = %args.addr, data_dir = %cli.data_dir.display(), "serving");
    eprintln!("papers: serving on http://{}", args.addr);
    runtime
        .block_on(papers_web::serve(args.addr, state))
        .with_context(|| format!("serving on {}", args.addr))?;
    Ok(ExitCode::SUCCESS)
}

/// Sleeps until the next send time, then sends the daily and weekly digests due on
/// that feed day. A failed run is logged; the next one catches up
/// because sends are recorded per subscriber and period.
async fn schedule(
    data_dir: PathBuf,
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
        let (data_dir, digests, mailer) = (data_dir.clone(), digests.clone(), mailer.clone());
        let result =
            tokio::task::spawn_blocking(move || send_due(&data_dir, &digests, &mailer)).await;
        if let Err(error) = result {
            tracing::error!(%error, "digest send task failed");
        }
    }
}

fn send_due(data_dir: &std::path::Path, digests: &Digests, mailer: &Mailer) {
    let now = Utc::now();
    let as_of = feed_day(now);
    let mut store = match Store::open(data_dir) {
        Ok(store) => store,
        Err(error) => {
            tracing::error!(%error, "cannot open the store for digests");
            return;
        }
    };
    // The weekly period due on any day of a week is the week before, so asking every
    // day sends it on the first run of the week and skips it (already sent) after;
    // a failed Monday is caught up on Tuesday.
    for frequency in [Frequency::Daily, Frequency::Weekly] {
        match digest::send(digests, &mut store, mailer, frequency, as_of, now, false) {
            Ok(report) => tracing::info!(
                period = %report.period_key,
                sent = report.sent,
                skipped_empty = report.skipped_empty,
                already_sent = report.already_sent,
                failed = report.failed.len(),
                "digests sent"
            ),
            Err(error) => tracing::error!(error = format!("{error:#}"), "digest send failed"),
        }
    }
}

/// Opens search over the data directory and brings it up to date with the store before
/// the first request. Without a model, search is lexical and the site says so.
fn open_search(cli: &Cli) -> anyhow::Result<Arc<SearchService>> {
    let embedder = load_optional_model(
        cli.model.clone(),
        "no embedding model, search is keyword-only",
    );
    let service = Arc::new(SearchService::open(&cli.data_dir, embedder)?);
    let store = Store::open(&cli.data_dir)?;
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

/// Follows the store from a background thread: every two seconds, papers ingested by
/// any process are indexed, and, with a model, embedded in small batches so that new
/// papers become findable by meaning without a separate `papers index` run.
fn spawn_index_follower(data_dir: PathBuf, search: Arc<SearchService>) {
    std::thread::spawn(move || {
        let mut store = match Store::open(&data_dir) {
            Ok(store) => store,
            Err(error) => {
                tracing::error!(%error, "index follower cannot open the store");
                return;
            }
        };
        loop {
            if let Err(error) = follow_once(&mut store, &search) {
                tracing::warn!(error = format!("{error:#}"), "index follower");
            }
            std::thread::sleep(std::time::Duration::from_secs(2));
        }
    });
}

fn follow_once(store: &mut Store, search: &SearchService) -> anyhow::Result<()> {
    search.catch_up(store)?;
    if let Some(embedder) = search.embedder() {
        let embedded = embed_missing(store, embedder, Some(1), |_| {})?;
        if !embedded.is_empty() {
            let watermark = store.last_change()? as u64;
            search.update_keys(store, &embedded, watermark)?;
            tracing::info!(papers = embedded.len(), "embedded new papers");
        }
    }
    Ok(())
}
