//! A deployment's signing keys, as the operator CLI keeps them in two
//! secrets (AWS Secrets Manager): the private keys, read only by the
//! functions that issue tokens, and the public keys as a JWKS, read by the
//! functions that check tokens and by the JWKS function.
//!
//! A key is `next` (published, not signing yet), `active` (the newest active
//! key signs) or `retired` (verifies until it is removed). Rotation: add a
//! key (it is published first), let every instance see it, activate it, and
//! remove the old one once its tokens have expired.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::tokens::{KeyError, Keyring, kid_of};

/// The names of a stack's secrets (the template names them the same way).
pub struct SecretNames {
    /// The private signing keys ([`SigningKeys`] as JSON).
    pub signing_keys: String,
    /// The public keys (a JWKS).
    pub public_keys: String,
    /// The key of the one-time-code hashes and refresh-token successors.
    pub code_key: String,
    /// What hook calls and event deliveries are signed with.
    pub webhook_secret: String,
}

impl SecretNames {
    /// The secrets of the SAM stack `stack`: `<stack>/signing-keys`,
    /// `<stack>/public-keys`, `<stack>/code-key` and `<stack>/webhook-secret`.
    pub fn of_stack(stack: &str) -> Self {
        Self {
            signing_keys: format!("{stack}/signing-keys"),
            public_keys: format!("{stack}/public-keys"),
            code_key: format!("{stack}/code-key"),
            webhook_secret: format!("{stack}/webhook-secret"),
        }
    }
}

/// Where a key is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyStatus {
    /// Published in the JWKS, not signing yet.
    Next,
    /// Signs (the newest active key) and verifies.
    Active,
    /// Verifies only.
    Retired,
}

/// A private signing key. The PEM is a secret: never print it.
#[derive(Clone, Serialize, Deserialize)]
pub struct StoredKey {
    pub kid: String,
    pub pem: String,
    pub status: KeyStatus,
    pub created_at: DateTime<Utc>,
}

impl std::fmt::Debug for StoredKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredKey").field("kid", &self.kid).field("status", &self.status).finish_non_exhaustive()
    }
}

/// The private keys of a deployment: the signing-keys secret's content.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct SigningKeys {
    pub keys: Vec<StoredKey>,
}

/// A key operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum KeyOpError {
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("no signing key {0}")]
    Unknown(String),
    #[error("{0}")]
    Refused(String),
}

impl SigningKeys {
    /// Reads the secret's text (an empty secret has no keys).
    pub fn parse(text: &str) -> Result<Self, KeyOpError> {
        if text.trim().is_empty() {
            return Ok(Self::default());
        }
        // serde's message may quote the value it met (a PEM): say where only.
        serde_json::from_str(text).map_err(|e| {
            KeyOpError::Refused(format!(
                "the signing-keys secret is not a key list ({:?} error at line {}, column {})",
                e.classify(),
                e.line(),
                e.column()
            ))
        })
    }

    /// The secret's text.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    fn find(&mut self, kid: &str) -> Result<&mut StoredKey, KeyOpError> {
        self.keys.iter_mut().find(|k| k.kid == kid).ok_or_else(|| KeyOpError::Unknown(kid.to_owned()))
    }

    fn signer(&self) -> Option<&StoredKey> {
        self.keys.iter().filter(|k| k.status == KeyStatus::Active).max_by_key(|k| k.created_at)
    }

    /// Adds a key (PEM, PKCS#1 or PKCS#8): it signs at once when no key
    /// does yet (a new deployment), else it is `next`, published first.
    pub fn add(&mut self, pem: &str, now: DateTime<Utc>) -> Result<StoredKey, KeyOpError> {
        let kid = kid_of(pem)?;
        if self.keys.iter().any(|k| k.kid == kid) {
            return Err(KeyOpError::Refused(format!("signing key {kid} is there already")));
        }
        let status = if self.signer().is_some() { KeyStatus::Next } else { KeyStatus::Active };
        let key = StoredKey { kid, pem: pem.to_owned(), status, created_at: now };
        self.keys.push(key.clone());
        Ok(key)
    }

    /// Makes a key the one that signs; the key that signed before retires
    /// (it still verifies).
    pub fn activate(&mut self, kid: &str, now: DateTime<Utc>) -> Result<(), KeyOpError> {
        self.find(kid)?;
        for key in &mut self.keys {
            if key.kid == kid {
                key.status = KeyStatus::Active;
                // The newest active key signs.
                key.created_at = key.created_at.max(now);
            } else if key.status == KeyStatus::Active {
                key.status = KeyStatus::Retired;
            }
        }
        Ok(())
    }

    /// Stops a key from signing; it still verifies. The key that signs can
    /// only retire by another's activation.
    pub fn retire(&mut self, kid: &str) -> Result<(), KeyOpError> {
        if self.signer().is_some_and(|k| k.kid == kid) {
            return Err(KeyOpError::Refused(format!("{kid} signs: activate another key first")));
        }
        self.find(kid)?.status = KeyStatus::Retired;
        Ok(())
    }

    /// Removes a key: tokens it signed stop verifying. Not the signing key.
    pub fn remove(&mut self, kid: &str) -> Result<(), KeyOpError> {
        if self.signer().is_some_and(|k| k.kid == kid) {
            return Err(KeyOpError::Refused(format!("{kid} signs: activate another key first")));
        }
        self.find(kid)?;
        self.keys.retain(|k| k.kid != kid);
        Ok(())
    }

    /// The keyring of an issuing function: the newest active key signs,
    /// every key verifies.
    pub fn keyring(&self) -> Result<Keyring, KeyError> {
        let pems: Vec<&str> = self.keys.iter().map(|k| k.pem.as_str()).collect();
        Keyring::with_signer(self.signer().map(|k| k.pem.as_str()), &pems)
    }

    /// The public keys' secret: the JWKS of every key.
    pub fn public_jwks(&self) -> Result<serde_json::Value, KeyError> {
        Ok(self.keyring()?.jwks())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::tokens::generate_pem;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_893_456_000 + seconds, 0).unwrap()
    }

    #[test]
    fn a_new_key_is_published_before_it_signs() {
        let mut keys = SigningKeys::default();
        let first = keys.add(&generate_pem().unwrap(), at(0)).unwrap();
        assert_eq!(first.status, KeyStatus::Active, "the first key signs at once");
        let next = keys.add(&generate_pem().unwrap(), at(1)).unwrap();
        assert_eq!(next.status, KeyStatus::Next);
        let ring = keys.keyring().unwrap();
        assert_eq!(ring.active_kid(), Some(first.kid.as_str()), "the next key does not sign yet");
        assert!(ring.knows(&next.kid), "but it is published");
        assert_eq!(keys.public_jwks().unwrap()["keys"].as_array().unwrap().len(), 2);

        keys.activate(&next.kid, at(2)).unwrap();
        let ring = keys.keyring().unwrap();
        assert_eq!(ring.active_kid(), Some(next.kid.as_str()));
        assert!(ring.knows(&first.kid), "the old key verifies until removed");
        assert!(keys.remove(&next.kid).is_err(), "the signing key stays");
        assert!(keys.retire(&next.kid).is_err());
        keys.remove(&first.kid).unwrap();
        assert!(!keys.keyring().unwrap().knows(&first.kid));
        assert!(matches!(keys.remove("nokid"), Err(KeyOpError::Unknown(_))));
        assert!(keys.add("not a key", at(3)).is_err());

        let text = keys.to_json();
        assert_eq!(SigningKeys::parse(&text).unwrap().keys.len(), 1);
        assert!(SigningKeys::parse("").unwrap().keys.is_empty());
        assert!(format!("{:?}", keys.keys[0]).contains(&next.kid) && !format!("{keys:?}").contains("BEGIN"));
    }

    #[test]
    fn stacks_name_their_secrets() {
        let names = SecretNames::of_stack("registrar");
        assert_eq!(names.signing_keys, "registrar/signing-keys");
        assert_eq!(names.public_keys, "registrar/public-keys");
        assert_eq!(names.code_key, "registrar/code-key");
        assert_eq!(names.webhook_secret, "registrar/webhook-secret");
    }
}
