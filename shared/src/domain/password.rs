//! Password hashing with argon2id at OWASP's parameters, off the async
//! threads.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

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

/// argon2id, m = 19 MiB, t = 2, p = 1 (OWASP's first recommendation).
pub fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The PHC string of `password` with a fresh salt, computed on a blocking
/// thread.
pub async fn hash_password(password: &Password, random: &dyn Random) -> Result<String, Error> {
    let mut salt = [0u8; 16];
    random.fill(&mut salt);
    let password = password.clone();
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
        hasher().hash_password(password.expose().as_bytes(), &salt).map(|h| h.to_string()).map_err(|e| e.to_string())
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
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|parsed| hasher().verify_password(password.expose().as_bytes(), &parsed).is_ok())
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// Whether a stored hash was made with other parameters (or another
/// algorithm) than today's, so a login should upgrade it.
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
