//! The record of background jobs' runs (harvests, the digest sender, the embedder):
//! when each ran, how it ended, what it wrote, why it failed and when it runs next.
//!
//! A run is written when it starts and completed when it ends, so a run in progress
//! shows as such, and one whose node died stays unfinished (a later run of the same
//! job supersedes it). Jobs record their runs while holding their claim
//! ([`Store::try_claim_job`]), so runs of one job never overlap. Each job keeps its
//! newest [`RUNS_KEPT`] runs.

use chrono::{DateTime, Utc};

use crate::codec::{parse_timestamp, timestamp};
use crate::db::{Row, WriteOrder, args};
use crate::{Corruption, Store, StoreError};

/// Runs kept per job; older ones are deleted when a run finishes.
pub const RUNS_KEPT: i64 = 200;

/// How a finished run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JobOutcome {
    Ok,
    Failed,
}

impl JobOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            JobOutcome::Ok => "ok",
            JobOutcome::Failed => "failed",
        }
    }

    fn parse(text: &str) -> Option<JobOutcome> {
        match text {
            "ok" => Some(JobOutcome::Ok),
            "failed" => Some(JobOutcome::Failed),
            _ => None,
        }
    }
}

/// What a run reports when it ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobFinish {
    pub outcome: JobOutcome,
    /// What the run wrote: papers stored, mails sent, vectors embedded.
    pub records: u64,
    /// Why it failed (for [`JobOutcome::Failed`]).
    pub error: Option<String>,
    /// When the job plans to run next, if it knows.
    pub next_run: Option<DateTime<Utc>>,
}

impl JobFinish {
    pub fn ok(records: u64, next_run: Option<DateTime<Utc>>) -> JobFinish {
        JobFinish {
            outcome: JobOutcome::Ok,
            records,
            error: None,
            next_run,
        }
    }

    pub fn failed(records: u64, error: String, next_run: Option<DateTime<Utc>>) -> JobFinish {
        JobFinish {
            outcome: JobOutcome::Failed,
            records,
            error: Some(error),
            next_run,
        }
    }
}

/// One run of a job.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct JobRun {
    pub id: i64,
    pub job: String,
    pub started_at: DateTime<Utc>,
    /// `None` while running, or when the node running it stopped first.
    pub finished_at: Option<DateTime<Utc>>,
    /// `None` until finished.
    pub outcome: Option<JobOutcome>,
    pub records: u64,
    pub error: Option<String>,
    pub next_run: Option<DateTime<Utc>>,
}

/// A job as an operator wants to see it: its latest run, its last success and its
/// last failure (which may be older than the latest run).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct JobStatus {
    pub job: String,
    pub latest: JobRun,
    /// When the newest successful run finished.
    pub last_success: Option<DateTime<Utc>>,
    /// The newest failed run.
    pub last_failure: Option<JobRun>,
}

const RUN_COLUMNS: &str = "id, job, started_at, finished_at, outcome, records, error, next_run";

fn run_from_row(row: &Row) -> Result<JobRun, StoreError> {
    let job: String = row.get(1)?;
    let outcome = match row.get::<Option<String>>(4)? {
        None => None,
        Some(text) => Some(JobOutcome::parse(&text).ok_or_else(|| StoreError::Corrupt {
            id: job.clone(),
            source: Corruption::Outcome(text),
        })?),
    };
    Ok(JobRun {
        id: row.get(0)?,
        started_at: parse_timestamp(&job, row.get(2)?)?
            .ok_or_else(|| crate::codec::corrupt(&job, Corruption::Missing("started_at")))?,
        finished_at: parse_timestamp(&job, row.get(3)?)?,
        outcome,
        records: row.get::<i64>(5)?.max(0) as u64,
        error: row.get(6)?,
        next_run: parse_timestamp(&job, row.get(7)?)?,
        job,
    })
}

impl Store {
    /// Records that a run of `job` started at `now`; returns the run's id for
    /// [`Store::record_job_finish`]. Call it while holding the job's claim.
    pub fn record_job_start(&self, job: &str, now: DateTime<Utc>) -> Result<i64, StoreError> {
        self.db
            .query_one(
                "INSERT INTO job_runs (job, started_at) VALUES (?1, ?2) RETURNING id",
                args![job, timestamp(Some(now))],
            )?
            .get(0)
    }

    /// Completes the run `run` and drops the job's runs beyond the newest
    /// [`RUNS_KEPT`].
    pub fn record_job_finish(
        &self,
        run: i64,
        finish: &JobFinish,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.db.transaction(WriteOrder::Concurrent, |db| {
            let records = i64::try_from(finish.records).unwrap_or(i64::MAX);
            let job: Option<String> = db
                .query_opt(
                    "UPDATE job_runs SET finished_at = ?1, outcome = ?2, records = ?3, \
                     error = ?4, next_run = ?5 WHERE id = ?6 RETURNING job",
                    args![
                        timestamp(Some(now)),
                        finish.outcome.as_str(),
                        records,
                        finish.error,
                        timestamp(finish.next_run),
                        run
                    ],
                )?
                .map(|row| row.get(0))
                .transpose()?;
            if let Some(job) = job {
                db.execute(
                    "DELETE FROM job_runs WHERE job = ?1 AND id <= \
                     (SELECT id FROM job_runs WHERE job = ?1 ORDER BY id DESC \
                     LIMIT 1 OFFSET ?2)",
                    args![job, RUNS_KEPT],
                )?;
            }
            Ok(())
        })
    }

    /// Records a run that was started and will not be finished because it found
    /// another node doing the job: it never ran, so it leaves no trace.
    pub fn forget_job_run(&self, run: i64) -> Result<(), StoreError> {
        self.db
            .execute("DELETE FROM job_runs WHERE id = ?1", args![run])?;
        Ok(())
    }

    /// Every job that has run, by name: its latest run, last success and last failure.
    pub fn job_runs(&self) -> Result<Vec<JobStatus>, StoreError> {
        let latest = self.db.query(
            &format!(
                "SELECT {RUN_COLUMNS} FROM job_runs WHERE id IN \
                 (SELECT MAX(id) FROM job_runs GROUP BY job) ORDER BY job"
            ),
            &[],
        )?;
        let failures = self.db.query(
            &format!(
                "SELECT {RUN_COLUMNS} FROM job_runs WHERE id IN \
                 (SELECT MAX(id) FROM job_runs WHERE outcome = 'failed' GROUP BY job)"
            ),
            &[],
        )?;
        let successes = self.db.query(
            "SELECT job, MAX(finished_at) FROM job_runs WHERE outcome = 'ok' GROUP BY job",
            &[],
        )?;
        let mut last_failure = std::collections::HashMap::new();
        for row in &failures {
            let run = run_from_row(row)?;
            last_failure.insert(run.job.clone(), run);
        }
        let mut last_success = std::collections::HashMap::new();
        for row in &successes {
            let job: String = row.get(0)?;
            let at = parse_timestamp(&job, row.get(1)?)?;
            last_success.insert(job, at);
        }
        latest
            .iter()
            .map(|row| {
                let latest = run_from_row(row)?;
                Ok(JobStatus {
                    job: latest.job.clone(),
                    last_success: last_success.remove(&latest.job).flatten(),
                    last_failure: last_failure.remove(&latest.job),
                    latest,
                })
            })
            .collect()
    }

    /// When `job` last finished successfully, if ever: what a scheduler compares with
    /// the job's interval.
    pub fn last_job_success(&self, job: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        let row = self.db.query_one(
            "SELECT MAX(finished_at) FROM job_runs WHERE job = ?1 AND outcome = 'ok'",
            args![job],
        )?;
        parse_timestamp(job, row.get(0)?)
    }

    /// The newest runs of `job`, newest first.
    pub fn job_history(&self, job: &str, limit: usize) -> Result<Vec<JobRun>, StoreError> {
        self.db
            .query(
                &format!(
                    "SELECT {RUN_COLUMNS} FROM job_runs WHERE job = ?1 ORDER BY id DESC LIMIT ?2"
                ),
                args![job, limit],
            )?
            .iter()
            .map(run_from_row)
            .collect()
    }
}
