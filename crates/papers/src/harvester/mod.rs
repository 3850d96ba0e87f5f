//! Scheduled harvesting inside `papers serve`: each arXiv set and the Hugging Face
//! refresh is a job with its own thread, run when due, by one node at a time.
//!
//! A job is due when it never succeeded, when its interval has passed since its last
//! success, or (arXiv) when its daily time has come since then: so a node started
//! after a gap harvests at once, and then arXiv runs once a day after its nightly
//! announcement and Hugging Face hourly. Before running, a node takes the job's claim
//! (`Store::try_claim_job`, one per set) and reads the last success again under it, so
//! of several nodes exactly one harvests and the others find the job done. Where each
//! set stands is kept in the store (`harvest_state`), moved with each page stored, so a
//! restart, or another node, continues where the last run ended. A failed run is
//! retried after `--harvest-retry-delay`, doubled after each failure in a row up to the
//! job's interval. Every run is recorded in `job_runs`.

mod arxiv;
mod hf;
mod spec;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Days, NaiveDate, Utc};
use papers_digest::next_send_time;
use papers_ingest::harvest::{Client, SystemClock};
use papers_store::{Database, JobFinish, Store};

use crate::config::HarvestConfig;
pub use spec::{ArxivSet, HF_JOB, HarvestSpec, Interval};

/// The longest sleep between two looks at the store: a job due later is looked at
/// again, so a success recorded by another node, or a clock change, is noticed.
const LONGEST_SLEEP: Duration = Duration::from_secs(300);

/// One harvesting job.
#[derive(Debug, Clone)]
enum Job {
    Arxiv(ArxivSet),
    Hf,
}

impl Job {
    fn name(&self) -> String {
        match self {
            Job::Arxiv(set) => set.job(),
            Job::Hf => HF_JOB.to_owned(),
        }
    }

    fn interval(&self, config: &HarvestConfig) -> Duration {
        match self {
            Job::Arxiv(_) => config.arxiv_interval.0,
            Job::Hf => config.hf_interval.0,
        }
    }

    /// When the job is next due after its last success `last`.
    fn due(&self, last: Option<DateTime<Utc>>, config: &HarvestConfig) -> DateTime<Utc> {
        let Some(last) = last else {
            return DateTime::<Utc>::MIN_UTC;
        };
        let by_interval = last + chrono_duration(self.interval(config));
        match self {
            Job::Arxiv(_) => {
                by_interval.min(next_send_time(last, config.arxiv_time, config.arxiv_tz))
            }
            Job::Hf => by_interval,
        }
    }

    /// Runs the job once, counting what it wrote into `written`.
    fn run(
        &self,
        store: &mut Store,
        config: &HarvestConfig,
        now: DateTime<Utc>,
        written: &mut u64,
    ) -> anyhow::Result<()> {
        let client = Client::new(Arc::new(SystemClock))
            .with_min_interval(Duration::from_millis(config.request_delay_ms as u64));
        match self {
            Job::Arxiv(set) => {
                let since = config.since.unwrap_or_else(|| default_since(now));
                arxiv::harvest_set(store, client, &config.arxiv_oai_url, set, since, written)
            }
            Job::Hf => {
                let mut client = client;
                hf::refresh(
                    store,
                    &mut client,
                    &config.hf_url,
                    now.date_naive(),
                    config.hf_days,
                    written,
                )
            }
        }
    }
}

/// Two days back: what a fresh store harvests when `--harvest-since` is not given.
fn default_since(now: DateTime<Utc>) -> NaiveDate {
    let today = now.date_naive();
    today.checked_sub_days(Days::new(2)).unwrap_or(today)
}

fn chrono_duration(duration: Duration) -> chrono::Duration {
    chrono::Duration::from_std(duration).unwrap_or(chrono::Duration::MAX)
}

/// Starts one thread per job of `config.sources`; nothing without sources.
pub fn spawn(database: &Database, config: &HarvestConfig) {
    let Some(spec) = &config.sources else {
        return;
    };
    tracing::info!(
        sources = %spec,
        arxiv_oai = config.arxiv_oai_url,
        arxiv_api = config.arxiv_api_url,
        hugging_face = config.hf_url,
        "scheduled harvesting"
    );
    let jobs = spec
        .arxiv
        .iter()
        .cloned()
        .map(Job::Arxiv)
        .chain(spec.hf.then_some(Job::Hf));
    for job in jobs {
        let (database, config) = (database.clone(), config.clone());
        let name = job.name();
        let spawned = std::thread::Builder::new()
            .name(name.clone())
            .spawn(move || run_forever(&database, &config, &job));
        if let Err(error) = spawned {
            tracing::error!(job = name, %error, "cannot start the harvester");
        }
    }
}

/// What a job's thread remembers between two looks at the store.
#[derive(Debug, Default)]
struct JobState {
    /// Failures in a row.
    failures: u32,
    /// When to try again after the last failure.
    retry_at: Option<DateTime<Utc>>,
    /// Whether "another node is harvesting" was logged since this node last ran it.
    told_busy: bool,
}

fn run_forever(database: &Database, config: &HarvestConfig, job: &Job) {
    let name = job.name();
    let mut store = None;
    let mut state = JobState::default();
    loop {
        let store_ref = match &mut store {
            Some(store) => store,
            // The job's connection lives as long as the server.
            None => match Store::connect_long_lived(database) {
                Ok(opened) => store.insert(opened),
                Err(error) => {
                    tracing::error!(job = name, %error, "harvester cannot open the store");
                    std::thread::sleep(config.retry_delay.0.min(LONGEST_SLEEP));
                    continue;
                }
            },
        };
        match step(store_ref, config, job, &mut state) {
            Ok(wait) => std::thread::sleep(wait.min(LONGEST_SLEEP)),
            Err(error) => {
                // The store itself failed (not the source): reconnect after a pause.
                tracing::error!(job = name, error = format!("{error:#}"), "harvester");
                store = None;
                std::thread::sleep(config.retry_delay.0.min(LONGEST_SLEEP));
            }
        }
    }
}

/// Runs the job if it is due and this node gets its claim; returns how long to wait
/// before looking again. Errors are the store's; the source's are recorded in the run.
fn step(
    store: &mut Store,
    config: &HarvestConfig,
    job: &Job,
    state: &mut JobState,
) -> anyhow::Result<Duration> {
    let name = job.name();
    let now = Utc::now();
    let due = match state.retry_at {
        Some(at) => at,
        None => job.due(store.last_job_success(&name)?, config),
    };
    if due > now {
        return Ok((due - now).to_std().unwrap_or_default());
    }
    let Some(claim) = store.try_claim_job(&name)? else {
        // Another node runs it; once it is done its success makes the job not due.
        if !state.told_busy {
            tracing::info!(job = name, "another node is harvesting");
            state.told_busy = true;
        }
        return Ok(config.retry_delay.0.min(Duration::from_secs(30)));
    };
    // Another node may have finished the job between the look above and the claim.
    state.told_busy = false;
    if state.retry_at.is_none() && job.due(store.last_job_success(&name)?, config) > now {
        drop(claim);
        return Ok(Duration::ZERO);
    }
    let run = store.record_job_start(&name, now)?;
    let mut written = 0;
    let result = job.run(store, config, now, &mut written);
    let finished = Utc::now();
    let finish = match result {
        Ok(()) => {
            state.failures = 0;
            state.retry_at = None;
            let next = job.due(Some(finished), config);
            tracing::info!(job = name, written, next = %next, "harvest done");
            JobFinish::ok(written, Some(next))
        }
        Err(error) => {
            state.failures = state.failures.saturating_add(1);
            let backoff = config
                .retry_delay
                .0
                .saturating_mul(2u32.saturating_pow(state.failures - 1))
                .min(job.interval(config).max(config.retry_delay.0));
            let next = finished + chrono_duration(backoff);
            state.retry_at = Some(next);
            let error = format!("{error:#}");
            tracing::warn!(job = name, written, %error, retry_at = %next, "harvest failed");
            JobFinish::failed(written, error, Some(next))
        }
    };
    store.record_job_finish(run, &finish, finished)?;
    drop(claim);
    Ok(Duration::ZERO)
}
