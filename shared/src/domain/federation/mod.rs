//! Registrar as the relying party of other identity providers (SPEC §14,
//! docs/identity-providers.md): a provider's discovery and keys (cached per
//! warm instance), the authorization request Registrar sends it, the code
//! exchanged at its token endpoint (Apple's ES256 client secret included),
//! and its ID token checked: signature, `iss`, `aud`, `exp`, `nonce`.
//! [`identities`] decides whose an identity is; `auth::with_provider` signs
//! the user in.

pub mod identities;

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::error::Error;
use super::policy::{APPLE_ISSUER, GOOGLE_ISSUER, IdentityProvider, ProviderKind};
use super::tenant::Tenant;
use super::values::EmailAddress;
use crate::app::App;
use crate::ports::ProviderError;

/// How long a warm instance trusts a provider's discovery and keys.
const METADATA_TTL_SECS: i64 = 3600;
/// A token naming a key not in hand fetches the keys again at most this often.
const UNKNOWN_KID_REFETCH_SECS: i64 = 60;
/// The clock skew allowed on an ID token's `exp` and `iat`.
const LEEWAY_SECS: i64 = 60;
/// The lifetime of the client secret Registrar signs for Apple.
const APPLE_SECRET_SECS: i64 = 300;

/// The tenant's provider `id`.
pub fn provider<'t>(tenant: &'t Tenant, id: &str) -> Result<&'t IdentityProvider, Error> {
    tenant.policy.identity_providers.iter().find(|p| p.id == id).ok_or(Error::ProviderNotFound)
}

/// What Registrar uses of a provider's discovery document.
#[derive(Clone, Debug)]
pub struct Metadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    /// `client_secret_post` where the provider takes only that.
    pub secret_in_body: bool,
}

struct Cached {
    metadata: Metadata,
    keys: JwkSet,
    fetched_at: i64,
    keys_forced_at: i64,
}

/// Discovery and keys by issuer, per warm instance.
static CACHE: LazyLock<Mutex<HashMap<String, Cached>>> = LazyLock::new(|| Mutex::new(HashMap::new()));

fn unavailable(err: ProviderError) -> Error {
    Error::Unavailable { reason: err.to_string(), registration_id: None }
}

fn cache() -> std::sync::MutexGuard<'static, HashMap<String, Cached>> {
    CACHE.lock().unwrap_or_else(|e| e.into_inner())
}

/// An endpoint of the discovery document: https, or http to a loopback
/// host where the issuer is one (local runs and tests).
fn endpoint(document: &Value, name: &str, issuer: &str) -> Result<String, Error> {
    let url = document[name].as_str().unwrap_or_default();
    let ok = url.starts_with("https://") || (issuer.starts_with("http://") && super::policy::is_loopback_http(url));
    if ok && url.parse::<http::Uri>().is_ok() {
        Ok(url.to_owned())
    } else {
        Err(Error::Unavailable { reason: format!("{issuer}: discovery has no usable {name}"), registration_id: None })
    }
}

/// Fetches the discovery document and keys of `provider`.
async fn fetch(app: &App, provider: &IdentityProvider) -> Result<Cached, Error> {
    let issuer = provider.issuer();
    let url = format!("{issuer}/.well-known/openid-configuration");
    let document = app.providers.get_json(&url).await.map_err(unavailable)?;
    let named = document["issuer"].as_str().unwrap_or_default().trim_end_matches('/');
    // OpenID Connect Discovery §4.3: the document names the issuer it was
    // fetched for (Microsoft's multi-organisation issuer is a template).
    let template = provider.kind == ProviderKind::Microsoft && named.contains("{tenantid}");
    if named != issuer && !template {
        return Err(Error::Unavailable {
            reason: format!("{url} names the issuer {named:?}, not {issuer:?}"),
            registration_id: None,
        });
    }
    let methods: Vec<&str> = document["token_endpoint_auth_methods_supported"]
        .as_array()
        .map(|list| list.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let secret_in_body = provider.kind == ProviderKind::Apple
        || (!methods.is_empty()
            && !methods.contains(&"client_secret_basic")
            && methods.contains(&"client_secret_post"));
    let metadata = Metadata {
        issuer: named.to_owned(),
        authorization_endpoint: endpoint(&document, "authorization_endpoint", issuer)?,
        token_endpoint: endpoint(&document, "token_endpoint", issuer)?,
        jwks_uri: endpoint(&document, "jwks_uri", issuer)?,
        secret_in_body,
    };
    let keys = fetch_keys(app, &metadata.jwks_uri).await?;
    let now = app.clock.now().timestamp();
    Ok(Cached { metadata, keys, fetched_at: now, keys_forced_at: now })
}

async fn fetch_keys(app: &App, jwks_uri: &str) -> Result<JwkSet, Error> {
    let document = app.providers.get_json(jwks_uri).await.map_err(unavailable)?;
    serde_json::from_value(document)
        .map_err(|e| Error::Unavailable { reason: format!("{jwks_uri}: not a JWKS: {e}"), registration_id: None })
}

/// The provider's metadata (cached for an hour per warm instance).
pub async fn metadata(app: &App, provider: &IdentityProvider) -> Result<Metadata, Error> {
    let now = app.clock.now().timestamp();
    if let Some(cached) = cache().get(provider.issuer())
        && now - cached.fetched_at < METADATA_TTL_SECS
    {
        return Ok(cached.metadata.clone());
    }
    let fetched = fetch(app, provider).await?;
    let metadata = fetched.metadata.clone();
    cache().insert(provider.issuer().to_owned(), fetched);
    Ok(metadata)
}

/// The key `kid` of the provider (the keys fetched again, at most once a
/// minute, when it is not in hand: a provider rotating its keys).
async fn key(app: &App, provider: &IdentityProvider, kid: Option<&str>) -> Result<jsonwebtoken::jwk::Jwk, Error> {
    let find = |keys: &JwkSet| match kid {
        Some(kid) => keys.find(kid).cloned(),
        None if keys.keys.len() == 1 => keys.keys.first().cloned(),
        None => None,
    };
    let metadata = metadata(app, provider).await?;
    if let Some(found) = cache().get(provider.issuer()).and_then(|cached| find(&cached.keys)) {
        return Ok(found);
    }
    let now = app.clock.now().timestamp();
    // At most once a minute, whether the fetch succeeds or not (counted
    // before it: many tokens naming unknown keys at once fetch once).
    let due = match cache().get_mut(provider.issuer()) {
        Some(cached) if now - cached.keys_forced_at >= UNKNOWN_KID_REFETCH_SECS => {
            cached.keys_forced_at = now;
            true
        }
        Some(_) => false,
        None => true,
    };
    if !due {
        return Err(Error::InvalidIdToken);
    }
    let keys = fetch_keys(app, &metadata.jwks_uri).await?;
    let found = find(&keys);
    if let Some(cached) = cache().get_mut(provider.issuer()) {
        cached.keys = keys;
    }
    found.ok_or(Error::InvalidIdToken)
}

/// Who the provider says the user is, from a checked ID token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProvenIdentity {
    /// The tenant's provider id.
    pub provider: String,
    pub issuer: String,
    pub subject: String,
    /// The address, when the provider gave one.
    pub email: Option<EmailAddress>,
    /// Whether the provider says it verified the address.
    pub email_verified: bool,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    /// The token's `exp` (epoch seconds).
    pub expires_at: i64,
}

/// A string claim, trimmed, at most 200 characters.
fn text(claims: &serde_json::Map<String, Value>, name: &str) -> Option<String> {
    let value = claims.get(name)?.as_str()?.trim();
    (!value.is_empty() && value.chars().count() <= 200).then(|| value.to_owned())
}

/// Checks an ID token of `provider`: its signature by a key of the
/// provider's JWKS (RS256/ES256 and their kin; never `none` or a shared
/// secret), `iss`, `aud` (Registrar's client id, or one of the provider's
/// `audiences` when `native`), `exp` and `iat` against the app's clock,
/// and `nonce` when one was sent (or given).
pub async fn verify_id_token(
    app: &App,
    provider: &IdentityProvider,
    token: &str,
    nonce: Option<&str>,
    native: bool,
) -> Result<ProvenIdentity, Error> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| Error::InvalidIdToken)?;
    let allowed = [
        Algorithm::RS256,
        Algorithm::RS384,
        Algorithm::RS512,
        Algorithm::PS256,
        Algorithm::PS384,
        Algorithm::PS512,
        Algorithm::ES256,
        Algorithm::ES384,
    ];
    if !allowed.contains(&header.alg) {
        return Err(Error::InvalidIdToken);
    }
    let jwk = key(app, provider, header.kid.as_deref()).await?;
    let decoding = DecodingKey::from_jwk(&jwk).map_err(|_| Error::InvalidIdToken)?;
    let mut audiences = vec![provider.client_id.as_str()];
    if native {
        audiences.extend(provider.audiences.iter().map(String::as_str));
    }
    let mut validation = Validation::new(header.alg);
    validation.set_audience(&audiences);
    validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
    // Time and issuer are checked below (the app's clock; Google's two
    // spellings, Microsoft's template).
    validation.validate_exp = false;
    validation.leeway = 0;
    let claims = jsonwebtoken::decode::<serde_json::Map<String, Value>>(token, &decoding, &validation)
        .map_err(|_| Error::InvalidIdToken)?
        .claims;
    let metadata = metadata(app, provider).await?;
    // A trailing slash is the same issuer (as the discovery's is read).
    let issuer = text(&claims, "iss").unwrap_or_default().trim_end_matches('/').to_owned();
    let expected = match text(&claims, "tid") {
        Some(tid) if metadata.issuer.contains("{tenantid}") => metadata.issuer.replace("{tenantid}", &tid),
        _ => metadata.issuer.clone(),
    };
    let issuer_ok = issuer == expected
        || (provider.kind == ProviderKind::Google && issuer == GOOGLE_ISSUER.trim_start_matches("https://"));
    let now = app.clock.now().timestamp();
    let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
    let iat = claims.get("iat").and_then(Value::as_i64).unwrap_or(i64::MAX);
    let nonce_ok = match nonce {
        Some(nonce) => claims.get("nonce").and_then(Value::as_str).is_some_and(|n| {
            // A platform SDK may put the SHA-256 of the app's nonce in the token.
            n == nonce || n == hex::encode(Sha256::digest(nonce.as_bytes()))
        }),
        // A token that carries a nonce is checked against one, always.
        None => !claims.contains_key("nonce"),
    };
    // A token for several audiences must name Registrar as the one it is for.
    let azp_ok = match (claims.get("aud"), text(&claims, "azp")) {
        (Some(Value::Array(list)), azp) if list.len() > 1 => azp.is_some_and(|azp| audiences.contains(&azp.as_str())),
        _ => true,
    };
    if !issuer_ok || exp + LEEWAY_SECS <= now || iat > now + LEEWAY_SECS || !nonce_ok || !azp_ok {
        return Err(Error::InvalidIdToken);
    }
    let subject = text(&claims, "sub").ok_or(Error::InvalidIdToken)?;
    let raw_email = text(&claims, "email");
    let email = raw_email.as_deref().and_then(|e| EmailAddress::parse(e).ok());
    // Apple sends `"true"` as a string. And the address verified is the one
    // stored: not when parsing changed more than its ASCII case (Unicode
    // folding would turn another address into an existing account's).
    let same = match (&raw_email, &email) {
        (Some(raw), Some(parsed)) => raw.to_ascii_lowercase() == parsed.as_str(),
        _ => false,
    };
    let email_verified = same
        && match claims.get("email_verified") {
            Some(Value::Bool(yes)) => *yes,
            Some(Value::String(text)) => text == "true",
            _ => false,
        };
    Ok(ProvenIdentity {
        provider: provider.id.clone(),
        issuer: metadata.issuer.replace("{tenantid}", &text(&claims, "tid").unwrap_or_default()),
        subject,
        email,
        email_verified,
        given_name: text(&claims, "given_name"),
        family_name: text(&claims, "family_name"),
        expires_at: exp,
    })
}

/// Spends an ID token presented to the API (`POST /v1/auth/federated/
/// token`, `POST /v1/me/identities/{provider}`): each is taken once, so a
/// token seen elsewhere (forwarded to another backend, logged) signs no one
/// in and links nothing after its first use. The record lives until the
/// token expires (plus the skew allowed).
pub async fn spend(app: &App, id_token: &str, identity: &ProvenIdentity) -> Result<(), Error> {
    let record = crate::table::UsedIdToken {
        hash: crate::table::id_token_hash(id_token),
        expires_at: identity.expires_at + LEEWAY_SECS,
    };
    let write = crate::table::Record::put(&record, crate::ports::Condition::NotExists)?;
    match crate::table::commit(app.store.as_ref(), vec![write]).await {
        Ok(()) => Ok(()),
        Err(crate::table::Failed::Condition(_)) => Err(Error::InvalidIdToken),
        Err(err) => Err(err.into()),
    }
}

/// Registrar's client secret at `provider`: the one given inline (local
/// runs), or the Secrets Manager secret's (read once per warm instance);
/// for Apple, an ES256 JWT signed now with that key.
async fn client_secret(app: &App, provider: &IdentityProvider) -> Result<String, Error> {
    let stored = match (&provider.client_secret, &provider.client_secret_name) {
        (Some(secret), _) => secret.clone(),
        (None, Some(name)) => app.providers.secret(name).await.map_err(unavailable)?,
        (None, None) => return Err(missing_secret(provider)),
    };
    if provider.kind != ProviderKind::Apple {
        return Ok(stored);
    }
    let key = EncodingKey::from_ec_pem(stored.as_bytes()).map_err(|_| missing_secret(provider))?;
    let mut header = Header::new(Algorithm::ES256);
    header.kid = provider.key_id.clone();
    let now = app.clock.now().timestamp();
    let claims = serde_json::json!({
        "iss": provider.team_id,
        "iat": now,
        "exp": now + APPLE_SECRET_SECS,
        "aud": APPLE_ISSUER,
        "sub": provider.client_id,
    });
    jsonwebtoken::encode(&header, &claims, &key).map_err(|_| missing_secret(provider))
}

fn missing_secret(provider: &IdentityProvider) -> Error {
    Error::Unavailable {
        reason: format!("identity provider {}: no usable client secret", provider.id),
        registration_id: None,
    }
}

/// What Registrar sends a browser to the provider with: the URL, and what
/// its answer is checked against.
pub struct Authorization {
    pub url: String,
    pub state: String,
    pub nonce: String,
    pub code_verifier: String,
}

/// Registrar's redirect URI at every provider.
pub fn redirect_uri(app: &App) -> String {
    format!("{}/oauth2/idpresponse", app.settings.issuer.trim_end_matches('/'))
}

/// The authorization request to `provider`: code flow, PKCE S256, a fresh
/// `state` and `nonce`; Apple's answer as a form post (it posts its
/// answer whenever e-mail or name are asked for).
pub async fn authorization(
    app: &App,
    provider: &IdentityProvider,
    login_hint: Option<&str>,
) -> Result<Authorization, Error> {
    let metadata = metadata(app, provider).await?;
    let state = app.random_token(32);
    let nonce = app.random_token(32);
    let code_verifier = app.random_token(32);
    let challenge = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        Sha256::digest(code_verifier.as_bytes()),
    );
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("response_type", "code");
    query.append_pair("client_id", &provider.client_id);
    query.append_pair("redirect_uri", &redirect_uri(app));
    query.append_pair("scope", &provider.scopes().join(" "));
    query.append_pair("state", &state);
    query.append_pair("nonce", &nonce);
    query.append_pair("code_challenge", &challenge);
    query.append_pair("code_challenge_method", "S256");
    if provider.kind == ProviderKind::Apple {
        query.append_pair("response_mode", "form_post");
    }
    if let Some(hint) = login_hint.filter(|h| !h.is_empty()) {
        query.append_pair("login_hint", hint);
    }
    let separator = if metadata.authorization_endpoint.contains('?') { '&' } else { '?' };
    let url = format!("{}{separator}{}", metadata.authorization_endpoint, query.finish());
    Ok(Authorization { url, state, nonce, code_verifier })
}

/// Exchanges the provider's `code` at its token endpoint (Registrar's
/// client authenticated with `client_secret_basic`, or `client_secret_post`
/// where the provider takes only that, as Apple does) and checks the ID
/// token it answers. A provider that cannot be reached or fails is 503; a
/// refused code or a token that fails a check is `invalid_id_token`.
pub async fn redeem(
    app: &App,
    provider: &IdentityProvider,
    code: &str,
    code_verifier: &str,
    nonce: &str,
) -> Result<ProvenIdentity, Error> {
    let metadata = metadata(app, provider).await?;
    let secret = client_secret(app, provider).await?;
    let redirect = redirect_uri(app);
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect.as_str()),
        ("code_verifier", code_verifier),
    ];
    let basic = if metadata.secret_in_body {
        form.push(("client_id", provider.client_id.as_str()));
        form.push(("client_secret", secret.as_str()));
        None
    } else {
        Some((provider.client_id.as_str(), secret.as_str()))
    };
    let (status, answer) =
        app.providers.post_form(&metadata.token_endpoint, &form, basic).await.map_err(unavailable)?;
    if status >= 500 {
        return Err(Error::Unavailable {
            reason: format!("identity provider {}: token endpoint answered {status}", provider.id),
            registration_id: None,
        });
    }
    let Some(id_token) = answer["id_token"].as_str().filter(|_| (200..300).contains(&status)) else {
        tracing::warn!(provider = %provider.id, status, error = %answer["error"], "the provider refused the code");
        return Err(Error::InvalidIdToken);
    };
    verify_id_token(app, provider, id_token, Some(nonce), false).await
}
