//! Two `papers serve` processes on one SQLite data directory, both with `--harvest`
//! against the recorded OAI-PMH endpoint on 127.0.0.1: one harvester per set at a
//! time (the job claim, an OS file lock beside the database), every record stored
//! once, and both processes serve the new papers (the "new on arXiv" listing and
//! search) within the 60 s that issue 15 allows. One of them owns the directory's
//! indexes and the other keeps its own in memory, so papers ingested by a command
//! reach both, round after round.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use papers_store::Database;
use papers_testkit::wait_for;

use crate::common::{hf_days, ingest, run, shared, show};
use crate::harvest_serve::{Recorded, Serve, ids, python_available, runs, set, succeeded};

/// The records of the recorded lists kept by the spec (two pages of cs, one of stat):
/// id, the day of its first version (its day on `/new`), and words of its title.
const HARVESTED: [(&str, &str, &str); 4] = [
    ("2401.00001", "2024-01-01", "retrieval+long+questions"),
    ("2401.00003", "2024-01-01", "ranking+papers+reader+interest"),
    ("2401.00004", "2024-01-02", "tokenizers+mathematical+text"),
    (
        "2401.00201",
        "2024-01-01",
        "calibrated+uncertainty+small+data",
    ),
];

#[test]
fn two_serves_on_one_sqlite_directory_harvest_each_set_once_and_both_show_the_papers() {
    if shared().is_none() || !python_available() {
        return;
    }
    let root = tempfile::tempdir().expect("tempdir");
    let recorded = Recorded::start(root.path());
    let data_dir = root.path().join("data");
    let database = Database::choose(&data_dir, None);
    // Holding the second cs page keeps the first harvester in the middle of its list
    // while the other process asks for the same job.
    recorded.set_file("hold-7001|2", "");
    let spec = "arxiv:cs.CL,cs.IR,stat.ML";
    let extra = ["--arxiv-interval", "1h"];
    let a = Serve::start(&data_dir, &recorded, spec, &extra);
    let b = Serve::start(&data_dir, &recorded, spec, &extra);
    wait_for(
        "the held page to be asked for",
        Duration::from_secs(60),
        || recorded.count("resumptionToken=7001") >= 1,
    );
    wait_for(
        "the other process to find the cs job taken",
        Duration::from_secs(30),
        || {
            [&a, &b].iter().any(|node| {
                node.log().lines().any(|l| {
                    l.contains("another node is harvesting") && l.contains("harvest:arxiv:cs")
                })
            })
        },
    );
    recorded.remove_file("hold-7001|2");
    let released = Instant::now();
    wait_for("both harvests", Duration::from_secs(60), || {
        succeeded(&database, "harvest:arxiv:cs") && succeeded(&database, "harvest:arxiv:stat")
    });

    // Each list was fetched once, by one process, and each set ran once.
    let requests = recorded.requests();
    assert_eq!(recorded.count("from=2024-01-01&set=cs"), 1, "{requests:?}");
    assert_eq!(
        recorded.count("from=2024-01-01&set=stat"),
        1,
        "{requests:?}"
    );
    assert_eq!(recorded.count("resumptionToken=7001"), 1, "{requests:?}");
    assert_eq!(runs(&database, "harvest:arxiv:cs").len(), 1);
    assert_eq!(runs(&database, "harvest:arxiv:stat").len(), 1);
    // Every record once: the store's ids are a set, so count the rows as well.
    let stored = ids(&database);
    assert_eq!(
        stored,
        set(&HARVESTED.map(|(id, _, _)| id)),
        "the harvested papers"
    );
    let store = papers_store::Store::connect(&database).expect("store");
    let mut rows = 0;
    store.for_each_paper(|_| rows += 1).expect("papers");
    assert_eq!(rows, HARVESTED.len(), "each record stored once");

    // Both processes list and find every new paper, within 60 s of the harvest.
    for (name, node) in [("a", &a), ("b", &b)] {
        let left = Duration::from_secs(60).saturating_sub(released.elapsed());
        wait_for(
            &format!("process {name} to list and find the new papers"),
            left,
            || {
                HARVESTED.iter().all(|(id, day, query)| {
                    let (status, page) = node.get(&format!("/new?day={day}"));
                    let (found, hits) = node.get(&format!(
                        "/api/papers/search?q={query}&mode=lexical&limit=5"
                    ));
                    status == 200
                        && page.contains(id)
                        && found == 200
                        && hits.contains(&format!("\"id\":\"{id}\""))
                })
            },
        );
    }
    assert!(
        released.elapsed() < Duration::from_secs(60),
        "both processes show the papers within 60 s: {:?}",
        released.elapsed()
    );
}

/// Papers ingested by a command while two servers run on one directory reach the
/// search of both, in every round: the first ingest is loaded in bulk, the later
/// ones are applied incrementally. (Both servers once wrote the shared indexes, and
/// the first to keep tantivy's writer lock shut the other out: its search stopped
/// at what it had loaded.) A search command meanwhile reads the owner's indexes,
/// and a rebuild is refused while a server owns them.
#[test]
fn papers_ingested_beside_two_serves_reach_both_search_indexes_every_round() {
    let Some(shared) = shared() else {
        return;
    };
    let root = tempfile::tempdir().expect("tempdir");
    let data_dir = root.path().join("data");
    let database = Database::choose(&data_dir, None);
    let a = Serve::without_harvest(&data_dir);
    let b = Serve::without_harvest(&data_dir);
    let mut known = BTreeSet::new();
    for day in hf_days(&shared, 3) {
        ingest(&data_dir, &[&day]);
        let stored = ids(&database);
        let new: Vec<String> = stored.difference(&known).cloned().collect();
        assert!(!new.is_empty(), "{} adds papers", day.display());
        let queries: Vec<(String, String)> = new
            .iter()
            .take(3)
            .map(|id| (id.clone(), title_words(&show(&data_dir, id))))
            .collect();
        for (name, node) in [("a", &a), ("b", &b)] {
            wait_for(
                &format!("{} on server {name}", day.display()),
                Duration::from_secs(10),
                || {
                    queries.iter().all(|(id, words)| {
                        let (status, hits) = node.get(&format!(
                            "/api/papers/search?q={}&mode=lexical&limit=20",
                            words.replace(' ', "+")
                        ));
                        status == 200 && hits.contains(&format!("\"id\":\"{id}\""))
                    })
                },
            );
        }
        known = stored;
    }
    let (id, words) = {
        let id = known.iter().next().expect("papers").clone();
        let words = title_words(&show(&data_dir, &id));
        (id, words)
    };
    let searched = run(
        &data_dir,
        &[
            "search", "--mode", "lexical", "--json", "--limit", "20", &words,
        ],
    );
    assert!(searched.status.success(), "{searched:?}");
    assert!(
        String::from_utf8_lossy(&searched.stdout).contains(&format!("\"id\":\"{id}\"")),
        "{searched:?}"
    );
    let rebuilt = run(&data_dir, &["reindex"]);
    assert!(!rebuilt.status.success(), "{rebuilt:?}");
    let said = String::from_utf8_lossy(&rebuilt.stderr);
    assert!(
        said.contains("another process") && said.contains("index"),
        "{said}"
    );
}

/// Up to six words of a paper's title, letters and digits only: a query that finds it.
fn title_words(paper: &serde_json::Value) -> String {
    let title = paper["title"].as_str().expect("title");
    title
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| word.len() > 2 && word.is_ascii())
        .take(6)
        .collect::<Vec<_>>()
        .join(" ")
}
