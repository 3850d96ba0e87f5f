//! The AVX2 forward pass: fp32 GEMMs on AVX2 + FMA for every product, attention included,
//! for CPUs without AVX-512 BF16. The same structure as the fast path (`fast.rs`) in fp32:
//! bias + GELU and bias + residual + layer norm are GEMM epilogues, and attention runs by
//! blocks of queries against keys and values packed once per head.

use super::{Model, PackedLayerF32, Workspace};
use crate::kernels::avx2::{self, Output};
use crate::kernels::output::Norm;
use crate::kernels::{embed_tokens, softmax};

/// Queries per attention block: their fp32 scores for a 256-token sequence take 16 KiB.
const QUERY_BLOCK: usize = 16;

impl Model {
    /// The AVX2 path. Element-wise helpers are `#[inline(always)]`, so they are compiled
    /// here with AVX2 and FMA enabled.
    ///
    /// # Safety
    /// The CPU must support AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn forward_avx2(
        &self,
        sequences: &[&[u32]],
        layers: &[PackedLayerF32],
        ws: &mut Workspace,
    ) {
        let (hidden, inner, eps) = self.dims();
        let tokens = ws.hidden.len() / hidden;
        ws.qkv.resize(tokens * 3 * hidden, 0.0);
        ws.context.resize(tokens * hidden, 0.0);
        ws.inner.resize(tokens * inner, 0.0);
        let mut offset = 0;
        for sequence in sequences {
            let rows = offset * hidden..(offset + sequence.len()) * hidden;
            embed_tokens(sequence, &self.weights, eps, &mut ws.hidden[rows], &mut []);
            offset += sequence.len();
        }
        for (layer, packed) in self.weights.layers.iter().zip(layers) {
            let output = Output::F32 {
                data: &mut ws.qkv,
                ldc: 3 * hidden,
            };
            let bias = Some(&layer.qkv_bias[..]);
            // SAFETY (all GEMMs here): the caller guarantees the CPU features.
            unsafe { avx2::gemm(&ws.hidden, hidden, tokens, &packed.qkv, bias, output) };
            let mut offset = 0;
            for sequence in sequences {
                // SAFETY: as above.
                unsafe { self.attention_avx2(offset, sequence.len(), ws) };
                offset += sequence.len();
            }
            let (gain, shift) = &layer.attention_norm;
            let output = Output::AddNorm {
                data: &mut ws.hidden,
                ldc: hidden,
                norm: Norm { gain, shift, eps },
                bf16: &mut [],
            };
            let bias = Some(&layer.attention_out_bias[..]);
            let matrix = &packed.attention_out;
            unsafe { avx2::gemm(&ws.context, hidden, tokens, matrix, bias, output) };
            let output = Output::GeluF32 {
                data: &mut ws.inner,
                ldc: inner,
            };
            let bias = Some(&layer.intermediate_bias[..]);
            let matrix = &packed.intermediate;
            unsafe { avx2::gemm(&ws.hidden, hidden, tokens, matrix, bias, output) };
            let (gain, shift) = &layer.output_norm;
            let output = Output::AddNorm {
                data: &mut ws.hidden,
                ldc: hidden,
                norm: Norm { gain, shift, eps },
                bf16: &mut [],
            };
            let bias = Some(&layer.output_bias[..]);
            unsafe { avx2::gemm(&ws.inner, inner, tokens, &packed.output, bias, output) };
        }
    }

    /// Attention of the sequence at token `offset`, as in the fast path: per head, keys and
    /// values packed once, then per block of queries scores, softmax in place, context.
    ///
    /// # Safety
    /// The CPU must support AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    unsafe fn attention_avx2(&self, offset: usize, len: usize, ws: &mut Workspace) {
        let hidden = self.spec.bert.hidden_size;
        let head_dim = self.spec.head_dim();
        let stride = 3 * hidden;
        let score_stride = len.div_ceil(16) * 16;
        ws.scores.resize(QUERY_BLOCK * score_stride, 0.0);
        let qkv = &ws.qkv[offset * stride..(offset + len) * stride];
        for head in (0..hidden).step_by(head_dim) {
            ws.keys_f32
                .pack_rows(&qkv[hidden + head..], stride, len, head_dim);
            ws.values_f32
                .pack_columns(&qkv[2 * hidden + head..], stride, head_dim, len);
            for first in (0..len).step_by(QUERY_BLOCK) {
                let queries = (len - first).min(QUERY_BLOCK);
                let output = Output::F32 {
                    data: &mut ws.scores,
                    ldc: score_stride,
                };
                let query = &qkv[first * stride + head..];
                // SAFETY (both GEMMs): the caller guarantees the CPU features.
                unsafe { avx2::gemm(query, stride, queries, &ws.keys_f32, None, output) };
                for scores in ws.scores.chunks_exact_mut(score_stride).take(queries) {
                    softmax(&mut scores[..len]);
                }
                let output = Output::F32 {
                    data: &mut ws.context[(offset + first) * hidden + head..],
                    ldc: hidden,
                };
                let values = &ws.values_f32;
                unsafe { avx2::gemm(&ws.scores, score_stride, queries, values, None, output) };
            }
        }
    }
}
