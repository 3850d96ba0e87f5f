//! Spherical k-means on unit vectors: k-means++ seeding, then Lloyd iterations
//! where similarity is the dot product and each centroid is its members' mean
//! scaled back to unit length.
//!
//! Why spherical: the vectors are unit-normalised sentence embeddings, compared
//! everywhere else by cosine; on the sphere maximising the dot product is
//! minimising the Euclidean distance, so this is k-means, minus the norms.
//!
//! Large corpora are fitted on a sample (`ClusterOptions::sample`): the centroids
//! of 100,000 random papers are as good as those of a million, at a tenth of the
//! cost; every paper is then assigned once. Every pass over the papers runs on
//! all cores (rayon), in fixed-size chunks so that the result does not depend on
//! the number of threads.

use rayon::prelude::*;

use crate::kernel;

/// How a clustering runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClusterOptions {
    /// Lloyd iterations at most.
    pub max_iterations: usize,
    /// Stop once fewer than this share of the papers change cluster in an iteration.
    pub tolerance: f64,
    /// Fit on at most this many papers (a random sample), then assign all.
    pub sample: usize,
    /// Seeds the sampling and the k-means++ draws: the same input and seed give the
    /// same clustering.
    pub seed: u64,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        ClusterOptions {
            max_iterations: 30,
            tolerance: 0.001,
            sample: 100_000,
            seed: 0x5eed_70b1c5,
        }
    }
}

/// A flat clustering: `k` unit centroids (row-major, `k × dim`) and each row's cluster.
#[derive(Debug, Clone, PartialEq)]
pub struct Clustering {
    pub dim: usize,
    pub centroids: Vec<f32>,
    pub assignments: Vec<u32>,
}

impl Clustering {
    pub fn k(&self) -> usize {
        self.centroids.len() / self.dim.max(1)
    }

    pub fn centroid(&self, cluster: usize) -> &[f32] {
        &self.centroids[cluster * self.dim..(cluster + 1) * self.dim]
    }
}

/// Rows k-means++ draws its seeds from at most (see [`spherical_kmeans`]).
const SEED_ROWS: usize = 20_000;

/// Rows handled per rayon task: fixed, so results never depend on the thread count.
const CHUNK: usize = 1024;

/// Clusters the `n × dim` unit rows of `vectors` into at most `k` clusters (fewer
/// when there are fewer rows). Rows need not be exactly unit length; they are
/// compared by dot product.
pub fn spherical_kmeans(
    vectors: &[f32],
    dim: usize,
    k: usize,
    options: &ClusterOptions,
) -> Clustering {
    let n = vectors.len().checked_div(dim).unwrap_or(0);
    let k = k.clamp(1, n.max(1));
    if n == 0 {
        return Clustering {
            dim,
            centroids: Vec::new(),
            assignments: Vec::new(),
        };
    }
    let mut rng = SplitMix64(options.seed);
    // Fit on a sample when there are many rows.
    let sample: Vec<f32>;
    let fit_rows: &[f32] = if n > options.sample.max(k) {
        let picked = sample_indices(n, options.sample.max(k), &mut rng);
        sample = picked
            .iter()
            .flat_map(|&i| vectors[i * dim..(i + 1) * dim].iter().copied())
            .collect();
        &sample
    } else {
        vectors
    };
    // k-means++ makes a pass over its rows per centroid; past SEED_ROWS it draws
    // from a seeded sample of them instead (as scikit-learn's mini-batch k-means
    // does), and Lloyd's iterations then run on every fitted row.
    let fit_n = fit_rows.len() / dim;
    let seed_sample: Vec<f32>;
    let seed_rows: &[f32] = if fit_n > SEED_ROWS.max(k) {
        seed_sample = sample_indices(fit_n, SEED_ROWS.max(k), &mut rng)
            .iter()
            .flat_map(|&i| fit_rows[i * dim..(i + 1) * dim].iter().copied())
            .collect();
        &seed_sample
    } else {
        fit_rows
    };
    let mut centroids = seed_plus_plus(seed_rows, dim, k, &mut rng);
    let mut fit = Bounded::new(fit_rows, dim, &centroids);
    let mut changed = fit.assignments.len();
    for iteration in 0..options.max_iterations {
        if iteration > 0 {
            changed = fit.reassign(fit_rows, &centroids);
        }
        let before = centroids.clone();
        update_centroids(fit_rows, dim, &fit.assignments, &fit.lower, &mut centroids);
        fit.moved(&before, &centroids);
        if (changed as f64) < options.tolerance * fit.assignments.len() as f64 {
            break;
        }
    }
    // The final pass labels every row against the final centroids.
    let assignments = if fit_rows.len() == vectors.len() {
        fit.reassign(fit_rows, &centroids);
        fit.assignments
    } else {
        let mut assignments = vec![u32::MAX; n];
        assign(vectors, dim, &centroids, &mut assignments);
        assignments
    };
    Clustering {
        dim,
        centroids,
        assignments,
    }
}

/// Lloyd's assignments with Hamerly's bounds, which skip the rows whose centroid
/// cannot have changed: each row keeps a lower bound on its similarity to its own
/// centroid and an upper bound on its similarity to any other. A centroid that
/// moves by `d` (Euclidean) changes a unit row's similarity to it by at most `d`,
/// so after an update the lower bound drops by its centroid's move and the upper
/// bound rises by the largest move of another; while the first stays above the
/// second, the row keeps its centroid without a dot product. Late iterations move
/// centroids little, so most rows are skipped, and the assignments are Lloyd's
/// (ties and rounding apart: a bound must clear [`BOUND_MARGIN`]).
struct Bounded {
    dim: usize,
    assignments: Vec<u32>,
    /// Lower bound on each row's similarity to its centroid (exact after a full
    /// assignment; the scores that pick rows for empty clusters).
    lower: Vec<f32>,
    /// Upper bound on each row's similarity to any other centroid.
    upper: Vec<f32>,
    /// How far each centroid moved in the last update.
    moves: Vec<f32>,
}

/// Float rounding in the dot products: a row is skipped only when its bounds are
/// this far apart.
const BOUND_MARGIN: f32 = 1e-5;

impl Bounded {
    /// Every row assigned to its nearest centroid, exactly.
    fn new(rows: &[f32], dim: usize, centroids: &[f32]) -> Bounded {
        let n = rows.len() / dim;
        let mut nearest = vec![kernel::Nearest::default(); n];
        nearest
            .par_chunks_mut(CHUNK)
            .zip(rows.par_chunks(CHUNK * dim))
            .for_each(|(out, rows)| kernel::nearest(rows, centroids, dim, out));
        Bounded {
            dim,
            assignments: nearest.iter().map(|found| found.cluster).collect(),
            lower: nearest.iter().map(|found| found.similarity).collect(),
            upper: nearest.iter().map(|found| found.runner_up).collect(),
            moves: vec![0.0; centroids.len() / dim.max(1)],
        }
    }

    /// Records how far each centroid moved from `before` to `after`.
    fn moved(&mut self, before: &[f32], after: &[f32]) {
        let dim = self.dim;
        for (movement, (old, new)) in self
            .moves
            .iter_mut()
            .zip(before.chunks_exact(dim).zip(after.chunks_exact(dim)))
        {
            *movement = old
                .iter()
                .zip(new)
                .map(|(a, b)| (a - b) * (a - b))
                .sum::<f32>()
                .sqrt();
        }
    }

    /// Reassigns the rows against `centroids` (moved as last recorded); returns how
    /// many changed centroid.
    fn reassign(&mut self, rows: &[f32], centroids: &[f32]) -> usize {
        let dim = self.dim;
        // The largest move and the largest of any other centroid than that one.
        let (mut first, mut second, mut largest) = (0.0_f32, 0.0_f32, usize::MAX);
        for (cluster, &movement) in self.moves.iter().enumerate() {
            if movement > first {
                second = first;
                first = movement;
                largest = cluster;
            } else if movement > second {
                second = movement;
            }
        }
        let moves = &self.moves;
        rows.par_chunks(CHUNK * dim)
            .zip(self.assignments.par_chunks_mut(CHUNK))
            .zip(self.lower.par_chunks_mut(CHUNK))
            .zip(self.upper.par_chunks_mut(CHUNK))
            .map(|(((rows, assigned), lower), upper)| {
                let mut unsure: Vec<usize> = Vec::new();
                for (i, row) in rows.chunks_exact(dim).enumerate() {
                    let own = assigned[i] as usize;
                    lower[i] -= moves[own];
                    upper[i] += if own == largest { second } else { first };
                    if lower[i] - upper[i] > BOUND_MARGIN {
                        continue;
                    }
                    lower[i] = dot(row, &centroids[own * dim..(own + 1) * dim]);
                    if lower[i] - upper[i] > BOUND_MARGIN {
                        continue;
                    }
                    unsure.push(i);
                }
                if unsure.is_empty() {
                    return 0;
                }
                let gathered: Vec<f32> = unsure
                    .iter()
                    .flat_map(|&i| rows[i * dim..(i + 1) * dim].iter().copied())
                    .collect();
                let mut nearest = vec![kernel::Nearest::default(); unsure.len()];
                kernel::nearest(&gathered, centroids, dim, &mut nearest);
                let mut changed = 0;
                for (&i, found) in unsure.iter().zip(&nearest) {
                    changed += usize::from(assigned[i] != found.cluster);
                    assigned[i] = found.cluster;
                    lower[i] = found.similarity;
                    upper[i] = found.runner_up;
                }
                changed
            })
            .sum()
    }
}

/// Dot product, in eight independent sums so the compiler vectorises it.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut sums = [0.0_f32; 8];
    let mut left = a.chunks_exact(8);
    let mut right = b.chunks_exact(8);
    for (x, y) in (&mut left).zip(&mut right) {
        for i in 0..8 {
            sums[i] += x[i] * y[i];
        }
    }
    let mut total: f32 = sums.iter().sum();
    for (x, y) in left.remainder().iter().zip(right.remainder()) {
        total += x * y;
    }
    total
}

/// Scales `vector` to unit length (a zero vector stays zero).
pub fn normalize(vector: &mut [f32]) {
    let norm = dot(vector, vector).sqrt();
    if norm > 0.0 {
        for value in vector.iter_mut() {
            *value /= norm;
        }
    }
}

/// Assigns every row to its nearest centroid; returns how many rows moved and each
/// row's similarity to its centroid.
fn assign(
    rows: &[f32],
    dim: usize,
    centroids: &[f32],
    assignments: &mut [u32],
) -> (usize, Vec<f32>) {
    let mut scores = vec![0.0_f32; assignments.len()];
    let changed = rows
        .par_chunks(CHUNK * dim)
        .zip(assignments.par_chunks_mut(CHUNK))
        .zip(scores.par_chunks_mut(CHUNK))
        .map(|((rows, assigned), scores)| {
            let mut nearest = vec![kernel::Nearest::default(); assigned.len()];
            kernel::nearest(rows, centroids, dim, &mut nearest);
            let mut changed = 0;
            for ((slot, score), found) in assigned.iter_mut().zip(scores).zip(nearest) {
                changed += usize::from(*slot != found.cluster);
                *slot = found.cluster;
                *score = found.similarity;
            }
            changed
        })
        .sum();
    (changed, scores)
}

/// Each centroid becomes its members' normalised mean. An empty cluster takes the
/// row that fits its own cluster worst, so k clusters stay k.
fn update_centroids(
    rows: &[f32],
    dim: usize,
    assignments: &[u32],
    scores: &[f32],
    centroids: &mut [f32],
) {
    let k = centroids.len() / dim;
    let sums = rows
        .par_chunks(CHUNK * dim)
        .zip(assignments.par_chunks(CHUNK))
        .map(|(rows, assigned)| {
            let mut sums = vec![0.0_f64; k * dim];
            let mut counts = vec![0usize; k];
            for (row, &cluster) in rows.chunks_exact(dim).zip(assigned) {
                let cluster = cluster as usize;
                counts[cluster] += 1;
                for (sum, value) in sums[cluster * dim..(cluster + 1) * dim].iter_mut().zip(row) {
                    *sum += f64::from(*value);
                }
            }
            (sums, counts)
        })
        .reduce(
            || (vec![0.0; k * dim], vec![0; k]),
            |(mut sums, mut counts), (other_sums, other_counts)| {
                for (a, b) in sums.iter_mut().zip(other_sums) {
                    *a += b;
                }
                for (a, b) in counts.iter_mut().zip(other_counts) {
                    *a += b;
                }
                (sums, counts)
            },
        );
    let (sums, counts) = sums;
    // Rows that fit their cluster worst, for empty clusters (rarely any: the sort
    // is skipped then).
    let mut worst: Vec<usize> = Vec::new();
    if counts.contains(&0) {
        worst = (0..scores.len()).collect();
        worst.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]).then(a.cmp(&b)));
    }
    let mut reseeds = worst.into_iter();
    for cluster in 0..k {
        let centroid = &mut centroids[cluster * dim..(cluster + 1) * dim];
        if counts[cluster] == 0 {
            if let Some(row) = reseeds.next() {
                centroid.copy_from_slice(&rows[row * dim..(row + 1) * dim]);
            }
        } else {
            for (value, sum) in centroid.iter_mut().zip(&sums[cluster * dim..]) {
                *value = *sum as f32;
            }
        }
        normalize(centroid);
    }
}

/// k-means++: the first centroid a random row, each next one a row drawn with
/// probability proportional to its squared distance from the nearest centroid so far.
fn seed_plus_plus(rows: &[f32], dim: usize, k: usize, rng: &mut SplitMix64) -> Vec<f32> {
    let n = rows.len() / dim;
    let mut centroids = Vec::with_capacity(k * dim);
    let first = rng.below(n);
    centroids.extend_from_slice(&rows[first * dim..(first + 1) * dim]);
    // Squared Euclidean distance between unit vectors: 2 - 2 cos.
    let mut distances = vec![f32::INFINITY; n];
    for _ in 1..k {
        let last = &centroids[centroids.len() - dim..];
        distances
            .par_chunks_mut(CHUNK)
            .zip(rows.par_chunks(CHUNK * dim))
            .for_each(|(distances, rows)| {
                let mut similar = vec![kernel::Nearest::default(); distances.len()];
                kernel::nearest(rows, last, dim, &mut similar);
                for (distance, found) in distances.iter_mut().zip(similar) {
                    let to_last = (2.0 - 2.0 * found.similarity).max(0.0);
                    *distance = distance.min(to_last);
                }
            });
        let total: f64 = distances.iter().map(|&d| f64::from(d)).sum();
        let next = if total > 0.0 {
            let mut target = rng.unit() * total;
            let mut chosen = n - 1;
            for (row, &distance) in distances.iter().enumerate() {
                target -= f64::from(distance);
                if target <= 0.0 {
                    chosen = row;
                    break;
                }
            }
            chosen
        } else {
            rng.below(n)
        };
        centroids.extend_from_slice(&rows[next * dim..(next + 1) * dim]);
    }
    centroids
}

/// `count` distinct row indices out of `n`, in increasing order (a partial
/// Fisher-Yates shuffle).
fn sample_indices(n: usize, count: usize, rng: &mut SplitMix64) -> Vec<usize> {
    let mut indices: Vec<usize> = (0..n).collect();
    for i in 0..count.min(n) {
        let j = i + rng.below(n - i);
        indices.swap(i, j);
    }
    indices.truncate(count.min(n));
    indices.sort_unstable();
    indices
}

/// A small deterministic generator (SplitMix64): reproducible clusterings need
/// nothing more, and it keeps the crate free of a random-number dependency.
#[derive(Debug, Clone)]
pub(crate) struct SplitMix64(pub(crate) u64);

impl SplitMix64 {
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in 0..n (n > 0).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.unit() * n as f64) as usize % n.max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Points scattered tightly around `centres`, unit length.
    fn blobs(centres: &[[f32; 3]], per: usize) -> (Vec<f32>, Vec<usize>) {
        let mut rng = SplitMix64(7);
        let mut rows = Vec::new();
        let mut labels = Vec::new();
        for (label, centre) in centres.iter().enumerate() {
            for _ in 0..per {
                let mut row: Vec<f32> = centre
                    .iter()
                    .map(|c| c + (rng.unit() as f32 - 0.5) * 0.2)
                    .collect();
                normalize(&mut row);
                rows.extend(row);
                labels.push(label);
            }
        }
        (rows, labels)
    }

    #[test]
    fn separates_well_separated_groups() {
        let (rows, labels) = blobs(&[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], 50);
        let clustering = spherical_kmeans(&rows, 3, 3, &ClusterOptions::default());
        assert_eq!(clustering.k(), 3);
        // Every group lands in one cluster, and the three clusters differ.
        let mut seen = Vec::new();
        for group in 0..3 {
            let clusters: Vec<u32> = labels
                .iter()
                .zip(&clustering.assignments)
                .filter(|(label, _)| **label == group)
                .map(|(_, cluster)| *cluster)
                .collect();
            assert!(clusters.iter().all(|c| *c == clusters[0]), "{clusters:?}");
            seen.push(clusters[0]);
        }
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), 3);
        for cluster in 0..3 {
            let norm = dot(clustering.centroid(cluster), clustering.centroid(cluster));
            assert!(
                (norm - 1.0).abs() < 1e-4,
                "centroid {cluster} has norm {norm}"
            );
        }
    }

    #[test]
    fn sampled_fit_still_labels_every_row_and_is_deterministic() {
        let (rows, labels) = blobs(&[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], 400);
        let options = ClusterOptions {
            sample: 100,
            ..ClusterOptions::default()
        };
        let first = spherical_kmeans(&rows, 3, 2, &options);
        assert_eq!(first.assignments.len(), labels.len());
        // Each row shares a cluster with the first row exactly when it shares its group.
        for (label, cluster) in labels.iter().zip(&first.assignments) {
            assert_eq!(*label == labels[0], *cluster == first.assignments[0]);
        }
        assert_eq!(first, spherical_kmeans(&rows, 3, 2, &options));
    }

    #[test]
    fn more_clusters_than_rows_and_empty_input() {
        let (rows, _) = blobs(&[[1.0, 0.0, 0.0]], 2);
        assert_eq!(
            spherical_kmeans(&rows, 3, 10, &ClusterOptions::default()).k(),
            2
        );
        assert!(
            spherical_kmeans(&[], 3, 4, &ClusterOptions::default())
                .assignments
                .is_empty()
        );
    }
}
