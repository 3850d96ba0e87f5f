//! Integration tests of the digest engine: a real store filled with real feed days,
//! and a real SMTP server process for everything that mails.

mod compose;
mod inputs;
#[expect(
    dead_code,
    reason = "the bench reads the Kaggle archive too; the tests only the feed days"
)]
mod load;
mod mails;
mod manage;
mod personal;
mod smtp;
mod support;
