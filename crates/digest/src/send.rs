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
//! A crash between 3 and 4 leaves a `sending` row, which the next run sends again:
//! the worst case is one duplicate, for the one subscriber whose message was in
//! flight (its Message-ID is the same, so many clients show one). Only one sender
//! runs at a time (an OS lock on a file beside the database, released when the
//! process dies), so a `sending` row seen by a run is always left by a stopped one.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::PathBuf;
use std::time::Instant;

use chrono::{DateTime, NaiveDate, Utc};
use papers_store::{Frequency, SendState, Store};
use serde::Serialize;

use crate::compose::PeriodData;
use crate::mail::{Mail, Mailer, SendError};
use crate::period::Period;
use crate::sources::Sources;
use crate::{DigestError, Digests, Email};

/// Consecutive "server unreachable" failures after which the run stops trying and
/// reports the rest as not attempted: each attempt would only wait for a timeout.
const UNREACHABLE_LIMIT: usize = 3;

/// Something that delivers mail: the SMTP [`Mailer`], or a stand-in in tests.
pub trait Deliver {
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
            Some(SenderLock::acquire(store)?)
        };
        let started = Instant::now();
        let period = Period::due(request.frequency, request.as_of);
        let data = PeriodData::load(store, &self.settings, period.clone())?;
        let states = store.digest_sends(&period.key)?;
        let subscriptions = store.confirmed_subscriptions(request.frequency)?;
        let mut report = Report {
            period_key: period.key.clone(),
            dry_run: request.dry_run,
            subscribers: subscriptions.len(),
            ..Report::default()
        };
        tracing::info!(period = %period.key, papers = data.len(), subscribers = subscriptions.len(), dry_run = request.dry_run, "sending digests");
        let mut deliver_time = std::time::Duration::ZERO;
        let mut unreachable = 0;
        for subscription in &subscriptions {
            let resuming = match states.get(&subscription.id) {
                Some(SendState::Sent) => {
                    report.already_sent += 1;
                    continue;
                }
                Some(SendState::Sending { claimed_at }) => {
                    tracing::warn!(subscription.id = subscription.id, %claimed_at, "resuming a digest a stopped run had begun; it may arrive twice");
                    true
                }
                None => false,
            };
            if unreachable >= UNREACHABLE_LIMIT {
                report.failed.push((
                    subscription.email.clone(),
                    "not attempted: the SMTP server is unreachable".to_owned(),
                ));
                continue;
            }
            let email = match Email::parse(&subscription.email) {
                Ok(email) => email,
                Err(e) => {
                    report
                        .failed
                        .push((subscription.email.clone(), e.to_string()));
                    continue;
                }
            };
            let digest = match self.compose_for(store, &data, sources, subscription) {
                Ok(digest) => digest,
                Err(DigestError::Source(reason)) => {
                    tracing::warn!(subscription.id = subscription.id, %reason, "cannot compose digest");
                    report.failed.push((subscription.email.clone(), reason));
                    continue;
                }
                Err(e) => return Err(e),
            };
            if digest.is_empty() {
                if resuming && !request.dry_run {
                    store.release_digest_send(subscription.id, &period.key)?;
                }
                report.skipped_empty += 1;
                continue;
            }
            let mail = self.digest_mail(&email, subscription, &digest, request.now)?;
            report.resumed += usize::from(resuming);
            if request.dry_run {
                report.sent += 1;
                continue;
            }
            if !store.claim_digest_send(subscription.id, &period.key, request.now)? {
                report.already_sent += 1;
                continue;
            }
            let delivering = Instant::now();
            let outcome = deliver.deliver(&mail);
            deliver_time += delivering.elapsed();
            match outcome {
                Ok(()) => {
                    store.record_digest_sent(
                        subscription.id,
                        &period.key,
                        &mail.message_id,
                        &digest.paper_keys(),
                        request.now,
                    )?;
                    report.sent += 1;
                    unreachable = 0;
                }
                Err(error) => {
                    store.release_digest_send(subscription.id, &period.key)?;
                    unreachable = if matches!(error, SendError::Unreachable(_)) {
                        unreachable + 1
                    } else {
                        0
                    };
                    tracing::warn!(subscription.id = subscription.id, %error, "digest not delivered");
                    report
                        .failed
                        .push((subscription.email.clone(), error.to_string()));
                }
            }
        }
        report.deliver_seconds = deliver_time.as_secs_f64();
        report.compose_seconds = (started.elapsed() - deliver_time).as_secs_f64();
        tracing::info!(period = %period.key, sent = report.sent, empty = report.skipped_empty, already_sent = report.already_sent, failed = report.failed.len(), "digests done");
        Ok(report)
    }
}

/// An exclusive lock on `<database>.digest-lock`, held for a whole run. The OS drops
/// it when the process ends, however it ends, so a crash never leaves it stuck.
struct SenderLock {
    _file: File,
}

impl SenderLock {
    fn acquire(store: &Store) -> Result<SenderLock, DigestError> {
        let mut path = PathBuf::from(store.path());
        path.set_extension("digest-lock");
        let shown = path.display().to_string();
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|source| DigestError::Lock {
                path: shown.clone(),
                source,
            })?;
        match file.try_lock() {
            Ok(()) => Ok(SenderLock { _file: file }),
            Err(TryLockError::WouldBlock) => Err(DigestError::SenderBusy { path: shown }),
            Err(TryLockError::Error(source)) => Err(DigestError::Lock {
                path: shown,
                source,
            }),
        }
    }
}
