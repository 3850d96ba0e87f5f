//! `papers model encode` and `papers model info`.

use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::process::ExitCode;

use anyhow::Context;

use crate::cli::{Cli, ModelAction, ModelArgs};
use crate::output::outln;
use crate::search_service::ModelChoice;

pub fn run(cli: &Cli, args: &ModelArgs) -> anyhow::Result<ExitCode> {
    let embedder = ModelChoice::from_env(cli.model.clone()).load()?;
    match &args.action {
        ModelAction::Encode { input, output } => {
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
            outln!("model      {}", embedder.model_id())?;
            outln!("dimension  {}", embedder.dim())?;
            outln!("max tokens {}", embedder.max_seq_length())?;
            outln!("kernel     {:?}", embedder.kernel())?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
