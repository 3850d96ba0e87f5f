//! Snippets of an abstract with the query's words marked, in the two forms the
//! surfaces need: HTML for the web and plain text with ranges for the terminal.

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

    /// HTML with every highlight in `<mark>`; the text is escaped.
    pub fn to_html(&self) -> String {
        let mut html = String::with_capacity(self.text.len() + 16 * self.highlights.len());
        let mut at = 0;
        for range in &self.highlights {
            escape_into(&mut html, &self.text[at..range.start]);
            html.push_str("<mark>");
            escape_into(&mut html, &self.text[range.clone()]);
            html.push_str("</mark>");
            at = range.end;
        }
        escape_into(&mut html, &self.text[at..]);
        html
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

fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escapes_and_marks() {
        let snippet = Snippet {
            text: "a <b> & dense retrieval".to_owned(),
            highlights: vec![8..13, 14..23],
        };
        assert_eq!(
            snippet.to_html(),
            "a &lt;b&gt; &amp; <mark>dense</mark> <mark>retrieval</mark>"
        );
    }

    #[test]
    fn leading_cuts_at_words() {
        assert_eq!(leading("one  two\nthree", 9), "one two…");
        assert_eq!(leading("short", 50), "short");
    }
}
