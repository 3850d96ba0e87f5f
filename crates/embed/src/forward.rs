//! The BERT encoder forward pass over one batch of unpadded sequences, on any kernel path.
//!
//! A batch is stored as one `[tokens, width]` matrix with the sequences end to end: the
//! linear layers run per token, so they see no padding at all, and only attention works per
//! sequence. Nothing is masked because nothing is padded.
//!
//! Four paths, best first: bf16 GEMMs on AMX tiles with the element-wise work on AVX-512,
//! bf16 GEMMs on AVX-512 BF16 (both `fast.rs`, which takes the GEMM as a parameter), fp32
//! GEMMs on AVX2 + FMA (`avx2.rs`), and plain Rust fp32 (below). The packed paths share their
//! structure: packed weights, fused epilogues (bias + GELU, bias + residual + layer norm) and
//! attention by blocks of queries.

mod avx2;
mod fast;

use crate::config::ModelSpec;
use crate::embedder::Kernel;
use crate::kernels::{
    add_layer_norm, amx, avx2 as avx2_kernels, avx512, embed_tokens, gelu, portable,
};
use crate::pool::{normalize, pool};
use crate::weights::BertWeights;

/// One layer's matrices packed for the bf16 micro-kernels (AVX-512 and AMX alike).
#[derive(Debug)]
pub struct PackedLayer {
    qkv: avx512::Packed,
    attention_out: avx512::Packed,
    intermediate: avx512::Packed,
    output: avx512::Packed,
}

/// One layer's matrices packed for the AVX2 fp32 micro-kernel.
#[derive(Debug)]
pub struct PackedLayerF32 {
    qkv: avx2_kernels::Packed,
    attention_out: avx2_kernels::Packed,
    intermediate: avx2_kernels::Packed,
    output: avx2_kernels::Packed,
}

/// The weights in the form the chosen path consumes.
#[derive(Debug)]
pub enum Engine {
    /// fp32 matrices in `BertWeights`, transposed to `[in, out]`; plain Rust kernels.
    Portable,
    /// fp32 packed matrices for AVX2 + FMA (the copies in `BertWeights` are dropped).
    Avx2Fma(Vec<PackedLayerF32>),
    /// bf16 packed matrices (the fp32 copies in `BertWeights` are dropped).
    Avx512Bf16(Vec<PackedLayer>),
    /// The same bf16 packed matrices, multiplied on AMX tiles.
    Amx(Vec<PackedLayer>),
}

/// Calls `pack(weight, out, in)` on each matrix of each layer and frees the fp32 copies.
fn pack_layers<P>(
    weights: &mut BertWeights,
    spec: &ModelSpec,
    pack: impl Fn(&[f32], usize, usize) -> P,
) -> Vec<[P; 4]> {
    let (hidden, inner) = (spec.bert.hidden_size, spec.bert.intermediate_size);
    weights
        .layers
        .iter_mut()
        .map(|layer| {
            let packed = [
                pack(&layer.qkv_weight, 3 * hidden, hidden),
                pack(&layer.attention_out_weight, hidden, hidden),
                pack(&layer.intermediate_weight, inner, hidden),
                pack(&layer.output_weight, hidden, inner),
            ];
            for matrix in [
                &mut layer.qkv_weight,
                &mut layer.attention_out_weight,
                &mut layer.intermediate_weight,
                &mut layer.output_weight,
            ] {
                *matrix = Vec::new();
            }
            packed
        })
        .collect()
}

impl Engine {
    /// Prepares the weights for `kernel`, which must be one [`Engine::best_kernel`] allows.
    pub fn new(kernel: Kernel, weights: &mut BertWeights, spec: &ModelSpec) -> Engine {
        match kernel {
            Kernel::Amx | Kernel::Avx512Bf16 => {
                let layers = pack_layers(weights, spec, avx512::Packed::from_weight);
                let layers = layers
                    .into_iter()
                    .map(|[qkv, attention_out, intermediate, output]| PackedLayer {
                        qkv,
                        attention_out,
                        intermediate,
                        output,
                    })
                    .collect();
                if kernel == Kernel::Amx {
                    Engine::Amx(layers)
                } else {
                    Engine::Avx512Bf16(layers)
                }
            }
            Kernel::Avx2Fma => {
                let layers = pack_layers(weights, spec, avx2_kernels::Packed::from_weight);
                let layers =
                    layers
                        .into_iter()
                        .map(
                            |[qkv, attention_out, intermediate, output]| PackedLayerF32 {
                                qkv,
                                attention_out,
                                intermediate,
                                output,
                            },
                        );
                Engine::Avx2Fma(layers.collect())
            }
            Kernel::Portable => Engine::transpose(weights, spec),
        }
    }

    /// Transposes the matrices to `[in, out]`, the layout of the portable GEMM.
    fn transpose(weights: &mut BertWeights, spec: &ModelSpec) -> Engine {
        let (hidden, inner) = (spec.bert.hidden_size, spec.bert.intermediate_size);
        for layer in &mut weights.layers {
            layer.qkv_weight = portable::transpose(&layer.qkv_weight, 3 * hidden, hidden);
            layer.attention_out_weight =
                portable::transpose(&layer.attention_out_weight, hidden, hidden);
            layer.intermediate_weight =
                portable::transpose(&layer.intermediate_weight, inner, hidden);
            layer.output_weight = portable::transpose(&layer.output_weight, hidden, inner);
        }
        Engine::Portable
    }

    /// The best kernel not above `limit` that this CPU and model allow. The packed GEMMs
    /// write whole 16-column blocks, so every width must be a multiple of 16 for them.
    pub fn best_kernel(limit: Kernel, spec: &ModelSpec) -> Kernel {
        let config = &spec.bert;
        let widths_fit = config.hidden_size.is_multiple_of(16)
            && config.intermediate_size.is_multiple_of(16)
            && spec.head_dim().is_multiple_of(16);
        if !widths_fit {
            Kernel::Portable
        } else if limit >= Kernel::Amx && amx::available() {
            Kernel::Amx
        } else if limit >= Kernel::Avx512Bf16 && avx512::available() {
            Kernel::Avx512Bf16
        } else if limit >= Kernel::Avx2Fma && avx2_kernels::available() {
            Kernel::Avx2Fma
        } else {
            Kernel::Portable
        }
    }

    /// The kernel this engine runs.
    pub fn kernel(&self) -> Kernel {
        match self {
            Engine::Portable => Kernel::Portable,
            Engine::Avx2Fma(_) => Kernel::Avx2Fma,
            Engine::Avx512Bf16(_) => Kernel::Avx512Bf16,
            Engine::Amx(_) => Kernel::Amx,
        }
    }
}

/// Scratch buffers of one worker thread, grown to the largest batch and then reused.
#[derive(Debug, Default)]
pub struct Workspace {
    hidden: Vec<f32>,
    hidden_bf16: Vec<u16>,
    qkv: Vec<f32>,
    qkv_bf16: Vec<u16>,
    context: Vec<f32>,
    context_bf16: Vec<u16>,
    projected: Vec<f32>,
    inner: Vec<f32>,
    inner_bf16: Vec<u16>,
    scores: Vec<f32>,
    probabilities: Vec<u16>,
    keys: avx512::Packed,
    values: avx512::Packed,
    keys_f32: avx2_kernels::Packed,
    values_f32: avx2_kernels::Packed,
}

/// The model pieces a forward pass reads.
#[derive(Debug)]
pub struct Model {
    /// Shapes, pooling and normalisation.
    pub spec: ModelSpec,
    /// Embedding tables, biases, norms (and fp32 matrices on the portable path).
    pub weights: BertWeights,
    /// Which kernels run.
    pub engine: Engine,
}

impl Model {
    /// Encodes a batch and returns one pooled (and, if configured, normalised) vector per sequence.
    pub fn forward(&self, sequences: &[&[u32]], workspace: &mut Workspace) -> Vec<Vec<f32>> {
        let tokens: usize = sequences.iter().map(|s| s.len()).sum();
        let hidden = self.spec.bert.hidden_size;
        let inner = self.spec.bert.intermediate_size;
        let ws = workspace;
        ws.hidden.resize(tokens * hidden, 0.0);
        match &self.engine {
            Engine::Portable => {
                ws.projected.resize(tokens * hidden, 0.0);
                ws.inner.resize(tokens * inner, 0.0);
                self.forward_portable(sequences, ws);
            }
            Engine::Avx2Fma(layers) => {
                // SAFETY: this engine is only built when `best_kernel` saw the CPU features.
                unsafe { self.forward_avx2(sequences, layers, ws) }
            }
            Engine::Avx512Bf16(layers) => {
                // SAFETY: this engine is only built when `best_kernel` saw the CPU features.
                let products = fast::Products {
                    gemm: avx512::gemm,
                    reduction_multiple: 2,
                };
                unsafe { self.forward_fast(sequences, layers, products, ws) }
            }
            Engine::Amx(layers) => {
                // SAFETY: this engine is only built when `amx::available` said yes, which
                // includes the AVX-512 BF16 features.
                let products = fast::Products {
                    gemm: amx::gemm,
                    reduction_multiple: amx::REDUCTION_TILE,
                };
                unsafe { self.forward_fast(sequences, layers, products, ws) }
            }
        }
        let mut out = Vec::with_capacity(sequences.len());
        let mut offset = 0;
        for sequence in sequences {
            let rows = &ws.hidden[offset * hidden..(offset + sequence.len()) * hidden];
            let mut vector = pool(rows, hidden, self.spec.pooling);
            if self.spec.normalize {
                normalize(&mut vector);
            }
            out.push(vector);
            offset += sequence.len();
        }
        out
    }

    /// The portable path, compiled three times (AVX-512, AVX2, baseline) from one source and
    /// chosen at run time: still plain fp32 Rust, but with the widest vectors the CPU has.
    fn forward_portable(&self, sequences: &[&[u32]], ws: &mut Workspace) {
        #[cfg(target_arch = "x86_64")]
        {
            if is_x86_feature_detected!("avx512f") {
                // SAFETY: the feature was just detected.
                return unsafe { self.forward_portable_avx512(sequences, ws) };
            }
            if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
                // SAFETY: the features were just detected.
                return unsafe { self.forward_portable_avx2(sequences, ws) };
            }
        }
        self.forward_portable_with::<8>(sequences, ws);
    }

    /// # Safety
    /// The CPU must support AVX-512 F.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn forward_portable_avx512(&self, sequences: &[&[u32]], ws: &mut Workspace) {
        self.forward_portable_with::<64>(sequences, ws);
    }

    /// # Safety
    /// The CPU must support AVX2 and FMA.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn forward_portable_avx2(&self, sequences: &[&[u32]], ws: &mut Workspace) {
        self.forward_portable_with::<16>(sequences, ws);
    }

    #[inline(always)]
    fn forward_portable_with<const L: usize>(&self, sequences: &[&[u32]], ws: &mut Workspace) {
        let (hidden, inner, eps) = self.dims();
        let tokens = ws.hidden.len() / hidden;
        ws.qkv.resize(tokens * 3 * hidden, 0.0);
        ws.context.resize(tokens * hidden, 0.0);
        let mut offset = 0;
        for sequence in sequences {
            embed_tokens(
                sequence,
                &self.weights,
                eps,
                &mut ws.hidden[offset * hidden..],
                &mut [],
            );
            offset += sequence.len();
        }
        for layer in &self.weights.layers {
            portable::linear::<L>(
                &ws.hidden,
                hidden,
                &layer.qkv_weight,
                &layer.qkv_bias,
                &mut ws.qkv,
            );
            let mut offset = 0;
            for sequence in sequences {
                let len = sequence.len();
                portable::attention(
                    &ws.qkv[offset * 3 * hidden..(offset + len) * 3 * hidden],
                    len,
                    hidden,
                    self.spec.head_dim(),
                    &mut ws.context[offset * hidden..(offset + len) * hidden],
                    &mut ws.scores,
                );
                offset += len;
            }
            portable::linear::<L>(
                &ws.context,
                hidden,
                &layer.attention_out_weight,
                &layer.attention_out_bias,
                &mut ws.projected,
            );
            let (gain, shift) = &layer.attention_norm;
            for (row, residual) in ws
                .hidden
                .chunks_exact_mut(hidden)
                .zip(ws.projected.chunks_exact(hidden))
            {
                add_layer_norm(row, residual, gain, shift, eps, &mut []);
            }
            portable::linear::<L>(
                &ws.hidden,
                hidden,
                &layer.intermediate_weight,
                &layer.intermediate_bias,
                &mut ws.inner,
            );
            for x in &mut ws.inner {
                *x = gelu(*x);
            }
            portable::linear::<L>(
                &ws.inner,
                inner,
                &layer.output_weight,
                &layer.output_bias,
                &mut ws.projected,
            );
            let (gain, shift) = &layer.output_norm;
            for (row, residual) in ws
                .hidden
                .chunks_exact_mut(hidden)
                .zip(ws.projected.chunks_exact(hidden))
            {
                add_layer_norm(row, residual, gain, shift, eps, &mut []);
            }
        }
    }

    pub(crate) fn dims(&self) -> (usize, usize, f32) {
        (
            self.spec.bert.hidden_size,
            self.spec.bert.intermediate_size,
            self.spec.bert.layer_norm_eps,
        )
    }
}
