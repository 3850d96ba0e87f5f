//! A whole OAI-PMH response (envelope, errors, resumption token, records of either
//! metadata format), as the harvester receives it.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| papers_fuzz::check_oai_page(data));
