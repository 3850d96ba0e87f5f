//! For you: the recent papers ranked for one member, each with why. The site's
//! `/for-you`, `/api/for-you` and the digest's "Picked for you" all rank through
//! [`for_you`], so a member sees one ranking wherever it is shown.
//!
//! - With signal, the member's classifier ([`super::train_weighted`]) scores the
//!   candidates: positives are the papers they upvoted, saved or asked "more like
//!   this" of; negatives are their "less like this" papers (weighted [`LESS_WEIGHT`]
//!   times a sampled negative) and a sample of other papers (the `background`; without
//!   one, the candidates themselves stand in, as arxiv-sanity trains against every
//!   other paper). Each pick names the liked paper closest to it (cosine).
//! - Without signal (or when no model can be trained: no vectors), a cold start: the
//!   candidates in the categories the member picked, best trending first.
//!
//! Candidates are the recent papers: published within `window_days` before `now`
//! (a paper without a date counts as recent), never one the member rated or liked.

use chrono::{DateTime, Duration, Utc};

use super::{TrainParams, cosine, train_weighted};

/// How much more a "less like this" weighs than a sampled negative.
pub const LESS_WEIGHT: f32 = 3.0;

/// Why a paper counts as liked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Signal {
    Saved,
    Upvoted,
    More,
}

impl Signal {
    /// The end of a reason: "which you saved".
    pub fn phrase(self) -> &'static str {
        match self {
            Signal::Saved => "which you saved",
            Signal::Upvoted => "which you upvoted",
            Signal::More => "which you asked more like",
        }
    }
}

/// A paper the member likes, with its vector.
#[derive(Debug, Clone, Copy)]
pub struct Liked<'a> {
    pub key: i64,
    pub signal: Signal,
    pub vector: &'a [f32],
}

/// A recent paper that may be recommended.
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    pub key: i64,
    /// `None` without an embedding: only the cold start can pick it.
    pub vector: Option<&'a [f32]>,
    /// Its categories, primary first (`cs.CL`).
    pub categories: &'a [String],
    pub published: Option<DateTime<Utc>>,
    /// Its trending score at `now` (0 when it has none), for the cold start.
    pub trending: f64,
}

/// Everything one member's ranking reads.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    /// One entry per paper (the caller picks one signal when several apply).
    pub liked: &'a [Liked<'a>],
    /// "Less like this".
    pub less: &'a [(i64, &'a [f32])],
    /// Keys the member rated "less" that have no vector: never recommended either.
    pub less_without_vectors: &'a [i64],
    /// Sampled other papers, the classifier's "not this".
    pub background: &'a [(i64, &'a [f32])],
    /// The categories the member picked (`cs.CL`, or a whole archive, `math`).
    pub picked: &'a [String],
    pub candidates: &'a [Candidate<'a>],
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Params {
    /// A candidate is recent when published at most this many days before `now`.
    pub window_days: i64,
    pub training: TrainParams,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            window_days: 30,
            training: TrainParams::default(),
        }
    }
}

/// Why a paper is recommended.
#[derive(Debug, Clone, PartialEq)]
pub enum Reason {
    /// Closest to this liked paper.
    Close {
        key: i64,
        signal: Signal,
        similarity: f32,
    },
    /// In a category the member picked (cold start).
    Picked(String),
}

impl Reason {
    /// The one-line reason members read: "close to “X”, which you saved", "in cs.CL,
    /// which you picked". `title` is the title of the liked paper it names.
    pub fn text(&self, title: &str) -> String {
        match self {
            Reason::Close { signal, .. } => {
                let title = title.split_whitespace().collect::<Vec<_>>().join(" ");
                format!("close to “{title}”, {}", signal.phrase())
            }
            Reason::Picked(category) => format!("in {category}, which you picked"),
        }
    }

    /// The liked paper the reason names, if any.
    pub fn liked(&self) -> Option<i64> {
        match self {
            Reason::Close { key, .. } => Some(*key),
            Reason::Picked(_) => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Recommendation {
    pub key: i64,
    /// The classifier's score (positive: like what the member likes), or the trending
    /// score in a cold start.
    pub score: f64,
    pub reason: Reason,
}

impl Recommendation {
    /// Whether the classifier places it on the member's side (always true for a cold
    /// start): the digest lists only these.
    pub fn confident(&self) -> bool {
        match self.reason {
            Reason::Close { .. } => self.score > 0.0,
            Reason::Picked(_) => true,
        }
    }
}

/// The member's ranking at `now`, best first, at most `limit` papers.
pub fn for_you(
    inputs: &Inputs<'_>,
    now: DateTime<Utc>,
    limit: usize,
    params: &Params,
) -> Vec<Recommendation> {
    let excluded = |key: i64| {
        inputs.liked.iter().any(|l| l.key == key)
            || inputs.less.iter().any(|(k, _)| *k == key)
            || inputs.less_without_vectors.contains(&key)
    };
    let oldest = now - Duration::days(params.window_days.max(0));
    let recent: Vec<&Candidate<'_>> = inputs
        .candidates
        .iter()
        .filter(|c| !excluded(c.key))
        .filter(|c| c.published.is_none_or(|at| at >= oldest && at <= now))
        .collect();
    let mut ranked = match personal(inputs, &recent, &params.training) {
        Some(mut ranked) => {
            ranked.sort_by(|(a, _), (b, _)| b.score.total_cmp(&a.score).then(a.key.cmp(&b.key)));
            ranked
        }
        // Equal trending scores (no upvotes yet): the newest first.
        None => {
            let mut ranked = cold_start(inputs.picked, &recent);
            ranked.sort_by(|(a, a_at), (b, b_at)| {
                b.score
                    .total_cmp(&a.score)
                    .then(b_at.cmp(a_at))
                    .then(a.key.cmp(&b.key))
            });
            ranked
        }
    };
    ranked.truncate(limit);
    ranked.into_iter().map(|(r, _)| r).collect()
}

/// The classifier's ranking; `None` when there is nothing to learn from.
type Dated = (Recommendation, Option<DateTime<Utc>>);

fn personal(
    inputs: &Inputs<'_>,
    recent: &[&Candidate<'_>],
    training: &TrainParams,
) -> Option<Vec<Dated>> {
    let positives: Vec<&[f32]> = inputs.liked.iter().map(|l| l.vector).collect();
    let is_liked = |key: i64| inputs.liked.iter().any(|l| l.key == key);
    let is_less = |key: i64| inputs.less.iter().any(|(k, _)| *k == key);
    let mut negatives: Vec<(&[f32], f32)> =
        inputs.less.iter().map(|(_, v)| (*v, LESS_WEIGHT)).collect();
    let background: Vec<(&[f32], f32)> = inputs
        .background
        .iter()
        .filter(|(k, _)| !is_liked(*k) && !is_less(*k))
        .map(|(_, v)| (*v, 1.0))
        .collect();
    if background.is_empty() {
        negatives.extend(recent.iter().filter_map(|c| Some((c.vector?, 1.0))));
    } else {
        negatives.extend(background);
    }
    let model = train_weighted(&positives, &negatives, training)?;
    Some(
        recent
            .iter()
            .filter_map(|c| {
                let vector = c.vector.filter(|v| v.len() == model.weights.len())?;
                let (closest, similarity) = inputs
                    .liked
                    .iter()
                    .map(|l| (l, cosine(vector, l.vector)))
                    .max_by(|a, b| a.1.total_cmp(&b.1))?;
                let recommendation = Recommendation {
                    key: c.key,
                    score: f64::from(model.score(vector)),
                    reason: Reason::Close {
                        key: closest.key,
                        signal: closest.signal,
                        similarity,
                    },
                };
                Some((recommendation, c.published))
            })
            .collect(),
    )
}

/// The candidates in a picked category, scored by trending.
fn cold_start(picked: &[String], recent: &[&Candidate<'_>]) -> Vec<Dated> {
    recent
        .iter()
        .filter_map(|c| {
            let category = c.categories.iter().find_map(|category| {
                let archive = category.split('.').next().unwrap_or(category);
                picked
                    .iter()
                    .find(|p| *p == category || p.as_str() == archive)
            })?;
            let recommendation = Recommendation {
                key: c.key,
                score: c.trending,
                reason: Reason::Picked(category.clone()),
            };
            Some((recommendation, c.published))
        })
        .collect()
}

/// The `background` sample: `count` of `keys` (the papers with vectors, ascending,
/// those that must not be "not this" already left out), evenly spaced so the sample
/// covers the whole collection, oldest to newest, and is the same on every call over
/// the same keys. Fewer than `count` keys are all taken.
pub fn background_sample(keys: &[i64], count: usize) -> Vec<i64> {
    let step = (keys.len() / count.max(1)).max(1);
    keys.iter().step_by(step).take(count).copied().collect()
}

#[cfg(test)]
mod tests;
