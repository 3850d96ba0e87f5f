//! Keeping topic ids across rebuilds, so that a link or a follow survives: each new
//! topic takes the id of the previous build's topic of the same level whose
//! centroid is most similar, greedily by similarity, if that similarity reaches
//! [`MATCH_THRESHOLD`]; every other new topic gets a fresh id. Ids are never reused.

use crate::cluster::dot;
use crate::map::{TopicId, TopicMap};

/// Below this cosine two centroids are different topics. Centroids of the same
/// topic after a month of new papers are above 0.95; neighbouring topics of one
/// build rarely reach 0.85.
pub const MATCH_THRESHOLD: f32 = 0.85;

/// The previous ids for `centroids` (`None`: a new topic), considering only the
/// previous topics whose level matches (`broad`).
pub fn match_ids(
    previous: Option<&TopicMap>,
    centroids: &[Vec<f32>],
    broad: bool,
) -> Vec<Option<TopicId>> {
    let mut matched = vec![None; centroids.len()];
    let Some(previous) = previous else {
        return matched;
    };
    let old: Vec<_> = previous
        .topics
        .iter()
        .filter(|topic| {
            topic.parent.is_none() == broad
                && topic.centroid.len() == centroids.first().map_or(0, Vec::len)
        })
        .collect();
    let mut pairs: Vec<(f32, usize, usize)> = Vec::new();
    for (new_index, centroid) in centroids.iter().enumerate() {
        for (old_index, topic) in old.iter().enumerate() {
            let similarity = dot(centroid, &topic.centroid);
            if similarity >= MATCH_THRESHOLD {
                pairs.push((similarity, new_index, old_index));
            }
        }
    }
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let mut taken = vec![false; old.len()];
    for (_, new_index, old_index) in pairs {
        if matched[new_index].is_none() && !taken[old_index] {
            matched[new_index] = Some(old[old_index].id);
            taken[old_index] = true;
        }
    }
    matched
}
