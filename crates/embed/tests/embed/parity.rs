//! Parity with sentence-transformers: every reference text must embed to a vector with
//! cosine ≥ 0.999 to the one PyTorch produced, on the fast path and on the portable path.
//!
//! Inputs as described in `main.rs`.

use papers_embed::{EmbedOptions, Embedder, Kernel};

use crate::support::{cosine, reference};

const MIN_COSINE: f32 = 0.999;

fn check_parity(options: EmbedOptions) -> Option<Kernel> {
    let reference = reference()?;
    let embedder = Embedder::load_with(&reference.model, options).expect("model loads");
    if options.allow_bf16 && embedder.kernel() != Kernel::Avx512Bf16 {
        // The portable kernels would run, which the other test checks: the fast path
        // is not tested here, and that is a skip, not a pass.
        papers_testkit::skip("this CPU has no AVX-512 BF16, so the fast path cannot run");
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
fn fast_path_matches_sentence_transformers() {
    if let Some(kernel) = check_parity(EmbedOptions {
        allow_bf16: true,
        threads: 0,
    }) {
        assert_eq!(kernel, Kernel::Avx512Bf16);
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
