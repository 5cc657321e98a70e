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

/// What a tenant may spend on SMS: where texts may go, and how many.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SmsPolicy {
    /// ISO 3166-1 alpha-2 regions a text may go to (by the number's
    /// country code); empty: anywhere.
    pub countries: Vec<String>,
    /// Texts per hour for the whole tenant (every kind of message).
    pub per_hour: u64,
    /// Texts per day for the whole tenant.
    pub per_day: u64,
}

impl Default for SmsPolicy {
    fn default() -> Self {
        Self { countries: Vec::new(), per_hour: 1_000, per_day: 10_000 }
    }
}

/// A role of the tenant's catalogue and the kinds of actor that may grant it
/// (`admin` for admin tokens, or a user type).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleRule {
    pub name: String,
    pub granted_by: Vec<String>,
}

impl RoleRule {
    fn new(name: &str, granted_by: &[&str]) -> Self {
        Self { name: name.to_owned(), granted_by: granted_by.iter().map(|g| (*g).to_owned()).collect() }
    }
}

/// The kinds of actor a role rule may name.
pub const GRANTORS: [&str; 3] = ["admin", "service_owner", "company_user"];

/// A role name: 1–64 letters, digits, `.`, `_`, `:` or `-`, case kept (so
/// seed names such as `ADMIN` are valid).
pub fn valid_role_name(role: &str) -> bool {
    (1..=64).contains(&role.len()) && role.bytes().all(|b| b.is_ascii_alphanumeric() || b".:_-".contains(&b))
}

/// The catalogue a tenant starts with: `admin` only from admin tokens,
/// `support` also from service owners, `member` from company users too.
fn default_roles() -> Vec<RoleRule> {
    vec![
        RoleRule::new("admin", &["admin"]),
        RoleRule::new("support", &["admin", "service_owner"]),
        RoleRule::new("member", &["admin", "service_owner", "company_user"]),
    ]
}

/// Requests per caller IP address and tenant, each in its window. A tenant
/// whose users share one address (a company NAT, a load test) raises them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct IpLimits {
    /// Sign-ups started per hour.
    pub signups_per_hour: u64,
    /// Login attempts per five minutes.
    pub logins_per_5_min: u64,
    /// Password-reset requests and attempts per hour.
    pub resets_per_hour: u64,
}

impl Default for IpLimits {
    fn default() -> Self {
        Self { signups_per_hour: 100, logins_per_5_min: 30, resets_per_hour: 20 }
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
    pub ip_limits: IpLimits,
    /// How long after a sign-in a step-up (adding or replacing an e-mail or
    /// phone) needs no password again; 0 asks for it every time.
    pub step_up_window_secs: i64,
    /// The roles that exist, and who may grant each: an unknown role is 422,
    /// one the actor may not grant 403.
    pub roles: Vec<RoleRule>,
    /// The SMS spend guard (destination countries and budgets).
    pub sms: SmsPolicy,
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
            ip_limits: IpLimits::default(),
            step_up_window_secs: 5 * 60,
            roles: default_roles(),
            sms: SmsPolicy::default(),
        }
    }
}

impl Policy {
    /// Every rule a stored policy must keep, as one-line reasons (empty: the
    /// policy is usable). Bounds keep time arithmetic far from overflow.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut within = |name: &str, value: i64, low: i64, high: i64| {
            if !(low..=high).contains(&value) {
                problems.push(format!("{name} must be {low} to {high}, not {value}"));
            }
        };
        within("access_token_ttl_secs", self.access_token_ttl_secs, 60, 24 * 3600);
        within("refresh_token_ttl_secs", self.refresh_token_ttl_secs, 300, 400 * 24 * 3600);
        within("registration_ttl_secs", self.registration_ttl_secs, 600, 30 * 24 * 3600);
        within("step_up_window_secs", self.step_up_window_secs, 0, 3600);
        within("sms.per_hour", i64::try_from(self.sms.per_hour).unwrap_or(i64::MAX), 0, 100_000_000);
        within("sms.per_day", i64::try_from(self.sms.per_day).unwrap_or(i64::MAX), 0, 100_000_000);
        within("codes.length", self.codes.length as i64, 4, 10);
        within("codes.email_ttl_secs", self.codes.email_ttl_secs, 60, 24 * 3600);
        within("codes.sms_ttl_secs", self.codes.sms_ttl_secs, 60, 3600);
        within("codes.max_attempts", i64::from(self.codes.max_attempts), 1, 20);
        within("codes.resend_cooldown_secs", self.codes.resend_cooldown_secs, 0, 3600);
        within("codes.max_sends", i64::from(self.codes.max_sends), 1, 1000);
        within("password.min_length", self.password.min_length as i64, 8, 128);
        within("password.max_length", self.password.max_length as i64, self.password.min_length as i64, 1024);
        for (name, value) in [
            ("ip_limits.signups_per_hour", self.ip_limits.signups_per_hour),
            ("ip_limits.logins_per_5_min", self.ip_limits.logins_per_5_min),
            ("ip_limits.resets_per_hour", self.ip_limits.resets_per_hour),
        ] {
            within(name, i64::try_from(value).unwrap_or(i64::MAX), 1, 1_000_000_000);
        }
        if let Some(code) = &self.sandbox_code
            && (code.len() != self.codes.length || !code.bytes().all(|b| b.is_ascii_digit()))
        {
            problems.push(format!("sandbox_code must be {} digits (codes.length)", self.codes.length));
        }
        for country in &self.sms.countries {
            if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
                problems.push(format!("sms.countries: {country:?} is not an ISO 3166-1 alpha-2 code (e.g. CH)"));
            }
        }
        for (n, rule) in self.roles.iter().enumerate() {
            if self.roles[..n].iter().any(|earlier| earlier.name == rule.name) {
                problems.push(format!("roles: {} is listed twice", rule.name));
            }
            if !valid_role_name(&rule.name) {
                problems.push(format!("roles: {:?} is not a role name (1-64 of A-Z a-z 0-9 . _ : -)", rule.name));
            }
            if let Some(bad) = rule.granted_by.iter().find(|g| !GRANTORS.contains(&g.as_str())) {
                problems.push(format!("roles: {} granted_by {bad:?}; use some of {}", rule.name, GRANTORS.join(", ")));
            }
        }
        if self.languages.is_empty() || self.languages.iter().any(|l| !LANGUAGES.contains(&l.as_str())) {
            problems.push(format!("languages must be some of {}", LANGUAGES.join(", ")));
        }
        for origin in &self.cors_origins {
            if parse_origin(origin).as_deref() != Some(origin.as_str()) {
                problems.push(format!("cors_origins: {origin} is not an origin (scheme://host[:port], lower case)"));
            }
        }
        for (name, version) in [("terms_version", &self.terms_version), ("privacy_version", &self.privacy_version)] {
            if version.trim().is_empty() || version.len() > 64 {
                problems.push(format!("{name} must be 1 to 64 characters"));
            }
        }
        problems
    }
}

/// `text` as a browser sends it in `Origin` (`scheme://host[:port]`, lower
/// case, no path or trailing slash), if it is one.
pub fn parse_origin(text: &str) -> Option<String> {
    let (scheme, rest) = text.split_once("://")?;
    let host_ok = !rest.is_empty()
        && rest.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'));
    let port_ok = rest.rsplit_once(':').is_none_or(|(_, port)| port.parse::<u16>().is_ok() || rest.ends_with(']'));
    (matches!(scheme, "http" | "https") && host_ok && port_ok).then(|| text.to_ascii_lowercase())
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

/// API keys already checked, with their tenants. Each warm instance keeps an
/// answer for `Settings::api_key_cache_secs`, so most requests skip the two
/// reads (key, tenant); revoking a key or changing a policy takes effect
/// within that time. Unknown and revoked keys are never kept, so a new key
/// works at once. Keyed by the key's SHA-256, never the key itself.
#[derive(Debug, Default)]
pub struct ApiKeyCache(std::sync::Mutex<std::collections::HashMap<String, (i64, Tenant, ApiKeyGrant)>>);

/// Entries one instance keeps at most (a deployment has a few keys).
const API_KEY_CACHE_CAP: usize = 1024;

impl ApiKeyCache {
    /// [`tenant_for_api_key`], answered from memory while fresh.
    pub async fn tenant_for_api_key(
        &self,
        store: &dyn Store,
        now: i64,
        ttl_secs: i64,
        api_key: &str,
    ) -> Result<Option<(Tenant, ApiKeyGrant)>, StoreError> {
        let digest = hex::encode(Sha256::digest(api_key.as_bytes()));
        if ttl_secs > 0
            && let Some((expires, tenant, grant)) = self.0.lock().unwrap_or_else(|e| e.into_inner()).get(&digest)
            && *expires > now
        {
            return Ok(Some((tenant.clone(), grant.clone())));
        }
        let found = tenant_for_api_key(store, api_key).await?;
        if ttl_secs > 0
            && let Some((tenant, grant)) = &found
        {
            let mut entries = self.0.lock().unwrap_or_else(|e| e.into_inner());
            if entries.len() >= API_KEY_CACHE_CAP {
                entries.retain(|_, entry| entry.0 > now);
                if entries.len() >= API_KEY_CACHE_CAP {
                    entries.clear();
                }
            }
            entries.insert(digest, (now + ttl_secs, tenant.clone(), grant.clone()));
        }
        Ok(found)
    }
}

/// Stores a tenant (replacing its policy if it exists), with its entry in
/// the list of tenants.
pub async fn save_tenant(store: &dyn Store, tenant: &Tenant) -> Result<(), StoreError> {
    store
        .transact(vec![
            crate::ports::Write::Put {
                item: Item::new(tenant_key(&tenant.id), encode_item(tenant)?, None),
                condition: Condition::Always,
            },
            crate::ports::Write::Put { item: tenant_index_item(tenant), condition: Condition::Always },
        ])
        .await
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

/// A tenant's entry in the list of all tenants.
fn tenant_index_key(id: &str) -> Key {
    Key::new("TENANTS", format!("TENANT#{id}"))
}

/// The entry of `tenant` in the list of tenants: its id and its CORS
/// origins, so one query answers a preflight (see [`all_cors_origins`]).
fn tenant_index_item(tenant: &Tenant) -> Item {
    Item::new(
        tenant_index_key(&tenant.id),
        serde_json::json!({ "id": tenant.id, "cors_origins": tenant.policy.cors_origins }),
        None,
    )
}

/// Every origin any tenant allows. A CORS preflight carries no API key, so
/// it cannot name its tenant: it is answered for this union, and the actual
/// answer decides per tenant.
pub async fn all_cors_origins(store: &dyn Store) -> Result<std::collections::BTreeSet<String>, StoreError> {
    let mut origins = std::collections::BTreeSet::new();
    for entry in store.query("TENANTS", "TENANT#", false, 10_000).await? {
        match entry.body["cors_origins"].as_array() {
            Some(listed) => origins.extend(listed.iter().filter_map(|o| o.as_str().map(str::to_owned))),
            // An entry written before the origins were listed in it.
            None => {
                if let Some(id) = entry.body["id"].as_str()
                    && let Some(tenant) = get_tenant(store, id).await?
                {
                    origins.extend(tenant.policy.cors_origins);
                }
            }
        }
    }
    Ok(origins)
}

/// The union of the tenants' origins, kept by each warm instance for
/// `Settings::api_key_cache_secs` like the API keys: a new origin reaches
/// preflights within that time.
#[derive(Debug, Default)]
pub struct OriginCache(std::sync::Mutex<Option<(i64, std::sync::Arc<std::collections::BTreeSet<String>>)>>);

impl OriginCache {
    /// [`all_cors_origins`], answered from memory while fresh.
    pub async fn origins(
        &self,
        store: &dyn Store,
        now: i64,
        ttl_secs: i64,
    ) -> Result<std::sync::Arc<std::collections::BTreeSet<String>>, StoreError> {
        if let Some((expires, origins)) = &*self.0.lock().unwrap_or_else(|e| e.into_inner())
            && *expires > now
        {
            return Ok(origins.clone());
        }
        let origins = std::sync::Arc::new(all_cors_origins(store).await?);
        if ttl_secs > 0 {
            *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some((now + ttl_secs, origins.clone()));
        }
        Ok(origins)
    }
}

/// Creates a tenant; fails with `ConditionFailed` if the id is taken.
pub async fn create_tenant(store: &dyn Store, tenant: &Tenant) -> Result<(), StoreError> {
    store
        .transact(vec![
            crate::ports::Write::Put {
                item: Item::new(tenant_key(&tenant.id), encode_item(tenant)?, None),
                condition: Condition::NotExists,
            },
            crate::ports::Write::Put { item: tenant_index_item(tenant), condition: Condition::Always },
        ])
        .await
}

/// A tenant by id.
pub async fn get_tenant(store: &dyn Store, id: &str) -> Result<Option<Tenant>, StoreError> {
    match store.get(&tenant_key(id)).await? {
        Some(item) => Ok(Some(decode_item(item)?)),
        None => Ok(None),
    }
}

/// Every tenant, by id.
pub async fn list_tenants(store: &dyn Store) -> Result<Vec<Tenant>, StoreError> {
    let mut tenants = Vec::new();
    for entry in store.query("TENANTS", "TENANT#", false, 10_000).await? {
        if let Some(id) = entry.body["id"].as_str()
            && let Some(tenant) = get_tenant(store, id).await?
        {
            tenants.push(tenant);
        }
    }
    Ok(tenants)
}

/// Replaces a tenant's policy; fails with `ConditionFailed` if it does not exist.
pub async fn set_policy(store: &dyn Store, id: &str, policy: Policy) -> Result<Tenant, StoreError> {
    let item = store.get(&tenant_key(id)).await?.ok_or(StoreError::ConditionFailed { index: 0 })?;
    let version = item.version;
    let mut tenant: Tenant = decode_item(item)?;
    tenant.policy = policy;
    store
        .transact(vec![
            crate::ports::Write::Put {
                item: Item::new(tenant_key(id), encode_item(&tenant)?, None),
                condition: Condition::Version(version),
            },
            crate::ports::Write::Put { item: tenant_index_item(&tenant), condition: Condition::Always },
        ])
        .await?;
    Ok(tenant)
}

/// What the operator sees of an API key (never the key).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyInfo {
    pub key_id: String,
    pub tenant_id: String,
    pub partner_id: Option<String>,
    pub revoked: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// SHA-256 of the key: where its grant is stored.
    pub hash: String,
}

fn api_key_index(tenant_id: &str, key_id: &str) -> Key {
    Key::new(format!("TENANT#{tenant_id}"), format!("APIKEY#{key_id}"))
}

fn random_hex(random: &dyn crate::ports::Random, bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    random.fill(&mut buf);
    hex::encode(buf)
}

/// Issues an API key for a tenant; the key is returned once and stored only
/// as a hash.
pub async fn issue_api_key(
    store: &dyn Store,
    random: &dyn crate::ports::Random,
    now: chrono::DateTime<chrono::Utc>,
    tenant_id: &str,
    partner_id: Option<String>,
) -> Result<(ApiKeyInfo, String), StoreError> {
    let key_id = random_hex(random, 6);
    let api_key = format!("sk_{key_id}_{}", random_hex(random, 24));
    let hash = hex::encode(Sha256::digest(api_key.as_bytes()));
    let info = ApiKeyInfo {
        key_id: key_id.clone(),
        tenant_id: tenant_id.to_owned(),
        partner_id: partner_id.clone(),
        revoked: false,
        created_at: now,
        hash,
    };
    let grant = ApiKeyGrant { tenant_id: tenant_id.to_owned(), partner_id, revoked: false };
    store
        .transact(vec![
            crate::ports::Write::Check { key: tenant_key(tenant_id), condition: Condition::Exists },
            crate::ports::Write::Put {
                item: Item::new(api_key_key(&api_key), encode_item(&grant)?, None),
                condition: Condition::NotExists,
            },
            crate::ports::Write::Put {
                item: Item::new(api_key_index(tenant_id, &key_id), encode_item(&info)?, None),
                condition: Condition::NotExists,
            },
        ])
        .await?;
    Ok((info, api_key))
}

/// The API keys of a tenant.
pub async fn list_api_keys(store: &dyn Store, tenant_id: &str) -> Result<Vec<ApiKeyInfo>, StoreError> {
    store.query(&format!("TENANT#{tenant_id}"), "APIKEY#", false, 10_000).await?.into_iter().map(decode_item).collect()
}

/// Revokes an API key by its id; `ConditionFailed` if unknown.
pub async fn revoke_api_key(store: &dyn Store, tenant_id: &str, key_id: &str) -> Result<(), StoreError> {
    let index = store.get(&api_key_index(tenant_id, key_id)).await?.ok_or(StoreError::ConditionFailed { index: 0 })?;
    let mut info: ApiKeyInfo = decode_item(index)?;
    info.revoked = true;
    let grant = ApiKeyGrant { tenant_id: tenant_id.to_owned(), partner_id: info.partner_id.clone(), revoked: true };
    let grant_key = Key::new(format!("APIKEY#{}", info.hash), "APIKEY");
    store
        .transact(vec![
            crate::ports::Write::Put {
                item: Item::new(grant_key, encode_item(&grant)?, None),
                condition: Condition::Exists,
            },
            crate::ports::Write::Put {
                item: Item::new(api_key_index(tenant_id, key_id), encode_item(&info)?, None),
                condition: Condition::Exists,
            },
        ])
        .await
}

/// An admin token's record (the token itself is never stored).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminTokenInfo {
    pub token_id: String,
    pub tenant_id: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub expires_at: chrono::DateTime<chrono::Utc>,
    pub revoked: bool,
    pub hash: String,
}

fn admin_token_key(hash: &str) -> Key {
    Key::new(format!("ADMINTOKEN#{hash}"), "ADMINTOKEN")
}

fn admin_token_index(tenant_id: &str, token_id: &str) -> Key {
    Key::new(format!("TENANT#{tenant_id}"), format!("ADMINTOKEN#{token_id}"))
}

/// Issues a machine token for a tenant, valid `years` (1–10) years.
pub async fn issue_admin_token(
    store: &dyn Store,
    random: &dyn crate::ports::Random,
    now: chrono::DateTime<chrono::Utc>,
    tenant_id: &str,
    years: u32,
) -> Result<(AdminTokenInfo, String), StoreError> {
    let token_id = random_hex(random, 6);
    let token = format!("adm_{token_id}_{}", random_hex(random, 32));
    issue_admin_token_value(store, now, tenant_id, years, &token_id, &token).await.map(|info| (info, token))
}

/// Stores a given admin token (local runs pin one with `REGISTRAR_ADMIN_TOKEN`).
pub async fn issue_admin_token_value(
    store: &dyn Store,
    now: chrono::DateTime<chrono::Utc>,
    tenant_id: &str,
    years: u32,
    token_id: &str,
    token: &str,
) -> Result<AdminTokenInfo, StoreError> {
    let expires_at = now + chrono::Duration::days(365 * i64::from(years.clamp(1, 10)));
    let hash = hex::encode(Sha256::digest(token.as_bytes()));
    let info = AdminTokenInfo {
        token_id: token_id.to_owned(),
        tenant_id: tenant_id.to_owned(),
        created_at: now,
        expires_at,
        revoked: false,
        hash: hash.clone(),
    };
    let expires = Some(expires_at.timestamp());
    store
        .transact(vec![
            crate::ports::Write::Check { key: tenant_key(tenant_id), condition: Condition::Exists },
            crate::ports::Write::Put {
                item: Item::new(admin_token_key(&hash), encode_item(&info)?, expires),
                condition: Condition::Always,
            },
            crate::ports::Write::Put {
                item: Item::new(admin_token_index(tenant_id, token_id), encode_item(&info)?, expires),
                condition: Condition::Always,
            },
        ])
        .await?;
    Ok(info)
}

/// The admin tokens of a tenant.
pub async fn list_admin_tokens(store: &dyn Store, tenant_id: &str) -> Result<Vec<AdminTokenInfo>, StoreError> {
    store
        .query(&format!("TENANT#{tenant_id}"), "ADMINTOKEN#", false, 10_000)
        .await?
        .into_iter()
        .map(decode_item)
        .collect()
}

/// Revokes an admin token by its id; `ConditionFailed` if unknown.
pub async fn revoke_admin_token(store: &dyn Store, tenant_id: &str, token_id: &str) -> Result<(), StoreError> {
    let index =
        store.get(&admin_token_index(tenant_id, token_id)).await?.ok_or(StoreError::ConditionFailed { index: 0 })?;
    let mut info: AdminTokenInfo = decode_item(index)?;
    info.revoked = true;
    let expires = Some(info.expires_at.timestamp());
    store
        .transact(vec![
            crate::ports::Write::Put {
                item: Item::new(admin_token_key(&info.hash), encode_item(&info)?, expires),
                condition: Condition::Exists,
            },
            crate::ports::Write::Put {
                item: Item::new(admin_token_index(tenant_id, token_id), encode_item(&info)?, expires),
                condition: Condition::Exists,
            },
        ])
        .await
}

/// The live, unrevoked admin token `token`, if any.
pub async fn find_admin_token(store: &dyn Store, token: &str) -> Result<Option<AdminTokenInfo>, StoreError> {
    let hash = hex::encode(Sha256::digest(token.as_bytes()));
    let Some(item) = store.get(&admin_token_key(&hash)).await? else { return Ok(None) };
    let info: AdminTokenInfo = decode_item(item)?;
    Ok(Some(info).filter(|i| !i.revoked))
}
