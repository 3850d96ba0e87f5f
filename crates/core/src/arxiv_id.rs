//! The arXiv identifier, in both of arXiv's schemes, without its version suffix.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A bare arXiv identifier: new style (`2401.01234`, `0704.0001`) or old style
/// (`hep-th/9901001`, `math.AG/0601001`). Versions are tracked separately, so the
/// `v2` suffix is never part of this value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ArxivId(String);

/// An arXiv id together with the version that a reference named, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionedId {
    pub id: ArxivId,
    pub version: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an arXiv identifier: {input:?} ({reason})")]
pub struct ArxivIdError {
    pub input: String,
    pub reason: &'static str,
}

impl ArxivId {
    /// Parses a bare id, rejecting version suffixes and prefixes. Use
    /// [`VersionedId::parse_reference`] for user input such as URLs.
    pub fn parse(input: &str) -> Result<Self, ArxivIdError> {
        let versioned = VersionedId::parse_bare(input)?;
        match versioned.version {
            None => Ok(versioned.id),
            Some(_) => Err(error(input, "unexpected version suffix")),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True for the post-2007 `YYMM.NNNNN` scheme.
    pub fn is_new_style(&self) -> bool {
        !self.0.contains('/')
    }

    /// The year and month the id was assigned, from the id itself (`2401.x` → 2024-01,
    /// `hep-th/9901001` → 1999-01).
    pub fn year_month(&self) -> (i32, u32) {
        let digits = match self.0.split_once('/') {
            Some((_, number)) => number,
            None => &self.0,
        };
        year_month_of(digits)
    }
}

impl VersionedId {
    /// Parses what a person might paste: `2401.01234`, `2401.01234v2`, `arXiv:2401.01234`,
    /// `https://arxiv.org/abs/2401.01234v2`, `https://arxiv.org/pdf/2401.01234.pdf`,
    /// `https://huggingface.co/papers/2401.01234`, or the OAI identifier
    /// `oai:arXiv.org:2401.01234`.
    pub fn parse_reference(input: &str) -> Result<Self, ArxivIdError> {
        let mut rest = input.trim();
        for prefix in ["https://", "http://"] {
            if let Some(stripped) = rest.strip_prefix(prefix) {
                rest = stripped;
            }
        }
        if let Some((host, path)) = rest.split_once('/')
            && (host.ends_with("arxiv.org") || host.ends_with("huggingface.co"))
        {
            let path = path.trim_end_matches('/');
            let path = ["abs/", "pdf/", "html/", "papers/", "api/papers/"]
                .iter()
                .find_map(|p| path.strip_prefix(p))
                .ok_or_else(|| error(input, "URL does not point at a paper"))?;
            rest = path.trim_end_matches(".pdf");
        }
        for prefix in ["oai:arXiv.org:", "arXiv:", "arxiv:"] {
            if let Some(stripped) = rest.strip_prefix(prefix) {
                rest = stripped;
            }
        }
        Self::parse_bare(rest).map_err(|e| error(input, e.reason))
    }

    fn parse_bare(input: &str) -> Result<Self, ArxivIdError> {
        let (body, version) = split_version(input)?;
        match body.split_once('/') {
            Some((archive, number)) if is_old_archive(archive) && is_old_number(number) => {}
            Some(_) => return Err(error(input, EXPECTED_SHAPE)),
            None => check_new_number(body).map_err(|reason| error(input, reason))?,
        }
        Ok(VersionedId {
            id: ArxivId(body.to_owned()),
            version,
        })
    }
}

fn split_version(input: &str) -> Result<(&str, Option<u32>), ArxivIdError> {
    match input.rfind('v') {
        Some(at) if at > 0 && input[at + 1..].bytes().all(|b| b.is_ascii_digit()) => {
            let digits = &input[at + 1..];
            let number: u32 = digits
                .parse()
                .map_err(|_| error(input, "version is not a number"))?;
            if number == 0 {
                return Err(error(input, "versions start at v1"));
            }
            Ok((&input[..at], Some(number)))
        }
        _ => Ok((input, None)),
    }
}

const EXPECTED_SHAPE: &str = "expected YYMM.NNNNN or archive/YYMMNNN";

/// The scheme's calendar: new-style ids began in April 2007, with four-digit numbers
/// (`0704.0001`) up to 2014-12 and five-digit ones (`1501.00001`) from 2015-01. arXiv
/// never issued the other width, so `1501.1234` is a mangled id, not a short one.
fn check_new_number(s: &str) -> Result<(), &'static str> {
    let Some((yymm, number)) = s.split_once('.') else {
        return Err(EXPECTED_SHAPE);
    };
    let all_digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if yymm.len() != 4
        || !all_digits(yymm)
        || !matches!(yymm[2..].parse::<u32>(), Ok(1..=12))
        || !(number.len() == 4 || number.len() == 5)
        || !all_digits(number)
    {
        return Err(EXPECTED_SHAPE);
    }
    let assigned = year_month_of(yymm);
    if assigned < (2007, 4) {
        return Err("new-style ids begin at 0704 (April 2007)");
    }
    match (assigned < (2015, 1), number.len()) {
        (true, 5) => Err("ids before 1501 have a 4-digit number (YYMM.NNNN)"),
        (false, 4) => Err("ids from 1501 on have a 5-digit number (YYMM.NNNNN)"),
        _ => Ok(()),
    }
}

/// The year and month of the `YYMM` digits that both schemes start with; two-digit
/// years from 91 on are the 1990s, when arXiv began.
fn year_month_of(yymm: &str) -> (i32, u32) {
    let yy: i32 = yymm.get(0..2).and_then(|d| d.parse().ok()).unwrap_or(0);
    let mm: u32 = yymm.get(2..4).and_then(|d| d.parse().ok()).unwrap_or(1);
    let year = if yy >= 91 { 1900 + yy } else { 2000 + yy };
    (year, mm)
}

fn is_old_archive(archive: &str) -> bool {
    // `math.AG/0601001` style ids carry a subject class after the archive.
    let (name, subject) = match archive.split_once('.') {
        Some((name, subject)) => (name, Some(subject)),
        None => (archive, None),
    };
    let name_ok = !name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'-');
    let subject_ok =
        subject.is_none_or(|s| s.len() == 2 && s.bytes().all(|b| b.is_ascii_uppercase()));
    name_ok && subject_ok
}

fn is_old_number(number: &str) -> bool {
    number.len() == 7
        && number.bytes().all(|b| b.is_ascii_digit())
        && matches!(number[2..4].parse::<u32>(), Ok(1..=12))
}

fn error(input: &str, reason: &'static str) -> ArxivIdError {
    ArxivIdError {
        input: input.to_owned(),
        reason,
    }
}

impl fmt::Display for ArxivId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for ArxivId {
    type Err = ArxivIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for ArxivId {
    type Error = ArxivIdError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<ArxivId> for String {
    fn from(id: ArxivId) -> String {
        id.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(input: &str) -> (String, Option<u32>) {
        let parsed = VersionedId::parse_reference(input).expect(input);
        (parsed.id.to_string(), parsed.version)
    }

    #[test]
    fn parses_both_schemes_and_common_references() {
        assert_eq!(reference("2401.01234"), ("2401.01234".into(), None));
        assert_eq!(reference("0704.0001v2"), ("0704.0001".into(), Some(2)));
        assert_eq!(reference("hep-th/9901001"), ("hep-th/9901001".into(), None));
        assert_eq!(
            reference("math.AG/0601001v3"),
            ("math.AG/0601001".into(), Some(3))
        );
        assert_eq!(
            reference("arXiv:2401.01234v1"),
            ("2401.01234".into(), Some(1))
        );
        assert_eq!(
            reference("https://arxiv.org/abs/2401.01234v2"),
            ("2401.01234".into(), Some(2))
        );
        assert_eq!(
            reference("http://arxiv.org/pdf/1707.08567.pdf"),
            ("1707.08567".into(), None)
        );
        assert_eq!(
            reference("https://huggingface.co/papers/2310.06825"),
            ("2310.06825".into(), None)
        );
        assert_eq!(
            reference("oai:arXiv.org:cs/9901001"),
            ("cs/9901001".into(), None)
        );
        assert_eq!(
            reference("http://arxiv.org/abs/astro-ph/0601001v1"),
            ("astro-ph/0601001".into(), Some(1))
        );
    }

    #[test]
    fn rejects_what_is_not_an_id() {
        for bad in [
            "",
            "abc",
            "2413.01234",
            "2401.123",
            "2401.1234",
            "1501.1234",
            "1412.12345",
            "0704.00001",
            "0703.0001",
            "9901.12345",
            "2401.01234v0",
            "HEP-TH/9901001",
            "hep-th/99010",
            "https://example.org/abs/2401.01234",
        ] {
            assert!(
                VersionedId::parse_reference(bad).is_err(),
                "{bad:?} accepted"
            );
        }
        assert!(ArxivId::parse("2401.01234v2").is_err());
    }

    #[test]
    fn the_number_has_four_digits_until_1412_and_five_from_1501() {
        for good in ["0704.0001", "1412.9999", "1501.00001", "2401.01234"] {
            assert!(ArxivId::parse(good).is_ok(), "{good:?} rejected");
        }
        let reason = |input: &str| ArxivId::parse(input).map_err(|e| e.reason);
        assert_eq!(
            reason("1501.1234"),
            Err("ids from 1501 on have a 5-digit number (YYMM.NNNNN)")
        );
        assert_eq!(
            reason("1412.12345"),
            Err("ids before 1501 have a 4-digit number (YYMM.NNNN)")
        );
        assert_eq!(
            reason("0612.0001"),
            Err("new-style ids begin at 0704 (April 2007)")
        );
        let message = ArxivId::parse("2401.1234")
            .expect_err("4 digits in 2024")
            .to_string();
        assert!(
            message.contains("\"2401.1234\"") && message.contains("5-digit"),
            "{message}"
        );
        assert_eq!(
            VersionedId::parse_reference("https://arxiv.org/abs/1501.1234v2").map_err(|e| e.reason),
            Err("ids from 1501 on have a 5-digit number (YYMM.NNNNN)")
        );
    }

    #[test]
    fn year_month_comes_from_the_id() {
        assert_eq!(
            ArxivId::parse("2401.01234").map(|i| i.year_month()),
            Ok((2024, 1))
        );
        assert_eq!(
            ArxivId::parse("hep-th/9901001").map(|i| i.year_month()),
            Ok((1999, 1))
        );
    }
}
