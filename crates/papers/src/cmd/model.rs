//! `papers model encode`, `papers model info` and `papers model download`.

use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::process::ExitCode;

use anyhow::{Context, bail};

use crate::cli::{ModelAction, ModelArgs};
use crate::config::Config;
use crate::output::outln;
use crate::search_service::ModelChoice;

pub fn run(config: &Config, args: &ModelArgs) -> anyhow::Result<ExitCode> {
    let choice = ModelChoice::from_config(&config.model);
    match &args.action {
        ModelAction::Encode { input, output } => {
            let embedder = choice.load()?;
            let reader = BufReader::new(
                File::open(input).with_context(|| format!("opening {}", input.display()))?,
            );
            let writer = BufWriter::new(
                File::create(output).with_context(|| format!("creating {}", output.display()))?,
            );
            let rows = papers_embed::encode_jsonl(&embedder, reader, writer)
                .with_context(|| format!("encoding {}", input.display()))?;
            eprintln!(
                "wrote {rows} vectors of {} floats to {}",
                embedder.dim(),
                output.display()
            );
        }
        ModelAction::Info => {
            let dir = choice.locate()?;
            let embedder = choice.open(&dir)?;
            outln!("directory  {}", dir.display())?;
            outln!("model      {}", embedder.model_id())?;
            outln!("dimension  {}", embedder.dim())?;
            outln!("max tokens {}", embedder.max_seq_length())?;
            outln!("kernel     {:?}", embedder.kernel())?;
        }
        ModelAction::Download { revision } => download(&choice, revision)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Downloads into the cache, checks that the result loads, and prints its directory (so
/// `export PAPERS_MODEL=$(papers model download)` works).
fn download(choice: &ModelChoice, revision: &str) -> anyhow::Result<()> {
    let Some(hub) = &choice.hub else {
        bail!("HF_HUB_OFFLINE is set: unset it to download from the Hugging Face hub");
    };
    let Some(home) = &choice.hf_home else {
        bail!("no cache directory to download into: set HF_HOME (or HOME)");
    };
    eprintln!(
        "downloading {} ({revision}) from {} into {}",
        choice.repo,
        hub.endpoint,
        home.join("hub").display()
    );
    let dir = papers_embed::download_model(hub, home, &choice.repo, revision)
        .with_context(|| format!("downloading {}", choice.repo))?;
    let embedder = choice.open(&dir)?;
    eprintln!(
        "model {} ({} dimensions) is in {}",
        embedder.model_id(),
        embedder.dim(),
        dir.display()
    );
    outln!("{}", dir.display())?;
    Ok(())
}
