//! Giving freed memory back to the system while `papers serve` runs.
//!
//! glibc's malloc keeps what a thread frees in that thread's arena (up to eight per
//! core) for the next allocation there. Once a large block has been freed it also
//! raises its thresholds (up to 32 MB for `mmap`, 64 MB for trimming a heap's top),
//! so later large blocks come from the arenas and each arena keeps up to 64 MB free
//! at its top, which `malloc_trim` does not touch outside the main arena. A server
//! whose threads do large transient work (embedding a batch of new papers,
//! committing and merging index segments, rebuilding the topic map, rendering and
//! compressing pages on every worker) then looks as if it leaked. In a three-minute
//! soak (`scripts/soak.sh 3`) the anonymous memory went from 351 to 468 MB: at the
//! end malloc held 552 MB from the system for 182 MB in use, in 16 arenas of which
//! most held 17 to 45 MB for under 1 MB in use, and `malloc_trim` gave back 157 MB.
//!
//! So `papers serve` fixes the thresholds (blocks from 1 MB on are mapped and
//! unmapped on their own; a heap's top is returned past 4 MB) and trims every 10 s,
//! which returns the free pages inside the heaps. With these and the arenas capped at
//! one per core, the same soak held 171 to 224 MB anonymous, 135 MB in use at the
//! end.
//!
//! The arenas were then uncapped: with one per core, the tokio worker and the
//! blocking threads that run store queries wait on each other's arena locks. Uncached
//! `/api/papers/{id}` over 20,000 papers went from about 21,000 to 24,400 requests/s
//! and its p99 from 6.0 to 4.7 ms without the cap, at the same anonymous memory
//! (138 against 142 MB after the runs), since the periodic trim returns what the
//! extra arenas hold.
//!
//! Where the rest of a soak's RSS growth comes from (the debug line of the trim
//! thread, `log_usage`): in a 3-minute soak on a loaded machine (load 10 to 16) the
//! memory in use went up and down between 109 and 195 MB with the response cache's
//! cycle (it fills to its 64 MB bound and is cleared) and the background work
//! (embedding batches), its lows rising about 20 MB as 600 papers came in, while the
//! resident memory not in use (what the allocator keeps, and the threads' stacks) rose
//! from 25 to 57 MB. So both grow. Three 5-minute soaks side by side (load 18 to 31):
//! jemalloc instead (`LD_PRELOAD`) grew +53 %, glibc +70 %, `MALLOC_ARENA_MAX=2` +35 %;
//! one overloaded run each, too little to pick an allocator on. The arenas are now
//! capped at two per core (`ARENAS_PER_CORE`), between the throughput that one per
//! core cost and the kept memory that eight per core let grow.
//!
//! mimalloc (v3, as the `#[global_allocator]`) was tried on 2026-12-05 and taken out:
//! uncached paper pages spent a fifth less CPU in the allocator, but in the 10-minute
//! soak (`scripts/soak.sh`, AMD EPYC, 2 cores, nothing else running while it
//! measured) the server held 487 MB at the end of the warm-up against glibc's 268 MB,
//! and grew by 38 % (troughs of the first and last minute) against glibc's 12 %, to
//! 1.25 GB at the end. Each thread keeps freed pages of its own, and the server ran
//! about 40 threads, most of them tokio's blocking threads.
//!
//! Elsewhere (musl, macOS, Windows) this does nothing: those allocators return memory
//! on their own terms.

use std::time::Duration;

/// How often the server trims. Often enough that one burst of transient work (an
/// embedding batch every 2 s, a topic map rebuild) is given back within seconds,
/// rarely enough that the walk costs nothing measurable.
pub const TRIM_INTERVAL: Duration = Duration::from_secs(10);

/// Blocks from this size on are mapped on their own, and unmapped when freed.
const MMAP_THRESHOLD: usize = 1024 * 1024;
/// Free memory past this at the top of a heap goes back to the system at once.
const TRIM_THRESHOLD: usize = 4 * 1024 * 1024;

/// At most this many arenas per core. With glibc's default, eight per core, the memory
/// the allocator keeps resident grew through a 3-minute soak (25 to 57 MB, RSS lows
/// +24 %); capped at one per core (`MALLOC_ARENA_MAX=2` on 2 cores) it stayed at 8 to
/// 25 MB (RSS lows +2.4 %), at two per core at 17 to 35 MB (RSS lows +6.4 %): one run
/// each, load about 12. Two, not one: one per core made request threads wait on each
/// other's arena locks (see above).
const ARENAS_PER_CORE: usize = 2;

/// Sets the allocator's thresholds and arena limit (see the module documentation).
/// Call before the server starts its threads, so every block they allocate follows
/// them. glibc's own `MALLOC_ARENA_MAX`, when set, wins over the limit here: the
/// operator's way to tune it.
pub fn configure_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let arenas = (std::env::var_os("MALLOC_ARENA_MAX").is_none())
            .then_some((libc::M_ARENA_MAX, cores * ARENAS_PER_CORE));
        let settings = [
            (libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD),
            (libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD),
        ]
        .into_iter()
        .chain(arenas);
        for (parameter, value) in settings {
            let value = libc::c_int::try_from(value).unwrap_or(libc::c_int::MAX);
            // SAFETY: `mallopt` changes the allocator's parameters under its own lock.
            if unsafe { libc::mallopt(parameter, value) } != 1 {
                tracing::warn!(parameter, value, "the allocator refused a setting");
            }
        }
    }
}

/// Hands memory that the allocator holds but nothing uses back to the system;
/// true when some was.
pub fn release_free_memory() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: `malloc_trim` only takes the allocator's own locks; it is safe to
        // call from any thread at any time.
        unsafe { libc::malloc_trim(0) == 1 }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}

/// The allocator's own account of its memory, bytes.
#[derive(Debug, Clone, Copy)]
pub struct AllocatorUsage {
    /// Allocated and not yet freed (heap blocks and mapped blocks).
    pub in_use: usize,
    /// Freed but still held from the system, in the arenas' heaps.
    pub free: usize,
}

/// What glibc's malloc holds, over every arena; `None` with another allocator.
pub fn allocator_usage() -> Option<AllocatorUsage> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: `mallinfo2` takes the arenas' locks in turn and returns a copy.
        let info = unsafe { libc::mallinfo2() };
        Some(AllocatorUsage {
            in_use: info.uordblks + info.hblkhd,
            free: info.fordblks,
        })
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        None
    }
}

/// What tells growth (memory in use: caches, data, a leak) from memory the allocator
/// keeps (fragmentation), after each trim: `PAPERS_LOG=papers::memory=debug`. The
/// allocator's free figure counts the pages a trim gave back too, so it says little
/// about RSS; the resident anonymous memory less what is in use does (it is what the
/// allocator keeps resident, plus the threads' stacks).
fn log_usage(released: bool, duration_ms: u64) {
    // `mallinfo2` takes every arena's lock in turn: only when someone reads the line.
    if !tracing::enabled!(tracing::Level::DEBUG) {
        return;
    }
    let Some(usage) = allocator_usage() else {
        return;
    };
    let anonymous = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| status_field_bytes(&status, "RssAnon"));
    let mb = |bytes: usize| bytes / (1024 * 1024);
    tracing::debug!(
        released,
        duration_ms,
        in_use_mb = mb(usage.in_use),
        free_mb = mb(usage.free),
        resident_anonymous_mb = anonymous.map(mb),
        resident_not_in_use_mb =
            anonymous.map(|anonymous| mb(anonymous.saturating_sub(usage.in_use))),
        "returned free memory to the system"
    );
}

/// A `kB` field of `/proc/self/status` (`RssAnon:    1234 kB`), in bytes.
fn status_field_bytes(status: &str, field: &str) -> Option<usize> {
    status.lines().find_map(|line| {
        let value = line.strip_prefix(field)?.strip_prefix(':')?.trim();
        let kib: usize = value.strip_suffix("kB")?.trim().parse().ok()?;
        Some(kib * 1024)
    })
}

/// Starts the thread that releases free memory every [`TRIM_INTERVAL`].
pub fn spawn_trimmer() {
    if !cfg!(all(target_os = "linux", target_env = "gnu")) {
        return;
    }
    let spawned = std::thread::Builder::new()
        .name("memory-trim".to_owned())
        .spawn(|| {
            loop {
                std::thread::sleep(TRIM_INTERVAL);
                let started = std::time::Instant::now();
                let released = release_free_memory();
                let duration_ms = started.elapsed().as_millis() as u64;
                log_usage(released, duration_ms);
            }
        });
    if let Err(error) = spawned {
        tracing::warn!(%error, "cannot start the memory trim thread");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_fields_are_read_in_bytes() {
        let status = "Name:\tpapers\nRssAnon:\t  183104 kB\nRssFile:\t   32768 kB\nThreads:\t19\n";
        assert_eq!(status_field_bytes(status, "RssAnon"), Some(183_104 * 1024));
        assert_eq!(status_field_bytes(status, "RssFile"), Some(32_768 * 1024));
        // A field without a unit, or one that is not there, is no size.
        assert_eq!(status_field_bytes(status, "Threads"), None);
        assert_eq!(status_field_bytes(status, "RssShmem"), None);
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn this_process_has_resident_anonymous_memory() {
        let status = std::fs::read_to_string("/proc/self/status").expect("status");
        let anonymous = status_field_bytes(&status, "RssAnon").expect("RssAnon");
        assert!(anonymous > 0);
    }

    #[test]
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn freed_memory_goes_back_to_the_system() {
        // Many mid-sized blocks (below the mmap threshold, so they come from an
        // arena), most freed with a few kept between them so the heap cannot shrink
        // from its top: what a server's transient work leaves behind.
        let resident = || papers_testkit::process_memory_kib("RssAnon").unwrap_or(0);
        // Never zeroes: `calloc` may leave fresh pages untouched, so not resident.
        let mut blocks: Vec<Vec<u8>> = (0..2048)
            .map(|n| vec![(n % 255) as u8 + 1; 64 * 1024])
            .collect();
        let kept: Vec<Vec<u8>> = blocks.iter().step_by(64).cloned().collect();
        let before_free = resident();
        blocks.clear();
        blocks.shrink_to_fit();
        let freed = resident();
        release_free_memory();
        let trimmed = resident();
        assert_eq!(kept.len(), 32);
        // 128 MB were touched; freeing alone leaves most of it resident, trimming
        // returns most of it (other tests' threads may allocate meanwhile, hence
        // the margins).
        assert!(before_free > 100_000, "{before_free} kB");
        assert!(
            trimmed + 60_000 < freed,
            "{before_free} kB before free, {freed} kB after, {trimmed} kB after trimming"
        );
    }
}
