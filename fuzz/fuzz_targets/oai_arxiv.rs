//! The fields of an OAI-PMH record in the `arXiv` metadata format (structured
//! authors, `created`/`updated` days), inside a fixed response envelope.

#![no_main]

use libfuzzer_sys::fuzz_target;
use papers_fuzz::{check_oai_page, oai_envelope};

fuzz_target!(|data: &[u8]| {
    check_oai_page(&oai_envelope("arXiv", "http://arxiv.org/OAI/arXiv/", data));
});
