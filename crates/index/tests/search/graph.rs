//! The HNSW path on real vectors: the graph holds them as i8 and its candidates are
//! rescored from the f16 log, which must keep recall@10 against the exact scan at
//! 0.98 or more, hold each vector in one byte per dimension, and come back the same
//! from its snapshot.

use papers_index::DenseOptions;
use papers_index::dense::DenseIndex;

const DIM: usize = 384;
const PAPERS: usize = 20_000;
const QUERIES: usize = 300;

fn reference_vectors(
    shared: &std::path::Path,
) -> Result<Vec<Vec<f32>>, Box<dyn std::error::Error>> {
    let bytes = std::fs::read(shared.join("reference/arxiv-2020-minilm/vectors.f16"))?;
    Ok(bytes
        .chunks_exact(DIM * 2)
        .take(PAPERS + QUERIES)
        .map(|row| {
            row.chunks_exact(2)
                .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect()
        })
        .collect())
}

fn top_keys(index: &DenseIndex, query: &[f32]) -> Result<Vec<u64>, papers_index::IndexError> {
    Ok(index
        .search(query, 10, None)?
        .iter()
        .map(|hit| hit.key)
        .collect())
}

#[test]
fn quantised_graph_keeps_recall_and_one_byte_per_dimension()
-> Result<(), Box<dyn std::error::Error>> {
    let Some(shared) = papers_testkit::shared_dir("reference/arxiv-2020-minilm/vectors.f16") else {
        return Ok(());
    };
    let vectors = reference_vectors(&shared)?;
    let (papers, queries) = vectors.split_at(PAPERS);
    let dir = tempfile::tempdir()?;
    let graph_path = dir.path().join("graph/vectors.papers");
    let exact_path = dir.path().join("exact/vectors.papers");
    let graph_options = DenseOptions {
        graph_threshold: 0,
        ..DenseOptions::default()
    };
    let exact_options = DenseOptions {
        graph_threshold: usize::MAX,
        ..DenseOptions::default()
    };
    let mut graph = DenseIndex::open_with(&graph_path, "all-MiniLM-L6-v2", DIM, graph_options)?;
    let mut exact = DenseIndex::open_with(&exact_path, "all-MiniLM-L6-v2", DIM, exact_options)?;
    for (key, vector) in papers.iter().enumerate() {
        graph.upsert(key as u64, vector)?;
        exact.upsert(key as u64, vector)?;
    }
    graph.commit(1)?;
    exact.commit(1)?;
    assert_eq!((graph.method(), exact.method()), ("hnsw", "exact"));

    let mut overlap = 0;
    let mut answers = Vec::new();
    for query in queries {
        let truth = top_keys(&exact, query)?;
        let found = graph.search(query, 10, None)?;
        overlap += found.iter().filter(|hit| truth.contains(&hit.key)).count();
        // Scores are full-precision cosines, the same as the exact scan's.
        for hit in &found {
            let exact_score = exact.similarity(query, hit.key).ok_or("missing vector")?;
            assert_eq!(hit.score, exact_score, "key {}", hit.key);
        }
        answers.push(found);
    }
    let recall = overlap as f64 / (10 * QUERIES) as f64;
    assert!(recall >= 0.98, "recall@10 {recall}");

    // One byte per dimension plus the links: an f16 graph would need over 2 × 384.
    let graph_file = std::fs::metadata(graph_path.with_extension("hnsw"))?.len();
    let per_paper = graph_file as usize / PAPERS;
    assert!(per_paper < DIM * 3 / 2, "graph file {per_paper} B/paper");
    assert!(
        graph.bytes_per_paper() < DIM * 2,
        "{} B/paper",
        graph.bytes_per_paper()
    );

    drop(graph);
    let reopened = DenseIndex::open_with(&graph_path, "all-MiniLM-L6-v2", DIM, graph_options)?;
    assert!(reopened.opened_from_snapshot());
    for (query, before) in queries.iter().zip(&answers) {
        assert_eq!(&reopened.search(query, 10, None)?, before);
    }
    // A paper's similar papers exclude it and are scored from its f16 vector.
    let similar = reopened.similar(7, 5, None)?.ok_or("paper 7")?;
    assert_eq!(similar.len(), 5);
    assert!(similar.iter().all(|hit| hit.key != 7));
    let own = reopened.similarity(&papers[7], 7).ok_or("paper 7")?;
    assert!(own > 0.999, "{own}");
    Ok(())
}
