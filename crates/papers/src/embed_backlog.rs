//! Which papers a serving node still has to embed, found without reading the whole
//! store every step.
//!
//! The index follower looks for papers without a vector every two seconds. Asking the
//! store for "papers with no vector" reads every paper and probes its vector: 0.4 s
//! of a core at 76,803 papers, five times a second's worth at a million. Under load
//! that was a fifth of a core taken from the request worker on a 2-core machine,
//! with SQLite's shared locks between them. So the follower passes over the store
//! once, a batch at a time from the last key it reached, and then checks only the
//! papers that the change log names since: a new paper, or one whose new text dropped
//! its vector, is always logged as a change.

use papers_store::{EmbeddingInput, Store, StoreError};

/// Changed papers checked one by one at most; more (a large ingest) are found by a
/// pass from the lowest of them instead.
const MAX_CHANGED: usize = 4096;

/// Where the search for papers without a vector stands.
#[derive(Debug, Default)]
pub struct EmbedBacklog {
    /// Every paper changed up to this change sequence number has a vector for the
    /// model, or had one stored since; `None` until the first pass has ended.
    checked: Option<i64>,
    /// The pass under way: the change sequence number before it began, and the key
    /// it has reached.
    pass: Option<Pass>,
}

#[derive(Debug, Clone, Copy)]
struct Pass {
    /// Changes up to here are covered once the pass ends.
    covers: i64,
    /// Papers with keys up to here have been handed out or had a vector.
    after: i64,
}

impl EmbedBacklog {
    /// Up to `limit` papers without a vector for `model`, to embed next; empty when
    /// there are none. Storing their vectors before the next call is the caller's
    /// part: a paper handed out and not embedded is found again only by a new pass,
    /// so after a failed batch the caller starts over with a new `EmbedBacklog`.
    pub fn next(
        &mut self,
        store: &Store,
        model: &str,
        limit: usize,
    ) -> Result<Vec<EmbeddingInput>, StoreError> {
        let pass = match (self.pass, self.checked) {
            (Some(pass), _) => pass,
            (None, None) => Pass {
                covers: store.last_change()?,
                after: i64::MIN,
            },
            (None, Some(checked)) => {
                let (keys, last) = store.changed_since(checked)?;
                match keys.first() {
                    None => return Ok(Vec::new()),
                    Some(&lowest) if keys.len() > MAX_CHANGED => Pass {
                        covers: last,
                        after: lowest - 1,
                    },
                    Some(_) => {
                        let batch = store.papers_without_embedding_among(model, &keys, limit)?;
                        if batch.is_empty() {
                            self.checked = Some(last);
                        }
                        return Ok(batch);
                    }
                }
            }
        };
        let batch = store.papers_without_embedding(model, pass.after, limit)?;
        match batch.last() {
            Some(last) => {
                self.pass = Some(Pass {
                    after: last.key,
                    ..pass
                });
            }
            None => {
                self.pass = None;
                self.checked = Some(pass.covers);
            }
        }
        Ok(batch)
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use papers_core::{ArxivId, Category, Metadata, PaperRecord, Source, Version};
    use papers_store::Database;

    use super::*;

    fn record(id: &str, title: &str) -> PaperRecord {
        PaperRecord {
            id: ArxivId::parse(id).expect("valid id"),
            source: Source::Kaggle,
            metadata: Metadata {
                title: title.into(),
                abstract_text: "We study things.".into(),
                authors: vec!["Ada Lovelace".into()],
                categories: Category::parse_list("cs.IR").expect("valid"),
                published: Utc.with_ymd_and_hms(2024, 1, 1, 10, 0, 0).single(),
                versions: vec![Version {
                    number: 1,
                    created: Utc.with_ymd_and_hms(2024, 1, 1, 10, 0, 0).single(),
                    size: None,
                }],
                ..Metadata::default()
            },
            community: None,
        }
    }

    /// `id` again as its version 2, with a new title.
    fn revised(id: &str, title: &str) -> PaperRecord {
        let mut paper = record(id, title);
        paper.metadata.versions.push(Version {
            number: 2,
            created: Utc.with_ymd_and_hms(2024, 2, 1, 10, 0, 0).single(),
            size: None,
        });
        paper
    }

    fn ingest(store: &mut Store, records: Vec<PaperRecord>) {
        let mut batch = store.begin_ingest(Utc::now()).expect("begin");
        for record in records {
            batch.upsert(record).expect("upsert");
        }
        batch.commit().expect("commit");
    }

    /// What the follower does with a batch: store a vector for each.
    fn embed(store: &mut Store, batch: &[EmbeddingInput]) -> Vec<i64> {
        let rows: Vec<(i64, Vec<f32>)> = batch.iter().map(|p| (p.key, vec![1.0])).collect();
        store.put_embeddings("m", &rows, Utc::now()).expect("put");
        batch.iter().map(|p| p.key).collect()
    }

    #[test]
    fn a_pass_then_only_what_the_change_log_names() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = Store::connect(&Database::Sqlite(dir.path().to_owned())).expect("open");
        let ids: Vec<String> = (1..=5).map(|n| format!("2401.0000{n}")).collect();
        ingest(
            &mut store,
            ids.iter().map(|id| record(id, "A title")).collect(),
        );
        let mut backlog = EmbedBacklog::default();

        // The first pass hands out every paper once, two at a time, in key order.
        let mut embedded = Vec::new();
        loop {
            let batch = backlog.next(&store, "m", 2).expect("next");
            if batch.is_empty() {
                break;
            }
            assert!(batch.len() <= 2);
            embedded.extend(embed(&mut store, &batch));
        }
        assert_eq!(embedded.len(), 5);
        assert!(embedded.windows(2).all(|pair| pair[0] < pair[1]));
        assert_eq!(store.count_without_embedding("m").expect("count"), 0);
        // Storing the vectors logged changes; checked once, then nothing is left.
        assert!(backlog.next(&store, "m", 2).expect("next").is_empty());
        assert!(backlog.next(&store, "m", 2).expect("next").is_empty());

        // A new paper, and a new text for the lowest key (its vector is dropped).
        ingest(
            &mut store,
            vec![
                record("2401.00009", "A new paper"),
                revised(&ids[0], "A revised title"),
            ],
        );
        let batch = backlog.next(&store, "m", 10).expect("next");
        let keys: Vec<i64> = batch.iter().map(|p| p.key).collect();
        let found: Vec<String> = store
            .papers_by_keys(&keys)
            .expect("read")
            .iter()
            .map(|p| p.paper.id.to_string())
            .collect();
        assert_eq!(found, [ids[0].clone(), "2401.00009".to_owned()]);
        embed(&mut store, &batch);
        assert!(backlog.next(&store, "m", 10).expect("next").is_empty());
        assert_eq!(store.count_without_embedding("m").expect("count"), 0);
    }

    #[test]
    fn many_changes_are_found_by_a_pass() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = Store::connect(&Database::Sqlite(dir.path().to_owned())).expect("open");
        let mut backlog = EmbedBacklog::default();
        assert!(
            backlog
                .next(&store, "m", 100)
                .expect("empty store")
                .is_empty()
        );
        let count = MAX_CHANGED + 10;
        ingest(
            &mut store,
            (0..count)
                .map(|n| record(&format!("2402.{:05}", n + 1), "A title"))
                .collect(),
        );
        let mut embedded = 0;
        loop {
            let batch = backlog.next(&store, "m", 1000).expect("next");
            if batch.is_empty() {
                break;
            }
            embedded += embed(&mut store, &batch).len();
        }
        assert_eq!(embedded, count);
        assert_eq!(store.count_without_embedding("m").expect("count"), 0);
    }
}
