//! A stand-in OpenID Connect provider on 127.0.0.1 for the tests of sign-in
//! with other identity providers: its discovery, its keys (RS256), and a
//! token endpoint that checks Registrar's client secret (HTTP Basic) and
//! the PKCE verifier, and answers the ID token a test prepared for a code.
//! The tests mint ID tokens with it directly too, tampered or not; it can
//! be taken down (every call answers 503). (The certified provider,
//! panva's oidc-provider, drives the browser flow in scripts/idp-test.mjs.)

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use shared::domain::policy::IdentityProvider;
use shared::domain::tokens::Keyring;
use tokio::io::AsyncWriteExt;

use super::read_request;

/// Registrar's client id and secret at the stand-in.
pub const CLIENT_ID: &str = "registrar-at-acme";
pub const CLIENT_SECRET: &str = "acme-secret-for-registrar-0123456789";

/// One call of the token endpoint: its `Authorization` header and form.
pub type TokenCall = (String, HashMap<String, String>);

#[derive(Clone)]
pub struct Idp {
    pub issuer: String,
    keys: Arc<Keyring>,
    down: Arc<AtomicBool>,
    /// Codes handed out: the ID token each is exchanged for, and the PKCE
    /// challenge it must be redeemed with.
    codes: Arc<Mutex<HashMap<String, (String, String)>>>,
    /// The token endpoint's calls: `(authorization header, form)`.
    pub token_calls: Arc<Mutex<Vec<TokenCall>>>,
}

impl Idp {
    /// Starts a stand-in provider on a port of its own.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let idp = Self {
            issuer,
            keys: Arc::new(Keyring::generate().unwrap()),
            down: Arc::new(AtomicBool::new(false)),
            codes: Arc::default(),
            token_calls: Arc::default(),
        };
        let server = idp.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut socket, _)) = listener.accept().await else { return };
                let server = server.clone();
                tokio::spawn(async move {
                    let Some(request) = read_request(&mut socket).await else { return };
                    let (status, body) = server.answer(&request);
                    let text = body.to_string();
                    let head = format!(
                        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                        text.len()
                    );
                    let _ = socket.write_all(head.as_bytes()).await;
                    let _ = socket.write_all(text.as_bytes()).await;
                });
            }
        });
        idp
    }

    /// The tenant's provider entry for this stand-in (`kind: oidc`).
    pub fn provider(&self, id: &str) -> IdentityProvider {
        serde_json::from_value(json!({
            "id": id, "kind": "oidc", "issuer": self.issuer, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
        }))
        .unwrap()
    }

    /// Every call answers 503 from now on (`true`), or is served again.
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    /// The claims of an ID token for `subject` with `email` (verified),
    /// for Registrar's client, valid for 10 minutes from `now` (each with a
    /// `jti` of its own: two tokens of one instant differ, as a provider's do).
    pub fn claims(&self, subject: &str, email: &str, now: i64) -> Value {
        json!({
            "iss": self.issuer, "sub": subject, "aud": CLIENT_ID, "iat": now, "exp": now + 600,
            "jti": super::unique("jti"),
            "email": email, "email_verified": true, "given_name": "Ida", "family_name": "Provider",
        })
    }

    /// `claims` signed by the provider's key.
    pub fn sign(&self, claims: &Value) -> String {
        self.keys.sign_claims(claims).unwrap()
    }

    /// A code the token endpoint exchanges for `claims` signed, once, with
    /// the verifier of `challenge`.
    pub fn issue_code(&self, claims: &Value, challenge: &str) -> String {
        let code = super::unique("code");
        self.codes.lock().unwrap().insert(code.clone(), (self.sign(claims), challenge.to_owned()));
        code
    }

    fn answer(&self, request: &super::Request) -> (u16, Value) {
        if self.down.load(Ordering::SeqCst) {
            return (503, json!({ "error": "temporarily_unavailable" }));
        }
        let path = request.line.split_whitespace().nth(1).unwrap_or_default();
        match path.split('?').next().unwrap_or_default() {
            "/.well-known/openid-configuration" => (
                200,
                json!({
                    "issuer": self.issuer,
                    "authorization_endpoint": format!("{}/authorize", self.issuer),
                    "token_endpoint": format!("{}/token", self.issuer),
                    "jwks_uri": format!("{}/jwks", self.issuer),
                    "response_types_supported": ["code"],
                    "subject_types_supported": ["public"],
                    "id_token_signing_alg_values_supported": ["RS256"],
                    "token_endpoint_auth_methods_supported": ["client_secret_basic"],
                }),
            ),
            "/jwks" => (200, self.keys.jwks()),
            "/token" => self.token(request),
            _ => (404, json!({ "error": "not_found" })),
        }
    }

    fn token(&self, request: &super::Request) -> (u16, Value) {
        let form: HashMap<String, String> = form_urlencoded::parse(&request.body).into_owned().collect();
        let authorization =
            request.headers.iter().find(|(n, _)| n == "authorization").map(|(_, v)| v.clone()).unwrap_or_default();
        self.token_calls.lock().unwrap().push((authorization.clone(), form.clone()));
        let expected = base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"));
        if authorization != format!("Basic {expected}") {
            return (401, json!({ "error": "invalid_client" }));
        }
        let Some((id_token, challenge)) = form.get("code").and_then(|code| self.codes.lock().unwrap().remove(code))
        else {
            return (400, json!({ "error": "invalid_grant" }));
        };
        let verifier = form.get("code_verifier").cloned().unwrap_or_default();
        let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        if computed != challenge {
            return (400, json!({ "error": "invalid_grant", "error_description": "PKCE" }));
        }
        (
            200,
            json!({ "access_token": "at-of-the-idp", "token_type": "Bearer", "expires_in": 600, "id_token": id_token }),
        )
    }
}
