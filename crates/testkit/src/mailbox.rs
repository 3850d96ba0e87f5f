//! The mail the tests' SMTP server (`crates/digest/tests/smtp_server.py`, aiosmtpd)
//! accepted: it saves each message as `<sequence>-….json` in its directory, parsed by
//! Python's email package, and tests read them back here in arrival order.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// One MIME part of a received message, decoded.
#[derive(Debug, Deserialize)]
pub struct Part {
    pub content_type: String,
    pub body: String,
}

/// A message as Python's email parser read it on the server's side.
#[derive(Debug, Deserialize)]
pub struct Received {
    pub rcpt_tos: Vec<String>,
    /// Decoded header values.
    pub headers: Vec<(String, String)>,
    /// Header values as sent (folded, encoded words left as they are).
    pub raw_headers: Vec<(String, String)>,
    pub content_type: String,
    pub parts: Vec<Part>,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The body of the part of `content_type`; panics, naming the message's type, when
    /// there is none.
    pub fn part(&self, content_type: &str) -> &str {
        self.parts
            .iter()
            .find(|part| part.content_type == content_type)
            .map(|part| part.body.as_str())
            .unwrap_or_else(|| panic!("no {content_type} part in {:?}", self.content_type))
    }

    pub fn subject(&self) -> &str {
        self.header("Subject").unwrap_or_default()
    }
}

/// Everything the server saved in `dir` so far, in arrival order. Files without the
/// `.json` extension (the server's stats) are not messages.
pub fn received_mail(dir: &Path) -> Vec<Received> {
    let mut files: Vec<(u64, PathBuf)> = std::fs::read_dir(dir)
        .expect("mail dir")
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .filter_map(|path| {
            let name = path.file_name()?.to_str()?.to_owned();
            Some((name.split('-').next()?.parse().ok()?, path))
        })
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|(_, path)| {
            let bytes = std::fs::read(&path).expect("readable message");
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|e| panic!("{}: not a message summary: {e}", path.display()))
        })
        .collect()
}

/// [`received_mail`] addressed to `address`.
pub fn received_mail_to(dir: &Path, address: &str) -> Vec<Received> {
    received_mail(dir)
        .into_iter()
        .filter(|message| message.rcpt_tos.iter().any(|to| to == address))
        .collect()
}
