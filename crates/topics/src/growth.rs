//! Which topics are rising: each topic's papers of the last four weeks against its
//! usual rate over the year before.
//!
//! The window ends at the reference day: `today`, or the newest paper's day when the
//! store stops earlier (a corpus harvested up to some day still shows which topics
//! were rising then, rather than four empty weeks). The baseline is the topic's
//! papers per four weeks over the 48 weeks before the window (or as much of them as
//! the corpus covers). Growth is the relative change, smoothed by one paper on both
//! sides so that a topic going from 0 to 1 paper is not "infinitely" rising.

use chrono::{Duration, NaiveDate};
use serde::Serialize;

use crate::map::{TopicId, TopicMap};

/// Days in the recent window.
pub const WINDOW_DAYS: i64 = 28;
/// Windows in the baseline before it.
pub const BASELINE_WINDOWS: i64 = 12;
/// A rising topic has at least this many papers in the window.
pub const MIN_RECENT: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Growth {
    pub topic: TopicId,
    /// Papers in the last four weeks.
    pub recent: usize,
    /// Papers per four weeks before that.
    pub baseline: f64,
    /// `(recent + 1) / (baseline + 1) - 1`: 0.5 is half again as many as usual.
    pub growth: f64,
}

impl TopicMap {
    /// The day the growth window ends (exclusive): `today`, or the day after the
    /// newest paper when that is earlier.
    pub fn growth_reference(&self, today: NaiveDate) -> NaiveDate {
        match self.newest_day() {
            Some(newest) if newest < today => newest + Duration::days(1),
            _ => today,
        }
    }

    /// Every topic's growth (broad topics and subtopics), in the map's topic order.
    pub fn growth(&self, today: NaiveDate) -> Vec<Growth> {
        let end = self.growth_reference(today);
        let window_start = end - Duration::days(WINDOW_DAYS);
        let baseline_start = window_start - Duration::days(WINDOW_DAYS * BASELINE_WINDOWS);
        // The baseline covers only the part of its span that the corpus reaches.
        let oldest = self.papers.iter().filter_map(|m| m.published).min();
        let covered_days = oldest.map_or(0, |oldest| {
            (window_start - oldest.max(baseline_start))
                .num_days()
                .max(0)
        });
        let windows = covered_days as f64 / WINDOW_DAYS as f64;
        let mut recent = std::collections::HashMap::<TopicId, usize>::new();
        let mut before = std::collections::HashMap::<TopicId, usize>::new();
        for membership in &self.papers {
            let Some(day) = membership.published else {
                continue;
            };
            let counter = if day >= window_start && day < end {
                &mut recent
            } else if day >= baseline_start && day < window_start {
                &mut before
            } else {
                continue;
            };
            for id in std::iter::once(membership.topic).chain(membership.subtopic) {
                *counter.entry(id).or_insert(0) += 1;
            }
        }
        self.topics
            .iter()
            .map(|topic| {
                let recent = recent.get(&topic.id).copied().unwrap_or(0);
                let baseline = if windows >= 1.0 {
                    before.get(&topic.id).copied().unwrap_or(0) as f64 / windows
                } else {
                    0.0
                };
                Growth {
                    topic: topic.id,
                    recent,
                    baseline,
                    growth: (recent as f64 + 1.0) / (baseline + 1.0) - 1.0,
                }
            })
            .collect()
    }

    /// The broad topics growing fastest, at most `limit`, each with at least
    /// [`MIN_RECENT`] recent papers and growth above zero.
    pub fn rising(&self, today: NaiveDate, limit: usize) -> Vec<Growth> {
        let mut rising: Vec<Growth> = self
            .growth(today)
            .into_iter()
            .filter(|g| {
                g.recent >= MIN_RECENT
                    && g.growth > 0.0
                    && self.topic(g.topic).is_some_and(|t| t.parent.is_none())
            })
            .collect();
        rising.sort_by(|a, b| b.growth.total_cmp(&a.growth).then(a.topic.cmp(&b.topic)));
        rising.truncate(limit);
        rising
    }
}
