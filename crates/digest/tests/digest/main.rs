//! Integration tests of the digest engine: a real store filled with real feed days,
//! and a real SMTP server process for everything that mails.

mod compose;
mod inputs;
mod load;
mod smtp;
mod support;
