//! The clients of a tenant: registered by the operator CLI (`registrar-admin
//! client …`) or, locally, from `REGISTRAR_OAUTH_CLIENTS`; their redirect
//! URIs; and client authentication at the token and revocation endpoints
//! (public clients name themselves, confidential ones prove their secret
//! with HTTP Basic).

use chrono::{DateTime, Utc};
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::{Client, OAuthError};
use crate::domain::tenant::Tenant;
use crate::ports::{Condition, Random, Store, StoreError, Write};
use crate::table::{
    self, ClientIndexEntry, ClientRecord, Record, client_index_key, client_key, clients_of, oauth_hash, tenant_key,
};

/// A confidential client's secret, shown once when it is made (only its
/// SHA-256 is stored). Never printed by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientSecret(String);

impl ClientSecret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClientSecret(..)")
    }
}

/// Why a client could not be registered, changed or removed (CLI).
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{0}")]
    Invalid(String),
    #[error("no tenant {0}")]
    NoTenant(String),
    #[error("client id {0} is taken")]
    Taken(String),
    #[error("no client {0} in tenant {1}")]
    NotFound(String, String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A client to register.
#[derive(Clone, Debug)]
pub struct ClientDraft {
    /// `None`: a new one (`cli_…`).
    pub client_id: Option<String>,
    pub tenant_id: String,
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub public: bool,
}

/// A client of the local sandbox tenant (`REGISTRAR_OAUTH_CLIENTS`, a JSON
/// list of these).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalClient {
    pub client_id: String,
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// `true` (the default): no secret, PKCE alone.
    #[serde(default = "yes")]
    pub public: bool,
    /// A confidential client's secret (at least 32 characters).
    #[serde(default)]
    pub client_secret: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

fn yes() -> bool {
    true
}

/// A client id: 1–128 of `A–Z a–z 0–9 . _ ~ -` (what needs no escaping
/// in a URL or in HTTP Basic).
pub fn check_client_id(id: &str) -> Result<(), String> {
    let ok = (1..=128).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'~' | b'-'));
    if ok { Ok(()) } else { Err(format!("client id {id:?}: 1–128 letters, digits, '.', '_', '~' or '-'")) }
}

/// A redirect URI a client may register: an absolute `https` URI, or
/// `http` only to the loopback host (`localhost`, `127.0.0.1`, `[::1]`:
/// native and development apps, RFC 8252 §7.3); no fragment (RFC 6749
/// §3.1.2), no user info, nothing a header could not carry.
pub fn check_redirect_uri(uri: &str) -> Result<(), String> {
    let refuse = |why: &str| Err(format!("redirect URI {uri:?}: {why}"));
    if uri.len() > 2000 || uri.bytes().any(|b| !(0x21..0x7f).contains(&b)) {
        return refuse("at most 2000 visible ASCII characters, no spaces");
    }
    if uri.contains('#') {
        return refuse("no fragment");
    }
    let Ok(parsed) = uri.parse::<::http::Uri>() else {
        return refuse("not an absolute URI");
    };
    let (Some(scheme), Some(authority)) = (parsed.scheme_str(), parsed.authority()) else {
        return refuse("not an absolute URI");
    };
    if authority.as_str().contains('@') {
        return refuse("no user info");
    }
    let host = authority.host().to_ascii_lowercase();
    if host.is_empty() {
        return refuse("no host");
    }
    match scheme {
        "https" => Ok(()),
        "http" if matches!(host.as_str(), "localhost" | "127.0.0.1" | "[::1]") => Ok(()),
        "http" => refuse("http only to localhost, 127.0.0.1 or [::1]; use https"),
        _ => refuse("https (or http to the loopback host)"),
    }
}

fn check_draft(name: &str, redirect_uris: &[String], post_logout: &[String]) -> Result<(), ClientError> {
    if name.trim().is_empty() || name.chars().count() > 100 {
        return Err(ClientError::Invalid("a client's name is 1–100 characters".into()));
    }
    if redirect_uris.is_empty() {
        return Err(ClientError::Invalid("a client needs at least one redirect URI".into()));
    }
    if redirect_uris.len() + post_logout.len() > 50 {
        return Err(ClientError::Invalid("at most 50 redirect URIs in all".into()));
    }
    for uri in redirect_uris.iter().chain(post_logout) {
        check_redirect_uri(uri).map_err(ClientError::Invalid)?;
    }
    Ok(())
}

fn client_of(record: ClientRecord) -> (Client, Option<String>) {
    let ClientRecord {
        client_id,
        tenant_id,
        name,
        redirect_uris,
        post_logout_redirect_uris,
        public,
        secret_hash,
        created_at: _,
    } = record;
    (Client { client_id, tenant_id, name, redirect_uris, post_logout_redirect_uris, public }, secret_hash)
}

fn new_secret(random: &dyn Random) -> ClientSecret {
    use base64::Engine;
    let mut bytes = [0u8; 32];
    random.fill(&mut bytes);
    ClientSecret(format!("cs_{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)))
}

/// Registers a client with its tenant; a confidential one gets a new
/// secret (returned once). The client id is globally unique.
pub async fn register(
    store: &dyn Store,
    random: &dyn Random,
    now: DateTime<Utc>,
    draft: ClientDraft,
) -> Result<(Client, Option<ClientSecret>), ClientError> {
    let secret = (!draft.public).then(|| new_secret(random));
    let client_id = match draft.client_id {
        Some(id) => id,
        None => {
            let mut bytes = [0u8; 16];
            random.fill(&mut bytes);
            format!("cli_{}", hex::encode(bytes))
        }
    };
    check_client_id(&client_id).map_err(ClientError::Invalid)?;
    check_draft(&draft.name, &draft.redirect_uris, &draft.post_logout_redirect_uris)?;
    let record = ClientRecord {
        client_id: client_id.clone(),
        tenant_id: draft.tenant_id.clone(),
        name: draft.name,
        redirect_uris: draft.redirect_uris,
        post_logout_redirect_uris: draft.post_logout_redirect_uris,
        public: draft.public,
        secret_hash: secret.as_ref().map(|s| oauth_hash(s.expose())),
        created_at: now,
    };
    let index = ClientIndexEntry { client_id: client_id.clone(), tenant_id: draft.tenant_id.clone() };
    let writes = vec![
        Write::Check { key: tenant_key(&draft.tenant_id), condition: Condition::Exists },
        record.put(Condition::NotExists)?,
        index.put(Condition::NotExists)?,
    ];
    match table::commit(store, writes).await {
        Ok(()) => Ok((client_of(record).0, secret)),
        Err(table::Failed::Condition(table::Kind::Tenant)) => Err(ClientError::NoTenant(draft.tenant_id)),
        Err(table::Failed::Condition(_)) => Err(ClientError::Taken(client_id)),
        Err(table::Failed::Unavailable(reason)) => Err(ClientError::Store(StoreError::Unavailable(reason))),
    }
}

/// The clients of a tenant, by client id.
pub async fn list(store: &dyn Store, tenant_id: &str) -> Result<Vec<Client>, StoreError> {
    let (pk, prefix) = clients_of(tenant_id);
    let entries: Vec<ClientIndexEntry> =
        store.query_all(&pk, prefix).await?.into_iter().map(table::decode).collect::<Result<_, _>>()?;
    let mut clients = Vec::new();
    for chunk in entries.chunks(100) {
        let keys: Vec<_> = chunk.iter().map(|e| client_key(&e.client_id)).collect();
        for item in store.get_many(&keys).await?.into_iter().flatten() {
            let record: ClientRecord = table::decode(item)?;
            if record.tenant_id == tenant_id {
                clients.push(client_of(record).0);
            }
        }
    }
    clients.sort_by(|a, b| a.client_id.cmp(&b.client_id));
    Ok(clients)
}

/// What `client update` changes (`None`: as it is).
#[derive(Clone, Debug, Default)]
pub struct ClientChanges {
    pub name: Option<String>,
    pub redirect_uris: Option<Vec<String>>,
    pub post_logout_redirect_uris: Option<Vec<String>>,
    /// A confidential client gets a new secret (the old one stops working).
    pub new_secret: bool,
}

/// Changes a client of `tenant_id`; returns it (and its new secret, when
/// one was asked for).
pub async fn update(
    store: &dyn Store,
    random: &dyn Random,
    tenant_id: &str,
    client_id: &str,
    changes: ClientChanges,
) -> Result<(Client, Option<ClientSecret>), ClientError> {
    let not_found = || ClientError::NotFound(client_id.to_owned(), tenant_id.to_owned());
    let (mut record, version) =
        table::get::<ClientRecord>(store, &client_key(client_id)).await?.ok_or_else(not_found)?;
    if record.tenant_id != tenant_id {
        return Err(not_found());
    }
    if let Some(name) = changes.name {
        record.name = name;
    }
    if let Some(uris) = changes.redirect_uris {
        record.redirect_uris = uris;
    }
    if let Some(uris) = changes.post_logout_redirect_uris {
        record.post_logout_redirect_uris = uris;
    }
    check_draft(&record.name, &record.redirect_uris, &record.post_logout_redirect_uris)?;
    let secret = match (changes.new_secret, record.public) {
        (false, _) => None,
        (true, true) => return Err(ClientError::Invalid("a public client has no secret".into())),
        (true, false) => Some(new_secret(random)),
    };
    if let Some(secret) = &secret {
        record.secret_hash = Some(oauth_hash(secret.expose()));
    }
    store.put(record.item()?, Condition::Version(version)).await.map_err(|err| match err {
        StoreError::ConditionFailed { .. } => ClientError::Invalid("the client changed meanwhile; try again".into()),
        other => ClientError::Store(other),
    })?;
    Ok((client_of(record).0, secret))
}

/// Removes a client of `tenant_id`: its codes and refresh tokens stop
/// working (the token endpoint finds no client).
pub async fn delete(store: &dyn Store, tenant_id: &str, client_id: &str) -> Result<(), ClientError> {
    let not_found = || ClientError::NotFound(client_id.to_owned(), tenant_id.to_owned());
    let (record, version) = table::get::<ClientRecord>(store, &client_key(client_id)).await?.ok_or_else(not_found)?;
    if record.tenant_id != tenant_id {
        return Err(not_found());
    }
    let writes = vec![
        Write::Delete { key: client_key(client_id), condition: Condition::Version(version) },
        Write::Delete { key: client_index_key(tenant_id, client_id), condition: Condition::Always },
    ];
    match table::commit(store, writes).await {
        Ok(()) => Ok(()),
        Err(table::Failed::Condition(_)) => Err(not_found()),
        Err(table::Failed::Unavailable(reason)) => Err(ClientError::Store(StoreError::Unavailable(reason))),
    }
}

/// Registers (or replaces) the local sandbox tenant's clients.
pub async fn seed_local(
    store: &dyn Store,
    tenant_id: &str,
    now: DateTime<Utc>,
    clients: &[LocalClient],
) -> Result<(), ClientError> {
    for local in clients {
        check_client_id(&local.client_id).map_err(ClientError::Invalid)?;
        let name = local.name.clone().unwrap_or_else(|| local.client_id.clone());
        check_draft(&name, &local.redirect_uris, &local.post_logout_redirect_uris)?;
        let secret_hash = match (local.public, &local.client_secret) {
            (true, None) => None,
            (true, Some(_)) => {
                return Err(ClientError::Invalid(format!("{}: a public client has no client_secret", local.client_id)));
            }
            (false, Some(secret)) if secret.len() >= 32 => Some(oauth_hash(secret)),
            (false, _) => {
                return Err(ClientError::Invalid(format!(
                    "{}: a confidential client needs a client_secret of at least 32 characters",
                    local.client_id
                )));
            }
        };
        let record = ClientRecord {
            client_id: local.client_id.clone(),
            tenant_id: tenant_id.to_owned(),
            name,
            redirect_uris: local.redirect_uris.clone(),
            post_logout_redirect_uris: local.post_logout_redirect_uris.clone(),
            public: local.public,
            secret_hash,
            created_at: now,
        };
        let index = ClientIndexEntry { client_id: local.client_id.clone(), tenant_id: tenant_id.to_owned() };
        table::commit(store, vec![record.put(Condition::Always)?, index.put(Condition::Always)?])
            .await
            .map_err(|e| ClientError::Store(StoreError::Unavailable(e.to_string())))?;
    }
    Ok(())
}

/// The client `client_id`, its tenant and its secret's hash.
pub async fn find(store: &dyn Store, client_id: &str) -> Result<Option<(Client, Tenant, Option<String>)>, StoreError> {
    if check_client_id(client_id).is_err() {
        return Ok(None);
    }
    let Some((record, _)) = table::get::<ClientRecord>(store, &client_key(client_id)).await? else {
        return Ok(None);
    };
    let Some(tenant) = crate::domain::tenant::get_tenant(store, &record.tenant_id).await? else {
        return Ok(None);
    };
    let (client, secret_hash) = client_of(record);
    Ok(Some((client, tenant, secret_hash)))
}

/// How a request to the token or revocation endpoint names its client:
/// `client_id` in the form (public clients) and/or HTTP Basic
/// (`client_secret_basic`: id and secret form-urlencoded, RFC 6749
/// §2.3.1; already decoded here).
#[derive(Clone, Debug, Default)]
pub struct ClientCredentials {
    pub form_client_id: Option<String>,
    pub basic: Option<(String, ClientSecret)>,
}

impl ClientCredentials {
    /// Credentials from HTTP Basic's decoded id and secret.
    pub fn basic(id: String, secret: String) -> (String, ClientSecret) {
        (id, ClientSecret(secret))
    }
}

/// The client a request authenticates as, and its tenant. A public client
/// names itself (`client_id`) and presents no secret; a confidential one
/// presents its secret with HTTP Basic (compared in constant time). Any
/// other combination is `invalid_client`.
pub async fn authenticate_client(
    store: &dyn Store,
    credentials: &ClientCredentials,
) -> Result<(Client, Tenant), OAuthError> {
    match &credentials.basic {
        Some((id, secret)) => {
            if credentials.form_client_id.as_ref().is_some_and(|form| form != id) {
                return Err(OAuthError::InvalidClient);
            }
            let presented = oauth_hash(secret.expose());
            let Some((client, tenant, Some(stored))) = find(store, id).await? else {
                return Err(OAuthError::InvalidClient);
            };
            if client.public || !bool::from(presented.as_bytes().ct_eq(stored.as_bytes())) {
                return Err(OAuthError::InvalidClient);
            }
            Ok((client, tenant))
        }
        None => {
            let id = credentials.form_client_id.as_deref().ok_or(OAuthError::InvalidClient)?;
            match find(store, id).await? {
                Some((client, tenant, _)) if client.public => Ok((client, tenant)),
                _ => Err(OAuthError::InvalidClient),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris_are_https_or_loopback_http_without_fragments() {
        for good in [
            "https://app.example.com/callback",
            "https://app.example.com:8443/cb?x=1",
            "http://localhost:5173/callback",
            "http://127.0.0.1/cb",
            "http://[::1]:8080/cb",
            "https://example.com/callback",
        ] {
            assert!(check_redirect_uri(good).is_ok(), "{good}");
        }
        for bad in [
            "http://app.example.com/callback",
            "https://app.example.com/cb#frag",
            "ftp://example.com/cb",
            "/relative/cb",
            "https://user@example.com/cb",
            "https://exa mple.com/cb",
            "javascript:alert(1)",
            "http://localhost.evil.com/cb",
            "",
        ] {
            assert!(check_redirect_uri(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn client_ids_need_no_escaping() {
        assert!(check_client_id("my-app_1.0~x").is_ok());
        assert!(check_client_id("").is_err());
        assert!(check_client_id("a:b").is_err());
        assert!(check_client_id(&"a".repeat(129)).is_err());
    }

    #[test]
    fn secrets_never_print() {
        let secret = ClientSecret("cs_topsecretvalue".into());
        assert!(!format!("{secret:?}").contains("topsecret"));
    }
}
