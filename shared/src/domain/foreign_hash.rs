//! Password hashes an import brings from another system (SPEC §12): parsed
//! and bounded when imported, verified at sign-in by a well-kept crate for
//! each algorithm, and replaced by argon2id on the first success (the
//! rehash of `domain::password::needs_rehash`).
//!
//! | format | example | verified by |
//! |---|---|---|
//! | argon2id/i/d PHC | `$argon2id$v=19$m=65536,t=3,p=4$salt$hash` | `argon2` (in `password.rs`) |
//! | bcrypt | `$2b$12$…` (also `$2a$`, `$2y$`) | `bcrypt` |
//! | scrypt PHC | `$scrypt$ln=16,r=8,p=1$salt$hash` | `scrypt` |
//! | Django | `pbkdf2_sha256$1000000$salt$hash` | `pbkdf2` |
//! | passlib | `$pbkdf2-sha256$29000$salt$hash` (adapted base64) | `pbkdf2` |
//! | Firebase scrypt | the user's hash and salt, the project's parameters | `scrypt`, `aes`, `ctr` |
//!
//! A Firebase hash is stored self-contained, with what verification needs:
//! `$firebase-scrypt$r=8,m=14$<signer key>$<salt separator>$<salt>$<hash>`
//! (standard base64).
//!
//! Cost bounds (anything beyond is refused at import as `hash_too_costly`,
//! and fails verification if stored anyway): one verification must stay
//! within about a second and 256 MiB on a function.

use aes::cipher::{KeyIvInit, StreamCipher};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use subtle::ConstantTimeEq;

/// bcrypt's highest cost accepted (2^14 rounds, about a second).
pub const MAX_BCRYPT_COST: u32 = 14;
/// PBKDF2-SHA256's most iterations accepted (Django 5.2 uses 1,000,000).
pub const MAX_PBKDF2_ITERATIONS: u32 = 2_000_000;
/// scrypt's largest memory (128·r·2^ln bytes) accepted: 256 MiB.
pub const MAX_SCRYPT_MEMORY: u64 = 256 << 20;
/// scrypt's largest work (2^ln·r·p) accepted.
pub const MAX_SCRYPT_WORK: u64 = 1 << 24;
/// argon2's largest memory accepted, in KiB (256 MiB).
pub const MAX_ARGON2_MEMORY_KIB: u32 = 256 * 1024;
/// argon2's largest memory × passes accepted, in KiB.
pub const MAX_ARGON2_WORK: u64 = 1 << 20;
/// argon2's most passes accepted.
pub const MAX_ARGON2_PASSES: u32 = 10;

/// Why an imported hash is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// No format this module knows (or a malformed one): `unsupported_hash`.
    Unsupported,
    /// A known format whose cost parameters exceed the bounds: `hash_too_costly`.
    TooCostly,
}

impl Refusal {
    /// The stable code of the refusal.
    pub fn code(self) -> &'static str {
        match self {
            Refusal::Unsupported => "unsupported_hash",
            Refusal::TooCostly => "hash_too_costly",
        }
    }
}

/// A Firebase project's password-hash parameters (the console's "Password
/// hash parameters"), given once per import.
#[derive(Clone, PartialEq, Eq)]
pub struct FirebaseProject {
    pub signer_key: Vec<u8>,
    pub salt_separator: Vec<u8>,
    pub rounds: u32,
    pub mem_cost: u32,
}

impl std::fmt::Debug for FirebaseProject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FirebaseProject {{ rounds: {}, mem_cost: {}, .. }}", self.rounds, self.mem_cost)
    }
}

impl FirebaseProject {
    /// The project from its base64 signer key and salt separator.
    pub fn parse(signer_key: &str, salt_separator: &str, rounds: u32, mem_cost: u32) -> Result<Self, &'static str> {
        let signer_key = STANDARD.decode(signer_key.trim()).map_err(|_| "signer_key")?;
        let salt_separator = STANDARD.decode(salt_separator.trim()).map_err(|_| "salt_separator")?;
        if signer_key.is_empty() || signer_key.len() > 1024 {
            return Err("signer_key");
        }
        if !(1..=32).contains(&rounds) {
            return Err("rounds");
        }
        if !(1..=20).contains(&mem_cost) {
            return Err("mem_cost");
        }
        Ok(Self { signer_key, salt_separator, rounds, mem_cost })
    }
}

/// A parsed hash of a known foreign format.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Foreign {
    Bcrypt { cost: u32 },
    Scrypt { log_n: u8, r: u32, p: u32, salt: Vec<u8>, hash: Vec<u8> },
    Pbkdf2Sha256 { iterations: u32, salt: Vec<u8>, hash: Vec<u8> },
    Firebase { project: FirebaseProject, salt: Vec<u8>, hash: Vec<u8> },
    Argon2,
}

/// Base64 as these formats write it: padded or not, and passlib's adapted
/// alphabet (`.` for `+`).
fn decode_b64(text: &str) -> Option<Vec<u8>> {
    let text = text.replace('.', "+");
    let text = text.trim_end_matches('=');
    STANDARD_NO_PAD.decode(text).ok()
}

fn number<T: std::str::FromStr>(text: &str) -> Option<T> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) || text.len() > 10 {
        return None;
    }
    text.parse().ok()
}

/// `key=value,…` as a PHC string's parameters.
fn params<'a>(text: &'a str, names: &[&str]) -> Option<Vec<&'a str>> {
    let pairs: Vec<(&str, &str)> = text.split(',').map(|pair| pair.split_once('=')).collect::<Option<_>>()?;
    if pairs.len() != names.len() {
        return None;
    }
    names.iter().map(|name| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| *v)).collect()
}

fn scrypt_bounded(log_n: u8, r: u32, p: u32) -> bool {
    let n = 1u64.checked_shl(u32::from(log_n)).unwrap_or(u64::MAX);
    let memory = 128u64.saturating_mul(u64::from(r)).saturating_mul(n);
    let work = n.saturating_mul(u64::from(r)).saturating_mul(u64::from(p));
    log_n < 32 && memory <= MAX_SCRYPT_MEMORY && work <= MAX_SCRYPT_WORK
}

fn parse(hash: &str) -> Result<Foreign, Refusal> {
    use Refusal::{TooCostly, Unsupported};
    let parts: Vec<&str> = hash.split('$').collect();
    match parts.as_slice() {
        ["", "2a" | "2b" | "2y", cost, rest] if rest.len() == 53 => {
            let cost: u32 = number(cost).ok_or(Unsupported)?;
            if !(4..=31).contains(&cost) {
                return Err(Unsupported);
            }
            if cost > MAX_BCRYPT_COST {
                return Err(TooCostly);
            }
            Ok(Foreign::Bcrypt { cost })
        }
        ["", "scrypt", settings, salt, digest] => {
            let values = params(settings, &["ln", "r", "p"]).ok_or(Unsupported)?;
            let log_n: u8 = number(values[0]).ok_or(Unsupported)?;
            let r: u32 = number(values[1]).ok_or(Unsupported)?;
            let p: u32 = number(values[2]).ok_or(Unsupported)?;
            let (salt, hash) = (decode_b64(salt).ok_or(Unsupported)?, decode_b64(digest).ok_or(Unsupported)?);
            if log_n == 0 || r == 0 || p == 0 || hash.len() < 16 || hash.len() > 128 || salt.is_empty() {
                return Err(Unsupported);
            }
            if !scrypt_bounded(log_n, r, p) {
                return Err(TooCostly);
            }
            Ok(Foreign::Scrypt { log_n, r, p, salt, hash })
        }
        // Django: the salt is used as its text; the hash is padded base64.
        ["pbkdf2_sha256", iterations, salt, digest] => {
            let hash = STANDARD.decode(digest).map_err(|_| Unsupported)?;
            pbkdf2_of(iterations, salt.as_bytes().to_vec(), hash)
        }
        // passlib: salt and hash in its adapted base64.
        ["", "pbkdf2-sha256", iterations, salt, digest] => {
            pbkdf2_of(iterations, decode_b64(salt).ok_or(Unsupported)?, decode_b64(digest).ok_or(Unsupported)?)
        }
        ["", "firebase-scrypt", settings, signer_key, separator, salt, digest] => {
            let values = params(settings, &["r", "m"]).ok_or(Unsupported)?;
            let (rounds, mem_cost) = (number(values[0]).ok_or(Unsupported)?, number(values[1]).ok_or(Unsupported)?);
            let project = FirebaseProject::parse(signer_key, separator, rounds, mem_cost).map_err(|_| Unsupported)?;
            firebase_of(project, salt, digest)
        }
        ["", "argon2id" | "argon2i" | "argon2d", ..] => argon2_of(hash),
        _ => Err(Unsupported),
    }
}

fn pbkdf2_of(iterations: &str, salt: Vec<u8>, hash: Vec<u8>) -> Result<Foreign, Refusal> {
    let iterations: u32 = number(iterations).ok_or(Refusal::Unsupported)?;
    if iterations == 0 || hash.len() < 16 || hash.len() > 64 {
        return Err(Refusal::Unsupported);
    }
    if iterations > MAX_PBKDF2_ITERATIONS {
        return Err(Refusal::TooCostly);
    }
    Ok(Foreign::Pbkdf2Sha256 { iterations, salt, hash })
}

fn firebase_of(project: FirebaseProject, salt: &str, hash: &str) -> Result<Foreign, Refusal> {
    let salt = STANDARD.decode(salt.trim()).map_err(|_| Refusal::Unsupported)?;
    let hash = STANDARD.decode(hash.trim()).map_err(|_| Refusal::Unsupported)?;
    if hash.len() != project.signer_key.len() || salt.is_empty() {
        return Err(Refusal::Unsupported);
    }
    let log_n = u8::try_from(project.mem_cost).map_err(|_| Refusal::TooCostly)?;
    if !scrypt_bounded(log_n, project.rounds, 1) {
        return Err(Refusal::TooCostly);
    }
    Ok(Foreign::Firebase { project, salt, hash })
}

fn argon2_of(hash: &str) -> Result<Foreign, Refusal> {
    use argon2::password_hash::PasswordHash;
    let parsed = PasswordHash::new(hash).map_err(|_| Refusal::Unsupported)?;
    let params = argon2::Params::try_from(&parsed).map_err(|_| Refusal::Unsupported)?;
    if parsed.hash.is_none() || parsed.salt.is_none() {
        return Err(Refusal::Unsupported);
    }
    let work = u64::from(params.m_cost()) * u64::from(params.t_cost());
    if params.m_cost() > MAX_ARGON2_MEMORY_KIB || params.t_cost() > MAX_ARGON2_PASSES || work > MAX_ARGON2_WORK {
        return Err(Refusal::TooCostly);
    }
    Ok(Foreign::Argon2)
}

/// The form to store of an imported `hash`: the hash itself when it is
/// self-contained, or, with the import's Firebase project and the user's
/// `salt`, the self-contained Firebase form. Refused when unknown,
/// malformed or beyond the cost bounds.
pub fn import(hash: &str, salt: Option<&str>, firebase: Option<&FirebaseProject>) -> Result<String, Refusal> {
    let hash = hash.trim();
    if let (Some(project), Some(salt)) = (firebase, salt) {
        firebase_of(project.clone(), salt, hash)?;
        return Ok(format!(
            "$firebase-scrypt$r={},m={}${}${}${}${}",
            project.rounds,
            project.mem_cost,
            STANDARD.encode(&project.signer_key),
            STANDARD.encode(&project.salt_separator),
            salt.trim(),
            hash
        ));
    }
    parse(hash)?;
    Ok(hash.to_owned())
}

/// Whether `hash` is a stored foreign (not argon2) hash.
pub fn is_foreign(hash: &str) -> bool {
    matches!(parse(hash), Ok(foreign) if foreign != Foreign::Argon2)
}

/// Whether `password` matches the stored foreign `hash` (blocking: call it
/// on a blocking thread). Comparisons are constant-time; an unknown or
/// unbounded hash fails.
pub fn verify(password: &[u8], hash: &str) -> bool {
    match parse(hash) {
        Ok(Foreign::Bcrypt { .. }) => bcrypt::verify(password, hash).unwrap_or(false),
        Ok(Foreign::Scrypt { log_n, r, p, salt, hash }) => {
            let Ok(params) = scrypt::Params::new(log_n, r, p) else { return false };
            let mut out = vec![0u8; hash.len()];
            scrypt::scrypt(password, &salt, &params, &mut out).is_ok() && bool::from(out.ct_eq(&hash))
        }
        Ok(Foreign::Pbkdf2Sha256 { iterations, salt, hash }) => {
            let mut out = vec![0u8; hash.len()];
            pbkdf2::pbkdf2_hmac::<sha2_next::Sha256>(password, &salt, iterations, &mut out);
            bool::from(out.ct_eq(&hash))
        }
        Ok(Foreign::Firebase { project, salt, hash }) => firebase_matches(password, &project, &salt, &hash),
        Ok(Foreign::Argon2) | Err(_) => false,
    }
}

/// Firebase's scrypt variant: scrypt(password, salt ‖ separator, N =
/// 2^mem_cost, r = rounds, p = 1, 64 bytes); its first 32 bytes are the
/// AES-256-CTR key (IV zero) that encrypts the signer key into the hash.
fn firebase_matches(password: &[u8], project: &FirebaseProject, salt: &[u8], expected: &[u8]) -> bool {
    let Ok(log_n) = u8::try_from(project.mem_cost) else { return false };
    let Ok(params) = scrypt::Params::new(log_n, project.rounds, 1) else { return false };
    let salted = [salt, project.salt_separator.as_slice()].concat();
    let mut derived = [0u8; 64];
    if scrypt::scrypt(password, &salted, &params, &mut derived).is_err() {
        return false;
    }
    let Ok(mut cipher) = ctr::Ctr128BE::<aes::Aes256>::new_from_slices(&derived[..32], &[0u8; 16]) else {
        return false;
    };
    let mut out = project.signer_key.clone();
    cipher.apply_keystream(&mut out);
    bool::from(out.ct_eq(expected))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bcrypt_of_the_crate_verifies_in_every_prefix() {
        let hash = bcrypt::hash("Str0ng!Pass", 4).unwrap();
        for prefix in ["$2a$", "$2b$", "$2y$"] {
            let hash = format!("{prefix}{}", &hash[4..]);
            assert_eq!(import(&hash, None, None).unwrap(), hash);
            assert!(is_foreign(&hash));
            assert!(verify(b"Str0ng!Pass", &hash));
            assert!(!verify(b"Str0ng!Pas", &hash));
        }
        let costly = format!("$2b$15${}", &hash[7..]);
        assert_eq!(import(&costly, None, None), Err(Refusal::TooCostly));
    }

    #[test]
    fn pbkdf2_of_django_and_passlib() {
        // Django 5.2's PBKDF2PasswordHasher: "lètmein", salt "seasalt", 30000.
        let django = "pbkdf2_sha256$30000$seasalt$VrX+V8drCGo68wlvy6rfu8i1d1pfkdeXA4LJkRGJodY=";
        assert!(verify("lètmein".as_bytes(), django));
        assert!(!verify(b"letmein", django));
        // passlib 1.7.4, a salt whose adapted base64 has `.` for `+`.
        let passlib = "$pbkdf2-sha256$29000$....AQIDBAUGBwgJCgsMDQ$eN2XI4b5KFV3QChofVdM2ZWib6HWcHxdBFT8aiTwl3Q";
        assert!(verify(b"password", passlib));
        assert!(!verify(b"passwork", passlib));
        assert_eq!(
            import("pbkdf2_sha256$9000000$salt$VrX+V8drCGo68wlvy6rfu8i1d1pfkdeXA4LJkRGJodY=", None, None),
            Err(Refusal::TooCostly)
        );
    }

    #[test]
    fn scrypt_phc_verifies_and_is_bounded() {
        let params = scrypt::Params::new(10, 8, 1).unwrap();
        let mut out = [0u8; 32];
        scrypt::scrypt(b"Str0ng!Pass", b"0123456789abcdef", &params, &mut out).unwrap();
        let hash = format!(
            "$scrypt$ln=10,r=8,p=1${}${}",
            STANDARD_NO_PAD.encode(b"0123456789abcdef"),
            STANDARD_NO_PAD.encode(out)
        );
        assert_eq!(import(&hash, None, None).unwrap(), hash);
        assert!(verify(b"Str0ng!Pass", &hash));
        assert!(!verify(b"Str0ng!Pas", &hash));
        let huge = hash.replace("ln=10", "ln=22");
        assert_eq!(import(&huge, None, None), Err(Refusal::TooCostly));
    }

    #[test]
    fn firebase_scrypt_matches_the_published_example() {
        // The example of firebase/scrypt's README (password "user1password").
        let project = FirebaseProject::parse(
            "jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==",
            "Bw==",
            8,
            14,
        )
        .unwrap();
        let stored = import(
            "lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==",
            Some("42xEC+ixf3L2lw=="),
            Some(&project),
        )
        .unwrap();
        assert!(stored.starts_with("$firebase-scrypt$r=8,m=14$"), "{stored}");
        assert!(is_foreign(&stored));
        assert!(verify(b"user1password", &stored));
        assert!(!verify(b"user2password", &stored));
    }

    #[test]
    fn argon2_is_bounded_and_unknown_formats_refused() {
        let ok = "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG";
        assert!(import(ok, None, None).is_ok());
        assert!(!is_foreign(ok));
        let big = "$argon2id$v=19$m=1048576,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG";
        assert_eq!(import(big, None, None), Err(Refusal::TooCostly));
        for unknown in ["", "plain", "md5$abc$def", "$1$abc$def", "sha1$salt$abcdef", "$2b$12$short"] {
            assert_eq!(import(unknown, None, None), Err(Refusal::Unsupported), "{unknown}");
            assert!(!verify(b"x", unknown));
        }
    }
}
