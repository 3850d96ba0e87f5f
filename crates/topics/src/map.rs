//! The topic map: what a build produces and every surface reads. Saved as one JSON
//! file under the data directory, replaced whole (written beside, then renamed), so a
//! reader never sees half of one.

use std::collections::HashMap;
use std::path::Path;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::cluster::dot;
use crate::error::{Result, TopicsError};

/// A topic's id: stable across rebuilds (see [`crate::stable`]), one space for broad
/// topics and subtopics.
pub type TopicId = u32;

/// The file format this build writes and reads.
pub const FORMAT: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Topic {
    pub id: TopicId,
    /// The broad topic a subtopic belongs to; `None` for a broad topic.
    pub parent: Option<TopicId>,
    /// The first three terms, for lists and tooltips.
    pub name: String,
    /// Its most distinctive terms and phrases, best first.
    pub terms: Vec<String>,
    /// Papers in it.
    pub size: usize,
    /// The store key of the paper nearest its centroid.
    pub representative: i64,
    /// Where the map draws it, each coordinate in [0, 1] (subtopics on the same axes).
    pub position: [f32; 2],
    /// Its members' normalised mean vector: matched against the next build's.
    pub centroid: Vec<f32>,
}

/// One paper's place in the map.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Membership {
    pub key: i64,
    pub topic: TopicId,
    pub subtopic: Option<TopicId>,
    /// The day its first version appeared, which growth counts by.
    pub published: Option<NaiveDate>,
    /// Its similarity to its topic's centroid: the most typical papers first.
    pub fit: f32,
    /// Its similarity to its subtopic's centroid.
    pub subtopic_fit: f32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopicMap {
    pub format: u32,
    /// The embedding model whose vectors were clustered.
    pub model: String,
    pub built_at: DateTime<Utc>,
    /// The next id a new topic gets: ids are never reused.
    pub next_id: TopicId,
    /// Broad topics first (largest first), then subtopics grouped by parent.
    pub topics: Vec<Topic>,
    /// Sorted by key.
    pub papers: Vec<Membership>,
    #[serde(skip)]
    by_id: HashMap<TopicId, usize>,
}

impl TopicMap {
    pub(crate) fn new(
        model: String,
        built_at: DateTime<Utc>,
        next_id: TopicId,
        topics: Vec<Topic>,
        mut papers: Vec<Membership>,
    ) -> TopicMap {
        papers.sort_by_key(|membership| membership.key);
        let mut map = TopicMap {
            format: FORMAT,
            model,
            built_at,
            next_id,
            topics,
            papers,
            by_id: HashMap::new(),
        };
        map.reindex();
        map
    }

    fn reindex(&mut self) {
        self.by_id = self
            .topics
            .iter()
            .enumerate()
            .map(|(index, topic)| (topic.id, index))
            .collect();
    }

    /// Reads a map written by [`TopicMap::save`]; `None` when there is none.
    pub fn load(path: &Path) -> Result<Option<TopicMap>> {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(TopicsError::io(path)(error)),
        };
        #[derive(Deserialize)]
        struct Probe {
            format: u32,
        }
        let probe: Probe =
            serde_json::from_slice(&bytes).map_err(|source| TopicsError::Format {
                path: path.to_owned(),
                source,
            })?;
        if probe.format != FORMAT {
            return Err(TopicsError::Version {
                path: path.to_owned(),
                found: probe.format,
                expected: FORMAT,
            });
        }
        let mut map: TopicMap =
            serde_json::from_slice(&bytes).map_err(|source| TopicsError::Format {
                path: path.to_owned(),
                source,
            })?;
        map.reindex();
        Ok(Some(map))
    }

    /// Writes the map to `path` whole: to a file beside it, synced, then renamed over it.
    pub fn save(&self, path: &Path) -> Result<()> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(TopicsError::io(parent))?;
        }
        let staging = path.with_extension("json.tmp");
        let bytes = serde_json::to_vec(self).map_err(|source| TopicsError::Format {
            path: staging.clone(),
            source,
        })?;
        {
            use std::io::Write;
            let mut file = std::fs::File::create(&staging).map_err(TopicsError::io(&staging))?;
            file.write_all(&bytes).map_err(TopicsError::io(&staging))?;
            file.sync_all().map_err(TopicsError::io(&staging))?;
        }
        std::fs::rename(&staging, path).map_err(TopicsError::io(path))
    }

    pub fn topic(&self, id: TopicId) -> Option<&Topic> {
        self.by_id.get(&id).map(|&index| &self.topics[index])
    }

    /// The broad topics, largest first.
    pub fn broad(&self) -> impl Iterator<Item = &Topic> {
        self.topics.iter().filter(|topic| topic.parent.is_none())
    }

    /// A broad topic's subtopics, largest first.
    pub fn children(&self, id: TopicId) -> impl Iterator<Item = &Topic> {
        self.topics
            .iter()
            .filter(move |topic| topic.parent == Some(id))
    }

    /// The paper's broad topic and subtopic, if it was clustered.
    pub fn topics_of(&self, key: i64) -> Option<&Membership> {
        self.papers
            .binary_search_by_key(&key, |membership| membership.key)
            .ok()
            .map(|index| &self.papers[index])
    }

    /// Whether the paper is in the topic (a broad topic or a subtopic).
    pub fn contains(&self, id: TopicId, key: i64) -> bool {
        self.topics_of(key)
            .is_some_and(|m| m.topic == id || m.subtopic == Some(id))
    }

    /// The topic's papers, the most typical first (nearest its centroid).
    pub fn members(&self, id: TopicId) -> Vec<&Membership> {
        let broad = self.topic(id).is_some_and(|topic| topic.parent.is_none());
        let fit = |m: &Membership| if broad { m.fit } else { m.subtopic_fit };
        let mut members: Vec<&Membership> = self
            .papers
            .iter()
            .filter(|m| m.topic == id || m.subtopic == Some(id))
            .collect();
        members.sort_by(|a, b| fit(b).total_cmp(&fit(a)).then(a.key.cmp(&b.key)));
        members
    }

    /// The `limit` topics of the same level nearest this one, by centroid similarity.
    pub fn neighbours(&self, id: TopicId, limit: usize) -> Vec<(&Topic, f32)> {
        let Some(topic) = self.topic(id) else {
            return Vec::new();
        };
        let broad = topic.parent.is_none();
        let mut near: Vec<(&Topic, f32)> = self
            .topics
            .iter()
            .filter(|other| other.id != id && other.parent.is_none() == broad)
            .map(|other| (other, dot(&topic.centroid, &other.centroid)))
            .collect();
        near.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.id.cmp(&b.0.id)));
        near.truncate(limit);
        near
    }

    /// Papers of the topic per month, oldest first, empty months included between
    /// the first and the last.
    pub fn monthly(&self, id: TopicId) -> Vec<(NaiveDate, usize)> {
        let mut counts: std::collections::BTreeMap<NaiveDate, usize> = Default::default();
        for membership in &self.papers {
            if (membership.topic == id || membership.subtopic == Some(id))
                && let Some(day) = membership.published
                && let Some(month) = day.with_day0(0)
            {
                *counts.entry(month).or_insert(0) += 1;
            }
        }
        let (Some(&first), Some(&last)) = (counts.keys().next(), counts.keys().next_back()) else {
            return Vec::new();
        };
        let mut months = Vec::new();
        let mut month = first;
        while month <= last {
            months.push((month, counts.get(&month).copied().unwrap_or(0)));
            month = match month.checked_add_months(chrono::Months::new(1)) {
                Some(next) => next,
                None => break,
            };
        }
        months
    }

    /// The newest publication day among the clustered papers.
    pub fn newest_day(&self) -> Option<NaiveDate> {
        self.papers.iter().filter_map(|m| m.published).max()
    }
}
