//! Downloading from the Hugging Face hub with hf-hub, against `tests/hub_server.py` on
//! 127.0.0.1 serving the installed model's real files: the download lands in the standard
//! cache, resolves offline afterwards and embeds exactly as the original directory; an
//! unknown repository, a refused port and a silent server fail fast with an error that
//! names every place looked in and every way to provide a model.

use std::net::TcpListener;
use std::path::Path;
use std::time::{Duration, Instant};

use papers_embed::{
    DEFAULT_MODEL_REPO, Embedder, Hub, download_model, locate_model, resolve_model_dir,
};

use crate::support::{HubServer, python_has, reference};

fn hub(endpoint: &str) -> Hub {
    let mut hub = Hub::new(endpoint);
    hub.timeout = Duration::from_millis(1500);
    hub
}

#[test]
fn download_lands_in_the_cache_resolves_offline_and_embeds_identically() {
    let Some(reference) = reference() else { return };
    if !python_has("http.server") {
        return;
    }
    let mut server = HubServer::start(&reference.model, DEFAULT_MODEL_REPO);
    let home = tempfile::tempdir().expect("temp dir");
    let dir = locate_model(
        None,
        Some(home.path()),
        DEFAULT_MODEL_REPO,
        Some(&hub(&server.base)),
    )
    .expect("downloaded from the local hub");

    // The huggingface_hub layout: refs/main names the snapshot, whose files link to blobs.
    let repo_dir = home
        .path()
        .join("hub/models--sentence-transformers--all-MiniLM-L6-v2");
    let commit = std::fs::read_to_string(repo_dir.join("refs/main")).expect("refs/main");
    assert_eq!(dir, repo_dir.join("snapshots").join(commit.trim()));
    for file in [
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "modules.json",
        "sentence_bert_config.json",
        "1_Pooling/config.json",
    ] {
        let path = dir.join(file);
        assert!(path.is_symlink(), "{file} is a link into blobs/");
        assert_eq!(
            std::fs::read(&path).expect("downloaded file"),
            std::fs::read(reference.model.join(file)).expect("original file"),
            "{file} arrived intact"
        );
    }
    assert!(
        !dir.join("README.md").exists(),
        "only the files the loader reads are fetched"
    );

    // The next run needs no network: the hub is gone and the cache answers.
    server.stop();
    assert_eq!(
        resolve_model_dir(None, Some(home.path()), DEFAULT_MODEL_REPO),
        Ok(dir.clone())
    );
    assert_eq!(
        locate_model(
            None,
            Some(home.path()),
            DEFAULT_MODEL_REPO,
            Some(&hub(&server.base))
        ),
        Ok(dir.clone())
    );

    let downloaded = Embedder::load(&dir).expect("downloaded model loads");
    let original = Embedder::load(&reference.model).expect("original model loads");
    assert_eq!(downloaded.model_id(), original.model_id());
    let texts: Vec<&str> = reference.texts.iter().take(8).map(String::as_str).collect();
    assert_eq!(
        downloaded.embed(&texts).expect("embeds"),
        original.embed(&texts).expect("embeds")
    );
}

#[test]
fn an_interrupted_download_resumes_without_fetching_what_is_there() {
    let Some(reference) = reference() else { return };
    if !python_has("http.server") {
        return;
    }
    let server = HubServer::start(&reference.model, DEFAULT_MODEL_REPO);
    let home = tempfile::tempdir().expect("temp dir");
    let first = download_model(&hub(&server.base), home.path(), DEFAULT_MODEL_REPO, "main")
        .expect("downloads");
    // Lose one file, as a killed download would; the resolver now rejects the snapshot.
    std::fs::remove_file(first.join("tokenizer.json")).expect("remove");
    let error = resolve_model_dir(None, Some(home.path()), DEFAULT_MODEL_REPO)
        .expect_err("incomplete snapshot");
    assert!(
        error.to_string().contains("missing tokenizer.json"),
        "{error}"
    );
    let model_blob = std::fs::canonicalize(first.join("model.safetensors")).expect("blob");
    let modified = std::fs::metadata(&model_blob)
        .and_then(|m| m.modified())
        .expect("mtime");
    let again = download_model(&hub(&server.base), home.path(), DEFAULT_MODEL_REPO, "main")
        .expect("downloads again");
    assert_eq!(again, first);
    assert!(again.join("tokenizer.json").is_file());
    assert_eq!(
        std::fs::metadata(&model_blob)
            .and_then(|m| m.modified())
            .expect("mtime"),
        modified,
        "the weights already in the snapshot were not fetched again"
    );
}

/// Asserts the parts every missing-model message must have.
fn assert_complete_message(message: &str, looked_in: &Path) {
    for needle in [
        &format!("looked in {}", looked_in.display()) as &str,
        "PAPERS_MODEL",
        "scripts/install-model.sh",
        "$HF_HOME/hub/models--sentence-transformers--all-MiniLM-L6-v2",
        "papers model download",
        "HF_ENDPOINT",
    ] {
        assert!(message.contains(needle), "{needle:?} not in:\n{message}");
    }
}

#[test]
fn failures_name_the_hub_and_every_other_way() {
    if reference().is_none() || !python_has("http.server") {
        return;
    }
    let model = reference().map(|r| r.model.clone()).expect("reference");
    let server = HubServer::start(&model, DEFAULT_MODEL_REPO);
    let home = tempfile::tempdir().expect("temp dir");
    let snapshots = home
        .path()
        .join("hub/models--sentence-transformers--all-MiniLM-L6-v2/snapshots");

    // An unknown repository: the hub answers 404.
    let error = locate_model(
        None,
        Some(home.path()),
        "nobody/no-such-model",
        Some(&hub(&server.base)),
    )
    .expect_err("no such repository");
    assert!(
        error
            .to_string()
            .contains("no nobody/no-such-model at revision main (HTTP 404)"),
        "{error}"
    );

    // A refused port: nothing listens there any more.
    let closed = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port");
    let refused = format!("http://{closed}");
    let error = locate_model(
        None,
        Some(home.path()),
        DEFAULT_MODEL_REPO,
        Some(&hub(&refused)),
    )
    .expect_err("refused");
    let message = error.to_string();
    assert!(
        message.contains(&format!("the hub at {refused} is unreachable")),
        "{message}"
    );
    assert_complete_message(&message, &snapshots);

    // A server that accepts connections and never answers: the probe's timeout ends it.
    let silent = TcpListener::bind("127.0.0.1:0").expect("bind");
    let silent_url = format!("http://{}", silent.local_addr().expect("addr"));
    let started = Instant::now();
    let error = locate_model(
        None,
        Some(home.path()),
        DEFAULT_MODEL_REPO,
        Some(&hub(&silent_url)),
    )
    .expect_err("timed out");
    let waited = started.elapsed();
    assert!(waited < Duration::from_secs(10), "gave up after {waited:?}");
    assert!(error.to_string().contains("unreachable"), "{error}");
    drop(silent);

    // Downloads off: the message says so and still lists the ways.
    let error =
        locate_model(None, Some(home.path()), DEFAULT_MODEL_REPO, None).expect_err("offline");
    let message = error.to_string();
    assert!(
        message.contains("the Hugging Face hub: not asked: downloads are off"),
        "{message}"
    );
    assert_complete_message(&message, &snapshots);

    // An explicit directory never falls back to the hub.
    let wrong = home.path().join("not-a-model");
    let error = locate_model(
        Some(&wrong),
        Some(home.path()),
        DEFAULT_MODEL_REPO,
        Some(&hub(&server.base)),
    )
    .expect_err("explicit directory is wrong");
    assert!(error.hub.is_none(), "{error}");
    assert!(!snapshots.exists(), "nothing was downloaded");
}

#[test]
fn debug_output_never_shows_the_access_token() {
    let mut hub = hub("http://127.0.0.1:9");
    hub.token = Some("hf_secret_token_value".to_owned());
    let printed = format!("{hub:?}");
    assert!(!printed.contains("hf_secret_token_value"), "{printed}");
    assert!(printed.contains("token: Some(\"***\")"), "{printed}");
}
