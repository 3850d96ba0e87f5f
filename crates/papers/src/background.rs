//! Threads for `papers serve`'s background work (index catch-up and embedding,
//! harvesting, topic map rebuilds, digest sends, memory trims), run at a lower
//! scheduling priority than the threads that answer requests.
//!
//! On a small node the background work is CPU-bound and bursty: a harvested day
//! is embedded (every core, through scoped threads), inserted into the vector
//! graph (every core again), committed and merged; a topic map rebuild clusters
//! every vector. At equal priority these took the node's cores from the request
//! workers for seconds at a time, and the p99 of a soak (`scripts/soak.sh`) went
//! from about 20 ms to several hundred. With the background threads niced, the
//! scheduler gives the workers the CPU whenever they want it and the background
//! work the rest: it still finishes, only later under load.
//!
//! On Linux the nice value belongs to a thread (`setpriority` with a thread id), and
//! threads inherit their creator's: the scoped threads that embed or insert into the
//! graph for a background thread run at its priority. Elsewhere this does nothing.

use std::io;
use std::thread::JoinHandle;

/// How much nicer than the request workers background threads run. At 10 a thread
/// gets about a tenth of the CPU share of a thread at 0 when both want it, yet runs
/// at full speed on an idle node.
pub const BACKGROUND_NICE: i32 = 10;

/// Starts a named thread that lowers its own priority by [`BACKGROUND_NICE`] before
/// running `work`.
pub fn spawn<F, T>(name: &str, work: F) -> io::Result<JoinHandle<T>>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let thread_name = name.to_owned();
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            if let Err(error) = lower_current_thread_priority() {
                tracing::warn!(thread = thread_name, %error, "cannot lower the background thread's priority");
            }
            work()
        })
}

/// Runs `work` on a scoped thread of lowered priority and returns its result: for
/// CPU-heavy work done on behalf of a thread that must keep its own priority because
/// it also holds locks that requests wait for (a niced thread holding one would keep
/// them waiting while it waits for the CPU).
pub fn run_niced<F, T>(work: F) -> T
where
    F: FnOnce() -> T + Send,
    T: Send,
{
    std::thread::scope(|scope| {
        let thread = scope.spawn(|| {
            if let Err(error) = lower_current_thread_priority() {
                tracing::warn!(%error, "cannot lower a background task's priority");
            }
            work()
        });
        match thread.join() {
            Ok(value) => value,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

/// Makes the calling thread (only it, and threads it starts later) [`BACKGROUND_NICE`]
/// nicer than it is. A thread may always lower its own priority; raising it again
/// takes a privilege, so only threads that keep doing background work call this.
pub fn lower_current_thread_priority() -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        let current = current_thread_nice()?;
        let thread = thread_id();
        // SAFETY: `setpriority` reads its arguments only; `thread` is this thread's id.
        let set =
            unsafe { libc::setpriority(libc::PRIO_PROCESS, thread, current + BACKGROUND_NICE) };
        if set != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// The calling thread's nice value (0 where threads have none of their own).
pub fn current_thread_nice() -> io::Result<i32> {
    #[cfg(target_os = "linux")]
    {
        let thread = thread_id();
        // `getpriority` may return -1 as a value: errno tells an error apart.
        // SAFETY: writes errno of this thread only; reads its arguments only.
        unsafe { *libc::__errno_location() = 0 };
        // SAFETY: as above.
        let nice = unsafe { libc::getpriority(libc::PRIO_PROCESS, thread) };
        let error = io::Error::last_os_error();
        if nice == -1 && error.raw_os_error() != Some(0) {
            return Err(error);
        }
        Ok(nice)
    }
    #[cfg(not(target_os = "linux"))]
    {
        Ok(0)
    }
}

#[cfg(target_os = "linux")]
fn thread_id() -> libc::id_t {
    // SAFETY: `gettid` has no arguments and cannot fail.
    let id = unsafe { libc::gettid() };
    id as libc::id_t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(target_os = "linux")]
    fn background_threads_run_nicer_and_leave_the_caller_alone() {
        let caller = current_thread_nice().expect("nice");
        let (inside, child) = spawn("test-background", || {
            let inside = current_thread_nice().expect("nice");
            // Threads a background thread starts (embedding, graph inserts) inherit it.
            let child = std::thread::spawn(|| current_thread_nice().expect("nice"))
                .join()
                .expect("child");
            (inside, child)
        })
        .expect("spawn")
        .join()
        .expect("join");
        // The kernel caps nice at 19 (a test run under `nice -n 15` gets only 4 more).
        let expected = (caller + BACKGROUND_NICE).min(19);
        assert_eq!(inside, expected);
        assert_eq!(child, expected);
        assert_eq!(current_thread_nice().expect("nice"), caller);
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn niced_work_returns_its_result_and_the_caller_keeps_its_priority() {
        let caller = current_thread_nice().expect("nice");
        let mut borrowed = vec![1, 2];
        let inside = run_niced(|| {
            borrowed.push(3);
            current_thread_nice().expect("nice")
        });
        assert_eq!(inside, (caller + BACKGROUND_NICE).min(19));
        assert_eq!(borrowed, [1, 2, 3]);
        assert_eq!(current_thread_nice().expect("nice"), caller);
    }
}
