//! `papers stats`: what the store holds.

use std::process::ExitCode;

use papers_store::Count;

use crate::cli::{Cli, StatsArgs};

pub fn run(cli: &Cli, args: &StatsArgs) -> anyhow::Result<ExitCode> {
    let store = cli.open_store()?;
    let stats = store.stats()?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&stats)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("papers      {}", stats.papers);
    println!("versions    {}", stats.versions);
    println!("in feed     {}", stats.in_feed);
    println!("upvotes     {}", stats.upvotes);
    print_counts("by source", &stats.by_source, usize::MAX);
    print_counts("by primary category (top 20)", &stats.by_category, 20);
    print_counts("by feed month", &stats.by_feed_month, usize::MAX);
    Ok(ExitCode::SUCCESS)
}

fn print_counts(title: &str, counts: &[Count], limit: usize) {
    if counts.is_empty() {
        return;
    }
    println!("\n{title}:");
    for count in counts.iter().take(limit) {
        println!("  {:<20} {:>8}", count.name, count.papers);
    }
}
