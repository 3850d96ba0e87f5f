//! [`Embedder`]: load a model directory once, then embed texts in length-sorted batches on
//! all worker threads.

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::EmbedError;
use crate::config::ModelSpec;
use crate::forward::{Engine, Model, Workspace};
use crate::tokenize::TextTokenizer;
use crate::weights;

/// Tokens per batch: large enough that each packed weight panel is reused over many rows,
/// small enough that a worker's activations stay near L2 (768 measured ~2.5 % faster than
/// 2048 on Zen 4, and no slower than 384).
const BATCH_TOKENS: usize = 768;

/// How the embedder may run; the binary fills this from flags and environment.
#[derive(Debug, Clone, Copy)]
pub struct EmbedOptions {
    /// The best kernel the embedder may use: it runs this one if the CPU (and the model's
    /// widths) allow, else the next one down the chain
    /// `Amx` → `Avx512Bf16` → `Avx2Fma` → `Portable`. Lower it to force a slower path.
    pub max_kernel: Kernel,
    /// Worker threads; 0 means one per available core.
    pub threads: usize,
}

impl Default for EmbedOptions {
    fn default() -> Self {
        EmbedOptions {
            max_kernel: Kernel::FASTEST,
            threads: 0,
        }
    }
}

/// Which kernels an embedder runs, ordered from the most portable to the fastest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kernel {
    /// Plain Rust fp32 (compiled for the widest vectors the CPU has, but no intrinsics).
    Portable,
    /// fp32 GEMMs on AVX2 + FMA.
    Avx2Fma,
    /// bf16 GEMMs on `vdpbf16ps`, fp32 accumulation.
    Avx512Bf16,
    /// The GEMMs on AMX tiles (`tdpbf16ps`, fp32 accumulation), the element-wise work as
    /// `Avx512Bf16`.
    Amx,
}

impl Kernel {
    /// The top of the chain: as a [`EmbedOptions::max_kernel`], the best the CPU has.
    pub const FASTEST: Kernel = Kernel::Amx;

    /// Every kernel, slowest first.
    pub const ALL: [Kernel; 4] = [
        Kernel::Portable,
        Kernel::Avx2Fma,
        Kernel::Avx512Bf16,
        Kernel::Amx,
    ];

    /// The name used on command lines and in logs: `amx`, `avx512bf16`, `avx2` or
    /// `portable`.
    pub fn name(self) -> &'static str {
        match self {
            Kernel::Portable => "portable",
            Kernel::Avx2Fma => "avx2",
            Kernel::Avx512Bf16 => "avx512bf16",
            Kernel::Amx => "amx",
        }
    }

    /// The kernel of that [`Kernel::name`], if any.
    pub fn from_name(name: &str) -> Option<Kernel> {
        Kernel::ALL.into_iter().find(|kernel| kernel.name() == name)
    }
}

/// A loaded sentence-embedding model.
#[derive(Debug)]
pub struct Embedder {
    model: Model,
    tokenizer: TextTokenizer,
    threads: usize,
    id: String,
}

impl Embedder {
    /// Loads the model in `dir` with default options (fastest kernel the CPU allows, all cores).
    pub fn load(dir: &Path) -> Result<Embedder, EmbedError> {
        Embedder::load_with(dir, EmbedOptions::default())
    }

    /// Loads the model in `dir`.
    pub fn load_with(dir: &Path, options: EmbedOptions) -> Result<Embedder, EmbedError> {
        crate::resolve::check_model_dir(dir).map_err(|reason| crate::ModelNotFound {
            tried: vec![(dir.to_owned(), reason)],
            repo: crate::DEFAULT_MODEL_REPO.to_owned(),
            hub: None,
        })?;
        let spec = ModelSpec::load(dir)?;
        let tokenizer = TextTokenizer::load(&dir.join("tokenizer.json"), spec.max_seq_length)?;
        let (mut weights, weights_hash) = weights::load(&dir.join("model.safetensors"), &spec)?;
        // Every id the tokenizer can emit must have an embedding row, or lookups would panic.
        if tokenizer.vocab_size() > weights.vocab_size {
            return Err(EmbedError::Unsupported(format!(
                "tokenizer has {} tokens but the embedding table only {} rows",
                tokenizer.vocab_size(),
                weights.vocab_size
            )));
        }
        let id = model_id(dir, &spec, weights_hash)?;
        let kernel = Engine::best_kernel(options.max_kernel, &spec);
        let engine = Engine::new(kernel, &mut weights, &spec);
        let threads = if options.threads == 0 {
            std::thread::available_parallelism().map_or(1, usize::from)
        } else {
            options.threads
        };
        let embedder = Embedder {
            model: Model {
                spec,
                weights,
                engine,
            },
            tokenizer,
            threads,
            id,
        };
        tracing::debug!(model.id = %embedder.id, kernel = ?embedder.kernel(), threads, "embedding model loaded");
        Ok(embedder)
    }

    /// Embeds `texts`, returning one vector of [`Embedder::dim`] values per text, in order.
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let ids = self.tokenize(texts)?;
        let batches = batches(&ids);
        let next = AtomicUsize::new(0);
        let results: Mutex<Vec<Vec<f32>>> = Mutex::new(vec![Vec::new(); texts.len()]);
        let work = || {
            let mut workspace = Workspace::default();
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(batch) = batches.get(index) else {
                    break;
                };
                let sequences: Vec<&[u32]> = batch.iter().map(|&i| ids[i].as_slice()).collect();
                let vectors = self.model.forward(&sequences, &mut workspace);
                let mut results = results
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                for (&i, vector) in batch.iter().zip(vectors) {
                    results[i] = vector;
                }
            }
        };
        let workers = self.threads.min(batches.len()).max(1);
        std::thread::scope(|scope| {
            for _ in 1..workers {
                scope.spawn(work);
            }
            work();
        });
        Ok(results
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    /// Token ids per text, tokenised on the worker threads.
    fn tokenize(&self, texts: &[&str]) -> Result<Vec<Vec<u32>>, EmbedError> {
        let chunk = texts.len().div_ceil(self.threads).max(1);
        if self.threads == 1 || texts.len() < 8 {
            return texts
                .iter()
                .map(|text| self.tokenizer.encode(text))
                .collect();
        }
        let parts: Vec<Result<Vec<Vec<u32>>, EmbedError>> = std::thread::scope(|scope| {
            let handles: Vec<_> = texts
                .chunks(chunk)
                .map(|part| {
                    scope.spawn(move || {
                        part.iter()
                            .map(|text| self.tokenizer.encode(text))
                            .collect()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|handle| {
                    handle
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                })
                .collect()
        });
        let mut ids = Vec::with_capacity(texts.len());
        for part in parts {
            ids.extend(part?);
        }
        Ok(ids)
    }

    /// An identity for stored vectors: architecture, pooling and a hash of every model file
    /// that affects the numbers. Independent of where the directory lives.
    pub fn model_id(&self) -> &str {
        &self.id
    }

    /// Length of each vector.
    pub fn dim(&self) -> usize {
        self.model.spec.bert.hidden_size
    }

    /// Tokens kept per text (longer texts are truncated).
    pub fn max_seq_length(&self) -> usize {
        self.model.spec.max_seq_length
    }

    /// The kernels in use.
    pub fn kernel(&self) -> Kernel {
        self.model.engine.kernel()
    }

    /// Worker threads used by [`Embedder::embed`].
    pub fn threads(&self) -> usize {
        self.threads
    }
}

/// Groups text indices into batches of similar length, longest first (so the slowest
/// batches start early and the short ones fill in at the end), each within [`BATCH_TOKENS`].
fn batches(ids: &[Vec<u32>]) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..ids.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(ids[i].len()));
    let mut batches = Vec::new();
    let mut current = Vec::new();
    let mut tokens = 0;
    for i in order {
        if !current.is_empty() && tokens + ids[i].len() > BATCH_TOKENS {
            batches.push(std::mem::take(&mut current));
            tokens = 0;
        }
        tokens += ids[i].len();
        current.push(i);
    }
    if !current.is_empty() {
        batches.push(current);
    }
    batches
}

/// `bert-{layers}x{hidden}-{pooling}[-norm]-{max_seq}@{hash}`, the hash covering the
/// weights and the configuration and tokenizer files.
fn model_id(dir: &Path, spec: &ModelSpec, weights_hash: u64) -> Result<String, EmbedError> {
    let mut hash = weights_hash;
    for name in [
        "config.json",
        "tokenizer.json",
        "modules.json",
        "1_Pooling/config.json",
        "sentence_bert_config.json",
    ] {
        let path = dir.join(name);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(source) => return Err(EmbedError::Io { path, source }),
        };
        for byte in bytes.iter().chain(name.as_bytes()) {
            hash = (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    let config = &spec.bert;
    Ok(format!(
        "bert-{}x{}-{}{}-{}@{:016x}",
        config.num_hidden_layers,
        config.hidden_size,
        spec.pooling.name(),
        if spec.normalize { "-norm" } else { "" },
        spec.max_seq_length,
        hash
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_names_round_trip_and_order_the_chain() {
        for kernel in Kernel::ALL {
            assert_eq!(Kernel::from_name(kernel.name()), Some(kernel));
        }
        assert_eq!(Kernel::from_name("amx"), Some(Kernel::Amx));
        assert_eq!(Kernel::from_name("avx512"), None);
        assert!(Kernel::ALL.is_sorted());
        assert_eq!(Kernel::ALL.last(), Some(&Kernel::FASTEST));
    }

    #[test]
    fn batches_cover_every_text_once_longest_first() {
        let ids: Vec<Vec<u32>> = [5usize, 300, 7, 2000, 40, 1]
            .iter()
            .map(|&n| vec![0; n])
            .collect();
        let batches = batches(&ids);
        assert_eq!(batches[0], vec![3]);
        let mut seen: Vec<usize> = batches.concat();
        seen.sort_unstable();
        assert_eq!(seen, (0..6).collect::<Vec<_>>());
    }
}
