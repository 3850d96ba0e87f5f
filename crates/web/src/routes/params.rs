//! Query parameters several routes share, each parsed once: the feed pages, the search
//! page and the JSON API agree on what a category or a page number is; and the JSON
//! bodies of the API's writes, refused the same way everywhere.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use papers_core::Category;

use crate::error::HttpError;

/// `category=`: an arXiv category (`cs.CL`, `hep-th`, `cs`); `None` when absent or
/// blank.
pub(crate) fn category(text: Option<&str>) -> Result<Option<Category>, HttpError> {
    match text.map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => Category::parse(text)
            .map(Some)
            .map_err(|_| HttpError::bad_request("not an arXiv category")),
    }
}

/// A yes/no parameter (`hide_read`, `has_code`, `exclude_authors`): `1`, `true` or
/// `on` (what a checked box sends) for yes; `0`, `false`, blank or absent for no.
/// Anything else is a 400 that names the parameter, not a silent "no".
pub(crate) fn flag(name: &str, text: Option<&str>) -> Result<bool, HttpError> {
    match text.map(str::trim).unwrap_or("") {
        "" | "0" | "false" => Ok(false),
        "1" | "true" | "on" => Ok(true),
        _ => Err(HttpError::bad_request(format!("{name} must be 1 or 0"))),
    }
}

/// `p=`: a page number below `end`, 0 when absent or blank; `None` when it is not one
/// (each route words its own 400).
pub(crate) fn page(text: Option<&str>, end: usize) -> Option<usize> {
    match text {
        None | Some("") => Some(0),
        Some(text) => text.parse::<usize>().ok().filter(|page| *page < end),
    }
}

/// A JSON request body, or a 400 that says what is wrong with it (syntax, a missing or
/// mistyped field, the content type).
pub(crate) fn json_body<T>(body: Result<Json<T>, JsonRejection>) -> Result<T, HttpError> {
    body.map(|Json(value)| value)
        .map_err(|rejection| HttpError::bad_request(rejection.body_text()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_are_trimmed_optional_and_checked() {
        assert_eq!(category(None).ok(), Some(None));
        assert_eq!(category(Some("  ")).ok(), Some(None));
        assert_eq!(
            category(Some(" cs.CL "))
                .ok()
                .flatten()
                .as_ref()
                .map(Category::as_str),
            Some("cs.CL")
        );
        let error = category(Some("CS CL")).err().map(|e| (e.status, e.message));
        assert_eq!(
            error,
            Some((
                axum::http::StatusCode::BAD_REQUEST,
                "not an arXiv category".to_owned()
            ))
        );
    }

    #[test]
    fn flags_take_their_documented_values_only() {
        for yes in ["1", "true", "on", " 1 "] {
            assert_eq!(flag("hide_read", Some(yes)).ok(), Some(true), "{yes}");
        }
        for no in [None, Some(""), Some("0"), Some("false")] {
            assert_eq!(flag("hide_read", no).ok(), Some(false), "{no:?}");
        }
        for bad in ["any", "yes", "2", "%2", "\u{FFFD}"] {
            let error = flag("has_code", Some(bad))
                .err()
                .map(|e| (e.status, e.message));
            assert_eq!(
                error,
                Some((
                    axum::http::StatusCode::BAD_REQUEST,
                    "has_code must be 1 or 0".to_owned()
                )),
                "{bad}"
            );
        }
    }

    #[test]
    fn pages_default_to_zero_and_stop_at_the_end() {
        assert_eq!(page(None, 10), Some(0));
        assert_eq!(page(Some(""), 10), Some(0));
        assert_eq!(page(Some("9"), 10), Some(9));
        assert_eq!(page(Some("10"), 10), None);
        assert_eq!(page(Some("-1"), 10), None);
        assert_eq!(page(Some("two"), 10), None);
    }
}
