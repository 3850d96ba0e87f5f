//! The portable fp32 path: plain Rust GEMM and attention, correct on any CPU.
//!
//! This is the reference the fast path is checked against and the fallback on machines
//! without AVX-512 BF16. It is blocked for cache reuse and written so that LLVM vectorises
//! the inner products, but it uses no intrinsics. The lane count `L` of the partial sums is a
//! parameter so that each instruction-set tier (see `forward.rs`) gets enough independent
//! accumulators: 8 for SSE2, 16 for AVX2, 32 for AVX-512.

/// Rows of the activation matrix sharing each weight row load.
const ROWS: usize = 4;
/// Weight rows per cache block (a few hundred KiB at BERT widths).
const WEIGHT_BLOCK: usize = 64;

/// `out[m, n] = a[m, :] . weight[n, :] + bias[n]`, with `weight` row-major `[n, k]`.
#[inline(always)]
pub fn linear<const L: usize>(a: &[f32], k: usize, weight: &[f32], bias: &[f32], out: &mut [f32]) {
    let n = bias.len();
    debug_assert_eq!(weight.len(), n * k);
    debug_assert_eq!(a.len() / k * n, out.len());
    for block in (0..n).step_by(WEIGHT_BLOCK) {
        let block_end = (block + WEIGHT_BLOCK).min(n);
        for (a_rows, out_rows) in a.chunks(ROWS * k).zip(out.chunks_mut(ROWS * n)) {
            let rows = a_rows.len() / k;
            for j in block..block_end {
                let w = &weight[j * k..][..k];
                if rows == ROWS {
                    let dots = dot4::<L>(a_rows, k, w);
                    for (r, dot) in dots.into_iter().enumerate() {
                        out_rows[r * n + j] = dot + bias[j];
                    }
                } else {
                    for r in 0..rows {
                        out_rows[r * n + j] = dot::<L>(&a_rows[r * k..][..k], w) + bias[j];
                    }
                }
            }
        }
    }
}

/// Four dot products of consecutive rows of `a` with `w`, sharing the loads of `w`.
#[inline(always)]
fn dot4<const L: usize>(a: &[f32], k: usize, w: &[f32]) -> [f32; ROWS] {
    // Slicing every operand to exactly `k` up front lets the compiler drop the bounds checks
    // from the loop and keep the accumulators in registers.
    let w = &w[..k];
    let rows: [&[f32]; ROWS] = std::array::from_fn(|r| &a[r * k..][..k]);
    let mut acc = [[0.0f32; L]; ROWS];
    let mut w_chunks = w.chunks_exact(L);
    let mut row_chunks = rows.map(|row| row.chunks_exact(L));
    for wv in &mut w_chunks {
        for (acc_row, chunks) in acc.iter_mut().zip(row_chunks.iter_mut()) {
            let Some(av) = chunks.next() else { break };
            for ((s, x), y) in acc_row.iter_mut().zip(av).zip(wv) {
                *s += x * y;
            }
        }
    }
    let tail_w = w_chunks.remainder();
    let mut result = [0.0f32; ROWS];
    for ((out, acc_row), chunks) in result.iter_mut().zip(&acc).zip(&row_chunks) {
        let tail: f32 = chunks
            .remainder()
            .iter()
            .zip(tail_w)
            .map(|(x, y)| x * y)
            .sum();
        *out = acc_row.iter().sum::<f32>() + tail;
    }
    result
}

#[inline(always)]
fn dot<const L: usize>(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; L];
    let mut a_chunks = a.chunks_exact(L);
    let mut b_chunks = b.chunks_exact(L);
    for (x, y) in (&mut a_chunks).zip(&mut b_chunks) {
        for l in 0..L {
            acc[l] += x[l] * y[l];
        }
    }
    let tail: f32 = a_chunks
        .remainder()
        .iter()
        .zip(b_chunks.remainder())
        .map(|(x, y)| x * y)
        .sum();
    acc.iter().sum::<f32>() + tail
}

/// Self-attention of one unpadded sequence.
///
/// `qkv` holds `len` rows of `[q | k | v]` (width `3 * hidden`, queries pre-scaled);
/// `context` receives `len` rows of width `hidden`. `scores` is scratch of at least `len`.
#[inline(always)]
pub fn attention<const L: usize>(
    qkv: &[f32],
    len: usize,
    hidden: usize,
    head_dim: usize,
    context: &mut [f32],
    scores: &mut Vec<f32>,
) {
    let stride = 3 * hidden;
    scores.resize(len, 0.0);
    for head in (0..hidden).step_by(head_dim) {
        for i in 0..len {
            let q = &qkv[i * stride + head..][..head_dim];
            for (j, score) in scores.iter_mut().enumerate() {
                *score = dot::<L>(q, &qkv[j * stride + hidden + head..][..head_dim]);
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
        let a: Vec<f32> = (0..m * k).map(|i| (i as f32 * 0.13).sin()).collect();
        let w: Vec<f32> = (0..n * k).map(|i| (i as f32 * 0.07).cos()).collect();
        let bias: Vec<f32> = (0..n).map(|i| i as f32 * 0.01).collect();
        let mut out = vec![0.0; m * n];
        linear::<8>(&a, k, &w, &bias, &mut out);
        for r in 0..m {
            for j in 0..n {
                let expected: f32 =
                    (0..k).map(|i| a[r * k + i] * w[j * k + i]).sum::<f32>() + bias[j];
                assert!((out[r * n + j] - expected).abs() < 1e-4, "({r}, {j})");
            }
        }
    }
}
