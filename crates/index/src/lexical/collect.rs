//! Collectors that read the `key` fast field, the join key to everything else.

use papers_rank::fusion::Scored;
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::Column;
use tantivy::{DocAddress, DocId, Score, Searcher, SegmentReader};

use crate::error::Result;

/// Maps top-k addresses to keys, keeping order and scores.
pub(crate) fn keys_of(searcher: &Searcher, hits: Vec<(f32, DocAddress)>) -> Result<Vec<Scored>> {
    let mut columns: Vec<Option<Column<u64>>> = vec![None; searcher.segment_readers().len()];
    let mut out = Vec::with_capacity(hits.len());
    for (score, address) in hits {
        let ordinal = address.segment_ord as usize;
        if columns[ordinal].is_none() {
            columns[ordinal] = Some(
                searcher
                    .segment_reader(address.segment_ord)
                    .fast_fields()
                    .u64("key")?,
            );
        }
        if let Some(key) = columns[ordinal]
            .as_ref()
            .and_then(|c| c.first(address.doc_id))
        {
            out.push(Scored { key, score });
        }
    }
    Ok(out)
}

/// Collects the key of every matching document.
pub(crate) struct AllKeys;

pub(crate) struct SegmentKeys {
    column: Column<u64>,
    keys: Vec<u64>,
}

impl Collector for AllKeys {
    type Fruit = Vec<u64>;
    type Child = SegmentKeys;

    fn for_segment(&self, _ordinal: u32, segment: &SegmentReader) -> tantivy::Result<SegmentKeys> {
        Ok(SegmentKeys {
            column: segment.fast_fields().u64("key")?,
            keys: Vec::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Vec<u64>>) -> tantivy::Result<Vec<u64>> {
        Ok(fruits.concat())
    }
}

impl SegmentCollector for SegmentKeys {
    type Fruit = Vec<u64>;

    fn collect(&mut self, doc: DocId, _score: Score) {
        if let Some(key) = self.column.first(doc) {
            self.keys.push(key);
        }
    }

    fn harvest(self) -> Vec<u64> {
        self.keys
    }
}
