//! arXiv subject categories such as `cs.IR`, `hep-th` or `physics.acc-ph`.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An arXiv category code. The shape is checked (`archive` or `archive.SUBJECT`);
/// whether it is in the current taxonomy is a question for the taxonomy table, since
/// old papers carry retired categories (`cmp-lg`, `chao-dyn`) that must still load.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Category(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an arXiv category: {0:?}")]
pub struct CategoryError(pub String);

impl Category {
    pub fn parse(input: &str) -> Result<Self, CategoryError> {
        let (archive, subject) = match input.split_once('.') {
            Some((archive, subject)) => (archive, Some(subject)),
            None => (input, None),
        };
        let archive_ok = !archive.is_empty()
            && archive.len() <= 16
            && archive.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
            && !archive.starts_with('-');
        let subject_ok = subject.is_none_or(|s| {
            !s.is_empty()
                && s.len() <= 16
                && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
        if archive_ok && subject_ok {
            Ok(Category(input.to_owned()))
        } else {
            Err(CategoryError(input.to_owned()))
        }
    }

    /// Parses arXiv's space-separated list (`"cs.CL cs.AI"`), primary first. Duplicates
    /// are dropped so the first occurrence keeps its position.
    pub fn parse_list(input: &str) -> Result<Vec<Category>, CategoryError> {
        let mut categories: Vec<Category> = Vec::new();
        for token in input.split_whitespace() {
            let category = Category::parse(token)?;
            if !categories.contains(&category) {
                categories.push(category);
            }
        }
        Ok(categories)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The archive part: `cs` for `cs.IR`, `hep-th` for `hep-th`.
    pub fn archive(&self) -> &str {
        self.0
            .split_once('.')
            .map_or(&self.0, |(archive, _)| archive)
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Category {
    type Error = CategoryError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Category> for String {
    fn from(category: Category) -> String {
        category.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_real_categories_and_rejects_junk() {
        for good in [
            "cs.IR",
            "hep-th",
            "physics.acc-ph",
            "math.AG",
            "cmp-lg",
            "q-bio.NC",
            "eess.AS",
        ] {
            assert!(Category::parse(good).is_ok(), "{good}");
        }
        for bad in ["", "CS.IR", "cs.", ".IR", "cs IR", "cs.I R", "-x"] {
            assert!(Category::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn list_keeps_primary_first_and_drops_duplicates() {
        let list = Category::parse_list("cs.CL cs.AI cs.CL").expect("valid list");
        let names: Vec<&str> = list.iter().map(Category::as_str).collect();
        assert_eq!(names, ["cs.CL", "cs.AI"]);
        assert_eq!(list[0].archive(), "cs");
    }
}
