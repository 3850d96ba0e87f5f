//! Parity with sentence-transformers: every reference text must embed to a vector with
//! cosine ≥ 0.999 to the one PyTorch produced, on every kernel path (AMX, AVX-512 BF16,
//! AVX2 + FMA, portable).
//!
//! Inputs as described in `main.rs`.

use papers_embed::{EmbedOptions, Embedder, Kernel};

use crate::support::{cosine, reference};

const MIN_COSINE: f32 = 0.999;

fn check_parity(options: EmbedOptions) -> Option<Kernel> {
    let reference = reference()?;
    let embedder = Embedder::load_with(&reference.model, options).expect("model loads");
    if embedder.kernel() != options.max_kernel {
        // A slower kernel would run, which its own test checks: the kernel this test is
        // for is not tested here, and that is a skip, not a pass.
        papers_testkit::skip(format!(
            "this CPU cannot run the {:?} kernels (it runs {:?})",
            options.max_kernel,
            embedder.kernel()
        ));
        return None;
    }
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
fn amx_path_matches_sentence_transformers() {
    if let Some(kernel) = check_parity(EmbedOptions {
        max_kernel: Kernel::Amx,
        threads: 0,
    }) {
        assert_eq!(kernel, Kernel::Amx);
    }
}

#[test]
fn fast_path_matches_sentence_transformers() {
    if let Some(kernel) = check_parity(EmbedOptions {
        max_kernel: Kernel::Avx512Bf16,
        threads: 0,
    }) {
        assert_eq!(kernel, Kernel::Avx512Bf16);
    }
}

#[test]
fn avx2_path_matches_sentence_transformers() {
    if let Some(kernel) = check_parity(EmbedOptions {
        max_kernel: Kernel::Avx2Fma,
        threads: 0,
    }) {
        assert_eq!(kernel, Kernel::Avx2Fma);
    }
}

#[test]
fn portable_path_matches_sentence_transformers() {
    if let Some(kernel) = check_parity(EmbedOptions {
        max_kernel: Kernel::Portable,
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
