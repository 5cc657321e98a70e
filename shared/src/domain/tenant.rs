//! Tenants (a program or a partner's app), their policy and their API keys.

pub use super::policy::*;
use crate::ports::{Condition, Store, StoreError, Write};
use crate::table::TenantIndexEntry;
use crate::table::{
    self, Record, TENANT_PREFIX, TENANTS_PK, admin_token_index, admin_token_infos, admin_token_key, api_key_info_key,
    api_key_infos, api_key_key, secret_hash, tenant_key,
};
pub use crate::table::{AdminTokenInfo, ApiKeyGrant, ApiKeyInfo, Tenant};

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
    /// Forgets every answer (after this instance changed a tenant).
    pub fn clear(&self) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// [`tenant_for_api_key`], answered from memory while fresh.
    pub async fn tenant_for_api_key(
        &self,
        store: &dyn Store,
        now: i64,
        ttl_secs: i64,
        api_key: &str,
    ) -> Result<Option<(Tenant, ApiKeyGrant)>, StoreError> {
        let digest = secret_hash(api_key);
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
    store.transact(vec![tenant.put(Condition::Always)?, tenant.index_put()?]).await
}

/// Stores an API key for a tenant (hashed).
pub async fn save_api_key(store: &dyn Store, api_key: &str, grant: &ApiKeyGrant) -> Result<(), StoreError> {
    store.put(grant.item(&secret_hash(api_key))?, Condition::Always).await
}

/// The tenant an API key belongs to, if the key is known and not revoked.
pub async fn tenant_for_api_key(store: &dyn Store, api_key: &str) -> Result<Option<(Tenant, ApiKeyGrant)>, StoreError> {
    let Some((grant, _)) = table::get::<ApiKeyGrant>(store, &api_key_key(api_key)).await? else {
        return Ok(None);
    };
    if grant.revoked {
        return Ok(None);
    }
    Ok(get_tenant(store, &grant.tenant_id).await?.map(|tenant| (tenant, grant)))
}

/// Every origin any tenant allows. A CORS preflight carries no API key, so
/// it cannot name its tenant: it is answered for this union, and the actual
/// answer decides per tenant.
pub async fn all_cors_origins(store: &dyn Store) -> Result<std::collections::BTreeSet<String>, StoreError> {
    let mut origins = std::collections::BTreeSet::new();
    for entry in store.query_all(TENANTS_PK, TENANT_PREFIX).await? {
        let entry: TenantIndexEntry = table::decode(entry)?;
        match entry.cors_origins {
            Some(listed) => origins.extend(listed),
            // An entry written before the origins were listed in it.
            None => {
                if let Some(tenant) = get_tenant(store, &entry.id).await? {
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
    store.transact(vec![tenant.put(Condition::NotExists)?, tenant.index_put()?]).await
}

/// A tenant by id.
pub async fn get_tenant(store: &dyn Store, id: &str) -> Result<Option<Tenant>, StoreError> {
    Ok(table::get(store, &tenant_key(id)).await?.map(|(tenant, _)| tenant))
}

/// Every tenant, by id.
pub async fn list_tenants(store: &dyn Store) -> Result<Vec<Tenant>, StoreError> {
    let mut tenants = Vec::new();
    for entry in store.query_all(TENANTS_PK, TENANT_PREFIX).await? {
        let entry: TenantIndexEntry = table::decode(entry)?;
        if let Some(tenant) = get_tenant(store, &entry.id).await? {
            tenants.push(tenant);
        }
    }
    Ok(tenants)
}

/// Replaces a tenant's policy; fails with `ConditionFailed` if it does not exist.
pub async fn set_policy(store: &dyn Store, id: &str, policy: Policy) -> Result<Tenant, StoreError> {
    let (mut tenant, version) =
        table::get::<Tenant>(store, &tenant_key(id)).await?.ok_or(StoreError::ConditionFailed { index: 0 })?;
    tenant.policy = policy;
    store.transact(vec![tenant.put(Condition::Version(version))?, tenant.index_put()?]).await?;
    Ok(tenant)
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
    let hash = secret_hash(&api_key);
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
            Write::Check { key: tenant_key(tenant_id), condition: Condition::Exists },
            grant.put(&info.hash, Condition::NotExists)?,
            info.put(Condition::NotExists)?,
        ])
        .await?;
    Ok((info, api_key))
}

/// The API keys of a tenant.
pub async fn list_api_keys(store: &dyn Store, tenant_id: &str) -> Result<Vec<ApiKeyInfo>, StoreError> {
    let (pk, prefix) = api_key_infos(tenant_id);
    store.query_all(&pk, prefix).await?.into_iter().map(table::decode).collect()
}

/// Revokes an API key by its id; `ConditionFailed` if unknown.
pub async fn revoke_api_key(store: &dyn Store, tenant_id: &str, key_id: &str) -> Result<(), StoreError> {
    let (mut info, _) = table::get::<ApiKeyInfo>(store, &api_key_info_key(tenant_id, key_id))
        .await?
        .ok_or(StoreError::ConditionFailed { index: 0 })?;
    info.revoked = true;
    let grant = ApiKeyGrant { tenant_id: tenant_id.to_owned(), partner_id: info.partner_id.clone(), revoked: true };
    store.transact(vec![grant.put(&info.hash, Condition::Exists)?, info.put(Condition::Exists)?]).await
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
    let hash = secret_hash(token);
    let info = AdminTokenInfo {
        token_id: token_id.to_owned(),
        tenant_id: tenant_id.to_owned(),
        created_at: now,
        expires_at,
        revoked: false,
        hash: hash.clone(),
    };
    let [by_hash, by_tenant] = info.puts(Condition::Always)?;
    store
        .transact(vec![Write::Check { key: tenant_key(tenant_id), condition: Condition::Exists }, by_hash, by_tenant])
        .await?;
    Ok(info)
}

/// The admin tokens of a tenant.
pub async fn list_admin_tokens(store: &dyn Store, tenant_id: &str) -> Result<Vec<AdminTokenInfo>, StoreError> {
    let (pk, prefix) = admin_token_infos(tenant_id);
    store.query_all(&pk, prefix).await?.into_iter().map(table::decode).collect()
}

/// Revokes an admin token by its id; `ConditionFailed` if unknown.
pub async fn revoke_admin_token(store: &dyn Store, tenant_id: &str, token_id: &str) -> Result<(), StoreError> {
    let (mut info, _) = table::get::<AdminTokenInfo>(store, &admin_token_index(tenant_id, token_id))
        .await?
        .ok_or(StoreError::ConditionFailed { index: 0 })?;
    info.revoked = true;
    store.transact(info.puts(Condition::Exists)?.into()).await
}

/// The live, unrevoked admin token `token`, if any.
pub async fn find_admin_token(store: &dyn Store, token: &str) -> Result<Option<AdminTokenInfo>, StoreError> {
    let found = table::get::<AdminTokenInfo>(store, &admin_token_key(&secret_hash(token))).await?;
    Ok(found.map(|(info, _)| info).filter(|i| !i.revoked))
}
