//! The JSON files of a sentence-transformers model directory, parsed into one [`ModelSpec`].
//!
//! Only what changes the numbers is read: the BERT shape, the pooling mode, whether a
//! `Normalize` module follows, and the truncation length. Anything that would change the
//! output but is not implemented (a `Dense` head, another architecture) is an error here,
//! at load time, rather than silently different vectors later.

use std::path::Path;

use serde::Deserialize;

use crate::EmbedError;

/// The subset of a Hugging Face BERT `config.json` that the forward pass needs.
#[derive(Debug, Clone, Deserialize)]
pub struct BertConfig {
    /// Width of the hidden state (384 for MiniLM, 768 for base models).
    pub hidden_size: usize,
    /// Number of transformer layers.
    pub num_hidden_layers: usize,
    /// Number of attention heads; `hidden_size / num_attention_heads` is the head width.
    pub num_attention_heads: usize,
    /// Width of the feed-forward layer.
    pub intermediate_size: usize,
    /// Rows of the position-embedding table, an upper bound on sequence length.
    pub max_position_embeddings: usize,
    /// Epsilon of every layer norm.
    #[serde(default = "default_layer_norm_eps")]
    pub layer_norm_eps: f32,
    /// Activation of the feed-forward layer; only the erf GELU is implemented.
    #[serde(default = "default_hidden_act")]
    pub hidden_act: String,
    /// `model_type`, checked to be a BERT-compatible encoder.
    #[serde(default)]
    pub model_type: Option<String>,
    /// `position_embedding_type`; only `absolute` is implemented.
    #[serde(default)]
    pub position_embedding_type: Option<String>,
}

fn default_layer_norm_eps() -> f32 {
    1e-12
}

fn default_hidden_act() -> String {
    "gelu".to_owned()
}

/// How token vectors become one sentence vector (`1_Pooling/config.json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pooling {
    /// The hidden state of the first token (`[CLS]`); bge models use this.
    Cls,
    /// The average over all tokens, special tokens included (as sentence-transformers does).
    Mean,
    /// The element-wise maximum over all tokens.
    Max,
    /// The sum divided by the square root of the token count.
    MeanSqrtLen,
}

impl Pooling {
    /// A short lowercase name, used in the model id.
    pub fn name(self) -> &'static str {
        match self {
            Pooling::Cls => "cls",
            Pooling::Mean => "mean",
            Pooling::Max => "max",
            Pooling::MeanSqrtLen => "meansqrt",
        }
    }
}

#[derive(Debug, Deserialize)]
struct PoolingFile {
    #[serde(default)]
    pooling_mode_cls_token: bool,
    #[serde(default)]
    pooling_mode_mean_tokens: bool,
    #[serde(default)]
    pooling_mode_max_tokens: bool,
    #[serde(default)]
    pooling_mode_mean_sqrt_len_tokens: bool,
}

#[derive(Debug, Deserialize)]
struct ModuleEntry {
    #[serde(default)]
    path: String,
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Debug, Deserialize)]
struct SentenceBertConfig {
    max_seq_length: Option<usize>,
}

/// Everything about a model directory except the weights and the tokenizer.
#[derive(Debug, Clone)]
pub struct ModelSpec {
    /// The encoder's shape.
    pub bert: BertConfig,
    /// The pooling mode.
    pub pooling: Pooling,
    /// Whether the sentence vector is scaled to unit length.
    pub normalize: bool,
    /// Tokens kept per text, `[CLS]` and `[SEP]` included.
    pub max_seq_length: usize,
}

impl ModelSpec {
    /// Reads and checks the configuration files of `dir`.
    pub fn load(dir: &Path) -> Result<ModelSpec, EmbedError> {
        let bert: BertConfig = read_json(&dir.join("config.json"))?;
        check_bert(&bert)?;
        // Without modules.json (a bare transformers checkpoint) sentence-transformers mean-pools.
        let modules: Vec<ModuleEntry> =
            read_optional(&dir.join("modules.json"))?.unwrap_or_default();
        let mut pooling = Pooling::Mean;
        let mut normalize = false;
        for module in &modules {
            let kind = module.kind.rsplit('.').next().unwrap_or_default();
            match kind {
                "Transformer" => {}
                "Pooling" => pooling = read_pooling(&dir.join(&module.path))?,
                "Normalize" => normalize = true,
                other => {
                    return Err(EmbedError::Unsupported(format!(
                        "module {other} in modules.json (only Transformer, Pooling and Normalize are implemented)"
                    )));
                }
            }
        }
        let sentence: Option<SentenceBertConfig> =
            read_optional(&dir.join("sentence_bert_config.json"))?;
        let max_seq_length = sentence
            .and_then(|s| s.max_seq_length)
            .unwrap_or(bert.max_position_embeddings)
            .min(bert.max_position_embeddings);
        Ok(ModelSpec {
            bert,
            pooling,
            normalize,
            max_seq_length,
        })
    }

    /// Width of one attention head.
    pub fn head_dim(&self) -> usize {
        self.bert.hidden_size / self.bert.num_attention_heads
    }
}

fn check_bert(bert: &BertConfig) -> Result<(), EmbedError> {
    if let Some(kind) = &bert.model_type
        && kind != "bert"
    {
        return Err(EmbedError::Unsupported(format!(
            "model_type {kind:?} (only \"bert\")"
        )));
    }
    if let Some(kind) = &bert.position_embedding_type
        && kind != "absolute"
    {
        return Err(EmbedError::Unsupported(format!(
            "position_embedding_type {kind:?}"
        )));
    }
    if bert.hidden_act != "gelu" {
        return Err(EmbedError::Unsupported(format!(
            "hidden_act {:?} (only \"gelu\")",
            bert.hidden_act
        )));
    }
    if bert.num_attention_heads == 0 || !bert.hidden_size.is_multiple_of(bert.num_attention_heads) {
        return Err(EmbedError::Unsupported(format!(
            "hidden_size {} is not a multiple of num_attention_heads {}",
            bert.hidden_size, bert.num_attention_heads
        )));
    }
    Ok(())
}

fn read_pooling(dir: &Path) -> Result<Pooling, EmbedError> {
    let file: PoolingFile = read_json(&dir.join("config.json"))?;
    let modes = [
        (file.pooling_mode_cls_token, Pooling::Cls),
        (file.pooling_mode_mean_tokens, Pooling::Mean),
        (file.pooling_mode_max_tokens, Pooling::Max),
        (file.pooling_mode_mean_sqrt_len_tokens, Pooling::MeanSqrtLen),
    ];
    let mut chosen = modes.iter().filter(|(on, _)| *on).map(|(_, mode)| *mode);
    match (chosen.next(), chosen.next()) {
        (Some(mode), None) => Ok(mode),
        (None, _) => Err(EmbedError::Unsupported(
            "no pooling mode enabled".to_owned(),
        )),
        (Some(_), Some(_)) => Err(EmbedError::Unsupported(
            "several pooling modes at once (concatenated pooling)".to_owned(),
        )),
    }
}

/// Reads a JSON file that must exist.
pub(crate) fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, EmbedError> {
    let bytes = std::fs::read(path).map_err(|source| EmbedError::Io {
        path: path.to_owned(),
        source,
    })?;
    serde_json::from_slice(&bytes).map_err(|source| EmbedError::Json {
        path: path.to_owned(),
        source,
    })
}

fn read_optional<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Option<T>, EmbedError> {
    if path.exists() {
        read_json(path).map(Some)
    } else {
        Ok(None)
    }
}
