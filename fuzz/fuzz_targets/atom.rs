//! An arXiv API (`/api/query`) Atom feed, as the Atom harvester receives it.

#![no_main]

use libfuzzer_sys::fuzz_target;
use papers_fuzz::check_record;
use papers_ingest::format::atom;

fuzz_target!(|data: &[u8]| {
    match atom::parse_feed(data) {
        Ok(records) => records.iter().for_each(check_record),
        Err(error) => {
            let _ = error.to_string();
        }
    }
});
