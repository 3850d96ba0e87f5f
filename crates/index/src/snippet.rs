//! Snippets of an abstract with the query's words marked: plain text and the byte
//! ranges to mark, which each surface marks its own way (the site escapes the text
//! and wraps the ranges in `<mark>`, the terminal makes them bold or bracketed).

use std::ops::Range;

/// Longest snippet, in characters: about two lines of a results page.
pub(crate) const MAX_CHARS: usize = 220;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Snippet {
    /// Plain text of the fragment.
    pub text: String,
    /// Byte ranges of `text` to highlight, ascending and disjoint.
    pub highlights: Vec<Range<usize>>,
}

impl Snippet {
    /// From tantivy's snippet, or the abstract's beginning when nothing matched
    /// (dense-only hits, filter-only queries).
    pub(crate) fn new(
        abstract_text: &str,
        highlighted: Option<tantivy::snippet::Snippet>,
    ) -> Snippet {
        match highlighted {
            Some(s) if !s.highlighted().is_empty() => Snippet {
                text: s.fragment().to_owned(),
                highlights: s.highlighted().to_vec(),
            },
            _ => Snippet {
                text: leading(abstract_text, MAX_CHARS),
                highlights: Vec::new(),
            },
        }
    }
}

/// The first `max_chars` characters, cut at a word boundary, whitespace collapsed.
fn leading(text: &str, max_chars: usize) -> String {
    let mut out = String::new();
    for word in text.split_whitespace() {
        if out.chars().count() + word.chars().count() + 1 > max_chars {
            out.push('…');
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leading_cuts_at_words() {
        assert_eq!(leading("one  two\nthree", 9), "one two…");
        assert_eq!(leading("short", 50), "short");
    }
}
