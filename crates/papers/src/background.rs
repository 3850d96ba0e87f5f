//! Threads for `papers serve`'s background work (index catch-up and embedding,
//! harvesting, topic map rebuilds, digest sends, memory trims), run at a lower
//! scheduling priority than the threads that answer requests.
//!
//! On a small node the background work is CPU-bound and bursty: a harvested day
//! is embedded (every core, through scoped threads), inserted into the vector
//! graph (every core again), committed and merged; a topic map rebuild clusters
//! every vector. At equal priority these took the node's cores from the request
//! workers for seconds at a time, and the p99 of a soak (`scripts/soak.sh`) went
//! from about 20 ms to several hundred.
//!
//! Two levels, as the work allows:
//!
//! * [`Priority::Idle`], for pure computation (embedding a batch, building the topic
//!   map): Linux's `SCHED_IDLE` policy, which runs a thread only on a core no normal
//!   thread wants, and which a waking request worker always preempts. Nice +10 only
//!   lowers a thread's share: in a soak on 2026-12-06 the embedding and topic map
//!   threads at nice +10 held 30–40 % of the two cores through a five-second stall
//!   of every route (most of that soak's slow windows turned out to be the soak
//!   driver's own garbage collection, since fixed in `scripts/soak.py`).
//! * [`Priority::Lower`] (nice +10), for work that also writes to the store in short
//!   spells (digest sends): an idle-policy thread holding SQLite's write lock on a
//!   busy node could keep the members' writes waiting for as long as no core is free.
//!
//! On Linux both belong to a thread (`setpriority` and `sched_setscheduler` with a
//! thread id), and threads inherit their creator's: the scoped threads that embed
//! or insert into the graph for a background thread run at its priority. Elsewhere
//! this does nothing.

use std::io;
use std::thread::JoinHandle;

/// How much nicer than the request workers [`Priority::Lower`] threads run. At 10 a
/// thread gets about a tenth of the CPU share of a thread at 0 when both want it,
/// yet runs at full speed on an idle node.
pub const BACKGROUND_NICE: i32 = 10;

/// How far below the request workers a background thread runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    /// Nice +10: for work that holds locks requests wait for, in short spells.
    Lower,
    /// Only on an otherwise idle core (`SCHED_IDLE`, or nice +10 where the kernel
    /// refuses it): for computation that holds no lock a request waits for.
    Idle,
}

/// Starts a named thread that lowers its own priority to `priority` before running
/// `work`.
pub fn spawn<F, T>(name: &str, priority: Priority, work: F) -> io::Result<JoinHandle<T>>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let thread_name = name.to_owned();
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            if let Err(error) = lower_current_thread_priority(priority) {
                tracing::warn!(thread = thread_name, %error, "cannot lower the background thread's priority");
            }
            work()
        })
}

/// Runs `work` on a scoped thread of [`Priority::Idle`] and returns its result: for
/// CPU-heavy work done on behalf of a thread that must keep its own priority because
/// it also holds locks that requests wait for (a lowered thread holding one would
/// keep them waiting while it waits for the CPU).
pub fn run_idle<F, T>(work: F) -> T
where
    F: FnOnce() -> T + Send,
    T: Send,
{
    std::thread::scope(|scope| {
        let thread = scope.spawn(|| {
            if let Err(error) = lower_current_thread_priority(Priority::Idle) {
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

/// Lowers the calling thread (only it, and threads it starts later) to `priority`.
/// A thread may always lower its own priority; raising it again takes a privilege,
/// so only threads that keep doing background work call this.
pub fn lower_current_thread_priority(priority: Priority) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        let current = current_thread_nice()?;
        let thread = thread_id();
        // Nice first, for both levels: it is what an idle-policy thread falls back to
        // where the kernel (or a sandbox's filter) refuses `SCHED_IDLE`.
        // SAFETY: `setpriority` reads its arguments only; `thread` is this thread's id.
        let set =
            unsafe { libc::setpriority(libc::PRIO_PROCESS, thread, current + BACKGROUND_NICE) };
        if set != 0 {
            return Err(io::Error::last_os_error());
        }
        if priority == Priority::Idle {
            let param = libc::sched_param { sched_priority: 0 };
            // SAFETY: reads `param` only; `thread` is this thread's id.
            let set = unsafe {
                libc::sched_setscheduler(thread as libc::pid_t, libc::SCHED_IDLE, &param)
            };
            if set != 0 {
                return Err(io::Error::last_os_error());
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = priority;
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

    /// Whether the calling thread runs under `SCHED_IDLE` (false where there is none).
    fn current_thread_is_idle() -> io::Result<bool> {
        #[cfg(target_os = "linux")]
        {
            // SAFETY: no arguments beyond the thread id (0: the calling thread).
            let policy = unsafe { libc::sched_getscheduler(0) };
            if policy == -1 {
                return Err(io::Error::last_os_error());
            }
            Ok(policy == libc::SCHED_IDLE)
        }
        #[cfg(not(target_os = "linux"))]
        {
            Ok(false)
        }
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn lowered_threads_run_nicer_and_leave_the_caller_alone() {
        let caller = current_thread_nice().expect("nice");
        let (inside, child, idle) = spawn("test-background", Priority::Lower, || {
            let inside = current_thread_nice().expect("nice");
            // Threads a background thread starts (embedding, graph inserts) inherit it.
            let child = std::thread::spawn(|| current_thread_nice().expect("nice"))
                .join()
                .expect("child");
            (inside, child, current_thread_is_idle().expect("policy"))
        })
        .expect("spawn")
        .join()
        .expect("join");
        // The kernel caps nice at 19 (a test run under `nice -n 15` gets only 4 more).
        let expected = (caller + BACKGROUND_NICE).min(19);
        assert_eq!(inside, expected);
        assert_eq!(child, expected);
        // A thread that writes to the store is not left to idle cores only.
        assert!(!idle);
        assert_eq!(current_thread_nice().expect("nice"), caller);
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn idle_work_returns_its_result_and_the_caller_keeps_its_priority() {
        let caller = current_thread_nice().expect("nice");
        let mut borrowed = vec![1, 2];
        let (idle, child_idle) = run_idle(|| {
            borrowed.push(3);
            let child = std::thread::spawn(|| current_thread_is_idle().expect("policy"))
                .join()
                .expect("child");
            (current_thread_is_idle().expect("policy"), child)
        });
        assert!(idle, "computation runs under SCHED_IDLE");
        assert!(child_idle, "the threads it starts inherit the policy");
        assert_eq!(borrowed, [1, 2, 3]);
        assert_eq!(current_thread_nice().expect("nice"), caller);
        assert!(!current_thread_is_idle().expect("policy"));
    }
}
