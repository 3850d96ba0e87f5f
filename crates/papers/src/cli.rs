//! The command line: global options and one argument struct per subcommand.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "papers", version, about = "A self-hosted Daily Papers service")]
pub struct Cli {
    /// Where the store and indexes live.
    #[arg(
        long,
        global = true,
        env = "PAPERS_DATA_DIR",
        default_value = "./papers-data"
    )]
    pub data_dir: PathBuf,

    /// The sentence-embedding model directory (else the Hugging Face cache).
    #[arg(long, global = true, env = "PAPERS_MODEL")]
    pub model: Option<PathBuf>,

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
    Serve(ServeArgs),
    /// Embed every paper that lacks a vector, then bring the search index up to date.
    Index,
    /// Rebuild the search indexes from the store.
    Reindex,
    /// Search titles and abstracts: words, "phrases", author:, cat:, after:, before:.
    Search(SearchArgs),
    /// The papers nearest to a stored paper.
    Similar(SimilarArgs),
    /// Retrieval quality on a benchmark.
    Eval(EvalArgs),
    /// The embedding model.
    Model(ModelArgs),
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
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[arg(long, env = "PAPERS_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: std::net::SocketAddr,
    /// The address readers reach the site at; the base of links in feeds and mail.
    #[arg(long, env = "PAPERS_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Worker threads for HTTP (default: the number of cores).
    #[arg(long, env = "PAPERS_WORKERS")]
    pub workers: Option<usize>,
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
