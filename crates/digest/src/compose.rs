//! Composing one subscriber's digest: what the period offers (loaded once per run and
//! shared by every subscriber) filtered by what the subscriber asked for and has
//! already been sent.
//!
//! Sections, in order: trending, picked for you, one per saved search, one per
//! category; a weekly digest also lists the rising topics. A paper shows once per digest (in the first section that has it) and
//! once per subscriber ever (papers mailed before are excluded). Empty sections are
//! left out; a digest with no section is not sent.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use chrono::NaiveTime;
use papers_core::ArxivId;
use papers_store::{Store, StoredPaper, Subscription};

use crate::period::Period;
use crate::sources::{SavedSearch, Sources};
use crate::{DigestError, Settings};

/// One paper as a digest lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct DigestPaper {
    pub key: i64,
    pub id: ArxivId,
    pub title: String,
    /// Up to three names, then "et al.".
    pub authors: String,
    pub upvotes: u32,
    /// Why a personal pick was picked.
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SectionKind {
    Trending,
    PickedForYou,
    Search(String),
    Category(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    pub kind: SectionKind,
    pub title: String,
    pub papers: Vec<DigestPaper>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Digest {
    pub period: Period,
    pub sections: Vec<Section>,
    /// Weekly digests: the topics growing fastest over the four weeks to the period's
    /// end (see [`papers_topics::growth`]). Not a reason to send on its own.
    pub rising: Vec<RisingTopic>,
}

/// A rising topic as a digest lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct RisingTopic {
    pub id: u32,
    pub name: String,
    /// Papers in the four weeks, and per four weeks in the year before.
    pub recent: usize,
    pub baseline: f64,
    pub growth: f64,
}

impl Digest {
    pub fn is_empty(&self) -> bool {
        self.sections.is_empty()
    }

    /// Every paper in the digest, for the sent-papers record.
    pub fn paper_keys(&self) -> Vec<i64> {
        self.sections
            .iter()
            .flat_map(|s| s.papers.iter().map(|p| p.key))
            .collect()
    }
}

/// What the period offers, loaded once per run.
pub struct PeriodData {
    pub period: Period,
    /// New papers of the period, best first ([`papers_rank::trending::rank`]).
    papers: Vec<StoredPaper>,
    /// Indexes into `papers` of feed papers with upvotes: the trending list.
    trending: Vec<usize>,
    /// Indexes into `papers` by category and by archive (`cs` as well as `cs.CL`).
    by_category: HashMap<String, Vec<usize>>,
    by_key: HashMap<i64, usize>,
    /// Embeddings of the papers, for personal picks.
    vectors: Vec<(i64, Vec<f32>)>,
    /// Other papers the per-member classifiers learn "not this" from.
    negatives: Vec<(i64, Vec<f32>)>,
    /// Saved-search results by query: subscribers share queries.
    searches: Mutex<HashMap<String, Vec<i64>>>,
}

/// What composing needs to know about one subscriber, read from the store.
#[derive(Debug, Default)]
pub struct SubscriberInputs {
    /// Papers mailed to the subscriber before.
    pub excluded: HashSet<i64>,
    /// The member's upvoted papers that have embeddings: key, title, vector.
    pub upvoted: Vec<(i64, String, Vec<f32>)>,
}

impl PeriodData {
    pub fn load(
        store: &Store,
        settings: &Settings,
        period: Period,
    ) -> Result<PeriodData, DigestError> {
        // Only the period's own feed days count: a paper that reached the feed in
        // another period scores 0 and is listed by date below the trending ones.
        let ranked = papers_rank::trending::rank(
            store.papers_new_between(period.start, period.end)?,
            period.ranking_time(),
            |paper| papers_rank::trending::Candidate {
                entered: paper
                    .paper
                    .community
                    .feed_day
                    .filter(|day| *day >= period.start && *day < period.end)
                    .map(|day| day.and_time(NaiveTime::MIN).and_utc()),
                ..paper.trending_candidate()
            },
        );
        let trending = ranked
            .iter()
            .enumerate()
            .filter(|(_, ranked)| ranked.score > 0.0)
            .map(|(index, _)| index)
            .collect();
        let papers: Vec<StoredPaper> = ranked.into_iter().map(|ranked| ranked.item).collect();
        let mut by_category: HashMap<String, Vec<usize>> = HashMap::new();
        for (index, paper) in papers.iter().enumerate() {
            let mut names: Vec<&str> = Vec::new();
            for category in &paper.paper.metadata.categories {
                names.push(category.as_str());
                names.push(category.archive());
            }
            names.sort_unstable();
            names.dedup();
            for name in names {
                by_category.entry(name.to_owned()).or_default().push(index);
            }
        }
        let by_key = papers.iter().enumerate().map(|(i, p)| (p.key, i)).collect();
        let mut vectors = Vec::new();
        for paper in &papers {
            if let Some(vector) = store.embedding(&settings.embedding_model, paper.key)? {
                vectors.push((paper.key, vector));
            }
        }
        let negatives = if vectors.is_empty() {
            Vec::new()
        } else {
            load_negatives(store, settings, &by_key)?
        };
        Ok(PeriodData {
            period,
            papers,
            trending,
            by_category,
            by_key,
            vectors,
            negatives,
            searches: Mutex::new(HashMap::new()),
        })
    }

    /// Number of new papers in the period.
    pub fn len(&self) -> usize {
        self.papers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.papers.is_empty()
    }

    /// Reads what composing needs about one subscriber.
    pub fn inputs(
        &self,
        store: &Store,
        settings: &Settings,
        sources: &Sources<'_>,
        subscription: &Subscription,
    ) -> Result<SubscriberInputs, DigestError> {
        let excluded = store.digest_paper_keys(subscription.id)?;
        let mut upvoted = Vec::new();
        // No candidate has a vector: no pick is possible, so skip the member's votes.
        if let (Some(user_id), false) = (subscription.user_id, self.vectors.is_empty()) {
            let keys = sources
                .votes
                .upvoted(store, user_id)
                .map_err(|e| DigestError::Source(format!("upvotes of member {user_id}: {e}")))?;
            for paper in store.papers_by_keys(&keys)? {
                if let Some(vector) = store.embedding(&settings.embedding_model, paper.key)? {
                    upvoted.push((paper.key, paper.paper.metadata.title, vector));
                }
            }
        }
        Ok(SubscriberInputs { excluded, upvoted })
    }

    /// Composes the digest. Pure apart from the shared saved-search cache.
    pub fn compose(
        &self,
        settings: &Settings,
        search: &dyn SavedSearch,
        subscription: &Subscription,
        inputs: &SubscriberInputs,
    ) -> Result<Digest, DigestError> {
        let mut taken = inputs.excluded.clone();
        let mut sections = Vec::new();
        let mut push = |kind: SectionKind, title: String, papers: Vec<DigestPaper>| {
            if !papers.is_empty() {
                sections.push(Section {
                    kind,
                    title,
                    papers,
                });
            }
        };
        let trending = self.take(&mut taken, self.trending.iter().copied(), settings.trending);
        push(SectionKind::Trending, "Trending".to_owned(), trending);
        push(
            SectionKind::PickedForYou,
            "Picked for you".to_owned(),
            self.picks(settings, inputs, &mut taken),
        );
        for query in &subscription.queries {
            let keys = self.search(search, query)?;
            let indexes = keys.iter().filter_map(|k| self.by_key.get(k).copied());
            let papers = self.take(&mut taken, indexes, settings.per_section);
            push(
                SectionKind::Search(query.clone()),
                format!("Matching “{query}”"),
                papers,
            );
        }
        for category in &subscription.categories {
            let indexes = self
                .by_category
                .get(category)
                .into_iter()
                .flatten()
                .copied();
            let papers = self.take(&mut taken, indexes, settings.per_section);
            push(
                SectionKind::Category(category.clone()),
                format!("New in {category}"),
                papers,
            );
        }
        Ok(Digest {
            period: self.period.clone(),
            sections,
            rising: Vec::new(),
        })
    }

    fn take(
        &self,
        taken: &mut HashSet<i64>,
        indexes: impl Iterator<Item = usize>,
        limit: usize,
    ) -> Vec<DigestPaper> {
        indexes
            .map(|index| &self.papers[index])
            .filter(|paper| taken.insert(paper.key))
            .take(limit)
            .map(|paper| listed(paper, None))
            .collect()
    }

    fn picks(
        &self,
        settings: &Settings,
        inputs: &SubscriberInputs,
        taken: &mut HashSet<i64>,
    ) -> Vec<DigestPaper> {
        if inputs.upvoted.is_empty() || self.vectors.is_empty() {
            return Vec::new();
        }
        let upvoted: Vec<(i64, &[f32])> = inputs
            .upvoted
            .iter()
            .map(|(k, _, v)| (*k, v.as_slice()))
            .collect();
        let negatives: Vec<(i64, &[f32])> = self
            .negatives
            .iter()
            .map(|(k, v)| (*k, v.as_slice()))
            .collect();
        let candidates: Vec<(i64, &[f32])> = self
            .vectors
            .iter()
            .filter(|(k, _)| !taken.contains(k))
            .map(|(k, v)| (*k, v.as_slice()))
            .collect();
        let picks = papers_rank::recommend::recommend(
            &upvoted,
            &negatives,
            &candidates,
            settings.picks,
            &settings.training,
        );
        picks
            .into_iter()
            .filter_map(|pick| {
                let paper = &self.papers[*self.by_key.get(&pick.key)?];
                let (_, title, _) = inputs
                    .upvoted
                    .iter()
                    .find(|(k, _, _)| *k == pick.closest_upvoted)?;
                taken.insert(pick.key);
                let reason = format!("Close to “{title}”, which you upvoted");
                Some(listed(paper, Some(reason)))
            })
            .collect()
    }

    fn search(&self, search: &dyn SavedSearch, query: &str) -> Result<Vec<i64>, DigestError> {
        let cached = self
            .searches
            .lock()
            .map_err(|_| DigestError::Source("saved-search cache poisoned".to_owned()))?
            .get(query)
            .cloned();
        if let Some(keys) = cached {
            return Ok(keys);
        }
        let candidates: Vec<&StoredPaper> = self.papers.iter().collect();
        let keys = search
            .matching(query, &candidates)
            .map_err(|e| DigestError::Source(format!("saved search {query:?}: {e}")))?;
        if let Ok(mut cache) = self.searches.lock() {
            cache.insert(query.to_owned(), keys.clone());
        }
        Ok(keys)
    }
}

/// Negatives for the classifiers: evenly spaced over the embedded papers, so they
/// cover the whole collection and are the same on every run. The period's own papers
/// are left out: they are what the model scores, and training on them as "not this"
/// would bias it against exactly the papers a member should be shown.
fn load_negatives(
    store: &Store,
    settings: &Settings,
    candidates: &HashMap<i64, usize>,
) -> Result<Vec<(i64, Vec<f32>)>, DigestError> {
    let mut keys = store.embedding_keys(&settings.embedding_model)?;
    keys.retain(|key| !candidates.contains_key(key));
    let step = (keys.len() / settings.negatives.max(1)).max(1);
    let mut negatives = Vec::new();
    for key in keys.iter().step_by(step).take(settings.negatives) {
        if let Some(vector) = store.embedding(&settings.embedding_model, *key)? {
            negatives.push((*key, vector));
        }
    }
    Ok(negatives)
}

fn listed(paper: &StoredPaper, reason: Option<String>) -> DigestPaper {
    let metadata = &paper.paper.metadata;
    let mut authors = metadata
        .authors
        .iter()
        .take(3)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if metadata.authors.len() > 3 {
        authors.push_str(" et al.");
    }
    DigestPaper {
        key: paper.key,
        id: paper.paper.id.clone(),
        title: metadata
            .title
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "),
        authors,
        upvotes: paper.upvotes(),
        reason,
    }
}
