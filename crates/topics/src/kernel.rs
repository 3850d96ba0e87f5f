//! The inner loop of every clustering pass: each row's most similar centroid by
//! dot product, four rows at a time against each centroid (one load of a centroid's
//! lanes serves four rows).
//!
//! One generic source is compiled three times: for AVX-512 and for AVX2 with FMA,
//! each inside a `#[target_feature]` function that inlines it, and for the baseline
//! target. The CPU's best is chosen once at run time, as the dense index's scan
//! kernel does; without it the baseline build (SSE2, no FMA) spent most of a topic
//! build in these dot products. The sums are in a fixed order for a given kernel,
//! so a build is deterministic on one machine; another kernel may round a score in
//! the last bit differently, which can only move a paper that sits exactly between
//! two centroids.

use std::sync::OnceLock;

/// Lanes of each accumulator: one AVX-512 register, two AVX2 ones.
const LANES: usize = 16;
/// Rows scored together against each centroid.
const ROWS: usize = 4;

/// A row's most similar centroid (the first one on a tie), its similarity, and the
/// similarity of the runner-up (negative infinity with one centroid).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Nearest {
    pub cluster: u32,
    pub similarity: f32,
    pub runner_up: f32,
}

impl Default for Nearest {
    fn default() -> Self {
        Nearest {
            cluster: 0,
            similarity: f32::NEG_INFINITY,
            runner_up: f32::NEG_INFINITY,
        }
    }
}

/// Writes the [`Nearest`] centroid of each `dim`-wide row of `rows` into `out`.
pub(crate) type NearestFn = fn(rows: &[f32], centroids: &[f32], dim: usize, out: &mut [Nearest]);

/// The fastest kernel this CPU supports, and its name (for the bench).
pub(crate) fn best() -> (NearestFn, &'static str) {
    static BEST: OnceLock<(NearestFn, &'static str)> = OnceLock::new();
    *BEST.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                return (x86::nearest_avx512_entry, "avx512");
            }
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                return (x86::nearest_avx2_entry, "avx2+fma");
            }
        }
        (nearest_portable, "portable")
    })
}

/// The dot product of `a` and `b` by the best kernel this CPU supports.
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    type DotFn = fn(&[f32], &[f32]) -> f32;
    static BEST_DOT: OnceLock<DotFn> = OnceLock::new();
    let best = BEST_DOT.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                return x86::dot_avx512_entry;
            }
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                return x86::dot_avx2_entry;
            }
        }
        dot_generic::<false>
    });
    best(a, b)
}

/// [`best`]'s kernel on `rows`.
pub(crate) fn nearest(rows: &[f32], centroids: &[f32], dim: usize, out: &mut [Nearest]) {
    (best().0)(rows, centroids, dim, out);
}

pub(crate) fn nearest_portable(rows: &[f32], centroids: &[f32], dim: usize, out: &mut [Nearest]) {
    nearest_generic::<false>(rows, centroids, dim, out);
}

/// `x · y + acc`, fused where the target has FMA (`mul_add` without it would be a
/// slow library call).
#[inline(always)]
fn madd<const FMA: bool>(x: f32, y: f32, acc: f32) -> f32 {
    if FMA { x.mul_add(y, acc) } else { acc + x * y }
}

#[inline(always)]
fn nearest_generic<const FMA: bool>(
    rows: &[f32],
    centroids: &[f32],
    dim: usize,
    out: &mut [Nearest],
) {
    if dim == 0 {
        return;
    }
    for (block, out) in rows.chunks(ROWS * dim).zip(out.chunks_mut(ROWS)) {
        let mut best = [Nearest::default(); ROWS];
        for (cluster, centroid) in centroids.chunks_exact(dim).enumerate() {
            let scores = if out.len() == ROWS {
                dots4::<FMA>(block, centroid, dim)
            } else {
                let mut scores = [0.0; ROWS];
                for (score, row) in scores.iter_mut().zip(block.chunks_exact(dim)) {
                    *score = dot_generic::<FMA>(row, centroid);
                }
                scores
            };
            for (best, &score) in best.iter_mut().zip(&scores).take(out.len()) {
                if score > best.similarity {
                    best.runner_up = best.similarity;
                    best.cluster = cluster as u32;
                    best.similarity = score;
                } else if score > best.runner_up {
                    best.runner_up = score;
                }
            }
        }
        out.copy_from_slice(&best[..out.len()]);
    }
}

/// The dot products of four consecutive rows with `centroid`.
#[inline(always)]
fn dots4<const FMA: bool>(block: &[f32], centroid: &[f32], dim: usize) -> [f32; ROWS] {
    let (r0, rest) = block.split_at(dim);
    let (r1, rest) = rest.split_at(dim);
    let (r2, r3) = rest.split_at(dim);
    let mut acc = [[0.0_f32; LANES]; ROWS];
    let lanes = centroid
        .chunks_exact(LANES)
        .zip(r0.chunks_exact(LANES))
        .zip(r1.chunks_exact(LANES))
        .zip(r2.chunks_exact(LANES))
        .zip(r3.chunks_exact(LANES));
    for ((((c, x0), x1), x2), x3) in lanes {
        for lane in 0..LANES {
            acc[0][lane] = madd::<FMA>(x0[lane], c[lane], acc[0][lane]);
            acc[1][lane] = madd::<FMA>(x1[lane], c[lane], acc[1][lane]);
            acc[2][lane] = madd::<FMA>(x2[lane], c[lane], acc[2][lane]);
            acc[3][lane] = madd::<FMA>(x3[lane], c[lane], acc[3][lane]);
        }
    }
    let tail = dim - dim % LANES;
    let mut scores = [0.0; ROWS];
    for (r, (row, acc)) in [r0, r1, r2, r3].iter().zip(&acc).enumerate() {
        let mut total: f32 = acc.iter().sum();
        for (x, y) in row[tail..].iter().zip(&centroid[tail..]) {
            total = madd::<FMA>(*x, *y, total);
        }
        scores[r] = total;
    }
    scores
}

#[inline(always)]
fn dot_generic<const FMA: bool>(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0_f32; LANES];
    let mut left = a.chunks_exact(LANES);
    let mut right = b.chunks_exact(LANES);
    for (x, y) in (&mut left).zip(&mut right) {
        for lane in 0..LANES {
            acc[lane] = madd::<FMA>(x[lane], y[lane], acc[lane]);
        }
    }
    let mut total: f32 = acc.iter().sum();
    for (x, y) in left.remainder().iter().zip(right.remainder()) {
        total = madd::<FMA>(*x, *y, total);
    }
    total
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::Nearest;

    pub(super) fn nearest_avx512_entry(
        rows: &[f32],
        centroids: &[f32],
        dim: usize,
        out: &mut [Nearest],
    ) {
        // SAFETY: `best` returns this entry only after detecting avx512f.
        unsafe { nearest_avx512(rows, centroids, dim, out) }
    }

    pub(super) fn nearest_avx2_entry(
        rows: &[f32],
        centroids: &[f32],
        dim: usize,
        out: &mut [Nearest],
    ) {
        // SAFETY: `best` returns this entry only after detecting avx2 and fma.
        unsafe { nearest_avx2(rows, centroids, dim, out) }
    }

    pub(super) fn dot_avx512_entry(a: &[f32], b: &[f32]) -> f32 {
        // SAFETY: `dot` returns this entry only after detecting avx512f.
        unsafe { dot_avx512(a, b) }
    }

    pub(super) fn dot_avx2_entry(a: &[f32], b: &[f32]) -> f32 {
        // SAFETY: `dot` returns this entry only after detecting avx2 and fma.
        unsafe { dot_avx2(a, b) }
    }

    #[target_feature(enable = "avx512f")]
    unsafe fn dot_avx512(a: &[f32], b: &[f32]) -> f32 {
        super::dot_generic::<true>(a, b)
    }

    #[target_feature(enable = "avx2,fma")]
    unsafe fn dot_avx2(a: &[f32], b: &[f32]) -> f32 {
        super::dot_generic::<true>(a, b)
    }

    #[target_feature(enable = "avx512f")]
    unsafe fn nearest_avx512(rows: &[f32], centroids: &[f32], dim: usize, out: &mut [Nearest]) {
        super::nearest_generic::<true>(rows, centroids, dim, out);
    }

    #[target_feature(enable = "avx2,fma")]
    unsafe fn nearest_avx2(rows: &[f32], centroids: &[f32], dim: usize, out: &mut [Nearest]) {
        super::nearest_generic::<true>(rows, centroids, dim, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_best_dot_product_matches_plain_sums() {
        for dim in [384, 40, 7, 0] {
            let a: Vec<f32> = (0..dim)
                .map(|i| ((i * 37 % 23) as f32 - 11.0) / 13.0)
                .collect();
            let b: Vec<f32> = (0..dim)
                .map(|i| ((i * 17 % 23) as f32 - 11.0) / 13.0)
                .collect();
            let plain: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            assert!((dot(&a, &b) - plain).abs() < 1e-3, "dim {dim}");
        }
    }

    #[test]
    fn every_kernel_finds_the_portable_kernels_centroids() {
        for (dim, n, k) in [(384, 9, 5), (40, 4, 3), (7, 3, 2)] {
            let value = |i: usize, salt: usize| ((i * salt % 23) as f32 - 11.0) / 13.0;
            let rows: Vec<f32> = (0..dim * n).map(|i| value(i, 37)).collect();
            let centroids: Vec<f32> = (0..dim * k).map(|i| value(i, 17)).collect();
            let mut expected = vec![Nearest::default(); n];
            nearest_portable(&rows, &centroids, dim, &mut expected);
            // The portable kernel against plain sums.
            for (row, found) in rows.chunks_exact(dim).zip(&expected) {
                let mut plain: Vec<f32> = centroids
                    .chunks_exact(dim)
                    .map(|c| row.iter().zip(c).map(|(a, b)| a * b).sum())
                    .collect();
                let top = plain.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                assert!((plain[found.cluster as usize] - top).abs() < 1e-3);
                assert!(
                    (found.similarity - top).abs() < 1e-3,
                    "dim {dim}: {found:?} vs {top}"
                );
                plain.sort_by(|a, b| b.total_cmp(a));
                assert!(
                    (found.runner_up - plain[1]).abs() < 1e-3,
                    "dim {dim}: {found:?}"
                );
            }
            let (kernel, name) = best();
            let mut actual = vec![Nearest::default(); n];
            kernel(&rows, &centroids, dim, &mut actual);
            for (a, e) in actual.iter().zip(&expected) {
                assert_eq!(a.cluster, e.cluster, "{name} dim {dim}");
                assert!(
                    (a.similarity - e.similarity).abs() < 1e-3,
                    "{name} dim {dim}: {a:?} vs {e:?}"
                );
                assert!(
                    (a.runner_up - e.runner_up).abs() < 1e-3,
                    "{name} dim {dim}: {a:?} vs {e:?}"
                );
            }
        }
    }
}
