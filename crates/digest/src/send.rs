//! `send_digests`: compose and mail every due digest exactly once.
//!
//! Exactly once, per subscription and period key:
//! 1. a `sent` row means done: skipped;
//! 2. otherwise the digest is composed; an empty one is skipped (no row, so a later
//!    run with more data may still send it);
//! 3. a `sending` row is written before the SMTP transaction;
//! 4. after the server accepts the message, the row becomes `sent` and the digest's
//!    papers are recorded, in one transaction; a refused message drops the row, so
//!    the next run retries it.
//!
//! A crash between 3 and 4 leaves a `sending` row, which the next run sends again.
//! One message is in flight at a time: the next digest goes to the server only after
//! the previous one's outcome is recorded, so the worst case after a crash is ONE
//! duplicate, for ONE subscriber (the message the server accepted just before the
//! crash). That costs no speed: [`Mailer`] keeps one connection open with
//! `TCP_NODELAY` set, which is what made one connection slow before (Nagle's
//! algorithm held each message's closing `.` for the server's delayed ACK, about
//! 40 ms a message), and composing the next digests overlaps the transaction. A
//! duplicate carries the same Message-ID, so many clients show it once. Only one
//! sender runs at a time, on one node or many (a job claim in the store: an OS file
//! lock beside a SQLite database, a session advisory lock on PostgreSQL, both
//! released when the holder dies), so a `sending` row seen by a run was always left
//! by a stopped one.

use std::collections::HashMap;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use papers_store::{Frequency, JobClaim, SendState, Store, Subscription};
use serde::Serialize;

use crate::compose::{PeriodData, SubscriberInputs};
use crate::mail::{Mail, Mailer, SendError};
use crate::period::Period;
use crate::sources::{SavedSearch, Sources};
use crate::{DigestError, Digests, Email};

/// Consecutive "server unreachable" failures after which the run stops trying and
/// reports the rest as not attempted: each attempt would only wait for a timeout.
const UNREACHABLE_LIMIT: usize = 3;

/// Subscribers read, then composed in parallel, at a time.
const COMPOSE_CHUNK: usize = 1024;

/// Something that delivers mail: the SMTP [`Mailer`], or a stand-in in tests.
/// `deliver` returns once the mail was accepted or given up on.
pub trait Deliver: Sync {
    fn deliver(&self, mail: &Mail) -> Result<(), SendError>;
}

impl Deliver for Mailer {
    fn deliver(&self, mail: &Mail) -> Result<(), SendError> {
        self.send(mail)
    }
}

/// For `--dry-run` without SMTP settings: never called by a dry run.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoDelivery;

impl Deliver for NoDelivery {
    fn deliver(&self, _mail: &Mail) -> Result<(), SendError> {
        Err(SendError::Unreachable(
            "no SMTP server configured".to_owned(),
        ))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendRequest {
    pub frequency: Frequency,
    /// The day the digests were due (see [`Period::due`]).
    pub as_of: NaiveDate,
    /// Stamps the records and the mails' Date header; links expire relative to it.
    pub now: DateTime<Utc>,
    /// Compose and count, but neither mail nor record anything.
    pub dry_run: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Report {
    pub period_key: String,
    pub dry_run: bool,
    /// Digests the server accepted (in a dry run: that would have been sent).
    pub sent: usize,
    pub skipped_empty: usize,
    pub already_sent: usize,
    /// Of `sent` or `failed`: digests a stopped run had begun, sent again.
    pub resumed: usize,
    /// Address and reason, for every digest not delivered.
    pub failed: Vec<(String, String)>,
    pub subscribers: usize,
    pub compose_seconds: f64,
    pub deliver_seconds: f64,
}

/// A digest handed to a delivery worker, with what recording it needs.
struct Job {
    subscription_id: i64,
    paper_keys: Vec<i64>,
    mail: Mail,
}

/// A subscriber whose digest is about to be composed.
struct Pending<'s> {
    subscription: &'s Subscription,
    email: Email,
    inputs: SubscriberInputs,
    resuming: bool,
    /// Filled in once composed.
    paper_keys: Vec<i64>,
}

/// A composed digest's mail and papers; `None` when the digest is empty.
type Composed = Result<Option<(Mail, Vec<i64>)>, DigestError>;
/// A composed digest's mail, its papers moved into the [`Pending`].
type Built = Result<Option<Mail>, DigestError>;

/// The run's counters, updated as deliveries finish.
struct Progress {
    report: Report,
    /// Consecutive "server unreachable" failures.
    unreachable: usize,
}

impl Digests {
    pub fn send_digests(
        &self,
        store: &mut Store,
        deliver: &dyn Deliver,
        sources: &Sources<'_>,
        request: &SendRequest,
    ) -> Result<Report, DigestError> {
        let _lock = if request.dry_run {
            None
        } else {
            Some(claim_sender(store)?)
        };
        let started = Instant::now();
        let period = Period::due(request.frequency, request.as_of);
        let data = PeriodData::load(store, &self.settings, period.clone())?;
        // A subscription made through an account waits until the account's address is
        // verified: an account made with someone else's address gets no digests.
        let awaiting = store.subscriptions_awaiting_verification()?;
        let subscriptions: Vec<Subscription> = store
            .confirmed_subscriptions(request.frequency)?
            .into_iter()
            .filter(|subscription| !awaiting.contains(&subscription.id))
            .collect();
        let mut progress = Progress {
            report: Report {
                period_key: period.key.clone(),
                dry_run: request.dry_run,
                subscribers: subscriptions.len(),
                ..Report::default()
            },
            unreachable: 0,
        };
        tracing::info!(period = %period.key, papers = data.len(), subscribers = subscriptions.len(), dry_run = request.dry_run, "sending digests");
        let (result_sender, results) = mpsc::channel::<(Job, Result<(), SendError>)>();
        let mut compose_time = Duration::ZERO;
        // A digest handed to the delivery thread and not yet recorded: at most one.
        let mut in_flight = false;
        let run = std::thread::scope(|scope| -> Result<(), DigestError> {
            // Created inside the scope so that an early return drops it, which ends
            // the delivery thread's loop instead of leaving the scope waiting for it.
            let (jobs, job_receiver) = mpsc::sync_channel::<Job>(1);
            if !request.dry_run {
                // Delivers while the next digests are composed. It owns the only
                // result sender, so if it dies, waiting for its result ends.
                scope.spawn(move || {
                    for job in job_receiver {
                        let outcome = deliver.deliver(&job.mail);
                        if result_sender.send((job, outcome)).is_err() {
                            return;
                        }
                    }
                });
            }
            let states = store.digest_sends(&period.key)?;
            // Reading from the store is serial (one connection); composing and
            // rendering are pure and run on every core, a chunk at a time.
            for chunk in subscriptions.chunks(COMPOSE_CHUNK) {
                let composing = Instant::now();
                let mut pending = Vec::with_capacity(chunk.len());
                for subscription in chunk {
                    if let Some(ready) =
                        self.gather(store, &data, sources, subscription, &states, &mut progress)?
                    {
                        pending.push(ready);
                    }
                }
                let built = self.build_all(&data, sources.search, pending, request.now)?;
                compose_time += composing.elapsed();
                for (pending, digest) in built {
                    if in_flight && let Ok((job, outcome)) = results.try_recv() {
                        in_flight = false;
                        finish(store, &period, request, job, outcome, &mut progress)?;
                    }
                    let Some(job) = self.settle(store, &data, pending, digest, &mut progress)?
                    else {
                        continue;
                    };
                    if request.dry_run {
                        progress.report.sent += 1;
                        continue;
                    }
                    if !store.claim_digest_send(job.subscription_id, &period.key, request.now)? {
                        progress.report.already_sent += 1;
                        continue;
                    }
                    // The previous digest is recorded before this one goes out: one
                    // message between claim and record bounds a crash to one duplicate.
                    if in_flight {
                        let Ok((job, outcome)) = results.recv() else {
                            break;
                        };
                        in_flight = false;
                        finish(store, &period, request, job, outcome, &mut progress)?;
                    }
                    if jobs.send(job).is_err() {
                        break;
                    }
                    in_flight = true;
                }
            }
            drop(jobs);
            Ok(())
        });
        // Whatever ended the run, a delivery the server answered is recorded.
        let recorded = results.into_iter().try_for_each(|(job, outcome)| {
            finish(store, &period, request, job, outcome, &mut progress)
        });
        run?;
        recorded?;
        let mut report = progress.report;
        // Sorted, the report reads the same however composing and delivery interleave.
        report.failed.sort();
        report.compose_seconds = compose_time.as_secs_f64();
        report.deliver_seconds = (started.elapsed() - compose_time).as_secs_f64();
        tracing::info!(period = %period.key, sent = report.sent, empty = report.skipped_empty, already_sent = report.already_sent, failed = report.failed.len(), "digests done");
        Ok(report)
    }

    /// Reads what composing one subscriber's digest needs, or says why there is none.
    fn gather<'s>(
        &self,
        store: &Store,
        data: &PeriodData,
        sources: &Sources<'_>,
        subscription: &'s Subscription,
        states: &HashMap<i64, SendState>,
        progress: &mut Progress,
    ) -> Result<Option<Pending<'s>>, DigestError> {
        let report = &mut progress.report;
        let resuming = match states.get(&subscription.id) {
            Some(SendState::Sent) => {
                report.already_sent += 1;
                return Ok(None);
            }
            Some(SendState::Sending { claimed_at }) => {
                tracing::warn!(subscription.id = subscription.id, %claimed_at, "resuming a digest a stopped run had begun; it may arrive twice");
                true
            }
            None => false,
        };
        if progress.unreachable >= UNREACHABLE_LIMIT {
            let reason = "not attempted: the SMTP server is unreachable".to_owned();
            report.failed.push((subscription.email.clone(), reason));
            return Ok(None);
        }
        let email = match Email::parse(&subscription.email) {
            Ok(email) => email,
            Err(e) => {
                report
                    .failed
                    .push((subscription.email.clone(), e.to_string()));
                return Ok(None);
            }
        };
        match data.inputs(store, &self.settings, sources, subscription) {
            Ok(inputs) => Ok(Some(Pending {
                subscription,
                email,
                inputs,
                resuming,
                paper_keys: Vec::new(),
            })),
            Err(DigestError::Source(reason)) => {
                tracing::warn!(subscription.id = subscription.id, %reason, "cannot compose digest");
                report.failed.push((subscription.email.clone(), reason));
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Composes and renders a chunk on all cores, keeping its order.
    fn build_all<'s>(
        &self,
        data: &PeriodData,
        search: &dyn SavedSearch,
        pending: Vec<Pending<'s>>,
        now: DateTime<Utc>,
    ) -> Result<Vec<(Pending<'s>, Built)>, DigestError> {
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, 8);
        let size = pending.len().div_ceil(threads).max(1);
        // The same for every subscriber of the period, as in the preview.
        let rising = self.rising(&data.period);
        let build = |item: &Pending<'_>| -> Composed {
            let mut digest =
                data.compose(&self.settings, search, item.subscription, &item.inputs)?;
            digest.rising = rising.clone();
            if digest.is_empty() {
                return Ok(None);
            }
            let mail = self.digest_mail(&item.email, item.subscription, &digest, now)?;
            Ok(Some((mail, digest.paper_keys())))
        };
        let outcomes: Vec<Composed> = std::thread::scope(|scope| {
            let handles: Vec<_> = pending
                .chunks(size)
                .map(|part| scope.spawn(move || part.iter().map(build).collect::<Vec<_>>()))
                .collect();
            handles
                .into_iter()
                .flat_map(|handle| {
                    handle
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                })
                .collect()
        });
        Ok(pending
            .into_iter()
            .zip(outcomes)
            .map(|(mut item, outcome)| {
                let outcome = outcome.map(|built| {
                    built.map(|(mail, keys)| {
                        item.paper_keys = keys;
                        mail
                    })
                });
                (item, outcome)
            })
            .collect())
    }

    /// Turns a composed digest into a delivery job, or counts why it has none.
    fn settle(
        &self,
        store: &Store,
        data: &PeriodData,
        pending: Pending<'_>,
        built: Built,
        progress: &mut Progress,
    ) -> Result<Option<Job>, DigestError> {
        let report = &mut progress.report;
        let subscription = pending.subscription;
        match built {
            Ok(Some(mail)) => {
                report.resumed += usize::from(pending.resuming);
                Ok(Some(Job {
                    subscription_id: subscription.id,
                    paper_keys: pending.paper_keys,
                    mail,
                }))
            }
            Ok(None) => {
                // A claim left by a stopped run for a digest that is now empty: let go.
                if pending.resuming && !report.dry_run {
                    store.release_digest_send(subscription.id, &data.period.key)?;
                }
                report.skipped_empty += 1;
                Ok(None)
            }
            Err(DigestError::Source(reason)) => {
                tracing::warn!(subscription.id = subscription.id, %reason, "cannot compose digest");
                report.failed.push((subscription.email.clone(), reason));
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }
}

/// Records one finished delivery: sent, or released for the next run.
fn finish(
    store: &mut Store,
    period: &Period,
    request: &SendRequest,
    job: Job,
    outcome: Result<(), SendError>,
    progress: &mut Progress,
) -> Result<(), DigestError> {
    match outcome {
        Ok(()) => {
            store.record_digest_sent(
                job.subscription_id,
                &period.key,
                &job.mail.message_id,
                &job.paper_keys,
                request.now,
            )?;
            progress.report.sent += 1;
            progress.unreachable = 0;
        }
        Err(error) => {
            store.release_digest_send(job.subscription_id, &period.key)?;
            progress.unreachable = if matches!(error, SendError::Unreachable(_)) {
                progress.unreachable + 1
            } else {
                0
            };
            tracing::warn!(subscription.id = job.subscription_id, %error, "digest not delivered");
            progress
                .report
                .failed
                .push((job.mail.to.to_string(), error.to_string()));
        }
    }
    Ok(())
}

/// The name under which a sender claims the store (see [`Store::try_claim_job`]).
pub const SENDER_JOB: &str = "digest-sender";

/// Claims the sender job for a whole run. The claim dies with the process or its
/// database session, so a crash never leaves it stuck.
fn claim_sender(store: &Store) -> Result<JobClaim, DigestError> {
    store
        .try_claim_job(SENDER_JOB)?
        .ok_or_else(|| DigestError::SenderBusy {
            store: store.location().describe(),
        })
}
