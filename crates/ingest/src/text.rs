//! Normalisation shared by every format: whitespace, dates, author lists, text decoding.
//!
//! Each format hands its raw strings through these helpers so that the same paper
//! read from OAI-PMH, Kaggle, an `.abs` file or Hugging Face ends up with byte-identical
//! titles and abstracts, and merging in the store compares like with like.

use std::borrow::Cow;

use chrono::{DateTime, NaiveDate, Utc};

/// Collapses every whitespace run to one space and trims the ends. arXiv wraps titles
/// and abstracts at 80 columns with an indent on continuation lines; that layout is
/// an artefact of the format, not part of the text.
pub fn normalize_whitespace(text: &str) -> String {
    // This runs over every abstract of multi-GB snapshots, and word-by-word copying
    // (`split_whitespace`) dominated the parse time. Instead, a table lookup per byte
    // finds line breaks and other unusual whitespace, the text between them is copied
    // whole, and only the (rare) doubled spaces inside a line take the slow path.
    let trimmed = text.trim();
    let bytes = trimmed.as_bytes();
    let mut out = String::with_capacity(trimmed.len());
    let mut run_start = 0;
    let mut at = 0;
    while let Some(offset) = bytes[at..].iter().position(|&b| NOTABLE[usize::from(b)]) {
        at += offset;
        if whitespace_width(trimmed, at) == 0 {
            at += 1;
            continue;
        }
        let mut end = at;
        while end > run_start && bytes[end - 1] == b' ' {
            end -= 1;
        }
        out.push_str(&trimmed[run_start..end]);
        // `trimmed` ends in non-whitespace, so more text follows.
        out.push(' ');
        at = skip_whitespace(trimmed, at);
        run_start = at;
    }
    out.push_str(&trimmed[run_start..]);
    if out.contains("  ") {
        return trimmed.split_whitespace().collect::<Vec<_>>().join(" ");
    }
    out
}

/// Bytes that may start whitespace other than a plain space: ASCII controls, and the
/// UTF-8 lead bytes of Unicode's non-ASCII spaces (U+0085, U+00A0, U+1680,
/// U+2000–U+205F, U+3000).
static NOTABLE: [bool; 256] = {
    let mut table = [false; 256];
    let notable = [b'\t', b'\n', b'\r', 0x0b, 0x0c, 0xc2, 0xe1, 0xe2, 0xe3];
    let mut i = 0;
    while i < notable.len() {
        table[notable[i] as usize] = true;
        i += 1;
    }
    table
};

/// The byte length of the whitespace character starting at byte `at`, or 0. Stepping
/// byte by byte is safe: UTF-8 continuation bytes are never notable.
fn whitespace_width(text: &str, at: usize) -> usize {
    match text.as_bytes().get(at) {
        Some(b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) => 1,
        Some(0xc2 | 0xe1 | 0xe2 | 0xe3) => text
            .get(at..)
            .and_then(|rest| rest.chars().next())
            .filter(|c| c.is_whitespace())
            .map_or(0, char::len_utf8),
        _ => 0,
    }
}

fn skip_whitespace(text: &str, mut at: usize) -> usize {
    loop {
        match whitespace_width(text, at) {
            0 => return at,
            width => at += width,
        }
    }
}

/// Like [`normalize_whitespace`], but `None` for text that is empty after trimming,
/// since optional fields (comments, DOI…) are better absent than blank.
pub fn optional(text: Option<&str>) -> Option<String> {
    let normalized = normalize_whitespace(text?);
    (!normalized.is_empty()).then_some(normalized)
}

/// Parses an RFC 2822 date as arXiv writes them: `Mon, 2 Apr 2007 19:18:42 GMT`.
/// The weekday is ignored rather than checked: some real `.abs` files name the wrong
/// one (`Thu, 29 Aug 2012`, a Wednesday), and the date itself is what matters.
pub fn parse_rfc2822(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    let without_weekday = match text.split_once(',') {
        Some((weekday, rest)) if weekday.chars().all(|c| c.is_ascii_alphabetic()) => rest,
        _ => text,
    };
    DateTime::parse_from_rfc2822(without_weekday.trim())
        .ok()
        .map(|date| date.with_timezone(&Utc))
}

/// Parses an ISO 8601 / RFC 3339 timestamp (`2024-10-22T17:59:30.000Z`,
/// `2016-10-09T00:00:00-04:00`).
pub fn parse_iso8601(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text.trim())
        .ok()
        .map(|date| date.with_timezone(&Utc))
}

/// Parses a bare `YYYY-MM-DD` day as midnight UTC.
pub fn parse_day(text: &str) -> Option<DateTime<Utc>> {
    let day = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()?;
    Some(day.and_hms_opt(0, 0, 0)?.and_utc())
}

/// Any of the three date shapes above, for fields whose shape varies by source.
pub fn parse_any_date(text: &str) -> Option<DateTime<Utc>> {
    parse_iso8601(text)
        .or_else(|| parse_day(text))
        .or_else(|| parse_rfc2822(text))
}

/// Splits an arXiv author string (`"A. One, B. Two and C. Three"`, also with an Oxford
/// comma) into names. Parenthesised affiliations are dropped, and commas inside them
/// do not split, since arXiv writes `"Yu Shi (Dept. of Phys., Fudan University)"`.
/// TeX accents are decoded (`Bal\\'azs` → `Balázs`).
pub fn split_authors(text: &str) -> Vec<String> {
    let text = crate::latex::decode_latex_accents(text);
    let mut flat = String::with_capacity(text.len());
    let mut depth = 0usize;
    for c in text.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            _ if depth == 0 => flat.push(if c.is_whitespace() { ' ' } else { c }),
            _ => {}
        }
    }
    let mut authors = Vec::new();
    for part in flat.split(',') {
        for name in part.split(" and ") {
            let name = name.trim();
            let name = name.strip_prefix("and ").unwrap_or(name);
            let name = normalize_whitespace(name);
            if !name.is_empty() {
                authors.push(name);
            }
        }
    }
    authors
}

/// Joins name parts (`forenames`, `keyname`, `suffix`) with single spaces, skipping
/// empty ones: `["Yuan", "C. -P.", ""]` read as (last, first, suffix) gives "C. -P. Yuan".
pub fn join_name<'a>(parts: impl IntoIterator<Item = &'a str>) -> String {
    let mut name = String::new();
    for part in parts {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        if !name.is_empty() {
            name.push(' ');
        }
        name.push_str(part);
    }
    normalize_whitespace(&name)
}

/// Decodes bytes as UTF-8, falling back to Latin-1 (ISO 8859-1), which is what old
/// arXiv `.abs` files use. Latin-1 maps every byte to the code point of equal value,
/// so the fallback cannot fail.
pub fn decode_utf8_or_latin1(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => Cow::Owned(bytes.iter().map(|&b| char::from(b)).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_collapses_wrapped_lines() {
        assert_eq!(
            normalize_whitespace("  Quantum Criticality for\n  Extended Nodes \n"),
            "Quantum Criticality for Extended Nodes"
        );
        assert_eq!(optional(Some(" \n ")), None);
        assert_eq!(normalize_whitespace("\u{a0}é\u{2003}x\t\ty "), "é x y");
        assert_eq!(normalize_whitespace(""), "");
        assert_eq!(normalize_whitespace("a b  c\n d "), "a b c d");
        assert_eq!(normalize_whitespace(" \u{85}x\u{3000}"), "x");
        assert_eq!(
            normalize_whitespace("a  \n  b\u{a0} c\u{2009}\u{a0}d"),
            "a b c d"
        );
        assert_eq!(
            normalize_whitespace("e\u{301}t\u{e9} \u{2019}x\u{201c}"),
            "e\u{301}t\u{e9} \u{2019}x\u{201c}"
        );
    }

    #[test]
    fn dates_in_every_shape() {
        let rfc = parse_rfc2822("Mon, 2 Apr 2007 19:18:42 GMT").expect("rfc 2822");
        assert_eq!(rfc.to_rfc3339(), "2007-04-02T19:18:42+00:00");
        let iso = parse_iso8601("2024-10-22T17:59:30.000Z").expect("iso");
        assert_eq!(iso.to_rfc3339(), "2024-10-22T17:59:30+00:00");
        let offset = parse_any_date("2016-10-09T00:00:00-04:00").expect("offset");
        assert_eq!(offset.to_rfc3339(), "2016-10-09T04:00:00+00:00");
        let day = parse_any_date("2008-11-13").expect("day");
        assert_eq!(day.to_rfc3339(), "2008-11-13T00:00:00+00:00");
        assert_eq!(parse_any_date("yesterday"), None);
        let wrong_weekday =
            parse_rfc2822("Thu, 29 Aug 2012 23:00:00 GMT").expect("weekday ignored");
        assert_eq!(wrong_weekday.to_rfc3339(), "2012-08-29T23:00:00+00:00");
    }

    #[test]
    fn authors_split_on_commas_and_and() {
        assert_eq!(
            split_authors("Cynthia Dwork, Joseph Y. Halpern, and O. Waarts"),
            ["Cynthia Dwork", "Joseph Y. Halpern", "O. Waarts"]
        );
        assert_eq!(
            split_authors("Selma Junqueira (Observatorio, Brazil), Duilia F. de Mello\n  (ON)"),
            ["Selma Junqueira", "Duilia F. de Mello"]
        );
        assert_eq!(
            split_authors("Ileana Streinu and Louis Theran"),
            ["Ileana Streinu", "Louis Theran"]
        );
        assert_eq!(join_name(["C. -P.", "Yuan", ""]), "C. -P. Yuan");
    }

    #[test]
    fn latin1_fallback() {
        assert_eq!(decode_utf8_or_latin1(b"\xc9pijournal"), "Épijournal");
        assert_eq!(decode_utf8_or_latin1("Épi".as_bytes()), "Épi");
    }
}
