//! Tests for the per-member classifier on small synthetic embeddings with a known
//! answer: two topics in separate directions of the space.

use super::*;

/// A unit vector near axis `topic`, perturbed deterministically by `seed`.
fn vector(topic: usize, seed: u64, dimension: usize) -> Vec<f32> {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut v: Vec<f32> = (0..dimension)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 0.3
        })
        .collect();
    v[topic] += 1.0;
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter_mut().for_each(|x| *x /= norm);
    v
}

#[test]
fn separates_the_upvoted_topic_from_the_rest() {
    let positives: Vec<Vec<f32>> = (0..5).map(|s| vector(0, s, 32)).collect();
    let negatives: Vec<Vec<f32>> = (0..100)
        .map(|s| vector(1 + (s as usize % 20), 100 + s, 32))
        .collect();
    let positive_refs: Vec<&[f32]> = positives.iter().map(Vec::as_slice).collect();
    let negative_refs: Vec<&[f32]> = negatives.iter().map(Vec::as_slice).collect();
    let model = train(&positive_refs, &negative_refs, &TrainParams::default()).expect("trains");
    assert!(model.score(&vector(0, 999, 32)) > 0.0);
    assert!(model.score(&vector(7, 998, 32)) < 0.0);
}

#[test]
fn recommends_only_the_similar_candidates_with_the_closest_upvote_as_reason() {
    let upvoted = [(1, vector(0, 1, 32)), (2, vector(3, 2, 32))];
    let negatives: Vec<(i64, Vec<f32>)> = (0..80)
        .map(|s| (100 + s, vector(5 + (s as usize % 20), 500 + s as u64, 32)))
        .collect();
    let candidates = [
        (10, vector(0, 10, 32)),
        (11, vector(3, 11, 32)),
        (12, vector(9, 12, 32)),
        (2, vector(3, 2, 32)),
    ];
    let as_refs = |list: &[(i64, Vec<f32>)]| -> Vec<(i64, Vec<f32>)> { list.to_vec() };
    let upvoted_list = as_refs(&upvoted);
    let upvoted_refs: Vec<(i64, &[f32])> = upvoted_list
        .iter()
        .map(|(k, v)| (*k, v.as_slice()))
        .collect();
    let negative_refs: Vec<(i64, &[f32])> =
        negatives.iter().map(|(k, v)| (*k, v.as_slice())).collect();
    let candidate_refs: Vec<(i64, &[f32])> =
        candidates.iter().map(|(k, v)| (*k, v.as_slice())).collect();
    let picks = recommend(
        &upvoted_refs,
        &negative_refs,
        &candidate_refs,
        10,
        &TrainParams::default(),
    );
    let keys: Vec<i64> = picks.iter().map(|p| p.key).collect();
    assert!(keys.contains(&10) && keys.contains(&11), "{picks:?}");
    assert!(!keys.contains(&12), "unrelated topic picked: {picks:?}");
    assert!(!keys.contains(&2), "an upvoted paper is never a pick");
    let reason = |key| {
        picks
            .iter()
            .find(|p| p.key == key)
            .map(|p| p.closest_upvoted)
    };
    assert_eq!(reason(10), Some(1));
    assert_eq!(reason(11), Some(2));
    assert!(picks.windows(2).all(|w| w[0].score >= w[1].score));
}

#[test]
fn no_model_without_examples_or_with_mismatched_dimensions() {
    let a = vector(0, 1, 8);
    let b = vector(1, 2, 16);
    assert!(train(&[], &[&a], &TrainParams::default()).is_none());
    assert!(train(&[&a], &[], &TrainParams::default()).is_none());
    assert!(train(&[&a], &[&b], &TrainParams::default()).is_none());
}

#[test]
fn cosine_of_parallel_orthogonal_and_zero_vectors() {
    assert!((cosine(&[1.0, 0.0], &[2.0, 0.0]) - 1.0).abs() < 1e-6);
    assert_eq!(cosine(&[1.0, 0.0], &[0.0, 3.0]), 0.0);
    assert_eq!(cosine(&[0.0, 0.0], &[1.0, 1.0]), 0.0);
}
