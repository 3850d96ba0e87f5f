//! Signed, expiring tokens for the links a mail carries: one purpose per link.
//!
//! A token is `{subscription id}.{purpose}.{expiry, unix seconds}.{MAC}` where the MAC
//! is HMAC-SHA256 with the server secret over those fields and a nonce the store keeps
//! for the subscription (see `links::nonce_for`: replacing it revokes the links signed
//! with it), truncated to 128 bits and hex encoded. The purpose is inside the MAC, so a
//! link mailed for one purpose (say, unsubscribing) never works for another (say,
//! reading the digest preview). Nothing secret is in the token and nothing needs
//! storing per token; changing the secret invalidates every link ever mailed.

use std::fmt;

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The server's signing key. `Debug` never shows it.
#[derive(Clone)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// Shorter keys than this are too easy to guess offline from one mailed link.
    pub const MIN_LENGTH: usize = 16;

    pub fn new(bytes: impl Into<Vec<u8>>) -> Result<Secret, TokenError> {
        let bytes = bytes.into();
        if bytes.len() < Secret::MIN_LENGTH {
            return Err(TokenError::WeakSecret);
        }
        Ok(Secret(bytes))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// What a token allows; a token for one purpose never works for another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Confirm a pending subscription (the double opt-in link).
    Confirm,
    /// Open the page where the address's owner changes or stops the subscription.
    Manage,
    /// Stop the digests (the one-click link in every digest).
    Unsubscribe,
    /// Read the next digest on the site.
    Preview,
}

impl Purpose {
    /// Every purpose, for tests that check they do not mix.
    pub const ALL: [Purpose; 4] = [
        Purpose::Confirm,
        Purpose::Manage,
        Purpose::Unsubscribe,
        Purpose::Preview,
    ];

    fn code(self) -> &'static str {
        match self {
            Purpose::Confirm => "c",
            Purpose::Manage => "m",
            Purpose::Unsubscribe => "u",
            Purpose::Preview => "p",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the link is malformed")]
    Malformed,
    #[error("the link's signature does not match; it was altered or is no longer valid")]
    BadSignature,
    #[error("the link expired at {0}")]
    Expired(DateTime<Utc>),
    #[error("the server secret must be at least 16 bytes")]
    WeakSecret,
}

/// The fields a token carries, readable before the signature is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenClaims {
    pub subscription_id: i64,
    pub purpose: Purpose,
    pub expires: DateTime<Utc>,
}

const MAC_BYTES: usize = 16;

fn mac(secret: &Secret, claims: &TokenClaims, nonce: &str) -> Hmac<Sha256> {
    // Only the key length can fail, and HMAC accepts any length.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&secret.0)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    // NUL separators keep the fields from running into each other.
    for field in [
        "papers-digest-token",
        &claims.subscription_id.to_string(),
        claims.purpose.code(),
        &claims.expires.timestamp().to_string(),
        nonce,
    ] {
        mac.update(field.as_bytes());
        mac.update(&[0]);
    }
    mac
}

pub fn sign(secret: &Secret, claims: &TokenClaims, nonce: &str) -> String {
    let tag = mac(secret, claims, nonce).finalize().into_bytes();
    let hex: String = tag[..MAC_BYTES]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!(
        "{}.{}.{}.{hex}",
        claims.subscription_id,
        claims.purpose.code(),
        claims.expires.timestamp()
    )
}

/// Reads the claims of a token of `purpose` without trusting them yet.
pub fn claims(token: &str, purpose: Purpose) -> Result<TokenClaims, TokenError> {
    let mut parts = token.split('.');
    let (Some(id), Some(code), Some(expiry), Some(_), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(TokenError::Malformed);
    };
    if code != purpose.code() {
        return Err(TokenError::Malformed);
    }
    let subscription_id = id.parse().map_err(|_| TokenError::Malformed)?;
    let expires = expiry
        .parse()
        .ok()
        .and_then(|seconds| DateTime::from_timestamp(seconds, 0))
        .ok_or(TokenError::Malformed)?;
    Ok(TokenClaims {
        subscription_id,
        purpose,
        expires,
    })
}

/// Checks the signature (in constant time) and then the expiry.
pub fn verify(
    secret: &Secret,
    token: &str,
    claims: &TokenClaims,
    nonce: &str,
    now: DateTime<Utc>,
) -> Result<(), TokenError> {
    let hex = token.rsplit('.').next().ok_or(TokenError::Malformed)?;
    if hex.len() != MAC_BYTES * 2 {
        return Err(TokenError::Malformed);
    }
    let tag: Vec<u8> = (0..MAC_BYTES)
        .map(|i| u8::from_str_radix(hex.get(i * 2..i * 2 + 2).unwrap_or("x"), 16))
        .collect::<Result<_, _>>()
        .map_err(|_| TokenError::Malformed)?;
    mac(secret, claims, nonce)
        .verify_truncated_left(&tag)
        .map_err(|_| TokenError::BadSignature)?;
    if now >= claims.expires {
        return Err(TokenError::Expired(claims.expires));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    fn secret() -> Secret {
        Secret::new(*b"0123456789abcdef0123456789abcdef").expect("long enough")
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_704_153_600, 0).expect("valid")
    }

    fn check(
        token: &str,
        purpose: Purpose,
        nonce: &str,
        at: DateTime<Utc>,
    ) -> Result<i64, TokenError> {
        let claims = claims(token, purpose)?;
        verify(&secret(), token, &claims, nonce, at)?;
        Ok(claims.subscription_id)
    }

    fn token(purpose: Purpose) -> String {
        let claims = TokenClaims {
            subscription_id: 42,
            purpose,
            expires: now() + Duration::hours(48),
        };
        sign(&secret(), &claims, "nonce")
    }

    #[test]
    fn round_trips_until_expiry() {
        let token = token(Purpose::Confirm);
        assert_eq!(check(&token, Purpose::Confirm, "nonce", now()), Ok(42));
        assert!(matches!(
            check(
                &token,
                Purpose::Confirm,
                "nonce",
                now() + Duration::hours(48)
            ),
            Err(TokenError::Expired(_))
        ));
    }

    #[test]
    fn any_altered_field_fails() {
        let token = token(Purpose::Confirm);
        let later = token.replace(
            &(now() + Duration::hours(48)).timestamp().to_string(),
            &(now() + Duration::days(900)).timestamp().to_string(),
        );
        assert_eq!(
            check(&later, Purpose::Confirm, "nonce", now()),
            Err(TokenError::BadSignature)
        );
        let other_id = token.replacen("42.", "43.", 1);
        assert_eq!(
            check(&other_id, Purpose::Confirm, "nonce", now()),
            Err(TokenError::BadSignature)
        );
        assert_eq!(
            check(&token, Purpose::Confirm, "rotated", now()),
            Err(TokenError::BadSignature)
        );
        let mut flipped = token.clone();
        let last = flipped.pop().map(|c| if c == '0' { '1' } else { '0' });
        flipped.extend(last);
        assert_eq!(
            check(&flipped, Purpose::Confirm, "nonce", now()),
            Err(TokenError::BadSignature)
        );
    }

    #[test]
    fn purposes_do_not_mix_and_garbage_is_malformed() {
        for signed in Purpose::ALL {
            let token = token(signed);
            for asked in Purpose::ALL {
                let result = check(&token, asked, "nonce", now());
                if asked == signed {
                    assert_eq!(result, Ok(42));
                } else {
                    assert_eq!(
                        result,
                        Err(TokenError::Malformed),
                        "{signed:?} as {asked:?}"
                    );
                    // Relabelling the purpose breaks the signature.
                    let relabelled = token.replacen(
                        &format!(".{}.", signed.code()),
                        &format!(".{}.", asked.code()),
                        1,
                    );
                    assert_eq!(
                        check(&relabelled, asked, "nonce", now()),
                        Err(TokenError::BadSignature),
                        "{signed:?} relabelled {asked:?}"
                    );
                }
            }
        }
        for garbage in ["", "1.u.2", "x.u.1.00", "1.u.1.zz", "1.u.1.00.extra"] {
            assert_eq!(
                check(garbage, Purpose::Unsubscribe, "nonce", now()),
                Err(TokenError::Malformed)
            );
        }
    }

    #[test]
    fn short_secrets_are_refused_and_never_printed() {
        assert_eq!(Secret::new(*b"short").err(), Some(TokenError::WeakSecret));
        assert_eq!(format!("{:?}", secret()), "Secret(<redacted>)");
    }
}
