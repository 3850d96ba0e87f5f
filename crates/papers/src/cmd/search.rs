//! `papers search QUERY` and `papers similar ID`.

use std::process::ExitCode;

use anyhow::bail;
use papers_core::VersionedId;
use papers_index::{Hit, Mode};

use crate::cli::{SearchArgs, SimilarArgs};
use crate::config::Config;
use crate::output::outln;
use crate::search_service::{SearchService, load_optional_model};

/// Opens search with the model when there is one; without it, says once that search is
/// lexical.
fn open_service(config: &Config, mode: Mode) -> anyhow::Result<SearchService> {
    let embedder = if mode == Mode::Lexical {
        None
    } else {
        load_optional_model(&config.model, "searching by keywords only")
    };
    let service = SearchService::open(&config.store.data_dir, embedder)?;
    let store = config.store.open()?;
    service.catch_up(&store)?;
    service.finish()?;
    Ok(service)
}

pub fn run_search(config: &Config, args: &SearchArgs) -> anyhow::Result<ExitCode> {
    let mode: Mode = args
        .mode
        .parse()
        .map_err(|e| anyhow::anyhow!("--mode: {e}"))?;
    let service = open_service(config, mode)?;
    let results = service.search(&args.query, mode, args.limit)?;
    if args.json {
        for hit in &results.hits {
            outln!("{}", serde_json::to_string(&hit_json(hit))?)?;
        }
    } else {
        if results.hits.is_empty() {
            outln!("no good matches")?;
        }
        print_hits(&results.hits, config.log.color(&std::io::stdout()))?;
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
    let service = open_service(config, Mode::Dense)?;
    let Some(hits) = service.similar(paper.key, args.limit)? else {
        bail!("{id} has no embedding yet; run `papers index`");
    };
    if args.json {
        for hit in &hits {
            outln!("{}", serde_json::to_string(&hit_json(hit))?)?;
        }
    } else {
        print_hits(&hits, config.log.color(&std::io::stdout()))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn hit_json(hit: &Hit) -> serde_json::Value {
    serde_json::json!({
        "id": hit.id,
        "title": hit.title,
        "score": hit.score,
        "snippet": hit.snippet_text,
        "highlights": hit.highlights.iter().map(|r| [r.start, r.end]).collect::<Vec<_>>(),
    })
}

fn print_hits(hits: &[Hit], color: bool) -> anyhow::Result<()> {
    for (rank, hit) in hits.iter().enumerate() {
        let id = hit.id.as_ref().map(ToString::to_string).unwrap_or_default();
        outln!("{:>2}. {id}  {}  ({:.3})", rank + 1, hit.title, hit.score)?;
        if !hit.snippet_text.is_empty() {
            outln!(
                "    {}",
                highlight(&hit.snippet_text, &hit.highlights, color)
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
