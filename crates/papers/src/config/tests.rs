//! The layers in order, the file's errors, and secrets kept out of `Debug`.

use std::collections::HashMap;
use std::ffi::OsString;

use super::*;

/// Loads the configuration of `papers ARGS` with only `env` set and, when given, a
/// file holding `file` named by `PAPERS_CONFIG`.
fn load(args: &[&str], env: &[(&str, &str)], file: Option<&str>) -> anyhow::Result<Config> {
    let dir = tempfile::tempdir()?;
    let mut vars: HashMap<String, OsString> = env
        .iter()
        .map(|(name, value)| ((*name).to_owned(), OsString::from(value)))
        .collect();
    if let Some(text) = file {
        let path = dir.path().join("papers.toml");
        std::fs::write(&path, text)?;
        vars.insert(CONFIG_ENV.to_owned(), path.into_os_string());
    }
    let matches =
        command().try_get_matches_from(std::iter::once("papers").chain(args.iter().copied()))?;
    Config::load(&matches, &|name| vars.get(name).cloned())
}

fn origin(config: &Config, key: &str) -> Origin {
    config
        .origins
        .entries
        .iter()
        .find(|entry| entry.spec.key == key)
        .map(|entry| entry.origin.clone())
        .unwrap_or_else(|| panic!("no entry for {key}"))
}

#[test]
fn every_flag_lands_on_a_subcommand_that_exists() {
    command().debug_assert();
}

#[test]
fn defaults_apply_when_nothing_is_set() {
    let config = load(&["stats"], &[], None).expect("loads");
    assert_eq!(config.store.data_dir, PathBuf::from("./papers-data"));
    assert_eq!(config.model.id, DEFAULT_MODEL_REPO);
    assert_eq!(
        config.web.addr,
        "127.0.0.1:8080".parse::<SocketAddr>().expect("addr")
    );
    assert_eq!(config.digest.tz, chrono_tz::America::New_York);
    assert!(!config.model.offline && !config.model.portable);
    assert_eq!(config.model.hf_home, None, "no HOME, no HF_HOME");
    assert!(config.store.database_url.is_none());
    assert_eq!(origin(&config, "store.data_dir"), Origin::Default);
    assert_eq!(origin(&config, "mail.smtp_url"), Origin::Unset);
    assert_eq!(config.origins.entries.len(), SPECS.len());
}

#[test]
fn a_flag_beats_the_environment_which_beats_the_file() {
    let file = "[web]\naddr = \"10.0.0.1:1\"\nworkers = 3\n\n[model]\nid = \"file/model\"\n\
                offline = true\n\n[store]\ndata_dir = \"/from/file\"\n";
    let env = [
        ("PAPERS_ADDR", "10.0.0.2:2"),
        ("PAPERS_MODEL_ID", "env/model"),
        ("HOME", "/home/reader"),
    ];
    let config = load(&["serve", "--addr", "10.0.0.3:3"], &env, Some(file)).expect("loads");
    assert_eq!(config.web.addr.to_string(), "10.0.0.3:3");
    assert_eq!(origin(&config, "web.addr"), Origin::Flag("addr"));
    assert_eq!(config.model.id, "env/model");
    assert_eq!(origin(&config, "model.id"), Origin::Env("PAPERS_MODEL_ID"));
    assert_eq!(config.web.workers, Some(3));
    assert!(matches!(
        origin(&config, "web.workers"),
        Origin::File { line: 3, .. }
    ));
    assert!(config.model.offline);
    assert_eq!(config.store.data_dir, PathBuf::from("/from/file"));
    assert_eq!(
        config.model.hf_home,
        Some(PathBuf::from("/home/reader/.cache/huggingface"))
    );

    // A global flag, before or after the subcommand, beats the file too.
    for args in [
        &["--data-dir", "/from/flag", "stats"][..],
        &["stats", "--data-dir", "/from/flag"][..],
    ] {
        let config = load(args, &[], Some(file)).expect("loads");
        assert_eq!(
            config.store.data_dir,
            PathBuf::from("/from/flag"),
            "{args:?}"
        );
        assert_eq!(origin(&config, "store.data_dir"), Origin::Flag("data-dir"));
    }
}

#[test]
fn an_empty_variable_counts_as_unset() {
    let config = load(&["stats"], &[("PAPERS_DATABASE_URL", "")], None).expect("loads");
    assert!(config.store.database_url.is_none());
}

#[test]
fn flags_are_taken_only_by_the_commands_they_concern() {
    assert!(load(&["stats", "--addr", "127.0.0.1:1"], &[], None).is_err());
    let config = load(&["config", "--smtp-url", "smtp://h"], &[], None).expect("loads");
    assert_eq!(origin(&config, "mail.smtp_url"), Origin::Flag("smtp-url"));
    let config = load(
        &["digest", "send", "--public-url", "https://p.test"],
        &[],
        None,
    )
    .expect("loads");
    assert_eq!(config.web.public_url.as_deref(), Some("https://p.test"));
}

#[test]
fn bad_values_name_where_they_came_from() {
    let error = load(&["serve"], &[("PAPERS_WORKERS", "many")], None).expect_err("fails");
    assert!(format!("{error:#}").contains("PAPERS_WORKERS"), "{error:#}");

    let error = load(&["serve"], &[], Some("[web]\n\naddr = \"nowhere\"\n")).expect_err("fails");
    let message = format!("{error:#}");
    assert!(message.contains("papers.toml:3: web.addr"), "{message}");

    let error = load(&["serve", "--addr", "nowhere"], &[], None).expect_err("clap refuses");
    assert!(error.to_string().contains("--addr"), "{error}");
}

#[test]
fn the_file_must_parse_and_hold_only_known_settings() {
    let error = load(&["stats"], &[], Some("[store]\ndata_dir = \n")).expect_err("fails");
    let message = format!("{error:#}");
    assert!(message.contains("papers.toml"), "{message}");
    assert!(message.contains("line 2"), "{message}");

    let error = load(&["stats"], &[], Some("[web]\nadr = \"127.0.0.1:1\"\n")).expect_err("fails");
    let message = format!("{error:#}");
    assert!(
        message.contains("papers.toml:2: unknown setting web.adr"),
        "{message}"
    );

    let error = load(&["stats"], &[], Some("[nope]\n")).expect_err("fails");
    assert!(
        format!("{error:#}").contains("unknown section [nope]"),
        "{error:#}"
    );

    let error = load(&["stats"], &[], Some("data_dir = \"x\"\n")).expect_err("fails");
    assert!(format!("{error:#}").contains("[section]"), "{error:#}");
}

#[test]
fn secrets_stay_out_of_debug_and_shown_values() {
    let env = [
        ("PAPERS_SECRET", "link-signing-key"),
        ("PAPERS_SMTP_PASSWORD", "pw-of-smtp"),
        ("PAPERS_SMTP_URL", "smtp://mailer:url-password@mail.test"),
        (
            "PAPERS_DATABASE_URL",
            "postgres://papers:db-password@db/papers",
        ),
        ("HF_TOKEN", "hf-token"),
    ];
    let config = load(&["serve"], &env, None).expect("loads");
    let shown: Vec<String> = config
        .origins
        .entries
        .iter()
        .filter_map(|entry| entry.shown.as_ref().map(ToString::to_string))
        .collect();
    let everything = format!("{config:?} {}", shown.join(" "));
    for secret in [
        "link-signing-key",
        "pw-of-smtp",
        "url-password",
        "db-password",
        "hf-token",
    ] {
        assert!(
            !everything.contains(secret),
            "{secret} leaked: {everything}"
        );
    }
    assert!(
        everything.contains("postgres://papers:***@db/papers"),
        "{everything}"
    );
    assert_eq!(
        config.mail.secret.as_ref().map(|s| s.expose().as_slice()),
        Some(&b"link-signing-key"[..])
    );
}

#[test]
fn trusted_proxies_are_networks() {
    let config = load(
        &["serve"],
        &[("PAPERS_TRUSTED_PROXIES", "10.0.0.0/8, ::1")],
        None,
    )
    .expect("loads");
    let proxies = config.web.trusted_proxies.expect("set");
    assert!(proxies.contains("10.2.3.4".parse().expect("ip")));
    assert!(proxies.contains("::1".parse().expect("ip")));
    assert!(!proxies.contains("192.0.2.1".parse().expect("ip")));
    let config = load(&["serve", "--trusted-proxies", "192.0.2.7"], &[], None).expect("flag");
    assert!(config.web.trusted_proxies.is_some());
    let error = load(
        &["serve"],
        &[("PAPERS_TRUSTED_PROXIES", "proxy.example")],
        None,
    )
    .expect_err("not a network");
    let message = format!("{error:#}");
    assert!(message.contains("PAPERS_TRUSTED_PROXIES"), "{message}");
}
