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
    fn pages_default_to_zero_and_stop_at_the_end() {
        assert_eq!(page(None, 10), Some(0));
        assert_eq!(page(Some(""), 10), Some(0));
        assert_eq!(page(Some("9"), 10), Some(9));
        assert_eq!(page(Some("10"), 10), None);
        assert_eq!(page(Some("-1"), 10), None);
        assert_eq!(page(Some("two"), 10), None);
    }
}
