//! Turning arXiv and Hugging Face inputs into [`PaperRecord`]s, and fetching them online.
//!
//! Inputs: arXiv OAI-PMH XML, arXiv API Atom feeds, Kaggle snapshot JSON lines (plain
//! or gzipped), arXiv `.abs` files, and Hugging Face daily-papers and paper responses.
//! [`detect_format`] recognises them by content; [`open`] streams their records with
//! constant memory, each tagged with its [`Position`] so errors can name the line or
//! record. The crate never touches the store: callers decide what to keep.
//!
//! After an error item, iteration can go on with the next record where the format
//! allows it: JSON lines and HF arrays continue after a bad record, `.abs` directories
//! after a bad file, XML continues after a record whose *content* is invalid, but an
//! XML syntax error, an I/O error or a truncated gzip stream ends the input.
//!
//! The [`harvest`] module fetches the same formats over HTTP (OAI-PMH with resumption
//! tokens and polite pacing, the HF API, the arXiv API).

mod detect;
mod error;
pub mod format;
pub mod harvest;
mod input;
mod latex;
mod records;
pub mod text;
mod xml;

pub use detect::{Format, FormatParseError, detect_format, input_files};
pub use error::{ErrorKind, IngestError, Position};
pub use format::Positioned;
pub use input::Progress;
pub use records::{Records, open};

#[doc(no_inline)]
pub use papers_core::PaperRecord;
