//! Personal picks: a linear classifier per member over paper embeddings, trained on
//! the member's upvotes (positives) against other papers (negatives), then used to
//! score new papers. The same idea as arxiv-sanity's per-user SVM.
//!
//! The classifier is a linear SVM (hinge loss, L2 regularisation) solved by dual
//! coordinate descent, the method of liblinear: each pass over the examples costs one
//! dot product per example and it converges in a few dozen passes, which matters when
//! a digest run trains one model for every member. Class weights are balanced, so a
//! member with five upvotes against hundreds of negatives still gets a useful model.
//!
//! Every pick carries the upvoted paper it is most similar to (cosine), which the
//! digest shows as the reason.
//!
//! [`for_you`] extends the rule to every signal a member gives (upvotes, saves, "more
//! like this" as positives, "less like this" as weighted negatives), recent papers
//! only, and a cold start from picked categories: the site's For you and the digest's
//! picks both rank through it.

pub mod for_you;

/// Training settings; the defaults suit unit-length sentence embeddings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainParams {
    /// Inverse regularisation strength, as in liblinear's `-c`.
    pub c: f32,
    /// Upper bound on passes over the training set.
    pub max_passes: usize,
    /// Stop once the projected gradient's spread falls below this.
    pub tolerance: f32,
}

impl Default for TrainParams {
    fn default() -> Self {
        TrainParams {
            c: 1.0,
            // liblinear's defaults for its dual solvers: the ranking of candidates
            // settles long before the weights do.
            max_passes: 15,
            tolerance: 0.1,
        }
    }
}

/// A trained linear model: `score(x) = weights · x + bias`.
#[derive(Debug, Clone, PartialEq)]
pub struct Classifier {
    pub weights: Vec<f32>,
    pub bias: f32,
}

impl Classifier {
    /// Positive means "like the member's upvotes".
    pub fn score(&self, vector: &[f32]) -> f32 {
        dot(&self.weights, vector) + self.bias
    }
}

/// One recommended paper.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pick {
    pub key: i64,
    pub score: f32,
    /// The upvoted paper closest to this one, and their cosine similarity.
    pub closest_upvoted: i64,
    pub similarity: f32,
}

/// Trains the classifier. Returns `None` without positives or negatives, or when the
/// vectors disagree in length.
pub fn train(
    positives: &[&[f32]],
    negatives: &[&[f32]],
    params: &TrainParams,
) -> Option<Classifier> {
    let weighted: Vec<(&[f32], f32)> = negatives.iter().map(|v| (*v, 1.0)).collect();
    train_weighted(positives, &weighted, params)
}

/// [`train`] with a weight per negative: a negative of weight 3 costs three times as
/// much to score on the wrong side (its box constraint is three times wider), so a
/// member's explicit "less like this" outweighs a sampled "not this".
pub fn train_weighted(
    positives: &[&[f32]],
    negatives: &[(&[f32], f32)],
    params: &TrainParams,
) -> Option<Classifier> {
    let dimension = positives.first()?.len();
    if negatives.is_empty()
        || positives
            .iter()
            .chain(negatives.iter().map(|(v, _)| v))
            .any(|v| v.len() != dimension)
    {
        return None;
    }
    let examples: Vec<(&[f32], f32, f32)> = positives
        .iter()
        .map(|v| (*v, 1.0, 1.0))
        .chain(negatives.iter().map(|(v, w)| (*v, -1.0, w.max(0.0))))
        .collect();
    let total = examples.len() as f32;
    // Balanced class weights, as sklearn's `class_weight="balanced"`.
    let upper_positive = params.c * total / (2.0 * positives.len() as f32);
    let upper_negative = params.c * total / (2.0 * negatives.len() as f32);
    // The bias is learned as the weight of a constant feature 1, as liblinear does.
    let diagonal: Vec<f32> = examples.iter().map(|(x, _, _)| dot(x, x) + 1.0).collect();
    let mut alpha = vec![0.0f32; examples.len()];
    let mut weights = vec![0.0f32; dimension];
    let mut bias = 0.0f32;
    let mut order: Vec<usize> = (0..examples.len()).collect();
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    for _ in 0..params.max_passes {
        shuffle(&mut order, &mut seed);
        let (mut high, mut low) = (f32::MIN, f32::MAX);
        for &i in &order {
            let (x, y, weight) = examples[i];
            let upper = weight
                * if y > 0.0 {
                    upper_positive
                } else {
                    upper_negative
                };
            let gradient = y * (dot(&weights, x) + bias) - 1.0;
            let projected = if alpha[i] <= 0.0 {
                gradient.min(0.0)
            } else if alpha[i] >= upper {
                gradient.max(0.0)
            } else {
                gradient
            };
            high = high.max(projected);
            low = low.min(projected);
            if projected.abs() > 1e-12 {
                let old = alpha[i];
                alpha[i] = (old - gradient / diagonal[i]).clamp(0.0, upper);
                let step = (alpha[i] - old) * y;
                add_scaled(&mut weights, x, step);
                bias += step;
            }
        }
        if high - low < params.tolerance {
            break;
        }
    }
    Some(Classifier { weights, bias })
}

/// Trains on `upvoted` against `negatives` and returns up to `limit` candidates the
/// model scores above zero, best first. Candidates the member already upvoted, and
/// negatives that are upvoted, are left out. [`for_you::for_you`] with upvotes alone,
/// undated candidates and only its confident picks.
pub fn recommend(
    upvoted: &[(i64, &[f32])],
    negatives: &[(i64, &[f32])],
    candidates: &[(i64, &[f32])],
    limit: usize,
    params: &TrainParams,
) -> Vec<Pick> {
    use for_you::{Candidate, Inputs, Liked, Reason, Signal};
    if negatives.is_empty() {
        return Vec::new();
    }
    let liked: Vec<Liked<'_>> = upvoted
        .iter()
        .map(|(key, vector)| Liked {
            key: *key,
            signal: Signal::Upvoted,
            vector,
        })
        .collect();
    let candidates: Vec<Candidate<'_>> = candidates
        .iter()
        .map(|(key, vector)| Candidate {
            key: *key,
            vector: Some(vector),
            categories: &[],
            published: None,
            trending: 0.0,
        })
        .collect();
    let inputs = Inputs {
        liked: &liked,
        less: &[],
        less_without_vectors: &[],
        background: negatives,
        picked: &[],
        candidates: &candidates,
    };
    let params = for_you::Params {
        window_days: 0,
        training: *params,
    };
    // `now` only bounds dated candidates, and these have no dates.
    for_you::for_you(
        &inputs,
        chrono::DateTime::UNIX_EPOCH,
        candidates.len(),
        &params,
    )
    .into_iter()
    .filter(|r| r.confident())
    .take(limit)
    .filter_map(|r| match r.reason {
        Reason::Close {
            key, similarity, ..
        } => Some(Pick {
            key: r.key,
            score: r.score as f32,
            closest_upvoted: key,
            similarity,
        }),
        Reason::Picked(_) => None,
    })
    .collect()
}

/// Cosine similarity; 0 when either vector is zero.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let norms = (dot(a, a) * dot(b, b)).sqrt();
    if norms > 0.0 { dot(a, b) / norms } else { 0.0 }
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    // Four accumulators let the compiler vectorise without reassociating floats.
    let mut sums = [0.0f32; 4];
    let chunks = a.len().min(b.len()) / 4;
    for i in 0..chunks {
        for lane in 0..4 {
            sums[lane] += a[i * 4 + lane] * b[i * 4 + lane];
        }
    }
    let mut total = sums.iter().sum::<f32>();
    for i in chunks * 4..a.len().min(b.len()) {
        total += a[i] * b[i];
    }
    total
}

fn add_scaled(target: &mut [f32], x: &[f32], factor: f32) {
    for (t, v) in target.iter_mut().zip(x) {
        *t += factor * v;
    }
}

/// Fisher–Yates with a fixed-seed xorshift, so training is reproducible.
fn shuffle(order: &mut [usize], seed: &mut u64) {
    for i in (1..order.len()).rev() {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        let j = (*seed % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
}

#[cfg(test)]
mod tests;
