//! One-time codes: drawn from the CSPRNG, stored only as a keyed hash,
//! compared in constant time, limited in tries and lifetime.

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::ports::Random;

/// A code that was sent and may still be used.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingCode {
    /// HMAC-SHA256 over purpose, owner and code, hex.
    pub hash: String,
    pub expires_at: DateTime<Utc>,
    pub attempts: u32,
}

/// What checking a code against a [`PendingCode`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum CodeCheck {
    Valid,
    Wrong { attempts_left: u32 },
    Expired,
    Exhausted,
}

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
    pub fn new(hash: String, expires_at: DateTime<Utc>) -> Self {
        Self { hash, expires_at, attempts: 0 }
    }

    /// Checks `candidate_hash` and counts the try. The caller stores `self`
    /// afterwards (and drops the code when it is valid: a code is spent on use).
    pub fn check(&mut self, candidate_hash: &str, now: DateTime<Utc>, max_attempts: u32) -> CodeCheck {
        if self.attempts >= max_attempts {
            return CodeCheck::Exhausted;
        }
        if now >= self.expires_at {
            return CodeCheck::Expired;
        }
        let matches: bool = self.hash.as_bytes().ct_eq(candidate_hash.as_bytes()).into();
        if matches {
            return CodeCheck::Valid;
        }
        self.attempts += 1;
        CodeCheck::Wrong { attempts_left: max_attempts.saturating_sub(self.attempts) }
    }
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

    #[test]
    fn five_wrong_tries_kill_the_code() {
        let now = Utc::now();
        let mut code = PendingCode::new("right".into(), now + chrono::Duration::minutes(10));
        for left in (0..5).rev() {
            assert_eq!(code.check("wrong", now, 5), CodeCheck::Wrong { attempts_left: left });
        }
        assert_eq!(code.check("right", now, 5), CodeCheck::Exhausted);
    }

    #[test]
    fn expired_code_is_refused_even_when_right() {
        let now = Utc::now();
        let mut code = PendingCode::new("right".into(), now);
        assert_eq!(code.check("right", now, 5), CodeCheck::Expired);
    }
}
