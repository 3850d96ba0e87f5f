//! Rows of versions, paper_categories and paper_sources always name a stored paper, on
//! both engines: SQLite through foreign keys, PostgreSQL through statement-level checks
//! (migration 0011, which replaced its per-row foreign keys for ingest speed). Written
//! here with raw SQL, as a bug in a store module would write it.

use chrono::{TimeZone, Utc};
use papers_core::{ArxivId, Category, Metadata, PaperRecord, Source, Version};
use papers_store::on_both_engines;
use papers_store::testing::{Engine, TestDatabase};
use papers_store::{DATABASE_FILE, Database};

/// A connection of the engine's own client, beside the store's.
enum Raw {
    Sqlite(rusqlite::Connection),
    Postgres(postgres::Client),
}

impl Raw {
    fn open(database: &TestDatabase) -> Raw {
        match &database.location {
            Database::Sqlite(dir) => {
                let conn = rusqlite::Connection::open(dir.join(DATABASE_FILE)).expect("open");
                // As every store connection sets it.
                conn.execute_batch("PRAGMA foreign_keys = ON")
                    .expect("foreign keys");
                Raw::Sqlite(conn)
            }
            Database::Postgres(url) => {
                Raw::Postgres(postgres::Client::connect(url, postgres::NoTls).expect("connect"))
            }
        }
    }

    /// Runs `sql`; the error's text when the database refused it.
    fn run(&mut self, sql: &str) -> Result<(), String> {
        match self {
            Raw::Sqlite(conn) => conn.execute_batch(sql).map_err(|e| e.to_string()),
            Raw::Postgres(client) => client.batch_execute(sql).map_err(|e| {
                // A foreign-key violation, whichever mechanism raised it.
                assert_eq!(
                    e.code(),
                    Some(&postgres::error::SqlState::FOREIGN_KEY_VIOLATION),
                    "{e:?}"
                );
                e.to_string()
            }),
        }
    }

    fn count(&mut self, table: &str) -> i64 {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        match self {
            Raw::Sqlite(conn) => conn.query_row(&sql, [], |row| row.get(0)).expect("count"),
            Raw::Postgres(client) => client.query_one(&sql, &[]).expect("count").get(0),
        }
    }

    fn key_of(&mut self, id: &str) -> i64 {
        let sql = "SELECT key FROM papers WHERE id = ";
        match self {
            Raw::Sqlite(conn) => conn
                .query_row(&format!("{sql}?1"), [id], |row| row.get(0))
                .expect("key"),
            Raw::Postgres(client) => client
                .query_one(&format!("{sql}$1"), &[&id])
                .expect("key")
                .get(0),
        }
    }
}

fn record(id: &str) -> PaperRecord {
    PaperRecord {
        id: ArxivId::parse(id).expect("valid id"),
        source: Source::Kaggle,
        metadata: Metadata {
            title: "Title".into(),
            abstract_text: "Abstract".into(),
            authors: vec!["Ada Lovelace".into()],
            categories: Category::parse_list("cs.IR cs.CL").expect("valid"),
            versions: vec![Version {
                number: 1,
                created: Utc.with_ymd_and_hms(2024, 1, 1, 10, 0, 0).single(),
                size: None,
            }],
            ..Metadata::default()
        },
        community: None,
    }
}

fn children_must_name_a_stored_paper(engine: Engine) {
    let Some(database) = TestDatabase::create(engine) else {
        return;
    };
    let mut store = database.open();
    let mut batch = store.begin_ingest(Utc::now()).expect("begin");
    batch.upsert(record("2401.00001")).expect("upsert");
    batch.commit().expect("commit");
    let mut raw = Raw::open(&database);
    let key = raw.key_of("2401.00001");
    let missing = key + 1000;
    let counts = |raw: &mut Raw| {
        ["papers", "versions", "paper_categories", "paper_sources"].map(|t| raw.count(t))
    };
    let before = counts(&mut raw);
    assert_eq!(before, [1, 1, 2, 1]);

    // Rows naming no paper, alone or beside a valid one: the whole statement fails.
    for sql in [
        format!("INSERT INTO versions VALUES ({missing}, 1, NULL, NULL)"),
        format!("INSERT INTO versions VALUES ({key}, 2, NULL, NULL), ({missing}, 1, NULL, NULL)"),
        format!("INSERT INTO paper_categories VALUES ({missing}, 0, 'cs.IR')"),
        format!("INSERT INTO paper_sources VALUES ({missing}, 'kaggle', 'now')"),
        format!("UPDATE versions SET paper_key = {missing}"),
        format!("UPDATE paper_sources SET paper_key = {missing}"),
    ] {
        assert!(raw.run(&sql).is_err(), "accepted: {sql}");
    }
    // A paper that rows name can be neither deleted nor re-keyed.
    for sql in [
        format!("DELETE FROM papers WHERE key = {key}"),
        format!("UPDATE papers SET key = {missing} WHERE key = {key}"),
    ] {
        assert!(raw.run(&sql).is_err(), "accepted: {sql}");
    }
    assert_eq!(counts(&mut raw), before);

    // Valid rows go in, and an update that keeps the key is no violation.
    raw.run(&format!(
        "INSERT INTO versions VALUES ({key}, 2, NULL, NULL); \
         UPDATE papers SET title = 'Changed' WHERE key = {key}"
    ))
    .expect("valid writes");
    // Once nothing names it, the paper can go.
    raw.run(&format!(
        "DELETE FROM versions WHERE paper_key = {key}; \
         DELETE FROM paper_categories WHERE paper_key = {key}; \
         DELETE FROM paper_sources WHERE paper_key = {key}; \
         DELETE FROM changes WHERE paper_key = {key}; \
         DELETE FROM papers WHERE key = {key}"
    ))
    .expect("delete an unnamed paper");
    assert_eq!(counts(&mut raw), [0, 0, 0, 0]);
}

on_both_engines!(children_must_name_a_stored_paper);
