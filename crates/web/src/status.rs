//! What a node reports to operators: the one report behind `/admin`,
//! `GET /api/admin/status` and the gauges of `/metrics`, and the index lags behind
//! `/readyz`. The store answers for the change log, the counts and the backlog; the
//! binary, through [`crate::NodeStatus`], for its indexes and model. Blocking: the
//! routes call these on a pooled store connection.

use chrono::{DateTime, SecondsFormat, Utc};
use papers_store::{Footprint, JobOutcome, JobStatus, Store, StoreError};
use serde::Serialize;

use crate::node::NodeStatus;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StatusReport {
    pub generated_at: String,
    pub change_log: ChangeLogReport,
    pub indexes: Vec<IndexReport>,
    /// `None` without a model: nothing is being embedded.
    pub embeddings: Option<EmbeddingReport>,
    /// Every background job that has run against this store (on any node).
    pub jobs: Vec<JobReport>,
    pub store: StoreReport,
}

/// A background job (harvester, digest sender, embedder): its latest run and how the
/// last success and failure went.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct JobReport {
    pub name: String,
    pub last_started: String,
    /// `None` while the latest run is still going (or its node died mid-run).
    pub last_finished: Option<String>,
    /// "ok", "failed", or `None` while running.
    pub result: Option<&'static str>,
    /// Records the latest run wrote.
    pub records: u64,
    pub next_run: Option<String>,
    pub last_success: Option<String>,
    /// The same instant, for the metrics gauge.
    #[serde(skip)]
    pub last_success_at: Option<DateTime<Utc>>,
    /// The newest failed run's error, however long ago.
    pub last_error: Option<String>,
}

impl From<JobStatus> for JobReport {
    fn from(status: JobStatus) -> JobReport {
        let latest = status.latest;
        JobReport {
            name: status.job,
            last_started: timestamp(latest.started_at),
            last_finished: latest.finished_at.map(timestamp),
            result: latest.outcome.map(JobOutcome::as_str),
            records: latest.records,
            next_run: latest.next_run.map(timestamp),
            last_success: status.last_success.map(timestamp),
            last_success_at: status.last_success,
            last_error: status.last_failure.and_then(|run| run.error),
        }
    }
}

fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ChangeLogReport {
    /// The newest change's sequence number.
    pub newest: i64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct IndexReport {
    pub name: String,
    /// The change-log position the index covers.
    pub watermark: i64,
    /// Changes written after it.
    pub behind: u64,
    /// How long the oldest of those has waited, in seconds (0 when caught up).
    pub lag_seconds: i64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EmbeddingReport {
    pub model: String,
    /// Papers without a vector of the model.
    pub backlog: u64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StoreReport {
    pub engine: &'static str,
    pub bytes: Option<u64>,
    pub papers: u64,
    pub in_feed: u64,
    pub embeddings: u64,
    pub members: u64,
    pub sessions: u64,
    pub access_tokens: u64,
    pub subscriptions: u64,
    pub votes: u64,
    pub changes: u64,
}

impl From<Footprint> for StoreReport {
    fn from(footprint: Footprint) -> StoreReport {
        StoreReport {
            engine: footprint.engine,
            bytes: footprint.bytes,
            papers: footprint.papers,
            in_feed: footprint.in_feed,
            embeddings: footprint.embeddings,
            members: footprint.members,
            sessions: footprint.sessions,
            access_tokens: footprint.access_tokens,
            subscriptions: footprint.subscriptions,
            votes: footprint.votes,
            changes: footprint.changes,
        }
    }
}

/// Why a status could not be put together.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StatusError {
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("indexes: {0}")]
    Node(#[source] crate::search::BoxError),
}

/// The full report at `now`, from one store connection.
pub(crate) fn collect(
    store: &Store,
    node: Option<&dyn NodeStatus>,
    now: DateTime<Utc>,
) -> Result<StatusReport, StatusError> {
    let indexes = index_lags(store, node, now)?;
    let newest = store.change_lag(i64::MAX)?.newest;
    let embeddings = match node.and_then(NodeStatus::embedding_model) {
        Some(model) => Some(EmbeddingReport {
            backlog: store.embedding_backlog(&model)?,
            model,
        }),
        None => None,
    };
    Ok(StatusReport {
        generated_at: timestamp(now),
        change_log: ChangeLogReport { newest },
        indexes,
        embeddings,
        jobs: store.job_runs()?.into_iter().map(JobReport::from).collect(),
        store: store.footprint()?.into(),
    })
}

/// Each index's distance from the change log.
pub(crate) fn index_lags(
    store: &Store,
    node: Option<&dyn NodeStatus>,
    now: DateTime<Utc>,
) -> Result<Vec<IndexReport>, StatusError> {
    let Some(node) = node else {
        return Ok(Vec::new());
    };
    let watermarks = node.index_watermarks().map_err(StatusError::Node)?;
    watermarks
        .into_iter()
        .map(|index| {
            let lag = store.change_lag(index.watermark)?;
            Ok(IndexReport {
                name: index.name,
                watermark: index.watermark,
                behind: lag.pending,
                lag_seconds: lag.delay(now).num_seconds(),
            })
        })
        .collect()
}
