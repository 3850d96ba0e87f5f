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
    // Not implemented; read only so that a model using them is refused, not mis-pooled.
    #[serde(default)]
    pooling_mode_weightedmean_tokens: bool,
    #[serde(default)]
    pooling_mode_lasttoken: bool,
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
    if file.pooling_mode_weightedmean_tokens || file.pooling_mode_lasttoken {
        return Err(EmbedError::Unsupported(
            "weighted-mean or last-token pooling (only cls, mean, max, mean_sqrt_len)".to_owned(),
        ));
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn model_dir(pooling: &str, modules: &str, sentence: Option<&str>) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = r#"{"model_type": "bert", "hidden_size": 384, "num_hidden_layers": 12,
            "num_attention_heads": 12, "intermediate_size": 1536, "max_position_embeddings": 512,
            "hidden_act": "gelu", "layer_norm_eps": 1e-12, "position_embedding_type": "absolute"}"#;
        std::fs::write(dir.path().join("config.json"), config).expect("config");
        std::fs::create_dir(dir.path().join("1_Pooling")).expect("pooling dir");
        std::fs::write(dir.path().join("1_Pooling/config.json"), pooling).expect("pooling");
        std::fs::write(dir.path().join("modules.json"), modules).expect("modules");
        if let Some(sentence) = sentence {
            std::fs::write(dir.path().join("sentence_bert_config.json"), sentence)
                .expect("sentence config");
        }
        dir
    }

    const WITH_NORMALIZE: &str = r#"[
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}]"#;

    /// bge-small-en-v1.5's files as published: CLS pooling, Normalize, 512 tokens, and the
    /// pooling keys newer sentence-transformers versions write.
    #[test]
    fn bge_small_configuration() {
        let pooling = r#"{"word_embedding_dimension": 384, "pooling_mode_cls_token": true,
            "pooling_mode_mean_tokens": false, "pooling_mode_max_tokens": false,
            "pooling_mode_mean_sqrt_len_tokens": false, "pooling_mode_weightedmean_tokens": false,
            "pooling_mode_lasttoken": false, "include_prompt": true}"#;
        let dir = model_dir(
            pooling,
            WITH_NORMALIZE,
            Some(r#"{"max_seq_length": 512, "do_lower_case": true}"#),
        );
        let spec = ModelSpec::load(dir.path()).expect("loads");
        assert_eq!(spec.pooling, Pooling::Cls);
        assert!(spec.normalize);
        assert_eq!(spec.max_seq_length, 512);
        assert_eq!(spec.bert.num_hidden_layers, 12);
        assert_eq!(spec.head_dim(), 32);
    }

    #[test]
    fn unimplemented_pooling_is_refused_not_ignored() {
        let pooling =
            r#"{"pooling_mode_mean_tokens": false, "pooling_mode_weightedmean_tokens": true}"#;
        let dir = model_dir(pooling, WITH_NORMALIZE, None);
        let error = ModelSpec::load(dir.path()).expect_err("weighted mean is not implemented");
        assert!(error.to_string().contains("weighted-mean"), "{error}");
    }

    /// Without sentence_bert_config.json the position table bounds the length.
    #[test]
    fn max_length_defaults_to_the_position_table() {
        let pooling = r#"{"pooling_mode_mean_tokens": true}"#;
        let dir = model_dir(pooling, WITH_NORMALIZE, None);
        assert_eq!(
            ModelSpec::load(dir.path()).expect("loads").max_seq_length,
            512
        );
    }
}
