//! One-time codes: drawn from the CSPRNG, stored only as a keyed hash,
//! compared in constant time, limited in tries and lifetime.

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::error::Error;
use crate::app::App;
use crate::ports::{Random, StoreError, Write};
use crate::table;
pub use crate::table::PendingCode;

/// How much longer a code's counter of tries lives than the code.
const COUNTER_MARGIN_SECS: i64 = 60;

/// A fresh code of `length` digits (the sandbox's fixed code when given).
pub fn draw_code(random: &dyn Random, length: usize, sandbox: Option<&str>) -> String {
    if let Some(fixed) = sandbox {
        return fixed.to_owned();
    }
    (0..length).map(|_| char::from(b'0' + random.below(10) as u8)).collect()
}

/// The keyed hash of a code. `purpose` and `owner` bind it to one use, so a
/// code for one registration or channel never matches another.
pub fn hash_code(pepper: &[u8], purpose: &str, owner: &str, code: &str) -> String {
    // HMAC accepts keys of any length; new_from_slice cannot fail for it.
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(pepper).unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    for part in [purpose, owner, code] {
        mac.update(&(part.len() as u64).to_be_bytes());
        mac.update(part.as_bytes());
    }
    hex::encode(mac.finalize().into_bytes())
}

impl PendingCode {
    /// A code just sent, with a fresh counter of tries.
    pub fn issue(app: &App, hash: String, expires_at: DateTime<Utc>) -> Self {
        Self { hash, expires_at, nonce: app.random_token(16) }
    }
}

/// Spends one try of `code`, then compares: `true` only for the right code,
/// unexpired, within its first `max_tries` tries. The try is spent with one
/// atomic conditional update before the comparison (the counter lives as long
/// as the code), so parallel guesses are counted one by one and at most
/// `max_tries` of them are ever compared. Wrong, expired and used-up codes
/// all answer `false`: the caller gives them one answer.
pub async fn spend_try(app: &App, code: &PendingCode, candidate_hash: &str, max_tries: u32) -> Result<bool, Error> {
    if app.clock.now() >= code.expires_at {
        return Ok(false);
    }
    match app.store.transact(vec![try_write(code, max_tries)]).await {
        Ok(()) => Ok(is_right(code, candidate_hash)),
        Err(StoreError::ConditionFailed { .. }) => Ok(false),
        Err(err) => Err(err.into()),
    }
}

/// Whether `candidate_hash` is `code`'s (constant time). Spends nothing:
/// a caller that acts on a right code folds [`try_write`] into the
/// transaction that acts on it, so the code counts only within its tries,
/// and spends a wrong one with [`spend_try`].
pub fn is_right(code: &PendingCode, candidate_hash: &str) -> bool {
    code.hash.as_bytes().ct_eq(candidate_hash.as_bytes()).into()
}

/// One try of `code`, as a write whose condition fails once `max_tries`
/// were spent. The counter outlives the code (whole seconds, plus a
/// margin), so it never vanishes while the code can still be tried, and its
/// key (the code's nonce) is never counted again after it expires.
pub fn try_write(code: &PendingCode, max_tries: u32) -> Write {
    let expires_at = code.expires_at.timestamp() + COUNTER_MARGIN_SECS;
    Write::Count { key: table::tries_key(code), below: u64::from(max_tries), expires_at }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::system::SeededRandom;

    #[test]
    fn codes_are_digits_of_the_asked_length() {
        let random = SeededRandom::new(7);
        let codes: Vec<String> = (0..200).map(|_| draw_code(&random, 6, None)).collect();
        assert!(codes.iter().all(|c| c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit())));
        let distinct: std::collections::HashSet<_> = codes.iter().collect();
        assert!(distinct.len() > 190, "codes repeat too often");
        assert_eq!(draw_code(&random, 6, Some("123456")), "123456");
    }

    #[test]
    fn hash_binds_purpose_and_owner() {
        let a = hash_code(b"k", "email", "reg_1", "123456");
        assert_eq!(a, hash_code(b"k", "email", "reg_1", "123456"));
        assert_ne!(a, hash_code(b"k", "sms", "reg_1", "123456"));
        assert_ne!(a, hash_code(b"k", "email", "reg_2", "123456"));
        assert_ne!(a, hash_code(b"other", "email", "reg_1", "123456"));
        assert!(!a.contains("123456"));
    }
}
