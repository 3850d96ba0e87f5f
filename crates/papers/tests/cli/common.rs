//! Helpers shared by the CLI tests: locating shared data, running the binary, reading stats.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The shared data directory when it holds `data/`; `None` after a skip message
/// (a failure under CI) otherwise.
pub fn shared() -> Option<PathBuf> {
    papers_testkit::shared_dir("data")
}

pub fn data(shared: &Path, relative: &str) -> PathBuf {
    shared.join("data").join(relative)
}

pub fn papers(data_dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_papers"));
    command
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("PAPERS_DATA_DIR")
        // Tests never reach the real Hugging Face hub; the download tests opt back in
        // with a local one.
        .env("HF_HUB_OFFLINE", "1");
    command
}

/// A port on the loopback interface that nothing listens on now, for a server the
/// test starts.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("free port")
        .port()
}

/// Status and body of `GET url` (status 0 when nothing answers), without treating an
/// error status as a failure.
pub fn http_get(url: &str, timeout: std::time::Duration) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .build()
        .into();
    match agent.get(url).call() {
        Ok(mut response) => (
            response.status().as_u16(),
            response.body_mut().read_to_string().unwrap_or_default(),
        ),
        Err(_) => (0, String::new()),
    }
}

pub fn run(data_dir: &Path, args: &[&str]) -> Output {
    papers(data_dir).args(args).output().expect("papers runs")
}

/// Runs and insists on success, returning stdout.
pub fn ok(data_dir: &Path, args: &[&str]) -> String {
    let mut command = papers(data_dir);
    command.args(args);
    succeed(command)
}

/// Runs any prepared command and insists on success, returning stdout.
pub fn succeed(mut command: Command) -> String {
    let output = command.output().expect("papers runs");
    assert!(
        output.status.success(),
        "{command:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8 stdout")
}

/// The first `count` recorded Hugging Face days, in date order.
pub fn hf_days(shared: &Path, count: usize) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(data(shared, "hf-daily-papers-api/2023-11-to-2024-04"))
            .expect("HF days")
            .map(|e| e.expect("entry").path())
            .collect();
    files.sort();
    files.truncate(count);
    files
}

pub fn ingest(data_dir: &Path, paths: &[&Path]) -> String {
    let mut args = vec!["ingest".to_owned()];
    args.extend(paths.iter().map(|p| p.display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    ok(data_dir, &args)
}

pub fn stats(data_dir: &Path) -> serde_json::Value {
    serde_json::from_str(&ok(data_dir, &["stats", "--json"])).expect("stats JSON")
}

pub fn count(stats: &serde_json::Value, field: &str) -> u64 {
    stats[field]
        .as_u64()
        .unwrap_or_else(|| panic!("stats has no {field}: {stats}"))
}

pub fn show(data_dir: &Path, id: &str) -> serde_json::Value {
    serde_json::from_str(&ok(data_dir, &["show", "--json", id])).expect("show JSON")
}

/// Little-endian f32 rows of `dim` values, as `papers model encode` writes them.
pub fn read_vectors(path: &Path, dim: usize) -> Vec<Vec<f32>> {
    let bytes = std::fs::read(path).expect("vectors file");
    let floats: Vec<f32> = bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    floats.chunks_exact(dim).map(<[f32]>::to_vec).collect()
}

/// Bytes of the 2020 Kaggle file (1,554 bytes a record on average) a [`HeldInput`] feeds
/// before a kill: about 21,600 records, so at least 15,000 of them are written inside
/// the transaction.
pub const HELD_BYTES: u64 = 32 << 20;

/// A named pipe that `papers ingest --format kaggle` reads as its input file. The test
/// writes the first `bytes` of a Kaggle file into it and then holds it open, so the
/// ingest is provably inside that file's transaction: it has read nearly everything
/// written (all but the pipe's 64 KiB and its own 256 KiB read buffer) and handed
/// those records to the writer (all but the ≤ 6 × 1,024 records in flight between its
/// parsing thread and the writer), and it cannot commit, because the file has not
/// ended. The pipe is closed when dropped.
pub struct HeldInput {
    pub path: PathBuf,
    fed: std::sync::mpsc::Receiver<std::io::Result<u64>>,
    release: Option<std::sync::mpsc::Sender<()>>,
}

impl HeldInput {
    /// A pipe in `dir` that will receive the first `bytes` of the gunzipped `source`.
    pub fn create(dir: &Path, source: &Path, bytes: u64) -> HeldInput {
        let path = dir.join("held-input.jsonl");
        let made = Command::new("mkfifo")
            .arg(&path)
            .status()
            .expect("mkfifo runs");
        assert!(made.success(), "mkfifo {}", path.display());
        let (fed_sender, fed) = std::sync::mpsc::channel();
        let (release, released) = std::sync::mpsc::channel::<()>();
        let (pipe, source) = (path.clone(), source.to_owned());
        std::thread::spawn(move || {
            let copied = (|| {
                let reader = flate2::read::MultiGzDecoder::new(std::fs::File::open(&source)?);
                // Blocks until the ingest opens the pipe.
                let mut writer = std::fs::OpenOptions::new().write(true).open(&pipe)?;
                std::io::copy(&mut std::io::Read::take(reader, bytes), &mut writer)
                    .map(|copied| (copied, writer))
            })();
            match copied {
                Ok((copied, writer)) => {
                    let _ = fed_sender.send(Ok(copied));
                    // Held open until the test is done with it.
                    let _ = released.recv();
                    drop(writer);
                }
                Err(error) => {
                    let _ = fed_sender.send(Err(error));
                }
            }
        });
        HeldInput {
            path,
            fed,
            release: Some(release),
        }
    }

    /// Waits until every byte is in the pipe; fails the test if `child` (the reader)
    /// ends first or `limit` passes. Returns the bytes written.
    pub fn wait_fed(&self, child: &mut std::process::Child, limit: std::time::Duration) -> u64 {
        let deadline = std::time::Instant::now() + limit;
        loop {
            match self.fed.recv_timeout(std::time::Duration::from_millis(50)) {
                Ok(Ok(bytes)) => return bytes,
                Ok(Err(error)) => panic!(
                    "feeding {} failed: {error}; ingest status {:?}",
                    self.path.display(),
                    child.try_wait()
                ),
                Err(_) => {
                    if let Some(status) = child.try_wait().expect("ingest status") {
                        panic!("the ingest ended ({status}) before reading its input");
                    }
                    assert!(
                        std::time::Instant::now() < deadline,
                        "the ingest did not read {} within {limit:?}",
                        self.path.display()
                    );
                }
            }
        }
    }
}

impl Drop for HeldInput {
    fn drop(&mut self) {
        self.release.take();
    }
}
