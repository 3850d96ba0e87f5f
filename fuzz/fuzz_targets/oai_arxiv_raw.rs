//! The fields of an OAI-PMH record in the `arXivRaw` metadata format (authors as one
//! string, every version with its date and size), inside a fixed response envelope.

#![no_main]

use libfuzzer_sys::fuzz_target;
use papers_fuzz::{check_oai_page, oai_envelope};

fuzz_target!(|data: &[u8]| {
    check_oai_page(&oai_envelope(
        "arXivRaw",
        "http://arxiv.org/OAI/arXivRaw/",
        data,
    ));
});
