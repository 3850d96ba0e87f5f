//! `papers`: the one binary. Each role is a subcommand; this file parses the command
//! line, sets up logging on stderr, and dispatches.
//!
//! Only this crate reads the environment and configuration; libraries receive what they
//! need as arguments.

// Data goes through `output::outln!`, which ends quietly when stdout's reader has gone;
// `println!` would panic there.
#![warn(clippy::print_stdout)]

mod cli;
mod cmd;
mod output;
mod progress;
mod query_batch;
mod search_service;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    let result = match &cli.command {
        Command::Ingest(args) => cmd::ingest::run(&cli, args),
        Command::Harvest(args) => cmd::harvest::run(&cli, args),
        Command::Stats(args) => cmd::stats::run(&cli, args),
        Command::Show(args) => cmd::show::run(&cli, args),
        Command::Serve(args) => cmd::serve::run(&cli, args),
        Command::Index => cmd::index::run_index(&cli),
        Command::Reindex => cmd::index::run_reindex(&cli),
        Command::Search(args) => cmd::search::run_search(&cli, args),
        Command::Similar(args) => cmd::search::run_similar(&cli, args),
        Command::Eval(args) => cmd::eval::run(&cli, args),
        Command::Model(args) => cmd::model::run(&cli, args),
        Command::Digest(args) => cmd::digest::run(&cli, args),
    };
    match result {
        Ok(code) => code,
        // The reader of our output has all it wanted (`papers search x | head -1`).
        Err(error) if output::is_stdout_closed(&error) => ExitCode::SUCCESS,
        Err(error) => {
            // The whole chain, so the cause (file, line, reason) is never hidden.
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn,papers=info",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("PAPERS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let ansi = std::env::var_os("NO_COLOR").is_none()
        && std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .with_target(false)
        .init();
}
