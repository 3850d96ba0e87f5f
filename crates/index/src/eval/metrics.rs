//! Retrieval metrics with the definitions of trec_eval / pytrec_eval as BEIR uses
//! them: nDCG@k with linear graded gains and log2 discounts, recall@k over the
//! documents judged relevant (score > 0), and reciprocal rank of the first
//! relevant document within k.

use std::collections::HashMap;

/// Judgements for one query: document id → graded relevance.
pub type Judgements = HashMap<String, i32>;

/// nDCG@k of `ranked` (document ids, best first).
pub fn ndcg_at(ranked: &[&str], judged: &Judgements, k: usize) -> f64 {
    let dcg: f64 = ranked
        .iter()
        .take(k)
        .enumerate()
        .map(|(i, id)| gain(judged.get(*id).copied()) / (i as f64 + 2.0).log2())
        .sum();
    let mut ideal: Vec<i32> = judged.values().copied().filter(|&r| r > 0).collect();
    ideal.sort_unstable_by(|a, b| b.cmp(a));
    let idcg: f64 = ideal
        .iter()
        .take(k)
        .enumerate()
        .map(|(i, &r)| gain(Some(r)) / (i as f64 + 2.0).log2())
        .sum();
    if idcg > 0.0 { dcg / idcg } else { 0.0 }
}

/// Recall@k: the share of relevant documents found in the first k.
pub fn recall_at(ranked: &[&str], judged: &Judgements, k: usize) -> f64 {
    let relevant = judged.values().filter(|&&r| r > 0).count();
    if relevant == 0 {
        return 0.0;
    }
    let found = ranked
        .iter()
        .take(k)
        .filter(|id| judged.get(**id).is_some_and(|&r| r > 0))
        .count();
    found as f64 / relevant as f64
}

/// Reciprocal rank of the first relevant document within the first k, else 0.
pub fn mrr_at(ranked: &[&str], judged: &Judgements, k: usize) -> f64 {
    ranked
        .iter()
        .take(k)
        .position(|id| judged.get(*id).is_some_and(|&r| r > 0))
        .map_or(0.0, |i| 1.0 / (i as f64 + 1.0))
}

fn gain(relevance: Option<i32>) -> f64 {
    relevance.map_or(0.0, |r| r.max(0) as f64)
}

/// Means of the three figures over queries.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub struct Metrics {
    pub ndcg_at_10: f64,
    pub recall_at_100: f64,
    pub mrr_at_10: f64,
}

impl Metrics {
    pub fn of(ranked: &[&str], judged: &Judgements) -> Metrics {
        Metrics {
            ndcg_at_10: ndcg_at(ranked, judged, 10),
            recall_at_100: recall_at(ranked, judged, 100),
            mrr_at_10: mrr_at(ranked, judged, 10),
        }
    }

    pub fn mean(all: &[Metrics]) -> Metrics {
        let n = all.len().max(1) as f64;
        Metrics {
            ndcg_at_10: all.iter().map(|m| m.ndcg_at_10).sum::<f64>() / n,
            recall_at_100: all.iter().map(|m| m.recall_at_100).sum::<f64>() / n,
            mrr_at_10: all.iter().map(|m| m.mrr_at_10).sum::<f64>() / n,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judged(pairs: &[(&str, i32)]) -> Judgements {
        pairs.iter().map(|&(id, r)| (id.to_owned(), r)).collect()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn ndcg_graded_and_binary() {
        let j = judged(&[("a", 2), ("b", 1), ("z", 0)]);
        assert!(close(ndcg_at(&["a", "b"], &j, 10), 1.0));
        // b then a: (1/1 + 2/log2 3) / (2/1 + 1/log2 3).
        let expected = (1.0 + 2.0 / 3f64.log2()) / (2.0 + 1.0 / 3f64.log2());
        assert!(close(ndcg_at(&["b", "a"], &j, 10), expected));
        // Relevant document at rank 3 only, one relevant in all: 1/log2(4) = 0.5.
        let single = judged(&[("a", 1)]);
        assert!(close(ndcg_at(&["x", "y", "a"], &single, 10), 0.5));
        assert!(close(ndcg_at(&["x", "y", "a"], &single, 2), 0.0));
        assert!(close(ndcg_at(&["a"], &judged(&[("a", 0)]), 10), 0.0));
    }

    #[test]
    fn recall_and_mrr() {
        let j = judged(&[("a", 1), ("b", 1), ("c", 0)]);
        assert!(close(recall_at(&["c", "a", "x"], &j, 100), 0.5));
        assert!(close(recall_at(&["c", "a", "b"], &j, 2), 0.5));
        assert!(close(mrr_at(&["c", "x", "b"], &j, 10), 1.0 / 3.0));
        assert!(close(mrr_at(&["c", "x", "b"], &j, 2), 0.0));
        let m = Metrics::mean(&[Metrics::of(&["a"], &j), Metrics::of(&["x"], &j)]);
        assert!(close(m.mrr_at_10, 0.5));
    }
}
