//! The binary's configuration: every setting, read once in `main` from flags, the
//! environment and an optional TOML file, into one typed [`Config`] that the commands
//! receive. Nothing else in the binary reads the environment.
//!
//! A value comes from the first of: a flag, an environment variable, the file
//! (`--config FILE` or `PAPERS_CONFIG`), the default. An empty variable counts as unset.
//! The file has one table per section below (`[store]`, `[model]`, `[web]`, `[mail]`,
//! `[digest]`, `[harvest]`, `[topics]`, `[log]`) and one key per setting, named as the field; a key no setting
//! has is an error. `papers config` prints the result, with where each value came from.
//!
//! To add a setting, add a field to the table below: its doc comment becomes the flag's
//! help, and the flag, variable, file key, default and `papers config` line follow.
//! Secrets are typed [`Secret`] or [`SecretUrl`], which never print their value.

mod layers;
mod secret;
pub(crate) mod setting;

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{ArgMatches, CommandFactory};
use papers_store::{Database, Store};

use self::layers::{Env, File, Layers};
pub use self::secret::{Secret, SecretUrl};
use self::setting::Fallback::{Text, UnderHome};
use self::setting::Scope::{self, Commands, Global};
use self::setting::{Entry, Origin, settings};
use crate::cli::Cli;
use crate::harvester::{HarvestSpec, Interval};

/// The model searched for in the cache and on the hub unless `--model-id` names another;
/// also the model id an index is tagged with when no model is available, so a later run
/// with the model finds the same index and fills in the vectors.
pub const DEFAULT_MODEL_REPO: &str = "sentence-transformers/all-MiniLM-L6-v2";

/// `papers serve` only.
const SERVE: Scope = Commands(&[&["serve"]]);
/// The commands that mail: `papers serve` (confirmations, the scheduler) and
/// `papers digest send`.
const MAILING: Scope = Commands(&[&["serve"], &["digest", "send"]]);

settings! {
    /// Where papers are kept.
    store: StoreConfig {
        /// Where the store and indexes live.
        data_dir: PathBuf {
            flag: "data-dir", on: Global,
            env: "PAPERS_DATA_DIR",
            default: Text("./papers-data"),
        }
        /// A shared PostgreSQL store (`postgres://user:password@host/db`) instead of
        /// SQLite in the data directory; the indexes stay in the data directory.
        database_url: Option<SecretUrl> {
            flag: "database-url", on: Global,
            env: "PAPERS_DATABASE_URL",
        }
    }

    /// The sentence-embedding model and where it comes from.
    model: ModelConfig {
        /// The sentence-embedding model directory (else the Hugging Face cache, else a
        /// download from the hub: see `papers model download`).
        path: Option<PathBuf> {
            flag: "model", on: Global,
            env: "PAPERS_MODEL",
        }
        /// The Hugging Face repository of the model, looked for in the cache
        /// ($HF_HOME/hub) and downloaded from the hub ($HF_ENDPOINT) when missing there.
        id: String {
            flag: "model-id", on: Global,
            env: "PAPERS_MODEL_ID",
            default: Text(DEFAULT_MODEL_REPO),
        }
        /// The portable fp32 kernels even where AVX-512 BF16 is available.
        portable: bool {
            env: "PAPERS_EMBED_PORTABLE",
            default: Text("false"),
        }
        /// The Hugging Face cache; models are looked for and downloaded under `hub/`.
        hf_home: Option<PathBuf> {
            env: "HF_HOME",
            default: UnderHome(".cache/huggingface"),
        }
        /// The hub to download from (a mirror, or a test server).
        hf_endpoint: String {
            env: "HF_ENDPOINT",
            default: Text(papers_embed::DEFAULT_ENDPOINT),
        }
        /// An access token for gated or private models.
        hf_token: Option<Secret<String>> {
            env: "HF_TOKEN",
        }
        /// Never download: use the cache or an explicit directory only.
        offline: bool {
            env: "HF_HUB_OFFLINE",
            default: Text("false"),
        }
    }

    /// The site.
    web: WebConfig {
        /// The address `papers serve` listens on.
        addr: SocketAddr {
            flag: "addr", on: SERVE,
            env: "PAPERS_ADDR",
            default: Text("127.0.0.1:8080"),
        }
        /// The address readers reach the site at: the base of links in feeds and mail
        /// (`papers serve` defaults to http://ADDR; `papers digest send` needs it).
        public_url: Option<String> {
            flag: "public-url", on: MAILING,
            env: "PAPERS_PUBLIC_URL",
        }
        /// Proxies whose `X-Forwarded-For` names the client: addresses or networks such
        /// as `10.0.0.0/8, ::1` (default: none; the connection's peer is the client).
        trusted_proxies: Option<papers_web::TrustedProxies> {
            flag: "trusted-proxies", on: SERVE,
            env: "PAPERS_TRUSTED_PROXIES",
        }
        /// Worker threads for HTTP (default: the number of cores).
        workers: Option<usize> {
            flag: "workers", on: SERVE,
            env: "PAPERS_WORKERS",
        }
        /// How many days after its first version on arXiv a paper may still be
        /// submitted to the daily feed (as on Hugging Face); 0 for no limit.
        submit_max_age_days: usize {
            flag: "submit-max-age-days", on: SERVE,
            env: "PAPERS_SUBMIT_MAX_AGE_DAYS",
            default: Text("14"),
        }
        /// Papers one member may submit per hour.
        submit_per_hour: usize {
            flag: "submit-per-hour", on: SERVE,
            env: "PAPERS_SUBMIT_PER_HOUR",
            default: Text("20"),
        }
        /// Comments (with edits of comments and reports) one member may write per hour.
        comments_per_hour: usize {
            flag: "comments-per-hour", on: SERVE,
            env: "PAPERS_COMMENTS_PER_HOUR",
            default: Text("30"),
        }
        /// Megabytes of rendered pages kept in memory for anonymous readers (the
        /// response cache; it also keeps at most 4,096 pages).
        cache_mb: usize {
            flag: "cache-mb", on: SERVE,
            env: "PAPERS_CACHE_MB",
            default: Text("64"),
        }
    }

    /// Mail: SMTP, the sender, and the key that signs mailed links.
    mail: MailConfig {
        /// `smtp://[user[:password]@]host[:port]` (STARTTLS when offered) or `smtps://…`;
        /// without it no mail is sent.
        smtp_url: Option<SecretUrl> {
            flag: "smtp-url", on: MAILING,
            env: "PAPERS_SMTP_URL",
        }
        /// Replaces the password in the SMTP URL.
        smtp_password: Option<Secret<String>> {
            flag: "smtp-password", on: MAILING,
            env: "PAPERS_SMTP_PASSWORD",
        }
        /// The sender of every mail, e.g. `Daily Papers <papers@example.org>`.
        from: Option<String> {
            flag: "mail-from", on: MAILING,
            env: "PAPERS_MAIL_FROM",
        }
        /// Signs confirmation and unsubscribe links (default: `<data-dir>/secret`,
        /// created once). Nodes sharing a PostgreSQL store must share it.
        secret: Option<Secret<Vec<u8>>> {
            env: "PAPERS_SECRET",
        }
    }

    /// The digest scheduler of `papers serve`, and what digests pick from.
    digest: DigestConfig {
        /// When the scheduler sends the digests (HH:MM, in --digest-tz).
        time: chrono::NaiveTime {
            flag: "digest-time", on: SERVE,
            env: "PAPERS_DIGEST_TIME",
            default: Text("08:00"),
        }
        /// The time zone of --digest-time (an IANA name).
        tz: chrono_tz::Tz {
            flag: "digest-tz", on: SERVE,
            env: "PAPERS_DIGEST_TZ",
            default: Text("America/New_York"),
        }
        /// The `embeddings.model` whose vectors the "picked for you" section uses
        /// (default: the identity of the loaded embedding model).
        embedding_model: Option<String> {
            flag: "embedding-model", on: MAILING,
            env: "PAPERS_EMBEDDING_MODEL",
        }
    }

    /// Scheduled harvesting in `papers serve`: what, from where, and how often.
    harvest: HarvestConfig {
        /// What `papers serve` keeps harvesting, space-separated: `arxiv:CATEGORY,…`
        /// (OAI-PMH, one set per archive, filtered to the categories; a bare archive
        /// such as `cs` keeps all of it) and `hf` (Hugging Face daily papers), e.g.
        /// "arxiv:cs.CL,cs.IR,stat.ML hf". Unset: no harvesting.
        sources: Option<HarvestSpec> {
            flag: "harvest", on: SERVE,
            env: "PAPERS_HARVEST",
        }
        /// The day a store that never harvested arXiv starts from (YYYY-MM-DD; default:
        /// two days ago). Later harvests continue where the last one ended.
        since: Option<chrono::NaiveDate> {
            flag: "harvest-since", on: SERVE,
            env: "PAPERS_HARVEST_SINCE",
        }
        /// arXiv's OAI-PMH endpoint.
        arxiv_oai_url: String {
            flag: "arxiv-oai-url", on: SERVE,
            env: "PAPERS_ARXIV_OAI_URL",
            default: Text(papers_ingest::harvest::oai::DEFAULT_BASE),
        }
        /// arXiv's API (Atom, `/api/query`), which `papers serve` fetches submitted
        /// papers from: arXiv's, a mirror, or a test server.
        arxiv_api_url: String {
            flag: "arxiv-api-url", on: SERVE,
            env: "PAPERS_ARXIV_API_URL",
            default: Text(papers_ingest::harvest::arxiv_api::DEFAULT_BASE),
        }
        /// The Hugging Face site whose daily papers API is read.
        hf_url: String {
            flag: "hf-url", on: SERVE,
            env: "PAPERS_HF_URL",
            default: Text(papers_ingest::harvest::hf::DEFAULT_BASE),
        }
        /// When arXiv is harvested each day (HH:MM in --arxiv-tz): after its nightly
        /// announcement at 20:00 America/New_York.
        arxiv_time: chrono::NaiveTime {
            flag: "arxiv-time", on: SERVE,
            env: "PAPERS_ARXIV_TIME",
            default: Text("21:00"),
        }
        /// The time zone of --arxiv-time (an IANA name).
        arxiv_tz: chrono_tz::Tz {
            flag: "arxiv-tz", on: SERVE,
            env: "PAPERS_ARXIV_TZ",
            default: Text("America/New_York"),
        }
        /// The longest time between two arXiv harvests (s, m, h or d): a node started
        /// longer than this after the last success harvests at once.
        arxiv_interval: Interval {
            flag: "arxiv-interval", on: SERVE,
            env: "PAPERS_ARXIV_INTERVAL",
            default: Text("24h"),
        }
        /// How often Hugging Face's recent days are fetched again (s, m, h or d).
        hf_interval: Interval {
            flag: "hf-interval", on: SERVE,
            env: "PAPERS_HF_INTERVAL",
            default: Text("1h"),
        }
        /// How many days of Hugging Face daily papers each refresh reads, today first.
        hf_days: usize {
            flag: "hf-days", on: SERVE,
            env: "PAPERS_HF_DAYS",
            default: Text("3"),
        }
        /// The least time between two requests to one source, in milliseconds (arXiv
        /// asks for 3 seconds).
        request_delay_ms: usize {
            flag: "harvest-request-delay-ms", on: SERVE,
            env: "PAPERS_HARVEST_REQUEST_DELAY_MS",
            default: Text("3000"),
        }
        /// The wait before retrying a failed harvest (s, m, h or d), doubled after each
        /// failure in a row up to the source's interval.
        retry_delay: Interval {
            flag: "harvest-retry-delay", on: SERVE,
            env: "PAPERS_HARVEST_RETRY_DELAY",
            default: Text("5m"),
        }
    }

    /// The topic map (`papers topics`).
    topics: TopicsConfig {
        /// `papers serve` rebuilds the topic map once the papers with a vector have
        /// grown by this percentage since the last build (0: only `papers topics` and
        /// `papers reindex` build it).
        rebuild_percent: usize {
            flag: "topics-rebuild-percent", on: SERVE,
            env: "PAPERS_TOPICS_REBUILD_PERCENT",
            default: Text("10"),
        }
    }

    /// Logging and colour.
    log: LogConfig {
        /// What to log on stderr, as tracing's filter directives (e.g. `debug`,
        /// `papers=debug,warn`); -v and -vv otherwise.
        filter: Option<String> {
            env: "PAPERS_LOG",
        }
        /// Set to anything to turn colour off (https://no-color.org).
        no_color: Option<String> {
            env: "NO_COLOR",
        }
    }
}

/// Where the values in force came from, for `papers config`.
#[derive(Debug, Clone, Default)]
pub struct Origins {
    /// The file read, and how it was named; `None` without one.
    pub file: Option<(PathBuf, Origin)>,
    /// Every setting with its value as shown (secrets masked) and origin, in table order.
    pub entries: Vec<Entry>,
}

/// The clap argument id of `--config`.
const CONFIG_FILE: &str = "config_file";
const CONFIG_ENV: &str = "PAPERS_CONFIG";

/// The command line: the subcommands from `cli.rs`, with every setting's flag added to
/// the subcommands its scope names (and to `papers config`).
pub fn command() -> clap::Command {
    let mut command = Cli::command().arg(
        clap::Arg::new(CONFIG_FILE)
            .long("config")
            .value_name("FILE")
            .global(true)
            .value_parser(clap::value_parser!(PathBuf))
            .help(format!(
                "A TOML file of settings, under the environment and flags [env: {CONFIG_ENV}]"
            )),
    );
    for spec in SPECS {
        let (Some(arg), Some(flag)) = (spec.arg(), spec.flag) else {
            continue;
        };
        command = match flag.scope {
            Global => command.arg(arg),
            Commands(paths) => paths
                .iter()
                .copied()
                .chain([&["config"][..]])
                .fold(command, |command, path| add_arg(command, path, arg.clone())),
        };
    }
    command
}

fn add_arg(command: clap::Command, path: &[&'static str], arg: clap::Arg) -> clap::Command {
    match path {
        [] => command.arg(arg),
        [first, rest @ ..] => command.mut_subcommand(first, |sub| add_arg(sub, rest, arg)),
    }
}

impl Config {
    /// Resolves every setting from the parsed command line, the environment `env` and
    /// the file it names.
    pub fn load(matches: &ArgMatches, env: Env<'_>) -> anyhow::Result<Config> {
        let layers = Layers::new(matches, env, None);
        let file = match layers.flag::<PathBuf>(CONFIG_FILE) {
            Some(path) => Some((path, Origin::Flag("config"))),
            None => layers
                .env(CONFIG_ENV)
                .map(|path| (PathBuf::from(path), Origin::Env(CONFIG_ENV))),
        };
        let parsed = file
            .as_ref()
            .map(|(path, _)| File::read(path))
            .transpose()?;
        let mut layers = Layers::new(matches, env, parsed);
        let mut config = Config::resolve(&mut layers)?;
        config.origins = Origins {
            file,
            entries: layers.finish(SPECS)?,
        };
        Ok(config)
    }
}

impl StoreConfig {
    /// Where the store lives: PostgreSQL when a URL is given, else the data directory.
    pub fn database(&self) -> Database {
        Database::choose(
            &self.data_dir,
            self.database_url.as_ref().map(SecretUrl::expose),
        )
    }

    /// Opens the store (applying migrations), naming it in the error.
    pub fn open(&self) -> anyhow::Result<Store> {
        let database = self.database();
        Store::connect(&database)
            .with_context(|| format!("opening the store at {}", database.describe()))
    }
}

impl LogConfig {
    /// Whether to colour what goes to a stream: not with `NO_COLOR`, not off a terminal.
    pub fn color(&self, stream: &impl std::io::IsTerminal) -> bool {
        self.no_color.is_none() && stream.is_terminal()
    }
}

/// The process environment, for `main`.
pub fn process_env(name: &str) -> Option<OsString> {
    std::env::var_os(name)
}

#[cfg(test)]
mod tests;
