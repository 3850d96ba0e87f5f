//! A Hugging Face `/api/daily_papers` response (a JSON array of entries).

#![no_main]

use libfuzzer_sys::fuzz_target;
use papers_fuzz::check_record;
use papers_ingest::format::hf;

fuzz_target!(|data: &[u8]| {
    let Ok(entries) = hf::parse_daily_papers(data) else {
        return;
    };
    for entry in entries {
        match entry {
            Ok(record) => {
                check_record(&record);
                assert!(
                    record.community.is_some(),
                    "a daily entry has a community side"
                );
            }
            Err(error) => {
                let _ = error.to_string();
            }
        }
    }
});
