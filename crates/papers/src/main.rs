//! `papers`: the one binary. Each role is a subcommand; this file parses the command
//! line, loads the configuration, sets up logging on stderr, and dispatches.
//!
//! Only this crate reads the environment and configuration, and in it only `config.rs`,
//! once, here; commands receive the [`Config`] and libraries what they need as
//! arguments.

// Data goes through `output::outln!`, which ends quietly when stdout's reader has gone;
// `println!` would panic there.
#![warn(clippy::print_stdout)]

mod background;
mod cli;
mod cmd;
mod config;
mod embed_backlog;
mod fetcher;
mod harvester;
mod index_owner;
mod memory;
mod output;
mod progress;
mod query_batch;
mod search_service;
mod topics_service;

use std::process::ExitCode;

use clap::FromArgMatches;

use crate::cli::{Cli, Command};
use crate::config::{Config, LogConfig};

fn main() -> ExitCode {
    let matches = config::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|error| error.exit());
    let config = match Config::load(&matches, &config::process_env) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("error: {error:#}");
            return ExitCode::FAILURE;
        }
    };
    init_logging(cli.verbose, &config.log);
    let config = &config;
    let result = match &cli.command {
        Command::Ingest(args) => cmd::ingest::run(config, args),
        Command::Harvest(args) => cmd::harvest::run(config, args),
        Command::Stats(args) => cmd::stats::run(config, args),
        Command::Show(args) => cmd::show::run(config, args),
        Command::Serve => cmd::serve::run(config),
        Command::Index => cmd::index::run_index(config),
        Command::Reindex => cmd::index::run_reindex(config),
        Command::Topics(args) => cmd::topics::run(config, args),
        Command::Search(args) => cmd::search::run_search(config, args),
        Command::Similar(args) => cmd::search::run_similar(config, args),
        Command::Eval(args) => cmd::eval::run(config, args),
        Command::Model(args) => cmd::model::run(config, args),
        Command::Digest(args) => cmd::digest::run(config, args),
        Command::Config => cmd::config::run(config),
        Command::User(args) => cmd::user::run(config, args),
        Command::Token(args) => cmd::user::run_token(config, args),
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

fn init_logging(verbose: u8, log: &LogConfig) {
    let default = match verbose {
        0 => "warn,papers=info",
        1 => "info",
        _ => "debug",
    };
    // A filter that does not parse falls back to the default, as it always has.
    let filter = log
        .filter
        .as_deref()
        .and_then(|filter| tracing_subscriber::EnvFilter::try_new(filter).ok())
        .unwrap_or_else(|| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(log.color(&std::io::stderr()))
        .with_target(false)
        .init();
}
