//! The portable fp32 path: plain Rust GEMM and attention, correct on any CPU.
//!
//! This is the reference the fast path is checked against and the fallback on machines
//! without AVX-512 BF16. It is blocked for cache reuse and written so that LLVM vectorises
//! the products, but it uses no intrinsics. The panel width `L` is a parameter so that each
//! instruction-set tier (see `forward.rs`) keeps its accumulators in registers: 8 lanes for
//! SSE2, 16 for AVX2, 64 for AVX-512.

/// Rows of the activation matrix sharing each weight load.
const ROWS: usize = 4;

/// `out[m, n] = a[m, :] . weight_t[:, n] + bias[n]`, with `weight_t` the transposed weight,
/// row-major `[k, n]` (transposed once at load).
///
/// Each step broadcasts one activation and multiplies it into `L` consecutive outputs, so
/// the vector lanes run along `n` and no horizontal sums are needed. A panel of `L` columns
/// of the weight stays in L2 while every row block of `a` passes over it.
#[inline(always)]
pub fn linear<const L: usize>(
    a: &[f32],
    k: usize,
    weight_t: &[f32],
    bias: &[f32],
    out: &mut [f32],
) {
    let n = bias.len();
    let m = a.len() / k;
    debug_assert_eq!(weight_t.len(), n * k);
    debug_assert_eq!(m * n, out.len());
    let whole = n / L * L;
    for column in (0..whole).step_by(L) {
        for row in (0..m).step_by(ROWS) {
            let rows = (m - row).min(ROWS);
            // Short blocks repeat their first row; those results are computed and dropped.
            let a_rows: [&[f32]; ROWS] =
                std::array::from_fn(|r| &a[(row + if r < rows { r } else { 0 }) * k..][..k]);
            let bias = &bias[column..][..L];
            let mut acc = [[0.0f32; L]; ROWS];
            for acc_row in &mut acc {
                acc_row.copy_from_slice(bias);
            }
            for index in 0..k {
                let w = &weight_t[index * n + column..][..L];
                for (acc_row, a_row) in acc.iter_mut().zip(&a_rows) {
                    let x = a_row[index];
                    for (s, w) in acc_row.iter_mut().zip(w) {
                        *s += x * w;
                    }
                }
            }
            for (r, acc_row) in acc.iter().enumerate().take(rows) {
                out[(row + r) * n + column..][..L].copy_from_slice(acc_row);
            }
        }
    }
    for column in whole..n {
        for row in 0..m {
            let dot: f32 = (0..k)
                .map(|index| a[row * k + index] * weight_t[index * n + column])
                .sum();
            out[row * n + column] = dot + bias[column];
        }
    }
}

/// Transposes a row-major `[rows, columns]` matrix.
pub fn transpose(matrix: &[f32], rows: usize, columns: usize) -> Vec<f32> {
    let mut out = vec![0.0; matrix.len()];
    for (r, row) in matrix.chunks_exact(columns).enumerate().take(rows) {
        for (c, value) in row.iter().enumerate() {
            out[c * rows + r] = *value;
        }
    }
    out
}

/// Self-attention of one unpadded sequence.
///
/// `qkv` holds `len` rows of `[q | k | v]` (width `3 * hidden`, queries pre-scaled);
/// `context` receives `len` rows of width `hidden`. Each head's keys are transposed into
/// `scratch` first so that a query's scores are built by vector updates along the keys.
#[inline(always)]
pub fn attention(
    qkv: &[f32],
    len: usize,
    hidden: usize,
    head_dim: usize,
    context: &mut [f32],
    scratch: &mut Vec<f32>,
) {
    let stride = 3 * hidden;
    scratch.resize(len + head_dim * len, 0.0);
    let (scores, keys_t) = scratch.split_at_mut(len);
    for head in (0..hidden).step_by(head_dim) {
        for j in 0..len {
            let key = &qkv[j * stride + hidden + head..][..head_dim];
            for (d, value) in key.iter().enumerate() {
                keys_t[d * len + j] = *value;
            }
        }
        for i in 0..len {
            let q = &qkv[i * stride + head..][..head_dim];
            scores.fill(0.0);
            for (d, &qd) in q.iter().enumerate() {
                for (score, key) in scores.iter_mut().zip(&keys_t[d * len..][..len]) {
                    *score += qd * key;
                }
            }
            super::softmax(scores);
            let out = &mut context[i * hidden + head..][..head_dim];
            out.fill(0.0);
            for (j, &p) in scores.iter().enumerate() {
                let v = &qkv[j * stride + 2 * hidden + head..][..head_dim];
                for (o, x) in out.iter_mut().zip(v) {
                    *o += p * x;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_matches_naive_product() {
        let (m, k, n) = (7, 19, 70);
        // 70 columns: four full 16-lane panels and a scalar tail.
        let a: Vec<f32> = (0..m * k).map(|i| (i as f32 * 0.13).sin()).collect();
        let w: Vec<f32> = (0..n * k).map(|i| (i as f32 * 0.07).cos()).collect();
        let bias: Vec<f32> = (0..n).map(|i| i as f32 * 0.01).collect();
        let mut out = vec![0.0; m * n];
        linear::<16>(&a, k, &transpose(&w, n, k), &bias, &mut out);
        for r in 0..m {
            for j in 0..n {
                let expected: f32 =
                    (0..k).map(|i| a[r * k + i] * w[j * k + i]).sum::<f32>() + bias[j];
                assert!((out[r * n + j] - expected).abs() < 1e-4, "({r}, {j})");
            }
        }
    }
}
