//! The command line: one argument struct per subcommand. The flags of settings
//! (`--data-dir`, `--addr`, `--smtp-url`, …) are declared with the settings in
//! `config.rs`, which adds them to the subcommands that take them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "papers", version, about = "A self-hosted Daily Papers service")]
pub struct Cli {
    /// More log output on stderr (-v, -vv).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Ingest paper metadata from files (OAI-PMH XML, arXiv Atom, Kaggle JSON lines,
    /// .abs files, Hugging Face API responses).
    Ingest(IngestArgs),
    /// Fetch new papers from arXiv or Hugging Face.
    Harvest(HarvestArgs),
    /// Counts of papers by source, category and feed month.
    Stats(StatsArgs),
    /// One paper.
    Show(ShowArgs),
    /// Serve the site, the JSON API and the feeds.
    Serve,
    /// Embed every paper that lacks a vector, then bring the search index up to date.
    Index,
    /// Rebuild the search indexes and the topic map from the store.
    Reindex,
    /// Cluster every paper's vector into topics and subtopics (the map behind
    /// /topics), keeping the ids of the last map where topics match.
    Topics(TopicsArgs),
    /// Search titles and abstracts: words, "phrases", author:, cat:, after:, before:.
    Search(SearchArgs),
    /// The papers nearest to a stored paper.
    Similar(SimilarArgs),
    /// Retrieval quality on a benchmark.
    Eval(EvalArgs),
    /// The embedding model.
    Model(ModelArgs),
    /// Email digests.
    Digest(DigestArgs),
    /// Print the configuration in force (flags, environment, file, defaults), with
    /// where each value came from; secrets are masked.
    Config,
    /// Members: create accounts, list them, grant and revoke roles.
    User(UserArgs),
    /// Personal access tokens for the JSON API.
    Token(TokenArgs),
}

#[derive(Debug, Args)]
pub struct UserArgs {
    #[command(subcommand)]
    pub action: UserAction,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RoleArg {
    Admin,
    Moderator,
}

#[derive(Debug, Subcommand)]
pub enum UserAction {
    /// Create a member (the sign-up rules apply). The password is read from the first
    /// line of standard input, so it never appears in the process list or shell history.
    Create {
        /// The username (2-32 letters, digits, '-' or '_').
        name: String,
        #[arg(long)]
        email: String,
        /// Grant the admin role too.
        #[arg(long)]
        admin: bool,
        /// Read the password from standard input (required).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Every member with their roles and token count.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Grant a role: admin (the /admin pages and API) or moderator.
    Grant { name: String, role: RoleArg },
    /// Take a role away.
    Revoke { name: String, role: RoleArg },
}

#[derive(Debug, Args)]
pub struct TokenArgs {
    #[command(subcommand)]
    pub action: TokenAction,
}

#[derive(Debug, Subcommand)]
pub enum TokenAction {
    /// Make a personal access token for a member and print it, once: only its digest
    /// is stored. Send it as `Authorization: Bearer TOKEN`.
    Create {
        /// The member's username.
        name: String,
        /// What the token is for, shown in the member's list.
        #[arg(long, default_value = "made with papers token create")]
        label: String,
    },
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    pub query: String,
    #[arg(long, default_value_t = 10)]
    pub limit: usize,
    /// lexical, dense or hybrid.
    #[arg(long, default_value = "hybrid")]
    pub mode: String,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct SimilarArgs {
    /// An arXiv id or URL.
    pub id: String,
    #[arg(long, default_value_t = 10)]
    pub limit: usize,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    #[command(subcommand)]
    pub benchmark: EvalBenchmark,
}

#[derive(Debug, Subcommand)]
pub enum EvalBenchmark {
    /// A BEIR data set: corpus.jsonl[.gz], queries.jsonl and a qrels TSV.
    Beir {
        dir: PathBuf,
        /// Judgements to evaluate against (default: qrels/test.tsv, dev, then train).
        #[arg(long)]
        qrels: Option<PathBuf>,
        #[arg(long, default_value = "hybrid")]
        mode: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct ModelArgs {
    #[command(subcommand)]
    pub action: ModelAction,
}

#[derive(Debug, Subcommand)]
pub enum ModelAction {
    /// Embed lines {"text": ...} into row-major little-endian float32 rows.
    Encode {
        #[arg(long)]
        input: PathBuf,
        #[arg(long)]
        output: PathBuf,
    },
    /// Print the model directory in use and its identity.
    Info,
    /// Download the model (`--model-id`) from the Hugging Face hub, or the mirror in
    /// HF_ENDPOINT, into the cache ($HF_HOME/hub, else ~/.cache/huggingface/hub), where
    /// later runs find it offline. Prints the model directory. Other commands download on
    /// their own when no model is found locally, unless HF_HUB_OFFLINE=1.
    Download {
        /// A branch, tag or commit of the repository.
        #[arg(long, default_value = "main")]
        revision: String,
    },
}

#[derive(Debug, Args)]
pub struct DigestArgs {
    #[command(subcommand)]
    pub action: DigestAction,
}

#[derive(Debug, Subcommand)]
pub enum DigestAction {
    /// Compose and mail the digests due on a day, each at most once.
    Send(DigestSendArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PeriodArg {
    Daily,
    Weekly,
}

#[derive(Debug, Args)]
pub struct DigestSendArgs {
    #[arg(long, value_enum, default_value = "daily")]
    pub period: PeriodArg,
    /// The day the digest is due (YYYY-MM-DD; default: today's feed day in New York).
    /// A daily digest due on D covers feed day D-1; a weekly one the ISO week before
    /// D's. Sends a missed day late; what was sent already is skipped.
    #[arg(long)]
    pub as_of: Option<chrono::NaiveDate>,
    /// Compose and count without mailing or recording anything.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct IngestArgs {
    /// Files or directories (of .abs files). Gzip is detected and decompressed.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Skip format detection: oai-pmh, arxiv-atom, kaggle, abs, hf-daily, hf-paper.
    #[arg(long)]
    pub format: Option<String>,
    /// Store the valid records of a file that has bad ones, and list each bad one.
    #[arg(long)]
    pub skip_invalid: bool,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct HarvestArgs {
    #[command(subcommand)]
    pub source: HarvestSource,
}

#[derive(Debug, Subcommand)]
pub enum HarvestSource {
    /// arXiv OAI-PMH ListRecords from a date, following resumption tokens.
    Arxiv {
        /// First datestamp to harvest (YYYY-MM-DD).
        #[arg(long)]
        from: chrono::NaiveDate,
        /// Last datestamp (YYYY-MM-DD).
        #[arg(long)]
        until: Option<chrono::NaiveDate>,
        /// OAI set, e.g. `cs` or `physics:hep-th`.
        #[arg(long)]
        set: Option<String>,
        /// `arXiv` or `arXivRaw` (which carries the version history).
        #[arg(long, default_value = "arXivRaw")]
        metadata_prefix: String,
        #[arg(long, default_value = "https://oaipmh.arxiv.org/oai")]
        base_url: String,
    },
    /// One day of the Hugging Face daily papers.
    Hf {
        #[arg(long)]
        date: chrono::NaiveDate,
        #[arg(long, default_value = "https://huggingface.co")]
        base_url: String,
    },
}

#[derive(Debug, Args)]
pub struct TopicsArgs {
    /// Print every topic and subtopic as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// An arXiv id or URL.
    pub id: String,
    #[arg(long)]
    pub json: bool,
}
