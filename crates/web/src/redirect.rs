//! Where a form may send the reader afterwards (`next=` after log-in, `back=` after a
//! vote): only to a path on this site.
//!
//! The target is parsed the way a browser parses a `Location` (WHATWG URL rules, the
//! `url` crate) against a stand-in origin, and accepted only if it stays on that
//! origin; the redirect then carries the parsed form. Prefix checks are not enough:
//! browsers drop tabs and newlines anywhere in a URL and read `\` as `/`, so `/\t/evil`
//! and `/\evil` both mean `//evil`, another site.

use url::Url;

/// Where a refused target goes instead.
pub(crate) const FALLBACK: &str = "/papers";

/// `target` as a same-origin path (with its query and fragment), or `None`.
pub(crate) fn same_origin_path(target: &str) -> Option<String> {
    // Only paths: not `https://this.site/…`, not `?x`, not `page`, and no control
    // characters at all (the parser would drop some of them silently).
    if !target.starts_with('/') || target.chars().any(|c| c.is_control() || c == '\\') {
        return None;
    }
    let origin = Url::parse("https://same-origin.invalid/").ok()?;
    let parsed = origin.join(target).ok()?;
    if parsed.origin() != origin.origin() || !parsed.username().is_empty() {
        return None;
    }
    let mut path = parsed.path().to_owned();
    if let Some(query) = parsed.query() {
        path.push('?');
        path.push_str(query);
    }
    if let Some(fragment) = parsed.fragment() {
        path.push('#');
        path.push_str(fragment);
    }
    // The serialised path must itself be a path, not a scheme-relative URL.
    (path.starts_with('/') && !path.starts_with("//")).then_some(path)
}

/// `target` if it stays on the site, else [`FALLBACK`].
pub(crate) fn safe_next(target: &str) -> String {
    same_origin_path(target).unwrap_or_else(|| FALLBACK.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_same_origin_paths_pass() {
        for good in [
            "/papers",
            "/papers/2401.00001?sort=new#top",
            "/search?q=a%20b",
            "/",
        ] {
            assert_eq!(same_origin_path(good).as_deref(), Some(good), "{good}");
        }
        for bad in [
            "//evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\\evil.example",
            "\\/evil.example",
            "/\r\n/evil.example",
            " //evil.example",
            "\u{0}//evil.example",
            "https://evil.example",
            "javascript:alert(1)",
            "http:/evil.example",
            "evil.example",
            "/\u{7f}/evil.example",
            // Found by the web fuzz target: a NUL made the vote's redirect a 500.
            "/pa/subscriptions\u{0}\u{1}",
            "",
        ] {
            assert_eq!(same_origin_path(bad), None, "{bad:?}");
        }
        // Encoded slashes stay encoded: one path segment on this site.
        assert_eq!(
            same_origin_path("/%2F/evil.example").as_deref(),
            Some("/%2F/evil.example")
        );
        assert_eq!(same_origin_path("/./..//evil.example"), None);
        assert_eq!(safe_next("//evil"), "/papers");
    }
}
