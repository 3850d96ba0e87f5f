//! arXiv `.abs` files: bytes as read from disk (UTF-8, or Latin-1 in old files).

#![no_main]

use libfuzzer_sys::fuzz_target;
use papers_fuzz::check_record;
use papers_ingest::format::abs;
use papers_ingest::text::decode_utf8_or_latin1;

fuzz_target!(|data: &[u8]| {
    let text = decode_utf8_or_latin1(data);
    match abs::parse(&text) {
        Ok(record) => check_record(&record),
        Err(error) => {
            let _ = error.to_string();
        }
    }
});
