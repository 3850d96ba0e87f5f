//! `papers stats`: what the store holds.

use std::process::ExitCode;

use papers_store::Count;

use crate::cli::StatsArgs;
use crate::config::Config;
use crate::output::outln;

pub fn run(config: &Config, args: &StatsArgs) -> anyhow::Result<ExitCode> {
    let store = config.store.open()?;
    let stats = store.stats()?;
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&stats)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    outln!("papers      {}", stats.papers)?;
    outln!("versions    {}", stats.versions)?;
    outln!("in feed     {}", stats.in_feed)?;
    outln!("upvotes     {}", stats.upvotes)?;
    print_counts("by source", &stats.by_source, usize::MAX)?;
    print_counts("by primary category (top 20)", &stats.by_category, 20)?;
    print_counts("by feed month", &stats.by_feed_month, usize::MAX)?;
    Ok(ExitCode::SUCCESS)
}

fn print_counts(title: &str, counts: &[Count], limit: usize) -> anyhow::Result<()> {
    if counts.is_empty() {
        return Ok(());
    }
    outln!("\n{title}:")?;
    for count in counts.iter().take(limit) {
        outln!("  {:<20} {:>8}", count.name, count.papers)?;
    }
    Ok(())
}
