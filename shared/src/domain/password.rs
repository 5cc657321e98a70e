//! Password hashing with argon2id at OWASP's parameters, off the async
//! threads.

use std::sync::{Mutex, PoisonError};

use argon2::password_hash::{Output, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use subtle::ConstantTimeEq;

use super::error::Error;
use crate::ports::Random;

/// A password as the client sent it; never printed.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub fn new(raw: impl Into<String>) -> Self {
        Self(raw.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(..)")
    }
}

/// The current password a signed-in user sends for a step-up, and the
/// session it is sent from: wrong ones are counted per session (docs/security.md),
/// never against the account's login lockout.
#[derive(Clone, Debug)]
pub struct CurrentPassword {
    pub password: Password,
    pub session_id: crate::domain::ids::SessionId,
}

/// argon2id, m = 19 MiB, t = 2, p = 1 (OWASP's first recommendation).
pub fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// argon2's working memory (19 MiB at today's parameters), kept for the
/// next hash: without it, every hash on a new blocking thread left 19 MiB in
/// that thread's allocator arena (a warm function grew past 200 MiB), and a
/// fresh buffer costs page faults. One buffer per hash running at once.
static MEMORY: Mutex<Vec<Vec<Block>>> = Mutex::new(Vec::new());
/// Buffers kept at most (the local server may hash on several threads).
const KEPT_BUFFERS: usize = 8;

fn hash_into(argon: &Argon2<'_>, password: &[u8], salt: &[u8], out: &mut [u8]) -> Result<(), argon2::Error> {
    let blocks = argon.params().block_count();
    let taken = MEMORY.lock().unwrap_or_else(PoisonError::into_inner).pop();
    let mut memory = match taken {
        Some(memory) if memory.len() >= blocks => memory,
        _ => vec![Block::default(); blocks],
    };
    let result = argon.hash_password_into_with_memory(password, salt, out, &mut memory[..blocks]);
    let mut kept = MEMORY.lock().unwrap_or_else(PoisonError::into_inner);
    if kept.len() < KEPT_BUFFERS {
        kept.push(memory);
    }
    result
}

/// The PHC string of `password` with a fresh salt, computed on a blocking
/// thread.
pub async fn hash_password(password: &Password, random: &dyn Random) -> Result<String, Error> {
    let mut salt = [0u8; 16];
    random.fill(&mut salt);
    let password = password.clone();
    tokio::task::spawn_blocking(move || {
        let argon = hasher();
        let mut out = [0u8; 32];
        hash_into(&argon, password.expose().as_bytes(), &salt, &mut out).map_err(|e| e.to_string())?;
        let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
        let output = Output::new(&out).map_err(|e| e.to_string())?;
        let p = argon.params();
        Ok(format!("$argon2id$v=19$m={},t={},p={}${}${output}", p.m_cost(), p.t_cost(), p.p_cost(), salt.as_str()))
    })
    .await
    .map_err(|e| e.to_string())
    .and_then(|r| r)
    .map_err(|reason| Error::Unavailable { reason, registration_id: None })
}

/// Whether `password` matches the PHC string `hash` (on a blocking thread).
pub async fn verify_password(password: &Password, hash: &str) -> bool {
    let password = password.clone();
    let hash = hash.to_owned();
    tokio::task::spawn_blocking(move || verify_blocking(password.expose().as_bytes(), &hash)).await.unwrap_or(false)
}

/// A PHC hash of a random password, verified for unknown users (and users
/// without a password yet, such as invitees) so they cost the same time as
/// known ones.
pub fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| {
        use argon2::password_hash::{PasswordHasher, SaltString};
        let salt = SaltString::encode_b64(b"registrar-dummy!").unwrap_or_else(|_| unreachable!("16-byte salt"));
        hasher().hash_password(b"no user has this password", &salt).map(|h| h.to_string()).unwrap_or_default()
    })
}

/// Recomputes the hash with the stored parameters (old ones included) and
/// compares in constant time; an imported foreign hash (bcrypt, scrypt,
/// PBKDF2, Firebase) is verified by `foreign_hash`. A hash that does not
/// parse (an invitee has none yet) costs one dummy verification and fails.
fn verify_blocking(password: &[u8], hash: &str) -> bool {
    if super::foreign_hash::is_foreign(hash) {
        return super::foreign_hash::verify(password, hash);
    }
    let Ok(parsed) = PasswordHash::new(hash) else {
        if hash != dummy_hash() {
            verify_blocking(password, dummy_hash());
        }
        return false;
    };
    let (Some(expected), Some(salt)) = (parsed.hash, parsed.salt) else { return false };
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm) else { return false };
    let Ok(version) = parsed.version.map_or(Ok(Version::V0x13), Version::try_from) else { return false };
    let Ok(params) = Params::try_from(&parsed) else { return false };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else { return false };
    let mut out = vec![0u8; expected.len()];
    let argon = Argon2::new(algorithm, version, params);
    hash_into(&argon, password, salt, &mut out).is_ok() && bool::from(out.as_slice().ct_eq(expected.as_bytes()))
}

/// Whether a stored hash was made with other parameters (or another
/// algorithm, an imported one included) than today's, so a login should
/// upgrade it.
pub fn needs_rehash(hash: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return true;
    };
    let current = hasher();
    let params = current.params();
    parsed.algorithm.as_str() != "argon2id"
        || parsed.version != Some(0x13)
        || parsed.params.get_decimal("m") != Some(params.m_cost())
        || parsed.params.get_decimal("t") != Some(params.t_cost())
        || parsed.params.get_decimal("p") != Some(params.p_cost())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::system::OsRandom;

    #[tokio::test]
    async fn hashes_are_argon2id_phc_and_verify() {
        let password = Password::new("Str0ng!Pass");
        let hash = hash_password(&password, &OsRandom).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        assert!(!hash.contains("Str0ng!Pass"));
        assert!(verify_password(&password, &hash).await);
        assert!(!verify_password(&Password::new("Str0ng!Pas"), &hash).await);
        assert!(!verify_password(&password, "not a hash").await);
        assert!(!needs_rehash(&hash));
    }

    /// The reused-memory path and the crate's own PHC functions agree both
    /// ways, also for old parameters.
    #[tokio::test]
    async fn hashes_match_the_argon2_crate() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let password = Password::new("Str0ng!Pass");
        let ours = hash_password(&password, &OsRandom).await.unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(hasher().verify_password(b"Str0ng!Pass", &parsed).is_ok());
        assert!(hasher().verify_password(b"Str0ng!Pas", &parsed).is_err());
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        let theirs = hasher().hash_password(b"Str0ng!Pass", &salt).unwrap().to_string();
        assert!(verify_password(&password, &theirs).await);
        let weak = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(8 * 1024, 1, 1, None).unwrap());
        let old = weak.hash_password(b"Str0ng!Pass", &salt).unwrap().to_string();
        assert!(verify_password(&password, &old).await);
        assert!(!verify_password(&Password::new("other"), &old).await);
        let argon2i = Argon2::new(Algorithm::Argon2i, Version::V0x13, Params::new(8 * 1024, 2, 1, None).unwrap());
        let legacy = argon2i.hash_password(b"Str0ng!Pass", &salt).unwrap().to_string();
        assert!(verify_password(&password, &legacy).await);
    }

    #[test]
    fn old_parameters_need_a_rehash() {
        use argon2::password_hash::{PasswordHasher, SaltString};
        let weak = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(8 * 1024, 1, 1, None).unwrap());
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        let old = weak.hash_password(b"Str0ng!Pass", &salt).unwrap().to_string();
        assert!(needs_rehash(&old));
        assert!(needs_rehash("garbage"));
    }
}
