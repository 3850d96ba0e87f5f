//! One line of the Kaggle `arxiv-metadata-oai-snapshot` JSON lines.

#![no_main]

use libfuzzer_sys::fuzz_target;
use papers_fuzz::check_record;
use papers_ingest::format::kaggle;

fuzz_target!(|data: &[u8]| {
    match kaggle::parse_line(data) {
        Ok(record) => check_record(&record),
        Err(error) => {
            let _ = error.to_string();
        }
    }
});
