//! Conversions between domain values and their column representations.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use papers_core::{ArxivId, Category, Source};

use crate::{Corruption, StoreError};

pub(crate) fn timestamp(value: Option<DateTime<Utc>>) -> Option<String> {
    value.map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
}

pub(crate) fn parse_timestamp(
    id: &str,
    value: Option<String>,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    value
        .map(|text| {
            DateTime::parse_from_rfc3339(&text)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|source| corrupt(id, Corruption::Timestamp { text, source }))
        })
        .transpose()
}

pub(crate) fn day(value: Option<NaiveDate>) -> Option<String> {
    value.map(|d| d.format("%Y-%m-%d").to_string())
}

pub(crate) fn parse_day(id: &str, value: Option<String>) -> Result<Option<NaiveDate>, StoreError> {
    value
        .map(|text| {
            NaiveDate::parse_from_str(&text, "%Y-%m-%d")
                .map_err(|source| corrupt(id, Corruption::Date { text, source }))
        })
        .transpose()
}

pub(crate) fn categories(list: &[Category]) -> String {
    let names: Vec<&str> = list.iter().map(Category::as_str).collect();
    names.join(" ")
}

pub(crate) fn parse_categories(id: &str, text: &str) -> Result<Vec<Category>, StoreError> {
    Category::parse_list(text).map_err(|e| corrupt(id, e.into()))
}

pub(crate) fn authors(list: &[String]) -> String {
    serde_json::to_string(list).unwrap_or_else(|_| "[]".to_owned())
}

pub(crate) fn parse_authors(id: &str, text: &str) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(text).map_err(|e| corrupt(id, Corruption::Authors(e)))
}

/// A list of strings as a JSON array, or NULL when empty (Hugging Face's keywords and
/// media).
pub(crate) fn string_list(list: &[String]) -> Option<String> {
    (!list.is_empty()).then(|| authors(list))
}

pub(crate) fn parse_string_list(id: &str, text: Option<String>) -> Result<Vec<String>, StoreError> {
    match text {
        None => Ok(Vec::new()),
        Some(text) => parse_authors(id, &text),
    }
}

pub(crate) fn parse_id(text: &str) -> Result<ArxivId, StoreError> {
    ArxivId::parse(text).map_err(|e| corrupt(text, e.into()))
}

pub(crate) fn parse_source(id: &str, text: &str) -> Result<Source, StoreError> {
    Source::parse(text).ok_or_else(|| corrupt(id, Corruption::Source(text.to_owned())))
}

pub(crate) fn count(value: Option<i64>) -> Option<u32> {
    value.map(|v| u32::try_from(v).unwrap_or(u32::MAX))
}

pub(crate) fn corrupt(id: &str, source: Corruption) -> StoreError {
    StoreError::Corrupt {
        id: id.to_owned(),
        source,
    }
}

pub(crate) fn count_param(value: Option<u32>) -> Option<i64> {
    value.map(i64::from)
}
