//! Tenants and what grants access to them: the tenant and its policy, the
//! list of tenants, API keys and admin tokens.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Record, encode, sha256_hex};
use crate::domain::policy::Policy;
use crate::ports::{Condition, Item, Key, StoreError, Write};

/// A tenant and its policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenant {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub policy: Policy,
}

impl Record for Tenant {
    fn key(&self) -> Key {
        tenant_key(&self.id)
    }
}

impl Tenant {
    /// The tenant's entry in the list of tenants: its id and its CORS
    /// origins, so one query answers a preflight.
    pub fn index_put(&self) -> Result<Write, StoreError> {
        let entry = TenantIndexEntry { id: self.id.clone(), cors_origins: Some(self.policy.cors_origins.clone()) };
        Ok(Write::Put {
            item: Item::new(tenant_index_key(&self.id), encode(&entry)?, None),
            condition: Condition::Always,
        })
    }
}

/// A tenant's entry in the list of tenants.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantIndexEntry {
    pub id: String,
    /// The tenant's CORS origins; `None` in entries written before they
    /// were listed here (read the tenant then).
    #[serde(default)]
    pub cors_origins: Option<Vec<String>>,
}

/// What an API key grants: its tenant (and the partner it was issued to).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyGrant {
    pub tenant_id: String,
    #[serde(default)]
    pub partner_id: Option<String>,
    #[serde(default)]
    pub revoked: bool,
}

impl ApiKeyGrant {
    /// The grant's item under the key's SHA-256.
    pub fn item(&self, key_hash: &str) -> Result<Item, StoreError> {
        Ok(Item::new(api_key_hash_key(key_hash), encode(self)?, None))
    }

    /// The grant's write under the key's SHA-256.
    pub fn put(&self, key_hash: &str, condition: Condition) -> Result<Write, StoreError> {
        Ok(Write::Put { item: self.item(key_hash)?, condition })
    }
}

/// What the operator sees of an API key (never the key).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyInfo {
    pub key_id: String,
    pub tenant_id: String,
    pub partner_id: Option<String>,
    pub revoked: bool,
    pub created_at: DateTime<Utc>,
    /// SHA-256 of the key: where its grant is stored.
    pub hash: String,
}

impl Record for ApiKeyInfo {
    fn key(&self) -> Key {
        Key::new(format!("TENANT#{}", self.tenant_id), format!("APIKEY#{}", self.key_id))
    }
}

/// An admin token's record (the token itself is never stored), written
/// twice: under the token's hash (for authentication) and under its tenant
/// (for listing).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminTokenInfo {
    pub token_id: String,
    pub tenant_id: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked: bool,
    pub hash: String,
}

impl AdminTokenInfo {
    /// Both items of the token, under `condition` each.
    pub fn puts(&self, condition: Condition) -> Result<[Write; 2], StoreError> {
        let expires = Some(self.expires_at.timestamp());
        let body = encode(self)?;
        Ok([
            Write::Put { item: Item::new(admin_token_key(&self.hash), body.clone(), expires), condition },
            Write::Put {
                item: Item::new(admin_token_index(&self.tenant_id, &self.token_id), body, expires),
                condition,
            },
        ])
    }
}

/// A tenant's record.
pub fn tenant_key(tenant_id: &str) -> Key {
    Key::new(format!("TENANT#{tenant_id}"), "TENANT")
}

/// A tenant's entry in the list of tenants (`{ id, cors_origins }`).
pub fn tenant_index_key(tenant_id: &str) -> Key {
    Key::new(TENANTS_PK, format!("TENANT#{tenant_id}"))
}

/// The partition holding the list of tenants; its sort keys start with
/// [`TENANT_PREFIX`].
pub const TENANTS_PK: &str = "TENANTS";
pub const TENANT_PREFIX: &str = "TENANT#";

/// An API key's grant, by the key (only its SHA-256 is stored; API keys are
/// long random strings, so an unkeyed hash is enough).
pub fn api_key_key(api_key: &str) -> Key {
    api_key_hash_key(&sha256_hex(api_key))
}

/// An API key's grant, by the key's SHA-256.
pub fn api_key_hash_key(hash: &str) -> Key {
    Key::new(format!("APIKEY#{hash}"), "APIKEY")
}

/// The SHA-256 of an API key or admin token, as keys name them.
pub fn secret_hash(secret: &str) -> String {
    sha256_hex(secret)
}

/// A tenant's API keys (`ApiKeyInfo`): partition and sort-key prefix.
pub fn api_key_infos(tenant_id: &str) -> (String, &'static str) {
    (format!("TENANT#{tenant_id}"), "APIKEY#")
}

/// An API key's entry among its tenant's.
pub fn api_key_info_key(tenant_id: &str, key_id: &str) -> Key {
    Key::new(format!("TENANT#{tenant_id}"), format!("APIKEY#{key_id}"))
}

/// An admin token's record by the token's SHA-256.
pub fn admin_token_key(hash: &str) -> Key {
    Key::new(format!("ADMINTOKEN#{hash}"), "ADMINTOKEN")
}

/// An admin token's entry among its tenant's.
pub fn admin_token_index(tenant_id: &str, token_id: &str) -> Key {
    Key::new(format!("TENANT#{tenant_id}"), format!("ADMINTOKEN#{token_id}"))
}

/// A tenant's admin tokens: partition and sort-key prefix.
pub fn admin_token_infos(tenant_id: &str) -> (String, &'static str) {
    (format!("TENANT#{tenant_id}"), "ADMINTOKEN#")
}
