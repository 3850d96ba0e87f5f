//! `papers search QUERY` and `papers similar ID`.

use std::process::ExitCode;

use anyhow::bail;
use papers_core::VersionedId;
use papers_index::{Described, Hit, ParsedQuery, SearchMode};

use crate::cli::{SearchArgs, SimilarArgs};
use crate::config::Config;
use crate::output::outln;
use crate::search_service::{SearchService, WhenIndexTaken, load_optional_model};

/// Opens search with the model when there is one; without it, says once that search is
/// lexical.
fn open_service(config: &Config, mode: SearchMode) -> anyhow::Result<SearchService> {
    let embedder = if mode == SearchMode::Lexical {
        None
    } else {
        load_optional_model(&config.model, "searching by keywords only")
    };
    // A running server on the directory keeps its indexes current: read them as they are.
    let service =
        SearchService::open(&config.store.data_dir, embedder, WhenIndexTaken::ReadTheirs)?;
    let store = config.store.open()?;
    service.catch_up(&store)?;
    service.finish()?;
    Ok(service)
}

pub fn run_search(config: &Config, args: &SearchArgs) -> anyhow::Result<ExitCode> {
    let mode: SearchMode = args
        .mode
        .parse()
        .map_err(|e| anyhow::anyhow!("--mode: {e}"))?;
    let service = open_service(config, mode)?;
    let query = ParsedQuery::parse(&args.query);
    let results = service.search(&query, mode, args.limit)?;
    let described = service.describe(&results.hits, &query)?;
    if args.json {
        for hit in &described {
            outln!("{}", serde_json::to_string(&hit_json(hit))?)?;
        }
    } else {
        if described.is_empty() {
            outln!("no good matches")?;
        }
        print_hits(&described, config.log.color(&std::io::stdout()))?;
    }
    Ok(ExitCode::SUCCESS)
}

pub fn run_similar(config: &Config, args: &SimilarArgs) -> anyhow::Result<ExitCode> {
    let id = VersionedId::parse_reference(&args.id)?.id;
    let store = config.store.open()?;
    let Some(paper) = store.paper(&id)? else {
        bail!(
            "no paper {id} in the store at {}",
            config.store.database().describe()
        );
    };
    let service = open_service(config, SearchMode::Dense)?;
    let Some(hits) = service.similar(paper.key, args.limit)? else {
        bail!("{id} has no embedding yet; run `papers index`");
    };
    let hits = service.describe(&hits, &ParsedQuery::default())?;
    if args.json {
        for hit in &hits {
            outln!("{}", serde_json::to_string(&hit_json(hit))?)?;
        }
    } else {
        print_hits(&hits, config.log.color(&std::io::stdout()))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// One line of `--json`: the paper's id, title, score and snippet with its ranges.
fn hit_json((hit, described): &(Hit, Described)) -> serde_json::Value {
    let snippet = &described.snippet;
    serde_json::json!({
        "id": described.id,
        "title": described.title,
        "score": hit.score,
        "snippet": snippet.text,
        "highlights": snippet.highlights.iter().map(|r| [r.start, r.end]).collect::<Vec<_>>(),
    })
}

fn print_hits(hits: &[(Hit, Described)], color: bool) -> anyhow::Result<()> {
    for (rank, (hit, described)) in hits.iter().enumerate() {
        let id = described
            .id
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        outln!(
            "{:>2}. {id}  {}  ({:.3})",
            rank + 1,
            described.title,
            hit.score
        )?;
        let snippet = &described.snippet;
        if !snippet.text.is_empty() {
            outln!(
                "    {}",
                highlight(&snippet.text, &snippet.highlights, color)
            )?;
        }
    }
    Ok(())
}

/// Marks the matched words: bold on a colour terminal, `[brackets]` elsewhere.
fn highlight(text: &str, ranges: &[std::ops::Range<usize>], color: bool) -> String {
    let (open, close) = if color {
        ("\x1b[1m", "\x1b[0m")
    } else {
        ("[", "]")
    };
    let mut out = String::with_capacity(text.len() + ranges.len() * 8);
    let mut at = 0;
    for range in ranges {
        if range.start < at
            || range.end > text.len()
            || !text.is_char_boundary(range.start)
            || !text.is_char_boundary(range.end)
        {
            continue;
        }
        out.push_str(&text[at..range.start]);
        out.push_str(open);
        out.push_str(&text[range.clone()]);
        out.push_str(close);
        at = range.end;
    }
    out.push_str(&text[at..]);
    out
}
