//! Locating the shared inputs (reference texts and vectors, the model directory) and the
//! helpers several tests use.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use papers_testkit::ServerProcess;
pub use papers_testkit::python_has;

/// The reference texts and sentence-transformers' vectors for them, and the model.
pub struct Reference {
    pub texts: Vec<String>,
    pub vectors: Vec<f32>,
    pub model: PathBuf,
}

/// The reference inputs, loaded once; `None` (after a skip message, or a failure under
/// CI) when the shared reference or the model is missing.
pub fn reference() -> Option<&'static Reference> {
    let shared = papers_testkit::shared_dir("reference/all-minilm-l6-v2/vectors.f32")?;
    let model = papers_testkit::model()?;
    static REFERENCE: OnceLock<Reference> = OnceLock::new();
    Some(
        REFERENCE.get_or_init(|| load_reference(&shared.join("reference/all-minilm-l6-v2"), model)),
    )
}

fn load_reference(dir: &Path, model: PathBuf) -> Reference {
    let texts = std::fs::read_to_string(dir.join("texts.jsonl")).expect("texts.jsonl");
    let bytes = std::fs::read(dir.join("vectors.f32")).expect("vectors.f32");
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
    Reference {
        texts,
        vectors,
        model,
    }
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
