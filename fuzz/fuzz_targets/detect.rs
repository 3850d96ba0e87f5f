//! Format detection and the streaming readers behind `papers ingest FILE`: the input
//! is written to a file (gzipped or not, as the bytes say), its format detected from
//! the content, and every record read, as the CLI does.

#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use papers_fuzz::check_record;
use papers_ingest::{detect_format, open};

/// One file per process, rewritten for each input; in memory where the system has a
/// tmpfs, so the target measures parsing rather than the disk.
fn input_path() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let shm = std::path::Path::new("/dev/shm");
        let dir = if shm.is_dir() {
            tempfile::tempdir_in(shm)
        } else {
            tempfile::tempdir()
        };
        let dir = dir.expect("temporary directory").keep();
        dir.join("input")
    })
}

fuzz_target!(|data: &[u8]| {
    let path = input_path();
    std::fs::write(path, data).expect("write the input file");
    let Ok(format) = detect_format(path) else {
        return;
    };
    let Ok(records) = open(path, format) else {
        return;
    };
    assert_eq!(records.format(), format);
    let total = records.total_bytes();
    assert_eq!(total, data.len() as u64);
    let progress = records.progress();
    for item in records {
        match item {
            Ok(positioned) => check_record(&positioned.record),
            Err(error) => {
                let _ = error.to_string();
            }
        }
        assert!(progress.bytes_read() <= total);
    }
});
