//! Signed confirmation and unsubscribe tokens, as they arrive in link paths.

#![no_main]

use chrono::{DateTime, Utc};
use libfuzzer_sys::fuzz_target;
use papers_digest::token::{self, TokenClaims};
use papers_digest::{Purpose, Secret};
use papers_fuzz::text;

fuzz_target!(|data: &[u8]| {
    let Some(input) = text(data) else { return };
    let Ok(secret) = Secret::new(b"the fuzzing secret, 32 bytes long".to_vec()) else {
        return;
    };
    let now = DateTime::<Utc>::from_timestamp(1_700_000_000, 0).unwrap_or_default();
    for purpose in [Purpose::Confirm, Purpose::Unsubscribe] {
        let Ok(claims) = token::claims(input, purpose) else {
            continue;
        };
        assert_eq!(claims.purpose, purpose);
        // A token nobody signed never verifies: the MAC would have to be guessed.
        let forged = token::verify(&secret, input, &claims, "nonce", now);
        let signed = token::sign(&secret, &claims, "nonce");
        if forged.is_ok() {
            assert_eq!(input, signed, "an unsigned token verified");
        }
        // Signing what was read and reading it back gives the same claims, and the
        // signature holds exactly until the expiry.
        let again = token::claims(&signed, purpose);
        assert_eq!(again, Ok(claims));
        let verified = token::verify(&secret, &signed, &claims, "nonce", now);
        assert_eq!(verified.is_ok(), now < claims.expires, "{verified:?}");
        let other = TokenClaims {
            subscription_id: claims.subscription_id.wrapping_add(1),
            ..claims
        };
        assert!(token::verify(&secret, &signed, &other, "nonce", now).is_err());
    }
});
