//! Mail addresses from the subscribe form, the API and sign-up.

#![no_main]

use libfuzzer_sys::fuzz_target;
use papers_digest::Email;
use papers_fuzz::text;

fuzz_target!(|data: &[u8]| {
    let Some(input) = text(data) else { return };
    let Ok(email) = Email::parse(input) else {
        return;
    };
    let address = email.as_str();
    // What goes into a header: no line breaks, no second recipient, no display name.
    assert!(address.is_ascii() && !address.chars().any(|c| c.is_ascii_control()));
    assert!(!address.contains([' ', ',', '<', '>', '"', '\\', '(', ')', ';']));
    assert_eq!(address.matches('@').count(), 1, "{address:?}");
    assert!(address.len() <= 254);
    assert!(!email.domain().is_empty() && email.domain().contains('.'));
    assert_eq!(address, address.to_ascii_lowercase());
    // Normalising is idempotent, so one person has one subscription row.
    assert_eq!(Email::parse(address).as_ref(), Ok(&email));
    // lettre, which builds the envelope, must accept what we accepted.
    assert!(
        address.parse::<lettre::Address>().is_ok(),
        "lettre refuses {address:?}"
    );
});
