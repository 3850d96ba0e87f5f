//! The fast forward pass: bf16 GEMMs on AVX-512 BF16 for every product, attention included.
//!
//! Activations are kept twice where a GEMM reads them: fp32 for the residual stream and
//! layer norms (which stay exact), bf16 as the next GEMM's input (written by the same pass
//! that produces the fp32 value). Q/K/V and the attention context are produced directly in
//! bf16 by the GEMM epilogue.

use super::{Model, PackedLayer, Workspace};
use crate::kernels::avx512::{self, Output};
use crate::kernels::{add_layer_norm, embed_tokens, gelu, softmax_to_bf16, to_bf16};

impl Model {
    /// The fast path. Element-wise helpers are `#[inline(always)]`, so they are compiled
    /// here with AVX-512 enabled.
    ///
    /// # Safety
    /// The CPU must support AVX-512 F/BW/VL/BF16.
    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512bf16")]
    pub(super) unsafe fn forward_fast(
        &self,
        sequences: &[&[u32]],
        layers: &[PackedLayer],
        ws: &mut Workspace,
    ) {
        let (hidden, inner, eps) = self.dims();
        let tokens = ws.hidden.len() / hidden;
        ws.hidden_bf16.resize(tokens * hidden, 0);
        ws.qkv_bf16.resize(tokens * 3 * hidden, 0);
        ws.context_bf16.resize(tokens * hidden, 0);
        ws.inner_bf16.resize(tokens * inner, 0);
        let mut offset = 0;
        for sequence in sequences {
            let rows = offset * hidden..(offset + sequence.len()) * hidden;
            embed_tokens(
                sequence,
                &self.weights,
                eps,
                &mut ws.hidden[rows.clone()],
                &mut ws.hidden_bf16[rows],
            );
            offset += sequence.len();
        }
        for (layer, packed) in self.weights.layers.iter().zip(layers) {
            let output = Output::Bf16 {
                data: &mut ws.qkv_bf16,
                ldc: 3 * hidden,
            };
            // SAFETY (all GEMMs here): the caller guarantees the CPU features.
            unsafe {
                avx512::gemm(
                    &ws.hidden_bf16,
                    hidden,
                    tokens,
                    &packed.qkv,
                    Some(&layer.qkv_bias),
                    output,
                )
            };
            let mut offset = 0;
            for sequence in sequences {
                // SAFETY: as above.
                unsafe { self.attention_fast(offset, sequence.len(), ws) };
                offset += sequence.len();
            }
            let output = Output::F32 {
                data: &mut ws.projected,
                ldc: hidden,
            };
            let bias = Some(&layer.attention_out_bias[..]);
            unsafe {
                avx512::gemm(
                    &ws.context_bf16,
                    hidden,
                    tokens,
                    &packed.attention_out,
                    bias,
                    output,
                )
            };
            let (gain, shift) = &layer.attention_norm;
            let rows = ws
                .hidden
                .chunks_exact_mut(hidden)
                .zip(ws.projected.chunks_exact(hidden));
            for ((row, residual), row_bf16) in rows.zip(ws.hidden_bf16.chunks_exact_mut(hidden)) {
                add_layer_norm(row, residual, gain, shift, eps, row_bf16);
            }
            let output = Output::F32 {
                data: &mut ws.inner,
                ldc: inner,
            };
            let bias = Some(&layer.intermediate_bias[..]);
            unsafe {
                avx512::gemm(
                    &ws.hidden_bf16,
                    hidden,
                    tokens,
                    &packed.intermediate,
                    bias,
                    output,
                )
            };
            for (out, x) in ws.inner_bf16.iter_mut().zip(&ws.inner) {
                *out = to_bf16(gelu(*x));
            }
            let output = Output::F32 {
                data: &mut ws.projected,
                ldc: hidden,
            };
            let bias = Some(&layer.output_bias[..]);
            unsafe { avx512::gemm(&ws.inner_bf16, inner, tokens, &packed.output, bias, output) };
            let (gain, shift) = &layer.output_norm;
            let rows = ws
                .hidden
                .chunks_exact_mut(hidden)
                .zip(ws.projected.chunks_exact(hidden));
            for ((row, residual), row_bf16) in rows.zip(ws.hidden_bf16.chunks_exact_mut(hidden)) {
                add_layer_norm(row, residual, gain, shift, eps, row_bf16);
            }
        }
    }

    /// Attention of the sequence at token `offset`, one head at a time: scores by GEMM
    /// against the packed keys, softmax to bf16 probabilities, then GEMM against the packed
    /// values straight into the bf16 context.
    ///
    /// # Safety
    /// The CPU must support AVX-512 F/BW/VL/BF16.
    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512bf16")]
    unsafe fn attention_fast(&self, offset: usize, len: usize, ws: &mut Workspace) {
        let hidden = self.spec.bert.hidden_size;
        let head_dim = self.spec.head_dim();
        let stride = 3 * hidden;
        let score_stride = len.div_ceil(16) * 16;
        let probability_stride = len.div_ceil(2) * 2;
        ws.scores.resize(len * score_stride, 0.0);
        ws.probabilities.resize(len * probability_stride, 0);
        let qkv = &ws.qkv_bf16[offset * stride..(offset + len) * stride];
        for head in (0..hidden).step_by(head_dim) {
            ws.keys
                .pack(len, head_dim, |j, d| qkv[j * stride + hidden + head + d]);
            let output = Output::F32 {
                data: &mut ws.scores,
                ldc: score_stride,
            };
            // SAFETY (both GEMMs): the caller guarantees the CPU features.
            unsafe { avx512::gemm(&qkv[head..], stride, len, &ws.keys, None, output) };
            let rows = ws
                .scores
                .chunks_exact_mut(score_stride)
                .zip(ws.probabilities.chunks_exact_mut(probability_stride));
            for (scores, probabilities) in rows {
                let scores = &mut scores[..len];
                softmax_to_bf16(scores, probabilities);
                if probability_stride > len {
                    probabilities[len] = 0;
                }
            }
            ws.values.pack(head_dim, len, |d, j| {
                qkv[j * stride + 2 * hidden + head + d]
            });
            let output = Output::Bf16 {
                data: &mut ws.context_bf16[offset * hidden + head..],
                ldc: hidden,
            };
            unsafe {
                avx512::gemm(
                    &ws.probabilities,
                    probability_stride,
                    len,
                    &ws.values,
                    None,
                    output,
                )
            };
        }
    }
}
