//! The SMTP settings as an operator writes them: `PAPERS_SMTP_URL`, `PAPERS_MAIL_FROM`
//! and `PAPERS_PUBLIC_URL` (input: the three, one per line).

#![no_main]

use std::sync::Once;

use libfuzzer_sys::fuzz_target;
use papers_digest::{Mailer, PublicUrl, SmtpConfig};
use papers_fuzz::text;

/// `Mailer::new` loads the system's TLS roots; parsing a few hundred PEM certificates
/// per input leaves under 200 inputs a second. Empty root locations (rustls-native-certs
/// reads `SSL_CERT_FILE` and `SSL_CERT_DIR` instead of the system store when they are
/// set) keep the code path and drop the cost.
fn no_tls_roots() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let dir = tempfile::tempdir().expect("a temporary directory").keep();
        let file = dir.join("roots.pem");
        std::fs::write(&file, "").expect("an empty certificate file");
        let empty = dir.join("roots");
        std::fs::create_dir(&empty).expect("an empty certificate directory");
        // SAFETY: set once, before any thread that reads the environment is started.
        unsafe {
            std::env::set_var("SSL_CERT_FILE", file);
            std::env::set_var("SSL_CERT_DIR", empty);
        }
    });
}

fuzz_target!(|data: &[u8]| {
    no_tls_roots();
    let Some(input) = text(data) else { return };
    let mut lines = input.splitn(3, '\n');
    let url = lines.next().unwrap_or_default();
    let from = lines.next().unwrap_or("Daily Papers <papers@example.org>");
    let public_url = lines.next().unwrap_or("https://papers.example");
    if let Ok(base) = PublicUrl::parse(public_url) {
        assert!(!base.as_str().ends_with('/'), "{base:?}");
        let _ = base.host();
    }
    let Ok(config) = SmtpConfig::new(url, None, from, public_url) else {
        return;
    };
    // The password never shows, whatever the URL looked like: the URL in `Debug` is
    // the parsed one with its password replaced.
    let shown = format!("{config:?}");
    if let Ok(mut parsed) = url::Url::parse(url)
        && parsed.password().is_some()
        && parsed.set_password(Some("redacted")).is_ok()
    {
        let expected = format!("url: {:?}", parsed.as_str());
        assert!(shown.contains(&expected), "{shown} lacks {expected}");
    }
    if let Ok(mailer) = Mailer::new(&config) {
        let _ = format!("{mailer:?}");
    }
});
