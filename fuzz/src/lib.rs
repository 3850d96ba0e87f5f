//! What the fuzz targets share: the properties every parsed record must have.
//!
//! A target that only calls a parser finds panics; these checks also find parsers that
//! accept what the rest of the system cannot hold (an id that does not re-parse, a
//! merge that is not idempotent), which would surface later as a corrupt store.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;

use papers_core::{ArxivId, Category, Paper, PaperRecord, VersionedId};

/// The largest single allocation a target may make. No input of at most 64 KB needs
/// more, so a bigger request is an over-allocation driven by the input (a length field
/// believed, a quadratic blow-up). libFuzzer's own `-malloc_limit_mb` needs a
/// sanitizer's allocator hooks, which these builds (`-s none`) do not have.
const ALLOCATION_LIMIT: usize = 256 << 20;

/// The system allocator, aborting (which libFuzzer reports as a crash and saves the
/// input) on an allocation above [`ALLOCATION_LIMIT`].
struct Limited;

impl Limited {
    fn check(size: usize) {
        if size > ALLOCATION_LIMIT {
            // No formatting: it could allocate inside the allocator.
            let _ = std::io::stderr().write_all(b"==fuzz== allocation above 256 MiB\n");
            std::process::abort();
        }
    }
}

// SAFETY: every call is forwarded unchanged to the system allocator.
unsafe impl GlobalAlloc for Limited {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        Limited::check(layout.size());
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        Limited::check(layout.size());
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from this allocator, that is from `System`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        Limited::check(new_size);
        // SAFETY: as for `dealloc`, with the caller's `realloc` contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Limited = Limited;

/// Checks what the store relies on in a record that a parser accepted.
pub fn check_record(record: &PaperRecord) {
    check_id(&record.id);
    for category in &record.metadata.categories {
        let again = Category::parse(category.as_str());
        assert_eq!(again.as_ref(), Ok(category), "category does not re-parse");
    }
    assert!(
        !record.metadata.title.is_empty(),
        "a record was accepted without a title"
    );
    // Merging the same account twice changes nothing the second time: the store's
    // "skip unchanged papers" and the convergence invariant both rest on this.
    let mut paper = Paper::from_record(record.clone());
    paper.merge(record.clone());
    let merged = paper.clone();
    assert!(!paper.merge(record.clone()), "merge is not idempotent");
    assert_eq!(paper, merged);
    // Pages and the API derive links from the free text.
    let _ = paper.links();
}

/// An id a parser produced must be one the id parser accepts as it is.
pub fn check_id(id: &ArxivId) {
    let again = ArxivId::parse(id.as_str());
    assert_eq!(again.as_ref(), Ok(id), "id does not re-parse");
    let reference = VersionedId::parse_reference(id.as_str());
    assert_eq!(reference.map(|r| r.id).as_ref(), Ok(id));
    let (year, month) = id.year_month();
    assert!((1991..=2090).contains(&year), "year {year} of {id}");
    assert!((1..=12).contains(&month), "month {month} of {id}");
}

/// Fuzz input as text: the parsers under test take `&str`, and invalid UTF-8 never
/// reaches them (HTTP and file readers decode first).
pub fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// A `ListRecords` response with one record whose metadata element (`arXiv` or
/// `arXivRaw`) holds `inner`, so a target can spend its mutations on the fields.
pub fn oai_envelope(format: &str, namespace: &str, inner: &[u8]) -> Vec<u8> {
    let mut page = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<OAI-PMH xmlns=\"http://www.openarchives.org/OAI/2.0/\">\
         <ListRecords><record><header><identifier>oai:arXiv.org:0704.0001</identifier>\
         <datestamp>2007-04-01</datestamp></header><metadata><{format} xmlns=\"{namespace}\">"
    )
    .into_bytes();
    page.extend_from_slice(inner);
    page.extend_from_slice(
        format!("</{format}></metadata></record></ListRecords></OAI-PMH>\n").as_bytes(),
    );
    page
}

/// Parses an OAI-PMH page and checks every record it yields.
pub fn check_oai_page(body: &[u8]) {
    match papers_ingest::format::oai::parse_page(body) {
        Ok(page) => {
            page.records.iter().for_each(check_record);
            for error in &page.skipped {
                let _ = error.to_string();
            }
            if let Some(token) = &page.resumption_token {
                assert!(!token.is_empty() && token.trim() == token);
            }
        }
        Err(error) => {
            let _ = error.to_string();
        }
    }
}
