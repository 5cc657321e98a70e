//! The records of sign-in with other identity providers
//! (docs/identity-providers.md): which user a provider identity belongs to
//! (a lock, so one identity never makes two users), the identities a user
//! has linked, a sign-in waiting at a provider, and an identity waiting
//! for its user to prove itself (or to accept the legal documents).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Record, sha256_hex};
use crate::domain::ids::UserId;
use crate::ports::Key;

/// The user a provider identity (`iss` + `sub`) belongs to, under the
/// identity's hash: written with `NotExists` in the transaction that
/// creates or links, so fifty first sign-ins at once make one user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityLock {
    pub user_id: UserId,
    pub provider: String,
    pub tenant_id: String,
    pub issuer: String,
    pub subject: String,
}

impl Record for IdentityLock {
    fn key(&self) -> Key {
        identity_lock_key(&self.tenant_id, &self.issuer, &self.subject)
    }
}

/// The lock of the identity `subject` at `issuer`.
pub fn identity_lock_key(tenant_id: &str, issuer: &str, subject: &str) -> Key {
    Key::new(format!("IDENTITY#{tenant_id}#{}", sha256_hex(&format!("{issuer}\n{subject}"))), "LOCK")
}

/// An identity a user has linked, one per provider.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkedIdentity {
    pub user_id: UserId,
    pub provider: String,
    pub issuer: String,
    pub subject: String,
    /// The address the provider gave (verified or not), for the user to
    /// recognise the account by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub linked_at: DateTime<Utc>,
}

impl Record for LinkedIdentity {
    fn key(&self) -> Key {
        linked_identity_key(&self.user_id, &self.provider)
    }
}

/// A user's identity at `provider`.
pub fn linked_identity_key(user_id: &UserId, provider: &str) -> Key {
    Key::new(format!("USER#{user_id}"), format!("IDENTITY#{provider}"))
}

/// A user's identities: partition and sort-key prefix.
pub fn identities_of(user_id: &UserId) -> (String, &'static str) {
    (format!("USER#{user_id}"), "IDENTITY#")
}

/// A sign-in sent to a provider, under the SHA-256 of its `state`: what
/// the answer at `/oauth2/idpresponse` is checked against, used once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FederationState {
    /// SHA-256 of the state: where the record is stored.
    pub hash: String,
    pub tenant_id: String,
    pub provider: String,
    pub nonce: String,
    pub code_verifier: String,
    /// The browser that started it (the hosted pages' device id).
    pub device_id: String,
    /// The app's authorization request to finish (a sign-in), as the
    /// hosted pages' hidden fields carry it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<serde_json::Value>,
    /// A signed-in user linking the identity (`POST /v1/me/identities/
    /// {provider}`), and where the browser goes back to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_user_id: Option<UserId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_to: Option<String>,
    pub expires_at: DateTime<Utc>,
}

impl Record for FederationState {
    fn key(&self) -> Key {
        Key::new(format!("FEDSTATE#{}", self.hash), "FEDSTATE")
    }
    fn expires_at(&self) -> Option<i64> {
        Some(self.expires_at.timestamp())
    }
}

/// A federation state's record, by the state.
pub fn federation_state_key(state: &str) -> Key {
    Key::new(format!("FEDSTATE#{}", sha256_hex(state)), "FEDSTATE")
}

/// The SHA-256 (hex) of a state, as stored.
pub fn state_hash(state: &str) -> String {
    sha256_hex(state)
}

/// A provider identity checked and waiting: for the existing account with
/// its address to prove itself (then it is linked), under a random id the
/// hosted page carries, bound to the browser.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingIdentity {
    pub id: String,
    pub tenant_id: String,
    pub provider: String,
    pub issuer: String,
    pub subject: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The account to prove itself.
    pub user_id: UserId,
    pub device_id: String,
    /// The app's authorization request to finish.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<serde_json::Value>,
    pub expires_at: DateTime<Utc>,
}

impl Record for PendingIdentity {
    fn key(&self) -> Key {
        pending_identity_key(&self.id)
    }
    fn expires_at(&self) -> Option<i64> {
        Some(self.expires_at.timestamp())
    }
}

/// A pending identity's record.
pub fn pending_identity_key(id: &str) -> Key {
    Key::new(format!("FEDPENDING#{id}"), "FEDPENDING")
}

/// An ID token presented to the API, spent: under its SHA-256, until it
/// expires.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsedIdToken {
    pub hash: String,
    /// Epoch seconds.
    pub expires_at: i64,
}

impl Record for UsedIdToken {
    fn key(&self) -> Key {
        Key::new(format!("IDTOKEN#{}", self.hash), "USED")
    }
    fn expires_at(&self) -> Option<i64> {
        Some(self.expires_at)
    }
}

/// The SHA-256 (hex) of an ID token, as stored.
pub fn id_token_hash(token: &str) -> String {
    sha256_hex(token)
}
