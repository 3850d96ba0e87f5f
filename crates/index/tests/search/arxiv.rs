//! The first papers of the arXiv 2020 archive with their reference vectors:
//! similar papers, filters on real categories, and title queries.

use std::io::BufRead;

use papers_core::{ArxivId, Category};
use papers_index::{IndexDoc, ParsedQuery, SearchMode, Searcher, Update};

const PAPERS: usize = 3000;
const DIM: usize = 384;

fn load(shared: &std::path::Path) -> Result<Vec<Update>, Box<dyn std::error::Error>> {
    let file =
        std::fs::File::open(shared.join("data/arxiv-kaggle-format/arxiv-archive-2020.jsonl.gz"))?;
    let reader = std::io::BufReader::new(flate2::read::GzDecoder::new(file));
    let vectors = std::fs::read(shared.join("reference/arxiv-2020-minilm/vectors.f16"))?;
    let mut updates = Vec::new();
    for (key, line) in reader.lines().take(PAPERS).enumerate() {
        let value: serde_json::Value = serde_json::from_str(&line?)?;
        let text = |name: &str| value[name].as_str().unwrap_or_default().to_owned();
        let vector = vectors[key * DIM * 2..(key + 1) * DIM * 2]
            .chunks_exact(2)
            .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect();
        updates.push(Update {
            doc: IndexDoc {
                key: i64::try_from(key)?,
                id: ArxivId::parse(&text("id")).ok(),
                title: text("title")
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" "),
                abstract_text: text("abstract"),
                authors: text("authors").split(", ").map(str::to_owned).collect(),
                categories: Category::parse_list(&text("categories")).unwrap_or_default(),
                published: chrono::NaiveDate::parse_from_str(&text("update_date"), "%Y-%m-%d").ok(),
            },
            vector: Some(vector),
        });
    }
    Ok(updates)
}

#[test]
fn real_papers_find_themselves_their_neighbours_and_their_categories()
-> Result<(), Box<dyn std::error::Error>> {
    let Some(shared) = papers_testkit::shared_dir("reference/arxiv-2020-minilm/vectors.f16") else {
        return Ok(());
    };
    let updates = load(&shared)?;
    let dir = tempfile::tempdir()?;
    let mut searcher = Searcher::open(dir.path(), "all-MiniLM-L6-v2", DIM)?;
    let mut writer = searcher.writer()?;
    searcher.apply(&mut writer, &updates, &[], PAPERS as u64)?;

    let mut self_first = 0;
    let mut neighbours_share_archive = 0;
    let probes: Vec<&Update> = updates.iter().step_by(100).collect();
    for probe in &probes {
        let vector = probe.vector.as_deref();
        let query = ParsedQuery::parse(&probe.doc.title);
        let results = searcher.search(&query, vector, SearchMode::Hybrid, 10)?;
        self_first += usize::from(results.hits.first().is_some_and(|h| h.key == probe.doc.key));
        let similar = searcher
            .similar(probe.doc.key, 5, &Default::default())?
            .unwrap_or_default();
        assert_eq!(similar.len(), 5);
        assert!(similar.iter().all(|h| h.key != probe.doc.key));
        let archive = probe.doc.categories[0].archive();
        let shared_archive = similar
            .iter()
            .filter(|h| {
                usize::try_from(h.key)
                    .ok()
                    .and_then(|key| updates.get(key))
                    .is_some_and(|update| {
                        update.doc.categories.iter().any(|c| c.archive() == archive)
                    })
            })
            .count();
        neighbours_share_archive += usize::from(shared_archive >= 3);

        // A category filter holds in dense mode, during the scan.
        let category = &probe.doc.categories[0];
        let filtered = ParsedQuery::parse(&format!("{} cat:{category}", probe.doc.title));
        let dense = searcher.search(&filtered, vector, SearchMode::Dense, 10)?;
        assert!(!dense.hits.is_empty());
        for hit in &dense.hits {
            let doc = &updates[usize::try_from(hit.key)?].doc;
            assert!(
                doc.categories.contains(category),
                "{category} {:?}",
                doc.title
            );
        }
    }
    assert!(
        self_first * 10 >= probes.len() * 9,
        "{self_first}/{}",
        probes.len()
    );
    assert!(
        neighbours_share_archive * 10 >= probes.len() * 8,
        "{neighbours_share_archive}/{}",
        probes.len()
    );

    // The arXiv id pasted as a query.
    let id = updates[17].doc.id.clone().ok_or("id")?;
    let direct = searcher.search(
        &ParsedQuery::parse(&format!("arXiv:{id}")),
        None,
        SearchMode::Hybrid,
        10,
    )?;
    assert_eq!(direct.hits.first().map(|h| h.key), Some(17));
    Ok(())
}
