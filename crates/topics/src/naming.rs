//! Naming topics by their most distinctive terms: class-based TF-IDF (as in
//! BERTopic) over titles and abstracts, with two-word phrases as terms.
//!
//! Each class (a topic among its siblings) is one document: a term's weight in
//! class c is `share(t, c) · ln(1 + A / f(t))`, where `share` is the fraction of
//! c's papers that contain t, `f(t)` the number of papers of all classes that do,
//! and `A` the average class size. Counting papers rather than occurrences keeps
//! one long abstract from naming a topic. A term must occur in at least
//! [`MIN_SUPPORT`] papers and 2 % of the class, or typos and names of single
//! papers would win.
//!
//! Terms are hashed while counting (64-bit, collisions are negligible at this
//! vocabulary size) so that counting runs in parallel without a shared
//! vocabulary; the few winning hashes are turned back into text afterwards.

use std::collections::{HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};

use rayon::prelude::*;

/// Terms kept per topic.
pub const TERMS: usize = 10;
/// A term occurs in at least this many of a class's papers.
pub const MIN_SUPPORT: usize = 3;

/// Words that say nothing about a topic: English function words and the
/// boilerplate of abstracts.
const STOPWORDS: &[&str] = &[
    "a",
    "about",
    "above",
    "across",
    "after",
    "again",
    "against",
    "all",
    "almost",
    "along",
    "also",
    "although",
    "among",
    "an",
    "and",
    "another",
    "any",
    "are",
    "around",
    "as",
    "at",
    "based",
    "be",
    "because",
    "been",
    "before",
    "being",
    "below",
    "better",
    "between",
    "both",
    "but",
    "by",
    "can",
    "cannot",
    "could",
    "demonstrate",
    "demonstrates",
    "describe",
    "describes",
    "different",
    "do",
    "does",
    "done",
    "due",
    "during",
    "each",
    "effective",
    "either",
    "et",
    "etc",
    "even",
    "existing",
    "experiments",
    "experimental",
    "first",
    "for",
    "found",
    "from",
    "further",
    "furthermore",
    "general",
    "given",
    "good",
    "has",
    "have",
    "having",
    "he",
    "her",
    "here",
    "high",
    "how",
    "however",
    "i",
    "ie",
    "if",
    "important",
    "in",
    "including",
    "into",
    "is",
    "it",
    "its",
    "itself",
    "just",
    "large",
    "less",
    "like",
    "made",
    "main",
    "make",
    "makes",
    "many",
    "may",
    "more",
    "moreover",
    "most",
    "much",
    "must",
    "new",
    "no",
    "nor",
    "not",
    "novel",
    "number",
    "of",
    "often",
    "on",
    "one",
    "only",
    "or",
    "other",
    "others",
    "our",
    "ours",
    "out",
    "over",
    "paper",
    "particular",
    "per",
    "performance",
    "possible",
    "present",
    "presents",
    "problem",
    "problems",
    "propose",
    "proposed",
    "proposes",
    "provide",
    "provides",
    "recent",
    "recently",
    "related",
    "result",
    "results",
    "same",
    "several",
    "she",
    "should",
    "show",
    "shown",
    "shows",
    "significant",
    "significantly",
    "since",
    "so",
    "some",
    "state",
    "such",
    "than",
    "that",
    "the",
    "their",
    "them",
    "then",
    "there",
    "therefore",
    "these",
    "they",
    "this",
    "those",
    "three",
    "through",
    "thus",
    "to",
    "two",
    "under",
    "up",
    "upon",
    "us",
    "use",
    "used",
    "uses",
    "using",
    "various",
    "very",
    "via",
    "was",
    "way",
    "we",
    "well",
    "were",
    "what",
    "when",
    "where",
    "whether",
    "which",
    "while",
    "who",
    "whose",
    "why",
    "will",
    "with",
    "within",
    "without",
    "work",
    "works",
    "would",
    "yet",
    "you",
    "approach",
    "approaches",
    "method",
    "methods",
    "study",
    "studies",
    "able",
    "address",
    "achieve",
    "achieves",
    "applied",
    "apply",
    "art",
    "case",
    "cases",
    "compared",
    "consider",
    "considered",
    "data",
    "develop",
    "developed",
    "evaluate",
    "evaluated",
    "evaluation",
    "framework",
    "introduce",
    "introduces",
    "investigate",
    "known",
    "level",
    "lot",
    "obtained",
    "order",
    "outperforms",
    "point",
    "previous",
    "real",
    "set",
    "simple",
    "specific",
    "task",
    "tasks",
    "terms",
    "time",
    "type",
    "types",
    "via",
    "widely",
];

/// The terms of one text: its words (letters, digits and inner hyphens, at least two
/// letters, not stop words) and every two-word phrase of adjacent kept words that no
/// punctuation separates.
pub fn terms(text: &str, mut emit: impl FnMut(&str)) {
    let stop: &HashSet<&str> = stopwords();
    let lower = text.to_lowercase();
    let mut previous: Option<&str> = None;
    let mut phrase = String::new();
    let mut start = None;
    let mut broken = false;
    let bytes = lower.as_bytes();
    let mut i = 0;
    while i <= bytes.len() {
        let c = lower[i..].chars().next();
        let word_char = c.is_some_and(|c| c.is_alphanumeric());
        if word_char {
            if start.is_none() {
                start = Some(i);
            }
        } else if let Some(from) = start.take() {
            let word = &lower[from..i];
            let letters = word.chars().filter(|c| c.is_alphabetic()).count();
            if letters >= 2 && !stop.contains(word) {
                emit(word);
                if let Some(before) = previous.filter(|_| !broken) {
                    phrase.clear();
                    phrase.push_str(before);
                    phrase.push(' ');
                    phrase.push_str(word);
                    emit(&phrase);
                }
                previous = Some(word);
            } else {
                previous = None;
            }
            broken = false;
        }
        if let Some(c) = c
            && !word_char
            && !c.is_whitespace()
            && c != '-'
        {
            // Punctuation ends a phrase; a hyphen or a space does not.
            broken = true;
        }
        i += c.map_or(1, char::len_utf8);
    }
}

fn stopwords() -> &'static HashSet<&'static str> {
    static WORDS: std::sync::OnceLock<HashSet<&'static str>> = std::sync::OnceLock::new();
    WORDS.get_or_init(|| STOPWORDS.iter().copied().collect())
}

/// A term's hash, its lowest bit set for a phrase: ties in score go to phrases,
/// which say more than their words.
fn hash(term: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    term.hash(&mut hasher);
    (hasher.finish() & !1) | u64::from(term.contains(' '))
}

/// Each text's distinct term hashes, sorted: computed once, shared by both levels.
pub fn term_sets(texts: &[String]) -> Vec<Vec<u64>> {
    texts
        .par_iter()
        .map(|text| {
            let mut set = Vec::new();
            terms(text, |term| set.push(hash(term)));
            set.sort_unstable();
            set.dedup();
            set
        })
        .collect()
}

/// The top [`TERMS`] terms of each class. `classes[c]` lists the indices (into
/// `texts` and `sets`) of class c's papers; the classes are compared with each other
/// only, so siblings are named by what sets them apart.
pub fn name_classes(
    texts: &[String],
    sets: &[Vec<u64>],
    classes: &[Vec<usize>],
) -> Vec<Vec<String>> {
    let counts: Vec<HashMap<u64, u32>> = classes
        .par_iter()
        .map(|members| {
            let mut counts = HashMap::new();
            for &paper in members {
                for &term in &sets[paper] {
                    *counts.entry(term).or_insert(0) += 1;
                }
            }
            counts
        })
        .collect();
    let mut totals: HashMap<u64, u32> = HashMap::new();
    for class in &counts {
        for (&term, &count) in class {
            *totals.entry(term).or_insert(0) += count;
        }
    }
    let average = classes.iter().map(Vec::len).sum::<usize>() as f64 / classes.len().max(1) as f64;
    classes
        .par_iter()
        .zip(&counts)
        .map(|(members, counts)| {
            let floor = MIN_SUPPORT.max(members.len() / 50) as u32;
            let mut scored: Vec<(f64, u64)> = counts
                .iter()
                .filter(|(_, count)| **count >= floor)
                .map(|(&term, &count)| {
                    let share = f64::from(count) / members.len() as f64;
                    let spread = f64::from(totals[&term]);
                    (share * (1.0 + average / spread).ln(), term)
                })
                .collect();
            scored.sort_by(|a, b| {
                b.0.total_cmp(&a.0)
                    .then((b.1 & 1).cmp(&(a.1 & 1)))
                    .then(a.1.cmp(&b.1))
            });
            // More candidates than kept: some are dropped as parts of chosen phrases.
            scored.truncate(TERMS * 3);
            let wanted: HashMap<u64, usize> = scored
                .iter()
                .enumerate()
                .map(|(rank, (_, term))| (*term, rank))
                .collect();
            let texts_of = spell(texts, members, &wanted);
            pick(&scored, &texts_of)
        })
        .collect()
}

/// The text of each wanted hash, found by reading the class's papers again.
fn spell(
    texts: &[String],
    members: &[usize],
    wanted: &HashMap<u64, usize>,
) -> HashMap<u64, String> {
    let mut found = HashMap::new();
    for &paper in members {
        if found.len() == wanted.len() {
            break;
        }
        terms(&texts[paper], |term| {
            let hashed = hash(term);
            if wanted.contains_key(&hashed) && !found.contains_key(&hashed) {
                found.insert(hashed, term.to_owned());
            }
        });
    }
    found
}

/// The best terms in order, without a word that a chosen phrase already says, nor a
/// phrase whose words are both chosen already.
fn pick(scored: &[(f64, u64)], spelled: &HashMap<u64, String>) -> Vec<String> {
    let mut chosen: Vec<String> = Vec::new();
    for (_, term) in scored {
        let Some(text) = spelled.get(term) else {
            continue;
        };
        let covered = |word: &str| {
            chosen
                .iter()
                .any(|c| c.split(' ').any(|chosen_word| chosen_word == word))
        };
        let redundant = if text.contains(' ') {
            text.split(' ').all(covered)
        } else {
            covered(text)
        };
        if !redundant {
            // A phrase makes the single words it contains redundant.
            if text.contains(' ') {
                let words: Vec<&str> = text.split(' ').collect();
                chosen.retain(|c| c.contains(' ') || !words.contains(&c.as_str()));
            }
            chosen.push(text.clone());
        }
        if chosen.len() == TERMS {
            break;
        }
    }
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_terms(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        terms(text, |t| out.push(t.to_owned()));
        out
    }

    #[test]
    fn words_and_phrases_skip_stop_words_and_punctuation() {
        assert_eq!(
            all_terms("We propose Neural Machine Translation. Speech, recognition"),
            [
                "neural",
                "machine",
                "neural machine",
                "translation",
                "machine translation",
                "speech",
                "recognition"
            ]
        );
        // Hyphens join, numbers alone are no terms, a stop word breaks a phrase.
        assert_eq!(
            all_terms("self-attention of 2020 graphs"),
            ["self", "attention", "self attention", "graphs"]
        );
    }

    #[test]
    fn distinctive_terms_name_each_class() {
        let texts: Vec<String> = (0..10)
            .map(|i| format!("Graph neural networks for molecules, paper {i}"))
            .chain((0..10).map(|i| format!("Speech recognition with transformers, case {i}")))
            .collect();
        let sets = term_sets(&texts);
        let classes = vec![(0..10).collect::<Vec<_>>(), (10..20).collect()];
        let names = name_classes(&texts, &sets, &classes);
        assert!(
            names[0].contains(&"graph neural".to_owned()),
            "{:?}",
            names[0]
        );
        assert!(
            names[1].contains(&"speech recognition".to_owned()),
            "{:?}",
            names[1]
        );
        assert!(!names[0].iter().any(|t| t.contains("speech")));
        // "graph" alone is said by the phrase.
        assert!(!names[0].contains(&"graph".to_owned()), "{:?}", names[0]);
    }
}
