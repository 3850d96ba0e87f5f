//! `papers show ID`: one paper, as text or JSON.

use std::process::ExitCode;

use anyhow::bail;
use papers_core::VersionedId;

use crate::cli::ShowArgs;
use crate::config::Config;
use crate::output::outln;

pub fn run(config: &Config, args: &ShowArgs) -> anyhow::Result<ExitCode> {
    let id = VersionedId::parse_reference(&args.id)?.id;
    let store = config.store.open()?;
    let Some(stored) = store.paper(&id)? else {
        bail!(
            "no paper {id} in the store at {}",
            config.store.database().describe()
        );
    };
    let sources = store.sources_of(stored.key)?;
    let paper = &stored.paper;
    let metadata = &paper.metadata;
    if args.json {
        let value = serde_json::json!({
            "id": paper.id,
            "title": metadata.title,
            "abstract": metadata.abstract_text,
            "authors": metadata.authors,
            "categories": metadata.categories,
            "doi": metadata.doi,
            "journal_ref": metadata.journal_ref,
            "comments": metadata.comments,
            "report_no": metadata.report_no,
            "license": metadata.license,
            "submitter": metadata.submitter,
            "published": metadata.published,
            "updated": metadata.updated,
            "versions": metadata.versions,
            "feed_day": paper.community.feed_day,
            "submitted_by": paper.community.submitted_by,
            "organization": paper.community.organization,
            "upvotes": stored.upvotes(),
            "num_comments": paper.community.num_comments,
            "links": stored.links,
            "sources": sources,
            "metadata_source": paper.metadata_source,
        });
        outln!("{}", serde_json::to_string_pretty(&value)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    outln!("{}  {}", paper.id, metadata.title)?;
    outln!("authors:    {}", metadata.authors.join(", "))?;
    let categories: Vec<&str> = metadata.categories.iter().map(|c| c.as_str()).collect();
    outln!("categories: {}", categories.join(" "))?;
    if let Some(published) = metadata.published {
        outln!("published:  {}", published.format("%Y-%m-%d"))?;
    }
    let versions: Vec<String> = metadata
        .versions
        .iter()
        .map(|v| format!("v{}", v.number))
        .collect();
    if !versions.is_empty() {
        outln!("versions:   {}", versions.join(" "))?;
    }
    for (label, value) in [
        ("doi", &metadata.doi),
        ("journal", &metadata.journal_ref),
        ("comments", &metadata.comments),
    ] {
        if let Some(value) = value {
            outln!("{label:<11} {value}")?;
        }
    }
    if let Some(day) = paper.community.feed_day {
        outln!("feed day:   {day}  upvotes: {}", stored.upvotes())?;
    }
    if let Some(github) = &stored.links.github {
        outln!("code:       {github}")?;
    }
    let names: Vec<&str> = sources.iter().map(|s| s.as_str()).collect();
    outln!("sources:    {}", names.join(", "))?;
    outln!("\n{}", metadata.abstract_text)?;
    Ok(ExitCode::SUCCESS)
}
