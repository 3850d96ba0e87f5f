//! `papers config` and the layers behind it: secrets masked, a flag over the environment
//! over the file, a bad file named with its line, and commands reading the file.

use std::path::Path;
use std::process::Command;

use crate::common::{papers, succeed};

/// Every variable these tests set, removed first so the caller's environment cannot
/// leak in.
const VARIABLES: [&str; 10] = [
    "PAPERS_CONFIG",
    "PAPERS_MODEL_ID",
    "PAPERS_ADDR",
    "PAPERS_WORKERS",
    "PAPERS_DIGEST_TZ",
    "PAPERS_SECRET",
    "PAPERS_SMTP_URL",
    "PAPERS_SMTP_PASSWORD",
    "PAPERS_DATABASE_URL",
    "HF_TOKEN",
];

fn clean(mut command: Command) -> Command {
    for name in VARIABLES {
        command.env_remove(name);
    }
    command
}

/// The value and origin of the line that sets `name` (`name = value  # origin`), with
/// the padding between them closed up to one space.
fn line(output: &str, name: &str) -> String {
    let line = output
        .lines()
        .find(|line| line.starts_with(&format!("{name} = ")))
        .unwrap_or_else(|| panic!("no {name} line in:\n{output}"));
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn secrets_are_masked() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut command = clean(papers(dir.path()));
    command
        .env("PAPERS_SECRET", "link-signing-key")
        .env("PAPERS_SMTP_PASSWORD", "pw-of-smtp")
        .env(
            "PAPERS_SMTP_URL",
            "smtp://mailer:url-password@mail.test:2525",
        )
        .env(
            "PAPERS_DATABASE_URL",
            "postgres://papers:db-password@db/papers",
        )
        .env("HF_TOKEN", "hf-token")
        .arg("config");
    let output = succeed(command);
    for secret in [
        "link-signing-key",
        "pw-of-smtp",
        "url-password",
        "db-password",
        "hf-token",
    ] {
        assert!(!output.contains(secret), "{secret} shown:\n{output}");
    }
    assert!(
        line(&output, "database_url").contains("\"postgres://papers:***@db/papers\""),
        "{output}"
    );
    assert!(
        line(&output, "smtp_url").contains("\"smtp://mailer:***@mail.test:2525\""),
        "{output}"
    );
    assert_eq!(
        line(&output, "secret"),
        "secret = \"***\" # env PAPERS_SECRET"
    );
    assert_eq!(
        line(&output, "hf_token"),
        "hf_token = \"***\" # env HF_TOKEN"
    );
}

#[test]
fn a_flag_beats_the_environment_which_beats_the_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("papers.toml");
    std::fs::write(
        &file,
        "[web]\naddr = \"10.0.0.1:1\"\nworkers = 2\n\n[model]\nid = \"file/model\"\n\n\
         [digest]\ntz = \"Europe/Paris\"\n",
    )
    .expect("write the file");
    let mut command = clean(papers(dir.path()));
    command
        .env("PAPERS_CONFIG", &file)
        .env("PAPERS_ADDR", "10.0.0.2:2")
        .env("PAPERS_MODEL_ID", "env/model")
        .args(["config", "--addr", "10.0.0.3:3"]);
    let output = succeed(command);
    let shown = file.display();
    assert!(output.contains(&format!("# file: {shown} (env PAPERS_CONFIG)")));
    assert!(
        line(&output, "addr").ends_with("\"10.0.0.3:3\" # flag --addr"),
        "{output}"
    );
    assert!(line(&output, "id").contains("\"env/model\""), "{output}");
    assert!(
        line(&output, "id").ends_with("# env PAPERS_MODEL_ID"),
        "{output}"
    );
    assert!(line(&output, "workers").contains("= 2"), "{output}");
    assert!(
        line(&output, "workers").ends_with(&format!("# file {shown}:3")),
        "{output}"
    );
    assert!(
        line(&output, "tz").ends_with(&format!("# file {shown}:9")),
        "{output}"
    );
    assert!(line(&output, "time").ends_with("# default"), "{output}");
    assert!(
        line(&output, "data_dir").ends_with("# flag --data-dir"),
        "{output}"
    );
}

#[test]
fn a_bad_file_is_an_error_naming_it_and_the_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("papers.toml");
    std::fs::write(&file, "[web]\naddr = \n").expect("write the file");
    for command in ["config", "stats"] {
        let output = clean(papers(dir.path()))
            .arg("--config")
            .arg(&file)
            .arg(command)
            .output()
            .expect("papers runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{command}: {stderr}");
        assert!(stderr.contains(&file.display().to_string()), "{stderr}");
        assert!(stderr.contains("line 2"), "{stderr}");
    }

    std::fs::write(&file, "[web]\nadress = \"127.0.0.1:1\"\n").expect("write the file");
    let output = clean(papers(dir.path()))
        .args(["--config".as_ref(), file.as_os_str(), "config".as_ref()])
        .output()
        .expect("papers runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("{}:2: unknown setting web.adress", file.display())),
        "{stderr}"
    );
}

#[test]
fn commands_read_the_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data_dir = dir.path().join("from-file");
    let file = dir.path().join("papers.toml");
    std::fs::write(
        &file,
        format!("[store]\ndata_dir = {:?}\n", data_dir.display().to_string()),
    )
    .expect("write the file");
    let mut command = clean(Command::new(env!("CARGO_BIN_EXE_papers")));
    command
        .env_remove("PAPERS_DATA_DIR")
        .env("HF_HUB_OFFLINE", "1")
        .current_dir(dir.path())
        .arg("--config")
        .arg(&file)
        .arg("stats");
    let output = succeed(command);
    assert!(output.starts_with("papers      0"), "{output}");
    assert!(
        Path::new(&data_dir).join("papers.sqlite3").is_file(),
        "the store is where the file says"
    );
}
