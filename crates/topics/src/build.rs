//! A whole build: broad topics, subtopics, names, representatives, map positions and
//! stable ids, from the corpus's vectors and texts.
//!
//! Sizes adapt to the corpus: about √N/8 broad topics (34 at 75,992 papers, 125 at
//! a million), and each broad topic of n papers split into about √n/6 subtopics
//! (2 to 20; topics under [`MIN_SPLIT`] papers are not split).

use chrono::{DateTime, Utc};
use rayon::prelude::*;

use crate::cluster::{ClusterOptions, Clustering, dot, gather, spherical_kmeans};
use crate::corpus::Corpus;
use crate::error::{Result, TopicsError};
use crate::map::{Membership, Topic, TopicId, TopicMap};
use crate::naming::{Counts, count_terms, merge_counts, name_counted};
use crate::phases::Phases;
use crate::projection::project;
use crate::stable::match_ids;

/// A broad topic smaller than this keeps no subtopics.
pub const MIN_SPLIT: usize = 20;

#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    pub cluster: ClusterOptions,
    /// Broad topics; `None`: about √N/8.
    pub broad_topics: Option<usize>,
}

/// The number of broad topics for `n` papers.
pub fn broad_count(n: usize) -> usize {
    ((n as f64).sqrt() / 8.0).round().max(2.0) as usize
}

/// The number of subtopics of a broad topic of `n` papers (1: not split).
pub fn sub_count(n: usize) -> usize {
    if n < MIN_SPLIT {
        1
    } else {
        ((n as f64).sqrt() / 6.0).round().clamp(2.0, 20.0) as usize
    }
}

/// One topic of the build before it has an id.
struct Draft {
    centroid: Vec<f32>,
    /// Row indices into the corpus.
    members: Vec<usize>,
}

/// Builds the topic map of `corpus`, keeping the ids of `previous` where topics match.
pub fn build(
    corpus: &Corpus,
    model: &str,
    built_at: DateTime<Utc>,
    previous: Option<&TopicMap>,
    options: &BuildOptions,
) -> Result<TopicMap> {
    build_timed(corpus, model, built_at, previous, options).map(|(map, _)| map)
}

/// Phase names of [`build_timed`]'s [`Phases`], in the order they run.
pub mod phase {
    pub const BROAD: &str = "broad clustering";
    pub const SUBTOPICS: &str = "subtopic clustering";
    /// Tokenising every paper into its subtopic's term counts, and naming subtopics.
    pub const TOKENS: &str = "tokenising, subtopic names";
    /// Naming broad topics from their subtopics' merged counts.
    pub const NAMES: &str = "broad names (c-TF-IDF)";
    pub const IDS: &str = "id matching";
    pub const PROJECTION: &str = "projection";
    pub const ASSEMBLY: &str = "memberships and representatives";
    pub const INDEX: &str = "map index (sort by key)";
}

/// [`build`], with the wall time of each of its phases.
pub fn build_timed(
    corpus: &Corpus,
    model: &str,
    built_at: DateTime<Utc>,
    previous: Option<&TopicMap>,
    options: &BuildOptions,
) -> Result<(TopicMap, Phases)> {
    let mut phases = Phases::start();
    let dim = corpus.dim;
    if dim == 0 || corpus.vectors.len() != corpus.len() * dim {
        return Err(TopicsError::Dimension {
            dim,
            actual: corpus.vectors.len(),
        });
    }
    let n = corpus.len();
    let k = options.broad_topics.unwrap_or_else(|| broad_count(n));
    let broad = drafts(
        &spherical_kmeans(&corpus.vectors, dim, k, &options.cluster),
        &(0..n).collect::<Vec<_>>(),
    );
    phases.mark(phase::BROAD);
    // Each broad topic split again, in parallel (each split is small). Subtopics
    // run to the same convergence as broad topics: stopping them early (under 1 %
    // of papers moving, 10 iterations) halved their time but cost the 1 M build's
    // label quality 9 points (55.7 % to 47.0 %).
    let subs: Vec<Vec<Draft>> = broad
        .par_iter()
        .map(|topic| {
            let k = sub_count(topic.members.len());
            if k < 2 {
                return Vec::new();
            }
            let rows = gather(&corpus.vectors, dim, &topic.members);
            drafts(
                &spherical_kmeans(&rows, dim, k, &options.cluster),
                &topic.members,
            )
        })
        .collect();
    phases.mark(phase::SUBTOPICS);

    // Each paper is tokenised once, into its subtopic's counts (or its broad
    // topic's, if not split); a broad topic's counts are its subtopics' merged.
    // Subtopics are named as soon as their broad topic is counted, so only the
    // broad topics' counts are held at once, never a term list per paper.
    // The corpus hands out a class's texts (held, or fetched by key a page at a
    // time).
    let texts = corpus;
    let (broad_counts, sub_terms): (Vec<Counts>, Vec<Vec<Vec<String>>>) = broad
        .par_iter()
        .zip(&subs)
        .map(|(topic, siblings)| {
            if siblings.is_empty() {
                return (count_terms(texts, &topic.members), Vec::new());
            }
            let classes: Vec<Vec<usize>> = siblings.iter().map(|t| t.members.clone()).collect();
            let counts: Vec<Counts> = classes
                .par_iter()
                .map(|members| count_terms(texts, members))
                .collect();
            let names = name_counted(texts, &classes, &counts);
            (merge_counts(counts), names)
        })
        .unzip();
    phases.mark(phase::TOKENS);
    let classes: Vec<Vec<usize>> = broad.iter().map(|t| t.members.clone()).collect();
    let broad_terms = name_counted(texts, &classes, &broad_counts);
    drop(broad_counts);
    phases.mark(phase::NAMES);

    // Ids: broad topics, then subtopics, each matched to the previous build's level.
    let mut next_id: TopicId = previous.map_or(1, |map| map.next_id);
    let mut fresh = |matched: Option<TopicId>| {
        matched.unwrap_or_else(|| {
            next_id += 1;
            next_id - 1
        })
    };
    let broad_centroids: Vec<Vec<f32>> = broad.iter().map(|t| t.centroid.clone()).collect();
    let broad_ids: Vec<TopicId> = match_ids(previous, &broad_centroids, true)
        .into_iter()
        .map(&mut fresh)
        .collect();
    let sub_centroids: Vec<Vec<f32>> = subs.iter().flatten().map(|t| t.centroid.clone()).collect();
    let mut sub_ids = match_ids(previous, &sub_centroids, false)
        .into_iter()
        .map(&mut fresh);
    let sub_ids: Vec<Vec<TopicId>> = subs
        .iter()
        .map(|siblings| siblings.iter().filter_map(|_| sub_ids.next()).collect())
        .collect();
    phases.mark(phase::IDS);

    let all_centroids: Vec<Vec<f32>> = broad_centroids
        .iter()
        .chain(sub_centroids.iter())
        .cloned()
        .collect();
    let mut positions = project(&broad_centroids, &all_centroids, dim).into_iter();
    phases.mark(phase::PROJECTION);

    let mut memberships: Vec<Membership> = (0..n)
        .map(|row| Membership {
            key: corpus.keys[row],
            topic: 0,
            subtopic: None,
            published: corpus.published[row],
            fit: 0.0,
            subtopic_fit: 0.0,
        })
        .collect();
    let mut topics = Vec::new();
    for (draft, (&id, terms)) in broad.iter().zip(broad_ids.iter().zip(&broad_terms)) {
        let mut scratch = Vec::new();
        for &row in &draft.members {
            memberships[row].topic = id;
            memberships[row].fit = dot(corpus.row(row, &mut scratch), &draft.centroid);
        }
        topics.push(topic(corpus, draft, id, None, terms, positions.next()));
    }
    for (parent, ((siblings, ids), names)) in broad_ids
        .iter()
        .zip(subs.iter().zip(&sub_ids).zip(&sub_terms))
    {
        let mut children: Vec<Topic> = Vec::new();
        for ((draft, &id), terms) in siblings.iter().zip(ids).zip(names) {
            let mut scratch = Vec::new();
            for &row in &draft.members {
                memberships[row].subtopic = Some(id);
                memberships[row].subtopic_fit = dot(corpus.row(row, &mut scratch), &draft.centroid);
            }
            children.push(topic(
                corpus,
                draft,
                id,
                Some(*parent),
                terms,
                positions.next(),
            ));
        }
        children.sort_by(|a, b| b.size.cmp(&a.size).then(a.id.cmp(&b.id)));
        topics.extend(children);
    }
    phases.mark(phase::ASSEMBLY);
    let map = TopicMap::new(model.to_owned(), built_at, next_id, topics, memberships);
    phases.mark(phase::INDEX);
    Ok((map, phases))
}

/// The clusters of `clustering` as drafts over the corpus rows `rows` (row i of the
/// clustering is corpus row `rows[i]`), largest first, empty ones dropped.
fn drafts(clustering: &Clustering, rows: &[usize]) -> Vec<Draft> {
    let mut drafts: Vec<Draft> = (0..clustering.k())
        .map(|cluster| Draft {
            centroid: clustering.centroid(cluster).to_vec(),
            members: Vec::new(),
        })
        .collect();
    for (&cluster, &row) in clustering.assignments.iter().zip(rows) {
        drafts[cluster as usize].members.push(row);
    }
    drafts.retain(|draft| !draft.members.is_empty());
    // Stable order: by size, then by the first member, whatever order k-means left.
    drafts.sort_by(|a, b| {
        b.members
            .len()
            .cmp(&a.members.len())
            .then(a.members[0].cmp(&b.members[0]))
    });
    drafts
}

fn topic(
    corpus: &Corpus,
    draft: &Draft,
    id: TopicId,
    parent: Option<TopicId>,
    terms: &[String],
    position: Option<[f32; 2]>,
) -> Topic {
    let mut scratch = Vec::new();
    let representative = draft
        .members
        .iter()
        .map(|&row| (dot(corpus.row(row, &mut scratch), &draft.centroid), row))
        .max_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)))
        .map_or(0, |(_, row)| corpus.keys[row]);
    let name = if terms.is_empty() {
        format!("topic {id}")
    } else {
        terms.iter().take(3).cloned().collect::<Vec<_>>().join(", ")
    };
    Topic {
        id,
        parent,
        name,
        terms: terms.to_vec(),
        size: draft.members.len(),
        representative,
        position: position.unwrap_or([0.5, 0.5]),
        centroid: draft.centroid.clone(),
    }
}
