//! Data on stdout, and what a closed stdout means.
//!
//! `println!` panics when stdout is a pipe whose reader has gone (`papers search x |
//! head -1`). Commands print through `outln!` instead: a closed pipe becomes a
//! [`StdoutClosed`] error that stops the command early, and `main` turns it into a quiet,
//! successful exit, as `cat` or `grep` would. Other write errors stay errors.

use std::fmt;
use std::io::{self, Write};

/// Writes one line of data to stdout; `?` it, so the command stops when nobody reads.
macro_rules! outln {
    () => {
        $crate::output::write_line(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::output::write_line(format_args!($($arg)*))
    };
}
pub(crate) use outln;

/// The reader of stdout went away. Not a failure: the reader has all it wanted.
#[derive(Debug)]
pub struct StdoutClosed;

impl fmt::Display for StdoutClosed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("stdout closed")
    }
}

impl std::error::Error for StdoutClosed {}

/// The body of `outln!`: the line and its newline, then a distinct error for a closed pipe
/// so that `main` cannot mistake a broken network connection for it.
pub fn write_line(line: fmt::Arguments<'_>) -> anyhow::Result<()> {
    let mut stdout = io::stdout().lock();
    writeln_checked(&mut stdout, line)
}

fn writeln_checked(out: &mut impl Write, line: fmt::Arguments<'_>) -> anyhow::Result<()> {
    match writeln!(out, "{line}") {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => Err(StdoutClosed.into()),
        Err(error) => Err(anyhow::Error::new(error).context("writing to stdout")),
    }
}

/// Whether `error` (or anything in its chain) is a closed stdout.
pub fn is_stdout_closed(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| cause.is::<StdoutClosed>())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer whose reader has gone.
    struct ClosedPipe;

    impl Write for ClosedPipe {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// A writer that fails for another reason.
    struct FullDisk;

    impl Write for FullDisk {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::ErrorKind::StorageFull.into())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_closed_pipe_is_recognised_through_context() {
        let error =
            writeln_checked(&mut ClosedPipe, format_args!("x")).expect_err("the write fails");
        assert!(is_stdout_closed(&error.context("printing hits")));
    }

    #[test]
    fn other_write_errors_stay_errors() {
        let error = writeln_checked(&mut FullDisk, format_args!("x")).expect_err("the write fails");
        assert!(!is_stdout_closed(&error));
    }

    #[test]
    fn a_broken_pipe_elsewhere_is_not_a_closed_stdout() {
        let error = anyhow::Error::new(io::Error::from(io::ErrorKind::BrokenPipe));
        assert!(!is_stdout_closed(&error));
    }

    #[test]
    fn lines_end_in_a_newline() {
        let mut buffer = Vec::new();
        writeln_checked(&mut buffer, format_args!("{} {}", 1, "a")).expect("written");
        assert_eq!(buffer, b"1 a\n");
    }
}
