//! `papers harvest`: fetch from arXiv OAI-PMH or the Hugging Face API into the store.

use std::process::ExitCode;

use crate::cli::{Cli, HarvestArgs};

pub fn run(_cli: &Cli, _args: &HarvestArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("harvest is wired once the ingest crate's clients land")
}
