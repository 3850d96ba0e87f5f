//! A Hugging Face `/api/papers/{id}` response (one paper object).

#![no_main]

use libfuzzer_sys::fuzz_target;
use papers_fuzz::check_record;
use papers_ingest::format::hf;

fuzz_target!(|data: &[u8]| {
    match hf::parse_paper(data) {
        Ok(record) => check_record(&record),
        Err(error) => {
            let _ = error.to_string();
        }
    }
});
