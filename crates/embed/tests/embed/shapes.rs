//! Other BERT-family models by configuration alone: model directories of other shapes,
//! built in a temporary directory from the installed all-MiniLM-L6-v2, are embedded by the
//! production loader and forward pass (every kernel path) and compared with an independent
//! float64 numpy encoder (`tests/bert_reference.py`) on reference texts.
//!
//! - `deeper`: bge-small-en-v1.5's layout. 12 layers (MiniLM's six, twice), CLS pooling, a
//!   `Normalize` module, 512 tokens.
//! - `narrow`: random weights stored as F16 under a `bert.` prefix, hidden 128 with 4 heads,
//!   feed-forward 512, 3 layers, layer-norm epsilon 1e-5, a 128-row position table (so long
//!   texts are truncated), mean pooling without normalisation.
//! - `odd`: random F32 weights, hidden 120 with 5 heads of 24 (not whole 16-lane blocks, so
//!   the fast path must decline), feed-forward 200, 2 layers, max pooling.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use papers_embed::{EmbedOptions, Embedder, Kernel};
use safetensors::{Dtype, SafeTensors, tensor::TensorView};
use tokenizers::{Tokenizer, TruncationParams};

use crate::support::{cosine, python_has, reference, script};

/// Texts compared per model: every 25th reference text, long and short ones alike.
const STEP: usize = 25;

/// Tensors by name: dtype, shape, little-endian bytes.
type Tensors = BTreeMap<String, (Dtype, Vec<usize>, Vec<u8>)>;

fn write_tensors(path: &Path, tensors: &Tensors) {
    let views: Vec<(String, TensorView<'_>)> = tensors
        .iter()
        .map(|(name, (dtype, shape, bytes))| {
            let view = TensorView::new(*dtype, shape.clone(), bytes).expect("valid tensor");
            (name.clone(), view)
        })
        .collect();
    safetensors::serialize_to_file(views, None, path).expect("write safetensors");
}

fn write_json(path: &Path, value: &serde_json::Value) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(path, serde_json::to_vec_pretty(value).expect("json")).expect("write json");
}

/// modules.json and the pooling config for `pooling` (a sentence-transformers key).
fn write_modules(dir: &Path, pooling: &str, normalize: bool) {
    let mut modules = vec![
        serde_json::json!({"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"}),
        serde_json::json!({"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}),
    ];
    if normalize {
        modules.push(serde_json::json!({"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}));
    }
    write_json(&dir.join("modules.json"), &serde_json::Value::from(modules));
    let mut settings = serde_json::json!({
        "pooling_mode_cls_token": false, "pooling_mode_mean_tokens": false,
        "pooling_mode_max_tokens": false, "pooling_mode_mean_sqrt_len_tokens": false,
        "pooling_mode_weightedmean_tokens": false, "pooling_mode_lasttoken": false,
        "include_prompt": true
    });
    settings[pooling] = serde_json::Value::Bool(true);
    write_json(&dir.join("1_Pooling/config.json"), &settings);
}

/// bge-small's layout with MiniLM's weights: layer i is MiniLM's layer i mod 6.
fn deeper(minilm: &Path, dir: &Path) {
    let bytes = std::fs::read(minilm.join("model.safetensors")).expect("weights");
    let original = SafeTensors::deserialize(&bytes).expect("safetensors");
    let mut tensors = Tensors::new();
    for (name, view) in original.tensors() {
        let entry = (view.dtype(), view.shape().to_vec(), view.data().to_vec());
        match name.strip_prefix("encoder.layer.") {
            Some(rest) => {
                let (index, suffix) = rest.split_once('.').expect("layer tensor name");
                let index: usize = index.parse().expect("layer index");
                tensors.insert(
                    format!("encoder.layer.{}.{suffix}", index + 6),
                    entry.clone(),
                );
                tensors.insert(name, entry);
            }
            None => {
                tensors.insert(name, entry);
            }
        }
    }
    write_tensors(&dir.join("model.safetensors"), &tensors);
    let mut config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(minilm.join("config.json")).expect("config"))
            .expect("config JSON");
    config["num_hidden_layers"] = 12.into();
    write_json(&dir.join("config.json"), &config);
    write_modules(dir, "pooling_mode_cls_token", true);
    write_json(
        &dir.join("sentence_bert_config.json"),
        &serde_json::json!({"max_seq_length": 512, "do_lower_case": true}),
    );
}

/// A BERT of the given shape with seeded random weights.
struct RandomShape {
    hidden: usize,
    heads: usize,
    intermediate: usize,
    layers: usize,
    positions: usize,
    eps: f64,
    f16: bool,
    prefix: &'static str,
    pooling: &'static str,
    normalize: bool,
}

/// xorshift64*: reproducible weights without a dependency.
struct Random(u64);

impl Random {
    /// Uniform in `[-scale, scale)`.
    fn next(&mut self, scale: f32) -> f32 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let bits = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 40;
        (bits as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * scale
    }
}

fn f32_to_f16(x: f32) -> u16 {
    // Values here are small and normal in half precision; round to nearest.
    let bits = x.to_bits();
    let sign = ((bits >> 16) & 0x8000) as u16;
    let exponent = ((bits >> 23) & 0xff) as i32 - 127 + 15;
    if exponent <= 0 {
        return sign;
    }
    let mantissa = (bits & 0x7f_ffff) + 0x1000;
    let (exponent, mantissa) = if mantissa & 0x80_0000 != 0 {
        (exponent + 1, 0)
    } else {
        (exponent, mantissa >> 13)
    };
    sign | ((exponent as u16) << 10) | mantissa as u16
}

fn random_model(minilm: &Path, dir: &Path, shape: &RandomShape, seed: u64) {
    let vocab = 30_522;
    let (h, i) = (shape.hidden, shape.intermediate);
    let mut random = Random(seed);
    let mut tensors = Tensors::new();
    let mut add = |name: String, dims: Vec<usize>, values: Vec<f32>| {
        let (dtype, bytes) = if shape.f16 {
            let bytes = values
                .iter()
                .flat_map(|&v| f32_to_f16(v).to_le_bytes())
                .collect();
            (Dtype::F16, bytes)
        } else {
            (
                Dtype::F32,
                values.iter().flat_map(|v| v.to_le_bytes()).collect(),
            )
        };
        tensors.insert(format!("{}{name}", shape.prefix), (dtype, dims, bytes));
    };
    let mut fill = |count: usize, scale: f32, offset: f32| -> Vec<f32> {
        (0..count).map(|_| offset + random.next(scale)).collect()
    };
    add(
        "embeddings.word_embeddings.weight".into(),
        vec![vocab, h],
        fill(vocab * h, 0.5, 0.0),
    );
    add(
        "embeddings.position_embeddings.weight".into(),
        vec![shape.positions, h],
        fill(shape.positions * h, 0.5, 0.0),
    );
    add(
        "embeddings.token_type_embeddings.weight".into(),
        vec![2, h],
        fill(2 * h, 0.5, 0.0),
    );
    add(
        "embeddings.LayerNorm.weight".into(),
        vec![h],
        fill(h, 0.2, 1.0),
    );
    add(
        "embeddings.LayerNorm.bias".into(),
        vec![h],
        fill(h, 0.1, 0.0),
    );
    let wide = 2.0 / (h as f32).sqrt();
    for layer in 0..shape.layers {
        let name = |suffix: &str| format!("encoder.layer.{layer}.{suffix}");
        for part in ["query", "key", "value"] {
            add(
                name(&format!("attention.self.{part}.weight")),
                vec![h, h],
                fill(h * h, wide, 0.0),
            );
            add(
                name(&format!("attention.self.{part}.bias")),
                vec![h],
                fill(h, 0.1, 0.0),
            );
        }
        add(
            name("attention.output.dense.weight"),
            vec![h, h],
            fill(h * h, wide, 0.0),
        );
        add(
            name("attention.output.dense.bias"),
            vec![h],
            fill(h, 0.1, 0.0),
        );
        add(
            name("attention.output.LayerNorm.weight"),
            vec![h],
            fill(h, 0.2, 1.0),
        );
        add(
            name("attention.output.LayerNorm.bias"),
            vec![h],
            fill(h, 0.1, 0.0),
        );
        add(
            name("intermediate.dense.weight"),
            vec![i, h],
            fill(i * h, wide, 0.0),
        );
        add(name("intermediate.dense.bias"), vec![i], fill(i, 0.1, 0.0));
        let narrow = 2.0 / (i as f32).sqrt();
        add(
            name("output.dense.weight"),
            vec![h, i],
            fill(h * i, narrow, 0.0),
        );
        add(name("output.dense.bias"), vec![h], fill(h, 0.1, 0.0));
        add(name("output.LayerNorm.weight"), vec![h], fill(h, 0.2, 1.0));
        add(name("output.LayerNorm.bias"), vec![h], fill(h, 0.1, 0.0));
    }
    write_tensors(&dir.join("model.safetensors"), &tensors);
    write_json(
        &dir.join("config.json"),
        &serde_json::json!({
            "architectures": ["BertModel"], "model_type": "bert", "hidden_act": "gelu",
            "hidden_size": h, "num_attention_heads": shape.heads, "intermediate_size": i,
            "num_hidden_layers": shape.layers, "max_position_embeddings": shape.positions,
            "layer_norm_eps": shape.eps, "type_vocab_size": 2, "vocab_size": vocab,
            "position_embedding_type": "absolute"
        }),
    );
    write_modules(dir, shape.pooling, shape.normalize);
    std::fs::copy(minilm.join("tokenizer.json"), dir.join("tokenizer.json")).expect("tokenizer");
}

/// Token ids as the model sees them: the model's tokenizer, truncated to `max_len`.
fn token_ids(dir: &Path, max_len: usize, texts: &[&str]) -> Vec<Vec<u32>> {
    let mut tokenizer = Tokenizer::from_file(dir.join("tokenizer.json")).expect("tokenizer");
    tokenizer.with_padding(None);
    tokenizer
        .with_truncation(Some(TruncationParams {
            max_length: max_len,
            ..TruncationParams::default()
        }))
        .expect("truncation");
    texts
        .iter()
        .map(|text| {
            tokenizer
                .encode(*text, true)
                .expect("encodes")
                .get_ids()
                .to_vec()
        })
        .collect()
}

/// The numpy reference's vectors for `ids`.
fn reference_vectors(dir: &Path, ids: &[Vec<u32>], dim: usize) -> Vec<Vec<f32>> {
    let ids_path = dir.join("ids.jsonl");
    let lines: Vec<String> = ids
        .iter()
        .map(|row| serde_json::to_string(row).expect("ids JSON"))
        .collect();
    std::fs::write(&ids_path, lines.join("\n")).expect("write ids");
    let out = dir.join("reference.f32");
    let status = Command::new("python3")
        .arg(script("bert_reference.py"))
        .arg(dir)
        .arg(&ids_path)
        .arg(&out)
        // One BLAS thread: the machine's other core runs the tests beside this one.
        .env("OPENBLAS_NUM_THREADS", "1")
        .env("OMP_NUM_THREADS", "1")
        .status()
        .expect("python3 runs");
    assert!(status.success(), "bert_reference.py failed");
    let bytes = std::fs::read(&out).expect("reference vectors");
    let floats: Vec<f32> = bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    assert_eq!(floats.len(), ids.len() * dim);
    floats.chunks_exact(dim).map(<[f32]>::to_vec).collect()
}

/// Embeds the sample texts on every kernel path and compares them with the reference.
/// `longest` is a length the longest text must reach, to show which limit applied.
fn check(dir: &Path, max_len: usize, longest: usize, id_prefix: &str, fast_path_fits: bool) {
    let reference_texts = &reference().expect("checked by the caller").texts;
    let texts: Vec<&str> = reference_texts
        .iter()
        .step_by(STEP)
        .map(String::as_str)
        .collect();
    let ids = token_ids(dir, max_len, &texts);
    let most = ids.iter().map(Vec::len).max().unwrap_or(0);
    assert!(
        (longest..=max_len).contains(&most),
        "longest text has {most} tokens, expected {longest}..={max_len}"
    );
    let mut expected = None;
    for max_kernel in Kernel::ALL.into_iter().rev() {
        let embedder = Embedder::load_with(
            dir,
            EmbedOptions {
                max_kernel,
                threads: 0,
            },
        )
        .expect("derived model loads");
        assert!(
            embedder.model_id().starts_with(id_prefix),
            "{} does not start with {id_prefix}",
            embedder.model_id()
        );
        assert_eq!(embedder.max_seq_length(), max_len);
        assert!(embedder.kernel() <= max_kernel, "{:?}", embedder.kernel());
        if !fast_path_fits {
            assert_eq!(embedder.kernel(), Kernel::Portable);
        }
        let expected = expected.get_or_insert_with(|| reference_vectors(dir, &ids, embedder.dim()));
        let vectors = embedder.embed(&texts).expect("embeds");
        let (worst, index) = vectors
            .iter()
            .zip(expected.iter())
            .map(|(ours, theirs)| cosine(ours, theirs))
            .zip(0..)
            .fold(
                (f32::INFINITY, 0),
                |worst, (c, i)| if c < worst.0 { (c, i) } else { worst },
            );
        eprintln!(
            "{id_prefix} {:?}: {} texts, minimum cosine {worst:.6} (text {index})",
            embedder.kernel(),
            texts.len()
        );
        assert!(worst >= 0.999, "text {index}: cosine {worst}");
        if embedder.kernel() < Kernel::Avx512Bf16 {
            assert!(worst >= 0.99999, "fp32 path, text {index}: cosine {worst}");
        }
    }
}

fn inputs_available() -> Option<&'static Path> {
    let reference = reference()?;
    python_has("numpy").then_some(reference.model.as_path())
}

#[test]
fn deeper_model_with_cls_pooling_and_normalize() {
    let Some(minilm) = inputs_available() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    deeper(minilm, dir.path());
    std::fs::copy(
        minilm.join("tokenizer.json"),
        dir.path().join("tokenizer.json"),
    )
    .expect("tokenizer");
    // Past MiniLM's 256 tokens: the 512 of sentence_bert_config.json applied.
    check(dir.path(), 512, 257, "bert-12x384-cls-norm-512@", true);
}

#[test]
fn narrower_model_in_half_precision_with_a_prefix() {
    let Some(minilm) = inputs_available() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let shape = RandomShape {
        hidden: 128,
        heads: 4,
        intermediate: 512,
        layers: 3,
        positions: 128,
        eps: 1e-5,
        f16: true,
        prefix: "bert.",
        pooling: "pooling_mode_mean_tokens",
        normalize: false,
    };
    random_model(minilm, dir.path(), &shape, 0x5eed);
    check(dir.path(), 128, 128, "bert-3x128-mean-128@", true);
}

#[test]
fn heads_the_fast_path_cannot_take_run_portably() {
    let Some(minilm) = inputs_available() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let shape = RandomShape {
        hidden: 120,
        heads: 5,
        intermediate: 200,
        layers: 2,
        positions: 64,
        eps: 1e-12,
        f16: false,
        prefix: "",
        pooling: "pooling_mode_max_tokens",
        normalize: true,
    };
    random_model(minilm, dir.path(), &shape, 0xbee);
    check(dir.path(), 64, 64, "bert-2x120-max-norm-64@", false);
}
