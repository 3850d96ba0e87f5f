//! Measures parse throughput: `cargo run --release -p papers-ingest --example throughput -- FILE`.
//!
//! Reads the whole file through [`papers_ingest::open`] (format detected from content)
//! and prints records per second. Exits non-zero if the file yielded no records or any
//! error, so a broken parser cannot report a fast time.

use std::path::PathBuf;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path: PathBuf = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .ok_or("usage: throughput FILE")?;
    let format = papers_ingest::detect_format(&path)?;
    let start = Instant::now();
    let mut records = 0u64;
    let mut errors = 0u64;
    let mut title_bytes = 0usize;
    for item in papers_ingest::open(&path, format)? {
        match item {
            Ok(positioned) => {
                records += 1;
                // Touch the result so the work cannot be optimised away.
                title_bytes += positioned.record.metadata.title.len();
            }
            Err(error) => {
                errors += 1;
                eprintln!("{error}");
            }
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "{format}: {records} records, {errors} errors, {title_bytes} title bytes in {seconds:.3} s = {:.0} records/s",
        records as f64 / seconds
    );
    if records == 0 || errors > 0 {
        return Err("expected records and no errors".into());
    }
    Ok(())
}
