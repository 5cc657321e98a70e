//! The OpenID Provider's records (docs/openid.md): the clients of a tenant
//! (by client id, and listed under their tenant) and the authorization
//! codes a hosted sign-in issues.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Record, sha256_hex};
use crate::domain::ids::{SessionId, UserId};
use crate::ports::Key;

/// A client registered with a tenant, under its client id (globally
/// unique). A confidential client's secret is stored as its SHA-256 only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientRecord {
    pub client_id: String,
    pub tenant_id: String,
    pub name: String,
    /// Compared exactly.
    pub redirect_uris: Vec<String>,
    /// Where RP-initiated logout may send the browser back, exactly.
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// A public client (PKCE alone) or a confidential one.
    pub public: bool,
    /// SHA-256 (hex) of a confidential client's secret (32 random bytes:
    /// no slow hash needed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_hash: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl Record for ClientRecord {
    fn key(&self) -> Key {
        client_key(&self.client_id)
    }
}

/// A client's entry among its tenant's: the client id alone (the record
/// under [`client_key`] is read for the rest).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientIndexEntry {
    pub client_id: String,
    pub tenant_id: String,
}

impl Record for ClientIndexEntry {
    fn key(&self) -> Key {
        client_index_key(&self.tenant_id, &self.client_id)
    }
}

/// What an authorization code was issued for, under the code's SHA-256
/// (the code is 32 random bytes and never stored). It is valid until
/// `valid_until` (60 s); the item lives longer (`expires_at`), so a
/// second redemption is recognised and revokes what the first issued.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationCode {
    pub client_id: String,
    pub tenant_id: String,
    pub redirect_uri: String,
    /// The S256 PKCE challenge.
    pub code_challenge: String,
    pub scopes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    pub user_id: UserId,
    /// The session the hosted sign-in opened.
    pub session_id: SessionId,
    pub issued_at: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// The session the first redemption opened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redeemed_by: Option<SessionId>,
    /// SHA-256 of the code: where the record is stored.
    pub hash: String,
}

impl Record for AuthorizationCode {
    fn key(&self) -> Key {
        Key::new(format!("OAUTHCODE#{}", self.hash), "OAUTHCODE")
    }
    fn expires_at(&self) -> Option<i64> {
        Some(self.expires_at.timestamp())
    }
}

/// A client's record, by its client id.
pub fn client_key(client_id: &str) -> Key {
    Key::new(format!("CLIENT#{client_id}"), "CLIENT")
}

/// A client's entry among its tenant's.
pub fn client_index_key(tenant_id: &str, client_id: &str) -> Key {
    Key::new(format!("TENANT#{tenant_id}"), format!("CLIENT#{client_id}"))
}

/// A tenant's clients: partition and sort-key prefix.
pub fn clients_of(tenant_id: &str) -> (String, &'static str) {
    (format!("TENANT#{tenant_id}"), "CLIENT#")
}

/// An authorization code's record, by the code.
pub fn authorization_code_key(code: &str) -> Key {
    Key::new(format!("OAUTHCODE#{}", sha256_hex(code)), "OAUTHCODE")
}

/// The SHA-256 (hex) of a code or a client secret, as stored.
pub fn oauth_hash(secret: &str) -> String {
    sha256_hex(secret)
}
