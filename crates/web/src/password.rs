//! Passwords: Argon2id hashes (on a blocking thread, by the callers) and the strength
//! rule every new password meets, whichever form sets it (sign-up, reset, change).
//!
//! Strength is judged by zxcvbn, which estimates how many guesses an attacker with
//! common-password lists, dictionaries and keyboard patterns needs; the member's
//! username and address count as known words, so `alice-alice-2024` is weak for alice.
//! Lengths follow OWASP ASVS 2.1: at least 12 characters, at most 128.

use std::sync::LazyLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use tokio::sync::Semaphore;
use zxcvbn::Score;

pub(crate) const MIN_CHARS: usize = 12;
pub(crate) const MAX_CHARS: usize = 128;

/// Why a new password is refused, as the form shows it.
pub(crate) fn weakness(password: &str, known: &[&str]) -> Option<String> {
    let length = password.chars().count();
    if length < MIN_CHARS {
        return Some(format!("Passwords are at least {MIN_CHARS} characters."));
    }
    if length > MAX_CHARS {
        return Some(format!("Passwords are at most {MAX_CHARS} characters."));
    }
    // The address's local part is a word the member is likely to reuse.
    let mut inputs: Vec<&str> = known.to_vec();
    inputs.extend(
        known
            .iter()
            .filter_map(|k| k.split_once('@').map(|(local, _)| local)),
    );
    let estimate = zxcvbn::zxcvbn(password, &inputs);
    if estimate.score() >= Score::Three {
        return None;
    }
    let mut message = "This password is too easy to guess.".to_owned();
    if let Some(feedback) = estimate.feedback() {
        if let Some(warning) = feedback.warning() {
            message.push(' ');
            message.push_str(&sentence(&warning.to_string()));
        }
        for suggestion in feedback.suggestions() {
            message.push(' ');
            message.push_str(&sentence(&suggestion.to_string()));
        }
    }
    if !message.contains("Add") && !message.contains("add") {
        message.push_str(" Use a longer phrase of unrelated words.");
    }
    Some(message)
}

fn sentence(text: &str) -> String {
    let text = text.trim();
    if text.ends_with(['.', '!', '?']) {
        text.to_owned()
    } else {
        format!("{text}.")
    }
}

/// Hashing failed: no randomness, or the hasher itself. The edge maps it to a 500.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PasswordError {
    #[error("no random salt: {0}")]
    Random(getrandom::Error),
    #[error("cannot hash a password: {0}")]
    Hash(argon2::password_hash::Error),
    #[error("the hashing queue was closed: {0}")]
    Closed(tokio::sync::AcquireError),
    #[error("the hashing thread failed: {0}")]
    Thread(tokio::task::JoinError),
}

pub(crate) fn hash_password(password: &str) -> Result<String, PasswordError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(PasswordError::Random)?;
    let salt = SaltString::encode_b64(&salt).map_err(PasswordError::Hash)?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(PasswordError::Hash)
}

/// A hash of a random password with the same parameters as real ones, made once: an
/// unknown account costs the same verification as a known one.
pub(crate) fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("not-a-real-password").unwrap_or_default())
}

pub(crate) fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// Hashes computed at once, at most: each holds Argon2's 19 MiB of memory for a
/// second or more, and a blocking thread. Without a bound, logins from many addresses
/// at once (each within its own rate limit) would take a blocking thread and 19 MiB
/// apiece, up to tokio's 512 threads and 10 GB; the fuzzer's sign-ups grew a process
/// by 19 MiB a time. Two per core keep the cores busy; the rest wait their turn,
/// without a thread.
static HASHING: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(hashing_slots()));

fn hashing_slots() -> usize {
    2 * std::thread::available_parallelism().map_or(1, usize::from)
}

/// Checks `password` against `hash` (or the dummy hash when there is no account) on a
/// blocking thread; the work is the same either way.
pub(crate) async fn verify_blocking(
    password: String,
    hash: Option<String>,
) -> Result<bool, PasswordError> {
    let _permit = HASHING.acquire().await.map_err(PasswordError::Closed)?;
    tokio::task::spawn_blocking(move || match hash {
        Some(hash) => verify_password(&password, &hash),
        None => {
            let _ = verify_password(&password, dummy_hash());
            false
        }
    })
    .await
    .map_err(PasswordError::Thread)
}

/// Hashes on a blocking thread.
pub(crate) async fn hash_blocking(password: String) -> Result<String, PasswordError> {
    let _permit = HASHING.acquire().await.map_err(PasswordError::Closed)?;
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(PasswordError::Thread)?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_wait_for_a_free_hashing_slot() {
        // Every slot, including any another test holds now (acquired as it frees it).
        let all = u32::try_from(hashing_slots()).expect("a few slots");
        let held = HASHING.acquire_many(all).await.expect("open");
        let hashing = tokio::spawn(hash_blocking("correct-horse-battery".into()));
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert!(!hashing.is_finished(), "hashed with every slot taken");
        drop(held);
        let hash = hashing.await.expect("joined").expect("hashed");
        assert!(
            verify_blocking("correct-horse-battery".into(), Some(hash))
                .await
                .expect("checked")
        );
    }

    #[test]
    fn weak_passwords_are_refused_with_advice() {
        for weak in [
            "password1234",
            "qwertyuiop123",
            "aaaaaaaaaaaaaaaa",
            "alice-alice-2024",
        ] {
            let message = weakness(weak, &["alice", "alice@example.org"]);
            assert!(message.is_some(), "{weak} passed");
        }
        let short = weakness("Tr0ub4dor&3", &[]).expect("too short");
        assert!(short.contains("12"), "{short}");
        assert!(weakness(&"x".repeat(129), &[]).is_some());
        assert_eq!(weakness("correct-horse-battery-staple", &["bob"]), None);
    }

    #[test]
    fn hashes_verify_only_their_password() {
        let hash = hash_password("correct-horse-battery").expect("hash");
        assert!(verify_password("correct-horse-battery", &hash));
        assert!(!verify_password("correct-horse-battery!", &hash));
        assert!(!verify_password("x", "not a hash"));
    }
}
