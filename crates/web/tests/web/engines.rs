//! One test body on both store engines, through the router: the site's store is SQLite
//! in a temporary data directory, or a fresh PostgreSQL database made by the store's
//! own test support (`PAPERS_TEST_POSTGRES_URL`; in CI a missing server fails the
//! test, elsewhere the PostgreSQL half is skipped with a message).
//!
//! PostgreSQL's blocking client runs an event loop of its own, which may be neither
//! started nor ended on a thread that drives async tasks, and a `#[tokio::test]` body
//! is one. So everything that connects to or disconnects from the store outside the
//! site's own pool (opening the site, a test's direct reads and writes, dropping the
//! site at the end) runs on a thread of its own ([`off_runtime`]).

use papers_store::testing::TestDatabase;
use papers_store::{Database, Store};
use papers_web::{AppConfig, AppState};
use tempfile::TempDir;

use crate::common::{TestApp, seed_store};

pub use papers_store::testing::Engine;

/// Runs `work` on a thread of its own and returns what it returns (a panic in it
/// fails the test as usual).
pub fn off_runtime<T: Send>(work: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| {
        scope
            .spawn(work)
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// A site's store before the site opens: SQLite in `dir`, or a PostgreSQL database
/// (and `dir` for the site's files).
pub struct SiteStore {
    pub dir: TempDir,
    postgres: Option<TestDatabase>,
}

impl SiteStore {
    /// A store on `engine` seeded with the fixture records; `None` when PostgreSQL is
    /// not configured outside CI.
    pub fn seeded(engine: Engine) -> Option<SiteStore> {
        let postgres = match engine {
            Engine::Sqlite => None,
            Engine::Postgres => Some(off_runtime(|| TestDatabase::create(Engine::Postgres))?),
        };
        let site = SiteStore {
            dir: tempfile::tempdir().expect("temp dir"),
            postgres,
        };
        site.with_store(seed_store);
        Some(site)
    }

    pub fn database(&self) -> Database {
        match &self.postgres {
            Some(database) => database.location.clone(),
            None => Database::Sqlite(self.dir.path().to_owned()),
        }
    }

    /// The site's configuration over this store.
    pub fn config(&self, public_url: &str) -> AppConfig {
        AppConfig::new(self.dir.path(), public_url).with_database(self.database())
    }

    /// `work` with a connection of its own to the store.
    pub fn with_store<T: Send>(&self, work: impl FnOnce(&mut Store) -> T + Send) -> T {
        let database = self.database();
        off_runtime(move || work(&mut Store::connect(&database).expect("open store")))
    }

    /// The site over this store: `config` opened, then `finish` (search, digests)
    /// applied.
    pub fn open(self, config: AppConfig, finish: impl FnOnce(AppState) -> AppState) -> TestApp {
        let state = finish(off_runtime(|| AppState::open(config).expect("open app")));
        let router = papers_web::router(state.clone());
        let postgres = self.postgres.map(|database| PostgresSite {
            state: Some(state.clone()),
            database: Some(database),
        });
        TestApp {
            dir: self.dir,
            state,
            router,
            postgres,
        }
    }
}

/// What a PostgreSQL site holds until its test ends: a handle on its state and its
/// database. The last field of [`TestApp`], so it drops after the state and router
/// there; it then ends the store connections and drops the database off the runtime.
pub struct PostgresSite {
    state: Option<AppState>,
    database: Option<TestDatabase>,
}

impl Drop for PostgresSite {
    fn drop(&mut self) {
        let (state, database) = (self.state.take(), self.database.take());
        off_runtime(move || drop((state, database)));
    }
}

impl TestApp {
    pub fn database(&self) -> Database {
        match self
            .postgres
            .as_ref()
            .and_then(|site| site.database.as_ref())
        {
            Some(database) => database.location.clone(),
            None => Database::Sqlite(self.dir.path().to_owned()),
        }
    }

    /// `work` with a connection of its own to the site's store, as another process
    /// would have.
    pub fn with_store<T: Send>(&self, work: impl FnOnce(&mut Store) -> T + Send) -> T {
        let database = self.database();
        off_runtime(move || work(&mut Store::connect(&database).expect("open store")))
    }

    /// Stops the site and keeps its store, for a restarted site over the same data.
    pub fn stop(self) -> SiteStore {
        let TestApp {
            dir,
            state,
            router,
            mut postgres,
        } = self;
        drop(router);
        let database = postgres.as_mut().and_then(|site| site.database.take());
        // The last handle on the state, and with it the store connections, ends off
        // the runtime (see `PostgresSite`).
        off_runtime(move || drop((state, postgres)));
        SiteStore {
            dir,
            postgres: database,
        }
    }
}

/// Runs an async test body once per engine: `on_both_engines!(name)` expects a function
/// `async fn name(engine: Engine)` and adds the tests `name::sqlite` and
/// `name::postgres`.
#[macro_export]
macro_rules! on_both_engines {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test]
                async fn sqlite() {
                    super::$name($crate::engines::Engine::Sqlite).await
                }

                #[tokio::test]
                async fn postgres() {
                    super::$name($crate::engines::Engine::Postgres).await
                }
            }
        )*
    };
}
