//! A paper as Markdown, served at `/papers/{id}.md` as Hugging Face serves its paper
//! pages (what `huggingface_hub`'s `read_paper` fetches): a `# title` heading, then
//! the facts a reader or a language model wants (authors, dates, categories, links),
//! then the abstract. Text stays as arXiv wrote it (TeX included); the response is
//! `text/markdown`, which browsers show as text and never run.

use std::fmt::Write;

use papers_store::StoredPaper;

use super::{one_line, paper_path};
use crate::taxonomy::category_name;

/// `public_url` makes the link back to the paper's page absolute.
pub(crate) fn paper_markdown(stored: &StoredPaper, public_url: &str) -> String {
    let paper = &stored.paper;
    let metadata = &paper.metadata;
    let community = &paper.community;
    let id = paper.id.as_str();
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = writeln!(out, "# {}\n", one_line(&metadata.title));
    let mut facts: Vec<String> = Vec::new();
    if !metadata.authors.is_empty() {
        facts.push(format!("**Authors:** {}", metadata.authors.join(", ")));
    }
    let version = metadata.latest_version();
    facts.push(if version > 0 {
        format!("**arXiv:** {id}v{version}")
    } else {
        format!("**arXiv:** {id}")
    });
    if let Some(published) = metadata.published {
        facts.push(format!("**Published:** {}", published.format("%Y-%m-%d")));
    }
    if let Some(updated) = metadata.updated {
        facts.push(format!("**Updated:** {}", updated.format("%Y-%m-%d")));
    }
    if let Some(day) = community.feed_day {
        let mut line = format!("**In the daily feed:** {}", day.format("%Y-%m-%d"));
        if let Some(submitter) = &community.submitted_by {
            let _ = write!(line, ", submitted by {submitter}");
        }
        facts.push(line);
    }
    if let Some(organization) = &community.organization {
        facts.push(format!("**Organization:** {organization}"));
    }
    facts.push(format!("**Upvotes:** {}", stored.upvotes()));
    if !metadata.categories.is_empty() {
        let named: Vec<String> = metadata
            .categories
            .iter()
            .map(|category| match category_name(category.as_str()) {
                Some(name) => format!("{} ({name})", category.as_str()),
                None => category.as_str().to_owned(),
            })
            .collect();
        facts.push(format!("**Categories:** {}", named.join(", ")));
    }
    if let Some(journal) = &metadata.journal_ref {
        facts.push(format!("**Journal:** {}", one_line(journal)));
    }
    if let Some(doi) = &metadata.doi {
        facts.push(format!("**DOI:** [{doi}](https://doi.org/{doi})"));
    }
    if let Some(comments) = &metadata.comments {
        facts.push(format!("**Comments:** {}", one_line(comments)));
    }
    let mut links = vec![
        format!("[arXiv](https://arxiv.org/abs/{id})"),
        format!("[PDF](https://arxiv.org/pdf/{id})"),
        format!("[Paper page]({public_url}{})", paper_path(id)),
    ];
    if let Some(github) = &stored.links.github {
        links.push(format!("[GitHub]({github})"));
    }
    if let Some(project) = &stored.links.project_page {
        links.push(format!("[Project page]({project})"));
    }
    facts.push(format!("**Links:** {}", links.join(" · ")));
    // Two trailing spaces: a Markdown line break, so the facts stay one per line.
    let _ = writeln!(out, "{}\n", facts.join("  \n"));
    let _ = writeln!(out, "## Abstract\n");
    let paragraphs: Vec<String> = metadata
        .abstract_text
        .split("\n\n")
        .map(one_line)
        .filter(|p| !p.is_empty())
        .collect();
    let _ = writeln!(out, "{}", paragraphs.join("\n\n"));
    out
}
