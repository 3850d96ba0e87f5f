//! Splitting a paper's title and abstract into the words and phrases that name
//! topics ([`crate::naming`] counts them), at the speed of a byte scan: this runs
//! over every title and abstract of every build and was most of its time.
//!
//! What makes it fast, each without changing a single term or key (a differential
//! run over the 76,803 texts of the 2020 set against the char-by-char tokeniser
//! this replaced gave the same words, keys, title flags and phrase joins):
//! * ASCII bytes (nearly all of arXiv's text) are classified by a table a run at a
//!   time; a lower-case run (most words) is read in place, not copied; only a
//!   non-ASCII byte decodes a `char` (and takes Unicode's rules for letters, digits
//!   and spaces).
//! * A word is hashed once: the same hash finds it among the stop words (an
//!   open-addressing table, behind a filter on length, first and last letter that
//!   most words fail) and, unless a plural ending is folded off, is its key.
//! * Counting wants each term once per paper: [`PaperTerms`] answers "seen in this
//!   paper yet?" from a small table reset per paper by a stamp, instead of a sort
//!   of the paper's terms.

use std::hash::Hasher;

use rustc_hash::FxHasher;

/// Words that say nothing about a topic: English function words and the
/// boilerplate of abstracts.
pub(crate) const STOPWORDS: &[&str] = &[
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

/// One kept word of a text, as [`words`] reports it.
pub(crate) struct Word<'a> {
    /// Lower case, as written.
    pub text: &'a str,
    /// The hash of its singular form ([`word_key`]).
    pub key: u64,
    /// Whether it is in the title (the text's first line).
    pub in_title: bool,
    /// Whether the kept word before it is adjacent: no stop word, punctuation or
    /// line break between them, so the two form a phrase.
    pub joins: bool,
}

/// What [`words`] needs to know of a byte, as bit flags (none: punctuation, which
/// ends a word and a phrase).
mod flag {
    /// Part of a word: an ASCII letter or digit.
    pub const WORD: u8 = 1;
    pub const LETTER: u8 = 2;
    pub const UPPER: u8 = 4;
    /// Ends a word, not a phrase: white space other than a line break, a hyphen.
    pub const SPACE: u8 = 8;
    /// Ends a word, the title if it is still running, and is otherwise a space.
    pub const NEWLINE: u8 = 16;
    /// Starts a non-ASCII `char`: decoded and judged by Unicode's rules.
    pub const UNICODE: u8 = 32;
}

/// The flags of each byte (`char::is_whitespace`'s ASCII members are 9 to 13 and 32).
const FLAGS: [u8; 256] = {
    let mut table = [0; 256];
    let mut byte = 0;
    while byte < 256 {
        table[byte] = match byte as u8 {
            b'\n' => flag::NEWLINE,
            9..=13 | b' ' | b'-' => flag::SPACE,
            b'0'..=b'9' => flag::WORD,
            b'a'..=b'z' => flag::WORD | flag::LETTER,
            b'A'..=b'Z' => flag::WORD | flag::LETTER | flag::UPPER,
            0x80..=0xff => flag::UNICODE,
            _ => 0,
        };
        byte += 1;
    }
    table
};

/// The word being read.
struct Pending {
    /// While the word is one run of lower-case ASCII (most words are), it is read
    /// in place: `text[start..end]`, nothing copied.
    start: usize,
    end: usize,
    /// Otherwise (capitals, non-ASCII) its lower-case text, with `start == end`.
    owned: String,
    letters: usize,
}

impl Pending {
    fn is_empty(&self) -> bool {
        self.start == self.end && self.owned.is_empty()
    }

    /// Appends `text[start..end]`, an ASCII run holding capitals if `upper`.
    fn push_run(&mut self, text: &str, start: usize, end: usize, upper: bool) {
        if !upper && self.is_empty() {
            (self.start, self.end) = (start, end);
            return;
        }
        self.make_owned(text);
        let from = self.owned.len();
        self.owned.push_str(&text[start..end]);
        self.owned[from..].make_ascii_lowercase();
    }

    /// Moves a word read in place into `owned`, to be appended to.
    fn make_owned(&mut self, text: &str) {
        if self.start != self.end {
            self.owned.push_str(&text[self.start..self.end]);
            self.end = self.start;
        }
    }

    fn text<'t>(&'t self, text: &'t str) -> &'t str {
        if self.start != self.end {
            &text[self.start..self.end]
        } else {
            &self.owned
        }
    }

    fn clear(&mut self) {
        self.end = self.start;
        self.owned.clear();
        self.letters = 0;
    }
}

/// Calls `each` with every kept word of `text`: letters, digits and inner
/// hyphens split into words, at least two letters, not a stop word. The first
/// line is the title.
pub(crate) fn words(text: &str, mut each: impl FnMut(&Word)) {
    let stop = stop_table();
    let bytes = text.as_bytes();
    let mut word = Pending {
        start: 0,
        end: 0,
        owned: String::new(),
        letters: 0,
    };
    let mut in_title = true;
    let mut joins = false;
    let mut at = 0;
    while at < bytes.len() {
        let flags = FLAGS[usize::from(bytes[at])];
        if flags & flag::WORD != 0 {
            // The whole ASCII run at once.
            let start = at;
            let (mut letters, mut upper) = (0, 0);
            while let Some(&byte) = bytes.get(at) {
                let flags = FLAGS[usize::from(byte)];
                if flags & flag::WORD == 0 {
                    break;
                }
                letters += usize::from(flags & flag::LETTER != 0);
                upper |= flags;
                at += 1;
            }
            word.push_run(text, start, at, upper & flag::UPPER != 0);
            word.letters += letters;
            continue;
        }
        if flags & flag::UNICODE != 0 {
            let Some(c) = text[at..].chars().next() else {
                break;
            };
            at += c.len_utf8();
            if c.is_alphanumeric() {
                word.make_owned(text);
                word.owned.extend(c.to_lowercase());
                word.letters += usize::from(c.is_alphabetic());
                continue;
            }
            end_word(text, &mut word, stop, &mut joins, in_title, &mut each);
            if !c.is_whitespace() {
                joins = false;
            }
            continue;
        }
        at += 1;
        end_word(text, &mut word, stop, &mut joins, in_title, &mut each);
        if flags & flag::NEWLINE != 0 && in_title {
            // The title ends; a phrase does not run on into the abstract.
            in_title = false;
            joins = false;
        } else if flags & (flag::SPACE | flag::NEWLINE) == 0 {
            joins = false;
        }
    }
    end_word(text, &mut word, stop, &mut joins, in_title, &mut each);
}

/// Reports the word read so far (if it is kept) and starts the next.
#[inline]
fn end_word(
    text: &str,
    word: &mut Pending,
    stop: &StopTable,
    joins: &mut bool,
    in_title: bool,
    each: &mut impl FnMut(&Word),
) {
    if word.is_empty() {
        return;
    }
    let read = word.text(text);
    let key = if word.letters >= 2 {
        let bytes = read.as_bytes();
        let hash = fx_hash(bytes);
        let mixed = mix(hash);
        if stop.contains(bytes, hash, mixed) {
            None
        } else {
            Some(key_of(bytes, mixed))
        }
    } else {
        None
    };
    match key {
        Some(key) => {
            each(&Word {
                text: read,
                key,
                in_title,
                joins: *joins,
            });
            *joins = true;
        }
        None => *joins = false,
    }
    word.clear();
}

/// FxHash of `bytes`, as `word_key` has always hashed a word.
#[inline]
fn fx_hash(bytes: &[u8]) -> u64 {
    let mut hasher = FxHasher::default();
    hasher.write(bytes);
    hasher.finish()
}

/// The key of `word` (lower case), whose own FxHash mixed is `mixed`: [`word_key`],
/// with that hash reused when no plural ending is folded off.
#[inline]
fn key_of(word: &[u8], mixed: u64) -> u64 {
    let n = word.len();
    let mixed = match plural_ending(word) {
        Ending::None => mixed,
        Ending::S => mix(fx_hash(&word[..n - 1])),
        Ending::Ies => {
            // "-ies" to "-y", on the stack for all but freak lengths.
            let mut stem = [0; 64];
            match stem.get_mut(..n - 2) {
                Some(stem) => {
                    stem.copy_from_slice(&word[..n - 2]);
                    stem[n - 3] = b'y';
                    mix(fx_hash(stem))
                }
                None => {
                    let mut stem = word[..n - 2].to_vec();
                    stem[n - 3] = b'y';
                    mix(fx_hash(&stem))
                }
            }
        }
    };
    mixed & !1
}

/// Which plural ending Harman's "S" stemmer folds off a word.
enum Ending {
    None,
    /// A final "s" dropped.
    S,
    /// "-ies" to "-y".
    Ies,
}

/// Harman's "S" stemmer: "-ies" to "-y" (but not "-eies", "-aies"), otherwise a
/// final "s" dropped (but not after "u" or "s"), in words of four bytes or more.
#[inline]
fn plural_ending(word: &[u8]) -> Ending {
    if word.len() < 4 || !word.ends_with(b"s") || word.ends_with(b"us") || word.ends_with(b"ss") {
        Ending::None
    } else if word.ends_with(b"ies") && !word.ends_with(b"eies") && !word.ends_with(b"aies") {
        Ending::Ies
    } else {
        Ending::S
    }
}

/// `word` without a plural ending ([`plural_ending`]). It may leave a stem that is
/// not a word ("analysi"); stems are only compared, never shown. (The definition
/// that [`key_of`] computes without building the stem; tests hold the two equal.)
#[cfg(test)]
pub(crate) fn singular(word: &str) -> std::borrow::Cow<'_, str> {
    let n = word.len();
    match plural_ending(word.as_bytes()) {
        Ending::None => word.into(),
        Ending::S => word[..n - 1].into(),
        Ending::Ies => format!("{}y", &word[..n - 3]).into(),
    }
}

/// A word's key: the hash of its singular form, lowest bit clear. (Ties in score go
/// to phrases, whose keys have it set: they say more than their words.) [`key_of`]
/// computes it while reading; this is its definition, for tests.
#[cfg(test)]
pub(crate) fn word_key(word: &str) -> u64 {
    // FxHash leaves the low bits of short inputs weak; spread them.
    mix(fx_hash(singular(word).as_bytes())) & !1
}

/// A phrase's key from its words' keys, lowest bit set.
pub(crate) fn phrase_key(first: u64, second: u64) -> u64 {
    mix(first.rotate_left(23) ^ second.wrapping_mul(0x9e37_79b9_7f4a_7c15)) | 1
}

/// A 64-bit finaliser (from SplitMix64).
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Slots of the stop-word table: a power of two, under half full.
const STOP_SLOTS: usize = 1024;

/// The stop words by their FxHash: open addressing, each slot an index into
/// [`STOPWORDS`] (`u16::MAX`: empty), probed from the hash's mixed low bits.
struct StopTable {
    slots: [u16; STOP_SLOTS],
    hashes: [u64; STOP_SLOTS],
    /// A first filter, so most words skip the table: `shapes[length][first letter]`
    /// has bit `last letter` set when some stop word has that length, first and
    /// last letter (all stop words are lower-case ASCII, at most 15 letters).
    shapes: [[u32; 26]; 16],
}

fn stop_table() -> &'static StopTable {
    static TABLE: std::sync::OnceLock<StopTable> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table = StopTable {
            slots: [u16::MAX; STOP_SLOTS],
            hashes: [0; STOP_SLOTS],
            shapes: [[0; 26]; 16],
        };
        for (index, word) in STOPWORDS.iter().enumerate() {
            let bytes = word.as_bytes();
            let hash = fx_hash(bytes);
            let (first, last) = (bytes[0], bytes[bytes.len() - 1]);
            assert!(
                bytes.len() < 16 && first.is_ascii_lowercase() && last.is_ascii_lowercase(),
                "stop word {word} outside the shape filter"
            );
            table.shapes[bytes.len()][usize::from(first - b'a')] |= 1 << (last - b'a');
            if table.probe(bytes, hash, mix(hash)) {
                continue; // listed twice
            }
            let mut slot = mix(hash) as usize % STOP_SLOTS;
            while table.slots[slot] != u16::MAX {
                slot = (slot + 1) % STOP_SLOTS;
            }
            table.slots[slot] = index as u16;
            table.hashes[slot] = hash;
        }
        table
    })
}

impl StopTable {
    /// Whether `word` (lower case, FxHash `hash`, mixed `mixed`) is a stop word.
    #[inline]
    fn contains(&self, word: &[u8], hash: u64, mixed: u64) -> bool {
        let (Some(&first), Some(&last)) = (word.first(), word.last()) else {
            return false;
        };
        let shape = match self.shapes.get(word.len()) {
            Some(shapes) if first.is_ascii_lowercase() && last.is_ascii_lowercase() => {
                shapes[usize::from(first - b'a')] >> (last - b'a') & 1
            }
            _ => 0,
        };
        shape == 1 && self.probe(word, hash, mixed)
    }

    fn probe(&self, word: &[u8], hash: u64, mixed: u64) -> bool {
        let mut slot = mixed as usize % STOP_SLOTS;
        loop {
            let index = self.slots[slot];
            if index == u16::MAX {
                return false;
            }
            // Byte by byte: stop words are short, a call to memcmp costs more.
            if self.hashes[slot] == hash {
                let stop = STOPWORDS[usize::from(index)].as_bytes();
                if stop.len() == word.len() && stop.iter().zip(word).all(|(a, b)| a == b) {
                    return true;
                }
            }
            slot = (slot + 1) % STOP_SLOTS;
        }
    }
}

/// The set of terms already seen in the paper being counted: open addressing over
/// the keys (well mixed already), sized for the longest paper so far, and emptied
/// for the next paper by moving a stamp rather than clearing it.
#[derive(Default)]
pub(crate) struct PaperTerms {
    keys: Vec<u64>,
    /// The paper each slot's key was seen in; other stamps mark it empty.
    stamps: Vec<u32>,
    stamp: u32,
}

impl PaperTerms {
    /// Starts the next paper, of `text_len` bytes.
    pub fn start(&mut self, text_len: usize) {
        // A kept word takes 3 bytes at least (two letters and a separator) and adds
        // two terms at most (itself and a phrase): under one term per byte, and the
        // table stays at most half full.
        let wanted = (2 * text_len + 2).next_power_of_two().max(256);
        if self.stamp == u32::MAX || wanted > self.keys.len() {
            let size = wanted.max(self.keys.len());
            self.keys = vec![0; size];
            self.stamps = vec![0; size];
            self.stamp = 0;
        }
        self.stamp += 1;
    }

    /// Whether `key` is new in this paper (and now seen).
    pub fn first(&mut self, key: u64) -> bool {
        let mask = self.keys.len() - 1;
        let mut slot = (key >> 32) as usize & mask;
        loop {
            if self.stamps[slot] != self.stamp {
                self.stamps[slot] = self.stamp;
                self.keys[slot] = key;
                return true;
            }
            if self.keys[slot] == key {
                return false;
            }
            slot = (slot + 1) & mask;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept(text: &str) -> Vec<(String, bool, bool)> {
        let mut out = Vec::new();
        words(text, |word| {
            assert_eq!(word.key, word_key(word.text), "{}", word.text);
            out.push((word.text.to_owned(), word.in_title, word.joins));
        });
        out
    }

    #[test]
    fn non_ascii_letters_spaces_and_punctuation_follow_unicode() {
        let words = kept("Über Straße\u{a0}Ωmega–test x\u{2009}y café\nÉcole");
        let texts: Vec<&str> = words.iter().map(|(t, _, _)| t.as_str()).collect();
        assert_eq!(texts, ["über", "straße", "ωmega", "test", "café", "école"]);
        // A no-break space joins like a space; an en dash breaks like punctuation.
        assert!(words[2].2, "{words:?}");
        assert!(!words[3].2, "{words:?}");
        assert!(words[4].1 && !words[5].1);
    }

    #[test]
    fn stop_words_are_dropped_and_break_phrases_whatever_their_case() {
        let words = kept("The Graph of THE networks, Significantly bigger");
        let texts: Vec<&str> = words.iter().map(|(t, _, _)| t.as_str()).collect();
        assert_eq!(texts, ["graph", "networks", "bigger"]);
        assert!(words.iter().all(|(_, _, joins)| !joins));
        for word in STOPWORDS {
            let hash = fx_hash(word.as_bytes());
            assert!(
                stop_table().contains(word.as_bytes(), hash, mix(hash)),
                "{word}"
            );
        }
        for word in ["graph", "thee", "ab", "weird"] {
            let hash = fx_hash(word.as_bytes());
            assert!(
                !stop_table().contains(word.as_bytes(), hash, mix(hash)),
                "{word}"
            );
        }
    }

    #[test]
    fn keys_fold_plurals_and_tell_words_from_phrases() {
        // Keys made while reading (checked against `word_key` by `kept`) for every
        // ending, capitals, and a stem too long for the stack.
        let long = format!("{}ies", "x".repeat(70));
        let read = kept(&format!("Policies images gas corpus xeies Studies {long}"));
        assert_eq!(read.len(), 6, "{read:?}");
        assert_eq!(word_key("policies"), word_key("policy"));
        assert_eq!(word_key("images"), word_key("image"));
        assert_ne!(word_key("gas"), word_key("ga"));
        assert_eq!(word_key("graph") & 1, 0);
        assert_eq!(phrase_key(word_key("graph"), word_key("neural")) & 1, 1);
    }

    #[test]
    fn paper_terms_see_each_key_once_per_paper() {
        let mut seen = PaperTerms::default();
        seen.start(10);
        assert!(seen.first(7));
        assert!(!seen.first(7));
        // Keys that share a slot still count apart.
        assert!(seen.first(7 + (256 << 32)));
        seen.start(10_000);
        assert!(seen.first(7));
        seen.start(10);
        assert!(seen.first(7));
    }
}
