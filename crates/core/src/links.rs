//! Finding a paper's code repository and project page in its free-text metadata.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Links {
    /// `https://github.com/owner/repo`.
    pub github: Option<String>,
    pub project_page: Option<String>,
}

/// Scans texts (abstract, comments) for URLs. The first GitHub repository URL becomes
/// the code link; the first `github.io` page or other URL mentioned next to
/// "project page"/"website" becomes the project page.
pub fn find_links<'a>(texts: impl Iterator<Item = &'a str>) -> Links {
    let mut links = Links::default();
    for text in texts {
        for (start, url) in urls(text) {
            let lowered = url.to_ascii_lowercase();
            if links.github.is_none()
                && let Some(repo) = github_repository(&lowered, url)
            {
                links.github = Some(repo);
                continue;
            }
            if links.project_page.is_none() {
                let before = text[..start].to_ascii_lowercase();
                // The 40 bytes before the URL, widened to a character boundary: text
                // before a URL is often not ASCII (found by fuzzing).
                let mut from = before.len().saturating_sub(40);
                while !before.is_char_boundary(from) {
                    from -= 1;
                }
                let context = &before[from..];
                let named = [
                    "project page",
                    "project website",
                    "website",
                    "homepage",
                    "demo",
                ]
                .iter()
                .any(|w| context.contains(w));
                if lowered.contains(".github.io") || named {
                    links.project_page = Some(url.to_owned());
                }
            }
        }
    }
    links
}

fn github_repository(lowered: &str, url: &str) -> Option<String> {
    let at = lowered.find("github.com/")?;
    let path = &url[at + "github.com/".len()..];
    let mut parts = path.split('/').filter(|p| !p.is_empty());
    let owner = parts.next()?;
    let repo = parts.next()?.trim_end_matches(".git");
    if repo.is_empty() {
        return None;
    }
    Some(format!("https://github.com/{owner}/{repo}"))
}

/// `http(s)://…` runs in a text, with the trailing punctuation that prose puts after a
/// URL removed.
fn urls(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.match_indices("http").filter_map(move |(start, _)| {
        let rest = &text[start..];
        if !(rest.starts_with("http://") || rest.starts_with("https://")) {
            return None;
        }
        let end = rest
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '<' | '>' | '}' | '{' | '\\'))
            .unwrap_or(rest.len());
        let url = rest[..end].trim_end_matches(['.', ',', ';', ':', ')', ']', '\'']);
        Some((start, url))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_repository_and_project_page() {
        let links = find_links(
            ["Code is at https://github.com/Owner/Repo/tree/main. Project page: https://example.org/p."]
                .into_iter(),
        );
        assert_eq!(
            links.github.as_deref(),
            Some("https://github.com/Owner/Repo")
        );
        assert_eq!(links.project_page.as_deref(), Some("https://example.org/p"));
    }

    /// Fuzzing regression: 40 bytes before a URL used to be cut inside a character.
    #[test]
    fn context_before_a_url_may_be_any_text() {
        // 40 bytes back from the URL lands inside the second byte of a 'ÿ'.
        let text = format!("a{} project page: https://example.org/p", "ÿ".repeat(40));
        let links = find_links([text.as_str()].into_iter());
        assert_eq!(links.project_page.as_deref(), Some("https://example.org/p"));
    }

    #[test]
    fn ignores_unrelated_urls() {
        let links = find_links(["See https://doi.org/10.1/x (published)"].into_iter());
        assert_eq!(links, Links::default());
    }
}
