//! `Email`: an address that is safe to put in a header and to use as a subscription's
//! identity. Parsed once at the edge; code holding one never re-checks it.

use std::fmt;
use std::str::FromStr;

/// A normalised (trimmed, lowercase) ASCII mail address.
///
/// Lowercasing the local part is not what RFC 5321 promises, but every provider a
/// digest reaches treats it case-insensitively, and one row per person matters more
/// here than the theoretical case-sensitive mailbox.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Email(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid email address {input:?}: {reason}")]
pub struct EmailError {
    pub input: String,
    pub reason: &'static str,
}

/// RFC 5321's limits on the whole address and the local part.
const MAX_LENGTH: usize = 254;
const MAX_LOCAL_LENGTH: usize = 64;

impl Email {
    pub fn parse(input: &str) -> Result<Email, EmailError> {
        let error = |reason| EmailError {
            input: input.to_owned(),
            reason,
        };
        // Control characters are refused before trimming, so "a@b.org\r\n" is an
        // attempted header injection, not an address with stray whitespace.
        if input.chars().any(char::is_control) {
            return Err(error("contains a line break or control character"));
        }
        let address = input.trim().to_ascii_lowercase();
        if address.is_empty() {
            return Err(error("is empty"));
        }
        if !address.is_ascii() {
            return Err(error("only ASCII addresses are supported"));
        }
        if address.len() > MAX_LENGTH {
            return Err(error("is longer than 254 characters"));
        }
        let Some((local, domain)) = address.rsplit_once('@') else {
            return Err(error("has no @"));
        };
        if local.is_empty() || local.len() > MAX_LOCAL_LENGTH {
            return Err(error("the part before @ must be 1 to 64 characters"));
        }
        // Unquoted dot-atom only: this excludes spaces, quotes, commas, angle brackets
        // and a second @, everything that could smuggle another recipient or header.
        let atom = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c);
        if !local
            .split('.')
            .all(|part| !part.is_empty() && part.chars().all(atom))
        {
            return Err(error("the part before @ has a character not allowed there"));
        }
        let label_ok = |label: &str| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        };
        if !domain.contains('.') || !domain.split('.').all(label_ok) {
            return Err(error("the domain must be a name like example.org"));
        }
        Ok(Email(address))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(_, domain)| domain)
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Email {
    type Err = EmailError;

    fn from_str(input: &str) -> Result<Email, EmailError> {
        Email::parse(input)
    }
}

impl AsRef<str> for Email {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_case_and_surrounding_spaces() {
        let email = Email::parse("  Alice.Smith+papers@Example.ORG ").expect("valid");
        assert_eq!(email.as_str(), "alice.smith+papers@example.org");
        assert_eq!(email.domain(), "example.org");
    }

    #[test]
    fn rejects_with_a_reason_naming_the_input() {
        for (input, reason) in [
            ("", "is empty"),
            ("alice", "has no @"),
            (
                "@example.org",
                "the part before @ must be 1 to 64 characters",
            ),
            (
                "alice@localhost",
                "the domain must be a name like example.org",
            ),
            ("alice@-x.org", "the domain must be a name like example.org"),
            (
                "al ice@example.org",
                "the part before @ has a character not allowed there",
            ),
            (
                "a..b@example.org",
                "the part before @ has a character not allowed there",
            ),
            (
                "\"a\"@example.org",
                "the part before @ has a character not allowed there",
            ),
            (
                "a,b@example.org",
                "the part before @ has a character not allowed there",
            ),
            (
                "<a@example.org>",
                "the part before @ has a character not allowed there",
            ),
            ("ålice@example.org", "only ASCII addresses are supported"),
        ] {
            let error = Email::parse(input).expect_err(input);
            assert_eq!(error.reason, reason, "{input}");
            assert!(error.to_string().contains(&format!("{input:?}")), "{error}");
        }
    }

    #[test]
    fn refuses_header_injection() {
        for input in [
            "alice@example.org\r\nBcc: victim@example.org",
            "alice@example.org\n",
            "alice@example.org\r",
            "alice\0@example.org",
        ] {
            let error = Email::parse(input).expect_err(input);
            assert_eq!(error.reason, "contains a line break or control character");
        }
    }
}
