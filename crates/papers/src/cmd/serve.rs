//! `papers serve`: the web site, JSON API and feeds over the data directory.

use std::process::ExitCode;

use anyhow::Context;
use papers_web::{AppConfig, AppState};

use crate::cli::{Cli, ServeArgs};

pub fn run(cli: &Cli, args: &ServeArgs) -> anyhow::Result<ExitCode> {
    let public_url = args
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", args.addr));
    let config = AppConfig::new(cli.data_dir.clone(), public_url);
    let state =
        AppState::open(config).with_context(|| format!("opening {}", cli.data_dir.display()))?;
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    if let Some(workers) = args.workers {
        runtime.worker_threads(workers.max(1));
    }
    let runtime = runtime
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    tracing::info!(addr = %args.addr, data_dir = %cli.data_dir.display(), "serving");
    eprintln!("papers: serving on http://{}", args.addr);
    runtime
        .block_on(papers_web::serve(args.addr, state))
        .with_context(|| format!("serving on {}", args.addr))?;
    Ok(ExitCode::SUCCESS)
}
