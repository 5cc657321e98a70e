//! Tenants (a program or a partner's app), their policy and their API keys.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::values::{LANGUAGES, PasswordPolicy};
use crate::ports::{Condition, Item, Key, Store, StoreError};

/// How a tenant's one-time codes behave.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CodePolicy {
    pub length: usize,
    pub email_ttl_secs: i64,
    pub sms_ttl_secs: i64,
    pub max_attempts: u32,
    pub resend_cooldown_secs: i64,
    pub max_sends: u32,
}

impl Default for CodePolicy {
    fn default() -> Self {
        Self {
            length: 6,
            email_ttl_secs: 600,
            sms_ttl_secs: 300,
            max_attempts: 5,
            resend_cooldown_secs: 60,
            max_sends: 5,
        }
    }
}

/// Everything a tenant can configure; every field has the documented default.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Policy {
    pub password: PasswordPolicy,
    pub codes: CodePolicy,
    pub registration_ttl_secs: i64,
    pub access_token_ttl_secs: i64,
    pub refresh_token_ttl_secs: i64,
    /// Whether sign-up needs a verified phone after the e-mail.
    pub phone_required: bool,
    /// Sandbox: every code is this fixed value (messages still go out through
    /// the tenant's mailer, which is the outbox in local runs).
    pub sandbox_code: Option<String>,
    pub languages: Vec<String>,
    pub cors_origins: Vec<String>,
    /// The versions of the legal documents a sign-up accepts.
    pub terms_version: String,
    pub privacy_version: String,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            password: PasswordPolicy::default(),
            codes: CodePolicy::default(),
            registration_ttl_secs: 24 * 3600,
            access_token_ttl_secs: 15 * 60,
            refresh_token_ttl_secs: 14 * 24 * 3600,
            phone_required: true,
            sandbox_code: None,
            languages: LANGUAGES.iter().map(|l| (*l).to_owned()).collect(),
            cors_origins: Vec::new(),
            terms_version: "2026-01".into(),
            privacy_version: "2026-01".into(),
        }
    }
}

/// A tenant and its policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenant {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub policy: Policy,
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

fn tenant_key(id: &str) -> Key {
    Key::new(format!("TENANT#{id}"), "TENANT")
}

/// The store key of an API key: only its SHA-256 is ever stored. API keys
/// are long random strings, so an unkeyed hash is enough.
fn api_key_key(api_key: &str) -> Key {
    Key::new(format!("APIKEY#{}", hex::encode(Sha256::digest(api_key.as_bytes()))), "APIKEY")
}

pub(crate) fn decode_item<T: serde::de::DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    serde_json::from_value(item.body).map_err(|e| StoreError::Unavailable(format!("stored item unreadable: {e}")))
}

pub(crate) fn encode_item<T: Serialize>(value: &T) -> Result<serde_json::Value, StoreError> {
    serde_json::to_value(value).map_err(|e| StoreError::Unavailable(e.to_string()))
}

/// Stores a tenant (replacing its policy if it exists).
pub async fn save_tenant(store: &dyn Store, tenant: &Tenant) -> Result<(), StoreError> {
    store.put(Item::new(tenant_key(&tenant.id), encode_item(tenant)?, None), Condition::Always).await
}

/// Stores an API key for a tenant (hashed).
pub async fn save_api_key(store: &dyn Store, api_key: &str, grant: &ApiKeyGrant) -> Result<(), StoreError> {
    store.put(Item::new(api_key_key(api_key), encode_item(grant)?, None), Condition::Always).await
}

/// The tenant an API key belongs to, if the key is known and not revoked.
pub async fn tenant_for_api_key(store: &dyn Store, api_key: &str) -> Result<Option<(Tenant, ApiKeyGrant)>, StoreError> {
    let Some(item) = store.get(&api_key_key(api_key)).await? else {
        return Ok(None);
    };
    let grant: ApiKeyGrant = decode_item(item)?;
    if grant.revoked {
        return Ok(None);
    }
    let Some(item) = store.get(&tenant_key(&grant.tenant_id)).await? else {
        return Ok(None);
    };
    Ok(Some((decode_item(item)?, grant)))
}
