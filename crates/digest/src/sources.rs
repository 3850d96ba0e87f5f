//! What the digest engine asks of the rest of the system: saved searches run by the
//! search index, and members' upvotes. Traits, so the binary passes the real ones and
//! tests pass small ones, and this crate depends on neither the index nor accounts.

use papers_store::{Store, StoredPaper};

pub type SourceError = Box<dyn std::error::Error + Send + Sync>;

/// Runs a saved search (the search page's syntax) over a period's new papers.
pub trait SavedSearch: Sync {
    /// Keys of the `candidates` that match `query`, best first. Implementations backed
    /// by a full index may ignore the papers' text and filter their hits by key.
    fn matching(&self, query: &str, candidates: &[&StoredPaper]) -> Result<Vec<i64>, SourceError>;
}

/// Members' upvotes, for the "picked for you" section.
pub trait MemberVotes {
    /// Keys of the papers the member upvoted.
    fn upvoted(&self, store: &Store, user_id: i64) -> Result<Vec<i64>, SourceError>;
}

/// A search without an index: every term must occur, case-insensitively, in the title
/// or abstract; quoted phrases count as one term. Results keep the candidates' order.
#[derive(Debug, Clone, Copy, Default)]
pub struct TermSearch;

impl SavedSearch for TermSearch {
    fn matching(&self, query: &str, candidates: &[&StoredPaper]) -> Result<Vec<i64>, SourceError> {
        let terms = terms(query);
        if terms.is_empty() {
            return Ok(Vec::new());
        }
        Ok(candidates
            .iter()
            .filter(|paper| {
                let metadata = &paper.paper.metadata;
                let text = format!("{} {}", metadata.title, metadata.abstract_text).to_lowercase();
                terms.iter().all(|term| text.contains(term.as_str()))
            })
            .map(|paper| paper.key)
            .collect())
    }
}

fn terms(query: &str) -> Vec<String> {
    let mut terms = Vec::new();
    for (index, part) in query.split('"').enumerate() {
        // Odd parts were inside quotes.
        if index % 2 == 1 {
            let phrase = part.trim().to_lowercase();
            if !phrase.is_empty() {
                terms.push(phrase);
            }
        } else {
            terms.extend(part.split_whitespace().map(str::to_lowercase));
        }
    }
    terms
}

/// For sends without accounts (or before the votes table exists): nobody has upvotes.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoVotes;

impl MemberVotes for NoVotes {
    fn upvoted(&self, _store: &Store, _user_id: i64) -> Result<Vec<i64>, SourceError> {
        Ok(Vec::new())
    }
}

/// Upvotes from a closure, e.g. `VotesFn(|store, user| Ok(store.voted_keys(user)?.into_iter().collect()))`.
pub struct VotesFn<F>(pub F);

impl<F> MemberVotes for VotesFn<F>
where
    F: Fn(&Store, i64) -> Result<Vec<i64>, SourceError>,
{
    fn upvoted(&self, store: &Store, user_id: i64) -> Result<Vec<i64>, SourceError> {
        (self.0)(store, user_id)
    }
}

/// The sources one send or preview uses.
#[derive(Clone, Copy)]
pub struct Sources<'a> {
    pub search: &'a dyn SavedSearch,
    pub votes: &'a dyn MemberVotes,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_split_on_spaces_and_keep_quoted_phrases() {
        assert_eq!(
            terms("Diffusion  \"large language\" Model"),
            vec!["diffusion", "large language", "model"]
        );
        assert!(terms("  \"\" ").is_empty());
    }
}
