//! The fast forward pass: bf16 GEMMs for every product, attention included, on AVX-512 BF16
//! or on AMX tiles (the caller picks the GEMM, [`Products`]).
//!
//! The residual stream stays fp32 (the layer norms are exact); each GEMM's input exists
//! once in bf16, written by the epilogue that produced it: the layer norm writes the
//! hidden state in both forms, the feed-forward expansion writes GELU's output straight to
//! bf16, Q/K/V and the attention context come out of their GEMMs in bf16. Nothing is
//! stored only to be read back for a bias, an activation or a residual add.

use super::{Model, PackedLayer, Workspace};
use crate::kernels::avx512::{Gemm, Output};
use crate::kernels::output::Norm;
use crate::kernels::{embed_tokens, softmax_to_bf16};

/// The bf16 GEMM the fast path runs, and the multiple to which it wants reduction lengths
/// padded (attention's context product reduces over the sequence, of any length).
#[derive(Debug, Clone, Copy)]
pub(super) struct Products {
    /// `avx512::gemm` or `amx::gemm`.
    pub gemm: Gemm,
    /// 2 for AVX-512 (pairs), 32 for AMX (whole tiles; else it falls back to AVX-512).
    pub reduction_multiple: usize,
}

/// Queries per attention block: their scores (fp32) and probabilities (bf16) for a
/// 256-token sequence take 24 KiB, so a block stays in L1 from scores to context.
const QUERY_BLOCK: usize = 16;

impl Model {
    /// The fast path, with `products` for every GEMM. Element-wise helpers are
    /// `#[inline(always)]`, so they are compiled here with AVX-512 enabled.
    ///
    /// # Safety
    /// The CPU must support AVX-512 F/BW/VL/BF16, and whatever `products.gemm` needs.
    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512bf16")]
    pub(super) unsafe fn forward_fast(
        &self,
        sequences: &[&[u32]],
        layers: &[PackedLayer],
        products: Products,
        ws: &mut Workspace,
    ) {
        let gemm = products.gemm;
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
                gemm(
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
                unsafe { self.attention_fast(offset, sequence.len(), products, ws) };
                offset += sequence.len();
            }
            let (gain, shift) = &layer.attention_norm;
            let output = Output::AddNorm {
                data: &mut ws.hidden,
                ldc: hidden,
                norm: Norm { gain, shift, eps },
                bf16: &mut ws.hidden_bf16,
            };
            let bias = Some(&layer.attention_out_bias[..]);
            unsafe {
                gemm(
                    &ws.context_bf16,
                    hidden,
                    tokens,
                    &packed.attention_out,
                    bias,
                    output,
                )
            };
            let output = Output::GeluBf16 {
                data: &mut ws.inner_bf16,
                ldc: inner,
            };
            let bias = Some(&layer.intermediate_bias[..]);
            unsafe {
                gemm(
                    &ws.hidden_bf16,
                    hidden,
                    tokens,
                    &packed.intermediate,
                    bias,
                    output,
                )
            };
            let (gain, shift) = &layer.output_norm;
            let output = Output::AddNorm {
                data: &mut ws.hidden,
                ldc: hidden,
                norm: Norm { gain, shift, eps },
                bf16: &mut ws.hidden_bf16,
            };
            let bias = Some(&layer.output_bias[..]);
            unsafe { gemm(&ws.inner_bf16, inner, tokens, &packed.output, bias, output) };
        }
    }

    /// Attention of the sequence at token `offset`, one head at a time: its keys and
    /// values are packed once, then each block of [`QUERY_BLOCK`] queries goes from scores
    /// (GEMM against the keys) through softmax (to bf16) to context (GEMM against the
    /// values, written straight into the bf16 context) while it is in L1.
    ///
    /// # Safety
    /// The CPU must support AVX-512 F/BW/VL/BF16, and whatever `products.gemm` needs.
    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512bf16")]
    unsafe fn attention_fast(
        &self,
        offset: usize,
        len: usize,
        products: Products,
        ws: &mut Workspace,
    ) {
        let gemm = products.gemm;
        let hidden = self.spec.bert.hidden_size;
        let head_dim = self.spec.head_dim();
        let stride = 3 * hidden;
        let score_stride = len.div_ceil(16) * 16;
        // Probabilities past `len` are zero, as are the values they meet.
        let probability_stride = len.next_multiple_of(products.reduction_multiple);
        ws.scores.resize(QUERY_BLOCK * score_stride, 0.0);
        ws.probabilities.resize(QUERY_BLOCK * probability_stride, 0);
        let qkv = &ws.qkv_bf16[offset * stride..(offset + len) * stride];
        for head in (0..hidden).step_by(head_dim) {
            ws.keys
                .pack_rows(&qkv[hidden + head..], stride, len, head_dim);
            let values = &qkv[2 * hidden + head..];
            ws.values
                .pack_columns(values, stride, head_dim, len, probability_stride);
            for first in (0..len).step_by(QUERY_BLOCK) {
                let queries = (len - first).min(QUERY_BLOCK);
                let output = Output::F32 {
                    data: &mut ws.scores,
                    ldc: score_stride,
                };
                let query = &qkv[first * stride + head..];
                // SAFETY (both GEMMs): the caller guarantees the CPU features.
                unsafe { gemm(query, stride, queries, &ws.keys, None, output) };
                let rows = ws
                    .scores
                    .chunks_exact_mut(score_stride)
                    .zip(ws.probabilities.chunks_exact_mut(probability_stride))
                    .take(queries);
                for (scores, probabilities) in rows {
                    softmax_to_bf16(&mut scores[..len], probabilities);
                    probabilities[len..].fill(0);
                }
                let output = Output::Bf16 {
                    data: &mut ws.context_bf16[(offset + first) * hidden + head..],
                    ldc: hidden,
                };
                unsafe {
                    gemm(
                        &ws.probabilities,
                        probability_stride,
                        queries,
                        &ws.values,
                        None,
                        output,
                    )
                };
            }
        }
    }
}
