//! Composing one subscriber's digest: what the period offers (loaded once per run and
//! shared by every subscriber) filtered by what the subscriber asked for and has
//! already been sent.
//!
//! Sections, in order: trending, picked for you, from what you follow, one per saved
//! search, one per category; a weekly digest also lists the rising topics. A paper
//! shows once per digest (in the first section that has it) and once per subscriber
//! ever (papers mailed before are excluded); papers the member has read are left out of
//! every section. Empty sections are left out; a digest with no section is not sent.
//!
//! "Picked for you" is the site's For you ranking
//! ([`papers_rank::recommend::for_you`]) over the period's papers: the member's
//! upvotes, saves and "more like this" as positives, "less like this" as negatives,
//! or, without any, the trending papers of the categories they picked; only the
//! classifier's confident picks are mailed.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use chrono::NaiveTime;
use papers_core::ArxivId;
use papers_rank::recommend::for_you::{self as rule, Candidate, Inputs, Liked, Signal};
use papers_store::{Follow, FollowKind, Store, StoredPaper, Subscription, same_author};

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
    Following,
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
    /// Each paper's trending score in the period (0 for none), as `papers` is ordered.
    scores: Vec<f64>,
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

/// A paper the member likes, with its embedding.
#[derive(Debug, Clone)]
pub struct LikedPaper {
    pub key: i64,
    pub title: String,
    pub signal: Signal,
    pub vector: Vec<f32>,
}

/// What composing needs to know about one subscriber, read from the store.
#[derive(Debug, Default)]
pub struct SubscriberInputs {
    /// Papers mailed to the subscriber before.
    pub excluded: HashSet<i64>,
    /// Papers the member has read: in no section.
    pub read: HashSet<i64>,
    /// The member's upvoted, saved and "more like this" papers that have embeddings
    /// (one signal each; "less like this" wins over the others).
    pub liked: Vec<LikedPaper>,
    /// "Less like this": with their vectors where they have one, and every key.
    pub less: Vec<(i64, Vec<f32>)>,
    pub less_keys: Vec<i64>,
    /// The categories the member picked for a cold start.
    pub picked: Vec<String>,
    /// What the member follows.
    pub follows: Vec<Follow>,
    /// Papers of followed topics (from the topic map), with the topic's name.
    pub topic_papers: HashMap<i64, Vec<String>>,
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
        let scores: Vec<f64> = ranked.iter().map(|ranked| ranked.score).collect();
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
            scores,
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
        let Some(user_id) = subscription.user_id else {
            return Ok(SubscriberInputs {
                excluded,
                ..SubscriberInputs::default()
            });
        };
        let feedback = store.feedback_of(user_id)?;
        // One signal per paper: a save names the reason before an upvote, an upvote
        // before "more like this"; "less like this" overrides them all.
        let mut signals: HashMap<i64, Signal> = feedback
            .iter()
            .filter(|(_, more)| **more)
            .map(|(key, _)| (*key, Signal::More))
            .collect();
        // No candidate has a vector: no pick is possible, so skip the member's votes.
        if !self.vectors.is_empty() {
            let upvoted = sources
                .votes
                .upvoted(store, user_id)
                .map_err(|e| DigestError::Source(format!("upvotes of member {user_id}: {e}")))?;
            signals.extend(upvoted.into_iter().map(|key| (key, Signal::Upvoted)));
            signals.extend(
                store
                    .saved_keys(user_id)?
                    .into_iter()
                    .map(|key| (key, Signal::Saved)),
            );
        }
        let mut less_keys: Vec<i64> = feedback
            .iter()
            .filter(|(_, more)| !**more)
            .map(|(key, _)| *key)
            .collect();
        less_keys.sort_unstable();
        signals.retain(|key, _| less_keys.binary_search(key).is_err());
        let mut keys: Vec<i64> = signals.keys().copied().collect();
        keys.sort_unstable();
        let mut liked = Vec::new();
        let mut less = Vec::new();
        if !self.vectors.is_empty() {
            for paper in store.papers_by_keys(&keys)? {
                let Some(signal) = signals.get(&paper.key).copied() else {
                    continue;
                };
                if let Some(vector) = store.embedding(&settings.embedding_model, paper.key)? {
                    liked.push(LikedPaper {
                        key: paper.key,
                        title: paper.paper.metadata.title,
                        signal,
                        vector,
                    });
                }
            }
            for key in &less_keys {
                if let Some(vector) = store.embedding(&settings.embedding_model, *key)? {
                    less.push((*key, vector));
                }
            }
        }
        Ok(SubscriberInputs {
            excluded,
            read: store.read_keys(user_id)?,
            liked,
            less,
            less_keys,
            picked: store.picked_categories(user_id)?,
            follows: store.follows_of(user_id)?,
            topic_papers: HashMap::new(),
        })
    }

    /// The period's papers in topics the member follows (`None` names a topic the map
    /// lacks), for [`SubscriberInputs::topic_papers`].
    pub fn topic_papers(
        &self,
        inputs: &SubscriberInputs,
        topic_of: impl Fn(&str, i64) -> Option<String>,
    ) -> HashMap<i64, Vec<String>> {
        let mut found: HashMap<i64, Vec<String>> = HashMap::new();
        for follow in inputs
            .follows
            .iter()
            .filter(|f| f.kind == FollowKind::Topic)
        {
            for paper in &self.papers {
                if let Some(name) = topic_of(&follow.value, paper.key) {
                    found.entry(paper.key).or_default().push(name);
                }
            }
        }
        found
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
        taken.extend(&inputs.read);
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
        let followed = self.followed(settings, search, inputs, &mut taken)?;
        push(
            SectionKind::Following,
            "From what you follow".to_owned(),
            followed,
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

    /// The For you ranking over the period's papers not yet taken (see the module doc).
    fn picks(
        &self,
        settings: &Settings,
        inputs: &SubscriberInputs,
        taken: &mut HashSet<i64>,
    ) -> Vec<DigestPaper> {
        if inputs.liked.is_empty() && inputs.picked.is_empty() {
            return Vec::new();
        }
        let liked: Vec<Liked<'_>> = inputs
            .liked
            .iter()
            .map(|l| Liked {
                key: l.key,
                signal: l.signal,
                vector: &l.vector,
            })
            .collect();
        let less: Vec<(i64, &[f32])> = inputs
            .less
            .iter()
            .map(|(k, v)| (*k, v.as_slice()))
            .collect();
        let background: Vec<(i64, &[f32])> = self
            .negatives
            .iter()
            .map(|(k, v)| (*k, v.as_slice()))
            .collect();
        let vectors: HashMap<i64, &[f32]> = self
            .vectors
            .iter()
            .map(|(k, v)| (*k, v.as_slice()))
            .collect();
        let categories: Vec<Vec<String>> = self
            .papers
            .iter()
            .map(|p| {
                p.paper
                    .metadata
                    .categories
                    .iter()
                    .map(|c| c.as_str().to_owned())
                    .collect()
            })
            .collect();
        // Every paper of the period is recent: the period is the window.
        let candidates: Vec<Candidate<'_>> = self
            .papers
            .iter()
            .zip(&categories)
            .zip(&self.scores)
            .filter(|((paper, _), _)| !taken.contains(&paper.key))
            .map(|((paper, categories), score)| Candidate {
                key: paper.key,
                vector: vectors.get(&paper.key).copied(),
                categories,
                published: None,
                trending: *score,
            })
            .collect();
        let rule_inputs = Inputs {
            liked: &liked,
            less: &less,
            less_without_vectors: &inputs.less_keys,
            background: &background,
            picked: &inputs.picked,
            candidates: &candidates,
        };
        let params = rule::Params {
            training: settings.training,
            ..rule::Params::default()
        };
        let ranked = rule::for_you(
            &rule_inputs,
            self.period.ranking_time(),
            candidates.len(),
            &params,
        );
        ranked
            .into_iter()
            .filter(|r| r.confident())
            .take(settings.picks)
            .filter_map(|r| {
                let paper = &self.papers[*self.by_key.get(&r.key)?];
                let title = r
                    .reason
                    .liked()
                    .and_then(|key| inputs.liked.iter().find(|l| l.key == key))
                    .map_or("", |l| l.title.as_str());
                taken.insert(r.key);
                Some(listed(paper, Some(capitalised(&r.reason.text(title)))))
            })
            .collect()
    }

    /// The period's papers of what the member follows, in trending order, each with
    /// the follows that brought it.
    fn followed(
        &self,
        settings: &Settings,
        search: &dyn SavedSearch,
        inputs: &SubscriberInputs,
        taken: &mut HashSet<i64>,
    ) -> Result<Vec<DigestPaper>, DigestError> {
        if inputs.follows.is_empty() {
            return Ok(Vec::new());
        }
        let mut because: HashMap<i64, Vec<String>> = HashMap::new();
        let mut add = |key: i64, label: String| {
            let labels = because.entry(key).or_default();
            if !labels.contains(&label) {
                labels.push(label);
            }
        };
        for follow in &inputs.follows {
            let label = match follow.kind {
                FollowKind::Query => format!("search “{}”", follow.value),
                kind => format!("{kind} {}", follow.value),
            };
            match follow.kind {
                FollowKind::Author => {
                    for paper in &self.papers {
                        let authors = &paper.paper.metadata.authors;
                        if authors.iter().any(|a| same_author(a, &follow.value)) {
                            add(paper.key, label.clone());
                        }
                    }
                }
                FollowKind::Organization => {
                    for paper in &self.papers {
                        if paper.paper.community.organization.as_deref() == Some(&follow.value) {
                            add(paper.key, label.clone());
                        }
                    }
                }
                FollowKind::Category => {
                    for index in self.by_category.get(&follow.value).into_iter().flatten() {
                        add(self.papers[*index].key, label.clone());
                    }
                }
                FollowKind::Query => {
                    for key in self.search(search, &follow.value)? {
                        add(key, label.clone());
                    }
                }
                FollowKind::Topic => {}
            }
        }
        for (key, names) in &inputs.topic_papers {
            for name in names {
                add(*key, format!("topic {name}"));
            }
        }
        // `papers` is in trending order, so the section is too.
        let chosen: Vec<&StoredPaper> = self
            .papers
            .iter()
            .filter(|paper| because.contains_key(&paper.key) && !taken.contains(&paper.key))
            .take(settings.per_section)
            .collect();
        Ok(chosen
            .into_iter()
            .map(|paper| {
                taken.insert(paper.key);
                let why = because
                    .get(&paper.key)
                    .map_or(String::new(), |b| b.join(", "));
                listed(paper, Some(format!("Because you follow {why}")))
            })
            .collect())
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
    let except: HashSet<i64> = candidates.keys().copied().collect();
    Ok(store.background_vectors(&settings.embedding_model, &except, settings.negatives)?)
}

/// "close to …" → "Close to …".
fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
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
