//! Throwaway stores for tests, on either engine, so one test body runs against
//! SQLite and PostgreSQL alike.
//!
//! PostgreSQL tests need a server: `PAPERS_TEST_POSTGRES_URL` names a database whose
//! role may create databases (`.ci/run` starts one and sets it). Each test gets a
//! database of its own, dropped when the test ends. Without the variable the
//! PostgreSQL half of a test is skipped, unless `CI` is set, where it fails instead.

use std::sync::atomic::{AtomicU32, Ordering};

use crate::{Database, Store};

/// The environment variable naming the administrative PostgreSQL URL.
pub const POSTGRES_URL_VAR: &str = "PAPERS_TEST_POSTGRES_URL";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// A fresh, empty database; removed on drop.
pub struct TestDatabase {
    pub location: Database,
    /// Holds the SQLite data directory (and gives PostgreSQL tests a place for files).
    pub dir: tempfile::TempDir,
    cleanup: Option<(String, String)>,
}

impl TestDatabase {
    /// A new database on `engine`, or `None` (after a skip message) when PostgreSQL
    /// is not configured outside CI.
    pub fn create(engine: Engine) -> Option<TestDatabase> {
        let dir = tempfile::TempDir::new().expect("temporary directory");
        match engine {
            Engine::Sqlite => Some(TestDatabase {
                location: Database::Sqlite(dir.path().to_owned()),
                dir,
                cleanup: None,
            }),
            Engine::Postgres => {
                let admin = postgres_admin_url()?;
                let name = unique_name();
                let mut client = postgres::Client::connect(&admin, postgres::NoTls)
                    .unwrap_or_else(|e| panic!("connect to {admin}: {e}"));
                client
                    .batch_execute(&format!(
                        "CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8'"
                    ))
                    .unwrap_or_else(|e| panic!("create database {name}: {e}"));
                Some(TestDatabase {
                    location: Database::Postgres(with_database(&admin, &name)),
                    dir,
                    cleanup: Some((admin, name)),
                })
            }
        }
    }

    /// Opens a connection to the database (as many as a test wants).
    pub fn open(&self) -> Store {
        Store::connect(&self.location).expect("open test store")
    }

    /// The URL for `--database-url`, when on PostgreSQL.
    pub fn url(&self) -> Option<&str> {
        match &self.location {
            Database::Postgres(url) => Some(url),
            Database::Sqlite(_) => None,
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((admin, name)) = self.cleanup.take()
            && let Ok(mut client) = postgres::Client::connect(&admin, postgres::NoTls)
        {
            // WITH (FORCE) ends connections a test leaked, e.g. a killed child's.
            let _ = client.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

/// The administrative URL, or `None` to skip; panics in CI when it is missing.
pub fn postgres_admin_url() -> Option<String> {
    match std::env::var(POSTGRES_URL_VAR) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        // A skip said and counted by `papers-testkit`, or a failure under CI.
        _ => papers_testkit::missing(format_args!(
            "{POSTGRES_URL_VAR} is not set, so the PostgreSQL half cannot run (scripts/postgres.sh starts a server and prints the URL)"
        )),
    }
}

fn unique_name() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "papers_test_{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Replaces the database name (the URL's path) with `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

/// Runs a test body once per engine: `on_both_engines!(name)` expects a function
/// `name(engine: Engine)` and adds the tests `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! on_both_engines {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[test]
                fn sqlite() {
                    super::$name($crate::testing::Engine::Sqlite)
                }

                #[test]
                fn postgres() {
                    super::$name($crate::testing::Engine::Postgres)
                }
            }
        )*
    };
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn the_database_name_is_replaced() {
        assert_eq!(
            with_database("postgres://u@127.0.0.1:5432/postgres", "t1"),
            "postgres://u@127.0.0.1:5432/t1"
        );
        assert_eq!(
            with_database("postgres://u@h/postgres?host=/tmp", "t1"),
            "postgres://u@h/t1?host=/tmp"
        );
        assert_eq!(with_database("postgres://u@h", "t1"), "postgres://u@h/t1");
    }
}
