//! Reading `model.safetensors` into owned fp32 tensors in the layout the forward pass wants.
//!
//! The file is memory-mapped only while loading: every tensor is copied out (converted from
//! F16/BF16 if need be), so the mapping is dropped and the resident size is just what the
//! kernels use. Two rewrites happen here, once: Q, K and V are fused into one `[3H, H]`
//! matrix (one GEMM instead of three), and the query rows are pre-scaled by `1/sqrt(d_head)`
//! so attention needs no separate scaling pass.

use std::fs::File;
use std::path::Path;

use safetensors::{Dtype, SafeTensors};

use crate::EmbedError;
use crate::config::ModelSpec;

/// One encoder layer; matrices are row-major `[out, in]` as PyTorch's `Linear` stores them.
#[derive(Debug, Clone)]
pub struct LayerWeights {
    /// Fused `[3H, H]` query/key/value projection, query rows pre-scaled.
    pub qkv_weight: Vec<f32>,
    /// Fused `[3H]` bias, query part pre-scaled.
    pub qkv_bias: Vec<f32>,
    /// Attention output projection `[H, H]`.
    pub attention_out_weight: Vec<f32>,
    /// Attention output bias `[H]`.
    pub attention_out_bias: Vec<f32>,
    /// Layer norm after attention: gain and shift.
    pub attention_norm: (Vec<f32>, Vec<f32>),
    /// Feed-forward expansion `[I, H]`.
    pub intermediate_weight: Vec<f32>,
    /// Feed-forward expansion bias `[I]`.
    pub intermediate_bias: Vec<f32>,
    /// Feed-forward contraction `[H, I]`.
    pub output_weight: Vec<f32>,
    /// Feed-forward contraction bias `[H]`.
    pub output_bias: Vec<f32>,
    /// Layer norm after the feed-forward block: gain and shift.
    pub output_norm: (Vec<f32>, Vec<f32>),
}

/// All weights of a BERT encoder (the pooler head is not used by sentence-transformers).
#[derive(Debug, Clone)]
pub struct BertWeights {
    /// Token embeddings `[vocab, H]`.
    pub word_embeddings: Vec<f32>,
    /// Position embeddings `[max_positions, H]`.
    pub position_embeddings: Vec<f32>,
    /// Row 0 of the token-type embeddings (single-segment input only).
    pub token_type_embedding: Vec<f32>,
    /// Layer norm of the embeddings: gain and shift.
    pub embedding_norm: (Vec<f32>, Vec<f32>),
    /// The encoder layers in order.
    pub layers: Vec<LayerWeights>,
    /// Rows of `word_embeddings`.
    pub vocab_size: usize,
}

/// Loads the weights and returns them with a 64-bit hash of the file's bytes.
pub fn load(path: &Path, spec: &ModelSpec) -> Result<(BertWeights, u64), EmbedError> {
    let file = File::open(path).map_err(|source| EmbedError::Io {
        path: path.to_owned(),
        source,
    })?;
    // SAFETY: the mapping is read-only and lives only inside this function; a concurrent
    // writer truncating the file could fault, which is the documented limit of mmap.
    let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|source| EmbedError::Io {
        path: path.to_owned(),
        source,
    })?;
    let hash = content_hash(&map);
    let tensors = SafeTensors::deserialize(&map)
        .map_err(|error| EmbedError::Weights(format!("{}: {error}", path.display())))?;
    let reader = Reader::new(&tensors);
    let weights = read_bert(&reader, spec)?;
    Ok((weights, hash))
}

struct Reader<'a> {
    tensors: &'a SafeTensors<'a>,
    prefix: &'static str,
}

impl<'a> Reader<'a> {
    fn new(tensors: &'a SafeTensors<'a>) -> Reader<'a> {
        // Checkpoints saved from `BertForX` carry a `bert.` prefix; sentence-transformers ones do not.
        let prefix = if tensors
            .tensor("bert.embeddings.word_embeddings.weight")
            .is_ok()
        {
            "bert."
        } else {
            ""
        };
        Reader { tensors, prefix }
    }

    /// Reads a tensor as fp32 and checks its shape.
    fn get(&self, name: &str, shape: &[usize]) -> Result<Vec<f32>, EmbedError> {
        let full = format!("{}{name}", self.prefix);
        let view = match self.tensors.tensor(&full) {
            Ok(view) => view,
            // Old TensorFlow-converted checkpoints name layer-norm parameters gamma/beta.
            Err(_) if name.ends_with("LayerNorm.weight") || name.ends_with("LayerNorm.bias") => {
                let old = full
                    .replace("LayerNorm.weight", "LayerNorm.gamma")
                    .replace("LayerNorm.bias", "LayerNorm.beta");
                self.tensors
                    .tensor(&old)
                    .map_err(|_| EmbedError::Weights(format!("missing tensor {full}")))?
            }
            Err(_) => return Err(EmbedError::Weights(format!("missing tensor {full}"))),
        };
        if view.shape() != shape {
            return Err(EmbedError::Weights(format!(
                "tensor {full} has shape {:?}, expected {shape:?}",
                view.shape()
            )));
        }
        to_f32(view.dtype(), view.data()).ok_or_else(|| {
            EmbedError::Weights(format!(
                "tensor {full} has dtype {:?} (F32, F16 or BF16 expected)",
                view.dtype()
            ))
        })
    }
}

fn read_bert(reader: &Reader<'_>, spec: &ModelSpec) -> Result<BertWeights, EmbedError> {
    let config = &spec.bert;
    let hidden = config.hidden_size;
    let word = "embeddings.word_embeddings.weight";
    let vocab_size = reader
        .tensors
        .tensor(&format!("{}{word}", reader.prefix))
        .map(|view| view.shape().first().copied().unwrap_or(0))
        .map_err(|_| EmbedError::Weights(format!("missing tensor {word}")))?;
    let word_embeddings = reader.get(word, &[vocab_size, hidden])?;
    let position_embeddings = reader.get(
        "embeddings.position_embeddings.weight",
        &[config.max_position_embeddings, hidden],
    )?;
    let type_name = format!("{}embeddings.token_type_embeddings.weight", reader.prefix);
    let type_rows = reader
        .tensors
        .tensor(&type_name)
        .map(|view| view.shape()[0])
        .unwrap_or(0);
    let token_type_embedding = if type_rows == 0 {
        vec![0.0; hidden]
    } else {
        reader.get(
            "embeddings.token_type_embeddings.weight",
            &[type_rows, hidden],
        )?[..hidden]
            .to_vec()
    };
    let embedding_norm = (
        reader.get("embeddings.LayerNorm.weight", &[hidden])?,
        reader.get("embeddings.LayerNorm.bias", &[hidden])?,
    );
    let scale = 1.0 / (spec.head_dim() as f32).sqrt();
    let layers = (0..config.num_hidden_layers)
        .map(|index| read_layer(reader, index, hidden, config.intermediate_size, scale))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(BertWeights {
        word_embeddings,
        position_embeddings,
        token_type_embedding,
        embedding_norm,
        layers,
        vocab_size,
    })
}

fn read_layer(
    reader: &Reader<'_>,
    index: usize,
    hidden: usize,
    intermediate: usize,
    query_scale: f32,
) -> Result<LayerWeights, EmbedError> {
    let name = |suffix: &str| format!("encoder.layer.{index}.{suffix}");
    let mut qkv_weight = Vec::with_capacity(3 * hidden * hidden);
    let mut qkv_bias = Vec::with_capacity(3 * hidden);
    for (part, scale) in [("query", query_scale), ("key", 1.0), ("value", 1.0)] {
        let weight = reader.get(
            &name(&format!("attention.self.{part}.weight")),
            &[hidden, hidden],
        )?;
        let bias = reader.get(&name(&format!("attention.self.{part}.bias")), &[hidden])?;
        qkv_weight.extend(weight.iter().map(|w| w * scale));
        qkv_bias.extend(bias.iter().map(|b| b * scale));
    }
    let norm = |prefix: &str| -> Result<(Vec<f32>, Vec<f32>), EmbedError> {
        Ok((
            reader.get(&name(&format!("{prefix}.LayerNorm.weight")), &[hidden])?,
            reader.get(&name(&format!("{prefix}.LayerNorm.bias")), &[hidden])?,
        ))
    };
    Ok(LayerWeights {
        qkv_weight,
        qkv_bias,
        attention_out_weight: reader
            .get(&name("attention.output.dense.weight"), &[hidden, hidden])?,
        attention_out_bias: reader.get(&name("attention.output.dense.bias"), &[hidden])?,
        attention_norm: norm("attention.output")?,
        intermediate_weight: reader
            .get(&name("intermediate.dense.weight"), &[intermediate, hidden])?,
        intermediate_bias: reader.get(&name("intermediate.dense.bias"), &[intermediate])?,
        output_weight: reader.get(&name("output.dense.weight"), &[hidden, intermediate])?,
        output_bias: reader.get(&name("output.dense.bias"), &[hidden])?,
        output_norm: norm("output")?,
    })
}

/// Converts little-endian tensor bytes to fp32; `None` for dtypes other than F32/F16/BF16.
fn to_f32(dtype: Dtype, bytes: &[u8]) -> Option<Vec<f32>> {
    match dtype {
        Dtype::F32 => Some(
            bytes
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
        ),
        Dtype::BF16 => Some(
            bytes
                .chunks_exact(2)
                .map(|b| f32::from_bits(u32::from(u16::from_le_bytes([b[0], b[1]])) << 16))
                .collect(),
        ),
        Dtype::F16 => Some(
            bytes
                .chunks_exact(2)
                .map(|b| f16_to_f32(u16::from_le_bytes([b[0], b[1]])))
                .collect(),
        ),
        _ => None,
    }
}

/// IEEE half to single precision, subnormals included.
fn f16_to_f32(half: u16) -> f32 {
    let sign = u32::from(half >> 15) << 31;
    let exponent = u32::from((half >> 10) & 0x1f);
    let mantissa = u32::from(half & 0x3ff);
    let bits = match (exponent, mantissa) {
        (0, 0) => sign,
        (0, _) => {
            return f32::from_bits(sign)
                + (if sign != 0 { -1.0 } else { 1.0 }) * mantissa as f32 * 2f32.powi(-24);
        }
        (0x1f, _) => sign | 0x7f80_0000 | (mantissa << 13),
        _ => sign | ((exponent + 112) << 23) | (mantissa << 13),
    };
    f32::from_bits(bits)
}

/// A fast non-cryptographic hash of the whole file: it identifies the weights in the model id.
fn content_hash(bytes: &[u8]) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    // Four independent lanes so the multiply latency does not serialise the loop.
    let mut lanes = [K, K.rotate_left(17), K.rotate_left(29), K.rotate_left(41)];
    let mut chunks = bytes.chunks_exact(32);
    for chunk in &mut chunks {
        for (lane, word) in lanes.iter_mut().zip(chunk.chunks_exact(8)) {
            let word = u64::from_le_bytes(word.try_into().unwrap_or([0; 8]));
            *lane = (*lane ^ word).wrapping_mul(K).rotate_left(31);
        }
    }
    let mut hash = bytes.len() as u64;
    for lane in lanes {
        hash = (hash ^ lane).wrapping_mul(K).rotate_left(27);
    }
    for &byte in chunks.remainder() {
        hash = (hash ^ u64::from(byte)).wrapping_mul(K);
    }
    hash ^ (hash >> 29)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_precision_conversions() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x0001), 2f32.powi(-24));
        let bf16 = to_f32(Dtype::BF16, &[0x80, 0x3f]).expect("bf16");
        assert_eq!(bf16, vec![1.0]);
    }

    #[test]
    fn hash_depends_on_every_byte() {
        let mut bytes = vec![7u8; 1000];
        let before = content_hash(&bytes);
        bytes[999] = 8;
        assert_ne!(before, content_hash(&bytes));
        bytes[999] = 7;
        bytes[3] = 1;
        assert_ne!(before, content_hash(&bytes));
    }
}
