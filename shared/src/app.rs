//! The application: the ports plus configuration, built once per cold start
//! (or once per local server) and shared by every request.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};

use crate::domain::Error;
use crate::domain::tenant::{ApiKeyCache, OriginCache};
use crate::domain::tokens::Keyring;
use crate::ports::{Clock, Mailer, Random, Store, Texter};

/// A secret byte string that never prints.
#[derive(Clone)]
pub struct Secret(Vec<u8>);

impl Secret {
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Self(bytes.into())
    }

    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// Settings the use cases need that are not per tenant.
#[derive(Clone, Debug)]
pub struct Settings {
    /// `iss` of every access token.
    pub issuer: String,
    /// `aud` of every access token.
    pub audience: String,
    /// The key of the one-time-code hashes, derived from the deployment's
    /// code secret (all its instances share it); `None` in a function that
    /// was given no code secret.
    pub code_key: Option<Secret>,
    /// The key refresh-token successors are derived with: from the same
    /// secret, for another purpose, so the two never share a key.
    pub refresh_key: Option<Secret>,
    /// Whether the refresh cookie carries `Secure` (off only for plain-HTTP
    /// local runs in browsers that refuse Secure cookies on localhost).
    pub secure_cookies: bool,
    /// How long a warm instance trusts an API key it has checked, with its
    /// tenant (0: never): revoking a key or changing a policy takes effect
    /// within this time. See [`ApiKeyCache`].
    pub api_key_cache_secs: i64,
    /// Whether a tenant's fixed `sandbox_code` is honoured: only while
    /// messages go to the outbox, never when SES and SNS deliver them.
    pub sandbox_codes: bool,
}

impl Settings {
    /// The code-hash key, or 503 where the function holds none.
    pub fn code_key(&self) -> Result<&[u8], Error> {
        self.code_key.as_ref().map(Secret::expose).ok_or_else(|| missing("code key"))
    }

    /// The refresh-successor key, or 503 where the function holds none.
    pub fn refresh_key(&self) -> Result<&[u8], Error> {
        self.refresh_key.as_ref().map(Secret::expose).ok_or_else(|| missing("refresh key"))
    }
}

fn missing(what: &str) -> Error {
    Error::Unavailable { reason: format!("this function was given no {what}"), registration_id: None }
}

/// The per-purpose keys of a code secret (HKDF-SHA256): `(code hashes,
/// refresh successors)`.
pub fn derive_code_keys(secret: &[u8]) -> (Secret, Secret) {
    let hkdf = hkdf::Hkdf::<sha2::Sha256>::new(Some(b"registrar"), secret);
    let derive = |purpose: &[u8]| {
        let mut key = vec![0u8; 32];
        // 32 bytes is far below HKDF-SHA256's limit of 8160.
        let _ = hkdf.expand(purpose, &mut key);
        Secret::new(key)
    };
    (derive(b"one-time code hashes v1"), derive(b"refresh-token successors v1"))
}

/// Loads a function's keys again from where it read them at cold start.
#[async_trait::async_trait]
pub trait KeySource: Send + Sync {
    async fn load(&self) -> Result<Keyring, String>;
    /// Whether the keys loaded from here should include one that signs.
    fn signs(&self) -> bool;
}

/// A warm instance reloads its keys this often, so a key added, activated
/// or removed with the operator CLI reaches every instance within it.
pub const KEY_RELOAD_SECS: i64 = 300;
/// A token naming an unknown key reloads the keys at most this often.
const UNKNOWN_KID_RELOAD_SECS: i64 = 30;

/// The keys of a function: fixed (local runs, tests), or read from the
/// deployment's secrets and reloaded now and then.
pub struct Keys {
    ring: RwLock<Arc<Keyring>>,
    source: Option<Arc<dyn KeySource>>,
    loaded_at: AtomicI64,
    forced_at: AtomicI64,
}

impl Keys {
    /// Keys that never change.
    pub fn fixed(ring: Arc<Keyring>) -> Self {
        Self { ring: RwLock::new(ring), source: None, loaded_at: AtomicI64::new(0), forced_at: AtomicI64::new(0) }
    }

    /// Keys loaded at `now` from `source`, reloaded from it.
    pub fn reloading(ring: Keyring, source: Arc<dyn KeySource>, now: i64) -> Self {
        Self {
            ring: RwLock::new(Arc::new(ring)),
            source: Some(source),
            loaded_at: AtomicI64::new(now),
            forced_at: AtomicI64::new(i64::MIN / 2),
        }
    }

    /// The keyring in force.
    pub fn current(&self) -> Arc<Keyring> {
        self.ring.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Reloads when [`KEY_RELOAD_SECS`] have passed since the last load; an
    /// issuing function whose secret held no signing key yet (a new stack
    /// before `registrar-admin signing-key add`) looks every 30 s.
    pub async fn reload_if_due(&self, now: i64) {
        if self.source.as_ref().is_some_and(|s| s.signs()) && self.current().active_kid().is_none() {
            self.reload_for_unknown_key(now).await;
        } else if self.source.is_some() && now - self.loaded_at.load(Ordering::Relaxed) >= KEY_RELOAD_SECS {
            self.reload(now).await;
        }
    }

    /// Reloads at once for a token signed by a key this instance does not
    /// know (a key activated since it started), at most every 30 s.
    pub async fn reload_for_unknown_key(&self, now: i64) {
        if self.source.is_some() && now - self.forced_at.load(Ordering::Relaxed) >= UNKNOWN_KID_RELOAD_SECS {
            self.forced_at.store(now, Ordering::Relaxed);
            self.reload(now).await;
        }
    }

    async fn reload(&self, now: i64) {
        let Some(source) = &self.source else { return };
        self.loaded_at.store(now, Ordering::Relaxed);
        match source.load().await {
            // A secret emptied by mistake must not take working keys away.
            Ok(ring) if !ring.knows_any() && self.current().knows_any() => {
                tracing::error!("the keys' secret holds no key now; the keys in hand stay");
            }
            Ok(ring) if source.signs() && ring.active_kid().is_none() && self.current().active_kid().is_some() => {
                tracing::error!("the signing keys' secret holds no active key now; the keys in hand stay");
            }
            Ok(ring) => *self.ring.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(ring),
            // The keys in hand stay; the next reload tries again.
            Err(reason) => tracing::warn!(%reason, "reloading the keys failed"),
        }
    }
}

/// How long handing an e-mail to the provider takes here (a moving
/// average): a request that sends nothing where it could have sent (a
/// password reset for an unknown address) waits as long, so answers for
/// known and unknown addresses take the same time.
#[derive(Debug)]
pub struct SendTime {
    micros: std::sync::atomic::AtomicU64,
}

/// Until the first send is measured: a typical SES round trip.
const FIRST_SEND_MICROS: u64 = 60_000;

impl Default for SendTime {
    fn default() -> Self {
        Self { micros: std::sync::atomic::AtomicU64::new(0) }
    }
}

impl SendTime {
    /// Counts one send that took `took`: the first one as it is, later ones
    /// with weight 1/4.
    pub fn record(&self, took: std::time::Duration) {
        use std::sync::atomic::Ordering;
        let took = (took.as_micros() as u64).clamp(1, 10_000_000);
        let blend = |avg: u64| Some(if avg == 0 { took } else { avg - avg / 4 + took / 4 });
        let _ = self.micros.fetch_update(Ordering::Relaxed, Ordering::Relaxed, blend);
    }

    /// The time a send usually takes.
    pub fn typical(&self) -> std::time::Duration {
        match self.micros.load(std::sync::atomic::Ordering::Relaxed) {
            0 => std::time::Duration::from_micros(FIRST_SEND_MICROS),
            avg => std::time::Duration::from_micros(avg),
        }
    }
}

/// The ports and settings every handler works with.
#[derive(Clone)]
pub struct App {
    pub store: Arc<dyn Store>,
    pub mailer: Arc<dyn Mailer>,
    pub texter: Arc<dyn Texter>,
    pub clock: Arc<dyn Clock>,
    pub random: Arc<dyn Random>,
    pub keys: Arc<Keys>,
    pub settings: Settings,
    pub api_keys: Arc<ApiKeyCache>,
    /// The tenants' CORS origins, for preflights (kept like the API keys).
    pub cors_origins: Arc<OriginCache>,
    /// How long e-mail sends take here (see [`SendTime`]).
    pub send_time: Arc<SendTime>,
    /// Calls the tenants' blocking hooks.
    pub hooks: Arc<dyn crate::ports::HookCaller>,
    /// Calls other identity providers, and reads the secrets of
    /// Registrar's clients there (SPEC §14).
    pub providers: Arc<dyn crate::ports::ProviderClient>,
}

impl App {
    /// The tenant's fixed sandbox code, where this app honours it.
    pub fn sandbox_code<'t>(&self, tenant: &'t crate::domain::tenant::Tenant) -> Option<&'t str> {
        tenant.policy.sandbox_code.as_deref().filter(|_| self.settings.sandbox_codes)
    }

    /// A new id: a UUIDv7 from the app's clock and randomness, with a prefix.
    pub fn new_id(&self, prefix: &str) -> String {
        let now = self.clock.now();
        let mut random = [0u8; 10];
        self.random.fill(&mut random);
        let millis = now.timestamp_millis().max(0) as u64;
        let uuid = uuid::Builder::from_unix_timestamp_millis(millis, &random).into_uuid();
        format!("{prefix}_{}", uuid.simple())
    }

    /// `n` random bytes, URL-safe base64 (tokens, keys).
    pub fn random_token(&self, n: usize) -> String {
        use base64::Engine;
        let mut bytes = vec![0u8; n];
        self.random.fill(&mut bytes);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Answers an empty keyring until it is ready, then one that signs;
    /// counts its loads.
    struct Secret(std::sync::Mutex<(bool, usize)>);

    #[async_trait::async_trait]
    impl KeySource for Secret {
        async fn load(&self) -> Result<Keyring, String> {
            let mut state = self.0.lock().unwrap();
            state.1 += 1;
            if state.0 { Keyring::generate().map_err(|e| e.to_string()) } else { Ok(Keyring::empty()) }
        }

        fn signs(&self) -> bool {
            true
        }
    }

    #[tokio::test]
    async fn an_issuer_without_a_key_looks_again_soon_and_others_every_five_minutes() {
        let source = Arc::new(Secret(std::sync::Mutex::new((false, 0))));
        let keys = Keys::reloading(Keyring::empty(), source.clone(), 0);
        keys.reload_if_due(10).await;
        assert_eq!(source.0.lock().unwrap().1, 1, "no signing key: looked again at once");
        keys.reload_if_due(20).await;
        assert_eq!(source.0.lock().unwrap().1, 1, "but not more than every 30 s");
        source.0.lock().unwrap().0 = true;
        keys.reload_if_due(45).await;
        assert!(keys.current().active_kid().is_some(), "the key added since signs");
        keys.reload_if_due(100).await;
        assert_eq!(source.0.lock().unwrap().1, 2, "a signing instance waits for the periodic reload");
        keys.reload_if_due(45 + KEY_RELOAD_SECS).await;
        assert_eq!(source.0.lock().unwrap().1, 3);
    }

    #[test]
    fn code_keys_differ_per_purpose_and_are_stable() {
        let (code, refresh) = derive_code_keys(b"a code secret of thirty-two characters");
        assert_ne!(code.expose(), refresh.expose());
        assert_eq!(derive_code_keys(b"a code secret of thirty-two characters").0.expose(), code.expose());
        assert_ne!(derive_code_keys(b"another secret of thirty-two chars!").0.expose(), code.expose());
    }
}
