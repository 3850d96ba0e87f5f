//! The lexical index's schema, analyzers and document conversion.
//!
//! Analyzers are not persisted by tantivy, so [`register_tokenizers`] must run on
//! every open; changing one changes the index format, which is why the names carry
//! a version.

use chrono::NaiveDate;
use tantivy::schema::{
    DateOptions, DateTimePrecision, FAST, Field, INDEXED, IndexRecordOption, STORED, STRING,
    Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RawTokenizer, RemoveLongFilter, SimpleTokenizer,
    Stemmer, StopWordFilter, TextAnalyzer,
};
use tantivy::{DateTime, Index, TantivyDocument};

use crate::IndexDoc;

/// English prose: words, lower-cased, ASCII-folded, stop words out, stemmed.
pub(crate) const PROSE: &str = "papers_prose_v1";
/// Person names: words, lower-cased and folded, never stemmed.
pub(crate) const NAMES: &str = "papers_names_v1";
/// One whole value (a last name), lower-cased and folded.
pub(crate) const NAME_RAW: &str = "papers_name_raw_v1";

#[derive(Debug, Clone, Copy)]
pub(crate) struct Fields {
    pub key: Field,
    pub id: Field,
    pub title: Field,
    pub abstract_text: Field,
    /// Title and abstract as one text: BM25 over the whole record, like BEIR's flat baselines.
    pub body: Field,
    pub authors: Field,
    pub author_last: Field,
    pub categories: Field,
    pub published: Field,
}

pub(crate) fn schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let text = |tokenizer: &str, stored: bool| {
        let indexing = TextFieldIndexing::default()
            .set_tokenizer(tokenizer)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions);
        let options = TextOptions::default().set_indexing_options(indexing);
        if stored {
            options.set_stored()
        } else {
            options
        }
    };
    let fields = Fields {
        key: builder.add_u64_field("key", INDEXED | FAST | STORED),
        id: builder.add_text_field("id", STRING | STORED),
        title: builder.add_text_field("title", text(PROSE, true)),
        abstract_text: builder.add_text_field("abstract", text(PROSE, true)),
        body: builder.add_text_field("body", text(PROSE, false)),
        authors: builder.add_text_field("authors", text(NAMES, false)),
        author_last: builder.add_text_field("author_last", text(NAME_RAW, false)),
        categories: builder.add_text_field("categories", STRING | FAST),
        published: builder.add_date_field(
            "published",
            DateOptions::from(INDEXED | FAST).set_precision(DateTimePrecision::Seconds),
        ),
    };
    (builder.build(), fields)
}

pub(crate) fn fields_of(schema: &Schema) -> tantivy::Result<Fields> {
    Ok(Fields {
        key: schema.get_field("key")?,
        id: schema.get_field("id")?,
        title: schema.get_field("title")?,
        abstract_text: schema.get_field("abstract")?,
        body: schema.get_field("body")?,
        authors: schema.get_field("authors")?,
        author_last: schema.get_field("author_last")?,
        categories: schema.get_field("categories")?,
        published: schema.get_field("published")?,
    })
}

pub(crate) fn register_tokenizers(index: &Index) {
    let manager = index.tokenizers();
    manager.register(PROSE, prose_analyzer());
    manager.register(
        NAMES,
        TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(LowerCaser)
            .filter(AsciiFoldingFilter)
            .build(),
    );
    manager.register(
        NAME_RAW,
        TextAnalyzer::builder(RawTokenizer::default())
            .filter(LowerCaser)
            .filter(AsciiFoldingFilter)
            .build(),
    );
}

fn prose_analyzer() -> TextAnalyzer {
    let builder = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter);
    match StopWordFilter::new(Language::English) {
        Some(stop_words) => builder
            .filter(stop_words)
            .filter(Stemmer::new(Language::English))
            .build(),
        None => builder.filter(Stemmer::new(Language::English)).build(),
    }
}

/// The last word of a name as written (`Geoffrey E. Hinton` → `Hinton`), which is
/// what `author:` users type. Particles (`van der Waals`) are matched through the
/// full-name field instead.
pub(crate) fn last_name(author: &str) -> Option<&str> {
    author
        .split(|c: char| c.is_whitespace() || c == '.')
        .rfind(|part| !part.is_empty())
}

pub(crate) fn to_tantivy_date(day: NaiveDate) -> DateTime {
    let seconds = day
        .and_hms_opt(0, 0, 0)
        .map_or(0, |t| t.and_utc().timestamp());
    DateTime::from_timestamp_secs(seconds)
}

/// The document of `doc`, filed under `key` (`doc.key` as the index holds it).
pub(crate) fn document(fields: &Fields, key: u64, doc: &IndexDoc) -> TantivyDocument {
    let mut out = TantivyDocument::default();
    out.add_u64(fields.key, key);
    if let Some(id) = &doc.id {
        out.add_text(fields.id, id.as_str());
    }
    out.add_text(fields.title, &doc.title);
    out.add_text(fields.abstract_text, &doc.abstract_text);
    out.add_text(fields.body, format!("{}\n{}", doc.title, doc.abstract_text));
    for author in &doc.authors {
        out.add_text(fields.authors, author);
        if let Some(last) = last_name(author) {
            out.add_text(fields.author_last, last);
        }
    }
    for category in &doc.categories {
        out.add_text(fields.categories, category.as_str());
        // The archive too, so that `cat:cs` finds every cs.* paper.
        if category.archive() != category.as_str() {
            out.add_text(fields.categories, category.archive());
        }
    }
    if let Some(day) = doc.published {
        out.add_date(fields.published, to_tantivy_date(day));
    }
    out
}
