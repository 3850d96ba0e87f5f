//! A small synthetic corpus with hand-made vectors, so that filters and
//! lifecycle behaviour can be checked exactly.

use chrono::NaiveDate;
use papers_core::{ArxivId, Category};
use papers_index::{IndexDoc, Update};

pub const DIM: usize = 8;

/// A unit vector pointing mostly along `axis`, tilted by `tilt` towards the next.
pub fn vector(axis: usize, tilt: f32) -> Vec<f32> {
    let mut v = [0.0; DIM];
    v[axis % DIM] = 1.0;
    v[(axis + 1) % DIM] = tilt;
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter().map(|x| x / norm).collect()
}

pub fn doc(
    key: i64,
    id: &str,
    title: &str,
    abstract_text: &str,
    authors: &[&str],
    cats: &str,
    day: &str,
) -> IndexDoc {
    IndexDoc {
        key,
        id: ArxivId::parse(id).ok(),
        title: title.to_owned(),
        abstract_text: abstract_text.to_owned(),
        authors: authors.iter().map(|a| (*a).to_owned()).collect(),
        categories: Category::parse_list(cats).unwrap_or_default(),
        published: NaiveDate::parse_from_str(day, "%Y-%m-%d").ok(),
    }
}

/// Eight papers in three topics; the vector axis encodes the topic.
pub fn corpus() -> Vec<Update> {
    let papers = [
        (
            doc(
                1,
                "2401.00001",
                "Dense retrieval with relevance filtering",
                "We study a relevance cutoff for embedding-based retrieval & ranking.",
                &["Ada Lovelace", "Alan Turing"],
                "cs.IR cs.CL",
                "2024-01-10",
            ),
            0,
            0.1,
        ),
        (
            doc(
                2,
                "2401.00002",
                "Knowledge graph embedding functions",
                "Embedding functions map entities of a knowledge graph to vectors.",
                &["Geoffrey E. Hinton"],
                "cs.LG",
                "2024-01-20",
            ),
            1,
            0.1,
        ),
        (
            doc(
                3,
                "2402.00003",
                "Sparse retrieval revisited",
                "BM25 remains a strong baseline for retrieval on scientific text.",
                &["Alan Turing"],
                "cs.IR",
                "2024-02-05",
            ),
            0,
            0.3,
        ),
        (
            doc(
                4,
                "2402.00004",
                "Capsule networks for vision",
                "Capsules group neurons; routing by agreement.",
                &["Geoffrey Hinton", "Sara Sabour"],
                "cs.CV cs.LG",
                "2024-02-15",
            ),
            2,
            0.1,
        ),
        (
            doc(
                5,
                "2403.00005",
                "Hybrid retrieval with reciprocal rank fusion",
                "Fusing lexical and dense retrieval improves ranking.",
                &["Grace Hopper"],
                "cs.IR",
                "2024-03-01",
            ),
            0,
            0.2,
        ),
        (
            doc(
                6,
                "2403.00006",
                "Graph neural networks for knowledge graphs",
                "Message passing over knowledge graph relations.",
                &["Ada Lovelace"],
                "cs.LG cs.AI",
                "2024-03-12",
            ),
            1,
            0.3,
        ),
        (
            doc(
                7,
                "2312.00007",
                "Lattice gauge theory at finite temperature",
                "Quark gluon plasma on the lattice.",
                &["Kenneth Wilson"],
                "hep-lat",
                "2023-12-01",
            ),
            4,
            0.1,
        ),
        (
            doc(
                8,
                "hep-th/9901001",
                "Strings on Calabi-Yau manifolds",
                "Compactification of superstrings.",
                &["Edward Witten"],
                "hep-th",
                "1999-01-01",
            ),
            5,
            0.1,
        ),
    ];
    papers
        .into_iter()
        .map(|(doc, axis, tilt)| Update {
            doc,
            vector: Some(vector(axis, tilt)),
        })
        .collect()
}
