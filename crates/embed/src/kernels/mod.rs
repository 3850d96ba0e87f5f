//! Numeric kernels: element-wise operations shared by every path, the GEMMs of the packed
//! paths (`amx`: bf16 on tile registers, `avx512`: bf16, `avx2`: fp32) with their fused
//! epilogues (`output`), and the portable fp32 kernels.
//!
//! The element-wise functions here are plain Rust written so that LLVM vectorises them
//! (fixed-width lane arrays, no libm calls, no data-dependent branches). They are
//! `#[inline(always)]` on purpose: inlined into the AVX-512 forward pass, which carries
//! `#[target_feature]`, they are compiled for 512-bit registers there, and for the baseline
//! target in the portable path, from one source.

pub mod amx;
pub mod avx2;
pub mod avx512;
pub mod output;
pub mod portable;

/// Lanes of the accumulator arrays; 16 fills one AVX-512 register.
const LANES: usize = 16;

/// `exp(x)` to about 2 ulp for `x` in `[-87, 88]` (Cephes polynomial, branch-free).
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    // Round-to-nearest by adding 1.5 * 2^23: the integer lands in the low mantissa bits.
    const SHIFT: f32 = 12_582_912.0;
    let x = x.clamp(-87.0, 88.0);
    let shifted = x * std::f32::consts::LOG2_E + SHIFT;
    let n = shifted - SHIFT;
    let n_bits = shifted.to_bits().wrapping_sub(SHIFT.to_bits());
    let r = x - n * 0.693_359_4 - n * -2.121_944_4e-4;
    let mut p = 1.987_569_1e-4;
    p = p * r + 1.398_2e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 0.5;
    let y = p * r * r + r + 1.0;
    y * f32::from_bits(n_bits.wrapping_add(127) << 23)
}

/// `erf(x)` with absolute error below 1.5e-7 (Abramowitz & Stegun 7.1.26).
#[inline(always)]
pub fn erf(x: f32) -> f32 {
    let a = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * a);
    let poly = ((((1.061_405_4 * t - 1.453_152_1) * t + 1.421_413_8) * t - 0.284_496_74) * t
        + 0.254_829_6)
        * t;
    let y = 1.0 - poly * exp(-a * a);
    y.copysign(x)
}

/// The erf-based GELU BERT uses (`hidden_act = "gelu"`), not the tanh approximation.
#[inline(always)]
pub fn gelu(x: f32) -> f32 {
    0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2))
}

/// fp32 to bf16 bits, rounding to nearest even (inputs are finite).
#[inline(always)]
pub fn to_bf16(x: f32) -> u16 {
    let bits = x.to_bits();
    (bits.wrapping_add(0x7fff + ((bits >> 16) & 1)) >> 16) as u16
}

/// Sum with [`LANES`] independent accumulators, so it vectorises without reassociation.
#[inline(always)]
pub fn sum(values: &[f32]) -> f32 {
    let mut acc = [0.0f32; LANES];
    let mut chunks = values.chunks_exact(LANES);
    for chunk in &mut chunks {
        for (a, v) in acc.iter_mut().zip(chunk) {
            *a += v;
        }
    }
    acc.iter().sum::<f32>() + chunks.remainder().iter().sum::<f32>()
}

/// `row = LayerNorm(row + residual)`; `residual` may be empty for a plain layer norm.
///
/// When `bf16_out` is non-empty the result is also written there in bf16, the input of the
/// next GEMM, saving a separate conversion pass.
#[inline(always)]
pub fn add_layer_norm(
    row: &mut [f32],
    residual: &[f32],
    gain: &[f32],
    shift: &[f32],
    eps: f32,
    bf16_out: &mut [u16],
) {
    if !residual.is_empty() {
        for (x, r) in row.iter_mut().zip(residual) {
            *x += r;
        }
    }
    let width = row.len() as f32;
    let mean = sum(row) / width;
    let mut acc = [0.0f32; LANES];
    let mut chunks = row.chunks_exact(LANES);
    for chunk in &mut chunks {
        for (a, v) in acc.iter_mut().zip(chunk) {
            *a += (v - mean) * (v - mean);
        }
    }
    let tail: f32 = chunks
        .remainder()
        .iter()
        .map(|v| (v - mean) * (v - mean))
        .sum();
    let inverse = 1.0 / ((acc.iter().sum::<f32>() + tail) / width + eps).sqrt();
    for ((x, g), s) in row.iter_mut().zip(gain).zip(shift) {
        *x = (*x - mean) * inverse * g + s;
    }
    for (b, x) in bf16_out.iter_mut().zip(row.iter()) {
        *b = to_bf16(*x);
    }
}

/// Replaces `scores` by their softmax (numerically stable: the maximum is subtracted first).
#[inline(always)]
pub fn softmax(scores: &mut [f32]) {
    let scale = exp_shifted(scores);
    for v in scores.iter_mut() {
        *v *= scale;
    }
}

/// Softmax of `scores` written as bf16 to `out`; `scores` is left holding the unscaled
/// exponentials. Scaling and conversion share one pass.
#[inline(always)]
pub fn softmax_to_bf16(scores: &mut [f32], out: &mut [u16]) {
    let scale = exp_shifted(scores);
    for (p, v) in out.iter_mut().zip(scores.iter()) {
        *p = to_bf16(v * scale);
    }
}

/// Replaces each score by `exp(score - max)` and returns `1 / sum`.
#[inline(always)]
fn exp_shifted(scores: &mut [f32]) -> f32 {
    let mut max = [f32::NEG_INFINITY; LANES];
    let mut chunks = scores.chunks_exact(LANES);
    for chunk in &mut chunks {
        for (m, v) in max.iter_mut().zip(chunk) {
            *m = m.max(*v);
        }
    }
    let max = chunks
        .remainder()
        .iter()
        .chain(max.iter())
        .fold(f32::NEG_INFINITY, |m, v| m.max(*v));
    // The sum is taken in the same pass as the exponentials (lane-wise, as in `sum`).
    let mut total = [0.0f32; LANES];
    let mut chunks = scores.chunks_exact_mut(LANES);
    for chunk in &mut chunks {
        for (t, v) in total.iter_mut().zip(chunk) {
            *v = exp(*v - max);
            *t += *v;
        }
    }
    let mut tail = 0.0;
    for v in chunks.into_remainder() {
        *v = exp(*v - max);
        tail += *v;
    }
    1.0 / (total.iter().sum::<f32>() + tail)
}

/// Token embeddings plus position and token-type embeddings, then the embedding layer norm.
#[inline(always)]
pub fn embed_tokens(
    ids: &[u32],
    weights: &crate::weights::BertWeights,
    eps: f32,
    hidden: &mut [f32],
    bf16_out: &mut [u16],
) {
    let width = weights.token_type_embedding.len();
    let (gain, shift) = &weights.embedding_norm;
    for (position, (&id, row)) in ids.iter().zip(hidden.chunks_exact_mut(width)).enumerate() {
        let word = &weights.word_embeddings[id as usize * width..][..width];
        let place = &weights.position_embeddings[position * width..][..width];
        for (((x, w), p), t) in row
            .iter_mut()
            .zip(word)
            .zip(place)
            .zip(&weights.token_type_embedding)
        {
            *x = w + p + t;
        }
        let out = if bf16_out.is_empty() {
            &mut [][..]
        } else {
            &mut bf16_out[position * width..][..width]
        };
        add_layer_norm(row, &[], gain, shift, eps, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_is_accurate() {
        for i in -800..=800 {
            let x = i as f32 / 10.0;
            let relative = (exp(x) - x.exp()).abs() / x.exp();
            assert!(relative < 1e-6, "exp({x}): {} vs {}", exp(x), x.exp());
        }
    }

    #[test]
    fn gelu_matches_erf_definition() {
        // Reference values of 0.5 x (1 + erf(x / sqrt 2)) from PyTorch's exact GELU.
        for (x, expected) in [
            (-3.0f32, -0.004_049_7),
            (-1.0, -0.158_655_25),
            (0.5, 0.345_731_14),
            (2.0, 1.954_499_7),
        ] {
            assert!((gelu(x) - expected).abs() < 2e-6, "gelu({x}) = {}", gelu(x));
        }
    }

    #[test]
    fn bf16_rounds_to_nearest_even() {
        assert_eq!(to_bf16(1.0), 0x3f80);
        assert_eq!(to_bf16(f32::from_bits(0x3f80_8000)), 0x3f80);
        assert_eq!(to_bf16(f32::from_bits(0x3f81_8000)), 0x3f82);
        assert_eq!(to_bf16(f32::from_bits(0x3f80_8001)), 0x3f81);
    }

    #[test]
    fn softmax_sums_to_one() {
        let mut scores: Vec<f32> = (0..37).map(|i| (i as f32 * 0.37).sin() * 5.0).collect();
        softmax(&mut scores);
        assert!((scores.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    }
}
