//! Test helpers shared by the crates' integration tests (a dev-dependency only, and
//! the store's `testing` feature): one way to find the inputs tests need from outside
//! the repository ([`shared_dir`], [`model`], [`python_has`], [`smtp_available`]), one
//! way to skip a test that cannot run here ([`skip`], [`missing`]: said out loud,
//! counted by `scripts/test.sh`, a failure under `CI` for inputs CI must have), helper
//! server processes ([`ServerProcess`]), the mail the tests' SMTP server received
//! ([`received_mail`]) and waiting with a deadline ([`wait_for`]).
//!
//! The pattern every test that needs an input follows:
//!
//! ```no_run
//! # fn test() {
//! let Some(shared) = papers_testkit::shared_dir("data/beir-scifact") else { return };
//! # }
//! ```

mod inputs;
mod mailbox;
mod process;
mod skip;
mod wait;

pub use inputs::{installed_model, model, python_has, shared_dir, shared_root, smtp_available};
pub use mailbox::{Part, Received, received_mail, received_mail_to};
pub use process::{ServerProcess, process_memory_kib};
pub use skip::{SKIPS_FILE_VAR, in_ci, missing, skip};
pub use wait::{poll_until, wait_for};
