//! The search box's query language, parsed without IO.
//!
//! Syntax: bare words, `"exact phrase"`, `author:hinton` (or `author:"geoffrey
//! hinton"`), `cat:cs.IR`, `after:2024-01-01` (inclusive) and `before:2024-02-01`
//! (exclusive; so the two together read as a half-open range, and `after:2024`
//! or `before:2024-06` name the first day of that year or month). An arXiv id or
//! URL pasted as the whole query names that paper. Anything the grammar does not
//! know, an unknown `field:` or a malformed value, is kept as words rather than
//! rejected: a search box should never answer with a syntax error.
//!
//! Several `cat:` filters match any of the categories; several `author:` filters
//! must all match.

use chrono::NaiveDate;
use papers_core::{ArxivId, Category, VersionedId};

/// A parsed query: what to match, what to filter on, or a paper to go to directly.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParsedQuery {
    pub terms: Vec<String>,
    pub phrases: Vec<String>,
    pub filters: Filters,
    /// Set when the whole query was an arXiv id or URL.
    pub direct: Option<ArxivId>,
}

/// Restrictions that apply to both the lexical and the dense search.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filters {
    pub categories: Vec<Category>,
    pub authors: Vec<String>,
    /// Published on or after this day.
    pub after: Option<NaiveDate>,
    /// Published before this day.
    pub before: Option<NaiveDate>,
    /// Only papers in this category (or, for an archive such as `cs`, its subjects),
    /// on top of the `cat:` filters: a surface's own category filter (the site's
    /// category box), which narrows what the query asks for where another `cat:`
    /// would widen it. The query syntax never sets it.
    pub within: Option<Category>,
}

impl Filters {
    pub fn is_empty(&self) -> bool {
        self.categories.is_empty()
            && self.authors.is_empty()
            && self.after.is_none()
            && self.before.is_none()
            && self.within.is_none()
    }
}

impl ParsedQuery {
    /// Parses user input. Never fails; see the module documentation.
    pub fn parse(input: &str) -> ParsedQuery {
        let trimmed = input.trim();
        if !trimmed.is_empty()
            && !trimmed.contains(char::is_whitespace)
            && let Ok(reference) = VersionedId::parse_reference(trimmed)
        {
            return ParsedQuery {
                direct: Some(reference.id),
                ..ParsedQuery::default()
            };
        }
        let mut query = ParsedQuery::default();
        for token in tokens(trimmed) {
            query.add(token);
        }
        query
    }

    /// Whether there is anything to match text against (as opposed to filters only).
    pub fn has_text(&self) -> bool {
        !self.terms.is_empty() || !self.phrases.is_empty()
    }

    /// The text to embed for the dense side: words and phrases, without the filters.
    pub fn embedding_text(&self) -> String {
        let mut parts: Vec<&str> = self.terms.iter().map(String::as_str).collect();
        parts.extend(self.phrases.iter().map(String::as_str));
        parts.join(" ")
    }

    fn add(&mut self, token: Token) {
        match token {
            Token::Phrase(text) => self.add_phrase(text),
            Token::Word(word) => self.terms.push(word),
            Token::Field {
                name,
                value,
                quoted,
            } => {
                if !self.add_filter(&name, &value) {
                    // Not a filter we know: the words still carry meaning.
                    let text = format!("{name}:{value}");
                    if quoted {
                        self.terms.push(format!("{name}:"));
                        self.add_phrase(value);
                    } else {
                        self.terms.push(text);
                    }
                }
            }
        }
    }

    fn add_phrase(&mut self, text: String) {
        let words: Vec<&str> = text.split_whitespace().collect();
        match words.len() {
            0 => {}
            // A one-word "phrase" is just a word; keeping it as a phrase would make it required.
            1 => self.terms.push(words[0].to_owned()),
            _ => self.phrases.push(words.join(" ")),
        }
    }

    fn add_filter(&mut self, name: &str, value: &str) -> bool {
        let value = value.trim();
        if value.is_empty() {
            return false;
        }
        match name.to_ascii_lowercase().as_str() {
            "author" | "au" => {
                self.filters.authors.push(value.to_owned());
                true
            }
            "cat" | "category" => match Category::parse(value) {
                Ok(category) => {
                    if !self.filters.categories.contains(&category) {
                        self.filters.categories.push(category);
                    }
                    true
                }
                Err(_) => false,
            },
            "after" => parse_day(value)
                .map(|day| self.filters.after = Some(day))
                .is_some(),
            "before" => parse_day(value)
                .map(|day| self.filters.before = Some(day))
                .is_some(),
            _ => false,
        }
    }
}

/// `2024-01-15`, `2024-01` (its first day) or `2024` (its first day).
fn parse_day(value: &str) -> Option<NaiveDate> {
    let mut parts = value.splitn(3, '-');
    let year: i32 = parts.next()?.parse().ok()?;
    let month: u32 = parts.next().map_or(Some(1), |m| m.parse().ok())?;
    let day: u32 = parts.next().map_or(Some(1), |d| d.parse().ok())?;
    if !(1000..=9999).contains(&year) {
        return None;
    }
    NaiveDate::from_ymd_opt(year, month, day)
}

#[derive(Debug, PartialEq)]
enum Token {
    Word(String),
    Phrase(String),
    Field {
        name: String,
        value: String,
        quoted: bool,
    },
}

/// Splits on whitespace, keeping `"…"` together (an unclosed quote runs to the end)
/// and `name:value` / `name:"…"` as one field token.
fn tokens(input: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut rest = input.trim_start();
    while !rest.is_empty() {
        if let Some(after_quote) = rest.strip_prefix('"') {
            let (inside, next) = until_quote(after_quote);
            out.push(Token::Phrase(inside.to_owned()));
            rest = next;
        } else {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            let word = &rest[..end];
            match word.split_once(':') {
                Some((name, value)) if is_field_name(name) => {
                    if let Some(after_quote) = rest[name.len() + 1..].strip_prefix('"') {
                        let (inside, next) = until_quote(after_quote);
                        out.push(Token::Field {
                            name: name.to_owned(),
                            value: inside.to_owned(),
                            quoted: true,
                        });
                        rest = next;
                        rest = rest.trim_start();
                        continue;
                    }
                    out.push(Token::Field {
                        name: name.to_owned(),
                        value: value.to_owned(),
                        quoted: false,
                    });
                }
                _ => out.push(Token::Word(word.to_owned())),
            }
            rest = &rest[end..];
        }
        rest = rest.trim_start();
    }
    out
}

/// Splits text after an opening quote into the quoted part and what follows the
/// closing quote (nothing, for an unclosed quote).
fn until_quote(text: &str) -> (&str, &str) {
    match text.find('"') {
        Some(end) => (&text[..end], &text[end + 1..]),
        None => (text, ""),
    }
}

fn is_field_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphabetic())
}

#[cfg(test)]
mod tests;
