//! Word-piece tokenisation with the model's own `tokenizer.json`.
//!
//! The file's padding and truncation settings are replaced: sentence-transformers truncates
//! to `max_seq_length` (special tokens included) and pads only to the longest text of a
//! batch, and since every sequence here runs unpadded, padding is switched off entirely.

use std::path::Path;

use tokenizers::{Tokenizer, TruncationParams};

use crate::EmbedError;

/// A tokenizer configured for one model.
pub struct TextTokenizer {
    inner: Tokenizer,
}

impl std::fmt::Debug for TextTokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextTokenizer").finish_non_exhaustive()
    }
}

impl TextTokenizer {
    /// Loads `tokenizer.json` and sets truncation to `max_len` tokens.
    pub fn load(path: &Path, max_len: usize) -> Result<TextTokenizer, EmbedError> {
        let mut inner = Tokenizer::from_file(path)
            .map_err(|error| EmbedError::Tokenizer(format!("{}: {error}", path.display())))?;
        inner.with_padding(None);
        inner
            .with_truncation(Some(TruncationParams {
                max_length: max_len,
                ..TruncationParams::default()
            }))
            .map_err(|error| EmbedError::Tokenizer(error.to_string()))?;
        Ok(TextTokenizer { inner })
    }

    /// Token ids of one text, `[CLS]` and `[SEP]` included.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>, EmbedError> {
        let encoding = self
            .inner
            .encode(text, true)
            .map_err(|error| EmbedError::Tokenizer(error.to_string()))?;
        Ok(encoding.get_ids().to_vec())
    }

    /// Number of token ids the tokenizer can produce, added tokens included.
    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }
}
