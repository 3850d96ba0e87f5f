//! Scheduled harvesting inside `papers serve`, against a recorded OAI-PMH endpoint and
//! Hugging Face API on 127.0.0.1 (`tests/oai_server.py` over the pages in
//! `tests/fixtures/oai`): a serve on an empty store harvests without any command, a
//! day announced later arrives on the next run, a serve killed mid-list resumes at the
//! next page, 503 `Retry-After` and `badResumptionToken` are obeyed and retried, a page
//! that fails while fetched ahead leaves the pages before it stored, and two nodes on
//! one PostgreSQL store harvest each set once.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::Duration;

use papers_store::testing::{Engine, TestDatabase};
use papers_store::{Database, JobOutcome, JobRun, Store};
use papers_testkit::{ServerProcess, wait_for};

use crate::common::{data, free_port, http_get, papers, shared};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/oai");
const SERVER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/oai_server.py");

/// The recorded endpoint, serving a copy of the fixtures the test may change.
pub(crate) struct Recorded {
    dir: PathBuf,
    base: String,
    _server: ServerProcess,
}

impl Recorded {
    pub(crate) fn start(root: &Path) -> Recorded {
        let dir = root.join("recorded");
        std::fs::create_dir_all(&dir).expect("recorded dir");
        for entry in std::fs::read_dir(FIXTURES).expect("fixtures") {
            let path = entry.expect("entry").path();
            if path.is_file() {
                std::fs::copy(&path, dir.join(path.file_name().expect("name"))).expect("copy");
            }
        }
        std::fs::write(dir.join("today"), "2024-01-03").expect("today");
        let server =
            ServerProcess::start(std::process::Command::new("python3").arg(SERVER).arg(&dir))
                .expect("python3 runs the recorded server");
        let port = server.port().expect("READY PORT").to_owned();
        Recorded {
            dir,
            base: format!("http://127.0.0.1:{port}"),
            _server: server,
        }
    }

    /// Every request received so far, in order.
    pub(crate) fn requests(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.join("requests.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    pub(crate) fn count(&self, needle: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.contains(needle))
            .count()
    }

    /// Announces the second day: its list appears, and the server's day moves on.
    fn publish_second_day(&self) {
        let name = "ListRecords-cs-from-2024-01-03.xml";
        std::fs::copy(
            Path::new(FIXTURES).join("later").join(name),
            self.dir.join(name),
        )
        .expect("publish");
        std::fs::write(self.dir.join("today"), "2024-01-04").expect("today");
    }

    pub(crate) fn set_file(&self, name: &str, content: &str) {
        std::fs::write(self.dir.join(name), content).expect("control file");
    }

    pub(crate) fn remove_file(&self, name: &str) {
        std::fs::remove_file(self.dir.join(name)).expect("remove control file");
    }
}

/// A `papers serve` that harvests `spec` from the recorded endpoint; killed on drop.
pub(crate) struct Serve {
    child: Child,
    base: String,
    log: PathBuf,
}

impl Serve {
    pub(crate) fn start(data_dir: &Path, recorded: &Recorded, spec: &str, extra: &[&str]) -> Serve {
        let oai = format!("{}/oai", recorded.base);
        let mut args = vec!["--harvest", spec, "--harvest-since", "2024-01-01"];
        args.extend(["--arxiv-oai-url", &oai]);
        args.extend(["--hf-url", &recorded.base, "--hf-days", "1"]);
        args.extend([
            "--harvest-request-delay-ms",
            "0",
            "--harvest-retry-delay",
            "1s",
        ]);
        args.extend(extra);
        Self::spawn(data_dir, &args)
    }

    /// A `papers serve` that harvests nothing: papers come from commands.
    pub(crate) fn without_harvest(data_dir: &Path) -> Serve {
        Self::spawn(data_dir, &[])
    }

    fn spawn(data_dir: &Path, args: &[&str]) -> Serve {
        let port = free_port();
        std::fs::create_dir_all(data_dir).expect("data dir");
        let log = data_dir.join(format!("serve-{port}.log"));
        let child = papers(data_dir)
            .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
            .args(args)
            .env("PAPERS_MODEL", data_dir.join("no-model"))
            .env(
                "PAPERS_SECRET",
                "a secret the nodes share, long enough to sign",
            )
            .env("PAPERS_LOG", "info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn()
            .expect("papers serve starts");
        let serve = Serve {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
        };
        // Listening means the store is open and migrated, so the test may open it too.
        wait_for("papers serve to listen", Duration::from_secs(60), || {
            serve.get("/api/daily_papers").0 == 200
        });
        serve
    }

    /// SIGKILL: no chance to finish anything.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub(crate) fn get(&self, path: &str) -> (u16, String) {
        http_get(&format!("{}{path}", self.base), Duration::from_secs(20))
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        self.kill();
    }
}

fn open(database: &Database) -> Store {
    Store::connect(database).expect("store opens")
}

pub(crate) fn ids(database: &Database) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    open(database)
        .for_each_paper(|paper| {
            ids.insert(paper.paper.id.to_string());
        })
        .expect("papers");
    ids
}

pub(crate) fn runs(database: &Database, job: &str) -> Vec<JobRun> {
    open(database).job_history(job, 100).expect("runs")
}

pub(crate) fn succeeded(database: &Database, job: &str) -> bool {
    runs(database, job)
        .iter()
        .any(|run| run.outcome == Some(JobOutcome::Ok))
}

/// Waits up to a minute for a failed run of `job`, and returns it.
fn wait_for_failed_run(database: &Database, job: &str) -> JobRun {
    let failed = || {
        runs(database, job)
            .into_iter()
            .find(|run| run.outcome == Some(JobOutcome::Failed))
    };
    wait_for("the failed run", Duration::from_secs(60), || {
        failed().is_some()
    });
    failed().expect("a failed run")
}

/// The resumption token of the cs list in progress, if one is stored.
fn list_token(database: &Database) -> Option<String> {
    open(database)
        .harvest_state("arxiv:cs[cs.CL,cs.IR]")
        .expect("state")
        .and_then(|state| state.list)
        .map(|list| list.resumption_token)
}

pub(crate) fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|id| (*id).to_owned()).collect()
}

pub(crate) fn python_available() -> bool {
    let found = std::process::Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found || std::env::var_os("CI").is_none(),
        "python3 is needed"
    );
    if !found {
        eprintln!("skipping: no python3 for the recorded server");
    }
    found
}

#[test]
fn serve_harvests_on_its_own_and_the_next_day_arrives_on_the_next_run() {
    let Some(shared) = shared() else { return };
    if !python_available() {
        return;
    }
    let root = tempfile::tempdir().expect("tempdir");
    let recorded = Recorded::start(root.path());
    // Hugging Face's today is the recorded 2 January 2024.
    let today = chrono::Utc::now().date_naive();
    std::fs::copy(
        data(
            &shared,
            "hf-daily-papers-api/2023-11-to-2024-04/daily_papers_2024-01-02.json",
        ),
        recorded.dir.join(format!("hf-{today}.json")),
    )
    .expect("HF day");
    let data_dir = root.path().join("data");
    let database = Database::choose(&data_dir, None);
    let serve = Serve::start(
        &data_dir,
        &recorded,
        "arxiv:cs.CL,cs.IR,stat.ML hf",
        &["--arxiv-interval", "2s"],
    );
    wait_for("the first harvests", Duration::from_secs(60), || {
        ["harvest:arxiv:cs", "harvest:arxiv:stat", "harvest:hf"]
            .iter()
            .all(|job| succeeded(&database, job))
    });
    let stored = ids(&database);
    for id in ["2401.00001", "2401.00003", "2401.00004", "2401.00201"] {
        assert!(stored.contains(id), "{id} harvested: {stored:?}");
    }
    assert!(
        !stored.contains("2401.00002"),
        "cs.LG only is not asked for"
    );
    assert!(
        stored.contains("2401.00368"),
        "the Hugging Face day arrived"
    );
    let state = open(&database)
        .harvest_state("arxiv:cs[cs.CL,cs.IR]")
        .expect("state")
        .expect("a position");
    assert_eq!(
        state.next_from,
        Some("2024-01-03".parse().expect("day")),
        "the next harvest starts at the server's day when the list began"
    );
    assert_eq!(state.list, None);
    // The node's search finds a harvested paper without any command.
    wait_for(
        "search to find the harvested paper",
        Duration::from_secs(30),
        || {
            let (status, page) = serve.get("/search?q=tokenizers+mathematical");
            status == 200 && page.contains("2401.00004")
        },
    );

    recorded.publish_second_day();
    wait_for("the second day", Duration::from_secs(30), || {
        ids(&database).contains("2401.00101")
    });
    assert_eq!(
        recorded.count("from=2024-01-01&set=cs"),
        1,
        "{:?}",
        recorded.requests()
    );
    assert!(recorded.count("from=2024-01-03&set=cs") >= 1);
    let jobs = open(&database).job_runs().expect("job runs");
    let cs = jobs
        .iter()
        .find(|job| job.job == "harvest:arxiv:cs")
        .expect("cs job listed");
    assert!(cs.last_success.is_some() && cs.latest.next_run.is_some());
}

#[test]
fn a_killed_serve_resumes_mid_list_and_obeys_retry_after() {
    if shared().is_none() || !python_available() {
        return;
    }
    let root = tempfile::tempdir().expect("tempdir");
    let recorded = Recorded::start(root.path());
    let data_dir = root.path().join("data");
    let database = Database::choose(&data_dir, None);
    // The second page is held until the first serve is dead.
    recorded.set_file("hold-7001|2", "");
    let mut first = Serve::start(&data_dir, &recorded, "arxiv:cs.CL,cs.IR", &[]);
    // The second page is asked for while the first is stored (the harvester fetches
    // one page ahead), so both are waited for.
    wait_for(
        "the second page to be asked for and the first stored",
        Duration::from_secs(60),
        || recorded.count("resumptionToken=7001") == 1 && list_token(&database).is_some(),
    );
    // The first page is stored with its successor's token, in one transaction.
    assert_eq!(list_token(&database).as_deref(), Some("7001|2"));
    assert_eq!(ids(&database), set(&["2401.00001"]));
    first.kill();
    recorded.remove_file("hold-7001|2");
    // The next request is refused once with 503 Retry-After: 1.
    recorded.set_file("fail-503", "1");
    let before = recorded.requests().len();

    let second = Serve::start(&data_dir, &recorded, "arxiv:cs.CL,cs.IR", &[]);
    wait_for("the resumed harvest", Duration::from_secs(60), || {
        succeeded(&database, "harvest:arxiv:cs")
    });
    let after: Vec<String> = recorded.requests()[before..].to_vec();
    assert!(
        after.iter().all(|r| r.contains("resumptionToken=7001")),
        "the second serve continues at the next page: {after:?}"
    );
    assert_eq!(after.len(), 2, "refused once, then fetched: {after:?}");
    assert!(
        second.log().contains("server busy, waiting"),
        "the 503 is logged:\n{}",
        second.log()
    );
    assert_eq!(
        ids(&database),
        set(&["2401.00001", "2401.00003", "2401.00004"])
    );
    let runs = runs(&database, "harvest:arxiv:cs");
    // The killed run stays unfinished; the resumed one succeeded.
    assert_eq!(runs.len(), 2, "{runs:?}");
    assert_eq!(runs[0].outcome, Some(JobOutcome::Ok));
    assert_eq!(runs[0].records, 2, "only the second page's papers were new");
    assert_eq!(runs[1].outcome, None);
}

#[test]
fn a_refused_resumption_token_restarts_the_list_on_the_retry() {
    if shared().is_none() || !python_available() {
        return;
    }
    let root = tempfile::tempdir().expect("tempdir");
    let recorded = Recorded::start(root.path());
    let data_dir = root.path().join("data");
    let database = Database::choose(&data_dir, None);
    // The token of the second page has expired.
    let token_page = recorded.dir.join("token-7001|2.xml");
    let page = std::fs::read(&token_page).expect("page");
    std::fs::remove_file(&token_page).expect("expire the token");
    let serve = Serve::start(&data_dir, &recorded, "arxiv:cs.CL,cs.IR", &[]);
    let failed = wait_for_failed_run(&database, "harvest:arxiv:cs");
    let error = failed.error.clone().unwrap_or_default();
    assert!(error.contains("badResumptionToken"), "{error}");
    assert!(failed.next_run.is_some(), "a retry is planned");
    assert!(serve.log().contains("harvest failed"), "{}", serve.log());

    std::fs::write(&token_page, page).expect("token works again");
    wait_for("the retried harvest", Duration::from_secs(60), || {
        succeeded(&database, "harvest:arxiv:cs")
    });
    assert!(
        recorded.count("from=2024-01-01&set=cs") >= 2,
        "the list was started again"
    );
    assert_eq!(
        ids(&database),
        set(&["2401.00001", "2401.00003", "2401.00004"])
    );
}

#[test]
fn a_broken_page_fetched_ahead_fails_the_run_after_the_pages_before_it() {
    if shared().is_none() || !python_available() {
        return;
    }
    let root = tempfile::tempdir().expect("tempdir");
    let recorded = Recorded::start(root.path());
    let data_dir = root.path().join("data");
    let database = Database::choose(&data_dir, None);
    // The second page arrives cut off halfway, as from a dropped connection: it is
    // fetched and fails to parse while the first page is being stored.
    let token_page = recorded.dir.join("token-7001|2.xml");
    let page = std::fs::read(&token_page).expect("page");
    std::fs::write(&token_page, &page[..page.len() / 2]).expect("cut the page");
    let serve = Serve::start(&data_dir, &recorded, "arxiv:cs.CL,cs.IR", &[]);
    let failed = wait_for_failed_run(&database, "harvest:arxiv:cs");
    let error = failed.error.clone().unwrap_or_default();
    assert!(error.contains("page 2"), "{error}");
    assert!(failed.next_run.is_some(), "a retry is planned");
    assert_eq!(failed.records, 1, "the first page's paper was written");
    // The first page stays stored, and the position is the one it was stored with.
    assert_eq!(ids(&database), set(&["2401.00001"]));
    assert_eq!(list_token(&database).as_deref(), Some("7001|2"));
    assert!(serve.log().contains("harvest failed"), "{}", serve.log());

    std::fs::write(&token_page, page).expect("the page is whole again");
    wait_for("the retried harvest", Duration::from_secs(60), || {
        succeeded(&database, "harvest:arxiv:cs")
    });
    // The retry continued the list at the page that failed, not from its start.
    assert_eq!(recorded.count("from=2024-01-01&set=cs"), 1);
    assert_eq!(
        ids(&database),
        set(&["2401.00001", "2401.00003", "2401.00004"])
    );
    assert_eq!(list_token(&database), None, "the list is complete");
}

#[test]
fn two_nodes_on_one_postgres_store_harvest_each_set_once() {
    if shared().is_none() || !python_available() {
        return;
    }
    let Some(database) = TestDatabase::create(Engine::Postgres) else {
        return;
    };
    let url = database.url().expect("postgres url").to_owned();
    let recorded = Recorded::start(database.dir.path());
    // Holding the second cs page keeps the first node's harvest running while the
    // second node starts and asks for the same job.
    recorded.set_file("hold-7001|2", "");
    let extra = ["--database-url", url.as_str(), "--arxiv-interval", "1h"];
    let spec = "arxiv:cs.CL,cs.IR,stat.ML";
    let a = Serve::start(&database.dir.path().join("a"), &recorded, spec, &extra);
    let b = Serve::start(&database.dir.path().join("b"), &recorded, spec, &extra);
    wait_for(
        "the held page to be asked for",
        Duration::from_secs(60),
        || recorded.count("resumptionToken=7001") >= 1,
    );
    // One node is mid-list; the other finds the job claimed and says so.
    wait_for(
        "the other node to find the cs job taken",
        Duration::from_secs(30),
        || {
            [&a, &b].iter().any(|node| {
                node.log().lines().any(|l| {
                    l.contains("another node is harvesting") && l.contains("harvest:arxiv:cs")
                })
            })
        },
    );
    let store_db = Database::choose(database.dir.path(), Some(&url));
    recorded.remove_file("hold-7001|2");
    wait_for("the cs harvest", Duration::from_secs(60), || {
        succeeded(&store_db, "harvest:arxiv:cs")
    });
    let requests = recorded.requests();
    assert_eq!(recorded.count("from=2024-01-01&set=cs"), 1, "{requests:?}");
    assert_eq!(
        recorded.count("from=2024-01-01&set=stat"),
        1,
        "{requests:?}"
    );
    assert_eq!(recorded.count("resumptionToken=7001"), 1, "{requests:?}");
    assert_eq!(runs(&store_db, "harvest:arxiv:cs").len(), 1);
    assert_eq!(runs(&store_db, "harvest:arxiv:stat").len(), 1);
    assert_eq!(
        ids(&store_db),
        set(&["2401.00001", "2401.00003", "2401.00004", "2401.00201"])
    );
}
