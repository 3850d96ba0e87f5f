//! `papers model download` and the automatic download, against the fake hub
//! (`crates/embed/tests/hub_server.py`) on 127.0.0.1 serving the installed model's files:
//! the download lands in `$HF_HOME/hub`, later runs use it offline and embed exactly as the
//! installed directory does, and a missing model with an unreachable hub fails fast with a
//! message that names every place and every way.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use papers_testkit::ServerProcess;

use crate::common::{papers, read_vectors, succeed};

/// The fake hub serving `model` as the default repository; killed on drop.
struct Hub {
    base: String,
    process: ServerProcess,
}

impl Hub {
    fn start(model: &Path) -> Option<Hub> {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../embed/tests/hub_server.py");
        let started = ServerProcess::start(
            Command::new("python3")
                .arg(script)
                .arg("--model-dir")
                .arg(model)
                .args(["--repo", "sentence-transformers/all-MiniLM-L6-v2"]),
        );
        let Ok(process) = started else {
            return papers_testkit::missing("python3 is missing");
        };
        let port = process.port().expect("hub server ready");
        Some(Hub {
            base: format!("http://127.0.0.1:{port}"),
            process,
        })
    }

    fn stop(&mut self) {
        self.process.stop();
    }
}

/// `papers` with no model configured: only `HF_HOME` and the hub settings given.
fn without_model(data_dir: &Path, hf_home: &Path, endpoint: Option<&str>) -> Command {
    let mut command = papers(data_dir);
    command
        .env_remove("PAPERS_MODEL")
        .env_remove("PAPERS_MODEL_ID")
        .env_remove("HF_TOKEN")
        .env("HF_HOME", hf_home);
    match endpoint {
        Some(endpoint) => command
            .env_remove("HF_HUB_OFFLINE")
            .env("HF_ENDPOINT", endpoint),
        None => command.env("HF_HUB_OFFLINE", "1").env_remove("HF_ENDPOINT"),
    };
    command
}

/// A few reference-like texts as `papers model encode` input.
fn texts_file(dir: &Path) -> PathBuf {
    let path = dir.join("texts.jsonl");
    let lines = [
        "Attention Is All You Need\nThe dominant sequence transduction models are based on recurrent networks.",
        "Dense retrieval for open-domain question answering",
        "",
        "Galaxy rotation curves without dark matter\nWe fit 175 rotation curves.",
    ]
    .map(|text| serde_json::json!({ "text": text }).to_string());
    std::fs::write(&path, lines.join("\n")).expect("write texts");
    path
}

fn encode(mut command: Command, input: &Path, output: &Path) -> Vec<Vec<f32>> {
    command
        .args(["model", "encode", "--input"])
        .arg(input)
        .arg("--output")
        .arg(output);
    succeed(command);
    read_vectors(output, 384)
}

#[test]
fn a_missing_model_is_downloaded_once_then_used_offline() {
    let Some(installed) = papers_testkit::model() else {
        return;
    };
    let Some(mut hub) = Hub::start(&installed) else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let (data, home) = (dir.path().join("data"), dir.path().join("hf"));
    let input = texts_file(dir.path());

    let expected = {
        let mut command = papers(&data);
        command.arg("--model").arg(&installed);
        encode(command, &input, &dir.path().join("installed.f32"))
    };

    // Nothing local: `model encode` downloads from the hub, says so, and embeds.
    let mut command = without_model(&data, &home, Some(&hub.base));
    command
        .args(["model", "encode", "--input"])
        .arg(&input)
        .arg("--output")
        .arg(dir.path().join("auto.f32"));
    let output = command.output().expect("papers runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("downloading it from http://127.0.0.1:"),
        "{stderr}"
    );
    assert_eq!(read_vectors(&dir.path().join("auto.f32"), 384), expected);

    // The hub is gone and downloads are off: the cache answers.
    hub.stop();
    let info = succeed({
        let mut command = without_model(&data, &home, None);
        command.args(["model", "info"]);
        command
    });
    let snapshots = home.join("hub/models--sentence-transformers--all-MiniLM-L6-v2/snapshots");
    assert!(
        info.contains(&format!("directory  {}", snapshots.display())),
        "{info}"
    );
    let offline = encode(
        without_model(&data, &home, None),
        &input,
        &dir.path().join("offline.f32"),
    );
    assert_eq!(offline, expected);
}

#[test]
fn model_download_prints_the_directory_it_filled() {
    let Some(installed) = papers_testkit::model() else {
        return;
    };
    let Some(hub) = Hub::start(&installed) else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let home = dir.path().join("hf");
    let mut command = without_model(&dir.path().join("data"), &home, Some(&hub.base));
    command.args(["model", "download"]);
    let printed = succeed(command);
    let printed = PathBuf::from(printed.trim());
    assert!(
        printed.starts_with(
            home.join("hub/models--sentence-transformers--all-MiniLM-L6-v2/snapshots")
        ),
        "{}",
        printed.display()
    );
    let mut command = papers(&dir.path().join("data"));
    command.arg("--model").arg(&printed).args(["model", "info"]);
    assert!(succeed(command).contains("model      bert-6x384-mean-norm-256@"));

    // Downloading is refused, not attempted, when the hub is declared off limits.
    let mut command = without_model(&dir.path().join("data"), &home, None);
    let output = command.args(["model", "download"]).output().expect("runs");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("HF_HUB_OFFLINE"));
}

#[test]
fn no_model_and_an_unreachable_hub_fail_fast_naming_every_way() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (data, home) = (dir.path().join("data"), dir.path().join("hf"));
    let closed = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port");
    let endpoint = format!("http://{closed}");
    let started = Instant::now();
    let output = without_model(&data, &home, Some(&endpoint))
        .args(["model", "info"])
        .output()
        .expect("runs");
    assert!(started.elapsed() < Duration::from_secs(30));
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    for needle in [
        &format!(
            "looked in {}",
            home.join("hub/models--sentence-transformers--all-MiniLM-L6-v2/snapshots")
                .display()
        ) as &str,
        &format!("the hub at {endpoint} is unreachable"),
        "--model DIR or PAPERS_MODEL=DIR",
        "scripts/install-model.sh",
        "papers model download",
        "HF_HUB_OFFLINE=1",
    ] {
        assert!(stderr.contains(needle), "{needle:?} not in:\n{stderr}");
    }

    // Search goes on lexically and says why, naming the hub.
    let output = without_model(&data, &home, Some(&endpoint))
        .args(["search", "anything"])
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("searching by keywords only"), "{stderr}");
    assert!(stderr.contains("unreachable"), "{stderr}");
}
