//! Which retrievers answer a search. One enum for every surface: the CLI's `--mode`,
//! the index, and the site's search form and API, which only differ in what they call
//! the dense mode.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SearchMode {
    /// BM25 over the lexical index.
    Lexical,
    /// Cosine similarity of embeddings.
    Dense,
    /// Both, fused.
    #[default]
    Hybrid,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown search mode {0:?} (expected lexical, dense or hybrid)")]
pub struct SearchModeError(pub String);

impl SearchMode {
    /// In the order the site's form offers them.
    pub const ALL: [SearchMode; 3] = [SearchMode::Hybrid, SearchMode::Lexical, SearchMode::Dense];

    /// The name the CLI, the index's reports and logs use: `lexical`, `dense`, `hybrid`.
    pub fn as_str(self) -> &'static str {
        match self {
            SearchMode::Lexical => "lexical",
            SearchMode::Dense => "dense",
            SearchMode::Hybrid => "hybrid",
        }
    }

    /// The name the site shows readers and puts in its links and API: `semantic` for
    /// the dense mode, which says more to a reader than the retrieval term. Both names
    /// parse.
    pub fn reader_name(self) -> &'static str {
        match self {
            SearchMode::Dense => "semantic",
            other => other.as_str(),
        }
    }
}

impl fmt::Display for SearchMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SearchMode {
    type Err = SearchModeError;

    /// Either surface's names and the usual synonyms, in any case.
    fn from_str(text: &str) -> Result<SearchMode, SearchModeError> {
        match text.to_ascii_lowercase().as_str() {
            "lexical" | "bm25" | "keyword" => Ok(SearchMode::Lexical),
            "dense" | "semantic" => Ok(SearchMode::Dense),
            "hybrid" => Ok(SearchMode::Hybrid),
            _ => Err(SearchModeError(text.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_parses_back_in_any_case() {
        for mode in SearchMode::ALL {
            assert_eq!(mode.as_str().parse(), Ok(mode));
            assert_eq!(mode.reader_name().parse(), Ok(mode));
            assert_eq!(mode.as_str().to_uppercase().parse(), Ok(mode));
            assert_eq!(mode.to_string(), mode.as_str());
        }
        assert_eq!("bm25".parse(), Ok(SearchMode::Lexical));
        assert_eq!("keyword".parse(), Ok(SearchMode::Lexical));
        assert_eq!(SearchMode::Dense.reader_name(), "semantic");
        assert_eq!(SearchMode::Hybrid.reader_name(), "hybrid");
    }

    #[test]
    fn unknown_names_are_refused() {
        assert_eq!(
            "".parse::<SearchMode>(),
            Err(SearchModeError(String::new()))
        );
        assert!("vector".parse::<SearchMode>().is_err());
    }
}
