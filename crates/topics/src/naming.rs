//! Naming topics by their most distinctive terms: class-based TF-IDF (as in
//! BERTopic) over titles and abstracts, with two-word phrases as terms.
//!
//! Each class (a topic among its siblings) is one document: a term's weight in
//! class c is `share(t, c) · ln(1 + A / f(t))`, where `share` is the fraction of
//! c's papers that contain t, with a paper whose title contains t counted
//! [`TITLE_WEIGHT`] more times, `f(t)` the number of papers of all classes that
//! contain t, and `A` the average class size. Counting papers rather than
//! occurrences keeps one long abstract from naming a topic; weighting titles
//! favours the words authors chose to name their papers by over the vocabulary
//! of abstracts ("results", "proposed", "setting"), which is what a reader
//! recognises a topic by. A term must occur in at least [`MIN_SUPPORT`] papers and
//! 2 % of the class, or typos and names of single papers would win.
//!
//! Words are folded to a singular form before counting (a minimal "S" stemmer:
//! "images" and "image" are one term, shown as the shorter spelling the class
//! uses), so one idea does not take two of a topic's few terms.
//!
//! Terms are hashed while counting (64-bit, collisions are negligible at this
//! vocabulary size) so that counting runs in parallel without a shared
//! vocabulary; the few winning hashes are turned back into text afterwards.
//! Splitting texts into words and phrases, and their keys, is [`crate::tokens`]'s.

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use crate::tokens::{PaperTerms, phrase_key, words};
#[cfg(test)]
use crate::tokens::{singular, word_key};

/// Terms kept per topic.
pub const TERMS: usize = 10;
/// A term occurs in at least this many of a class's papers.
pub const MIN_SUPPORT: usize = 3;
/// How many times more a paper counts for a term its title contains.
pub const TITLE_WEIGHT: f64 = 1.0;

/// The terms of one text: its kept words (see [`words`]) and every two-word phrase
/// of adjacent kept words, as written (lower case).
pub fn terms(text: &str, mut emit: impl FnMut(&str)) {
    let mut previous = String::new();
    let mut phrase = String::new();
    words(text, |word| {
        emit(word.text);
        if word.joins {
            phrase.clear();
            phrase.push_str(&previous);
            phrase.push(' ');
            phrase.push_str(word.text);
            emit(&phrase);
        }
        previous.clear();
        previous.push_str(word.text);
    });
}

/// Each term of `text` with its key and whether the title holds it.
fn keyed_terms(text: &str, mut emit: impl FnMut(u64, bool)) {
    let mut previous = 0;
    words(text, |word| {
        emit(word.key, word.in_title);
        if word.joins {
            emit(phrase_key(previous, word.key), word.in_title);
        }
        previous = word.key;
    });
}

/// How many of a class's papers hold a term, and how many of their titles do.
#[derive(Debug, Clone, Copy, Default)]
pub struct Count {
    papers: u32,
    titles: u32,
}

/// A class's term counts: for each term key, how many of its papers hold it.
pub type Counts = FxHashMap<u64, Count>;

/// The texts naming reads, by the indices its classes list: a slice of strings, or
/// the build's [`crate::Corpus`], which may fetch them a page at a time rather
/// than hold a million of them.
pub trait TextSource: Sync {
    /// Calls `each` with the text of each of `rows` in order, until it answers false.
    fn each_text(&self, rows: &[usize], each: &mut dyn FnMut(&str) -> bool);
}

impl TextSource for [String] {
    fn each_text(&self, rows: &[usize], each: &mut dyn FnMut(&str) -> bool) {
        for &row in rows {
            if !each(&self[row]) {
                return;
            }
        }
    }
}

impl TextSource for Vec<String> {
    fn each_text(&self, rows: &[usize], each: &mut dyn FnMut(&str) -> bool) {
        self.as_slice().each_text(rows, each);
    }
}

/// The term counts of the papers `members` (indices into `texts`): each paper is
/// tokenised once and counts once per distinct term.
pub fn count_terms<T: TextSource + ?Sized>(texts: &T, members: &[usize]) -> Counts {
    let mut counts = Counts::default();
    let mut seen = PaperTerms::default();
    texts.each_text(members, &mut |text| {
        seen.start(text.len());
        // A paper counts once per term, at its first occurrence: the title comes
        // first, so that occurrence is in the title if any is.
        keyed_terms(text, |key, in_title| {
            if seen.first(key) {
                let count = counts.entry(key).or_default();
                count.papers += 1;
                count.titles += u32::from(in_title);
            }
        });
        true
    });
    counts
}

/// The counts of the union of disjoint classes: a parent topic's from its
/// subtopics', without reading its papers again.
pub fn merge_counts(parts: Vec<Counts>) -> Counts {
    let mut parts = parts;
    // Into the largest table: the fewest entries move.
    let Some(largest) = (0..parts.len()).max_by_key(|&i| parts[i].len()) else {
        return Counts::default();
    };
    let mut merged = parts.swap_remove(largest);
    for part in parts {
        for (key, count) in part {
            let into = merged.entry(key).or_default();
            into.papers += count.papers;
            into.titles += count.titles;
        }
    }
    merged
}

/// The top [`TERMS`] terms of each class. `classes[c]` lists the indices (into
/// `texts`) of class c's papers; the classes are compared with each other only, so
/// siblings are named by what sets them apart.
pub fn name_classes<T: TextSource + ?Sized>(texts: &T, classes: &[Vec<usize>]) -> Vec<Vec<String>> {
    let counts: Vec<Counts> = classes
        .par_iter()
        .map(|members| count_terms(texts, members))
        .collect();
    name_counted(texts, classes, &counts)
}

/// [`name_classes`] with each class's term counts already made (`counts[c]` from
/// class c's papers, by [`count_terms`] or [`merge_counts`]).
pub fn name_counted<T: TextSource + ?Sized>(
    texts: &T,
    classes: &[Vec<usize>],
    counts: &[Counts],
) -> Vec<Vec<String>> {
    // Each class's candidates: terms common enough in it to name it.
    let candidates: Vec<Vec<(u64, Count)>> = classes
        .par_iter()
        .zip(counts)
        .map(|(members, counts)| {
            let floor = MIN_SUPPORT.max(members.len() / 50) as u32;
            counts
                .iter()
                .filter(|(_, count)| count.papers >= floor)
                .map(|(&term, &count)| (term, count))
                .collect()
        })
        .collect();
    // How many papers of all classes hold each candidate: only candidates need it.
    let mut totals: FxHashMap<u64, u32> =
        candidates.iter().flatten().map(|(t, _)| (*t, 0)).collect();
    let per_class: Vec<Vec<(u64, u32)>> = counts
        .par_iter()
        .map(|counts| {
            totals
                .keys()
                .filter_map(|term| counts.get(term).map(|count| (*term, count.papers)))
                .collect()
        })
        .collect();
    for (term, papers) in per_class.into_iter().flatten() {
        if let Some(total) = totals.get_mut(&term) {
            *total += papers;
        }
    }
    let average = classes.iter().map(Vec::len).sum::<usize>() as f64 / classes.len().max(1) as f64;
    classes
        .par_iter()
        .zip(&candidates)
        .map(|(members, candidates)| {
            let size = members.len().max(1) as f64;
            let mut scored: Vec<(f64, u64)> = candidates
                .iter()
                .map(|&(term, count)| {
                    let weighted = f64::from(count.papers) + TITLE_WEIGHT * f64::from(count.titles);
                    let share = weighted / ((1.0 + TITLE_WEIGHT) * size);
                    let spread =
                        f64::from(totals.get(&term).copied().unwrap_or(count.papers).max(1));
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
            let wanted: FxHashMap<u64, usize> = scored
                .iter()
                .enumerate()
                .map(|(rank, (_, term))| (*term, rank))
                .collect();
            let texts_of = spell(texts, members, &wanted);
            pick(&scored, &texts_of)
        })
        .collect()
}

/// Papers [`spell`] reads at least (when the class has them), so that the spelling
/// shown is the class's usual one, not the first paper's.
const SPELLING_PAPERS: usize = 50;

/// The text of each wanted key, found by reading the class's papers again: of the
/// spellings seen, the shortest (the singular, usually), then the first in
/// alphabetical order.
fn spell<T: TextSource + ?Sized>(
    texts: &T,
    members: &[usize],
    wanted: &FxHashMap<u64, usize>,
) -> FxHashMap<u64, String> {
    let mut found: FxHashMap<u64, String> = FxHashMap::default();
    let mut read = 0;
    texts.each_text(members, &mut |text| {
        if found.len() == wanted.len() && read >= SPELLING_PAPERS {
            return false;
        }
        read += 1;
        // The previous word's text and key: its phrase with this word is spelled
        // only when wanted.
        let mut previous = String::new();
        let mut previous_key = 0;
        words(text, |word| {
            let mut offer = |key: u64, text: &str| match found.get_mut(&key) {
                Some(known) => {
                    if (text.len(), text) < (known.len(), known.as_str()) {
                        text.clone_into(known);
                    }
                }
                None => {
                    found.insert(key, text.to_owned());
                }
            };
            if wanted.contains_key(&word.key) {
                offer(word.key, word.text);
            }
            if word.joins {
                let key = phrase_key(previous_key, word.key);
                if wanted.contains_key(&key) {
                    offer(key, &format!("{previous} {}", word.text));
                }
            }
            previous.clear();
            previous.push_str(word.text);
            previous_key = word.key;
        });
        true
    });
    found
}

/// The best terms in order, without a word that a chosen phrase already says, nor a
/// phrase whose words are both chosen already.
fn pick(scored: &[(f64, u64)], spelled: &FxHashMap<u64, String>) -> Vec<String> {
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
        let classes = vec![(0..10).collect::<Vec<_>>(), (10..20).collect()];
        let names = name_classes(&texts, &classes);
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

    #[test]
    fn merged_counts_are_the_counts_of_the_union() {
        let texts: Vec<String> = (0..30)
            .map(|i| {
                format!(
                    "Graph networks {}\nGraph networks of graphs, case {i}",
                    i % 4
                )
            })
            .collect();
        let whole = count_terms(&texts, &(0..30).collect::<Vec<_>>());
        let merged = merge_counts(vec![
            count_terms(&texts, &(0..7).collect::<Vec<_>>()),
            count_terms(&texts, &(7..30).collect::<Vec<_>>()),
        ]);
        assert_eq!(whole.len(), merged.len());
        for (key, count) in &whole {
            let other = merged[key];
            assert_eq!((count.papers, count.titles), (other.papers, other.titles));
        }
        // "graph" counts once per paper, in every title.
        let graph = whole[&word_key("graph")];
        assert_eq!((graph.papers, graph.titles), (30, 30));
    }

    #[test]
    fn plurals_fold_into_one_term_shown_in_its_shorter_spelling() {
        assert_eq!(singular("images"), "image");
        assert_eq!(singular("policies"), "policy");
        assert_eq!(singular("networks"), "network");
        for kept in ["process", "corpus", "gas"] {
            assert_eq!(singular(kept), kept);
        }
        let texts: Vec<String> = (0..10)
            .map(|i| {
                let noun = if i % 2 == 0 { "images" } else { "image" };
                format!("Medical {noun} {i}\nSegmentation of scans")
            })
            .chain((0..10).map(|i| format!("Parsing sentences {i}\nA parser for grammars")))
            .collect();
        let names = name_classes(&texts, &[(0..10).collect(), (10..20).collect()]);
        assert!(
            names[0].contains(&"medical image".to_owned()),
            "{:?}",
            names[0]
        );
        assert!(
            !names[0].iter().any(|t| t.contains("images")),
            "{:?}",
            names[0]
        );
    }

    #[test]
    fn a_title_ends_at_its_line_and_weighs_more() {
        // No phrase across the line break between title and abstract.
        assert_eq!(all_terms("Graphs\nNetworks"), ["graphs", "networks"]);
        // A phrase in 8 titles of 10 outranks one in all 10 abstracts.
        let texts: Vec<String> = (0..10)
            .map(|i| {
                let title = if i < 8 {
                    "Quantum annealing"
                } else {
                    "Spin glass"
                };
                format!("{title} {i}\nWe study tensor networks, case {i}")
            })
            .chain((0..10).map(|i| format!("Protein folding {i}\nWe study docking, case {i}")))
            .collect();
        let names = name_classes(&texts, &[(0..10).collect(), (10..20).collect()]);
        let rank = |term: &str| names[0].iter().position(|t| t == term);
        match (rank("quantum annealing"), rank("tensor networks")) {
            (Some(title), Some(abstract_only)) => assert!(title < abstract_only, "{:?}", names[0]),
            _ => panic!("both terms expected: {:?}", names[0]),
        }
    }
}
