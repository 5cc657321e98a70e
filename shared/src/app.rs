//! The application: the ports plus configuration, built once per cold start
//! (or once per local server) and shared by every request.

use std::sync::Arc;

use crate::domain::tenant::ApiKeyCache;
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
    /// The key of the code hashes. All instances of a deployment share it.
    pub code_pepper: Secret,
    /// Whether the refresh cookie carries `Secure` (off only for plain-HTTP
    /// local runs in browsers that refuse Secure cookies on localhost).
    pub secure_cookies: bool,
    /// How long a warm instance trusts an API key it has checked, with its
    /// tenant (0: never): revoking a key or changing a policy takes effect
    /// within this time. See [`ApiKeyCache`].
    pub api_key_cache_secs: i64,
}

/// The ports and settings every handler works with.
#[derive(Clone)]
pub struct App {
    pub store: Arc<dyn Store>,
    pub mailer: Arc<dyn Mailer>,
    pub texter: Arc<dyn Texter>,
    pub clock: Arc<dyn Clock>,
    pub random: Arc<dyn Random>,
    pub keys: Arc<Keyring>,
    pub settings: Settings,
    pub api_keys: Arc<ApiKeyCache>,
}

impl App {
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
