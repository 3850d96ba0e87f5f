//! Embeds a JSONL file of `{"text": ...}` lines into row-major little-endian f32 vectors.
//!
//! `cargo run --release -p papers-embed --example encode -- --input texts.jsonl
//! --output vectors.f32 --model DIR [--threads N] [--kernel NAME] [--portable] [--query TEXT]`
//!
//! `--model` defaults to `PAPERS_MODEL`. `--kernel avx512bf16` (or
//! `PAPERS_EMBED_KERNEL=avx512bf16`) caps the kernel chain at AVX-512 BF16, `--kernel avx2`
//! at AVX2 + FMA, `--kernel portable`, `--portable` or `PAPERS_EMBED_PORTABLE=1` force the
//! portable kernels; the default, `amx`, takes the best the CPU has. Timing and memory go to stderr as one `key=value` line for the
//! benchmark. `--query TEXT` instead times embedding that one text repeatedly and prints the
//! median.

use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use papers_embed::{EmbedOptions, Embedder, Kernel, encode_jsonl, resolve_model_dir};

struct Args {
    input: Option<PathBuf>,
    output: Option<PathBuf>,
    model: Option<PathBuf>,
    threads: usize,
    kernel: Kernel,
    query: Option<String>,
}

fn kernel_named(name: &str) -> Result<Kernel, String> {
    Kernel::from_name(name).ok_or(format!(
        "unknown kernel {name} (amx, avx512bf16, avx2 or portable)"
    ))
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        input: None,
        output: None,
        model: std::env::var_os("PAPERS_MODEL").map(PathBuf::from),
        threads: 0,
        kernel: match std::env::var("PAPERS_EMBED_KERNEL") {
            Ok(name) if !name.is_empty() => kernel_named(&name)?,
            _ => Kernel::FASTEST,
        },
        query: None,
    };
    if std::env::var("PAPERS_EMBED_PORTABLE").is_ok_and(|v| v == "1") {
        args.kernel = Kernel::Portable;
    }
    let mut iter = std::env::args().skip(1);
    while let Some(flag) = iter.next() {
        let mut value = || iter.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--input" => args.input = Some(value()?.into()),
            "--output" => args.output = Some(value()?.into()),
            "--model" => args.model = Some(value()?.into()),
            "--threads" => {
                args.threads = value()?.parse().map_err(|e| format!("--threads: {e}"))?
            }
            "--query" => args.query = Some(value()?),
            "--kernel" => args.kernel = kernel_named(&value()?)?,
            "--portable" => args.kernel = Kernel::Portable,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(args)
}

/// Resident set size in KiB, from /proc (Linux only; 0 elsewhere).
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// CPU seconds (user + system) this process has used, all threads, from /proc (Linux
/// only; 0 elsewhere). Beside the wall clock it shows how much of a slow run was waiting for
/// the CPU on a busy machine.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or(Vec::new(), |(_, rest)| rest.split_whitespace().collect());
    let ticks: f64 = fields.get(11..13).map_or(0.0, |t| {
        t.iter().filter_map(|v| v.parse::<f64>().ok()).sum()
    });
    // USER_HZ is 100 on every Linux configuration that matters here.
    ticks / 100.0
}

fn run() -> Result<(), String> {
    let args = parse_args()?;
    let hf_home = std::env::var_os("HF_HOME").map(PathBuf::from).or_else(|| {
        std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache/huggingface"))
    });
    let dir = resolve_model_dir(
        args.model.as_deref(),
        hf_home.as_deref(),
        papers_embed::DEFAULT_MODEL_REPO,
    )
    .map_err(|e| e.to_string())?;
    let rss_before = rss_kib();
    let started = Instant::now();
    let options = EmbedOptions {
        max_kernel: args.kernel,
        threads: args.threads,
    };
    let embedder = Embedder::load_with(&dir, options).map_err(|e| e.to_string())?;
    let load_ms = started.elapsed().as_secs_f64() * 1e3;
    let model_kib = rss_kib().saturating_sub(rss_before);
    if let Some(query) = &args.query {
        let mut times = Vec::new();
        for _ in 0..50 {
            let started = Instant::now();
            embedder.embed(&[query]).map_err(|e| e.to_string())?;
            times.push(started.elapsed().as_secs_f64() * 1e3);
        }
        times.sort_by(f64::total_cmp);
        eprintln!(
            "kernel={} query_median_ms={:.3} model_rss_mib={:.1} load_ms={load_ms:.0}",
            embedder.kernel().name(),
            times[times.len() / 2],
            model_kib as f64 / 1024.0
        );
        return Ok(());
    }
    let input = args.input.ok_or("--input is required")?;
    let output = args.output.ok_or("--output is required")?;
    let reader =
        BufReader::new(File::open(&input).map_err(|e| format!("{}: {e}", input.display()))?);
    let writer =
        BufWriter::new(File::create(&output).map_err(|e| format!("{}: {e}", output.display()))?);
    let started = Instant::now();
    let cpu_before = cpu_seconds();
    let rows = encode_jsonl(&embedder, reader, writer).map_err(|e| e.to_string())?;
    let seconds = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu_before;
    eprintln!(
        "kernel={} threads={} rows={rows} seconds={seconds:.3} texts_per_s={:.2} cpu_s={cpu:.2} model_rss_mib={:.1} peak_rss_mib={:.1} load_ms={load_ms:.0} model_id={}",
        embedder.kernel().name(),
        embedder.threads(),
        rows as f64 / seconds,
        model_kib as f64 / 1024.0,
        rss_kib() as f64 / 1024.0,
        embedder.model_id()
    );
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
