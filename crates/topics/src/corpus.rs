//! What a build clusters and names: one row per paper, with its store key, its
//! vector, its publication day and (held, or fetched by key when naming needs it)
//! its title and abstract.
//!
//! The corpus is held for the whole build, so it is held small: at a million papers
//! the vectors take 768 MB as f16 rather than 1.5 GB as f32 (see [`crate::rows`]),
//! and the texts, about 1 GB more, need not be held at all: with [`Texts::Fetched`]
//! the build reads them a page of keys at a time while it counts and names topics,
//! so only a few pages are in memory at once.

use std::sync::Arc;

use chrono::NaiveDate;
use half::f16;
use half::slice::HalfFloatSliceExt;

use crate::naming::TextSource;
use crate::rows::widened;

/// What a build clusters: one row per paper.
#[derive(Debug, Clone, Default)]
pub struct Corpus {
    pub dim: usize,
    /// Store keys.
    pub keys: Vec<i64>,
    /// `keys.len() × dim` unit vectors, row-major, rounded to f16.
    pub vectors: Vec<f16>,
    /// Title and abstract, for naming.
    pub texts: Texts,
    pub published: Vec<Option<NaiveDate>>,
}

/// Where a corpus's titles and abstracts come from.
#[derive(Clone)]
pub enum Texts {
    /// One per row, in memory (small corpora, tests).
    Held(Vec<String>),
    /// Read by key when the build needs them (from the store, in the binary).
    Fetched(Arc<dyn FetchTexts>),
}

impl Default for Texts {
    fn default() -> Self {
        Texts::Held(Vec::new())
    }
}

impl std::fmt::Debug for Texts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Texts::Held(texts) => write!(f, "Held({} texts)", texts.len()),
            Texts::Fetched(_) => f.write_str("Fetched"),
        }
    }
}

/// Reads papers' titles and abstracts by key, for [`Texts::Fetched`]. The crate
/// stays free of the store: the binary implements this over it.
pub trait FetchTexts: Send + Sync {
    /// Calls `each` with the text (title, a line break, the abstract) of each of
    /// `keys` in their order, until it answers false. A key without a paper is
    /// skipped; a failure to read is the implementation's to remember and report
    /// after the build (naming goes on with the texts it got).
    fn fetch(&self, keys: &[i64], each: &mut dyn FnMut(&str) -> bool);
}

/// The first page [`Corpus`] fetches for a list of rows, doubled up to
/// [`LAST_PAGE`]: naming often reads only a class's first 50 papers (to spell its
/// terms), counting reads them all.
const FIRST_PAGE: usize = 64;
const LAST_PAGE: usize = 1024;

impl TextSource for Corpus {
    fn each_text(&self, rows: &[usize], each: &mut dyn FnMut(&str) -> bool) {
        let fetch = match &self.texts {
            Texts::Held(texts) => return texts.each_text(rows, each),
            Texts::Fetched(fetch) => fetch,
        };
        let (mut start, mut page) = (0, FIRST_PAGE);
        let mut going = true;
        while going && start < rows.len() {
            let end = rows.len().min(start + page);
            let keys: Vec<i64> = rows[start..end].iter().map(|&row| self.keys[row]).collect();
            fetch.fetch(&keys, &mut |text| {
                going = each(text);
                going
            });
            (start, page) = (end, (page * 2).min(LAST_PAGE));
        }
    }
}

impl Corpus {
    pub fn new(dim: usize) -> Corpus {
        Corpus {
            dim,
            ..Corpus::default()
        }
    }

    /// Adds a paper with its text held in memory (for a corpus of [`Texts::Held`];
    /// with [`Texts::Fetched`] the text is dropped: the fetcher has it).
    pub fn push(&mut self, key: i64, vector: &[f32], text: String, published: Option<NaiveDate>) {
        self.push_vector(key, vector, published);
        match &mut self.texts {
            Texts::Held(texts) => texts.push(text),
            Texts::Fetched(_) => {}
        }
    }

    /// Adds a paper whose text is fetched when needed (for [`Texts::Fetched`]).
    pub fn push_vector(&mut self, key: i64, vector: &[f32], published: Option<NaiveDate>) {
        self.keys.push(key);
        let start = self.vectors.len();
        self.vectors.resize(start + vector.len(), f16::ZERO);
        self.vectors[start..].convert_from_f32_slice(vector);
        self.published.push(published);
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Row `index` widened to f32 (into `scratch`).
    pub(crate) fn row<'a>(&'a self, index: usize, scratch: &'a mut Vec<f32>) -> &'a [f32] {
        widened(
            &self.vectors[index * self.dim..(index + 1) * self.dim],
            scratch,
        )
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// Texts by key ("text <key>"), recording each page of keys asked for.
    #[derive(Default)]
    struct Recorder {
        pages: Mutex<Vec<usize>>,
    }

    impl FetchTexts for Recorder {
        fn fetch(&self, keys: &[i64], each: &mut dyn FnMut(&str) -> bool) {
            self.pages.lock().expect("pages").push(keys.len());
            for key in keys {
                if !each(&format!("text {key}")) {
                    return;
                }
            }
        }
    }

    fn corpus(n: usize, texts: Texts) -> Corpus {
        let mut corpus = Corpus::new(2);
        corpus.texts = texts;
        for row in 0..n {
            corpus.push(
                row as i64 * 2,
                &[0.6, 0.8],
                format!("text {}", row * 2),
                None,
            );
        }
        corpus
    }

    #[test]
    fn fetched_texts_come_in_row_order_a_growing_page_at_a_time() {
        let recorder = Arc::new(Recorder::default());
        let fetched = corpus(3000, Texts::Fetched(recorder.clone()));
        let held = corpus(3000, Texts::Held(Vec::new()));
        let rows: Vec<usize> = (0..3000).rev().step_by(2).collect();
        let read = |corpus: &Corpus| {
            let mut texts = Vec::new();
            corpus.each_text(&rows, &mut |text| {
                texts.push(text.to_owned());
                true
            });
            texts
        };
        assert_eq!(read(&fetched), read(&held));
        assert_eq!(read(&held).len(), 1500);
        assert_eq!(
            *recorder.pages.lock().expect("pages"),
            [64, 128, 256, 512, 540]
        );
    }

    #[test]
    fn fetching_stops_when_the_reader_has_enough() {
        let recorder = Arc::new(Recorder::default());
        let fetched = corpus(3000, Texts::Fetched(recorder.clone()));
        let rows: Vec<usize> = (0..3000).collect();
        let mut read = 0;
        fetched.each_text(&rows, &mut |_| {
            read += 1;
            read < 100
        });
        assert_eq!(read, 100);
        // The first page and the second, no more.
        assert_eq!(*recorder.pages.lock().expect("pages"), [64, 128]);
        assert_eq!(fetched.vectors.len(), 6000);
        let mut scratch = Vec::new();
        let row = fetched.row(7, &mut scratch);
        assert!((row[0] - 0.6).abs() < 1e-3 && (row[1] - 0.8).abs() < 1e-3);
    }
}
