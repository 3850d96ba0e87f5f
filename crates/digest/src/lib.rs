//! Email digests: subscriptions with double opt-in, composing each subscriber's
//! digest (trending papers, saved searches, categories, and personal picks from a
//! per-member classifier over paper embeddings), and mailing them exactly once.
//!
//! The crate is HTTP-free: the web crate calls [`Digests::subscribe`],
//! [`Digests::confirm`], [`Digests::update_preferences`], [`Digests::unsubscribe`] and
//! [`Digests::preview`] from its handlers; the binary calls [`Digests::send_digests`] from `papers digest send`
//! and, at [`next_send_time`], from the scheduler in `papers serve`. Nothing here
//! reads the environment or the clock: settings, secrets and `now` are passed in.
//!
//! Data flow of a send: [`Period::due`] picks the period, [`PeriodData`] loads its
//! papers once, each subscriber's digest is composed from it minus what they were
//! sent before, rendered from `templates/`, and delivered through the [`Mailer`].

mod compose;
mod email;
mod error;
mod links;
mod mail;
mod period;
mod render;
mod send;
mod smtp;
mod sources;
mod subscribe;
pub mod token;

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use papers_rank::recommend::TrainParams;
use papers_store::{Store, Subscription};
use papers_topics::SharedTopics;

pub use compose::{
    Digest, DigestPaper, LikedPaper, PeriodData, RisingTopic, Section, SectionKind,
    SubscriberInputs,
};
pub use email::{Email, EmailError};
pub use error::{ConfigError, DigestError};
pub use links::{
    CONFIRM_TTL, Links, MANAGE_TTL, PREVIEW_TTL, PublicUrl, PublicUrlError, UNSUBSCRIBE_TTL,
};
pub use mail::{Mail, Mailer, RetryPolicy, SendError, SmtpConfig};
pub use papers_store::{Frequency, Preferences, SubscriptionStatus};
pub use period::{FEED_TIME_ZONE, Period, feed_day, next_send_time};
pub use render::{Rendered, Templates};
pub use send::{Deliver, NoDelivery, Report, SENDER_JOB, SendRequest};
pub use sources::{MemberVotes, NoVotes, SavedSearch, SourceError, Sources, TermSearch, VotesFn};
pub use subscribe::{MAIL_INTERVAL, SubscribeOutcome, SubscribeRequest, Subscribed, Unsubscribed};
pub use token::{Purpose, Secret, TokenError};

/// What a digest holds and how picks are trained.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Papers in the trending section.
    pub trending: usize,
    /// Papers per saved-search or category section.
    pub per_section: usize,
    /// Papers in "picked for you".
    pub picks: usize,
    /// The `embeddings.model` whose vectors the picks use (the embedder's model id).
    pub embedding_model: String,
    /// Papers sampled as the classifiers' negatives.
    pub negatives: usize,
    pub training: TrainParams,
}

impl Settings {
    pub fn new(embedding_model: impl Into<String>) -> Settings {
        Settings {
            trending: 10,
            per_section: 5,
            picks: 5,
            embedding_model: embedding_model.into(),
            negatives: 300,
            training: TrainParams::default(),
        }
    }
}

/// The digest engine: links, templates and settings, built once at startup.
pub struct Digests {
    links: Links,
    templates: Templates,
    settings: Settings,
    /// The topic map, for the weekly digest's rising topics.
    topics: Option<Arc<SharedTopics>>,
}

/// Rising topics a weekly digest lists at most.
pub const RISING_IN_DIGEST: usize = 5;

impl Digests {
    pub fn new(links: Links, settings: Settings) -> Result<Digests, DigestError> {
        Ok(Digests {
            links,
            templates: Templates::new()?,
            settings,
            topics: None,
        })
    }

    /// Adds the topic map, from which weekly digests list the rising topics.
    pub fn with_topics(mut self, topics: Arc<SharedTopics>) -> Digests {
        self.topics = Some(topics);
        self
    }

    /// The topics rising over the four weeks to the end of `period`, for a weekly
    /// digest; none for a daily one or without a map.
    pub(crate) fn rising(&self, period: &Period) -> Vec<RisingTopic> {
        let Some(map) = self.topics.as_ref().and_then(|topics| topics.get()) else {
            return Vec::new();
        };
        if period.frequency != Frequency::Weekly {
            return Vec::new();
        }
        map.rising(period.end, RISING_IN_DIGEST)
            .into_iter()
            .filter_map(|growth| {
                let topic = map.topic(growth.topic)?;
                Some(RisingTopic {
                    id: topic.id,
                    name: topic.name.clone(),
                    recent: growth.recent,
                    baseline: growth.baseline,
                    growth: growth.growth,
                })
            })
            .collect()
    }

    pub fn links(&self) -> &Links {
        &self.links
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The digest `subscription` would get for the period due on `as_of`, rendered, or
    /// `None` when it would be empty (and so not sent). For `/digest/preview`; works
    /// for unsaved preferences too (any `Subscription` value).
    pub fn preview(
        &self,
        store: &Store,
        sources: &Sources<'_>,
        subscription: &Subscription,
        as_of: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<Option<Rendered>, DigestError> {
        let period = Period::due(subscription.frequency, as_of);
        let data = PeriodData::load(store, &self.settings, period)?;
        let digest = self.compose_for(store, &data, sources, subscription)?;
        if digest.is_empty() {
            return Ok(None);
        }
        let email = Email::parse(&subscription.email)?;
        let mail = self.digest_mail(&email, subscription, &digest, now)?;
        Ok(Some(Rendered {
            subject: mail.subject,
            text: mail.text,
            html: mail.html,
        }))
    }

    /// Composes one subscriber's digest from the period's shared data.
    pub fn compose_for(
        &self,
        store: &Store,
        data: &PeriodData,
        sources: &Sources<'_>,
        subscription: &Subscription,
    ) -> Result<Digest, DigestError> {
        let mut inputs = data.inputs(store, &self.settings, sources, subscription)?;
        if let Some(map) = self.topics.as_ref().and_then(|topics| topics.get()) {
            inputs.topic_papers = data.topic_papers(&inputs, |value, key| {
                let id = value.parse().ok()?;
                map.contains(id, key)
                    .then(|| map.topic(id).map(|topic| topic.name.clone()))
                    .flatten()
            });
        }
        let mut digest = data.compose(&self.settings, sources.search, subscription, &inputs)?;
        digest.rising = self.rising(&data.period);
        Ok(digest)
    }

    /// The mail for a composed digest.
    pub fn digest_mail(
        &self,
        email: &Email,
        subscription: &Subscription,
        digest: &Digest,
        now: DateTime<Utc>,
    ) -> Result<Mail, DigestError> {
        let unsubscribe_url = self.links.unsubscribe(subscription, now);
        let rendered = self
            .templates
            .digest(digest, email, &self.links, &unsubscribe_url)?;
        let period = digest.period.key.replace(':', ".");
        Ok(Mail {
            to: email.clone(),
            subject: rendered.subject,
            text: rendered.text,
            html: rendered.html,
            message_id: format!(
                "<digest.{period}.{}@{}>",
                subscription.id,
                self.links.base().host()
            ),
            unsubscribe_url: Some(unsubscribe_url),
            date: now,
        })
    }

    /// The double opt-in mail for a pending subscription.
    pub fn confirmation_mail(
        &self,
        subscription: &Subscription,
        now: DateTime<Utc>,
    ) -> Result<Mail, DigestError> {
        let email = Email::parse(&subscription.email)?;
        let confirm_url = self.links.confirm(subscription, now);
        let rendered = self.templates.confirmation(
            &email,
            subscription.frequency,
            &self.links,
            &confirm_url,
        )?;
        Ok(Mail {
            to: email,
            subject: rendered.subject,
            text: rendered.text,
            html: rendered.html,
            message_id: format!(
                "<confirm.{}.{}@{}>",
                subscription.id,
                now.timestamp(),
                self.links.base().host()
            ),
            unsubscribe_url: None,
            date: now,
        })
    }

    /// The mail an address that already has a subscription gets when someone asks to
    /// subscribe it: a link for its owner to change or stop it (and to confirm it, if
    /// still pending). It names no categories or searches, which may be a stranger's.
    pub fn manage_mail(
        &self,
        subscription: &Subscription,
        now: DateTime<Utc>,
    ) -> Result<Mail, DigestError> {
        let email = Email::parse(&subscription.email)?;
        let links = render::ManageLinks {
            manage: self.links.manage(subscription, now),
            confirm: (subscription.status == SubscriptionStatus::Pending)
                .then(|| self.links.confirm(subscription, now)),
            preview: self.links.preview(subscription, now),
        };
        let rendered =
            self.templates
                .manage(&email, subscription.frequency, &self.links, &links)?;
        Ok(Mail {
            to: email,
            subject: rendered.subject,
            text: rendered.text,
            html: rendered.html,
            message_id: format!(
                "<manage.{}.{}@{}>",
                subscription.id,
                now.timestamp(),
                self.links.base().host()
            ),
            unsubscribe_url: None,
            date: now,
        })
    }
}
