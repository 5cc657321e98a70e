//! Passkeys: a user's credentials, the lock that makes a credential id one
//! user's, and the WebAuthn ceremonies between their two requests.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Record, user_pk};
use crate::domain::ids::{ChallengeId, UserId};
use crate::ports::Key;

/// A passkey of a user: the library's credential (public key, counter,
/// backup flags; nothing secret) and what the user sees.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PasskeyRecord {
    pub id: String,
    pub user_id: UserId,
    pub tenant_id: String,
    pub name: String,
    /// The credential id, base64url.
    pub credential_id: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    /// `webauthn_rs::prelude::Passkey` as serde writes it.
    pub credential: serde_json::Value,
}

impl Record for PasskeyRecord {
    fn key(&self) -> Key {
        passkey_key(&self.user_id, &self.id)
    }
}

/// Which user a credential id belongs to (one user per credential).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CredentialLock {
    pub tenant_id: String,
    pub credential_id: String,
    pub user_id: UserId,
    pub passkey_id: String,
}

impl Record for CredentialLock {
    fn key(&self) -> Key {
        credential_lock_key(&self.tenant_id, &self.credential_id)
    }
}

/// What a WebAuthn ceremony is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CeremonyKind {
    /// A signed-in user registers a passkey.
    Registration,
    /// Sign-in with a passkey alone (discoverable credential).
    SignIn,
    /// A passkey answers a login's 2FA challenge.
    SecondFactor,
}

/// A WebAuthn ceremony between its two requests: the library's state
/// (the challenge), single-use and short-lived.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Ceremony {
    pub id: String,
    pub kind: CeremonyKind,
    pub tenant_id: String,
    pub user_id: Option<UserId>,
    pub challenge_id: Option<ChallengeId>,
    pub device_id: Option<String>,
    pub state: serde_json::Value,
    pub expires_at: DateTime<Utc>,
}

impl Record for Ceremony {
    fn key(&self) -> Key {
        ceremony_key(&self.id)
    }
    fn expires_at(&self) -> Option<i64> {
        Some(self.expires_at.timestamp())
    }
}

/// A passkey of a user.
pub fn passkey_key(user_id: &UserId, id: &str) -> Key {
    Key::new(user_pk(user_id), format!("PASSKEY#{id}"))
}

/// The query of a user's passkeys: `pk` and the `sk` prefix.
pub fn passkeys_of(user_id: &UserId) -> (String, &'static str) {
    (user_pk(user_id), "PASSKEY#")
}

pub fn credential_lock_key(tenant_id: &str, credential_id: &str) -> Key {
    Key::new(format!("WEBAUTHN#{tenant_id}#{credential_id}"), "LOCK")
}

pub fn ceremony_key(id: &str) -> Key {
    Key::new(format!("CEREMONY#{id}"), "CEREMONY")
}
